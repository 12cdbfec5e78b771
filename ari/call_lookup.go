package ari

import (
	"context"
	"strings"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/routing"
)

// lookup decides where the call goes first (routing), asking Asterisk for the phones of each
// user the call may reach.
func (c *call) lookup(ctx context.Context) step {
	caller := c.caller
	if c.inbound != nil {
		caller = "" // from outside
	}
	s := routing.Route(routing.Call{Caller: caller, Dialled: c.callee, Routes: c.routes()}, c.party)
	if err := c.lookupErr; err != nil {
		c.lookupErr = nil
		if ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
		c.log.Warn("routing lookup failed, handing the call to the dialplan", "error", err)
		return c.handToDialplan
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
	return c.execute(s)
}

// party tells routing about a user: who they are (from the directory), their registered phones
// (PJSIP_DIAL_CONTACTS, evaluated on the caller's channel) and, when they take no second call,
// whether they are in one. A failure to ask Asterisk is kept in c.lookupErr.
func (c *call) party(ext string) (routing.Party, bool) {
	u, err := c.app.Users.User(c.op(), ext)
	switch {
	case switchboard.ErrorCode(err) == switchboard.ENOTFOUND:
		return c.numberParty(ext)
	case err != nil:
		c.lookupErr = err
		return routing.Party{}, false
	}
	p := routing.Party{User: u}
	if u.Calls.DND {
		return p, true // no phone will ring: nothing to ask Asterisk
	}
	contacts, err := c.app.Asterisk.ChannelVariable(c.op(), c.callerCh, dialContactsFunction+"("+ext+")")
	if err != nil {
		c.lookupErr = err
		return p, true
	}
	for _, d := range strings.Split(contacts, "&") {
		if d = strings.TrimSpace(d); d != "" {
			p.Devices = append(p.Devices, d)
		}
	}
	if len(p.Devices) > 0 && !u.Calls.CallWaiting {
		ep, err := c.app.Asterisk.Endpoint(c.op(), ext)
		if err != nil && switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			c.lookupErr = err
			return p, true
		}
		p.InCall = len(ep.Channels) > 0
	}
	return p, true
}

// numberParty tells routing about a number no user has: a conference room's, a call queue's,
// a ring group's, or nobody's.
func (c *call) numberParty(number string) (routing.Party, bool) {
	kind := "" // unknown: ask each directory in turn
	if c.app.Numbers != nil {
		k, err := c.app.Numbers.NumberKind(c.op(), number)
		if err != nil {
			c.lookupErr = err
			return routing.Party{}, false
		}
		if k == "" || k == "user" { // nobody's (a user the directory has not seen is nobody yet)
			return routing.Party{}, false
		}
		kind = k
	}
	ask := func(k string) bool { return kind == "" || kind == k }
	if c.app.Rooms != nil && ask("room") {
		r, err := c.app.Rooms.Room(c.op(), number)
		switch {
		case err == nil:
			return routing.Party{Room: &r}, true
		case switchboard.ErrorCode(err) != switchboard.ENOTFOUND:
			c.lookupErr = err
			return routing.Party{}, false
		}
	}
	if c.app.Queues != nil && ask("queue") {
		q, err := c.app.Queues.Queue(c.op(), number)
		switch {
		case err == nil:
			return routing.Party{User: switchboard.User{Extension: q.Number, Name: q.Name}, Queue: &q}, true
		case switchboard.ErrorCode(err) != switchboard.ENOTFOUND:
			c.lookupErr = err
			return routing.Party{}, false
		}
	}
	if c.app.Groups != nil && ask("group") {
		g, err := c.app.Groups.Group(c.op(), number)
		switch {
		case err == nil:
			return routing.Party{User: switchboard.User{Extension: g.Number, Name: g.Name}, Group: &g}, true
		case switchboard.ErrorCode(err) != switchboard.ENOTFOUND:
			c.lookupErr = err
			return routing.Party{}, false
		}
	}
	return routing.Party{}, false
}
