package ari

import (
	"context"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/routing"
)

// answered records the callee's answer. With one phone the bridge passes the answer to the
// caller inside Asterisk; call control answers the caller itself only when that answer is not
// seen (a leg that answered before it joined the bridge).
func (c *call) answered(ctx context.Context) step {
	at := time.Now()
	c.setRecord(switchboard.CallChange{Outcome: switchboard.Answered, AnsweredAt: at, CalleeChannel: c.talking.id,
		AnsweredBy: endpointOf(c.talking.name)})
	c.log.Info("answered", "callee_channel", c.talking.id, "answered_by", endpointOf(c.talking.name), "bridge", c.bridge)
	return c.talk(at)
}

// talk returns the step of a bridged call; answeredAt is when call control learnt of the
// answer (zero for a call adopted after a restart).
func (c *call) talk(answeredAt time.Time) step {
	return func(ctx context.Context) step {
		ast := c.app.Asterisk
		var check <-chan time.Time
		if !c.callerUp {
			// The caller's answer comes through the bridge within a few milliseconds; if it
			// does not, answer it directly.
			check = time.After(250 * time.Millisecond)
		}
		for {
			e, why := c.wait(ctx, check)
			switch why {
			case wakeStop:
				return nil
			case wakeHangup:
				ast.Hangup(c.op(), c.callerCh, "normal")
				ast.Hangup(c.op(), c.talking.id, "normal")
				c.destroyBridge()
				c.finish(switchboard.Answered, switchboard.ReasonHungUpByAdmin)
				return nil
			case wakeTimer:
				check = nil
				if !c.callerUp {
					c.log.Info("answering the caller directly")
					if err := ast.Answer(c.op(), c.callerCh); err != nil && ErrorIsUnavailable(err) {
						return c.suspend(err)
					}
				}
				continue
			}
			if tr, ok := e.(*ChannelTransfer); ok {
				if c.transferred(tr) {
					return nil
				}
				continue
			}
			if sc, ok := e.(*v5.ChannelStateChange); ok && sc.Channel.ID == c.callerCh && sc.Channel.State == "Up" {
				if !c.callerUp && !answeredAt.IsZero() {
					c.app.Metrics.bridge.Observe(time.Since(answeredAt).Seconds())
				}
				c.callerUp = true
				continue
			}
			who := left(e)
			if who != c.callerCh && who != c.talking.id {
				continue
			}
			other := c.talking.id
			if who == c.talking.id {
				other = c.callerCh
			}
			ast.Hangup(c.op(), other, "normal")
			c.destroyBridge()
			c.finish(switchboard.Answered, "")
			return nil
		}
	}
}

// toVoicemail hands the caller back to the dialplan at the step's mailbox, with the busy or
// the unavailable greeting, and keeps watching the caller until it hangs up.
func (c *call) toVoicemail(s routing.Step) step {
	ast := c.app.Asterisk
	outcome := switchboard.Voicemail
	if !s.Target.Voicemail.Enabled {
		outcome = switchboard.Missed
	}
	c.log.Info("to voicemail", "mailbox", s.Target.Extension, "greeting", s.Greeting, "reason", s.Reason,
		"voicemail_enabled", s.Target.Voicemail.Enabled)
	// Subscribed first, so that the caller's events keep coming once it leaves Stasis: its
	// hang-up ends the record even if the dialplan helpers cannot be reached.
	if err := ast.Subscribe(c.op(), c.callerCh); ErrorIsUnavailable(err) {
		return c.suspend(err)
	}
	if err := ast.ContinueAt(c.op(), c.callerCh, mailboxContext, s.Target.Extension, string(s.Greeting)); err != nil {
		if ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
		c.log.Info("caller left before voicemail", "error", err)
		c.destroyBridge()
		c.finish(switchboard.Cancelled, s.Reason)
		return nil
	}
	c.destroyBridge()
	// The record stays open: the FastAGI helper records what voicemail made of the call, and
	// the caller's hang-up ends it.
	c.setRecord(switchboard.CallChange{Outcome: outcome, Reason: s.Reason})
	c.app.Metrics.calls.WithLabelValues(string(outcome)).Inc()
	return c.inDialplan
}

// handToDialplan lets the dialplan dial the callee itself, as when the app is not connected,
// and keeps watching the caller until it hangs up.
func (c *call) handToDialplan(ctx context.Context) step {
	ast := c.app.Asterisk
	if err := ast.Subscribe(c.op(), c.callerCh); ErrorIsUnavailable(err) {
		return c.suspend(err)
	}
	if err := ast.ContinueAt(c.op(), c.callerCh, callContext, callExten, labelDialFromDialplan); err != nil {
		if ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
		c.finish(switchboard.Failed, switchboard.ReasonError)
		return nil
	}
	c.destroyBridge()
	c.setRecord(switchboard.CallChange{Outcome: switchboard.Failed, Reason: switchboard.ReasonError})
	c.app.Metrics.calls.WithLabelValues(string(switchboard.Failed)).Inc()
	return c.inDialplan
}

// inDialplan waits for a caller the dialplan now serves (voicemail, or a Dial() of its own) to
// hang up, and records the end.
func (c *call) inDialplan(ctx context.Context) step {
	for {
		e, why := c.wait(ctx, nil)
		switch why {
		case wakeStop:
			return nil
		case wakeHangup:
			if err := c.app.Asterisk.Hangup(c.op(), c.callerCh, "normal"); switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
				c.finish("", switchboard.ReasonHungUpByAdmin)
				return nil
			}
			c.hangupHandled = true // asked once; the channel's end follows
			continue
		}
		if d, ok := e.(*v5.ChannelDestroyed); ok && d.Channel.ID == c.callerCh {
			c.finish("", "")
			return nil
		}
	}
}

// callerLeft reads the events that came while the callee was looked up (they can only be the
// caller's) and reports whether the caller has left. Keys pressed meanwhile are kept: they
// may answer the prompt that comes next (a room's PIN typed ahead).
func (c *call) callerLeft() bool {
	gone := false
	var keys []v5.Event
	for e := c.mailbox.next(); e != nil; e = c.mailbox.next() {
		if left(e) == c.callerCh {
			gone = true
		}
		if _, ok := e.(*v5.ChannelDtmfReceived); ok {
			keys = append(keys, e)
		}
	}
	c.mailbox.unshift(keys)
	return gone
}
