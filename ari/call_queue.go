package ari

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/routing"
)

// A caller in a queue: answered, put in a bridge of their own with music on hold, told their
// place in line (then every announceEvery), and offered to agents when their turn comes, until
// an agent answers, they hang up, or they have waited the queue's maximum.

// announceEvery is how often a waiting caller hears their place in line again.
const announceEvery = 30 * time.Second

// recheckEvery is how often a waiting caller's turn is looked at again without a change in the
// queue: agents log in and phones register without call control being told.
const recheckEvery = time.Second

// enterQueue takes a call into the queue of its routing step.
func (c *call) enterQueue(ctx context.Context) step {
	ast := c.app.Asterisk
	q := c.app.queue(c.route.Queue.Number)
	if !c.callerUp {
		if err := ast.Answer(c.op(), c.callerCh); err != nil {
			if ErrorIsUnavailable(err) {
				return c.suspend(err)
			}
			c.finish(switchboard.Cancelled, "")
			return nil
		}
		c.callerUp = true
	}
	if c.bridge == "" {
		c.bridge = bridgeID(c.id)
		if err := ast.CreateBridge(c.op(), c.bridge); err != nil && switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			if ErrorIsUnavailable(err) {
				return c.suspend(err)
			}
			c.log.Error("create queue bridge failed", "error", err)
			c.bridge = ""
			return c.handToDialplan
		}
	}
	if !c.inBridge {
		if err := ast.AddToBridge(c.op(), c.bridge, c.callerCh); err != nil {
			if ErrorIsUnavailable(err) {
				return c.suspend(err)
			}
			c.finish(switchboard.Cancelled, "") // gone at this instant
			return nil
		}
		c.inBridge = true
	}
	c.setRecord(switchboard.CallChange{Bridge: c.bridge})
	q.mu.Lock()
	c.queued = q
	if c.queueSince.IsZero() {
		c.queueSince = time.Now()
	}
	q.add(c)
	position := slices.Index(q.waiting, c) + 1
	q.mu.Unlock()
	c.log.Info("queued", "queue", q.number, "position", position)
	ast.BridgeMOH(c.op(), c.bridge, true)
	// A free agent takes the call at once; only a caller who has to wait hears their place.
	if next, ok := c.offerToAgents(); ok {
		return next
	}
	if how := c.announcePosition(ctx, position); !c.promptEnded(how) {
		return nil
	}
	return c.waitInQueue
}

// announcePosition tells the caller their place in line, the music paused meanwhile.
func (c *call) announcePosition(ctx context.Context, position int) heard {
	ast := c.app.Asterisk
	media := []string{"sound:queue-youarenext"}
	if position > 1 {
		media = []string{"sound:queue-thereare", "number:" + strconv.Itoa(position-1), "sound:queue-callswaiting"}
	}
	ast.BridgeMOH(c.op(), c.bridge, false)
	how := c.say(ctx, nil, media...)
	if how == heardAll {
		ast.BridgeMOH(c.op(), c.bridge, true)
	}
	return how
}

// waitInQueue waits for the caller's turn: it rings agents when there are some for them, sends
// the caller on after the maximum wait, and ends the call when they hang up.
func (c *call) waitInQueue(ctx context.Context) step {
	ast := c.app.Asterisk
	maxWait := time.Duration(c.route.Queue.MaxWait) * time.Second
	announce := time.Now().Add(announceEvery)
	for {
		if time.Since(c.queueSince) >= maxWait {
			return c.queueTimedOut()
		}
		if next, ok := c.offerToAgents(); ok {
			return next
		}
		if time.Now().After(announce) {
			announce = time.Now().Add(announceEvery)
			q := c.queued
			q.mu.Lock()
			position := slices.Index(q.waiting, c) + 1
			q.mu.Unlock()
			if how := c.announcePosition(ctx, position); !c.promptEnded(how) {
				c.leaveQueue("")
				return nil
			}
		}
		timer := time.NewTimer(min(recheckEvery, time.Until(c.queueSince.Add(maxWait))))
		e, why := c.wait(ctx, timer.C)
		timer.Stop()
		switch why {
		case wakeStop:
			c.leaveQueue("")
			return nil
		case wakeHangup:
			ast.Hangup(c.op(), c.callerCh, "normal")
			c.destroyBridge()
			c.finish(switchboard.Cancelled, switchboard.ReasonHungUpByAdmin)
			return nil
		case wakeTimer:
			continue
		}
		if left(e) == c.callerCh {
			c.log.Info("caller hung up while waiting", "queue", c.queued.number, "waited", time.Since(c.queueSince))
			c.destroyBridge()
			c.finish(switchboard.Cancelled, switchboard.ReasonAbandoned)
			return nil
		}
	}
}

