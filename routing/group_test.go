package routing_test

import (
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/routing"
)

// group is a ring group's number (keyed like a user's in lookupOf).
func group(number string, strategy switchboard.GroupStrategy, dest switchboard.GroupDestination, members ...string) routing.Party {
	g := switchboard.Group{Number: number, Name: "Group " + number, Members: members, Strategy: strategy,
		RingSeconds: 10, Timeout: 25, NoAnswer: dest}
	return routing.Party{User: switchboard.User{Extension: number}, Group: &g}
}

// withMailbox gives a group its own mailbox.
func withMailbox(p routing.Party) routing.Party {
	p.Group.Mailbox = switchboard.Mailbox{Enabled: true, PIN: "5555"}
	return p
}

var (
	hangup = switchboard.GroupDestination{Kind: switchboard.DestinationHangup}
	toVM   = func(ext string) switchboard.GroupDestination {
		return switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: ext}
	}
	toNumber = func(n string) switchboard.GroupDestination {
		return switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: n}
	}
)

// walk routes a call and follows every ringing step as unanswered, describing each step.
func walk(caller, dialled string, parties ...routing.Party) string {
	lookup := lookupOf(parties...)
	s := routing.Route(routing.Call{Caller: caller, Dialled: dialled}, lookup)
	steps := []string{describe(s)}
	for i := 0; s.Kind == routing.Ring && i < 20; i++ {
		s = routing.After(s, routing.ResultNoAnswer, lookup)
		steps = append(steps, describe(s))
	}
	return strings.Join(steps, " | ")
}

func TestGroups(t *testing.T) {
	tests := []struct {
		name    string
		caller  string
		parties []routing.Party
		want    string
	}{
		// Everyone who can take a call rings at once for the timeout; then the destination.
		{"RingAll", "1009", []routing.Party{group("600", switchboard.RingAll, toVM("1002"), "1002", "1003", "1004"),
			user("1002"), user("1003", twoPhones), user("1004")},
			"ring 600 (4 phones, 25s) | voicemail 1002 unavailable [no_answer]"},
		// Offline, DND and busy-without-call-waiting members are skipped; forwards are not
		// followed (1003's unconditional forward would take the call away from the group).
		{"RingAllSkips", "1009", []routing.Party{group("600", switchboard.RingAll, hangup, "1002", "1003", "1004", "1005", "1006"),
			user("1002", offline), user("1003", always("1007")), user("1004", dnd), user("1005", inCall, noWaiting),
			user("1006", inCall), user("1007")},
			"ring 600 (2 phones, 25s) | reject no_answer [no_answer]"},
		// The caller's own phones never ring for their group.
		{"NotTheCaller", "1002", []routing.Party{group("600", switchboard.RingAll, hangup, "1002", "1003"), user("1002"), user("1003")},
			"ring 600 (1 phones, 25s) | reject no_answer [no_answer]"},
		{"NobodyCanTakeIt", "1009", []routing.Party{group("600", switchboard.RingAll, toVM("1002"), "1002", "1003"),
			user("1002", offline), user("1003", dnd)},
			"voicemail 1002 unavailable [offline]"},
		// Hunting: one after the other, ring_seconds each, within the timeout (10+10+5).
		{"Hunt", "1009", []routing.Party{group("601", switchboard.Hunt, hangup, "1002", "1003", "1004", "1005"),
			user("1002"), user("1003", offline), user("1004"), user("1005"), user("1006")},
			"ring 601 (1 phones, 10s) | ring 601 (1 phones, 10s) | ring 601 (1 phones, 5s) | reject no_answer [no_answer]"},
		{"HuntToAnotherNumber", "1009", []routing.Party{group("601", switchboard.Hunt, toNumber("1006"), "1002"),
			user("1002"), user("1006")},
			"ring 601 (1 phones, 10s) | ring 1006 (1 phones, 20s) 601>1006(no_answer) | voicemail 1006 unavailable [no_answer] 601>1006(no_answer)"},
		// A destination that leads back into the group refuses instead of looping.
		{"DestinationLoop", "1009", []routing.Party{group("601", switchboard.Hunt, toNumber("601"), "1002"), user("1002")},
			"ring 601 (1 phones, 10s) | reject no_answer [no_answer]"},
		// The group's own mailbox takes the call; without one, nobody does.
		{"OwnMailbox", "1009", []routing.Party{withMailbox(group("601", switchboard.Hunt, toVM("601"), "1002")), user("1002")},
			"ring 601 (1 phones, 10s) | voicemail 601 unavailable [no_answer]"},
		{"OwnMailboxOff", "1009", []routing.Party{group("601", switchboard.Hunt, toVM("601"), "1002"), user("1002")},
			"ring 601 (1 phones, 10s) | reject no_answer [no_answer]"},
		// Groups reach rooms and other groups.
		{"ToRoom", "1009", []routing.Party{group("601", switchboard.RingAll, toNumber("800"), "1002"), user("1002", offline), room("800")},
			"conference 800 601>800(no_answer)"},
		// A user may forward to a group; the group's members then ring.
		{"ForwardToGroup", "1009", []routing.Party{user("1001", always("600")), group("600", switchboard.RingAll, hangup, "1002"), user("1002")},
			"ring 600 (1 phones, 25s) 1001>600(unconditional) | reject no_answer [no_answer] 1001>600(unconditional)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dialled := tt.parties[0].User.Extension
			if got := walk(tt.caller, dialled, tt.parties...); got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestQueues(t *testing.T) {
	q := switchboard.Queue{Number: "700", Name: "Sales", MaxWait: 60,
		NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "1005"}}
	lookup := lookupOf(routing.Party{User: switchboard.User{Extension: "700"}, Queue: &q}, user("1002", always("700")), user("1005"))
	for _, dialled := range []string{"700", "1002"} {
		s := routing.Route(routing.Call{Caller: "1001", Dialled: dialled}, lookup)
		if s.Kind != routing.Queued || s.Queue == nil || s.Queue.Number != "700" {
			t.Fatalf("dialled %s: %s, want queued in 700", dialled, describe(s))
		}
		// Waited too long: the queue's destination.
		if got, want := describe(routing.QueueTimeout(s, lookup)), "voicemail 1005 unavailable [max_wait]"; !strings.HasPrefix(got, want) {
			t.Errorf("dialled %s, timed out: %s, want %s", dialled, got, want)
		}
	}
	q.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "700"}
	s := routing.Route(routing.Call{Caller: "1001", Dialled: "700"}, lookup)
	if got := describe(routing.QueueTimeout(s, lookup)); got != "reject no_answer [max_wait]" {
		t.Errorf("a queue whose destination is itself: %s, want a refusal", got)
	}
}
