package switchboard_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard-pbx/switchboard"
)

func TestErrorCode(t *testing.T) {
	wrapped := fmt.Errorf("create user 1001: %w", switchboard.Errorf(switchboard.ECONFLICT, "extension %s exists", "1001"))
	tests := []struct {
		err     error
		code    string
		message string
	}{
		{nil, "", ""},
		{switchboard.Errorf(switchboard.EINVALID, "bad"), switchboard.EINVALID, "bad"},
		{wrapped, switchboard.ECONFLICT, "extension 1001 exists"},
		// Anything that is not an *Error is internal and its text is never shown.
		{errors.New("pq: connection refused at 10.0.0.1"), switchboard.EINTERNAL, "internal error"},
	}
	for _, tt := range tests {
		if got := switchboard.ErrorCode(tt.err); got != tt.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.code)
		}
		if got := switchboard.ErrorMessage(tt.err); got != tt.message {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.message)
		}
	}
}
