package provisioning

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-pbx/switchboard"
)

// Limits of user input. Everything a user sends ends up in Asterisk configuration files, so
// validation accepts only values that cannot change those files' syntax: there is no escaping
// to get wrong because nothing that would need escaping is ever accepted.
const (
	MaxNameLength     = 64
	MinPasswordLength = 12
	MaxPasswordLength = 64
	MinRingTimeout    = 5
	MaxRingTimeout    = 120
	MaxEmailLength    = 254 // bytes: the longest address SMTP can carry in a path (RFC 5321 4.5.3.1)
)

// ValidateExtension accepts 2 to 6 ASCII digits.
func ValidateExtension(ext string) error {
	if len(ext) < 2 || len(ext) > 6 || strings.TrimLeft(ext, "0123456789") != "" {
		return switchboard.Errorf(switchboard.EINVALID, "extension must be 2 to 6 digits")
	}
	return nil
}

// nameSymbols are the punctuation characters a name may hold besides letters, marks, digits
// and single spaces. Everything Asterisk's config syntax treats specially is absent: ; [ ] # " ,
// = < > \ $ { } and all control and format (bidi) characters.
const nameSymbols = ".-'_&@+/()"

// ValidateName accepts printable UTF-8 of 1 to 64 characters made of letters, marks, digits,
// single inner spaces and a few harmless symbols (see nameSymbols).
func ValidateName(name string) error {
	if !utf8.ValidString(name) {
		return switchboard.Errorf(switchboard.EINVALID, "name must be valid UTF-8")
	}
	n := utf8.RuneCountInString(name)
	if n == 0 || n > MaxNameLength {
		return switchboard.Errorf(switchboard.EINVALID, "name must be 1 to %d characters", MaxNameLength)
	}
	if strings.TrimSpace(name) != name || strings.Contains(name, "  ") {
		return switchboard.Errorf(switchboard.EINVALID, "name must not start or end with a space or hold two in a row")
	}
	for _, r := range name {
		switch {
		case r == ' ':
		case unicode.IsLetter(r), unicode.IsMark(r), unicode.IsDigit(r):
		case r < utf8.RuneSelf && strings.ContainsRune(nameSymbols, r):
		default:
			return switchboard.Errorf(switchboard.EINVALID, "name must not contain %q (allowed: letters, digits, spaces and %s)", r, nameSymbols)
		}
	}
	return nil
}

// ValidatePIN accepts 4 to 10 ASCII digits.
func ValidatePIN(pin string) error {
	if len(pin) < 4 || len(pin) > 10 || strings.TrimLeft(pin, "0123456789") != "" {
		return switchboard.Errorf(switchboard.EINVALID, "voicemail PIN must be 4 to 10 digits")
	}
	return nil
}

// ValidateRingTimeout accepts 5 to 120 seconds.
func ValidateRingTimeout(seconds int) error {
	if seconds < MinRingTimeout || seconds > MaxRingTimeout {
		return switchboard.Errorf(switchboard.EINVALID, "ring_timeout must be %d to %d seconds", MinRingTimeout, MaxRingTimeout)
	}
	return nil
}

// ValidatePassword accepts 12 to 64 printable ASCII characters without spaces: a phone's
// settings page can take them and they are long enough to resist online guessing. Passwords
// are never written anywhere, only their digests, so no character is dangerous.
func ValidatePassword(pw string) error {
	if len(pw) < MinPasswordLength || len(pw) > MaxPasswordLength {
		return switchboard.Errorf(switchboard.EINVALID, "password must be %d to %d characters", MinPasswordLength, MaxPasswordLength)
	}
	for i := 0; i < len(pw); i++ {
		if pw[i] <= ' ' || pw[i] > '~' {
			return switchboard.Errorf(switchboard.EINVALID, "password must be printable ASCII without spaces")
		}
	}
	return nil
}