// offerToAgents rings the agents the queue's strategy picks for the caller, when it is their
// turn and some are free: the caller is first in line, or everyone ahead of them is being
// offered to an agent already.
func (c *call) offerToAgents() (step, bool) {
	def, err := c.app.Queues.Queue(c.op(), c.route.Queue.Number)
	switch {
	case switchboard.ErrorCode(err) == switchboard.ENOTFOUND:
		// Deleted while the caller waited: no agent will come, the destination takes them now.
		c.log.Info("queue deleted while the caller waited", "queue", c.route.Queue.Number)
		return c.queueTimedOut(), true
	case err != nil:
		c.log.Warn("read queue", "queue", c.route.Queue.Number, "error", err)
		return nil, false
	}
	q := c.queued
	q.mu.Lock()
	turn := false
	for _, o := range q.waiting {
		if o == c {
			turn = true
			break
		}
		if !q.ringingFor(o) {
			break // someone ahead waits for an agent: they come first
		}
	}
	var candidates []string
	if turn {
		for _, ag := range def.Agents {
			if ag.LoggedIn && q.free(c.app, ag.Extension) && ag.Extension != c.caller {
				candidates = append(candidates, ag.Extension)
			}
		}
	}
	q.mu.Unlock()
	if len(candidates) == 0 {
		return nil, false
	}
	// Which of them can take a call now: phones registered, not on do not disturb, not in a call.
	var free []routing.Party
	for _, ext := range candidates {
		p, ok := c.party(ext)
		if !ok || p.User.Calls.DND || len(p.Devices) == 0 {
			continue
		}
		if ep, err := c.app.Asterisk.Endpoint(c.op(), ext); err != nil || len(ep.Channels) > 0 {
			continue
		}
		free = append(free, p)
	}
	c.lookupErr = nil
	q.mu.Lock()
	defer q.mu.Unlock()
	// Another caller may have taken some of them meanwhile.
	free = slices.DeleteFunc(free, func(p routing.Party) bool { return !q.free(c.app, p.User.Extension) })
	picked := pickAgents(def, q, free)
	if len(picked) == 0 {
		return nil, false
	}
	s := routing.Step{Kind: routing.Ring, Target: c.route.Target, Queue: c.route.Queue, Path: c.route.Path,
		Forwarded: c.route.Forwarded, Caller: c.caller, Timeout: time.Duration(def.RingSeconds) * time.Second}
	var names []string
	for _, p := range picked {
		s.Devices = append(s.Devices, p.Devices...)
		q.agent(p.User.Extension).ringing = c.id
		q.last = p.User.Extension
		names = append(names, p.User.Extension)
	}
	c.route = s
	c.log.Info("offered to agents", "queue", q.number, "agents", names, "strategy", def.Strategy)
	return c.startRinging, true
}

