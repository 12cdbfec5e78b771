package provisioning

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/switchboard-pbx/switchboard"
)

// passwordAlphabet has 32 characters that are easy to read and to type on a phone's keypad
// or settings page: digits and lower-case letters without 0/o, 1/l (i stays: no 1 to confuse).
const passwordAlphabet = "23456789abcdefghijkmnpqrstuvwxyz"

// GeneratedPasswordLength gives 26 × 5 = 130 bits of entropy.
const GeneratedPasswordLength = 26

// GeneratePassword returns a new random SIP password from crypto/rand.
func GeneratePassword() string {
	return randomString(passwordAlphabet, GeneratedPasswordLength)
}

// GeneratePIN returns a random 6-digit voicemail PIN.
func GeneratePIN() string {
	return randomString("0123456789", 6)
}

func randomString(alphabet string, n int) string {
	// Rejection sampling keeps every character equally likely for any alphabet size.
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic(fmt.Sprintf("crypto/rand failed: %v", err)) // never happens on Linux
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// NewCredentials computes the digests Asterisk needs to authenticate ext with password
// (pjsip auth "password_digest", RFC 7616/8760 HA1 = H(username:realm:password)).
func NewCredentials(ext, password string) switchboard.Credentials {
	a1 := ext + ":" + Realm + ":" + password
	m := md5.Sum([]byte(a1))
	s := sha256.Sum256([]byte(a1))
	return switchboard.Credentials{MD5: hex.EncodeToString(m[:]), SHA256: hex.EncodeToString(s[:])}
}
