// Package provisioning owns Switchboard's users, conference rooms, ring groups, call queues,
// trunks, outbound routes and inbound numbers: what a valid one looks like, how users' SIP
// credentials are made and how they become Asterisk configuration, what admins may do to rooms
// and the people in them, and how agents log in to queues. It has no database, HTTP or ARI
// imports; those adapters live in postgres/, api/ and ari/ and meet this package through the
// interfaces declared here and in the root package.
package provisioning

import "github.com/switchboard-pbx/switchboard"

// Realm is the SIP digest realm. It must equal the realm of the [switchboard-auth] template in
// asterisk/pjsip.conf: stored digests are hashes of "extension:realm:password".
const Realm = "switchboard"

// Defaults applied when a new user does not say otherwise.
const (
	DefaultRingTimeout = 20 // seconds
)

// NewUser is what an admin submits to create a user. Zero values mean "use the default":
// a generated password, voicemail on with a generated PIN, DefaultRingTimeout, no e-mail address.
type NewUser struct {
	Extension   string
	Name        string
	Email       string // "" for none
	Password    string
	Voicemail   *switchboard.Mailbox
	RingTimeout int
	Calls       *CallSettingsPatch // nil: switchboard.DefaultCallSettings
	// OutboundCallerID is sent to the outside world on the user's calls through a trunk; ""
	// leaves it to the route or the trunk.
	OutboundCallerID string
}

// UserPatch changes some fields of a user; nil fields are left alone.
type UserPatch struct {
	Name        *string
	Email       *string // "" removes the address
	Password    *string
	Voicemail   *VoicemailPatch
	RingTimeout *int
	Calls       *CallSettingsPatch
	// OutboundCallerID, when set, replaces the user's ("" removes it).
	OutboundCallerID *string
}

// VoicemailPatch changes a user's voicemail settings; nil fields are left alone.
type VoicemailPatch struct {
	Enabled *bool
	PIN     *string
	// Generated is set by the update: the PIN it generated (turning on a mailbox that had
	// none), for the response to show once; "" when it generated none.
	Generated string
}

// apply changes a mailbox (a user's, a group's or a queue's own) as the patch says: a mailbox
// turned on without a PIN gets a generated one.
func (p *VoicemailPatch) apply(m *switchboard.Mailbox) {
	if p == nil {
		return
	}
	p.Generated = ""
	if p.PIN != nil {
		m.PIN = *p.PIN
	}
	if p.Enabled != nil {
		m.Enabled = *p.Enabled
		if m.Enabled && m.PIN == "" {
			m.PIN = GeneratePIN()
			p.Generated = m.PIN
		}
	}
}

// CallSettingsPatch changes a user's call settings; nil fields are left alone.
type CallSettingsPatch struct {
	CallWaiting   *bool
	DND           *bool
	MaxDevices    *int
	Unconditional *ForwardPatch
	Busy          *ForwardPatch
	NoAnswer      *ForwardPatch
}

// ForwardPatch changes one forward; nil fields are left alone.
type ForwardPatch struct {
	Enabled     *bool
	Destination *string
}

// Apply changes c as the patch says.
func (p CallSettingsPatch) Apply(c *switchboard.CallSettings) {
	if p.CallWaiting != nil {
		c.CallWaiting = *p.CallWaiting
	}
	if p.DND != nil {
		c.DND = *p.DND
	}
	if p.MaxDevices != nil {
		c.MaxDevices = *p.MaxDevices
	}
	p.Unconditional.apply(&c.Forwards.Unconditional)
	p.Busy.apply(&c.Forwards.Busy)
	p.NoAnswer.apply(&c.Forwards.NoAnswer)
}

func (p *ForwardPatch) apply(f *switchboard.Forward) {
	if p == nil {
		return
	}
	if p.Enabled != nil {
		f.Enabled = *p.Enabled
	}
	if p.Destination != nil {
		f.Destination = *p.Destination
	}
}

// Less orders extensions the way people read them: shorter first, then by digits.
func Less(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
