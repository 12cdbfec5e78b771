package ari

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// LeaseVariable is the dialplan global through which call control tells the dialplan that it
// is watching the calls (see [switchboard-ended] in asterisk/extensions.conf).
const LeaseVariable = "SWITCHBOARD_LEASE"

// Lease keeps LeaseVariable a little ahead of the clock while call control is connected: it
// holds the time (in seconds since the epoch) until which call control promises to see every
// call end itself. Once it has run out (the control plane stopped, crashed or lost Asterisk),
// the dialplan notes in AstDB when each caller hangs up, and reconciliation reads those notes
// when call control is back: a call that ended unseen still gets its true end time.
type Lease struct {
	Asterisk  Asterisk
	Connected func() bool
	Logger    *slog.Logger
	// Every is how often the lease is renewed (default 1 s); each renewal runs until three
	// periods later, so that a renewal that comes a little late never lets it run out.
	Every time.Duration
}

func (l *Lease) every() time.Duration {
	if l.Every <= 0 {
		return time.Second
	}
	return l.Every
}

// Renew extends the lease from now.
func (l *Lease) Renew(ctx context.Context) error {
	until := time.Now().Add(3 * l.every()).Unix()
	return l.Asterisk.SetGlobal(ctx, LeaseVariable, strconv.FormatInt(until, 10))
}

// Run renews the lease while connected until ctx ends, then gives it up at once: the dialplan
// notes every call end from then on.
func (l *Lease) Run(ctx context.Context) {
	t := time.NewTicker(l.every())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := l.Asterisk.SetGlobal(rctx, LeaseVariable, "0"); err != nil && l.Logger != nil {
				l.Logger.Warn("could not give up the lease: calls ending in the next seconds are noted late", "error", err)
			}
			return
		case <-t.C:
			if l.Connected != nil && !l.Connected() {
				continue
			}
			if err := l.Renew(ctx); err != nil && ctx.Err() == nil && l.Logger != nil {
				l.Logger.Debug("lease not renewed", "error", err)
			}
		}
	}
}
