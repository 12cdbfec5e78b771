// Package routing decides where a call goes: given what was dialled, who dials, the settings of
// the people it reaches and their phones' state, it returns the next step (ring these phones
// for so long, a mailbox, a refusal), and after a ringing step ends, the step that follows. It
// follows forwards (unconditional, on busy, on no answer) with a hop limit and never back to
// someone already on the call's path, honours do-not-disturb and call waiting, and is pure:
// what it knows of users comes through a Lookup, so that call control (over ARI) and the
// generated fallback dialplan apply the same rules, and tables test every combination.
package routing

import (
	"slices"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// MaxHops is how many times one call may be forwarded.
const MaxHops = 5

// Party is what routing needs to know of a user when a call reaches them.
type Party struct {
	User switchboard.User
	// Devices are the dial strings of the registered phones (PJSIP/1002/sip:...), all rung at once.
	Devices []string
	// InCall says a phone of theirs is in a call already.
	InCall bool
	// Room, when not nil, says the number is a conference room's, not a user's: a call that
	// reaches it (dialled, or forwarded there) joins the room.
	Room *switchboard.Room
	// Group, when not nil, says the number is a ring group's: its members are looked up in
	// turn.
	Group *switchboard.Group
	// Queue, when not nil, says the number is a call queue's: the caller waits in it.
	Queue *switchboard.Queue
}

// Lookup returns what is known of a number now; ok is false when nobody (no user, no room) has it.
type Lookup func(ext string) (p Party, ok bool)

// Call is a call being routed.
type Call struct {
	Caller  string // the calling extension ("" for a call from the outside world)
	Dialled string // what was dialled
	// Routes are the outbound routes in the order they are tried. An emergency route's number
	// goes out whatever the extension plan says; another route's only when no user, room,
	// group or queue has the number. A call from outside never goes out again.
	Routes []switchboard.OutboundRoute
}

// Kind is what a step does.
type Kind int

// The kinds of steps.
const (
	Ring       Kind = iota // ring the target's phones
	Voicemail              // the target's mailbox (which plays an announcement when it has none)
	Reject                 // refuse the call
	Conference             // join a conference room
	Queued                 // wait in a call queue for an agent
	External               // a call to the outside world through a trunk (Outbound says which)
)

func (k Kind) String() string {
	return [...]string{"ring", "voicemail", "reject", "conference", "queued", "external"}[k]
}

// Greeting is which greeting a mailbox plays.
type Greeting string

// The greetings.
const (
	Unavailable  Greeting = "unavailable"
	BusyGreeting Greeting = "busy"
)

// Cause is why a call is refused, as the caller's phone is told.
type Cause string

// The causes.
const (
	NoSuchNumber Cause = "unallocated" // 404: nobody has this number
	UserBusy     Cause = "busy"        // 486: busy, and no mailbox to take a message
	// NobodyAvailable: 480, a ring group whose members did not answer, with nowhere to go.
	NobodyAvailable Cause = "no_answer"
	// RouteDenied: the caller may not use the route the number matched (an announcement says so).
	RouteDenied Cause = "route_denied"
	// TrunksFailed: 503, no trunk of the route could take the call.
	TrunksFailed Cause = "trunks_failed"
)

// Step is what to do next with a call.
type Step struct {
	Kind     Kind
	Target   switchboard.User // whose phones ring, whose mailbox answers
	Devices  []string         // Ring: the phones
	Timeout  time.Duration    // Ring: how long they ring
	Greeting Greeting         // Voicemail
	Cause    Cause            // Reject
	Room     switchboard.Room // Conference: the room the call joins
	// Reason says why the step was chosen: switchboard.ReasonBusy, ReasonOffline, ReasonDND,
	// ReasonNoAnswer... ("" for a plain ring).
	Reason string
	// Path is who the call reached, in order: the dialled user first, then each forward's
	// target. The last one is Target.
	Path []string
	// Forwarded says how the call got to Target, hop by hop.
	Forwarded []Forwarding
	// Group is set on the ringing steps of a ring group (Target then names the group, and
	// Devices are its members'). Hunting, Member is the index of the member ringing, and
	// Elapsed the ring time given to the members before.
	Group   *switchboard.Group
	Member  int
	Elapsed time.Duration
	// Queue is set on a Queued step, and on the ringing steps of the queue's agents.
	Queue *switchboard.Queue
	// Caller is who calls: a group never rings the caller's own phones.
	Caller string
	// Outbound is set on an External step (and on the refusal that ends one): the number sent
	// and the trunks of its route.
	Outbound *OutboundStep
	// routes are the call's outbound routes, for the forwards of the steps that follow.
	routes []switchboard.OutboundRoute
}

// Forwarding is one hop of a forwarded call.
type Forwarding struct {
	From, To string
	Kind     ForwardKind
}

// ForwardKind names a forward.
type ForwardKind string

// The forwards.
const (
	Unconditional ForwardKind = "unconditional"
	OnBusy        ForwardKind = "busy"
	OnNoAnswer    ForwardKind = "no_answer"
)

// Result is how a ringing step ended without an answer.
type Result int

// The results.
const (
	ResultBusy        Result = iota // a phone refused busy (486), or every phone was busy
	ResultNoAnswer                  // they rang out
	ResultDeclined                  // a phone declined (603)
	ResultUnreachable               // no phone could be reached (480, 5xx, a network error)
)

// Route returns the first step of a call.
func Route(c Call, lookup Lookup) Step {
	r := router{caller: c.Caller, lookup: lookup, routes: c.Routes}
	outside := c.Caller == ""
	if route, number, ok := matchRoute(c.Routes, c.Dialled, true); ok && !outside {
		s := outbound(route, number)
		s.Caller = c.Caller
		return s
	}
	p, ok := r.lookup(c.Dialled)
	if !ok {
		if route, number, ok := matchRoute(c.Routes, c.Dialled, false); ok && !outside {
			if !Permitted(route, c.Caller) {
				return Step{Kind: Reject, Cause: RouteDenied, Reason: switchboard.ReasonRouteDenied, Caller: c.Caller}
			}
			s := outbound(route, number)
			s.Caller = c.Caller
			return s
		}
		return Step{Kind: Reject, Cause: NoSuchNumber, Reason: switchboard.ReasonUnknownExtension}
	}
	s := r.reach(p, nil, nil)
	s.Caller = c.Caller
	s.routes = c.Routes
	return s
}

// router routes one call: who calls (their own phones never ring for a group they are in),
// and what is known of numbers.
type router struct {
	caller string
	lookup Lookup
	routes []switchboard.OutboundRoute
}

// After returns the step that follows a ringing step that ended without an answer.
func After(ring Step, result Result, lookup Lookup) Step {
	r := router{caller: ring.Caller, lookup: lookup, routes: ring.routes}
	s := r.after(ring, result)
	s.Caller = ring.Caller
	s.routes = ring.routes
	return s
}

func (r router) after(ring Step, result Result) Step {
	if ring.Outbound != nil {
		return outboundAfter(ring, result)
	}
	if ring.Group != nil {
		return r.groupAfter(ring)
	}
	p, ok := r.lookup(ring.Target.Extension)
	if !ok {
		// Deleted while it rang: what the user had is gone with them.
		p = Party{User: ring.Target}
	}
	path, hops := ring.Path[:len(ring.Path)-1], ring.Forwarded
	switch result {
	case ResultBusy:
		return r.busy(p, path, hops, switchboard.ReasonBusy)
	case ResultDeclined:
		return r.noAnswer(p, path, hops, switchboard.ReasonDeclined)
	case ResultUnreachable:
		return r.noAnswer(p, path, hops, switchboard.ReasonUnreachable)
	}
	return r.noAnswer(p, path, hops, switchboard.ReasonNoAnswer)
}

// reach is the call arriving at p, having been through path (hops says how).
func (r router) reach(p Party, path []string, hops []Forwarding) Step {
	if p.Room != nil {
		return Step{Kind: Conference, Room: *p.Room, Path: with(path, p.Room.Number), Forwarded: hops}
	}
	if p.Group != nil {
		return r.group(*p.Group, with(path, p.Group.Number), hops)
	}
	if p.Queue != nil {
		return Step{Kind: Queued, Target: switchboard.User{Extension: p.Queue.Number, Name: p.Queue.Name},
			Queue: p.Queue, Path: with(path, p.Queue.Number), Forwarded: hops}
	}
	u := p.User
	if next, ok := r.forward(p, path, hops, Unconditional, u.Calls.Forwards.Unconditional); ok {
		return next
	}
	switch {
	case r.isLoop(p, path, hops, u.Calls.Forwards.Unconditional):
		// The unconditional forward leads back into the call's path (or past the hop limit):
		// the call stays with the last person it reached, in their mailbox.
		return mailbox(p, path, hops, Unavailable, switchboard.ReasonForwardLoop)
	case u.Calls.DND:
		return busyEnd(p, path, hops, switchboard.ReasonDND)
	case len(p.Devices) == 0:
		return r.noAnswer(p, path, hops, switchboard.ReasonOffline)
	case p.InCall && !u.Calls.CallWaiting:
		return r.busy(p, path, hops, switchboard.ReasonBusy)
	}
	return Step{Kind: Ring, Target: u, Devices: slices.Clone(p.Devices),
		Timeout: time.Duration(u.RingTimeout) * time.Second, Path: with(path, u.Extension), Forwarded: hops}
}

// busy is p being busy: their busy forward, else their busy greeting (or a busy refusal).
func (r router) busy(p Party, path []string, hops []Forwarding, reason string) Step {
	if next, ok := r.forward(p, path, hops, OnBusy, p.User.Calls.Forwards.Busy); ok {
		return next
	}
	return busyEnd(p, path, hops, reason)
}

// busyEnd ends a busy call at p: the busy greeting, or a busy signal without a mailbox.
func busyEnd(p Party, path []string, hops []Forwarding, reason string) Step {
	if !p.User.Voicemail.Enabled {
		return Step{Kind: Reject, Target: p.User, Cause: UserBusy, Reason: reason,
			Path: with(path, p.User.Extension), Forwarded: hops}
	}
	return mailbox(p, path, hops, BusyGreeting, reason)
}

// noAnswer is p not answering: their no-answer forward, else their unavailable greeting.
func (r router) noAnswer(p Party, path []string, hops []Forwarding, reason string) Step {
	if next, ok := r.forward(p, path, hops, OnNoAnswer, p.User.Calls.Forwards.NoAnswer); ok {
		return next
	}
	return mailbox(p, path, hops, Unavailable, reason)
}

func mailbox(p Party, path []string, hops []Forwarding, g Greeting, reason string) Step {
	return Step{Kind: Voicemail, Target: p.User, Greeting: g, Reason: reason,
		Path: with(path, p.User.Extension), Forwarded: hops}
}

// forward follows p's forward f when it can: it is active, leads to a user, not to anyone the
// call already reached, and within the hop limit.
func (r router) forward(p Party, path []string, hops []Forwarding, kind ForwardKind, f switchboard.Forward) (Step, bool) {
	if !f.Active() || !canFollow(p, path, hops, f) {
		return Step{}, false
	}
	next, ok := r.lookup(f.Destination)
	if !ok {
		// An outside number, through a route the forwarding user may use (whoever calls: a
		// call from outside may be forwarded out by a user's own setting); otherwise a number
		// nobody has (its user was deleted): ignored.
		return r.forwardOut(p, path, hops, kind, f)
	}
	return r.reach(next, with(path, p.User.Extension),
		append(slices.Clone(hops), Forwarding{From: p.User.Extension, To: f.Destination, Kind: kind})), true
}

// canFollow reports whether the call may go from p to f's destination.
func canFollow(p Party, path []string, hops []Forwarding, f switchboard.Forward) bool {
	return f.Destination != p.User.Extension && !slices.Contains(path, f.Destination) && len(hops) < MaxHops
}

// isLoop reports whether p's forward f is active towards a user but cannot be followed.
func (r router) isLoop(p Party, path []string, hops []Forwarding, f switchboard.Forward) bool {
	if !f.Active() || canFollow(p, path, hops, f) {
		return false
	}
	_, ok := r.lookup(f.Destination)
	return ok && f.Destination != p.User.Extension
}

func with(path []string, ext string) []string {
	return append(slices.Clone(path), ext)
}
