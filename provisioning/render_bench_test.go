package provisioning_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

func benchUsers(n int) []switchboard.User {
	users := make([]switchboard.User, n)
	for i := range users {
		ext := strconv.Itoa(100000 + i)
		users[i] = switchboard.User{Extension: ext, Name: "Bench switchboard.User " + ext, RingTimeout: 20,
			Voicemail:   switchboard.Mailbox{Enabled: true, PIN: "1234"},
			Credentials: provisioning.NewCredentials(ext, "password-"+ext)}
	}
	return users
}

// BenchmarkRenderConfig renders the generated files: the control plane's share of a file pass,
// which no change waits for.
func BenchmarkRenderConfig(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		users := benchUsers(n)
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				provisioning.RenderConfig(users, globals, 1)
			}
		})
	}
}

// BenchmarkValidateName is the check every create and rename runs.
func BenchmarkValidateName(b *testing.B) {
	for b.Loop() {
		provisioning.ValidateName("José Müller-Ørsted (Lab 2)")
	}
}
