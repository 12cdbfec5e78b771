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

func TestValidateQueue(t *testing.T) {
	ok := func() switchboard.Queue {
		return switchboard.Queue{Number: "700", Name: "Support",
			Agents:   []switchboard.QueueAgent{{Extension: "1001", LoggedIn: true}, {Extension: "1002"}},
			Strategy: switchboard.QueueRoundRobin, RingSeconds: 15, MaxWait: 300,
			NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "1001"}}
	}
	agents := func(exts ...string) []switchboard.QueueAgent {
		var out []switchboard.QueueAgent
		for _, ext := range exts {
			out = append(out, switchboard.QueueAgent{Extension: ext})
		}
		return out
	}
	many := func(n int) []switchboard.QueueAgent {
		var exts []string
		for i := range n {
			exts = append(exts, fmt.Sprintf("2%03d", i))
		}
		return agents(exts...)
	}
	ownMailbox := func(q *switchboard.Queue) {
		q.Mailbox = switchboard.Mailbox{Enabled: true, PIN: "4321"}
		q.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: q.Number}
	}
	tests := []struct {
		name   string
		change func(*switchboard.Queue)
		ok     bool
		msg    string // part of the message, for the rows that fail
	}{
		{"OK", func(*switchboard.Queue) {}, true, ""},
		{"RingAll", func(q *switchboard.Queue) { q.Strategy = switchboard.QueueRingAll }, true, ""},
		{"LeastRecent", func(q *switchboard.Queue) { q.Strategy = switchboard.QueueLeastRecent }, true, ""},
		{"FewestCalls", func(q *switchboard.Queue) { q.Strategy = switchboard.QueueFewestCalls }, true, ""},
		{"OneAgent", func(q *switchboard.Queue) { q.Agents = agents("1001") }, true, ""},
		{"MostAgents", func(q *switchboard.Queue) { q.Agents = many(switchboard.MaxQueueAgents) }, true, ""},
		// Every agent logged out: the queue still takes callers, who wait for someone to log in.
		{"NobodyLoggedIn", func(q *switchboard.Queue) { q.Agents[0].LoggedIn = false }, true, ""},
		{"Hangup", func(q *switchboard.Queue) {
			q.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationHangup}
		}, true, ""},
		// Another queue, a group, a room or a user: call control routes it as if dialled.
		{"ToANumber", func(q *switchboard.Queue) {
			q.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "701"}
		}, true, ""},
		{"ShortestTimes", func(q *switchboard.Queue) { q.RingSeconds, q.MaxWait = 5, 10 }, true, ""},
		{"LongestTimes", func(q *switchboard.Queue) { q.RingSeconds, q.MaxWait = 120, 3600 }, true, ""},
		// The queue's own mailbox takes the callers who waited too long.
		{"VoicemailOfItsOwnMailbox", ownMailbox, true, ""},
		// Turned off, a mailbox keeps its PIN, as a user's does.
		{"OwnMailboxOffKeepsPIN", func(q *switchboard.Queue) { q.Mailbox = switchboard.Mailbox{PIN: "4321"} }, true, ""},
		{"NumberTooShort", func(q *switchboard.Queue) { q.Number = "7" }, false, "queue number"},
		{"NumberTooLong", func(q *switchboard.Queue) { q.Number = "1234567" }, false, "queue number"},
		{"NumberPattern", func(q *switchboard.Queue) { q.Number = "_X." }, false, "queue number"},
		// *45 is the agents' toggle, not a queue.
		{"FeatureCode", func(q *switchboard.Queue) { q.Number = "*45" }, false, "queue number"},
		{"NameEmpty", func(q *switchboard.Queue) { q.Name = "" }, false, "name"},
		{"NameSection", func(q *switchboard.Queue) { q.Name = "Support\n[evil]" }, false, "name"},
		{"NoAgents", func(q *switchboard.Queue) { q.Agents = nil }, false, "agents must list 1 to 50"},
		{"TooManyAgents", func(q *switchboard.Queue) { q.Agents = many(switchboard.MaxQueueAgents + 1) }, false, "agents must list"},
		{"AgentTwice", func(q *switchboard.Queue) { q.Agents = agents("1001", "1002", "1001") }, false, "agent 1001 is listed twice"},
		// Listed twice with different logins is still twice.
		{"AgentTwiceLoggedInOnce", func(q *switchboard.Queue) {
			q.Agents = append(q.Agents, switchboard.QueueAgent{Extension: "1001"})
		}, false, "listed twice"},
		// A queue is not a user: it cannot take its own calls.
		{"AgentIsTheQueue", func(q *switchboard.Queue) { q.Agents = agents("1001", "700") }, false, "agent 700 is the queue's own number"},
		{"AgentPattern", func(q *switchboard.Queue) { q.Agents = agents("_X.") }, false, `agent "_X." must be`},
		// A dial string of two endpoints smuggled in as one agent.
		{"AgentDialString", func(q *switchboard.Queue) { q.Agents = agents("1001&PJSIP/1002") }, false, "must be an extension"},
		{"AgentEmpty", func(q *switchboard.Queue) { q.Agents = agents("") }, false, "must be an extension"},
		{"AgentNewline", func(q *switchboard.Queue) { q.Agents = agents("1001\n") }, false, `"1001\n"`},
		{"StrategyEmpty", func(q *switchboard.Queue) { q.Strategy = "" }, false,
			"strategy must be ring_all, round_robin, least_recent or fewest_calls"},
		// A group's strategy, not a queue's.
		{"StrategyHunt", func(q *switchboard.Queue) { q.Strategy = "hunt" }, false, "strategy"},
		{"StrategyCase", func(q *switchboard.Queue) { q.Strategy = "Round_Robin" }, false, "strategy"},
		{"RingTooShort", func(q *switchboard.Queue) { q.RingSeconds = 4 }, false, "ring_seconds must be 5 to 120"},
		{"RingTooLong", func(q *switchboard.Queue) { q.RingSeconds = 121 }, false, "ring_seconds"},
		{"MaxWaitZero", func(q *switchboard.Queue) { q.MaxWait = 0 }, false, "max_wait must be 10 to 3600"},
		{"MaxWaitTooShort", func(q *switchboard.Queue) { q.MaxWait = 9 }, false, "max_wait"},
		{"MaxWaitTooLong", func(q *switchboard.Queue) { q.MaxWait = 3601 }, false, "max_wait"},
		{"MaxWaitNegative", func(q *switchboard.Queue) { q.MaxWait = -300 }, false, "max_wait"},
		{"DestinationKindEmpty", func(q *switchboard.Queue) { q.NoAnswer.Kind = "" }, false, "no_answer.kind must be"},
		{"DestinationKindQueue", func(q *switchboard.Queue) { q.NoAnswer.Kind = "queue" }, false, "no_answer.kind"},
		{"HangupWithNumber", func(q *switchboard.Queue) { q.NoAnswer.Kind = switchboard.DestinationHangup }, false, "hangup takes no number"},
		{"VoicemailWithoutNumber", func(q *switchboard.Queue) { q.NoAnswer.Number = "" }, false, "voicemail needs"},
		{"VoicemailPattern", func(q *switchboard.Queue) { q.NoAnswer.Number = "1001;x" }, false, "voicemail needs"},
		// The queue's number is no user's: its mailbox is its own, which must be on.
		{"VoicemailOfTheQueueWithoutMailbox", func(q *switchboard.Queue) { q.NoAnswer.Number = "700" }, false,
			"no_answer: voicemail to the queue's own number needs its own mailbox (voicemail.enabled)"},
		{"VoicemailOfTheQueueMailboxOff", func(q *switchboard.Queue) { ownMailbox(q); q.Mailbox.Enabled = false }, false,
			"needs its own mailbox"},
		{"OwnMailboxWithoutPIN", func(q *switchboard.Queue) { ownMailbox(q); q.Mailbox.PIN = "" }, false,
			"voicemail PIN must be 4 to 10 digits"},
		{"OwnMailboxPINLetters", func(q *switchboard.Queue) { ownMailbox(q); q.Mailbox.PIN = "12a4" }, false, "voicemail PIN"},
		{"OwnMailboxPINTooLong", func(q *switchboard.Queue) { ownMailbox(q); q.Mailbox.PIN = "01234567890" }, false, "voicemail PIN"},
		// Off, the PIN kept must still be one the database takes.
		{"OwnMailboxOffBadPIN", func(q *switchboard.Queue) { q.Mailbox = switchboard.Mailbox{PIN: "12"} }, false, "voicemail PIN"},
		{"NumberFeatureCode", func(q *switchboard.Queue) {
			q.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "*45"}
		}, false, "number needs"},
		// Its callers would come back to wait in it forever.
		{"NumberIsTheQueue", func(q *switchboard.Queue) {
			q.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "700"}
		}, false, "a queue cannot send its calls to its own number"},
		// Its own mailbox is reached as voicemail only: dialling its number queues the caller again.
		{"NumberIsTheQueueWithOwnMailbox", func(q *switchboard.Queue) {
			ownMailbox(q)
			q.NoAnswer.Kind = switchboard.DestinationNumber
		}, false, "a queue cannot send its calls to its own number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := ok()
			tt.change(&q)
			err := provisioning.ValidateQueue(&q)
			checkValid(t, "ValidateQueue", q, err, tt.ok)
			if !tt.ok && err != nil && !strings.Contains(switchboard.ErrorMessage(err), tt.msg) {
				t.Errorf("message %q does not mention %q", switchboard.ErrorMessage(err), tt.msg)
			}
		})
	}
}

