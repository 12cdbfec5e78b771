package routing

import "github.com/switchboard-pbx/switchboard"

// Fallback is what the generated dialplan does with a call to a user by itself, when call
// control is not connected: the part of Route the dialplan can carry out. Forwards are
// followed by the dialplan with its own hop limit (MaxHops); loops end there too.
type Fallback struct {
	DND      bool   // do not ring: the busy greeting, or a busy signal without a mailbox
	Always   string // unconditional forward: dial this number instead (it wins over DND, as in Route)
	OnBusy   string // forward when the phones are busy
	NoAnswer string // forward when they ring out or none is registered
}

// FallbackOf returns the dialplan's rules for u. exists says whether a number is in the dial
// plan: forwards to numbers nobody has are left out, as Route ignores them.
func FallbackOf(u switchboard.User, exists func(ext string) bool) Fallback {
	dest := func(f switchboard.Forward) string {
		if f.Active() && f.Destination != u.Extension && exists(f.Destination) {
			return f.Destination
		}
		return ""
	}
	fb := Fallback{Always: dest(u.Calls.Forwards.Unconditional), OnBusy: dest(u.Calls.Forwards.Busy),
		NoAnswer: dest(u.Calls.Forwards.NoAnswer)}
	if fb.Always == "" {
		fb.DND = u.Calls.DND
	}
	return fb
}
