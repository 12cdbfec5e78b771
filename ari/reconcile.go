package ari

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// Reconcile rebuilds call control from what Asterisk holds, on start and after every
// reconnection. Calls driven so far are first let go (untouched in Asterisk); then every call
// is taken over again in the phase Asterisk shows it in: bridged calls are watched, ringing
// calls wait for their answer, a callee that answered while nobody watched is joined to its
// caller, a leg that ended unanswered sends its caller on to voicemail, a caller left waiting
// with nothing done is served from the start, and calls whose caller is gone are closed with
// the end time the dialplan noted (or, when it noted none, now). Legs and bridges of calls
// that no longer exist are removed. Events of the new connection wait until it returns.
func (a *App) Reconcile(ctx context.Context) error {
	a.init()
	detached := a.detachAll(10 * time.Second)
	snap, err := a.Asterisk.Snapshot(ctx)
	if err != nil {
		// Nothing is driven until the next connection: the calls are Asterisk's meanwhile.
		return fmt.Errorf("reconcile: %w", err)
	}
	recs := detached
	if a.Records != nil {
		stored, err := a.activeRecords(ctx)
		if err != nil {
			a.Logger.Warn("reconcile: call records unavailable, rebuilding calls from Asterisk alone", "error", err)
		}
		seen := map[string]bool{}
		for _, r := range detached {
			seen[r.ID] = true
		}
		for _, r := range stored {
			if !seen[r.ID] {
				recs = append(recs, r)
			}
		}
	}
	p := planReconcile(a.appName(), snap, recs)
	for _, ch := range p.hangup {
		a.Logger.Info("reconcile: hanging up a leg nobody drives", "channel", ch)
		a.Asterisk.Hangup(ctx, ch, "normal")
	}
	for _, b := range p.destroy {
		a.Logger.Info("reconcile: destroying a bridge nobody uses", "bridge", b)
		a.Asterisk.DestroyBridge(ctx, b)
	}
	for _, ad := range p.calls {
		a.adopt(ctx, ad)
	}
	return nil
}

// appName is the Stasis application's name, as the dialplan passes it to Stasis().
func (a *App) appName() string {
	if a.AppName != "" {
		return a.AppName
	}
	return "switchboard"
}

// detachAll stops driving every call and returns their records. Calls in the middle of a
// request to Asterisk finish it first (for at most timeout).
func (a *App) detachAll(timeout time.Duration) []switchboard.CallRecord {
	a.mu.Lock()
	calls := make([]*call, 0, len(a.calls))
	for _, c := range a.calls {
		calls = append(calls, c)
	}
	a.mu.Unlock()
	for _, c := range calls {
		c.detach()
	}
	deadline := time.After(timeout)
	var out []switchboard.CallRecord
	for _, c := range calls {
		select {
		case <-c.done:
		case <-deadline:
			a.Logger.Warn("reconcile: a call did not stop in time", "call_id", c.id)
		}
		out = append(out, c.record())
	}
	return out
}

// activeRecords returns every stored record of a call in progress.
func (a *App) activeRecords(ctx context.Context) ([]switchboard.CallRecord, error) {
	var out []switchboard.CallRecord
	f := switchboard.CallFilter{Active: true, Limit: 1000}
	for {
		page, err := a.Records.Store.Calls(ctx, f)
		if err != nil {
			return out, err
		}
		out = append(out, page.Calls...)
		if page.Next == "" {
			return out, nil
		}
		f.Before = page.Next
	}
}

// adoption is what reconciliation decided for one call.
type adoption struct {
	rec    switchboard.CallRecord
	caller Channel
	leg    Channel // zero when the call has no leg now
	legs   int     // the highest leg number the call used
	bridge Bridge  // zero when the call has no bridge now
	action adoptAction
}

// adoptAction says how a call is taken over.
type adoptAction int

