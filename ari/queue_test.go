package ari_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-pbx/switchboard"
)

// queueDirectory is a fake directory of queues whose logins tests change.
type queueDirectory struct {
	mu     sync.Mutex
	queues map[string]switchboard.Queue
}

func (d *queueDirectory) Queue(_ context.Context, number string) (switchboard.Queue, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if q, ok := d.queues[number]; ok {
		q.Agents = append([]switchboard.QueueAgent(nil), q.Agents...)
		return q, nil
	}
	return switchboard.Queue{}, switchboard.Errorf(switchboard.ENOTFOUND, "no queue %s", number)
}

func agents(logged bool, exts ...string) []switchboard.QueueAgent {
	var out []switchboard.QueueAgent
	for _, e := range exts {
		out = append(out, switchboard.QueueAgent{Extension: e, LoggedIn: logged})
	}
	return out
}

// queues: 700 rings all of 1002 and 1003; 701 has nobody logged in and lets callers wait a
// second before 1005's mailbox; 702 takes turns.
var queues = &queueDirectory{queues: map[string]switchboard.Queue{
	"700": {Number: "700", Name: "Sales", Strategy: switchboard.QueueRingAll, Agents: agents(true, "1002", "1003"),
		RingSeconds: 15, MaxWait: 300},
	"701": {Number: "701", Name: "Night", Strategy: switchboard.QueueRingAll, Agents: agents(false, "1002"),
		RingSeconds: 15, MaxWait: 1, NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "1005"}},
	"702": {Number: "702", Name: "Support", Strategy: switchboard.QueueRoundRobin, Agents: agents(true, "1002", "1003"),
		RingSeconds: 15, MaxWait: 300},
}}

func (h *harness) queueState(number string) switchboard.QueueState {
	h.t.Helper()
	st, err := h.app.QueueState(context.Background(), number)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func TestQueueServesInOrder(t *testing.T) {
	h := newHarness(t)
	a := h.ast.dial("1001", "700")
	a2, a3 := h.legFor("1002"), h.legFor("1003") // ring all: both agents ring for the first caller
	b := h.ast.dial("1004", "700")
	eventually(t, "two callers in line", func() bool { return len(h.queueState("700").Callers) == 2 })
	if st := h.queueState("700"); st.Callers[0].ID == "" || st.Callers[1].Caller != "1004" || len(st.Callers[1].Ringing) != 0 {
		t.Errorf("line %+v: want 1001 first (ringing), then 1004 waiting", st.Callers)
	}
	h.ast.answer(t, a2)
	r := h.waitRecord(a, "answered by 1002", func(r switchboard.CallRecord) bool { return r.AnsweredBy == "1002" })
	if r.Outcome != switchboard.Answered {
		t.Errorf("record %+v", r)
	}
	eventually(t, "1003 stopped ringing for 1001", func() bool { return !h.ast.has(a3) })
	// 1003 is free again: the next caller's turn.
	b3 := h.legFor("1003")
	h.ast.answer(t, b3)
	h.waitRecord(b, "answered by 1003", func(r switchboard.CallRecord) bool { return r.AnsweredBy == "1003" })
	st := h.queueState("700")
	if st.Answered != 2 || len(st.Callers) != 0 || st.Agents[0].State != switchboard.AgentInCall || st.Agents[0].Calls != 1 {
		t.Errorf("state %+v: want 2 answered, nobody waiting, 1002 in a call", st)
	}
	h.ast.end(a, 16)
	h.waitRecord(a, "ended", func(r switchboard.CallRecord) bool { return !r.Active() })
	eventually(t, "1002 free", func() bool {
		ag := h.queueState("700").Agents[0]
		return ag.State == switchboard.AgentAvailable && !ag.LastCall.IsZero()
	})
}

func TestQueueMaxWaitAndAbandon(t *testing.T) {
	h := newHarness(t)
	a := h.ast.dial("1001", "701")
	eventually(t, "sent to 1005's mailbox", func() bool {
		return index(h.ast.opsSince(0), "continue "+a+" 1005 unavailable") >= 0
	})
	h.waitRecord(a, "max wait", func(r switchboard.CallRecord) bool { return r.Reason == switchboard.ReasonMaxWait })
	b := h.ast.dial("1004", "701")
	eventually(t, "1004 waiting", func() bool { return len(h.queueState("701").Callers) == 1 })
	h.ast.end(b, 16)
	h.waitRecord(b, "abandoned", ended(switchboard.Cancelled, switchboard.ReasonAbandoned))
	if st := h.queueState("701"); st.Abandoned != 1 || st.TimedOut != 1 || st.Agents[0].State != switchboard.AgentLoggedOut {
		t.Errorf("state %+v: want one abandoned, one timed out, 1002 logged out", st)
	}
}

func TestQueueRoundRobin(t *testing.T) {
	h := newHarness(t)
	var got []string
	for _, caller := range []string{"1001", "1004", "1005"} {
		ch := h.ast.dial(caller, "702")
		var leg, agent string
		eventually(t, "an agent rings for "+caller, func() bool {
			for _, ext := range []string{"1002", "1003"} {
				h.ast.mu.Lock()
				for _, c := range h.ast.channels {
					if c.dialed && c.State != "Up" && strings.HasPrefix(c.Name, "PJSIP/"+ext+"-") {
						leg, agent = c.ID, ext
					}
				}
				h.ast.mu.Unlock()
			}
			return leg != ""
		})
		h.ast.answer(t, leg)
		h.waitRecord(ch, "answered", func(r switchboard.CallRecord) bool { return r.AnsweredBy == agent })
		h.ast.end(ch, 16)
		h.waitRecord(ch, "ended", func(r switchboard.CallRecord) bool { return !r.Active() })
		eventually(t, agent+" free", func() bool {
			for _, ag := range h.queueState("702").Agents {
				if ag.Extension == agent {
					return ag.State == switchboard.AgentAvailable
				}
			}
			return false
		})
		got = append(got, agent)
	}
	if want := "[1002 1003 1002]"; fmt.Sprint(got) != want {
		t.Errorf("agents in turn %v, want %s", got, want)
	}
}

func TestQueueDeletedWhileWaiting(t *testing.T) {
	h := newHarness(t)
	queues.mu.Lock()
	queues.queues["703"] = switchboard.Queue{Number: "703", Name: "Gone", Strategy: switchboard.QueueRingAll,
		Agents: agents(false, "1002"), RingSeconds: 15, MaxWait: 300,
		NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "1005"}}
	queues.mu.Unlock()
	a := h.ast.dial("1001", "703")
	eventually(t, "1001 waiting", func() bool { return len(h.queueState("703").Callers) == 1 })
	queues.mu.Lock()
	delete(queues.queues, "703")
	queues.mu.Unlock()
	// No agent will ever come: the destination takes the caller at once, not after 300 s.
	eventually(t, "sent to 1005's mailbox", func() bool {
		return index(h.ast.opsSince(0), "continue "+a+" 1005 unavailable") >= 0
	})
}
