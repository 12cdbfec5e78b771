package ari_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/ari"
	"github.com/switchboard-pbx/switchboard/records"
	"github.com/switchboard-pbx/switchboard/records/inmem"
)

type directory map[string]switchboard.User

func (d directory) User(_ context.Context, ext string) (switchboard.User, error) {
	if u, ok := d[ext]; ok {
		return u, nil
	}
	return switchboard.User{}, switchboard.Errorf(switchboard.ENOTFOUND, "no user %s", ext)
}

var users = func() directory {
	d := directory{
		"1001": {Extension: "1001", Name: "Alice", RingTimeout: 20},
		"1002": {Extension: "1002", Name: "Bob", RingTimeout: 20, Voicemail: switchboard.Mailbox{Enabled: true, PIN: "1234"}},
		"1003": {Extension: "1003", Name: "Carol", RingTimeout: 20},
		"1004": {Extension: "1004", Name: "Dan", RingTimeout: 1, Voicemail: switchboard.Mailbox{Enabled: true, PIN: "1234"}},
		"1005": {Extension: "1005", Name: "Eve", RingTimeout: 20, Voicemail: switchboard.Mailbox{Enabled: true, PIN: "1234"}},
	}
	for ext, u := range d {
		u.Calls = switchboard.DefaultCallSettings()
		d[ext] = u
	}
	eve := d["1005"]
	eve.Calls.CallWaiting = false
	d["1005"] = eve
	return d
}()

// harness is call control over a simulated Asterisk, with its records in memory. restart
// replaces the App by a new one on the same Asterisk and store, as a restarted process would.
type harness struct {
	t        *testing.T
	ast      *simAsterisk
	store    *inmem.CallStore
	app      *ari.App
	registry *prometheus.Registry
	stop     context.CancelFunc
	writer   *records.Writer
	stopRecs context.CancelFunc
	numbers  ari.NumberPlan // the App's, from the next start
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, ast: newSim(), store: &inmem.CallStore{}}
	for _, ext := range []string{"1002", "1003", "1004", "1005"} {
		h.ast.setEndpoint(ext, ari.Endpoint{State: "online"})
	}
	h.start()
	t.Cleanup(h.shutdown)
	return h
}

// start runs a new App (and records writer), connected.
func (h *harness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rctx, rcancel := context.WithCancel(context.Background())
	h.writer = &records.Writer{Store: h.store}
	go h.writer.Run(rctx)
	h.registry = prometheus.NewRegistry()
	h.app = &ari.App{Asterisk: h.ast, Users: users, Rooms: rooms, Groups: groups, Queues: queues, Numbers: h.numbers,
		Records: h.writer, RingGrace: 50 * time.Millisecond, Metrics: ari.NewMetrics(h.registry)}
	h.ast.mu.Lock()
	h.ast.onConnect = nil
	h.ast.mu.Unlock()
	h.app.Start(ctx, h.ast)
	h.stop, h.stopRecs = cancel, rcancel
	h.ast.connect(ctx)
}

// shutdown stops the App as SIGTERM does, and waits for it.
func (h *harness) shutdown() {
	if h.stop == nil {
		return
	}
	h.stop()
	h.app.Wait()
	h.writerIdle()
	h.stopRecs()
	h.stop = nil
}

func (h *harness) restart() {
	h.shutdown()
	h.start()
}

// leg waits for the callee leg of the call whose caller channel is caller and returns it.
func (h *harness) leg(caller string) string {
	h.t.Helper()
	var id string
	eventually(h.t, "callee leg of "+caller, func() bool {
		r := h.recordOf(caller)
		if r.ID == "" || r.CalleeChannel == "" || !h.ast.has(r.CalleeChannel) {
			return false
		}
		id = r.CalleeChannel
		return true
	})
	return id
}

// recordOf returns the record of the call of a caller channel, as stored now.
func (h *harness) recordOf(caller string) switchboard.CallRecord {
	for _, r := range h.store.All() {
		if r.CallerChannel == caller {
			return r
		}
	}
	return switchboard.CallRecord{}
}

// writerIdle waits until the record writer has written every queued change.
func (h *harness) writerIdle() {
	h.t.Helper()
	select {
	case <-h.writer.Idle():
	case <-time.After(10 * time.Second):
		h.t.Fatal("the record writer did not write its queue within 10 s")
	}
}

