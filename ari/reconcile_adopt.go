package ari

import (
	"context"
	"slices"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/routing"
)

// adopt carries out one adoption.
func (a *App) adopt(ctx context.Context, ad adoption) {
	if ad.action == adoptNew && provisioning.TrunkName(endpointOf(ad.caller.Name)) != "" {
		a.Logger.Info("reconcile: serving a call from a trunk nobody recorded", "caller_channel", ad.caller.ID)
		a.startInbound(ad.caller, ad.rec.Callee, "", "", ad.rec.StartedAt)
		return
	}
	if ad.action == adoptNew {
		a.Logger.Info("reconcile: serving a caller nobody recorded", "caller_channel", ad.caller.ID, "callee", ad.rec.Callee)
		a.startCall(ad.caller, ad.rec.Callee, "", ad.rec.StartedAt)
		return
	}
	if ad.action == adoptClose {
		a.closeUnseen(ctx, ad.rec)
		return
	}
	c := a.newCall(ad.rec.ID, ad.caller, ad.rec.Callee, ad.rec.StartedAt)
	c.mu.Lock()
	c.rec = ad.rec
	c.mu.Unlock()
	if c.caller == "" {
		c.caller = ad.rec.Caller
	}
	c.bridge, c.legSeq = ad.bridge.ID, ad.legs
	c.inBridge = slices.Contains(ad.bridge.Channels, c.callerCh)
	if ad.leg.ID != "" {
		c.talking = &leg{id: ad.leg.ID, name: ad.leg.Name}
		a.own(c, ad.leg.ID)
	}
	for _, r := range ad.ringing {
		c.legs = append(c.legs, &leg{id: r.ID, name: r.Name})
		a.own(c, r.ID)
	}
	c.route = a.routeOf(ctx, ad)
	if c.route.Queue != nil {
		a.adoptQueued(c, ad)
	}
	c.log.Info("reconcile: adopted a call", "phase", ad.action.String(), "callee_channel", ad.leg.ID,
		"ringing", len(ad.ringing), "bridge", c.bridge)
	if c.record().StartedAt.IsZero() {
		c.setRecord(switchboard.CallChange{Caller: c.caller, Callee: c.callee, CallerChannel: c.callerCh, StartedAt: time.Now()})
	} else if ad.rec.Caller == "" {
		// Rebuilt from Asterisk alone: store what is known, in case the record was lost.
		c.setRecord(switchboard.CallChange{Caller: c.caller, Callee: c.callee, CallerChannel: c.callerCh,
			StartedAt: ad.rec.StartedAt, CalleeChannel: ad.leg.ID, Bridge: c.bridge})
	}
	var from step
	switch ad.action {
	case adoptTalk:
		if ad.rec.Outcome != switchboard.Answered {
			// Answered while nobody watched: the answer is noted now, when it is first seen.
			c.setRecord(switchboard.CallChange{Outcome: switchboard.Answered, AnsweredAt: time.Now(), CalleeChannel: ad.leg.ID,
				AnsweredBy: endpointOf(ad.leg.Name)})
		}
		from = c.talk(time.Time{})
	case adoptConnect:
		from = c.joinBridge(ad.bridge, c.connect)
	case adoptRinging:
		from = c.joinBridge(ad.bridge, c.resumeRinging)
	case adoptNoAnswer:
		from = func(context.Context) step { return c.after(routing.ResultNoAnswer) }
	case adoptLookup:
		from = c.lookup
	case adoptDialplan:
		from = func(context.Context) step {
			if err := a.Asterisk.Subscribe(c.op(), c.callerCh); ErrorIsUnavailable(err) {
				return c.suspend(err)
			}
			return c.inDialplan
		}
	}
	a.run(c, from)
}

// routeOf rebuilds the ringing step an adopted call was in, for what follows it: the target is
// the user whose phones the legs ring (or, with no leg left, the last one the call was
// forwarded to), the path is the dialled user and the forwards the record names.
func (a *App) routeOf(ctx context.Context, ad adoption) routing.Step {
	path := append([]string{ad.rec.Callee}, ad.rec.ForwardedTo...)
	target := path[len(path)-1]
	if s, ok := a.groupRouteOf(ctx, ad, path); ok {
		return s
	}
	if s, ok := a.queueRouteOf(ctx, ad, path); ok {
		return s
	}
	if len(ad.ringing) > 0 {
		if ext := endpointOf(ad.ringing[0].Name); ext != "" {
			target = ext
		}
	}
	if path[len(path)-1] != target {
		path = append(path, target)
	}
	s := routing.Step{Kind: routing.Ring, Target: switchboard.User{Extension: target}, Path: path}
	for i := 1; i < len(path); i++ {
		s.Forwarded = append(s.Forwarded, routing.Forwarding{From: path[i-1], To: path[i]})
	}
	if u, err := a.Users.User(ctx, target); err == nil {
		s.Target = u
		s.Timeout = time.Duration(u.RingTimeout) * time.Second
	}
	return s
}

