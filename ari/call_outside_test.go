package ari

import (
	"strings"
	"testing"
	"unicode"
)

func TestSanitizeCallerID(t *testing.T) {
	for in, want := range map[string]string{
		"+33612345678":              "+33612345678",
		"0612 34-56.78":             "0612345678",
		"1001\r\nX-Evil: yes":       "1001",
		"12+34":                     "1234", // a + only leads
		"*31#0612":                  "*31#0612",
		"١٢٣":                       "", // digits of other scripts are not dialable
		strings.Repeat("9", 40):     strings.Repeat("9", 32),
		"sip:0612@evil;user=phone>": "0612",
	} {
		if got := SanitizeNumber(in); got != want {
			t.Errorf("SanitizeNumber(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		`Alice "the boss" <sip:1@x>`: "Alice the boss sip1x",
		"Zoë  O'Brien\t-  Sales":     "Zoë O'Brien - Sales",
		"Bob\r\nX: y; ${EVIL} [ctx]": "Bob X y EVIL ctx",
		"   ":                        "",
		strings.Repeat("ab ", 40):    strings.Repeat("ab ", 40)[:47], // (48 with its last space, trimmed)
	} {
		if got := SanitizeName(in); got != want {
			t.Errorf("SanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSanitizeCallerID: whatever a provider sends, what is kept holds nothing that could break
// a log line, a SIP header or an Asterisk file.
func FuzzSanitizeCallerID(f *testing.F) {
	f.Add("+33612345678", `"Alice" <sip:alice@example.com>`)
	f.Add("1001\r\n", "Bob;${X}[y]\x00")
	f.Fuzz(func(t *testing.T, number, name string) {
		n := SanitizeNumber(number)
		if len(n) > 32 || strings.Trim(n, "+0123456789*#") != "" || strings.LastIndex(n, "+") > 0 {
			t.Fatalf("SanitizeNumber(%q) = %q", number, n)
		}
		s := SanitizeName(name)
		if len([]rune(s)) > 48 || strings.ContainsAny(s, "\"<>;[]${}\\\r\n\t:=|") {
			t.Fatalf("SanitizeName(%q) = %q", name, s)
		}
		for _, r := range s {
			if unicode.IsControl(r) {
				t.Fatalf("SanitizeName(%q) kept a control character: %q", name, s)
			}
		}
	})
}
