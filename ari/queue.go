package ari

import (
	"context"
	"slices"
	"sync"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard"
)

// Call queues. Every caller is a call of its own, waiting in its own bridge (BridgePrefix + call
// ID) with music on hold; what the App keeps per queue is the line of callers, first come first
// served, and what its agents did. The caller at the head of the line rings the agent(s) the
// queue's strategy picks; a caller behind may ring another free agent once everyone ahead of
// it is ringing one (so two free agents take the first two callers at once, in order).
// Ringing, answering and the talk are call control's ordinary steps: the agent's leg joins the
// caller's bridge. The line is rebuilt after a restart from the calls' start times.

// queueState is what the App knows of one queue.
type queueState struct {
	number    string
	mu        sync.Mutex
	waiting   []*call // by arrival
	agents    map[string]*agentStats
	last      string // the agent rung last (round robin goes on after them)
	answered  int
	abandoned int
	timedOut  int
}

// agentStats is what one agent did in the queue.
type agentStats struct {
	calls   int
	lastEnd time.Time
	ringing string // the call whose caller their phones ring for now
	busy    string // the queue call they are in now
}

// queueWake is call control's own event for a waiting caller: the queue changed (a caller left,
// an agent is free again), so it may be their turn.
type queueWake struct{ v5.EventData }

// Keys is part of v5.Event.
func (*queueWake) Keys() v5.Keys { return nil }

func (a *App) queue(number string) *queueState {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	q := a.queues[number]
	if q == nil {
		q = &queueState{number: number, agents: map[string]*agentStats{}}
		a.queues[number] = q
	}
	return q
}

func (q *queueState) agent(ext string) *agentStats {
	s := q.agents[ext]
	if s == nil {
		s = &agentStats{}
		q.agents[ext] = s
	}
	return s
}

// add puts a caller in line by when their call started (q.mu held): a caller taken back after a
// restart keeps their place.
func (q *queueState) add(c *call) {
	if i := slices.IndexFunc(q.waiting, func(o *call) bool { return o.id == c.id }); i >= 0 {
		q.waiting[i] = c // the same call, taken over by a new goroutine (reconciliation)
		return
	}
	started := c.record().StartedAt
	i := slices.IndexFunc(q.waiting, func(o *call) bool { return o.record().StartedAt.After(started) })
	if i < 0 {
		q.waiting = append(q.waiting, c)
	} else {
		q.waiting = slices.Insert(q.waiting, i, c)
	}
}

// remove takes a caller out of line (q.mu held); it reports whether they were in it.
func (q *queueState) remove(c *call) bool {
	i := slices.Index(q.waiting, c)
	if i < 0 {
		return false
	}
	q.waiting = slices.Delete(q.waiting, i, i+1)
	return true
}

// wake tells every waiting caller that the queue changed (q.mu held).
func (q *queueState) wake() {
	for _, c := range q.waiting {
		c.mailbox.push(&queueWake{})
	}
}

// free reports whether an agent neither rings for a caller nor talks to one (q.mu held). A mark
// left by a call no goroutine drives any more (it ended while the control plane was away) does
// not count.
func (q *queueState) free(a *App, ext string) bool {
	s := q.agent(ext)
	if s.ringing != "" && !a.driving(s.ringing) {
		s.ringing = ""
	}
	if s.busy != "" && !a.driving(s.busy) {
		s.busy, s.lastEnd = "", time.Now()
	}
	return s.ringing == "" && s.busy == ""
}

// ringingFor reports whether an agent's phones ring for c now (q.mu held).
func (q *queueState) ringingFor(c *call) bool {
	for _, s := range q.agents {
		if s.ringing == c.id {
			return true
		}
	}
	return false
}

// stopRinging forgets the agents that rang for c (q.mu held).
func (q *queueState) stopRinging(c *call) {
	for _, s := range q.agents {
		if s.ringing == c.id {
			s.ringing = ""
		}
	}
}

var _ switchboard.QueueControl = (*App)(nil)

// QueueState returns the callers waiting in a queue and its agents' states.
func (a *App) QueueState(ctx context.Context, number string) (switchboard.QueueState, error) {
	if a.Queues == nil {
		return switchboard.QueueState{}, switchboard.Errorf(switchboard.EUNAVAILABLE, "call control has no queues")
	}
	def, err := a.Queues.Queue(ctx, number)
	if err != nil {
		return switchboard.QueueState{}, err
	}
	q := a.queue(number)
	q.mu.Lock()
	st := switchboard.QueueState{Number: number, Answered: q.answered, Abandoned: q.abandoned, TimedOut: q.timedOut,
		Callers: []switchboard.QueuedCaller{}, Agents: []switchboard.AgentState{}}
	for _, c := range q.waiting {
		qc := switchboard.QueuedCaller{ID: c.id, Caller: c.caller, Since: c.queueSince, Ringing: []string{}}
		for _, ag := range def.Agents {
			if s := q.agents[ag.Extension]; s != nil && s.ringing == c.id {
				qc.Ringing = append(qc.Ringing, ag.Extension)
			}
		}
		st.Callers = append(st.Callers, qc)
	}
	for _, ag := range def.Agents {
		q.free(a, ag.Extension) // clears marks of calls that ended unseen
	}
	stats := map[string]agentStats{}
	for ext, s := range q.agents {
		stats[ext] = *s
	}
	q.mu.Unlock()
	for _, ag := range def.Agents {
		s := stats[ag.Extension]
		as := switchboard.AgentState{Extension: ag.Extension, LoggedIn: ag.LoggedIn, Calls: s.calls, LastCall: s.lastEnd}
		switch {
		case !ag.LoggedIn:
			as.State = switchboard.AgentLoggedOut
		case s.busy != "":
			as.State = switchboard.AgentInCall
		case s.ringing != "":
			as.State = switchboard.AgentRinging
		default:
			as.State = a.agentPhoneState(ctx, ag.Extension)
		}
		st.Agents = append(st.Agents, as)
	}
	return st, nil
}

// agentPhoneState says whether an agent's phones could take a call: available, in a call (of
// another kind) or offline.
func (a *App) agentPhoneState(ctx context.Context, ext string) string {
	ep, err := a.Asterisk.Endpoint(ctx, ext)
	switch {
	case err != nil || ep.State != "online":
		return switchboard.AgentOffline
	case len(ep.Channels) > 0:
		return switchboard.AgentInCall
	}
	return switchboard.AgentAvailable
}