// FuzzQueueValidation shows that whatever a queue is created with and accepted, and so what
// call control dials, is plain: a number of the plan, a valid name, 1 to MaxQueueAgents users
// listed once, not the queue and logged out, a known strategy, times within the limits, a
// destination that is digits of the plan (or none, to hang up; the queue's own number only for
// its own mailbox, when that is on) and a mailbox that is off or has a PIN of 4 to 10 digits.
// What is rejected is never stored.
func FuzzQueueValidation(f *testing.F) {
	f.Add("700", "Support", "1001,1002", "round_robin", 15, 300, "voicemail", "1001", false, "")
	f.Add("70", "R&D (Lab 2)", "1003", "", 0, 0, "", "", false, "")
	f.Add("700", "Support", "1001,1001", "ring_all", 5, 3600, "number", "700", true, "1234")
	f.Add("700", "a\n[evil]", "1001&PJSIP/1002", "hunt", 4, 9, "hangup", "1001", false, "12")
	f.Add("1001", "Clash", "1002", "fewest_calls", 120, 10, "number", "800", false, "")
	f.Add("١٢٣", "Support", "١٠٠١", "least_recent", -1, -1, "queue", "*45", true, "١٢٣٤")
	f.Add("700", "Support", "1001", "ring_all", 15, 300, "voicemail", "700", true, "")
	f.Add("700", "Support", "1001", "ring_all", 15, 300, "voicemail", "700", false, "1234")
	f.Fuzz(func(t *testing.T, number, name, agents, strategy string, ring, maxWait int, kind, destination string,
		mailbox bool, pin string) {
		ctx := context.Background()
		users := inmem.NewUserStore()
		for _, ext := range fuzzUsers {
			users.CreateUser(ctx, switchboard.User{Extension: ext, Name: "User " + ext})
		}
		svc := &provisioning.QueueService{Store: inmem.NewQueueStore(users)}
		nq := provisioning.NewQueue{Number: number, Name: name, Agents: strings.Split(agents, ","),
			Strategy: switchboard.QueueStrategy(strategy), RingSeconds: ring, MaxWait: maxWait}
		if kind != "" || destination != "" {
			nq.NoAnswer = &switchboard.GroupDestination{Kind: switchboard.GroupDestinationKind(kind), Number: destination}
		}
		if mailbox || pin != "" {
			nq.Mailbox = &switchboard.Mailbox{Enabled: mailbox, PIN: pin}
		}
		created, err := svc.CreateQueue(ctx, nq)
		stored, _ := svc.Store.Queues(ctx)
		if err != nil {
			code := switchboard.ErrorCode(err)
			if code != switchboard.EINVALID && (code != switchboard.ECONFLICT || !slices.Contains(fuzzUsers, number)) {
				t.Fatalf("CreateQueue: %v, want invalid, a conflict with a user or nothing", err)
			}
			if len(stored) != 0 {
				t.Fatalf("a rejected queue was stored: %+v", stored)
			}
			return
		}
		if len(stored) != 1 || !slices.Equal(stored[0].Agents, created.Agents) || stored[0].Name != created.Name {
			t.Fatalf("stored %+v, created %+v", stored, created)
		}
		digits := func(s string) bool {
			return len(s) >= 2 && len(s) <= 6 && strings.Trim(s, "0123456789") == ""
		}
		q := created
		var exts []string
		for _, a := range q.Agents {
			exts = append(exts, a.Extension)
		}
		switch {
		case !digits(q.Number):
			t.Fatalf("number %q accepted", q.Number)
		case provisioning.ValidateName(q.Name) != nil:
			t.Fatalf("name %q accepted", q.Name)
		case len(q.Agents) == 0 || len(q.Agents) > switchboard.MaxQueueAgents:
			t.Fatalf("%d agents accepted", len(q.Agents))
		case provisioning.ValidateQueueStrategy(q.Strategy) != nil:
			t.Fatalf("strategy %q accepted", q.Strategy)
		case q.RingSeconds < 5 || q.RingSeconds > 120:
			t.Fatalf("ring_seconds %d accepted", q.RingSeconds)
		case q.MaxWait < 10 || q.MaxWait > 3600:
			t.Fatalf("max_wait %d accepted", q.MaxWait)
		case q.Number != number || q.Name != name || strings.Join(exts, ",") != agents:
			t.Fatalf("accepted input was changed: %+v", q)
		}
		seen := map[string]bool{}
		for _, a := range q.Agents {
			if !slices.Contains(fuzzUsers, a.Extension) || seen[a.Extension] || a.Extension == q.Number || a.LoggedIn {
				t.Fatalf("agent %+v accepted in %+v", a, q.Agents)
			}
			seen[a.Extension] = true
		}
		switch d := q.NoAnswer; d.Kind {
		case switchboard.DestinationHangup:
			if d.Number != "" {
				t.Fatalf("hangup with number %q accepted", d.Number)
			}
		case switchboard.DestinationVoicemail:
			if !digits(d.Number) || (d.Number == q.Number && !q.Mailbox.Enabled) {
				t.Fatalf("destination %+v of queue %s (mailbox %+v) accepted", d, q.Number, q.Mailbox)
			}
		case switchboard.DestinationNumber:
			if !digits(d.Number) || d.Number == q.Number {
				t.Fatalf("destination %+v of queue %s accepted", d, q.Number)
			}
		default:
			t.Fatalf("destination kind %q accepted", d.Kind)
		}
		checkSharedMailbox(t, q.Mailbox, mailbox, pin)
	})
}
