package ari

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/routing"
)

// The dialplan's hangup handler that does nothing: a transferring party's handlers are
// replaced by it, so that its hang-up no longer ends the call it handed over.
const (
	hangupHandlerWipe = "CHANNEL(hangup_handler_wipe)"
	hangupNone        = "switchboard-hangup-none,s,1"
)

// Transfer progress states (ARI transfer_progress).
const (
	transferProgress = "channel_progress"
	transferDone     = "channel_answered"
	transferRefused  = "channel_declined"
)

// transferred handles a REFER from one of the call's two parties (the phones' transfers are
// the application's: PJSIP_TRANSFER_HANDLING(ari-only)). A blind transfer sends the other
// party on as a new call to the number asked for; an attended one joins the other party with
// the peer of the transferring phone's consultation call. Either way this call ends
// ("transferred"), the transferring phone is told the transfer is done and is hung up, and
// the parties that go on talking are a new call with a bridge of its own, whose record names
// this one. It returns whether the call ended.
func (c *call) transferred(e *ChannelTransfer) bool {
	transferor := e.ReferredBy.Source.ID
	var transferee Channel
	switch transferor {
	case c.callerCh:
		transferee = Channel{ID: c.talking.id, Name: c.talking.name, State: "Up"}
	case c.talking.id:
		transferee = Channel{ID: c.callerCh, Name: c.callerName, State: "Up"}
	default:
		return false
	}
	ast := c.app.Asterisk
	if e.ReferTo.Destination != nil {
		return c.attendedTransfer(e, transferor, transferee)
	}
	dest := e.ReferTo.Requested.Destination
	if !isDialable(dest) {
		// What a phone asks for is never written anywhere raw: it is a number, or refused.
		c.log.Info("transfer refused: not a number", "transferor", transferor)
		ast.TransferProgress(c.op(), transferor, transferRefused)
		return false
	}
	c.log.Info("blind transfer", "transferor", transferor, "transferee", transferee.ID, "to", dest)
	ast.TransferProgress(c.op(), transferor, transferProgress)
	ast.SetVariable(c.op(), transferor, hangupHandlerWipe, hangupNone)
	c.app.disown(c, transferee.ID)
	c.destroyBridge()
	c.finish(switchboard.Answered, switchboard.ReasonTransferred)
	c.app.startTransferredCall(transferee, dest, c.id, nil)
	// As Asterisk's own blind transfers do, the transfer is done once the other party is on
	// its way: the transferring phone hangs up.
	ast.TransferProgress(c.op(), transferor, transferDone)
	ast.Hangup(c.op(), transferor, "normal")
	return true
}

// attendedTransfer joins the transferee with the far end of the transferring phone's
// consultation call (REFER with Replaces), both calls ending.
func (c *call) attendedTransfer(e *ChannelTransfer, transferor string, transferee Channel) bool {
	ast, app := c.app.Asterisk, c.app
	consult, target := e.ReferTo.Destination, e.ReferTo.Connected
	app.mu.Lock()
	other := app.channels[consult.ID]
	app.mu.Unlock()
	if target == nil || other == nil || other == c {
		c.log.Info("attended transfer refused: the consultation call is not one of ours", "transferor", transferor)
		ast.TransferProgress(c.op(), transferor, transferRefused)
		return false
	}
	c.log.Info("attended transfer", "transferor", transferor, "transferee", transferee.ID,
		"consultation", other.id, "target", target.ID)
	ast.TransferProgress(c.op(), transferor, transferProgress)
	// The consultation call stops being driven (its goroutine touches nothing more), then
	// both calls end and the two parties that stay go on as one new call.
	other.detach()
	select {
	case <-other.done:
	case <-time.After(5 * time.Second):
		c.log.Warn("consultation call did not stop in time", "consultation", other.id)
	}
	for _, ch := range []string{transferor, consult.ID} {
		ast.SetVariable(c.op(), ch, hangupHandlerWipe, hangupNone)
	}
	app.disown(c, transferee.ID)
	app.disown(other, target.ID)
	c.destroyBridge()
	other.destroyBridge()
	c.finish(switchboard.Answered, switchboard.ReasonTransferred)
	other.finish(switchboard.Answered, switchboard.ReasonTransferred)
	app.startTransferredCall(transferee, "", c.id, &Channel{ID: target.ID, Name: target.Name, State: target.State})
	ast.TransferProgress(c.op(), transferor, transferDone)
	ast.Hangup(c.op(), transferor, "normal")
	ast.Hangup(c.op(), consult.ID, "normal")
	return true
}

// startTransferredCall starts the call a transfer leaves behind: the transferee calling dialled
// (blind), or already talking with target (attended). It gets a bridge of its own.
func (a *App) startTransferredCall(transferee Channel, dialled, from string, target *Channel) {
	if target != nil {
		dialled = endpointOf(target.Name)
	}
	now := time.Now()
	c := a.newCall(uuid.NewString(), transferee, dialled, now)
	c.callerUp = true
	c.setRecord(switchboard.CallChange{Caller: c.caller, Callee: dialled, CallerChannel: transferee.ID,
		StartedAt: now, TransferredFrom: from})
	c.log.Info("call started by a transfer", "transferred_from", from)
	if target == nil {
		a.run(c, c.lookup)
		return
	}
	c.talking = &leg{id: target.ID, name: target.Name}
	a.own(c, target.ID)
	a.run(c, func(ctx context.Context) step {
		ast := a.Asterisk
		c.bridge = bridgeID(c.id)
		if err := ast.CreateBridge(c.op(), c.bridge); err != nil && ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
		if err := ast.AddToBridge(c.op(), c.bridge, transferee.ID, target.ID); err != nil {
			if ErrorIsUnavailable(err) {
				return c.suspend(err)
			}
			c.log.Warn("joining the transferred parties failed", "error", err)
		}
		c.inBridge = true
		// Each ends the other when it hangs up, as the legs of any call do.
		go ast.SetVariable(c.op(), transferee.ID, hangupHandlerPush, hangupPeerHandler+"("+target.Name+",)")
		go ast.SetVariable(c.op(), target.ID, hangupHandlerPush, hangupPeerHandler+"("+transferee.Name+",)")
		c.route = routing.Step{Kind: routing.Ring, Target: switchboard.User{Extension: dialled}, Path: []string{dialled}}
		c.setRecord(switchboard.CallChange{Outcome: switchboard.Answered, AnsweredAt: time.Now(),
			CalleeChannel: target.ID, Bridge: c.bridge})
		return c.talk(time.Time{})
	})
}

// isDialable reports whether a transfer target a phone asked for is a number of the dial plan.
func isDialable(s string) bool {
	return len(s) >= 2 && len(s) <= 6 && strings.Trim(s, "0123456789") == ""
}
