package provisioning

import (
	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/routing"
)

// Line is a user's row in the realtime table switchboard_lines: what the dialplan does with a
// call to them by itself, when call control is away (asterisk/extensions.conf,
// [switchboard-call]). A forward names its number whether or not anyone has it: the dialplan
// looks the number up when it gets there, as call control does.
type Line struct {
	Extension   string
	RingTimeout int
	Voicemail   bool
	DND         bool
	Always      string // forwards, "" when off
	Busy        string
	NoAnswer    string
}

// LineOf returns u's line, by the routing rules the dialplan can carry out.
func LineOf(u switchboard.User) Line {
	fb := routing.FallbackOf(u, func(string) bool { return true })
	return Line{Extension: u.Extension, RingTimeout: u.RingTimeout, Voicemail: u.Voicemail.Enabled,
		DND: fb.DND, Always: fb.Always, Busy: fb.OnBusy, NoAnswer: fb.NoAnswer}
}

// VoicemailBox is a user's row in the realtime table voicemail, which app_voicemail reads
// mailboxes from (context default).
type VoicemailBox struct {
	Mailbox  string
	PIN      string
	FullName string
}

// VoicemailBoxOf returns u's mailbox; false when their voicemail is off.
func VoicemailBoxOf(u switchboard.User) (VoicemailBox, bool) {
	if !u.Voicemail.Enabled {
		return VoicemailBox{}, false
	}
	return VoicemailBox{Mailbox: u.Extension, PIN: u.Voicemail.PIN, FullName: u.Name}, true
}
