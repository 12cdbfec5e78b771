package ari

import (
	"context"
	"log/slog"
	"sync"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"
	"github.com/google/uuid"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// calleeSuffix ends the ID of every callee leg, so that reconciliation can tell the legs call
// control created from the callers that entered on their own.
const calleeSuffix = "-callee"

// call is one call driven by the App, from StasisStart of the caller to the end.
type call struct {
	app        *App
	id         string
	caller     string
	callee     string
	callerCh   string
	callerName string // e.g. PJSIP/1001-0000002a
	log        *slog.Logger
	mailbox    *mailbox
	cancelled  chan struct{}
	adminOnce  sync.Once

	mu         sync.Mutex // guards what snapshot reads
	calleeCh   string
	calleeName string
	bridge     string
	started    time.Time
	answered   time.Time
	ended      time.Time
	outcome    Outcome
	reason     string
}

func (c *call) snapshot() CallRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CallRecord{ID: c.id, Caller: c.caller, Callee: c.callee, Outcome: c.outcome, Reason: c.reason,
		CallerChannel: c.callerCh, CalleeChannel: c.calleeCh, Bridge: c.bridge,
		StartedAt: c.started, AnsweredAt: c.answered, EndedAt: c.ended}
}

// set updates the record under the lock and saves a snapshot.
func (c *call) set(change func(c *call)) {
	c.mu.Lock()
	change(c)
	c.mu.Unlock()
	if c.app.Recorder != nil {
		c.app.Recorder.Save(c.snapshot())
	}
}

// finish records the end of the call with its outcome.
func (c *call) finish(outcome Outcome, reason string) {
	c.set(func(c *call) {
		if c.outcome == "" {
			c.outcome = outcome
		}
		if c.reason == "" {
			c.reason = reason
		}
		c.ended = time.Now()
	})
	rec := c.snapshot()
	c.app.Metrics.calls.WithLabelValues(string(rec.Outcome)).Inc()
	c.log.Info("call ended", "outcome", rec.Outcome, "reason", rec.Reason, "duration", rec.EndedAt.Sub(rec.StartedAt))
}

func (c *call) adminHangup() { c.adminOnce.Do(func() { close(c.cancelled) }) }

// run drives the call: who is called, are they there, ring, bridge or voicemail.
func (c *call) run(ctx context.Context) {
	c.set(func(*call) {})
	c.log.Info("call started")
	user, err := c.app.Users.User(ctx, c.callee)
	switch {
	case switchboard.ErrorCode(err) == switchboard.ENOTFOUND:
		// The dialplan only routes provisioned extensions, but a user may be deleted between
		// the dialplan's reload and this call. Never ring anyone else: 404 to the caller.
		c.log.Info("unknown extension")
		c.app.Asterisk.Hangup(ctx, c.callerCh, "unallocated")
		c.finish(Failed, ReasonUnknownExtension)
		return
	case err != nil:
		c.log.Warn("user lookup failed, handing the call to the dialplan", "error", err)
		c.handToDialplan(ctx)
		return
	}
	ep, err := c.app.Asterisk.Endpoint(ctx, c.callee)
	switch {
	case switchboard.ErrorCode(err) == switchboard.ENOTFOUND || (err == nil && ep.State != "online"):
		c.toVoicemail(ctx, user, ReasonOffline)
		return
	case err != nil:
		c.log.Warn("endpoint state unknown, handing the call to the dialplan", "error", err)
		c.handToDialplan(ctx)
		return
	case len(ep.Channels) > 0:
		c.toVoicemail(ctx, user, ReasonBusy)
		return
	}
	answered, reason := c.ring(ctx, user)
	switch {
	case reason == "":
		return // ended while ringing (caller hung up, admin, shutdown)
	case !answered:
		c.toVoicemail(ctx, user, reason)
		return
	}
	c.bridgeAndWait(ctx, user)
}

