package ari

import (
	"context"
	"fmt"
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
	app         *App
	id          string
	caller      string
	callee      string
	callerCh    string
	callerName  string // e.g. PJSIP/1001-0000002a
	log         *slog.Logger
	mailbox     *mailbox
	cancelled   chan struct{}
	ringed      chan struct{} // closed once the caller has been sent ringing
	bridgeMade  chan error    // the result of creating the bridge, made while ringing
	calleeInApp bool          // the callee leg's StasisStart has arrived (call goroutine only)
	adminOnce   sync.Once

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
	// Ringback at once, while the callee is looked up and dialled: the caller's phone rings as
	// early as with a plain Dial(), and the 180 is certainly out before any answer.
	c.ringed = make(chan struct{})
	go func() {
		defer close(c.ringed)
		if err := c.app.Asterisk.Ring(ctx, c.callerCh); err != nil {
			c.log.Warn("ring indication failed", "error", err)
		}
	}()
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
	if !answered && c.bridgeMade != nil {
		// The bridge made while ringing is not needed; it goes once the caller is served.
		defer func() {
			if <-c.bridgeMade == nil {
				c.app.Asterisk.DestroyBridge(context.WithoutCancel(ctx), c.bridge)
			}
		}()
	}
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
	timeout := time.Duration(user.RingTimeout) * time.Second
	// One request creates and dials the callee leg, with the caller's identity and the ring
	// timeout (Asterisk hangs the leg up when it passes).
	err := ast.Originate(ctx, OriginateRequest{ID: calleeCh, Endpoint: "PJSIP/" + c.callee,
		AppArgs: "callee," + c.id, Originator: c.callerCh, CallerID: c.callerID(ctx), Timeout: timeout})
	if err != nil {
		c.log.Warn("originate callee leg failed", "error", err)
		return false, ReasonUnreachable
	}
	// The bridge is made while the callee rings, off the path from answer to bridged.
	bridge := BridgePrefix + uuid.NewString() // never reused
	c.mu.Lock()
	c.bridge = bridge
	c.mu.Unlock()
	c.bridgeMade = make(chan error, 1)
	go func() { c.bridgeMade <- ast.CreateBridge(ctx, bridge) }()
	c.app.Metrics.setup.Observe(time.Since(c.started).Seconds())
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
					// An originated leg enters the app when it is answered.
					c.calleeEntered(e.Channel.Name)
					return true, "answered"
				}
			case *v5.ChannelStateChange:
				if e.Channel.ID == calleeCh {
					c.setCalleeName(e.Channel.Name)
					if e.Channel.State == "Up" {
						return true, "answered"
					}
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

// setCalleeName records the callee leg's channel name (the dead man's switch needs it).
func (c *call) setCalleeName(name string) {
	c.mu.Lock()
	c.calleeName = name
	c.mu.Unlock()
}

// calleeEntered notes the callee leg's StasisStart: it is in the app and can be bridged.
func (c *call) calleeEntered(name string) {
	c.setCalleeName(name)
	c.calleeInApp = true
}

func (c *call) callerLeftWhileRinging(ctx context.Context, calleeCh string) (bool, string) {
	c.log.Info("caller hung up while ringing")
	c.app.Asterisk.Hangup(ctx, calleeCh, "normal") // CANCEL to the callee's phone
	c.finish(Cancelled, "")
	return false, ""
}

// bridgeAndWait answers the caller as soon as the callee answered (the caller's 200 OK waits
// for nothing else), then joins both legs in the call's mixing bridge, made while it rang,
// and waits until either leaves.
func (c *call) bridgeAndWait(ctx context.Context, user provisioning.User) {
	ast := c.app.Asterisk
	answeredAt := time.Now()
	c.mu.Lock()
	calleeCh, bridge := c.calleeCh, c.bridge
	c.mu.Unlock()
	defer ast.DestroyBridge(context.WithoutCancel(ctx), bridge)
	<-c.ringed // the 180 goes out before the 200
	if err := ast.Answer(ctx, c.callerCh); err != nil {
		c.log.Info("caller left as the callee answered", "error", err)
		ast.Hangup(ctx, calleeCh, "normal")
		c.finish(Cancelled, "")
		return
	}
	// The leg can be bridged only once it is in the app: its StasisStart follows the answer.
	if !c.waitCalleeInApp(ctx, calleeCh) {
		c.log.Info("callee left as it answered")
		ast.Hangup(ctx, calleeCh, "normal")
		c.toVoicemail(ctx, user, ReasonNoAnswer)
		return
	}
	if err := <-c.bridgeMade; err != nil {
		c.log.Error("create bridge failed", "error", err)
		ast.Hangup(ctx, calleeCh, "normal")
		ast.Hangup(ctx, c.callerCh, "normal")
		c.finish(Failed, ReasonError)
		return
	}
	if err := ast.AddToBridge(ctx, bridge, calleeCh, c.callerCh); err != nil {
		// The callee left at the instant it answered (the ring timeout firing at the same
		// moment): the caller, answered already, gets voicemail instead of silence.
		c.log.Info("callee left as it answered", "error", err)
		ast.Hangup(ctx, calleeCh, "normal")
		c.toVoicemail(ctx, user, ReasonNoAnswer)
		return
	}
	c.set(func(c *call) { c.answered, c.outcome = time.Now(), Answered })
	c.app.Metrics.bridge.Observe(time.Since(answeredAt).Seconds())
	c.log.Info("bridged", "bridge", bridge, "callee_channel", calleeCh)
	c.armDeadMansSwitch(ctx, calleeCh)
	c.waitBridged(ctx)
}

// waitCalleeInApp waits (up to 5 s) for the callee leg's StasisStart, which follows its answer.
// It returns false when the leg left first.
func (c *call) waitCalleeInApp(ctx context.Context, calleeCh string) bool {
	timeout := time.After(5 * time.Second)
	for first := true; !c.calleeInApp; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return false
			case <-timeout:
				return false
			case <-c.mailbox.ready:
			}
		}
		// Events may be waiting already: the ringing step returns at the answer, leaving the
		// rest in the mailbox.
		for e := c.mailbox.next(); e != nil; e = c.mailbox.next() {
			switch e := e.(type) {
			case *v5.StasisStart:
				if e.Channel.ID == calleeCh {
					c.calleeEntered(e.Channel.Name)
				}
			case *v5.ChannelDestroyed, *v5.StasisEnd, *v5.ChannelHangupRequest:
				if eventChannel(e) == calleeCh {
					return false
				}
				if eventChannel(e) == c.callerCh {
					// The caller left too: the bridge step notices when adding it fails.
					c.mailbox.push(e)
					return true
				}
			}
		}
	}
	return true
}

// callerID is what the callee's phone shows: the caller's name from the directory.
func (c *call) callerID(ctx context.Context) string {
	if u, err := c.app.Users.User(ctx, c.caller); err == nil {
		return fmt.Sprintf("\"%s\" <%s>", u.Name, u.Extension)
	}
	return "<" + c.caller + ">"
}

// waitBridged waits until either party of a bridged call leaves, then hangs up the other and
// records the end. The bridge is destroyed by the caller (bridgeAndWait) or, for a call adopted
// after a restart, here.
func (c *call) waitBridged(ctx context.Context) {
	ast := c.app.Asterisk
	c.mu.Lock()
	calleeCh := c.calleeCh
	c.mu.Unlock()
	for first := true; ; first = false {
		if !first {
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
		}
		// Events that came while the call was being bridged are waiting already.
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
	// Ringing is queued on the channel's Stasis control: it must run before the channel leaves.
	<-c.ringed
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
