package ari

import (
	"context"
	"strings"
	"unicode"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/routing"
)

// Calls that cross a trunk: a user's call to an outside number (out on the first trunk of its
// route that takes it) and a call from a provider to one of our numbers (routed to its
// destination as if dialled inside).

// OutsideWorld is what call control needs to know of trunks: nil when there are none (no
// call leaves or enters).
type OutsideWorld interface {
	// OutboundRoutes returns the routes in the order they are tried.
	OutboundRoutes(ctx context.Context) ([]switchboard.OutboundRoute, error)
	Trunk(ctx context.Context, name string) (switchboard.Trunk, error)
	InboundNumber(ctx context.Context, number string) (switchboard.InboundNumber, error)
}

// The prompts of refused outbound calls.
const (
	promptRouteDenied  = "sound:cannot-complete-as-dialed"
	promptTrunksFailed = "sound:all-circuits-busy-now"
)

// routes returns the outbound routes for routing the call (routing lets a call from outside go
// out again only through a user's forward). A store that cannot be read gives the routes read
// last.
func (c *call) routes() []switchboard.OutboundRoute {
	if c.app.Outside == nil {
		return nil
	}
	routes, err := c.app.Outside.OutboundRoutes(c.op())
	if err != nil {
		c.log.Warn("reading the outbound routes failed: using the last read", "error", err)
	}
	return routes
}

// dialOut tries the trunk the step names: at its channel limit, or unknown, it passes the call
// to the next one; otherwise the call rings the outside number through it.
func (c *call) dialOut(ctx context.Context) step {
	s := c.route
	o := s.Outbound
	name := o.TrunkName()
	trunk, err := c.app.Outside.Trunk(c.op(), name)
	if err != nil {
		if ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
		c.log.Warn("trunk of the route unknown: trying the next", "trunk", name, "route", o.Route, "error", err)
		return c.execute(routing.NextTrunk(s))
	}
	endpoint := provisioning.TrunkEndpoint(name)
	if trunk.ChannelLimit > 0 {
		ep, err := c.app.Asterisk.Endpoint(c.op(), endpoint)
		if err != nil && switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			if ErrorIsUnavailable(err) {
				return c.suspend(err)
			}
			c.log.Warn("counting the trunk's calls failed", "trunk", name, "error", err)
		}
		if len(ep.Channels) >= trunk.ChannelLimit && !o.Emergency {
			c.log.Info("trunk at its channel limit: trying the next", "trunk", name, "channels", len(ep.Channels),
				"limit", trunk.ChannelLimit)
			return c.execute(routing.NextTrunk(s))
		}
	}
	who := c.caller
	if o.ForwardedBy != "" {
		who = o.ForwardedBy // the user whose forward sends the call out
	}
	caller, err := c.app.Users.User(c.op(), who)
	if err != nil {
		caller = switchboard.User{Extension: who}
	}
	c.outCallerID = routing.OutboundCallerID(*o, caller, trunk)
	c.outCallerName = caller.Name
	if c.inbound == nil {
		// (A call from outside that a forward sends out stays inbound: its forwards say where.)
		c.setRecord(switchboard.CallChange{Direction: switchboard.Outbound, Trunk: name, External: o.Number})
	}
	c.log.Info("calling out", "trunk", name, "route", o.Route, "number", o.Number, "caller_id", c.outCallerID,
		"emergency", o.Emergency)
	s.Kind = routing.Ring
	s.Devices = []string{"PJSIP/" + o.Number + "@" + endpoint}
	c.route = s
	return c.startRinging
}

// setConnectedLine gives an outbound leg the caller ID to send, without an update to the
// channel (it is not dialled yet).
func (c *call) setConnectedLine(leg string) error {
	ast := c.app.Asterisk
	if err := ast.SetVariable(c.op(), leg, "CONNECTEDLINE(num,i)", c.outCallerID); err != nil {
		return err
	}
	return ast.SetVariable(c.op(), leg, "CONNECTEDLINE(name,i)", c.outCallerName)
}

// refuseOutbound ends a call the outbound routes did not take: the caller hears why (not
// allowed, no trunk free) and is hung up.
func (c *call) refuseOutbound(ctx context.Context, s routing.Step) step {
	prompt, reason := promptTrunksFailed, s.Reason
	if s.Cause == routing.RouteDenied {
		prompt = promptRouteDenied
		c.log.Info("outbound route denied", "number", c.callee)
	} else {
		c.log.Info("no trunk took the call", "number", c.callee, "reason", reason)
	}
	if err := c.app.Asterisk.Answer(c.op(), c.callerCh); err == nil {
		c.say(ctx, nil, prompt)
	}
	c.app.Asterisk.Hangup(c.op(), c.callerCh, "normal")
	c.destroyBridge()
	outcome := switchboard.Failed
	if s.Cause == routing.UserBusy || s.Cause == routing.NobodyAvailable {
		outcome = switchboard.Missed
	}
	c.finish(outcome, reason)
	return nil
}

