package ari

import (
	"context"
	"strings"
	"sync"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/routing"
)

// The dialplan contexts, extensions and labels call control continues callers at
// (asterisk/extensions.conf), and the names it gives Asterisk.
const (
	callContext           = "switchboard-call"
	callExten             = "s"
	mailboxContext        = "switchboard-mailbox"
	labelDialFromDialplan = "dial"
	hangupHandlerPush     = "CHANNEL(hangup_handler_push)"
	hangupPeerHandler     = "switchboard-hangup-peer,s,1"
	hangupPeerIfAnswered  = "answered"
	stasisArgsCallee      = "callee,"
	dialContactsFunction  = "PJSIP_DIAL_CONTACTS"
	transferHandling      = "PJSIP_TRANSFER_HANDLING()"
)

// execute carries out a routing step.
func (c *call) execute(s routing.Step) step {
	c.route = s
	if len(s.Path) > 1 {
		c.setRecord(switchboard.CallChange{ForwardedTo: s.Path[1:]})
		c.log.Info("forwarded", "path", s.Path)
	}
	switch s.Kind {
	case routing.Reject:
		if s.Cause == routing.RouteDenied || s.Cause == routing.TrunksFailed || s.Outbound != nil {
			return func(ctx context.Context) step { return c.refuseOutbound(ctx, s) }
		}
		outcome := switchboard.Missed
		if s.Cause == routing.NoSuchNumber {
			// The dialplan only routes provisioned extensions, but a user may be deleted
			// between the dialplan's reload and this call. Never ring anyone else.
			c.log.Info("unknown extension")
			outcome = switchboard.Failed
		}
		c.app.Asterisk.Hangup(c.op(), c.callerCh, string(s.Cause))
		c.destroyBridge()
		c.finish(outcome, s.Reason)
		return nil
	case routing.Voicemail:
		return c.toVoicemail(s)
	case routing.Conference:
		return c.joinRoom
	case routing.Queued:
		return c.enterQueue
	case routing.External:
		return c.dialOut
	}
	return c.startRinging
}

