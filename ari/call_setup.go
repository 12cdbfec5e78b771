package ari

import (
	"context"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard"
)

// The dialplan context and extension callers enter Stasis from (asterisk/extensions.conf), and
// the labels call control continues them at.
const (
	callContext             = "switchboard-call"
	callExten               = "s"
	labelVoicemailBusy      = "voicemail-busy"
	labelVoicemailUnavail   = "voicemail-unavailable"
	labelDialFromDialplan   = "dial"
	hangupHandlerPush       = "CHANNEL(hangup_handler_push)"
	hangupPeerHandler       = "switchboard-hangup-peer,s,1"
	hangupPeerIfAnswered    = "answered"
	stasisArgsCallee        = "callee,"
	endpointTechnologyPJSIP = "PJSIP/"
)

// lookup finds out who was dialled and whether they can be rung.
func (c *call) lookup(ctx context.Context) step {
	user, err := c.app.Users.User(c.op(), c.callee)
	switch {
	case switchboard.ErrorCode(err) == switchboard.ENOTFOUND:
		// The dialplan only routes provisioned extensions, but a user may be deleted between
		// the dialplan's reload and this call. Never ring anyone else: 404 to the caller.
		c.log.Info("unknown extension")
		c.app.Asterisk.Hangup(c.op(), c.callerCh, "unallocated")
		c.finish(switchboard.Failed, switchboard.ReasonUnknownExtension)
		return nil
	case err != nil:
		c.log.Warn("user lookup failed, handing the call to the dialplan", "error", err)
		return c.handToDialplan
	}
	c.user = user
	ep, err := c.app.Asterisk.Endpoint(c.op(), c.callee)
	switch {
	case switchboard.ErrorCode(err) == switchboard.ENOTFOUND || (err == nil && ep.State != "online"):
		return c.toVoicemail(switchboard.ReasonOffline)
	case ErrorIsUnavailable(err):
		return c.suspend(err)
	case err != nil:
		c.log.Warn("endpoint state unknown, handing the call to the dialplan", "error", err)
		return c.handToDialplan
	case len(ep.Channels) > 0:
		return c.toVoicemail(switchboard.ReasonBusy)
	}
	select {
	case <-c.stop:
		return nil
	case <-c.hangup:
		c.app.Asterisk.Hangup(c.op(), c.callerCh, "normal")
		c.finish(switchboard.Cancelled, switchboard.ReasonHungUpByAdmin)
		return nil
	default:
	}
	if c.callerLeft() {
		// Gone while the callee was looked up: ring nobody.
		c.finish(switchboard.Cancelled, "")
		return nil
	}
	return c.startRinging
}

// callerLeft reads the events that came while the callee was looked up (they can only be the
// caller's) and reports whether the caller has left.
func (c *call) callerLeft() bool {
	gone := false
	for e := c.mailbox.next(); e != nil; e = c.mailbox.next() {
		if left(e) == c.callerCh {
			gone = true
		}
	}
	return gone
}

// startRinging creates the callee leg and the call's bridge, puts both parties in the bridge
// and only then dials the leg (early bridging): from then on the callee's ringing and answer
// reach the caller through the bridge inside Asterisk, and a call that is ringing when the
// control plane stops still connects when the callee answers. Each leg carries a hangup handler
// that ends the other when it hangs up, so the call also ends properly without the control
// plane.
func (c *call) startRinging(ctx context.Context) step {
	ast := c.app.Asterisk
	c.legs++
	c.leg, c.bridge = legID(c.id, c.legs), bridgeID(c.id)
	c.app.own(c, c.leg) // before creating it: its StasisStart comes at once
	timeout := time.Duration(c.user.RingTimeout) * time.Second
	bridgeMade := make(chan error, 1)
	go func() { bridgeMade <- ast.CreateBridge(c.op(), c.bridge) }()
	leg, err := ast.CreateChannel(c.op(), ChannelRequest{ID: c.leg, Endpoint: endpointTechnologyPJSIP + c.callee,
		AppArgs: stasisArgsCallee + c.id, Originator: c.callerCh,
		// The callee's leg ends the caller when it hangs up, once it was answered; a leg that
		// ends unanswered leaves the caller to call control's next step.
		Variables: map[string]string{hangupHandlerPush: hangupPeerHandler + "(" + c.callerName + "," + hangupPeerIfAnswered + ")"}})
	bridgeErr := <-bridgeMade
	switch {
	case ErrorIsUnavailable(err):
		return c.suspend(err)
	case err != nil:
		c.log.Warn("create callee leg failed", "error", err)
		c.dropLeg()
		return c.toVoicemail(switchboard.ReasonUnreachable)
	case ErrorIsUnavailable(bridgeErr):
		return c.suspend(bridgeErr)
	case bridgeErr != nil && switchboard.ErrorCode(bridgeErr) != switchboard.ECONFLICT:
		// (A conflict is the call's own bridge, made before a restart: it is reused.)
		c.log.Error("create bridge failed", "error", bridgeErr)
		ast.Hangup(c.op(), c.leg, "normal")
		c.dropLeg()
		c.bridge = ""
		return c.handToDialplan
	}
	c.legName = leg.Name
	c.setRecord(switchboard.CallChange{CalleeChannel: c.leg, Bridge: c.bridge})
	// The caller's hangup handler ends the leg, ringing or answered; it goes off the path to
	// the callee's INVITE.
	go ast.SetVariable(c.op(), c.callerCh, hangupHandlerPush, hangupPeerHandler+"("+c.legName+",)")
	if err := ast.AddToBridge(c.op(), c.bridge, c.leg, c.callerCh); err != nil {
		if ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
		// A party left at this instant: its events tell the ringing step what to do.
		c.log.Info("bridging before the dial failed", "error", err)
	}
	if err := ast.Dial(c.op(), c.leg, c.callerCh, timeout); err != nil {
		if ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
		c.log.Warn("dial callee leg failed", "error", err)
		ast.Hangup(c.op(), c.leg, "normal")
		c.dropLeg()
		return c.toVoicemail(switchboard.ReasonUnreachable)
	}
	c.ringUntil = time.Now().Add(timeout + c.app.RingGrace)
	c.app.Metrics.setup.Observe(time.Since(c.record().StartedAt).Seconds())
	c.log.Info("ringing", "callee_channel", c.leg, "ring_timeout", c.user.RingTimeout)
	return c.ringing
}