// inboundCall is what a call from a trunk brought with it, sanitised.
type inboundCall struct {
	trunk        string
	number       string // the DID, "" when what the provider sent was not a number
	callerNumber string
	callerName   string
}

// SanitizeNumber keeps what a telephone number may hold of what a peer sent (digits, a
// leading +, * and #), at most 32 characters: nothing else reaches a log, a record or a phone.
func SanitizeNumber(s string) string {
	var b strings.Builder
	for i, r := range s {
		if b.Len() >= 32 {
			break
		}
		if unicode.IsDigit(r) && r < 128 || r == '*' || r == '#' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// SanitizeName keeps letters, digits, spaces and . , ' - _ ( ) & of a caller's name, at most
// 48 characters, with runs of spaces collapsed.
func SanitizeName(s string) string {
	const limit = 48
	out := make([]rune, 0, limit)
	space := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".,'-_()&", r):
			if space && len(out) > 0 {
				out = append(out, ' ')
			}
			space = false
			out = append(out, r)
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = true
		}
		if len(out) >= limit {
			out = out[:limit]
			break
		}
	}
	return strings.TrimSpace(string(out))
}

// lookupInbound routes a call from a trunk: to the destination of the number it is for, with
// the outside caller's number and name (sanitised) shown to the phones; a number that is none
// of ours (or not for this trunk) is refused as unallocated (404).
func (c *call) lookupInbound(ctx context.Context) step {
	in := c.inbound
	// The record is made once the destination is known: it is the call's callee.
	created := false
	create := func(callee string) {
		if !created {
			created = true
			c.mu.Lock()
			c.rec.Callee = callee
			c.mu.Unlock()
			c.setRecord(switchboard.CallChange{ID: c.id, Caller: c.caller, Callee: callee, CallerChannel: c.callerCh,
				StartedAt: c.rec.StartedAt, Direction: switchboard.Inbound, Trunk: in.trunk, External: in.callerNumber})
		}
	}
	defer create(in.number)
	refuse := func(why string) step {
		create(in.number)
		c.log.Info("inbound call refused", "reason", why, "trunk", in.trunk, "number", in.number)
		c.app.Asterisk.Hangup(c.op(), c.callerCh, string(routing.NoSuchNumber))
		c.finish(switchboard.Failed, switchboard.ReasonUnknownNumber)
		return nil
	}
	if in.number == "" || c.app.Outside == nil {
		return refuse("not a number")
	}
	n, err := c.app.Outside.InboundNumber(c.op(), in.number)
	switch {
	case switchboard.ErrorCode(err) == switchboard.ENOTFOUND:
		return refuse("no such inbound number")
	case err != nil:
		if ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
		c.log.Warn("inbound number lookup failed", "error", err)
		return refuse("lookup failed")
	case n.Trunk != "" && n.Trunk != in.trunk:
		return refuse("number of another trunk")
	}
	// The phones show the caller as the provider gave them, sanitised.
	ast := c.app.Asterisk
	ast.SetVariable(c.op(), c.callerCh, "CALLERID(num)", in.callerNumber)
	ast.SetVariable(c.op(), c.callerCh, "CALLERID(name)", in.callerName)
	d := n.Destination
	c.log.Info("inbound call", "trunk", in.trunk, "number", in.number, "destination", d.Kind, "to", d.Number)
	switch d.Kind {
	case switchboard.DestinationHangup:
		create(in.number)
		ast.Hangup(c.op(), c.callerCh, "normal")
		c.finish(switchboard.Missed, "")
		return nil
	case switchboard.DestinationVoicemail:
		p, ok := c.party(d.Number)
		if !ok {
			return refuse("mailbox gone")
		}
		box := p.User
		switch {
		case p.Group != nil:
			box.Voicemail = p.Group.Mailbox
		case p.Queue != nil:
			box.Voicemail = p.Queue.Mailbox
		}
		create(d.Number)
		return c.execute(routing.Step{Kind: routing.Voicemail, Target: box, Greeting: routing.Unavailable,
			Path: []string{d.Number}})
	}
	c.callee = d.Number
	create(d.Number)
	return c.lookup(ctx)
}
