package ari

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/routing"
)

// step is one phase of a call (looking the callee up, ringing, bridged, in voicemail): it
// returns the next phase, or nil when the call ended or was stopped.
type step func(ctx context.Context) step

// call is one call driven by the App, from the caller entering Stasis to its end. Its fields
// are owned by its goroutine; what the API reads (the record) is guarded by mu.
type call struct {
	app        *App
	id         string
	caller     string // calling extension
	callee     string // dialled extension
	callerCh   string
	callerName string // e.g. PJSIP/1001-0000002a
	callerUp   bool   // the caller's channel is answered
	log        *slog.Logger
	mailbox    *mailbox

	route     routing.Step // the step being carried out
	legs      []*leg       // the ringing step's callee legs
	legSeq    int          // callee legs made so far (each gets the next number)
	talking   *leg         // the leg that answered
	bridge    string       // the call's bridge, once made
	inBridge  bool         // the caller is in it
	ringUntil time.Time    // when call control gives up on the ringing legs itself
	lookupErr error        // what went wrong asking Asterisk while routing
	playbacks int          // prompts played so far (each playback gets the next number)
	member    *member      // in a conference room: the participant the call is
	// In a queue: the line it waits in (nil otherwise), since when, and the agent who took it.
	queued     *queueState
	queueSince time.Time
	agent      string
	// A call from a trunk: what it brought (nil for a call from a phone). A call out through a
	// trunk: the caller ID it sends.
	inbound       *inboundCall
	outCallerID   string
	outCallerName string

	stop       chan struct{} // closed to stop driving the call: it is left to Asterisk as it is
	hangup     chan struct{} // closed when an admin asks for the call to end
	done       chan struct{} // closed when the goroutine has returned
	stopOnce   sync.Once
	hangupOnce sync.Once
	// hangupHandled is set (by the call's goroutine) once the admin's hang-up was acted upon
	// and only its effect is awaited.
	hangupHandled bool

	mu  sync.Mutex
	rec switchboard.CallRecord
}

// leg is one callee leg: a channel that rings one phone.
type leg struct {
	id      string
	name    string // its channel name, e.g. PJSIP/1002-0000002b
	device  string // the dial string it was created for
	inApp   bool   // its StasisStart has come: it can be bridged and dialed
	bridged bool   // it is in the call's bridge
	ended   bool
	cause   int // the Q.850 cause it ended with
}

// record returns what the API shows of the call.
func (c *call) record() switchboard.CallRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec
}

// setRecord applies a change to the call's record and queues it for the store.
func (c *call) setRecord(ch switchboard.CallChange) {
	ch.ID = c.id
	c.mu.Lock()
	c.rec = ch.Apply(c.rec)
	c.mu.Unlock()
	if c.app.Records != nil {
		c.app.Records.Record(ch)
	}
}

// finish records the end of the call now. outcome and reason, when not empty, are what call
// control decided; empty ones keep what was recorded before (a call in voicemail keeps what the
// dialplan helpers made of it).
func (c *call) finish(outcome switchboard.Outcome, reason string) {
	c.finishAt(time.Now(), outcome, reason)
}

func (c *call) finishAt(at time.Time, outcome switchboard.Outcome, reason string) {
	if c.queued != nil {
		if outcome == switchboard.Cancelled && reason == "" && c.agent == "" {
			reason = switchboard.ReasonAbandoned
		}
		c.leaveQueue(outcome)
	}
	c.setRecord(switchboard.CallChange{Outcome: outcome, Reason: reason, EndedAt: at})
	rec := c.record()
	if outcome != "" {
		c.app.Metrics.calls.WithLabelValues(string(outcome)).Inc()
	}
	c.log.Info("call ended", "outcome", rec.Outcome, "reason", rec.Reason, "duration", rec.EndedAt.Sub(rec.StartedAt))
}

// ownedLegs returns the legs the call owns now.
func (c *call) ownedLegs() []string {
	var out []string
	for _, l := range c.legs {
		out = append(out, l.id)
	}
	if c.talking != nil {
		out = append(out, c.talking.id)
	}
	return out
}

// detach stops driving the call without touching it: Asterisk keeps it as it is.
func (c *call) detach() { c.stopOnce.Do(func() { close(c.stop) }) }

func (c *call) adminHangup() { c.hangupOnce.Do(func() { close(c.hangup) }) }

// op is the context of a request to Asterisk: requests in flight finish even while the call is
// being stopped, so that Asterisk never holds half of a step (a leg created, never dialed).
func (c *call) op() context.Context { return context.WithoutCancel(c.app.ctx) }

// wake says why wait returned.
type wake int

const (
	wakeEvent  wake = iota // an event arrived
	wakeHangup             // an admin asked for the call to end
	wakeTimer              // the timer fired
	wakeStop               // the call is being stopped (shutdown, reconnection)
)

// wait returns the next event of the call, or why there is none: stopping comes first, then
// waiting events, then an admin's hang-up, then the timer.
func (c *call) wait(ctx context.Context, timer <-chan time.Time) (v5.Event, wake) {
	for {
		select {
		case <-c.stop:
			return nil, wakeStop
		case <-ctx.Done():
			return nil, wakeStop
		default:
		}
		if e := c.mailbox.next(); e != nil {
			return e, wakeEvent
		}
		hangup := c.hangup
		if c.hangupHandled {
			hangup = nil
		}
		select {
		case <-c.stop:
			return nil, wakeStop
		case <-ctx.Done():
			return nil, wakeStop
		case <-hangup:
			return nil, wakeHangup
		case <-timer:
			return nil, wakeTimer
		case <-c.mailbox.ready:
		}
	}
}

// suspend leaves the call to reconciliation when Asterisk stopped answering in the middle of a
// step: nothing is decided on a guess, and the next connection rebuilds the call from what
// Asterisk holds.
func (c *call) suspend(err error) step {
	c.log.Warn("Asterisk unreachable: the call waits for reconciliation", "error", err)
	if c.app.Reconnect != nil {
		c.app.Reconnect()
	}
	return nil
}

// left returns the channel an event says is leaving (hung up, or out of Stasis), or "". A
// channel leaving a bridge has not left the call: moving a channel between bridges (joining
// an answered leg, reconciliation making a bridge whole) takes it out of one first.
func left(e v5.Event) string {
	switch e := e.(type) {
	case *v5.ChannelHangupRequest:
		return e.Channel.ID
	case *v5.StasisEnd:
		return e.Channel.ID
	case *v5.ChannelDestroyed:
		return e.Channel.ID
	}
	return ""
}

// mailbox is an unbounded FIFO of events for one call.
type mailbox struct {
	mu    sync.Mutex
	items []v5.Event
	ready chan struct{}
}

func newMailbox() *mailbox { return &mailbox{ready: make(chan struct{}, 1)} }

func (m *mailbox) push(e v5.Event) {
	m.mu.Lock()
	m.items = append(m.items, e)
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default:
	}
}

// unshift puts events back at the front, in order (events read ahead of their time).
func (m *mailbox) unshift(events []v5.Event) {
	if len(events) == 0 {
		return
	}
	m.mu.Lock()
	m.items = append(slices.Clone(events), m.items...)
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default:
	}
}

// next returns the next event, or nil when the mailbox is empty.
func (m *mailbox) next() v5.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.items) == 0 {
		return nil
	}
	e := m.items[0]
	m.items[0] = nil
	m.items = m.items[1:]
	return e
}