// startRinging creates a callee leg per phone of the step's target, puts the caller (and, when
// there is one phone, its leg) in the call's bridge and only then dials (early bridging): the
// callee's ringing and answer then reach the caller through the bridge inside Asterisk, and a
// call that is ringing when the control plane stops still connects when the callee answers.
// With several phones the first to answer is bridged by call control and the others are told
// the call was answered elsewhere. Each leg carries a hangup handler that ends the caller when
// it hangs up after answering; the caller's ends the legs, so the call also ends properly
// without the control plane.
func (c *call) startRinging(ctx context.Context) step {
	ast := c.app.Asterisk
	s := c.route
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	c.legs = nil
	for _, d := range s.Devices {
		if c.legSeq >= maxLegs {
			break
		}
		c.legSeq++
		l := &leg{id: legID(c.id, c.legSeq), device: d}
		c.legs = append(c.legs, l)
		c.app.own(c, l.id) // before creating it: its StasisStart comes at once
	}
	bridgeMade := make(chan error, 1)
	if c.bridge == "" {
		c.bridge = bridgeID(c.id)
		go func() { bridgeMade <- ast.CreateBridge(c.op(), c.bridge) }()
	} else {
		bridgeMade <- nil // made for an earlier step (forwarded on no answer)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(c.legs))
	for i, l := range c.legs {
		vars := map[string]string{
			hangupHandlerPush: hangupPeerHandler + "(" + c.callerName + "," + hangupPeerIfAnswered + ")",
			// A REFER from this phone is call control's to carry out (see transferred).
			transferHandling: "ari-only",
		}
		wg.Go(func() {
			ch, err := ast.CreateChannel(c.op(), ChannelRequest{ID: l.id, Endpoint: l.device,
				AppArgs: stasisArgsCallee + c.id, Originator: c.callerCh, Variables: vars})
			l.name, errs[i] = ch.Name, err
		})
	}
	wg.Wait()
	bridgeErr := <-bridgeMade
	if ErrorIsUnavailable(bridgeErr) {
		return c.suspend(bridgeErr)
	}
	if bridgeErr != nil && switchboard.ErrorCode(bridgeErr) != switchboard.ECONFLICT {
		// (A conflict is the call's own bridge, made before a restart: it is reused.)
		c.log.Error("create bridge failed", "error", bridgeErr)
		c.hangupLegs("normal")
		c.bridge = ""
		return c.handToDialplan
	}
	var created []*leg
	for i, l := range c.legs {
		switch {
		case ErrorIsUnavailable(errs[i]):
			return c.suspend(errs[i])
		case errs[i] != nil:
			c.log.Warn("create callee leg failed", "callee_channel", l.id, "device", l.device, "error", errs[i])
			c.app.disown(c, l.id)
		default:
			created = append(created, l)
		}
	}
	c.legs = created
	if len(c.legs) == 0 {
		return c.after(routing.ResultUnreachable)
	}
	// A created channel enters Stasis a moment after the request returns; it can be bridged
	// and dialed only then.
	if !c.waitLegsInApp(ctx, 2*time.Second) {
		return nil // stopping
	}
	var ready []*leg
	for _, l := range c.legs {
		if l.inApp {
			ready = append(ready, l)
			continue
		}
		c.log.Warn("callee leg never entered the app", "callee_channel", l.id)
		ast.Hangup(c.op(), l.id, "normal")
		c.app.disown(c, l.id)
	}
	c.legs = ready
	if len(c.legs) == 0 {
		return c.after(routing.ResultUnreachable)
	}
	first := c.legs[0]
	c.setRecord(switchboard.CallChange{CalleeChannel: first.id, Bridge: c.bridge})
	// The caller's hangup handler ends the legs, ringing or answered; it goes off the path to
	// the callees' INVITEs.
	names := make([]string, len(c.legs))
	for i, l := range c.legs {
		names[i] = l.name
	}
	go ast.SetVariable(c.op(), c.callerCh, hangupHandlerPush, hangupPeerHandler+"("+strings.Join(names, "&")+",)")
	join := []string{}
	if !c.inBridge {
		join = append(join, c.callerCh)
	}
	if len(c.legs) == 1 {
		join = append(join, first.id)
	}
	if len(join) > 0 {
		if err := ast.AddToBridge(c.op(), c.bridge, join...); err != nil {
			if ErrorIsUnavailable(err) {
				return c.suspend(err)
			}
			// A party left at this instant: its events tell the ringing step what to do.
			c.log.Info("bridging before the dial failed", "error", err)
		} else {
			c.inBridge = true
			first.bridged = len(c.legs) == 1
		}
	}
	if (len(c.legs) > 1 || c.callerUp) && s.Queue == nil {
		// (A queue's caller hears its music while agents ring.)
		// The legs ring outside the bridge, or the caller is answered already (a transferred
		// party): ringback comes from call control (an answered channel plays it in band).
		go ast.Ring(c.op(), c.callerCh)
	}
	errs = make([]error, len(c.legs))
	dialCaller := c.callerCh
	if s.Outbound != nil {
		// The identity the provider is sent (From, P-Asserted-Identity) is the leg's connected
		// line: the caller ID routing chose, not the caller's own (which creating the leg with
		// the caller as originator gave it, and dialling with it as caller would).
		dialCaller = ""
		if err := c.setConnectedLine(c.legs[0].id); ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
	}
	for i, l := range c.legs {
		wg.Go(func() { errs[i] = ast.Dial(c.op(), l.id, dialCaller, timeout) })
	}
	wg.Wait()
	for i, l := range c.legs {
		switch {
		case ErrorIsUnavailable(errs[i]):
			return c.suspend(errs[i])
		case errs[i] != nil:
			c.log.Warn("dial callee leg failed", "callee_channel", l.id, "error", errs[i])
			ast.Hangup(c.op(), l.id, "normal")
			l.ended, l.cause = true, 27 // destination out of order
		}
	}
	c.ringUntil = time.Now().Add(timeout + c.app.RingGrace)
	c.app.Metrics.setup.Observe(time.Since(c.record().StartedAt).Seconds())
	c.log.Info("ringing", "callee", s.Target.Extension, "phones", len(c.legs), "ring_timeout", timeout)
	if c.ringingOver() {
		return c.after(c.legsResult())
	}
	return c.ringing
}

// waitLegsInApp waits (up to timeout) until every new leg has entered the app; events of other
// kinds that come meanwhile stay in the mailbox for the ringing step. It returns false when
// the call is being stopped.
func (c *call) waitLegsInApp(ctx context.Context, timeout time.Duration) bool {
	var later []v5.Event
	defer func() { c.mailbox.unshift(later) }()
	deadline := time.After(timeout)
	for {
		all := true
		for _, l := range c.legs {
			all = all && l.inApp
		}
		if all {
			return true
		}
		e, why := c.wait(ctx, deadline)
		switch why {
		case wakeStop:
			return false
		case wakeTimer:
			return true
		case wakeHangup:
			return true // the ringing step acts on it
		}
		if st, ok := e.(*v5.StasisStart); ok {
			if l := c.legOf(st.Channel.ID); l != nil {
				l.inApp, l.name = true, st.Channel.Name
				continue
			}
		}
		later = append(later, e)
	}
}

// ringing waits for a callee phone to answer, for all of them to refuse or time out, or for the
// caller to give up.
func (c *call) ringing(ctx context.Context) step {
	ast := c.app.Asterisk
	// Asterisk ends each dial at the ring timeout; this timer only guards against that never
	// coming (a leg created but never dialed, a lost event).
	timer := time.NewTimer(time.Until(c.ringUntil))
	defer timer.Stop()
	for {
		e, why := c.wait(ctx, timer.C)
		switch why {
		case wakeStop:
			return nil
		case wakeHangup:
			c.hangupLegs("normal")
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
			c.hangupLegs("no_answer")
			return c.after(routing.ResultNoAnswer)
		}
		if e, ok := e.(*v5.ChannelStateChange); ok && e.Channel.ID == c.callerCh && e.Channel.State == "Up" {
			c.callerUp = true
			continue
		}
		switch e.(type) {
		case *v5.ChannelHangupRequest, *v5.StasisEnd, *v5.ChannelDestroyed:
			if eventChannel(e) == c.callerCh {
				return c.callerLeftWhileRinging()
			}
		}
		l := c.legOf(eventChannel(e))
		if l == nil || l.ended {
			continue
		}
		switch e := e.(type) {
		case *v5.StasisStart:
			l.name = e.Channel.Name
		case *v5.ChannelStateChange:
			if e.Channel.State == "Up" {
				return c.answeredBy(l)
			}
		case *v5.Dial:
			switch e.Dialstatus {
			case "ANSWER":
				return c.answeredBy(l)
			case "BUSY", "NOANSWER", "CHANUNAVAIL", "CONGESTION", "CANCEL":
				ast.Hangup(c.op(), l.id, "normal")
				l.ended, l.cause = true, causeOfDialStatus(e.Dialstatus)
			}
		case *v5.ChannelDestroyed:
			l.ended = true
			if l.cause == 0 {
				l.cause = e.Cause
			}
		}
		if c.ringingOver() {
			return c.after(c.legsResult())
		}
	}
}

// legOf returns the ringing leg with ID id, or nil.
func (c *call) legOf(id string) *leg {
	for _, l := range c.legs {
		if l.id == id {
			return l
		}
	}
	return nil
}

// ringingOver reports whether every leg has ended.
func (c *call) ringingOver() bool {
	for _, l := range c.legs {
		if !l.ended {
			return false
		}
	}
	return true
}

// legsResult is how a ringing step ended when no leg answered: busy when a phone refused busy,
// declined when one declined, no answer when one rang out, unreachable otherwise.
func (c *call) legsResult() routing.Result {
	result := routing.ResultUnreachable
	for _, l := range c.legs {
		switch reasonFromCause(l.cause) {
		case switchboard.ReasonBusy:
			return routing.ResultBusy
		case switchboard.ReasonDeclined:
			result = routing.ResultDeclined
		case switchboard.ReasonNoAnswer:
			if result != routing.ResultDeclined {
				result = routing.ResultNoAnswer
			}
		}
	}
	return result
}

// after goes on with the step that follows an unanswered ringing step.
func (c *call) after(result routing.Result) step {
	for _, l := range c.legs {
		c.app.disown(c, l.id)
	}
	c.legs = nil
	if c.route.Queue != nil {
		return c.agentsDidNotAnswer()
	}
	next := routing.After(c.route, result, c.party)
	if err := c.lookupErr; err != nil {
		c.lookupErr = nil
		if ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
		c.log.Warn("routing lookup failed, sending the caller to voicemail", "error", err)
	}
	c.log.Info("not answered", "callee", c.route.Target.Extension, "result", result, "next", next.Kind.String(), "reason", next.Reason)
	return c.execute(next)
}

// answeredBy bridges the leg that answered (the others stop ringing: answered elsewhere).
func (c *call) answeredBy(l *leg) step {
	ast := c.app.Asterisk
	c.talking = l
	if c.queued != nil {
		go ast.BridgeMOH(c.op(), c.bridge, false)
		c.agentAnswered(endpointOf(l.name))
	}
	others := c.legs
	c.legs = nil
	for _, o := range others {
		if o != l {
			c.app.disown(c, o.id)
			if !o.ended {
				ast.Hangup(c.op(), o.id, "answered_elsewhere")
			}
		}
	}
	if !l.bridged {
		// Not bridged before the answer: join it now, and answer the caller ourselves.
		if err := ast.AddToBridge(c.op(), c.bridge, l.id); err != nil {
			if ErrorIsUnavailable(err) {
				return c.suspend(err)
			}
			c.log.Info("joining the answered leg failed", "error", err)
		}
		if !c.callerUp {
			if err := ast.Answer(c.op(), c.callerCh); ErrorIsUnavailable(err) {
				return c.suspend(err)
			}
		}
	}
	return c.answered
}

// callerLeftWhileRinging cancels the ringing phones and ends the call.
func (c *call) callerLeftWhileRinging() step {
	c.log.Info("caller hung up while ringing")
	c.hangupLegs("normal") // CANCEL to the callee's phones
	c.destroyBridge()
	c.finish(switchboard.Cancelled, "")
	return nil
}

// hangupLegs hangs up every ringing leg with an ARI reason and forgets them.
func (c *call) hangupLegs(reason string) {
	for _, l := range c.legs {
		if !l.ended {
			c.app.Asterisk.Hangup(c.op(), l.id, reason)
			l.ended = true
		}
		c.app.disown(c, l.id)
	}
}

// destroyBridge destroys the call's bridge, if it made one.
func (c *call) destroyBridge() {
	if c.bridge != "" {
		c.app.Asterisk.DestroyBridge(c.op(), c.bridge)
		c.bridge, c.inBridge = "", false
	}
}

// causeOfDialStatus maps a dial status to the Q.850 cause a leg ending that way has.
func causeOfDialStatus(s string) int {
	switch s {
	case "BUSY":
		return 17
	case "NOANSWER", "CANCEL":
		return 19
	}
	return 27
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
