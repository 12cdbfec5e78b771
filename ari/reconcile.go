package ari

import (
	"context"
	"fmt"
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
