package provisioning_test

import (
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		pw := provisioning.GeneratePassword()
		if len(pw) != provisioning.GeneratedPasswordLength {
			t.Fatalf("length %d", len(pw))
		}
		if err := provisioning.ValidatePassword(pw); err != nil {
			t.Fatalf("generated password %q fails validation: %v", pw, err)
		}
		if strings.ContainsAny(pw, "01lo") {
			t.Fatalf("generated password %q has an ambiguous character", pw)
		}
		if seen[pw] {
			t.Fatalf("duplicate password %q", pw)
		}
		seen[pw] = true
		for _, r := range pw {
			counts[r]++
		}
	}
	// 52,000 characters over 32 symbols: each expected 1625 times. A biased generator (e.g.
	// modulo without rejection) would push some symbols far off.
	if len(counts) != 32 {
		t.Errorf("%d distinct characters, want 32", len(counts))
	}
	for r, n := range counts {
		if n < 1300 || n > 1950 {
			t.Errorf("character %q appeared %d times, expected about 1625", r, n)
		}
	}
}

func TestNewCredentials(t *testing.T) {
	// Reference values: echo -n "1001:switchboard:correct-horse" | md5sum / sha256sum
	c := provisioning.NewCredentials("1001", "correct-horse")
	want := switchboard.Credentials{
		MD5:    "1aaeaed6b720329eb81bb9b416f987c4",
		SHA256: "71b165e345ab996d13b4fc298195be5911e14054f75cae1e38859ea47c3697ad",
	}
	if c != want {
		t.Errorf("NewCredentials = %+v, want %+v", c, want)
	}
	if provisioning.NewCredentials("1001", "correct-horse") != c {
		t.Error("credentials are not deterministic")
	}
	if provisioning.NewCredentials("1002", "correct-horse") == c {
		t.Error("credentials do not depend on the extension")
	}
}