const (
	adoptClose    adoptAction = iota // the caller is gone: close the record
	adoptTalk                        // caller and answered leg are bridged: watch them
	adoptConnect                     // the leg answered while nobody watched, unbridged: join them
	adoptRinging                     // the leg still rings: wait for its answer
	adoptNoAnswer                    // the leg ended unanswered while nobody watched: next step
	adoptLookup                      // the caller waits with nothing done yet: start over
	adoptDialplan                    // the caller is in the dialplan (voicemail): watch for its end
	adoptNew                         // a caller in Stasis that no record knows: a new call
)

func (x adoptAction) String() string {
	return [...]string{"close", "talk", "connect", "ringing", "no-answer", "lookup", "dialplan", "new"}[x]
}

// reconcilePlan is everything reconciliation does.
type reconcilePlan struct {
	calls   []adoption
	hangup  []string // legs of calls that no longer exist
	destroy []string // bridges no call uses
}

// planReconcile decides, from Asterisk's channels and bridges and the records of calls in
// progress, what becomes of every call. It is pure: Reconcile carries the plan out. A call's
// leg and bridge are found by their names (legID, bridgeID), so calls are rebuilt even without
// their records (the database down): the caller is then the other channel of the bridge, and
// what it dialled is in its Stasis arguments.
func planReconcile(app string, snap Snapshot, recs []switchboard.CallRecord) reconcilePlan {
	chans := map[string]Channel{}
	for _, ch := range snap.Channels {
		chans[ch.ID] = ch
	}
	bridges := map[string]Bridge{}
	for _, b := range snap.Bridges {
		bridges[b.ID] = b
	}
	legsOf := map[string][]Channel{}
	for _, ch := range snap.Channels {
		if id, _ := callOfLeg(ch.ID); id != "" && stasisArgs(app, ch) != nil {
			legsOf[id] = append(legsOf[id], ch)
		}
	}
	claimed := map[string]bool{} // channels and bridges a call accounts for
	var p reconcilePlan
	plan := func(rec switchboard.CallRecord) {
		ad := adoption{rec: rec}
		caller, hasCaller := chans[rec.CallerChannel]
		br, hasBridge := bridges[bridgeID(rec.ID)]
		legs := legsOf[rec.ID]
		claimed[rec.CallerChannel], claimed[bridgeID(rec.ID)] = true, true
		var up, ringing []Channel
		for _, l := range legs {
			claimed[l.ID] = true
			if _, n := callOfLeg(l.ID); n > ad.legs {
				ad.legs = n
			}
			switch l.State {
			case "Up":
				up = append(up, l)
			case "Down":
				// Created, but maybe never dialed (the control plane stopped in between): a
				// leg that has not started ringing is replaced by a new one.
			default:
				ringing = append(ringing, l)
			}
		}
		if hasBridge {
			ad.bridge = br
		}
		ad.caller = caller
		switch {
		case !hasCaller:
			ad.action = adoptClose
		case !caller.InStasis():
			ad.action = adoptDialplan
		case len(up) > 0:
			ad.leg = up[0]
			if hasBridge && slices.Contains(br.Channels, caller.ID) && slices.Contains(br.Channels, ad.leg.ID) {
				ad.action = adoptTalk
			} else {
				ad.action = adoptConnect
			}
		case len(ringing) > 0:
			ad.leg = ringing[0]
			ad.action = adoptRinging
		case len(legs) > 0:
			ad.action = adoptLookup
		case rec.CalleeChannel != "" || hasBridge:
			ad.action = adoptNoAnswer
		default:
			ad.action = adoptLookup
		}
		for _, l := range legs {
			if l.ID != ad.leg.ID {
				p.hangup = append(p.hangup, l.ID)
			}
		}
		if (ad.action == adoptClose || ad.action == adoptDialplan) && hasBridge {
			// What is left of the call in Stasis goes with it.
			p.destroy = append(p.destroy, br.ID)
			ad.bridge = Bridge{}
		}
		p.calls = append(p.calls, ad)
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		if rec.ID == "" || seen[rec.ID] {
			continue
		}
		seen[rec.ID] = true
		plan(rec)
	}
	// Calls Asterisk holds that no record knows of: their bridge names them.
	for _, b := range snap.Bridges {
		if claimed[b.ID] {
			continue
		}
		id := strings.TrimPrefix(b.ID, BridgePrefix)
		var caller Channel
		for _, ch := range b.Channels {
			if c, ok := chans[ch]; ok {
				if leg, _ := callOfLeg(ch); leg != id {
					caller = c
				}
			}
		}
		if dialled, ok := dialledBy(app, caller); ok {
			plan(switchboard.CallRecord{ID: id, CallerChannel: caller.ID, Caller: endpointOf(caller.Name),
				Callee: dialled, StartedAt: caller.Created})
			continue
		}
		claimed[b.ID] = true
		p.destroy = append(p.destroy, b.ID)
	}
	for _, ch := range snap.Channels {
		if claimed[ch.ID] {
			continue
		}
		switch args := stasisArgs(app, ch); {
		case len(args) >= 2 && args[0] == "callee":
			p.hangup = append(p.hangup, ch.ID)
		case len(args) >= 2 && args[0] == "call":
			p.calls = append(p.calls, adoption{action: adoptNew, caller: ch,
				rec: switchboard.CallRecord{Callee: args[1], StartedAt: ch.Created}})
		}
	}
	return p
}