// ring creates the callee leg, dials it with the user's ring timeout and waits for the answer.
// It returns (true, "answered") when the callee answered, (false, reason) when the call should
// go to voicemail, and (false, "") when the call already ended.
func (c *call) ring(ctx context.Context, user provisioning.User) (bool, string) {
	calleeCh := c.id + calleeSuffix
	c.mu.Lock()
	c.calleeCh = calleeCh
	c.mu.Unlock()
	c.app.track(c, calleeCh) // before creating it: its first event may come at once
	ast := c.app.Asterisk
	err := ast.CreateChannel(ctx, ChannelRequest{ID: calleeCh, Endpoint: "PJSIP/" + c.callee,
		AppArgs: "callee," + c.id, Originator: c.callerCh})
	if err != nil {
		c.log.Warn("create callee leg failed", "error", err)
		return false, ReasonUnreachable
	}
	timeout := time.Duration(user.RingTimeout) * time.Second
	// Dial copies the caller's identity to the callee leg (its connected line), which is what the
	// callee's phone shows.
	if err := ast.Dial(ctx, calleeCh, c.callerCh, timeout); err != nil {
		c.log.Warn("dial failed", "error", err)
		ast.Hangup(ctx, calleeCh, "normal")
		return false, ReasonUnreachable
	}
	c.app.Metrics.setup.Observe(time.Since(c.started).Seconds())
	if err := ast.Ring(ctx, c.callerCh); err != nil {
		c.log.Debug("ring indication failed", "error", err)
	}
	c.log.Info("ringing", "callee_channel", calleeCh, "ring_timeout", user.RingTimeout)
	// Asterisk ends the dial at the timeout; this timer only guards against that never coming.
	timer := time.NewTimer(timeout + c.app.RingGrace)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ""
		case <-c.cancelled:
			ast.Hangup(ctx, calleeCh, "normal")
			ast.Hangup(ctx, c.callerCh, "normal")
			c.finish(Cancelled, ReasonHungUpByAdmin)
			return false, ""
		case <-timer.C:
			c.log.Info("no answer (own timer)")
			ast.Hangup(ctx, calleeCh, "normal")
			return false, ReasonNoAnswer
		case <-c.mailbox.ready:
		}
		for e := c.mailbox.next(); e != nil; e = c.mailbox.next() {
			switch e := e.(type) {
			case *v5.StasisStart:
				if e.Channel.ID == calleeCh {
					c.mu.Lock()
					c.calleeName = e.Channel.Name
					c.mu.Unlock()
				}
			case *v5.ChannelStateChange:
				if e.Channel.ID == calleeCh && e.Channel.State == "Up" {
					return true, "answered"
				}
			case *v5.Dial:
				if e.Peer.ID != calleeCh {
					continue
				}
				switch e.Dialstatus {
				case "ANSWER":
					return true, "answered"
				case "BUSY", "NOANSWER", "CHANUNAVAIL", "CONGESTION", "CANCEL":
					ast.Hangup(ctx, calleeCh, "normal")
					return false, reasonFromDialStatus(e.Dialstatus)
				}
			case *v5.ChannelDestroyed:
				if e.Channel.ID == calleeCh {
					return false, reasonFromCause(e.Cause)
				}
				if e.Channel.ID == c.callerCh {
					return c.callerLeftWhileRinging(ctx, calleeCh)
				}
			case *v5.ChannelHangupRequest:
				if e.Channel.ID == c.callerCh {
					return c.callerLeftWhileRinging(ctx, calleeCh)
				}
			case *v5.StasisEnd:
				if e.Channel.ID == c.callerCh {
					return c.callerLeftWhileRinging(ctx, calleeCh)
				}
			}
		}
	}
}

func (c *call) callerLeftWhileRinging(ctx context.Context, calleeCh string) (bool, string) {
	c.log.Info("caller hung up while ringing")
	c.app.Asterisk.Hangup(ctx, calleeCh, "normal") // CANCEL to the callee's phone
	c.finish(Cancelled, "")
	return false, ""
}

// bridgeAndWait joins both legs in a new mixing bridge and waits until either leaves, then
// ends the other and destroys the bridge.
func (c *call) bridgeAndWait(ctx context.Context, user provisioning.User) {
	ast := c.app.Asterisk
	answeredAt := time.Now()
	bridge := BridgePrefix + uuid.NewString() // never reused
	c.mu.Lock()
	calleeCh := c.calleeCh
	c.bridge = bridge
	c.mu.Unlock()
	if err := ast.CreateBridge(ctx, bridge); err != nil {
		c.log.Error("create bridge failed", "error", err)
		ast.Hangup(ctx, calleeCh, "normal")
		ast.Hangup(ctx, c.callerCh, "normal")
		c.finish(Failed, ReasonError)
		return
	}
	defer ast.DestroyBridge(context.WithoutCancel(ctx), bridge)
	// The callee first: if it vanished at the instant it answered (the ring timeout firing at
	// the same moment), the caller has not been answered yet and still goes to voicemail.
	if err := ast.AddToBridge(ctx, bridge, calleeCh); err != nil {
		c.log.Info("callee left as it answered", "error", err)
		ast.Hangup(ctx, calleeCh, "normal")
		c.toVoicemail(ctx, user, ReasonNoAnswer)
		return
	}
	if err := ast.Answer(ctx, c.callerCh); err != nil {
		c.log.Info("caller left as the callee answered", "error", err)
		ast.Hangup(ctx, calleeCh, "normal")
		c.finish(Cancelled, "")
		return
	}
	if err := ast.AddToBridge(ctx, bridge, c.callerCh); err != nil {
		c.log.Warn("adding the caller to the bridge failed", "error", err)
		ast.Hangup(ctx, calleeCh, "normal")
		ast.Hangup(ctx, c.callerCh, "normal")
		c.finish(Failed, ReasonError)
		return
	}
	c.set(func(c *call) { c.answered, c.outcome = time.Now(), Answered })
	c.app.Metrics.bridge.Observe(time.Since(answeredAt).Seconds())
	c.log.Info("bridged", "bridge", bridge, "callee_channel", calleeCh)
	c.armDeadMansSwitch(ctx, calleeCh)
	c.waitBridged(ctx)
}

