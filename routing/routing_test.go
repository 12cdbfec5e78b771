package routing_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/routing"
)

// user builds a user for the tables: online (one phone), free, voicemail on, call waiting on,
// changed by opts.
func user(ext string, opts ...func(*routing.Party)) routing.Party {
	p := routing.Party{
		User: switchboard.User{Extension: ext, Name: "User " + ext, RingTimeout: 20,
			Voicemail: switchboard.Mailbox{Enabled: true, PIN: "1234"}, Calls: switchboard.DefaultCallSettings()},
		Devices: []string{"PJSIP/" + ext + "/sip:" + ext + "@127.0.0.1:5070"},
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func offline(p *routing.Party)   { p.Devices = nil }
func inCall(p *routing.Party)    { p.InCall = true }
func noWaiting(p *routing.Party) { p.User.Calls.CallWaiting = false }
func dnd(p *routing.Party)       { p.User.Calls.DND = true }
func noMailbox(p *routing.Party) { p.User.Voicemail = switchboard.Mailbox{} }
func twoPhones(p *routing.Party) { p.Devices = append(p.Devices, "PJSIP/x/sip:second@127.0.0.1:5072") }
func ringFor(s int) func(*routing.Party) {
	return func(p *routing.Party) { p.User.RingTimeout = s }
}
func always(to string) func(*routing.Party) {
	return func(p *routing.Party) {
		p.User.Calls.Forwards.Unconditional = switchboard.Forward{Enabled: true, Destination: to}
	}
}
func onBusy(to string) func(*routing.Party) {
	return func(p *routing.Party) {
		p.User.Calls.Forwards.Busy = switchboard.Forward{Enabled: true, Destination: to}
	}
}
func onNoAnswer(to string) func(*routing.Party) {
	return func(p *routing.Party) {
		p.User.Calls.Forwards.NoAnswer = switchboard.Forward{Enabled: true, Destination: to}
	}
}
func disabledAlways(to string) func(*routing.Party) {
	return func(p *routing.Party) { p.User.Calls.Forwards.Unconditional = switchboard.Forward{Destination: to} }
}

// room is a conference room's number (keyed like a user's in lookupOf).
func room(number string) routing.Party {
	return routing.Party{User: switchboard.User{Extension: number}, Room: &switchboard.Room{Number: number, Name: "Room " + number}}
}

func lookupOf(parties ...routing.Party) routing.Lookup {
	m := map[string]routing.Party{}
	for _, p := range parties {
		m[p.User.Extension] = p
	}
	return func(ext string) (routing.Party, bool) {
		p, ok := m[ext]
		return p, ok
	}
}

// describe writes a step as one line the tables compare with: "ring 1002 (1 phones, 20s)",
// "voicemail 1002 busy [dnd]", "reject busy [busy]", followed by the path and forwards.
func describe(s routing.Step) string {
	var b strings.Builder
	switch s.Kind {
	case routing.Ring:
		fmt.Fprintf(&b, "ring %s (%d phones, %v)", s.Target.Extension, len(s.Devices), s.Timeout)
	case routing.Voicemail:
		fmt.Fprintf(&b, "voicemail %s %s", s.Target.Extension, s.Greeting)
	case routing.Reject:
		fmt.Fprintf(&b, "reject %s", s.Cause)
	case routing.Conference:
		fmt.Fprintf(&b, "conference %s", s.Room.Number)
	}
	if s.Reason != "" {
		fmt.Fprintf(&b, " [%s]", s.Reason)
	}
	for _, f := range s.Forwarded {
		fmt.Fprintf(&b, " %s>%s(%s)", f.From, f.To, f.Kind)
	}
	return b.String()
}

func TestRoute(t *testing.T) {
	tests := []struct {
		name    string
		dialled string
		users   []routing.Party
		want    string
	}{
		{"Rings", "1002", []routing.Party{user("1002")}, "ring 1002 (1 phones, 20s)"},
		{"RingsEveryPhone", "1002", []routing.Party{user("1002", twoPhones, ringFor(30))}, "ring 1002 (2 phones, 30s)"},
		{"Room", "800", []routing.Party{user("1002"), room("800")}, "conference 800"},
		// A forward may lead into a conference room (a user who sends their calls to the
		// team's meeting): the call joins it.
		{"UnconditionalToRoom", "1002", []routing.Party{user("1002", always("800")), room("800")},
			"conference 800 1002>800(unconditional)"},
		{"NoAnswerToRoom", "1002", []routing.Party{user("1002", offline, onNoAnswer("800")), room("800")},
			"conference 800 1002>800(no_answer)"},
		{"UnknownNumber", "4040", []routing.Party{user("1002")}, "reject unallocated [unknown_extension]"},
		{"Offline", "1002", []routing.Party{user("1002", offline)}, "voicemail 1002 unavailable [offline]"},
		// Without a mailbox the voicemail step plays an announcement: the caller is told.
		{"OfflineWithoutMailbox", "1002", []routing.Party{user("1002", offline, noMailbox)}, "voicemail 1002 unavailable [offline]"},
		// Call waiting (the default): a second call rings a phone in a call.
		{"InACallWithCallWaiting", "1002", []routing.Party{user("1002", inCall)}, "ring 1002 (1 phones, 20s)"},
		{"InACallWithoutCallWaiting", "1002", []routing.Party{user("1002", inCall, noWaiting)}, "voicemail 1002 busy [busy]"},
		// Busy without a mailbox is a busy signal, not an announcement.
		{"BusyWithoutMailbox", "1002", []routing.Party{user("1002", inCall, noWaiting, noMailbox)}, "reject busy [busy]"},
		{"DND", "1002", []routing.Party{user("1002", dnd)}, "voicemail 1002 busy [dnd]"},
		{"DNDWithoutMailbox", "1002", []routing.Party{user("1002", dnd, noMailbox)}, "reject busy [dnd]"},
		// DND wins over call waiting and over being offline: no phone rings.
		{"DNDOffline", "1002", []routing.Party{user("1002", dnd, offline)}, "voicemail 1002 busy [dnd]"},
		{"Unconditional", "1002", []routing.Party{user("1002", always("1003")), user("1003")},
			"ring 1003 (1 phones, 20s) 1002>1003(unconditional)"},
		// The forward is what the user wants even with DND on: they are not disturbed.
		{"UnconditionalAndDND", "1002", []routing.Party{user("1002", always("1003"), dnd), user("1003")},
			"ring 1003 (1 phones, 20s) 1002>1003(unconditional)"},
		{"UnconditionalDisabled", "1002", []routing.Party{user("1002", disabledAlways("1003")), user("1003")},
			"ring 1002 (1 phones, 20s)"},
		// Forward to self (refused by validation; a stored one is ignored): the user rings.
		{"UnconditionalToSelf", "1002", []routing.Party{user("1002", always("1002"))}, "ring 1002 (1 phones, 20s)"},
		// To a number nobody has any more (its user was deleted): ignored.
		{"UnconditionalToUnknown", "1002", []routing.Party{user("1002", always("4040"))}, "ring 1002 (1 phones, 20s)"},
		// A forwards to B who forwards to A: the call stays with B, in B's mailbox.
		{"Loop", "1002", []routing.Party{user("1002", always("1003")), user("1003", always("1002"))},
			"voicemail 1003 unavailable [forward_loop] 1002>1003(unconditional)"},
		{"LoopOfThree", "1002", []routing.Party{user("1002", always("1003")), user("1003", always("1004")), user("1004", always("1002"))},
			"voicemail 1004 unavailable [forward_loop] 1002>1003(unconditional) 1003>1004(unconditional)"},
		// Seven users forwarding on: five hops, then the mailbox of the sixth.
		{"HopLimit", "2001", []routing.Party{user("2001", always("2002")), user("2002", always("2003")), user("2003", always("2004")),
			user("2004", always("2005")), user("2005", always("2006")), user("2006", always("2007")), user("2007")},
			"voicemail 2006 unavailable [forward_loop] 2001>2002(unconditional) 2002>2003(unconditional) 2003>2004(unconditional) 2004>2005(unconditional) 2005>2006(unconditional)"},
		{"ForwardToDND", "1002", []routing.Party{user("1002", always("1003")), user("1003", dnd)},
			"voicemail 1003 busy [dnd] 1002>1003(unconditional)"},
		// Forwarded to someone without a mailbox who is offline: their announcement.
		{"ForwardToNoMailbox", "1002", []routing.Party{user("1002", always("1003")), user("1003", offline, noMailbox)},
			"voicemail 1003 unavailable [offline] 1002>1003(unconditional)"},
		// The target's own forwards apply (a chain), within the hop limit.
		{"Chain", "1002", []routing.Party{user("1002", always("1003")), user("1003", offline, onNoAnswer("1004")), user("1004")},
			"ring 1004 (1 phones, 20s) 1002>1003(unconditional) 1003>1004(no_answer)"},
		{"BusyForward", "1002", []routing.Party{user("1002", inCall, noWaiting, onBusy("1003")), user("1003")},
			"ring 1003 (1 phones, 20s) 1002>1003(busy)"},
		// Call waiting on: the phone rings; the busy forward is for when it refuses.
		{"BusyForwardWithCallWaiting", "1002", []routing.Party{user("1002", inCall, onBusy("1003")), user("1003")},
			"ring 1002 (1 phones, 20s)"},
		{"DNDIsNotBusyForward", "1002", []routing.Party{user("1002", dnd, onBusy("1003")), user("1003")},
			"voicemail 1002 busy [dnd]"},
		// Offline counts as not answering: the no-answer forward takes the call.
		{"OfflineNoAnswerForward", "1002", []routing.Party{user("1002", offline, onNoAnswer("1003")), user("1003")},
			"ring 1003 (1 phones, 20s) 1002>1003(no_answer)"},
		{"BusyLoop", "1002", []routing.Party{user("1002", inCall, noWaiting, onBusy("1003")), user("1003", inCall, noWaiting, onBusy("1002"))},
			"voicemail 1003 busy [busy] 1002>1003(busy)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describe(routing.Route(routing.Call{Caller: "1001", Dialled: tt.dialled}, lookupOf(tt.users...)))
			if got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestAfter(t *testing.T) {
	tests := []struct {
		name    string
		dialled string
		users   []routing.Party
		result  routing.Result
		want    string
	}{
		{"BusyToBusyGreeting", "1002", []routing.Party{user("1002")}, routing.ResultBusy, "voicemail 1002 busy [busy]"},
		{"BusyWithoutMailbox", "1002", []routing.Party{user("1002", noMailbox)}, routing.ResultBusy, "reject busy [busy]"},
		{"NoAnswerToUnavailable", "1002", []routing.Party{user("1002")}, routing.ResultNoAnswer, "voicemail 1002 unavailable [no_answer]"},
		{"Declined", "1002", []routing.Party{user("1002")}, routing.ResultDeclined, "voicemail 1002 unavailable [declined]"},
		{"Unreachable", "1002", []routing.Party{user("1002")}, routing.ResultUnreachable, "voicemail 1002 unavailable [unreachable]"},
		{"BusyForward", "1002", []routing.Party{user("1002", onBusy("1003")), user("1003")}, routing.ResultBusy,
			"ring 1003 (1 phones, 20s) 1002>1003(busy)"},
		{"NoAnswerForward", "1002", []routing.Party{user("1002", onNoAnswer("1003")), user("1003")}, routing.ResultNoAnswer,
			"ring 1003 (1 phones, 20s) 1002>1003(no_answer)"},
		{"UnreachableIsNoAnswer", "1002", []routing.Party{user("1002", onNoAnswer("1003")), user("1003")}, routing.ResultUnreachable,
			"ring 1003 (1 phones, 20s) 1002>1003(no_answer)"},
		// The busy forward is not followed when the phone rang out.
		{"NoAnswerIgnoresBusyForward", "1002", []routing.Party{user("1002", onBusy("1003")), user("1003")}, routing.ResultNoAnswer,
			"voicemail 1002 unavailable [no_answer]"},
		// Forwarded on no answer to someone who went into a call meanwhile (call waiting off).
		{"NoAnswerForwardToBusy", "1002", []routing.Party{user("1002", onNoAnswer("1003")), user("1003", inCall, noWaiting)},
			routing.ResultNoAnswer, "voicemail 1003 busy [busy] 1002>1003(no_answer)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := lookupOf(tt.users...)
			first := routing.Route(routing.Call{Caller: "1001", Dialled: tt.dialled}, lookup)
			if first.Kind != routing.Ring {
				t.Fatalf("first step %s, want a ring", describe(first))
			}
			if got := describe(routing.After(first, tt.result, lookup)); got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// The no-answer forwards of A and B point at each other: A rings, then B, then B's mailbox,
// never A again.
func TestNoAnswerLoop(t *testing.T) {
	lookup := lookupOf(user("1002", onNoAnswer("1003")), user("1003", onNoAnswer("1002")))
	s := routing.Route(routing.Call{Caller: "1001", Dialled: "1002"}, lookup)
	var steps []string
	for range 5 {
		steps = append(steps, describe(s))
		if s.Kind != routing.Ring {
			break
		}
		s = routing.After(s, routing.ResultNoAnswer, lookup)
	}
	want := []string{"ring 1002 (1 phones, 20s)", "ring 1003 (1 phones, 20s) 1002>1003(no_answer)",
		"voicemail 1003 unavailable [no_answer] 1002>1003(no_answer)"}
	if fmt.Sprint(steps) != fmt.Sprint(want) {
		t.Errorf("steps\n%s\nwant\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}
}

// A user deleted while their phone rang: the step after uses what was known of them.
func TestAfterUserDeleted(t *testing.T) {
	first := routing.Route(routing.Call{Dialled: "1002"}, lookupOf(user("1002")))
	got := describe(routing.After(first, routing.ResultNoAnswer, lookupOf()))
	if want := "voicemail 1002 unavailable [no_answer]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// Steps carry the path and the ring timeout.
func TestStepDetails(t *testing.T) {
	s := routing.Route(routing.Call{Dialled: "1002"}, lookupOf(user("1002", always("1003")), user("1003", ringFor(7))))
	if s.Timeout != 7*time.Second || fmt.Sprint(s.Path) != "[1002 1003]" || s.Target.Extension != "1003" {
		t.Errorf("step %+v", s)
	}
}

func TestFallbackOf(t *testing.T) {
	exists := func(ext string) bool { return ext == "1003" || ext == "1004" }
	tests := []struct {
		name string
		p    routing.Party
		want routing.Fallback
	}{
		{"Nothing", user("1002"), routing.Fallback{}},
		{"DND", user("1002", dnd), routing.Fallback{DND: true}},
		{"Always", user("1002", always("1003")), routing.Fallback{Always: "1003"}},
		// As in Route, the unconditional forward wins over DND.
		{"AlwaysAndDND", user("1002", always("1003"), dnd), routing.Fallback{Always: "1003"}},
		{"AlwaysToUnknown", user("1002", always("4040"), dnd), routing.Fallback{DND: true}},
		{"AlwaysToSelf", user("1002", always("1002")), routing.Fallback{}},
		{"Disabled", user("1002", disabledAlways("1003")), routing.Fallback{}},
		{"BusyAndNoAnswer", user("1002", onBusy("1003"), onNoAnswer("1004")), routing.Fallback{OnBusy: "1003", NoAnswer: "1004"}},
	}
	for _, tt := range tests {
		if got := routing.FallbackOf(tt.p.User, exists); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