// waitRecord waits until the stored record of caller's call satisfies cond and returns it.
func (h *harness) waitRecord(caller, what string, cond func(switchboard.CallRecord) bool) switchboard.CallRecord {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.writerIdle()
		r := h.recordOf(caller)
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("record of %s: want %s, have %+v", caller, what, r)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func ended(outcome switchboard.Outcome, reason string) func(switchboard.CallRecord) bool {
	return func(r switchboard.CallRecord) bool {
		return !r.Active() && r.Outcome == outcome && r.Reason == reason
	}
}

func (h *harness) activeGauge() float64 {
	mfs, _ := h.registry.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "switchboard_calls_active" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// bridgedCall places a call from 1001 to 1002 and answers it.
func (h *harness) bridgedCall() (caller, leg string) {
	h.t.Helper()
	caller = h.ast.dial("1001", "1002")
	leg = h.leg(caller)
	h.ast.answer(h.t, leg)
	h.waitRecord(caller, "answered", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
	eventually(h.t, "the caller's hangup handler set", func() bool { return h.ast.hasHandler(caller) })
	return caller, leg
}

func index(ops []string, prefix string) int {
	return slices.IndexFunc(ops, func(op string) bool { return strings.HasPrefix(op, prefix) })
}

func count(ops []string, prefix string) int {
	n := 0
	for _, op := range ops {
		if strings.HasPrefix(op, prefix) {
			n++
		}
	}
	return n
}

func TestAnsweredCall(t *testing.T) {
	for _, hangsUp := range []string{"Caller", "Callee"} {
		t.Run(hangsUp+"HangsUp", func(t *testing.T) {
			h := newHarness(t)
			caller, leg := h.bridgedCall()
			ops := h.ast.opsSince(0)
			// Both parties are in the bridge before the leg is dialed: the callee's ringing and
			// answer reach the caller through it, with or without the control plane.
			if add, dial := index(ops, "add "), index(ops, "dial "+leg); add < 0 || dial < add || !strings.Contains(ops[add], caller) {
				t.Errorf("operations %q: want the caller and the leg bridged before the dial", ops)
			}
			if h.ast.state(caller) != "Up" {
				t.Errorf("caller %s, want Up (answered through the bridge)", h.ast.state(caller))
			}
			if n := count(ops, "answer "); n != 0 {
				t.Errorf("call control answered the caller itself (%d times): the bridge does that", n)
			}
			if hangsUp == "Caller" {
				h.ast.end(caller, 16)
			} else {
				h.ast.end(leg, 16)
			}
			r := h.waitRecord(caller, "answered and ended", ended(switchboard.Answered, ""))
			if r.AnsweredAt.IsZero() || r.CalleeChannel != leg || !strings.HasPrefix(r.Bridge, ari.BridgePrefix) {
				t.Errorf("record %+v", r)
			}
			eventually(t, "both legs and the bridge gone", func() bool {
				return !h.ast.has(caller) && !h.ast.has(leg) && h.ast.bridgeCount() == 0
			})
			eventually(t, "no call active", func() bool { return len(h.app.ActiveCalls()) == 0 && h.activeGauge() == 0 })
		})
	}
}

func TestUnansweredCallsGoToVoicemail(t *testing.T) {
	tests := []struct {
		name    string
		callee  string
		setup   func(h *harness)
		refuse  func(h *harness, leg string) // nil: no leg is made
		label   string
		outcome switchboard.Outcome
		reason  string
	}{
		{name: "Busy", callee: "1002", refuse: func(h *harness, leg string) { h.ast.ring(h.t, leg); h.ast.end(leg, 17) },
			label: "busy", outcome: switchboard.Voicemail, reason: switchboard.ReasonBusy},
		{name: "Declined", callee: "1002", refuse: func(h *harness, leg string) { h.ast.ring(h.t, leg); h.ast.end(leg, 21) },
			label: "unavailable", outcome: switchboard.Voicemail, reason: switchboard.ReasonDeclined},
		// Asterisk's dial timeout ends the leg with cause 19.
		{name: "NoAnswer", callee: "1002", refuse: func(h *harness, leg string) { h.ast.ring(h.t, leg); h.ast.end(leg, 19) },
			label: "unavailable", outcome: switchboard.Voicemail, reason: switchboard.ReasonNoAnswer},
		// The dial timeout never came: call control's own timer (1 s + grace) ends the ringing.
		{name: "OwnTimer", callee: "1004", refuse: func(h *harness, leg string) { h.ast.ring(h.t, leg) },
			label: "unavailable", outcome: switchboard.Voicemail, reason: switchboard.ReasonNoAnswer},
		{name: "Offline", callee: "1002", setup: func(h *harness) { h.ast.setEndpoint("1002", ari.Endpoint{State: "offline"}) },
			label: "unavailable", outcome: switchboard.Voicemail, reason: switchboard.ReasonOffline},
		// Without call waiting a user in a call is busy.
		{name: "InACall", callee: "1005", setup: func(h *harness) {
			h.ast.setEndpoint("1005", ari.Endpoint{State: "online", Channels: []string{"other"}})
		}, label: "busy", outcome: switchboard.Voicemail, reason: switchboard.ReasonBusy},
		// No mailbox: the dialplan plays an announcement; the record says missed.
		{name: "NoMailbox", callee: "1003", refuse: func(h *harness, leg string) { h.ast.ring(h.t, leg); h.ast.end(leg, 19) },
			label: "unavailable", outcome: switchboard.Missed, reason: switchboard.ReasonNoAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.setup != nil {
				tt.setup(h)
			}
			caller := h.ast.dial("1001", tt.callee)
			if tt.refuse != nil {
				tt.refuse(h, h.leg(caller))
			}
			r := h.waitRecord(caller, "to voicemail", func(r switchboard.CallRecord) bool { return r.Outcome == tt.outcome })
			if r.Reason != tt.reason || !r.Active() {
				t.Errorf("record %+v: want reason %s, still in progress", r, tt.reason)
			}
			ops := h.ast.opsSince(0)
			sub, cont := index(ops, "subscribe "+caller), index(ops, "continue "+caller+" "+tt.callee+" "+tt.label)
			if cont < 0 || sub < 0 || sub > cont {
				t.Errorf("operations %q: want subscribe, then continue at %s", ops, tt.label)
			}
			if !h.ast.has(caller) {
				t.Error("the caller was hung up instead of reaching voicemail")
			}
			// The caller leaves voicemail: the record ends although no helper said so.
			h.ast.end(caller, 16)
			h.waitRecord(caller, "ended", func(r switchboard.CallRecord) bool { return !r.Active() && r.Outcome == tt.outcome })
			eventually(t, "bridges gone", func() bool { return h.ast.bridgeCount() == 0 })
			eventually(t, "no call active", func() bool { return len(h.app.ActiveCalls()) == 0 })
		})
	}
}

// Busy without a mailbox is a busy signal (486) to the caller, not an announcement.
func TestBusyWithoutMailboxIsABusySignal(t *testing.T) {
	h := newHarness(t)
	caller := h.ast.dial("1001", "1003")
	leg := h.leg(caller)
	h.ast.ring(t, leg)
	h.ast.end(leg, 17)
	h.waitRecord(caller, "missed, busy", ended(switchboard.Missed, switchboard.ReasonBusy))
	if ops := h.ast.opsSince(0); index(ops, "hangup "+caller+" busy") < 0 || index(ops, "continue ") >= 0 {
		t.Errorf("operations %q: want the caller hung up (busy), not sent to voicemail", ops)
	}
}

func TestCallerHangsUpWhileRinging(t *testing.T) {
	h := newHarness(t)
	caller := h.ast.dial("1001", "1002")
	leg := h.leg(caller)
	h.ast.ring(t, leg)
	h.ast.end(caller, 16)
	h.waitRecord(caller, "cancelled", ended(switchboard.Cancelled, ""))
	eventually(t, "leg and bridge gone", func() bool { return !h.ast.has(leg) && h.ast.bridgeCount() == 0 })
}

func TestUnknownExtensionRingsNobody(t *testing.T) {
	h := newHarness(t)
	caller := h.ast.dial("1001", "4040")
	h.waitRecord(caller, "failed", ended(switchboard.Failed, switchboard.ReasonUnknownExtension))
	ops := h.ast.opsSince(0)
	if count(ops, "create ") != 0 || count(ops, "hangup "+caller) != 1 {
		t.Errorf("operations %q: want the caller refused and nothing created", ops)
	}
}

// Stopping call control (SIGTERM) touches no call: no hang-up, no bridge destroyed, no record
// closed. Ringing and bridged calls go on in Asterisk: the ringing one connects on its own when
// the callee answers, and each ends the other leg when one hangs up.
func TestShutdownLeavesCallsAlone(t *testing.T) {
	h := newHarness(t)
	talking, talkingLeg := h.bridgedCall()
	ringingCaller := h.ast.dial("1001", "1003")
	ringingLeg := h.leg(ringingCaller)
	h.ast.ring(t, ringingLeg)
	// The caller's hangup handler is set off the path of the dial: wait for it, or it lands in
	// the operations counted below.
	eventually(t, "the ringing caller's hangup handler set", func() bool { return h.ast.hasHandler(ringingCaller) })
	before := h.ast.opCount()
	h.shutdown()
	if ops := h.ast.opsSince(before); len(ops) != 0 {
		t.Errorf("operations at shutdown: %q", ops)
	}
	if h.ast.bridgeCount() != 2 || !h.ast.has(talking) || !h.ast.has(ringingLeg) {
		t.Fatalf("calls were torn down: %d bridges", h.ast.bridgeCount())
	}
	for _, c := range []string{talking, ringingCaller} {
		if r := h.recordOf(c); !r.Active() {
			t.Errorf("record closed at shutdown: %+v", r)
		}
	}
	if lease := h.ast.global(ari.LeaseVariable); lease != "0" {
		t.Errorf("lease %q at shutdown, want 0 (given up)", lease)
	}
	// Without the control plane: the ringing call connects, the bridged one ends both legs.
	h.ast.answer(t, ringingLeg)
	if h.ast.state(ringingCaller) != "Up" {
		t.Error("the ringing call did not connect without the control plane")
	}
	h.ast.end(talkingLeg, 16)
	if h.ast.has(talking) {
		t.Error("the callee's hang-up did not end the caller without the control plane")
	}
}

// A restart adopts every call in the phase Asterisk shows it in.
func TestRestartAdoptsCalls(t *testing.T) {
	t.Run("Bridged", func(t *testing.T) {
		h := newHarness(t)
		caller, leg := h.bridgedCall()
		h.restart()
		if n := len(h.app.ActiveCalls()); n != 1 {
			t.Fatalf("%d calls after restart, want 1", n)
		}
		h.ast.end(caller, 16)
		h.waitRecord(caller, "answered and ended", ended(switchboard.Answered, ""))
		eventually(t, "leg and bridge gone", func() bool { return !h.ast.has(leg) && h.ast.bridgeCount() == 0 })
	})
	t.Run("AnsweredWhileAway", func(t *testing.T) {
		h := newHarness(t)
		caller := h.ast.dial("1001", "1002")
		leg := h.leg(caller)
		h.ast.ring(t, leg)
		h.shutdown()
		h.ast.answer(t, leg) // nobody watching: the bridge connects them
		h.start()
		r := h.waitRecord(caller, "answered", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
		if r.AnsweredAt.IsZero() {
			t.Errorf("record %+v: no answer time", r)
		}
		ops := h.ast.opsSince(0)
		if n := count(ops, "create "); n != 1 {
			t.Errorf("%d legs created, want 1 (the callee must not ring twice): %q", n, ops)
		}
		h.ast.end(leg, 16)
		h.waitRecord(caller, "ended", ended(switchboard.Answered, ""))
		eventually(t, "caller gone", func() bool { return !h.ast.has(caller) && h.ast.bridgeCount() == 0 })
	})
	t.Run("StillRinging", func(t *testing.T) {
		h := newHarness(t)
		caller := h.ast.dial("1001", "1002")
		leg := h.leg(caller)
		h.ast.ring(t, leg)
		h.restart()
		h.ast.answer(t, leg)
		h.waitRecord(caller, "answered", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
		h.ast.end(caller, 16)
		h.waitRecord(caller, "ended", ended(switchboard.Answered, ""))
		if n := count(h.ast.opsSince(0), "create "); n != 1 {
			t.Errorf("%d legs created, want 1", n)
		}
	})
	t.Run("RefusedWhileAway", func(t *testing.T) {
		h := newHarness(t)
		caller := h.ast.dial("1001", "1002")
		leg := h.leg(caller)
		h.ast.ring(t, leg)
		h.shutdown()
		h.ast.end(leg, 17) // only the leg: its handler leaves an unanswered caller alone
		if !h.ast.has(caller) {
			t.Fatal("the refusing callee's hangup handler ended the caller")
		}
		h.start()
		h.waitRecord(caller, "voicemail", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Voicemail })
		if index(h.ast.opsSince(0), "continue "+caller+" 1002 unavailable") < 0 {
			t.Errorf("operations %q: want the caller sent to voicemail", h.ast.opsSince(0))
		}
	})
	t.Run("CallerLeftWhileAway", func(t *testing.T) {
		h := newHarness(t)
		caller, leg := h.bridgedCall()
		h.shutdown()
		h.ast.end(caller, 16) // its hangup handler ends the leg too
		endedAt := time.Now().Truncate(time.Millisecond)
		h.ast.setStamp(caller, endedAt)
		if h.ast.has(leg) {
			t.Fatal("the caller's hangup handler did not end the leg")
		}
		h.start()
		r := h.waitRecord(caller, "ended", ended(switchboard.Answered, ""))
		if !r.EndedAt.Equal(endedAt) {
			t.Errorf("ended at %v, want %v (the time the dialplan noted)", r.EndedAt, endedAt)
		}
		eventually(t, "bridge gone", func() bool { return h.ast.bridgeCount() == 0 })
	})
	t.Run("EndedUnseen", func(t *testing.T) {
		h := newHarness(t)
		caller := h.ast.dial("1001", "1002")
		h.ast.ring(t, h.leg(caller))
		h.shutdown()
		h.ast.end(caller, 16) // no stamp: the dialplan did not note it
		h.start()
		h.waitRecord(caller, "closed", ended(switchboard.Cancelled, switchboard.ReasonEndedUnseen))
	})
	t.Run("InVoicemail", func(t *testing.T) {
		h := newHarness(t)
		h.ast.setEndpoint("1002", ari.Endpoint{State: "offline"})
		caller := h.ast.dial("1001", "1002")
		h.waitRecord(caller, "voicemail", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Voicemail })
		h.restart()
		h.ast.end(caller, 16)
		h.waitRecord(caller, "ended", func(r switchboard.CallRecord) bool { return !r.Active() && r.Outcome == switchboard.Voicemail })
	})
	t.Run("NobodyRecordedIt", func(t *testing.T) {
		h := newHarness(t)
		h.shutdown()
		caller := h.ast.dial("1001", "1002") // entered Stasis while nobody listened
		h.start()
		leg := h.leg(caller)
		h.ast.answer(t, leg)
		h.waitRecord(caller, "answered", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
	})
}

// Reconnection (events lost meanwhile) leaves no call, map entry, active record or gauge
// behind for calls that ended, and keeps the ones that did not.
func TestReconnectAfterLostEvents(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	gone, _ := h.bridgedCall()
	kept, keptLeg := h.bridgedCall()
	ringing := h.ast.dial("1001", "1003")
	h.ast.ring(t, h.leg(ringing))
	h.ast.disconnect()
	h.ast.end(gone, 16)
	h.ast.end(ringing, 16)
	h.ast.connect(ctx)
	h.waitRecord(gone, "ended", ended(switchboard.Answered, switchboard.ReasonEndedUnseen))
	h.waitRecord(ringing, "ended", ended(switchboard.Cancelled, switchboard.ReasonEndedUnseen))
	if calls := h.app.ActiveCalls(); len(calls) != 1 || calls[0].CallerChannel != kept {
		t.Fatalf("active calls %+v, want only %s", calls, kept)
	}
	if g := h.activeGauge(); g != 1 {
		t.Errorf("active gauge %v, want 1", g)
	}
	h.ast.end(keptLeg, 16)
	h.waitRecord(kept, "ended", ended(switchboard.Answered, ""))
	eventually(t, "nothing left", func() bool {
		return len(h.app.ActiveCalls()) == 0 && h.activeGauge() == 0 && h.ast.bridgeCount() == 0
	})
}

// A leg nobody owns is hung up; a second StasisStart of a caller is ignored.
func TestStasisStartOfUnownedChannels(t *testing.T) {
	h := newHarness(t)
	h.ast.addChannel(ari.Channel{ID: "stray-callee", Name: "PJSIP/1002-1", State: "Up", App: "Stasis"})
	h.ast.emit(&v5.StasisStart{Channel: v5.ChannelData{ID: "stray-callee"}, Args: []string{"callee", "gone"}})
	eventually(t, "stray leg hung up", func() bool { return !h.ast.has("stray-callee") })
	caller := h.ast.dial("1001", "1002")
	h.leg(caller)
	h.ast.emit(&v5.StasisStart{Channel: v5.ChannelData{ID: caller, Name: "PJSIP/1001-x"}, Args: []string{"call", "1002"}})
	time.Sleep(20 * time.Millisecond) // give a wrong second call the time to start
	if n := count(h.ast.opsSince(0), "create "); n != 1 || len(h.app.ActiveCalls()) != 1 {
		t.Errorf("%d legs, %d calls after a repeated StasisStart; want 1 and 1", n, len(h.app.ActiveCalls()))
	}
}

// DELETE /api/v1/calls/{id} works in every phase.
func TestAdminHangupInEveryPhase(t *testing.T) {
	phases := []struct {
		name    string
		place   func(h *harness) string
		outcome switchboard.Outcome
	}{
		{"Ringing", func(h *harness) string {
			c := h.ast.dial("1001", "1002")
			h.ast.ring(h.t, h.leg(c))
			return c
		}, switchboard.Cancelled},
		{"Bridged", func(h *harness) string { c, _ := h.bridgedCall(); return c }, switchboard.Answered},
		{"Voicemail", func(h *harness) string {
			h.ast.setEndpoint("1002", ari.Endpoint{State: "offline"})
			c := h.ast.dial("1001", "1002")
			h.waitRecord(c, "voicemail", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Voicemail })
			return c
		}, switchboard.Voicemail},
	}
	for _, p := range phases {
		t.Run(p.name, func(t *testing.T) {
			h := newHarness(t)
			caller := p.place(h)
			id := h.recordOf(caller).ID
			if err := h.app.Hangup(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			h.waitRecord(caller, "ended", func(r switchboard.CallRecord) bool { return !r.Active() && r.Outcome == p.outcome })
			eventually(t, "channels and bridge gone", func() bool {
				return !h.ast.has(caller) && !h.ast.has(id+ari.LegMark) && h.ast.bridgeCount() == 0
			})
			if err := h.app.Hangup(context.Background(), id); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
				t.Errorf("second hang-up: %v, want not found", err)
			}
		})
	}
}

// When Asterisk stops answering mid-step, call control decides nothing, asks for a new
// connection, and the reconciliation of that connection takes the call over.
func TestUnreachableAsteriskLeavesTheCallToReconciliation(t *testing.T) {
	h := newHarness(t)
	h.ast.mu.Lock()
	h.ast.down = true
	h.ast.mu.Unlock()
	caller := h.ast.dial("1001", "1002")
	eventually(t, "reconnect asked for", func() bool {
		h.ast.mu.Lock()
		defer h.ast.mu.Unlock()
		return h.ast.reconnects > 0
	})
	if r := h.recordOf(caller); !r.Active() || r.Outcome != "" {
		t.Errorf("record %+v: decided while Asterisk was unreachable", r)
	}
	h.ast.mu.Lock()
	h.ast.down = false
	h.ast.mu.Unlock()
	h.ast.connect(context.Background())
	leg := h.leg(caller)
	h.ast.answer(t, leg)
	h.waitRecord(caller, "answered", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
}

// Every registered phone rings; the first to answer is bridged (the caller answered by call
// control, since the legs rang outside the bridge) and the others are told the call was
// answered elsewhere.
func TestSeveralPhonesRingAtOnce(t *testing.T) {
	h := newHarness(t)
	h.ast.setPhones("1002", 3)
	caller := h.ast.dial("1001", "1002")
	var legs []string
	eventually(t, "three legs dialed", func() bool {
		legs = nil
		for _, op := range h.ast.opsSince(0) {
			if id, ok := strings.CutPrefix(op, "dial "); ok {
				legs = append(legs, id)
			}
		}
		return len(legs) == 3
	})
	for _, l := range legs {
		h.ast.ring(t, l)
	}
	if index(h.ast.opsSince(0), "ring "+caller) < 0 {
		t.Error("no ringback to the caller while three phones ring outside the bridge")
	}
	h.ast.answer(t, legs[1])
	r := h.waitRecord(caller, "answered", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
	if r.CalleeChannel != legs[1] {
		t.Errorf("record names %s as the callee's leg, want the one that answered (%s)", r.CalleeChannel, legs[1])
	}
	ops := h.ast.opsSince(0)
	for _, l := range []string{legs[0], legs[2]} {
		if index(ops, "hangup "+l+" answered_elsewhere") < 0 {
			t.Errorf("leg %s not told the call was answered elsewhere: %q", l, ops)
		}
	}
	eventually(t, "caller answered and bridged", func() bool { return h.ast.state(caller) == "Up" })
	if index(ops, "add sb-") < 0 || index(ops, "answer "+caller) < 0 {
		t.Errorf("operations %q: want the answered leg bridged and the caller answered", ops)
	}
	h.ast.end(legs[1], 16)
	h.waitRecord(caller, "ended", ended(switchboard.Answered, ""))
}

// A phone in a call still rings with call waiting (the default); without it the caller finds
// the user busy.
func TestCallWaiting(t *testing.T) {
	h := newHarness(t)
	h.ast.setEndpoint("1002", ari.Endpoint{State: "online", Channels: []string{"in-a-call"}})
	caller := h.ast.dial("1001", "1002")
	h.ast.answer(t, h.leg(caller))
	h.waitRecord(caller, "answered", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
}

// Do not disturb: no phone rings, the caller reaches the busy greeting.
func TestDoNotDisturb(t *testing.T) {
	h := newHarness(t)
	u := users["1002"]
	u.Calls.DND = true
	h.app.Users = directory{"1002": u, "1001": users["1001"]}
	caller := h.ast.dial("1001", "1002")
	h.waitRecord(caller, "voicemail", func(r switchboard.CallRecord) bool {
		return r.Outcome == switchboard.Voicemail && r.Reason == switchboard.ReasonDND
	})
	ops := h.ast.opsSince(0)
	if count(ops, "create ") != 0 || index(ops, "continue "+caller+" 1002 busy") < 0 {
		t.Errorf("operations %q: want no leg and the busy greeting", ops)
	}
}

// No answer, then the no-answer forward: the next user's phone rings in the same bridge, and
// the record says where the call went.
func TestForwardOnNoAnswer(t *testing.T) {
	h := newHarness(t)
	bob := users["1002"]
	bob.Calls.Forwards.NoAnswer = switchboard.Forward{Enabled: true, Destination: "1003"}
	h.app.Users = directory{"1001": users["1001"], "1002": bob, "1003": users["1003"]}
	caller := h.ast.dial("1001", "1002")
	first := h.leg(caller)
	h.ast.ring(t, first)
	h.ast.end(first, 19) // rang out
	var second string
	eventually(t, "the forward's leg", func() bool {
		r := h.recordOf(caller)
		second = r.CalleeChannel
		return second != "" && second != first && h.ast.has(second)
	})
	if !strings.HasSuffix(second, "-leg02") {
		t.Errorf("second leg %s, want the call's leg number 2", second)
	}
	h.ast.answer(t, second)
	r := h.waitRecord(caller, "answered", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
	if fmt.Sprint(r.ForwardedTo) != "[1003]" {
		t.Errorf("record forwarded to %v, want [1003]", r.ForwardedTo)
	}
	if h.ast.state(caller) != "Up" {
		t.Error("the caller was not answered through the bridge")
	}
	if n := count(h.ast.opsSince(0), "bridge "); n != 1 {
		t.Errorf("%d bridges made, want 1 (the forward reuses the call's bridge)", n)
	}
}

// transferEvent is what Asterisk sends when a phone REFERs (PJSIP_TRANSFER_HANDLING(ari-only)).
func transferEvent(source, to string, consult, target *v5.ChannelData) *ari.ChannelTransfer {
	e := &ari.ChannelTransfer{}
	e.Type = "ChannelTransfer"
	e.ReferredBy.Source = v5.ChannelData{ID: source}
	e.ReferTo.Requested.Destination = to
	e.ReferTo.Destination, e.ReferTo.Connected = consult, target
	return e
}

// recordFrom waits for the record of the call a transfer made from the call from.
func (h *harness) recordFrom(from string, what string, cond func(switchboard.CallRecord) bool) switchboard.CallRecord {
	h.t.Helper()
	var found switchboard.CallRecord
	eventually(h.t, what, func() bool {
		h.writerIdle()
		for _, r := range h.store.All() {
			if r.TransferredFrom == from && cond(r) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

// Blind transfer by the callee: the caller goes on as a new call to the target, in a bridge of
// its own; the transferring phone is told it is done and hung up; its hang-up ends nothing.
func TestBlindTransfer(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.bridgedCall()
	x := h.recordOf(alice).ID
	h.ast.emit(transferEvent(bob, "1003", nil, nil))
	h.waitRecord(alice, "the first call ended as transferred", func(r switchboard.CallRecord) bool {
		return r.ID == x && !r.Active() && r.Reason == switchboard.ReasonTransferred
	})
	y := h.recordFrom(x, "the transferred call", func(r switchboard.CallRecord) bool { return r.CalleeChannel != "" })
	if y.Caller != "1001" || y.Callee != "1003" || y.CallerChannel != alice {
		t.Errorf("transferred call %+v: want 1001 calling 1003 on Alice's channel", y)
	}
	eventually(t, "Bob hung up", func() bool { return !h.ast.has(bob) })
	if !h.ast.has(alice) {
		t.Fatal("the transferee was hung up")
	}
	// The transferee hears ringing once the new call rings, a moment after its leg exists.
	for _, want := range []string{"progress " + bob + " channel_progress", "set " + bob + " CHANNEL(hangup_handler_wipe)",
		"progress " + bob + " channel_answered", "ring " + alice} {
		eventually(t, "operation "+want, func() bool { return index(h.ast.opsSince(0), want) >= 0 })
	}
	h.ast.answer(t, y.CalleeChannel)
	h.recordFrom(x, "the transferred call answered", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
	h.ast.end(alice, 16)
	h.recordFrom(x, "the transferred call ended", func(r switchboard.CallRecord) bool { return !r.Active() && r.Outcome == switchboard.Answered })
	eventually(t, "nothing left", func() bool {
		return !h.ast.has(y.CalleeChannel) && h.ast.bridgeCount() == 0 && len(h.app.ActiveCalls()) == 0
	})
}

// Attended transfer: Bob talks to Alice (call X) and to Carol (call Z, his consultation) and
// joins them: Alice and Carol talk in a new call; both of Bob's channels go.
func TestAttendedTransfer(t *testing.T) {
	h := newHarness(t)
	alice, bob := h.bridgedCall()
	x := h.recordOf(alice).ID
	bob2 := h.ast.dial("1002", "1003")
	carol := h.leg(bob2)
	h.ast.answer(t, carol)
	h.waitRecord(bob2, "consultation answered", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
	z := h.recordOf(bob2).ID
	h.ast.emit(transferEvent(bob, "1003", &v5.ChannelData{ID: bob2}, &v5.ChannelData{ID: carol, Name: "PJSIP/1003-x", State: "Up"}))
	w := h.recordFrom(x, "the joined call", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
	if w.CallerChannel != alice || w.CalleeChannel != carol || w.Callee != "1003" {
		t.Errorf("joined call %+v: want Alice's channel with Carol's", w)
	}
	for _, id := range []string{x, z} {
		if r, _ := h.store.Call(context.Background(), id); r.Active() || r.Reason != switchboard.ReasonTransferred {
			eventually(t, "call "+id+" ended as transferred", func() bool {
				r, _ := h.store.Call(context.Background(), id)
				return !r.Active() && r.Reason == switchboard.ReasonTransferred
			})
		}
	}
	eventually(t, "Bob's two channels hung up", func() bool { return !h.ast.has(bob) && !h.ast.has(bob2) })
	if !h.ast.has(alice) || !h.ast.has(carol) {
		t.Fatal("a party of the joined call was hung up")
	}
	// Carol hangs up: Alice's channel goes with hers, and the joined call ends.
	h.ast.end(carol, 16)
	eventually(t, "Alice hung up with Carol", func() bool { return !h.ast.has(alice) })
	h.recordFrom(x, "the joined call ended", func(r switchboard.CallRecord) bool { return !r.Active() })
	eventually(t, "nothing left", func() bool { return h.ast.bridgeCount() == 0 && len(h.app.ActiveCalls()) == 0 })
}