// stasisArgs returns the arguments of a channel in app's Stasis ("switchboard,call,1002" →
// [call 1002]), or nil for a channel elsewhere.
func stasisArgs(app string, ch Channel) []string {
	if !ch.InStasis() {
		return nil
	}
	parts := strings.Split(ch.AppData, ",")
	if len(parts) < 2 || parts[0] != app {
		return nil
	}
	return parts[1:]
}

// dialledBy returns what a caller in app's Stasis dialled.
func dialledBy(app string, ch Channel) (string, bool) {
	args := stasisArgs(app, ch)
	if len(args) >= 2 && args[0] == "call" {
		return args[1], true
	}
	return "", false
}

// adopt carries out one adoption.
func (a *App) adopt(ctx context.Context, ad adoption) {
	if ad.action == adoptNew {
		a.Logger.Info("reconcile: serving a caller nobody recorded", "caller_channel", ad.caller.ID, "callee", ad.rec.Callee)
		a.startCall(ad.caller, ad.rec.Callee, "", ad.rec.StartedAt)
		return
	}
	if ad.action == adoptClose {
		a.closeUnseen(ctx, ad.rec)
		return
	}
	c := a.newCall(ad.rec.ID, ad.caller, ad.rec.Callee, ad.rec.StartedAt)
	c.mu.Lock()
	c.rec = ad.rec
	c.mu.Unlock()
	if c.caller == "" {
		c.caller = ad.rec.Caller
	}
	c.leg, c.legName, c.bridge, c.legs = ad.leg.ID, ad.leg.Name, ad.bridge.ID, ad.legs
	if c.leg != "" {
		a.own(c, c.leg)
	}
	c.log.Info("reconcile: adopted a call", "phase", ad.action.String(), "callee_channel", c.leg, "bridge", c.bridge)
	if u, err := a.Users.User(ctx, c.callee); err == nil {
		c.user = u
	}
	if c.record().StartedAt.IsZero() {
		c.setRecord(switchboard.CallChange{Caller: c.caller, Callee: c.callee, CallerChannel: c.callerCh, StartedAt: time.Now()})
	} else if ad.rec.Caller == "" {
		// Rebuilt from Asterisk alone: store what is known, in case the record was lost.
		c.setRecord(switchboard.CallChange{Caller: c.caller, Callee: c.callee, CallerChannel: c.callerCh,
			StartedAt: ad.rec.StartedAt, CalleeChannel: c.leg, Bridge: c.bridge})
	}
	var from step
	switch ad.action {
	case adoptTalk:
		if ad.rec.Outcome != switchboard.Answered {
			// Answered while nobody watched: the answer is noted now, when it is first seen.
			c.setRecord(switchboard.CallChange{Outcome: switchboard.Answered, AnsweredAt: time.Now()})
		}
		from = c.talk(time.Time{})
	case adoptConnect:
		from = c.joinBridge(ad.bridge, c.connect)
	case adoptRinging:
		from = c.joinBridge(ad.bridge, c.resumeRinging)
	case adoptNoAnswer:
		from = func(context.Context) step { return c.toVoicemail(switchboard.ReasonNoAnswer) }
	case adoptLookup:
		from = c.lookup
	case adoptDialplan:
		from = func(context.Context) step {
			if err := a.Asterisk.Subscribe(c.op(), c.callerCh); ErrorIsUnavailable(err) {
				return c.suspend(err)
			}
			return c.inDialplan
		}
	}
	a.run(c, from)
}