// pickAgents applies a queue's strategy to the agents free now (q.mu held).
func pickAgents(def switchboard.Queue, q *queueState, free []routing.Party) []routing.Party {
	if len(free) == 0 {
		return nil
	}
	order := func(ext string) int {
		return slices.IndexFunc(def.Agents, func(a switchboard.QueueAgent) bool { return a.Extension == ext })
	}
	switch def.Strategy {
	case switchboard.QueueRingAll:
		return free
	case switchboard.QueueLeastRecent:
		return []routing.Party{slices.MinFunc(free, func(a, b routing.Party) int {
			ta, tb := q.agent(a.User.Extension).lastEnd, q.agent(b.User.Extension).lastEnd
			if c := ta.Compare(tb); c != 0 {
				return c
			}
			return order(a.User.Extension) - order(b.User.Extension)
		})}
	case switchboard.QueueFewestCalls:
		return []routing.Party{slices.MinFunc(free, func(a, b routing.Party) int {
			if d := q.agent(a.User.Extension).calls - q.agent(b.User.Extension).calls; d != 0 {
				return d
			}
			return order(a.User.Extension) - order(b.User.Extension)
		})}
	}
	// Round robin: the first free agent after the one rung last, in the queue's order.
	last := order(q.last)
	return []routing.Party{slices.MinFunc(free, func(a, b routing.Party) int {
		n := len(def.Agents)
		da, db := (order(a.User.Extension)-last-1+n)%n, (order(b.User.Extension)-last-1+n)%n
		return da - db
	})}
}

// agentsDidNotAnswer puts the caller back in line after the agents rung for them did not
// answer: they keep their place.
func (c *call) agentsDidNotAnswer() step {
	q := c.app.queue(c.route.Queue.Number)
	q.mu.Lock()
	q.stopRinging(c)
	c.queued = q
	if c.queueSince.IsZero() {
		c.queueSince = c.record().StartedAt
	}
	q.add(c)
	q.wake()
	q.mu.Unlock()
	c.route = routing.Step{Kind: routing.Queued, Target: c.route.Target, Queue: c.route.Queue, Path: c.route.Path,
		Forwarded: c.route.Forwarded, Caller: c.caller}
	c.app.Asterisk.BridgeMOH(c.op(), c.bridge, true)
	return c.waitInQueue
}

// agentAnswered notes the agent who took the call: they are busy with it until it ends.
func (c *call) agentAnswered(ext string) {
	q := c.queued
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopRinging(c)
	q.remove(c)
	s := q.agent(ext)
	s.busy = c.id
	s.calls++
	q.answered++
	c.agent = ext
	q.wake()
	c.log.Info("agent answered", "queue", q.number, "agent", ext, "waited", time.Since(c.queueSince))
}

// queueTimedOut sends a caller who waited as long as the queue lets them to its destination.
func (c *call) queueTimedOut() step {
	q := c.queued
	q.mu.Lock()
	q.remove(c)
	q.timedOut++
	q.wake()
	q.mu.Unlock()
	c.queued = nil
	c.app.Asterisk.BridgeMOH(c.op(), c.bridge, false)
	next := routing.QueueTimeout(c.route, c.party)
	c.lookupErr = nil
	c.log.Info("waited too long", "queue", q.number, "next", next.Kind.String())
	return c.execute(next)
}

// dropFromLine takes a call whose goroutine ends out of its queue's line, touching nothing
// else: a call that was stopped is taken over by another goroutine, which owns what its agents do.
func (c *call) dropFromLine() {
	if q := c.queued; q != nil {
		q.mu.Lock()
		q.remove(c)
		q.mu.Unlock()
	}
}

// leaveQueue takes the call out of its queue for good: out of line, and its agent free again.
// A caller who hung up before an agent answered abandoned the call (outcome cancelled).
func (c *call) leaveQueue(outcome switchboard.Outcome) {
	q := c.queued
	if q == nil {
		return
	}
	c.queued = nil
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopRinging(c)
	if q.remove(c) && outcome == switchboard.Cancelled {
		q.abandoned++
	}
	if c.agent != "" {
		if s := q.agent(c.agent); s.busy == c.id {
			s.busy, s.lastEnd = "", time.Now()
		}
	}
	q.wake()
}
