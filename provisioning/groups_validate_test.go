package provisioning_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

func TestValidateGroup(t *testing.T) {
	ok := func() switchboard.Group {
		return switchboard.Group{Number: "600", Name: "Support", Members: []string{"1001", "1002"},
			Strategy: switchboard.Hunt, RingSeconds: 15, Timeout: 60,
			NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "1001"}}
	}
	many := func(n int) []string {
		var exts []string
		for i := range n {
			exts = append(exts, fmt.Sprintf("2%03d", i))
		}
		return exts
	}
	hangup := switchboard.GroupDestination{Kind: switchboard.DestinationHangup}
	ownMailbox := func(g *switchboard.Group) {
		g.Mailbox = switchboard.Mailbox{Enabled: true, PIN: "4321"}
		g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: g.Number}
	}
	tests := []struct {
		name   string
		change func(*switchboard.Group)
		ok     bool
		msg    string // part of the message, for the rows that fail
	}{
		{"OK", func(*switchboard.Group) {}, true, ""},
		{"RingAll", func(g *switchboard.Group) { g.Strategy = switchboard.RingAll }, true, ""},
		{"OneMember", func(g *switchboard.Group) { g.Members = []string{"1001"} }, true, ""},
		{"MostMembers", func(g *switchboard.Group) { g.Members = many(switchboard.MaxGroupMembers) }, true, ""},
		{"Hangup", func(g *switchboard.Group) { g.NoAnswer = hangup }, true, ""},
		// Another group, a room or a user: call control routes it as if dialled.
		{"ToANumber", func(g *switchboard.Group) {
			g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "800"}
		}, true, ""},
		// Ringing each member longer than the group tries is allowed: the timeout cuts it.
		{"RingLongerThanTimeout", func(g *switchboard.Group) { g.RingSeconds, g.Timeout = 120, 5 }, true, ""},
		{"LongestTimeout", func(g *switchboard.Group) { g.Timeout = 600 }, true, ""},
		// The group's own mailbox takes its unanswered calls.
		{"VoicemailOfItsOwnMailbox", ownMailbox, true, ""},
		// A mailbox may be on without any call sent to it (only *98 reaches it then).
		{"OwnMailboxUnused", func(g *switchboard.Group) { g.Mailbox = switchboard.Mailbox{Enabled: true, PIN: "0000"} }, true, ""},
		{"OwnMailboxLongestPIN", func(g *switchboard.Group) { ownMailbox(g); g.Mailbox.PIN = "0123456789" }, true, ""},
		// Turned off, a mailbox keeps its PIN, as a user's does.
		{"OwnMailboxOffKeepsPIN", func(g *switchboard.Group) { g.Mailbox = switchboard.Mailbox{PIN: "4321"} }, true, ""},
		// Voicemail to another number than the group's stays a user's: routing checks it is one.
		{"VoicemailOfAUserWithOwnMailbox", func(g *switchboard.Group) { ownMailbox(g); g.NoAnswer.Number = "1002" }, true, ""},
		{"NumberTooShort", func(g *switchboard.Group) { g.Number = "6" }, false, "group number"},
		{"NumberTooLong", func(g *switchboard.Group) { g.Number = "1234567" }, false, "group number"},
		{"NumberPattern", func(g *switchboard.Group) { g.Number = "_X." }, false, "group number"},
		{"FeatureCode", func(g *switchboard.Group) { g.Number = "*97" }, false, "group number"},
		{"NameEmpty", func(g *switchboard.Group) { g.Name = "" }, false, "name"},
		{"NameSection", func(g *switchboard.Group) { g.Name = "Support\n[evil]" }, false, "name"},
		{"NoMembers", func(g *switchboard.Group) { g.Members = nil }, false, "members must list 1 to 50"},
		{"TooManyMembers", func(g *switchboard.Group) { g.Members = many(switchboard.MaxGroupMembers + 1) }, false, "members must list"},
		{"MemberTwice", func(g *switchboard.Group) { g.Members = []string{"1001", "1002", "1001"} }, false, "member 1001 is listed twice"},
		// A group is not a user: it cannot ring itself.
		{"MemberIsTheGroup", func(g *switchboard.Group) { g.Members = []string{"1001", "600"} }, false, "member 600 is the group's own number"},
		{"MemberPattern", func(g *switchboard.Group) { g.Members = []string{"_X."} }, false, `member "_X." must be`},
		// A dial string of two endpoints smuggled in as one member.
		{"MemberDialString", func(g *switchboard.Group) { g.Members = []string{"1001&PJSIP/1002"} }, false, "must be an extension"},
		{"MemberEmpty", func(g *switchboard.Group) { g.Members = []string{""} }, false, "must be an extension"},
		{"MemberNewline", func(g *switchboard.Group) { g.Members = []string{"1001\n"} }, false, `"1001\n"`},
		{"StrategyEmpty", func(g *switchboard.Group) { g.Strategy = "" }, false, "strategy must be ring_all or hunt"},
		{"StrategyUnknown", func(g *switchboard.Group) { g.Strategy = "random" }, false, "strategy"},
		{"StrategyCase", func(g *switchboard.Group) { g.Strategy = "Hunt" }, false, "strategy"},
		{"RingTooShort", func(g *switchboard.Group) { g.RingSeconds = 4 }, false, "ring_seconds must be 5 to 120"},
		{"RingTooLong", func(g *switchboard.Group) { g.RingSeconds = 121 }, false, "ring_seconds"},
		{"TimeoutZero", func(g *switchboard.Group) { g.Timeout = 0 }, false, "timeout must be 5 to 600"},
		{"TimeoutTooLong", func(g *switchboard.Group) { g.Timeout = 601 }, false, "timeout"},
		{"TimeoutNegative", func(g *switchboard.Group) { g.Timeout = -60 }, false, "timeout"},
		{"DestinationKindEmpty", func(g *switchboard.Group) { g.NoAnswer.Kind = "" }, false, "no_answer.kind must be"},
		{"DestinationKindUnknown", func(g *switchboard.Group) { g.NoAnswer.Kind = "queue" }, false, "no_answer.kind"},
		{"HangupWithNumber", func(g *switchboard.Group) { g.NoAnswer.Kind = switchboard.DestinationHangup }, false, "hangup takes no number"},
		{"VoicemailWithoutNumber", func(g *switchboard.Group) { g.NoAnswer.Number = "" }, false, "voicemail needs"},
		{"VoicemailPattern", func(g *switchboard.Group) { g.NoAnswer.Number = "1001;x" }, false, "voicemail needs"},
		// The group's number is no user's: its mailbox is its own, which must be on.
		{"VoicemailOfTheGroupWithoutMailbox", func(g *switchboard.Group) { g.NoAnswer.Number = "600" }, false,
			"no_answer: voicemail to the group's own number needs its own mailbox (voicemail.enabled)"},
		{"VoicemailOfTheGroupMailboxOff", func(g *switchboard.Group) { ownMailbox(g); g.Mailbox.Enabled = false }, false,
			"needs its own mailbox"},
		{"OwnMailboxWithoutPIN", func(g *switchboard.Group) { ownMailbox(g); g.Mailbox.PIN = "" }, false,
			"voicemail PIN must be 4 to 10 digits"},
		{"OwnMailboxPINTooShort", func(g *switchboard.Group) { ownMailbox(g); g.Mailbox.PIN = "123" }, false, "voicemail PIN"},
		{"OwnMailboxPINTooLong", func(g *switchboard.Group) { ownMailbox(g); g.Mailbox.PIN = "01234567890" }, false, "voicemail PIN"},
		{"OwnMailboxPINLetters", func(g *switchboard.Group) { ownMailbox(g); g.Mailbox.PIN = "12a4" }, false, "voicemail PIN"},
		// A line break would end the voicemail.conf line Asterisk reads the PIN from.
		{"OwnMailboxPINNewline", func(g *switchboard.Group) { ownMailbox(g); g.Mailbox.PIN = "1234\n[evil]" }, false, "voicemail PIN"},
		// Digits of another script are not what a phone's keypad sends.
		{"OwnMailboxPINArabicDigits", func(g *switchboard.Group) { ownMailbox(g); g.Mailbox.PIN = "١٢٣٤" }, false, "voicemail PIN"},
		// Off, the PIN kept must still be one the database takes.
		{"OwnMailboxOffBadPIN", func(g *switchboard.Group) { g.Mailbox = switchboard.Mailbox{PIN: "12"} }, false, "voicemail PIN"},
		{"NumberWithoutNumber", func(g *switchboard.Group) {
			g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber}
		}, false, "number needs"},
		{"NumberFeatureCode", func(g *switchboard.Group) {
			g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "*97"}
		}, false, "number needs"},
		// Its calls would come back to it forever.
		{"NumberIsTheGroup", func(g *switchboard.Group) {
			g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "600"}
		}, false, "its own number"},
		// Its own mailbox is reached as voicemail only: dialling its number rings the group again.
		{"NumberIsTheGroupWithOwnMailbox", func(g *switchboard.Group) {
			ownMailbox(g)
			g.NoAnswer.Kind = switchboard.DestinationNumber
		}, false, "a group cannot send its calls to its own number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := ok()
			tt.change(&g)
			err := provisioning.ValidateGroup(&g)
			checkValid(t, "ValidateGroup", g, err, tt.ok)
			if !tt.ok && err != nil && !strings.Contains(switchboard.ErrorMessage(err), tt.msg) {
				t.Errorf("message %q does not mention %q", switchboard.ErrorMessage(err), tt.msg)
			}
		})
	}
}