// closeUnseen closes the record of a call whose caller hung up while nobody watched.
func (a *App) closeUnseen(ctx context.Context, rec switchboard.CallRecord) {
	ended, err := a.Asterisk.TakeEndStamp(ctx, rec.CallerChannel)
	if err != nil {
		a.Logger.Debug("reconcile: no end stamp", "call_id", rec.ID, "error", err)
	}
	change := switchboard.CallChange{ID: rec.ID, EndedAt: ended}
	if ended.IsZero() || ended.Before(rec.StartedAt) {
		change.EndedAt = time.Now()
		if rec.Reason == "" {
			change.Reason = switchboard.ReasonEndedUnseen
		}
	}
	if rec.Outcome == "" {
		change.Outcome = switchboard.Cancelled
	}
	a.Logger.Info("reconcile: closing the record of a call that ended unseen", "call_id", rec.ID,
		"ended_at", change.EndedAt, "end_noted_by_dialplan", !ended.IsZero())
	if a.Records != nil {
		a.Records.Record(change)
	}
}

// joinBridge returns a step that makes sure caller and leg are both in the call's bridge
// (creating it when it is gone), then goes on with next.
func (c *call) joinBridge(have Bridge, next step) step {
	return func(ctx context.Context) step {
		ast := c.app.Asterisk
		if c.bridge == "" {
			c.bridge = bridgeID(c.id)
			if err := ast.CreateBridge(c.op(), c.bridge); err != nil {
				if ErrorIsUnavailable(err) {
					return c.suspend(err)
				}
				c.log.Error("create bridge failed", "error", err)
			}
		}
		var missing []string
		for _, ch := range []string{c.callerCh, c.leg} {
			if !slices.Contains(have.Channels, ch) {
				missing = append(missing, ch)
			}
		}
		if len(missing) > 0 {
			if err := ast.AddToBridge(c.op(), c.bridge, missing...); err != nil {
				if ErrorIsUnavailable(err) {
					return c.suspend(err)
				}
				c.log.Info("joining the bridge failed", "error", err) // a party left: its events follow
			}
		}
		return next
	}
}

// connect answers a caller whose callee answered while nobody watched (they are bridged now).
func (c *call) connect(ctx context.Context) step {
	if !c.callerUp {
		if err := c.app.Asterisk.Answer(c.op(), c.callerCh); ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
	}
	c.setRecord(switchboard.CallChange{Outcome: switchboard.Answered, AnsweredAt: time.Now(), Bridge: c.bridge})
	c.log.Info("joined a callee that answered while nobody watched")
	return c.talk(time.Time{})
}

// resumeRinging waits for a ringing call's answer with a fresh ring timeout of its own.
func (c *call) resumeRinging(ctx context.Context) step {
	timeout := time.Duration(c.user.RingTimeout) * time.Second
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	c.ringUntil = time.Now().Add(timeout + c.app.RingGrace)
	return c.ringing
}
