package provisioning_test

import (
	"net/mail"
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

func TestValidateEmail(t *testing.T) {
	longest := "alice@" + strings.Repeat("d", 244) + ".com" // 254 bytes
	tests := []struct {
		email string
		ok    bool
	}{
		{"", true}, // no address
		{"alice@example.com", true},
		{"alice.smith+voicemail@mail.example.co.uk", true},
		{"o'brien@example.ie", true},
		{"voicemail@localhost", true}, // the tests' mail sink
		{longest, true},
		{longest + "m", false},                             // 255 bytes
		{strings.Repeat("a", 288) + "@example.com", false}, // 300 bytes
		{"a@b.c\r\nBcc: x@y.z", false},                     // header injection
		{"a@b.c\nBcc: x@y.z", false},
		{"a@b.c\r", false},
		{"a@b.c\x00", false},
		{"a\tb@c.d", false},
		{"a\x7fb@c.d", false},    // DEL
		{"Alice <a@b.c>", false}, // a display name
		{"Alice<a@b.c>", false},
		{`"Alice"<a@b.c>`, false},
		{"<a@b.c>", false},       // angle brackets
		{"a@b.c (Alice)", false}, // a comment
		{"a@b.c, d@e.f", false},  // a list
		{"a@b.c,d@e.f", false},
		{"a b@c.d", false},
		{" a@b.c", false},
		{`"a b"@c.d`, false}, // a quoted local part: ParseAddress would unquote it
		{`"a"@b.c`, false},
		{"a@b", false}, // no dot, not localhost
		{"a@[192.0.2.1]", false},
		{"a@-b.c", false},
		{"a@b..c", false},
		{"a@b.c.", false},
		{"@b.c", false},
		{"a@", false},
		{"a", false},
		{"a@b@c.d", false},
		{"josé@example.com", false}, // non-ASCII is refused to keep things simple
		{"a@bücher.de", false},
	}
	for _, tt := range tests {
		checkValid(t, "ValidateEmail", tt.email, provisioning.ValidateEmail(tt.email), tt.ok)
	}
	if err := provisioning.ValidateEmail("Alice<a@b.c>"); err == nil || !strings.Contains(err.Error(), "bare address") {
		t.Errorf("a display name: %v, want a message that asks for a bare address", err)
	}
	if err := provisioning.ValidateEmail("josé@example.com"); err == nil || !strings.Contains(err.Error(), "non-ASCII") {
		t.Errorf("non-ASCII: %v, want a message that says so", err)
	}
}

// FuzzValidateEmail shows that an address validation accepts can go into a mail header as it
// is: one recipient, no line break, space or control character, no more than MaxEmailLength
// bytes, and read back by net/mail exactly as written.
func FuzzValidateEmail(f *testing.F) {
	for _, s := range []string{"alice@example.com", "a@localhost", "a@b.c\r\nBcc: x@y.z", "Alice <a@b.c>",
		"a@b.c, d@e.f", `"a b"@c.d`, "a@[192.0.2.1]", "a@b.c (x)", "=?utf-8?q?x?=@b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := provisioning.ValidateEmail(s)
		if err != nil {
			if switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Fatalf("ValidateEmail(%q) = %v, want invalid or nothing", s, err)
			}
			return
		}
		if s == "" {
			return
		}
		if len(s) > provisioning.MaxEmailLength || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
			t.Fatalf("ValidateEmail accepted %q", s)
		}
		list, err := mail.ParseAddressList(s)
		if err != nil || len(list) != 1 || list[0].Name != "" || list[0].Address != s {
			t.Fatalf("ValidateEmail accepted %q, which net/mail reads as %v (%v)", s, list, err)
		}
	})
}

// ValidateUser checks the e-mail address as it checks every other field.
func TestValidateUserEmail(t *testing.T) {
	u := switchboard.User{Extension: "1001", Name: "Alice", RingTimeout: 20, Email: "alice@example.com",
		Credentials: provisioning.NewCredentials("1001", "correct-horse-battery"),
		Calls:       switchboard.DefaultCallSettings()}
	if err := provisioning.ValidateUser(&u); err != nil {
		t.Fatalf("a valid user: %v", err)
	}
	u.Email = "a@b.c\r\nBcc: x@y.z"
	checkValid(t, "ValidateUser with email", u.Email, provisioning.ValidateUser(&u), false)
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