// ringing waits for the callee to answer, refuse or time out, or the caller to give up.
func (c *call) ringing(ctx context.Context) step {
	ast := c.app.Asterisk
	// Asterisk ends the dial at the ring timeout; this timer only guards against that never
	// coming (a leg created but never dialed, a lost event).
	timer := time.NewTimer(time.Until(c.ringUntil))
	defer timer.Stop()
	for {
		e, why := c.wait(ctx, timer.C)
		switch why {
		case wakeStop:
			return nil
		case wakeHangup:
			ast.Hangup(c.op(), c.leg, "normal")
			ast.Hangup(c.op(), c.callerCh, "normal")
			c.destroyBridge()
			c.finish(switchboard.Cancelled, switchboard.ReasonHungUpByAdmin)
			return nil
		case wakeTimer:
			if !c.app.Connected() {
				// The answer may be among the events that are not coming: decide nothing now;
				// reconciliation takes over when they flow again.
				timer.Reset(time.Second)
				continue
			}
			c.log.Info("no answer (own timer)")
			ast.Hangup(c.op(), c.leg, "no_answer")
			c.dropLeg()
			return c.toVoicemail(switchboard.ReasonNoAnswer)
		}
		switch e := e.(type) {
		case *v5.StasisStart:
			if e.Channel.ID == c.leg {
				c.legName = e.Channel.Name
			}
		case *v5.ChannelStateChange:
			switch {
			case e.Channel.ID == c.leg && e.Channel.State == "Up":
				return c.answered
			case e.Channel.ID == c.callerCh && e.Channel.State == "Up":
				c.callerUp = true
			}
		case *v5.Dial:
			if e.Peer.ID != c.leg {
				continue
			}
			switch e.Dialstatus {
			case "ANSWER":
				return c.answered
			case "BUSY", "NOANSWER", "CHANUNAVAIL", "CONGESTION", "CANCEL":
				ast.Hangup(c.op(), c.leg, "normal")
				c.dropLeg()
				return c.toVoicemail(reasonFromDialStatus(e.Dialstatus))
			}
		case *v5.ChannelDestroyed:
			if e.Channel.ID == c.leg {
				c.dropLeg()
				return c.toVoicemail(reasonFromCause(e.Cause))
			}
			if e.Channel.ID == c.callerCh {
				return c.callerLeftWhileRinging()
			}
		case *v5.ChannelHangupRequest, *v5.StasisEnd:
			if left(e) == c.callerCh {
				return c.callerLeftWhileRinging()
			}
		}
	}
}

// callerLeftWhileRinging cancels the callee's ringing phone and ends the call.
func (c *call) callerLeftWhileRinging() step {
	c.log.Info("caller hung up while ringing")
	c.app.Asterisk.Hangup(c.op(), c.leg, "normal") // CANCEL to the callee's phone
	c.dropLeg()
	c.destroyBridge()
	c.finish(switchboard.Cancelled, "")
	return nil
}

// dropLeg forgets the callee leg: it has ended or is being hung up.
func (c *call) dropLeg() {
	if c.leg != "" {
		c.app.disown(c, c.leg)
	}
	c.leg, c.legName = "", ""
}

// destroyBridge destroys the call's bridge, if it made one.
func (c *call) destroyBridge() {
	if c.bridge != "" {
		c.app.Asterisk.DestroyBridge(c.op(), c.bridge)
		c.bridge = ""
	}
}

func reasonFromDialStatus(s string) string {
	switch s {
	case "BUSY":
		return switchboard.ReasonBusy
	case "NOANSWER", "CANCEL":
		return switchboard.ReasonNoAnswer
	}
	return switchboard.ReasonUnreachable
}

// reasonFromCause maps the Q.850 cause of a callee leg that ended unanswered.
func reasonFromCause(cause int) string {
	switch cause {
	case 17: // user busy (486)
		return switchboard.ReasonBusy
	case 18, 19, 16: // no user responding, no answer, normal clearing before answer
		return switchboard.ReasonNoAnswer
	case 21: // call rejected (603 Decline)
		return switchboard.ReasonDeclined
	case 20: // subscriber absent (480)
		return switchboard.ReasonOffline
	}
	return switchboard.ReasonUnreachable
}