// joinBridge returns a step that makes sure caller and leg are both in the call's bridge
// (creating it when it is gone), then goes on with next.
func (c *call) joinBridge(have Bridge, next step) step {
	return func(ctx context.Context) step {
		ast := c.app.Asterisk
		if c.bridge == "" {
			c.bridge = bridgeID(c.id)
			if err := ast.CreateBridge(c.op(), c.bridge); err != nil {
				if ErrorIsUnavailable(err) {
					return c.suspend(err)
				}
				c.log.Error("create bridge failed", "error", err)
			}
		}
		// The caller always; a leg when it is the only one (several ringing legs wait outside
		// the bridge until one answers).
		want := []string{c.callerCh}
		switch {
		case c.talking != nil:
			want = append(want, c.talking.id)
		case len(c.legs) == 1:
			want = append(want, c.legs[0].id)
		}
		var missing []string
		for _, ch := range want {
			if !slices.Contains(have.Channels, ch) {
				missing = append(missing, ch)
			}
		}
		if len(missing) > 0 {
			if err := ast.AddToBridge(c.op(), c.bridge, missing...); err != nil {
				if ErrorIsUnavailable(err) {
					return c.suspend(err)
				}
				c.log.Info("joining the bridge failed", "error", err) // a party left: its events follow
			}
		}
		c.inBridge = true
		return next
	}
}

// connect answers a caller whose callee answered while nobody watched (they are bridged now).
func (c *call) connect(ctx context.Context) step {
	if !c.callerUp {
		if err := c.app.Asterisk.Answer(c.op(), c.callerCh); ErrorIsUnavailable(err) {
			return c.suspend(err)
		}
	}
	c.setRecord(switchboard.CallChange{Outcome: switchboard.Answered, AnsweredAt: time.Now(), Bridge: c.bridge, CalleeChannel: c.talking.id,
		AnsweredBy: endpointOf(c.talking.name)})
	c.log.Info("joined a callee that answered while nobody watched")
	return c.talk(time.Time{})
}

// resumeRinging waits for a ringing call's answer with a fresh ring timeout of its own.
func (c *call) resumeRinging(ctx context.Context) step {
	timeout := c.route.Timeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	c.ringUntil = time.Now().Add(timeout + c.app.RingGrace)
	return c.ringing
}

// groupRouteOf rebuilds the ringing step of an adopted call that rings a ring group's members:
// what follows is the group's (the next member when hunting, else its destination), not the
// rules of the member whose phone rings.
func (a *App) groupRouteOf(ctx context.Context, ad adoption, path []string) (routing.Step, bool) {
	if a.Groups == nil {
		return routing.Step{}, false
	}
	g, err := a.Groups.Group(ctx, path[len(path)-1])
	if err != nil {
		return routing.Step{}, false
	}
	s := routing.Step{Kind: routing.Ring, Target: switchboard.User{Extension: g.Number, Name: g.Name}, Group: &g,
		Path: path, Caller: ad.rec.Caller, Timeout: time.Duration(g.RingSeconds) * time.Second}
	if len(ad.ringing) > 0 {
		if i := slices.Index(g.Members, endpointOf(ad.ringing[0].Name)); i >= 0 {
			s.Member = i
		}
	}
	for i := 1; i < len(path); i++ {
		s.Forwarded = append(s.Forwarded, routing.Forwarding{From: path[i-1], To: path[i]})
	}
	return s, true
}

// queueRouteOf rebuilds the step of an adopted call into a call queue: ringing its agents, or
// waiting (what follows a ringing step nobody answered is then the wait).
func (a *App) queueRouteOf(ctx context.Context, ad adoption, path []string) (routing.Step, bool) {
	if a.Queues == nil {
		return routing.Step{}, false
	}
	q, err := a.Queues.Queue(ctx, path[len(path)-1])
	if err != nil {
		return routing.Step{}, false
	}
	s := routing.Step{Kind: routing.Ring, Target: switchboard.User{Extension: q.Number, Name: q.Name}, Queue: &q,
		Path: path, Caller: ad.rec.Caller, Timeout: time.Duration(q.RingSeconds) * time.Second}
	for i := 1; i < len(path); i++ {
		s.Forwarded = append(s.Forwarded, routing.Forwarding{From: path[i-1], To: path[i]})
	}
	return s, true
}

// adoptQueued puts an adopted queue call back in its queue's record: in line (by its start
// time) unless an agent took it, with the agents its legs ring or talk to.
func (a *App) adoptQueued(c *call, ad adoption) {
	q := a.queue(c.route.Queue.Number)
	q.mu.Lock()
	defer q.mu.Unlock()
	c.queued, c.queueSince = q, c.record().StartedAt
	if ad.leg.ID != "" {
		c.agent = endpointOf(ad.leg.Name)
		q.agent(c.agent).busy = c.id
		return
	}
	q.add(c)
	for _, r := range ad.ringing {
		q.agent(endpointOf(r.Name)).ringing = c.id
	}
}
