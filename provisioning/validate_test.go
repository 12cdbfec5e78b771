package provisioning_test

import (
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

func TestValidateExtension(t *testing.T) {
	tests := []struct {
		ext string
		ok  bool
	}{
		{"10", true},
		{"1001", true},
		{"999999", true},
		{"1", false},       // too short
		{"1234567", false}, // too long
		{"", false},
		{"10a1", false},
		{"*97", false},  // feature codes are not extensions
		{"١٢٣٤", false}, // Arabic-Indic digits are digits to Unicode, not to Asterisk
		{"1001\n", false},
		{"10 1", false},
		{"_X.", false}, // a dialplan pattern
	}
	for _, tt := range tests {
		err := provisioning.ValidateExtension(tt.ext)
		checkValid(t, "ValidateExtension", tt.ext, err, tt.ok)
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"Alice Smith", true},
		{"José Müller-Ørsted", true},
		{"張偉", true},
		{"Seán O'Brien", true},
		{"Front Desk (Lab 2)", true},
		{"R&D / QA", true},
		{"अनुच्छेद", true}, // combining marks
		{strings.Repeat("a", 64), true},
		{strings.Repeat("é", 64), true}, // 64 characters, 128 bytes
		{strings.Repeat("a", 65), false},
		{"", false},
		{" Alice", false},
		{"Alice ", false},
		{"Alice  Smith", false},
		{"Alice\nSmith", false},
		{"Alice\r", false},
		{"Alice\tSmith", false},
		{"Alice;Smith", false}, // comment
		{"[evil]", false},      // section header
		{"#include /etc/passwd", false},
		{"#exec /bin/sh", false},
		{`Alice "Al" Smith`, false}, // would end the callerid quote
		{`Alice\Smith`, false},
		{"Alice,Smith", false},      // voicemail.conf field separator
		{"Alice <1002>", false},     // caller ID syntax
		{"Alice => 1", false},       // key separator
		{"${SHELL(id)}", false},     // dialplan expansion
		{"Alice\u202eSmith", false}, // bidi override
		{"Alice\u200bSmith", false}, // zero-width space
		{"Alice\u00a0Smith", false}, // no-break space
		{"Alice\x00", false},
		{"\xff\xfe", false}, // not UTF-8
		{strings.Repeat("x", 10_000), false},
	}
	for _, tt := range tests {
		err := provisioning.ValidateName(tt.name)
		checkValid(t, "ValidateName", tt.name, err, tt.ok)
	}
}

func TestValidatePIN(t *testing.T) {
	tests := []struct {
		pin string
		ok  bool
	}{
		{"1234", true},
		{"0000000000", true},
		{"123", false},
		{"12345678901", false},
		{"12a4", false},
		{"1234,", false}, // would add a voicemail.conf field
	}
	for _, tt := range tests {
		checkValid(t, "ValidatePIN", tt.pin, provisioning.ValidatePIN(tt.pin), tt.ok)
	}
}

func TestValidateRingTimeout(t *testing.T) {
	for _, tt := range []struct {
		s  int
		ok bool
	}{{5, true}, {120, true}, {4, false}, {121, false}, {0, false}, {-1, false}} {
		checkValid(t, "ValidateRingTimeout", tt.s, provisioning.ValidateRingTimeout(tt.s), tt.ok)
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		pw string
		ok bool
	}{
		{"correct-horse-battery", true},
		{`x;[#"\'$` + "{}abcd", true}, // never written to a file: any printable ASCII is fine
		{"short", false},
		{strings.Repeat("p", 65), false},
		{"has a space in it", false},
		{"newline\nnewline", false},
		{"pässwörd-pässwörd", false}, // phones cannot be trusted with non-ASCII
	}
	for _, tt := range tests {
		checkValid(t, "ValidatePassword", tt.pw, provisioning.ValidatePassword(tt.pw), tt.ok)
	}
}

func checkValid(t *testing.T, fn string, in any, err error, ok bool) {
	t.Helper()
	switch {
	case ok && err != nil:
		t.Errorf("%s(%q) = %v, want ok", fn, in, err)
	case !ok && err == nil:
		t.Errorf("%s(%q) accepted, want an error", fn, in)
	case !ok && switchboard.ErrorCode(err) != switchboard.EINVALID:
		t.Errorf("%s(%q) error code %q, want invalid", fn, in, switchboard.ErrorCode(err))
	}
}