// ValidateEmail accepts "" (no address) or one bare address, local@domain, of at most
// MaxEmailLength printable ASCII characters without spaces, whose domain is a host name with a
// dot in it or "localhost". The address is put in the headers of the mails that carry voicemail
// messages, so nothing is accepted that could add a header or a recipient there: no CR or LF, no
// display name, comment, angle brackets or second address. Non-ASCII addresses (RFC 6531) are
// refused to keep that simple: not every mail server takes them.
func ValidateEmail(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxEmailLength {
		return switchboard.Errorf(switchboard.EINVALID, "email must be at most %d characters", MaxEmailLength)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			return switchboard.Errorf(switchboard.EINVALID, "email must be ASCII: addresses with non-ASCII characters are not supported")
		case c <= ' ' || c == 0x7f:
			return switchboard.Errorf(switchboard.EINVALID, "email must not contain spaces or control characters")
		}
	}
	// ParseAddress also takes "Name <addr>", comments and quoted local parts, which it rewrites:
	// only an address it returns unchanged is a bare addr-spec.
	if a, err := mail.ParseAddress(s); err != nil || a.Name != "" || a.Address != s {
		return switchboard.Errorf(switchboard.EINVALID, "email must be one bare address such as alice@example.com (no name, comment, angle brackets or list)")
	}
	domain := s[strings.LastIndexByte(s, '@')+1:]
	if !isHostName(domain) || (domain != "localhost" && !strings.Contains(domain, ".")) {
		return switchboard.Errorf(switchboard.EINVALID, "email's domain must be a host name with a dot in it (or localhost)")
	}
	return nil
}

// isHostName reports whether s is dot-separated labels of ASCII letters, digits and inner
// hyphens (no address literal such as [192.0.2.1], no empty label).
func isHostName(s string) bool {
	for _, label := range strings.Split(s, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Validate checks every field of a user as stored.
func ValidateUser(u *switchboard.User) error {
	if err := ValidateExtension(u.Extension); err != nil {
		return err
	}
	if err := ValidateName(u.Name); err != nil {
		return err
	}
	if err := ValidateEmail(u.Email); err != nil {
		return err
	}
	if err := validateCallerID("outbound_caller_id", u.OutboundCallerID); err != nil {
		return err
	}
	if u.Voicemail.Enabled || u.Voicemail.PIN != "" {
		if err := ValidatePIN(u.Voicemail.PIN); err != nil {
			return err
		}
	}
	if err := ValidateRingTimeout(u.RingTimeout); err != nil {
		return err
	}
	if !isHex(u.Credentials.MD5, 32) || !isHex(u.Credentials.SHA256, 64) {
		return switchboard.Errorf(switchboard.EINVALID, "credentials must be hex digests")
	}
	return ValidateCallSettings(u.Extension, u.Calls)
}

// ValidateCallSettings checks a user's call settings: 1 to MaxMaxDevices phones, and forwards
// whose destination is a number other than the user's own (an enabled forward needs one): an
// extension, or an outside number (2 to 20 digits, an optional +) that an outbound route the
// user may use takes. Whether anyone has that number, or a route takes it, is not checked:
// forwards that cannot be followed are ignored when calls are routed.
func ValidateCallSettings(ext string, c switchboard.CallSettings) error {
	if c.MaxDevices < 1 || c.MaxDevices > switchboard.MaxMaxDevices {
		return switchboard.Errorf(switchboard.EINVALID, "max_devices must be 1 to %d", switchboard.MaxMaxDevices)
	}
	for _, f := range []struct {
		name string
		f    switchboard.Forward
	}{{"unconditional", c.Forwards.Unconditional}, {"busy", c.Forwards.Busy}, {"no_answer", c.Forwards.NoAnswer}} {
		if f.f.Destination != "" {
			if ValidateExtension(f.f.Destination) != nil && !isExternalNumber(f.f.Destination) {
				return switchboard.Errorf(switchboard.EINVALID,
					"forwards.%s.destination must be an extension (2 to 6 digits) or an outside number (2 to 20 digits, an optional leading +)", f.name)
			}
			if f.f.Destination == ext {
				return switchboard.Errorf(switchboard.EINVALID, "forwards.%s: a user cannot forward to their own number", f.name)
			}
		}
		if f.f.Enabled && f.f.Destination == "" {
			return switchboard.Errorf(switchboard.EINVALID, "forwards.%s: an enabled forward needs a destination", f.name)
		}
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}
