package softphone

import "testing"

func TestRecordPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		n    int
		want string
	}{
		{"", 3, ""},
		{"rec.wav", 1, "rec.wav"},
		{"rec.wav", 2, "rec-2.wav"},
		{"/tmp/calls/in.wav", 10, "/tmp/calls/in-10.wav"},
		{"noext", 2, "noext-2"},
	} {
		if got := recordPath(tc.path, tc.n); got != tc.want {
			t.Errorf("recordPath(%q, %d) = %q, want %q", tc.path, tc.n, got, tc.want)
		}
	}
}