// waitBridged waits until either party of a bridged call leaves, then hangs up the other and
// records the end. The bridge is destroyed by the caller (bridgeAndWait) or, for a call adopted
// after a restart, here.
func (c *call) waitBridged(ctx context.Context) {
	ast := c.app.Asterisk
	c.mu.Lock()
	calleeCh := c.calleeCh
	c.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			// Shutting down: the call stays up; the hangup handlers end it later.
			return
		case <-c.cancelled:
			ast.Hangup(ctx, c.callerCh, "normal")
			ast.Hangup(ctx, calleeCh, "normal")
			c.finish(Answered, ReasonHungUpByAdmin)
			return
		case <-c.mailbox.ready:
		}
		for e := c.mailbox.next(); e != nil; e = c.mailbox.next() {
			left := ""
			switch e := e.(type) {
			case *v5.ChannelHangupRequest:
				left = e.Channel.ID
			case *v5.StasisEnd:
				left = e.Channel.ID
			case *v5.ChannelDestroyed:
				left = e.Channel.ID
			case *v5.ChannelLeftBridge:
				left = e.Channel.ID
			}
			if left != c.callerCh && left != calleeCh {
				continue
			}
			other := calleeCh
			if left == calleeCh {
				other = c.callerCh
			}
			ast.Hangup(ctx, other, "normal")
			c.finish(Answered, "")
			return
		}
	}
}

// armDeadMansSwitch pushes a hangup handler onto each leg that hangs up the other leg: when
// the control plane is gone as a party hangs up (crash, restart), Asterisk still ends the call
// (see [switchboard-hangup-peer] in asterisk/extensions.conf).
func (c *call) armDeadMansSwitch(ctx context.Context, calleeCh string) {
	c.mu.Lock()
	calleeName := c.calleeName
	c.mu.Unlock()
	const handler = "CHANNEL(hangup_handler_push)"
	if calleeName != "" {
		c.app.Asterisk.SetVariable(ctx, c.callerCh, handler, "switchboard-hangup-peer,s,1("+calleeName+")")
	}
	if c.callerName != "" {
		c.app.Asterisk.SetVariable(ctx, calleeCh, handler, "switchboard-hangup-peer,s,1("+c.callerName+")")
	}
}

// toVoicemail hands the caller back to the dialplan, which runs the voicemail subroutine with
// the busy or unavailable greeting.
func (c *call) toVoicemail(ctx context.Context, user provisioning.User, reason string) {
	next := "voicemail-unavailable"
	if reason == ReasonBusy {
		next = "voicemail-busy"
	}
	outcome := Voicemail
	if !user.Voicemail.Enabled {
		outcome = Missed
	}
	c.log.Info("to voicemail", "reason", reason, "voicemail_enabled", user.Voicemail.Enabled)
	if err := c.app.Asterisk.SetVariable(ctx, c.callerCh, "SB_NEXT", next); err != nil {
		c.finish(Cancelled, reason)
		return
	}
	if err := c.app.Asterisk.Continue(ctx, c.callerCh); err != nil {
		c.finish(Cancelled, reason)
		return
	}
	// The record stays open: the FastAGI helpers record how voicemail went and when it ended.
	c.set(func(c *call) { c.outcome, c.reason = outcome, reason })
	c.app.Metrics.calls.WithLabelValues(string(outcome)).Inc()
}

// handToDialplan lets the dialplan dial the callee itself, as when the app is not connected.
func (c *call) handToDialplan(ctx context.Context) {
	if err := c.app.Asterisk.SetVariable(ctx, c.callerCh, "SB_NEXT", "dial"); err == nil {
		c.app.Asterisk.Continue(ctx, c.callerCh)
	}
	c.finish(Failed, ReasonError)
}

func reasonFromDialStatus(s string) string {
	switch s {
	case "BUSY":
		return ReasonBusy
	case "NOANSWER", "CANCEL":
		return ReasonNoAnswer
	}
	return ReasonUnreachable
}

// reasonFromCause maps the Q.850 cause of a callee leg that ended unanswered.
func reasonFromCause(cause int) string {
	switch cause {
	case 17: // user busy (486)
		return ReasonBusy
	case 18, 19, 16: // no user responding, no answer, normal clearing before answer
		return ReasonNoAnswer
	case 21: // call rejected (603 Decline)
		return ReasonDeclined
	case 20: // subscriber absent (480)
		return ReasonOffline
	}
	return ReasonUnreachable
}