// fuzzUsers are the users of FuzzGroupValidation's store: a group's members must be users.
var fuzzUsers = []string{"1001", "1002", "1003"}

// FuzzGroupValidation shows that whatever a group is created with and accepted, and so what
// call control dials, is plain: a number of the plan, a valid name, 1 to MaxGroupMembers users
// listed once and not the group, a known strategy, times within the limits, a destination
// that is digits of the plan (or none, to hang up; the group's own number only for its own
// mailbox, when that is on) and a mailbox that is off or has a PIN of 4 to 10 digits. What is
// rejected is never stored.
func FuzzGroupValidation(f *testing.F) {
	f.Add("600", "Support", "1001,1002", "hunt", 15, 60, "voicemail", "1001", false, "")
	f.Add("60", "R&D (Lab 2)", "1003", "", 0, 0, "", "", false, "")
	f.Add("600", "Support", "1001,1001", "ring_all", 5, 600, "number", "600", true, "1234")
	f.Add("600", "a\n[evil]", "1001&PJSIP/1002", "Hunt", 4, 601, "hangup", "1001", false, "12")
	f.Add("1001", "Clash", "1002", "ring_all", 120, 5, "number", "800", false, "")
	f.Add("١٢٣", "Support", "١٠٠١", "hunt", -1, -1, "queue", "*97", true, "١٢٣٤")
	f.Add("600", "Support", "1001", "hunt", 15, 60, "voicemail", "600", true, "")
	f.Add("600", "Support", "1001", "hunt", 15, 60, "voicemail", "600", false, "1234")
	f.Add("600", "Support", "1001", "ring_all", 15, 60, "voicemail", "600", true, "1234\n")
	f.Fuzz(func(t *testing.T, number, name, members, strategy string, ring, timeout int, kind, destination string,
		mailbox bool, pin string) {
		ctx := context.Background()
		users := inmem.NewUserStore()
		for _, ext := range fuzzUsers {
			users.CreateUser(ctx, switchboard.User{Extension: ext, Name: "User " + ext})
		}
		svc := &provisioning.GroupService{Store: inmem.NewGroupStore(users)}
		ng := provisioning.NewGroup{Number: number, Name: name, Members: strings.Split(members, ","),
			Strategy: switchboard.GroupStrategy(strategy), RingSeconds: ring, Timeout: timeout}
		if kind != "" || destination != "" {
			ng.NoAnswer = &switchboard.GroupDestination{Kind: switchboard.GroupDestinationKind(kind), Number: destination}
		}
		if mailbox || pin != "" {
			ng.Mailbox = &switchboard.Mailbox{Enabled: mailbox, PIN: pin}
		}
		created, err := svc.CreateGroup(ctx, ng)
		stored, _ := svc.Store.Groups(ctx)
		if err != nil {
			code := switchboard.ErrorCode(err)
			if code != switchboard.EINVALID && (code != switchboard.ECONFLICT || !slices.Contains(fuzzUsers, number)) {
				t.Fatalf("CreateGroup: %v, want invalid, a conflict with a user or nothing", err)
			}
			if len(stored) != 0 {
				t.Fatalf("a rejected group was stored: %+v", stored)
			}
			return
		}
		if len(stored) != 1 || !slices.Equal(stored[0].Members, created.Members) || stored[0].Name != created.Name {
			t.Fatalf("stored %+v, created %+v", stored, created)
		}
		digits := func(s string) bool {
			return len(s) >= 2 && len(s) <= 6 && strings.Trim(s, "0123456789") == ""
		}
		g := created
		switch {
		case !digits(g.Number):
			t.Fatalf("number %q accepted", g.Number)
		case provisioning.ValidateName(g.Name) != nil:
			t.Fatalf("name %q accepted", g.Name)
		case len(g.Members) == 0 || len(g.Members) > switchboard.MaxGroupMembers:
			t.Fatalf("%d members accepted", len(g.Members))
		case g.Strategy != switchboard.RingAll && g.Strategy != switchboard.Hunt:
			t.Fatalf("strategy %q accepted", g.Strategy)
		case g.RingSeconds < 5 || g.RingSeconds > 120:
			t.Fatalf("ring_seconds %d accepted", g.RingSeconds)
		case g.Timeout < 5 || g.Timeout > 600:
			t.Fatalf("timeout %d accepted", g.Timeout)
		case g.Number != number || g.Name != name || strings.Join(g.Members, ",") != members:
			t.Fatalf("accepted input was changed: %+v", g)
		}
		seen := map[string]bool{}
		for _, m := range g.Members {
			if !slices.Contains(fuzzUsers, m) || seen[m] || m == g.Number {
				t.Fatalf("member %q accepted in %v", m, g.Members)
			}
			seen[m] = true
		}
		switch d := g.NoAnswer; d.Kind {
		case switchboard.DestinationHangup:
			if d.Number != "" {
				t.Fatalf("hangup with number %q accepted", d.Number)
			}
		case switchboard.DestinationVoicemail:
			if !digits(d.Number) || (d.Number == g.Number && !g.Mailbox.Enabled) {
				t.Fatalf("destination %+v of group %s (mailbox %+v) accepted", d, g.Number, g.Mailbox)
			}
		case switchboard.DestinationNumber:
			if !digits(d.Number) || d.Number == g.Number {
				t.Fatalf("destination %+v of group %s accepted", d, g.Number)
			}
		default:
			t.Fatalf("destination kind %q accepted", d.Kind)
		}
		checkSharedMailbox(t, g.Mailbox, mailbox, pin)
	})
}

// checkSharedMailbox fails unless m, the own mailbox of a group or a queue as created with
// enabled and pin, is off with no PIN or a PIN of 4 to 10 ASCII digits, or on with such a PIN:
// pin when one was given, a generated one of 6 digits when none was.
func checkSharedMailbox(t *testing.T, m switchboard.Mailbox, enabled bool, pin string) {
	t.Helper()
	validPIN := len(m.PIN) >= 4 && len(m.PIN) <= 10 && strings.Trim(m.PIN, "0123456789") == ""
	switch {
	case m.Enabled != enabled:
		t.Fatalf("mailbox %+v accepted, asked for enabled %v", m, enabled)
	case (m.Enabled || m.PIN != "") && !validPIN:
		t.Fatalf("mailbox PIN %q accepted", m.PIN)
	case pin != "" && m.PIN != pin:
		t.Fatalf("mailbox PIN %q stored, %q given", m.PIN, pin)
	case pin == "" && m.Enabled && len(m.PIN) != 6:
		t.Fatalf("generated PIN %q, want 6 digits", m.PIN)
	case pin == "" && !m.Enabled && m.PIN != "":
		t.Fatalf("a PIN %q was made up for a mailbox that is off", m.PIN)
	}
}
