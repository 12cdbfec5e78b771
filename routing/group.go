package routing

import (
	"slices"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// Ring groups. A group rings the phones of its members who can take a call now: registered,
// not on do not disturb, not in a call with call waiting off, and not the caller. Their
// forwards are not followed: the call reaches them as members of the group, not on their own
// line. With ring_all every such member's phones ring at once for the group's timeout; with
// hunt one member rings after the other, each for ring_seconds, until the timeout would be
// passed. When nobody answers (or nobody can take it) the call goes to the group's no-answer
// destination.

// group is a call reaching g, whose number ends path.
func (r router) group(g switchboard.Group, path []string, hops []Forwarding) Step {
	if g.Strategy == switchboard.Hunt {
		return r.hunt(g, path, hops, 0, 0)
	}
	var devices []string
	for _, ext := range g.Members {
		if p, ok := r.member(ext); ok {
			devices = append(devices, p.Devices...)
		}
	}
	if len(devices) == 0 {
		return r.groupNoAnswer(g, path, hops, switchboard.ReasonOffline)
	}
	return Step{Kind: Ring, Target: groupTarget(g), Group: &g, Devices: devices,
		Timeout: time.Duration(g.Timeout) * time.Second, Path: path, Forwarded: hops}
}

// hunt rings the first member from index from on who can take the call, for ring_seconds or
// what is left of the group's timeout.
func (r router) hunt(g switchboard.Group, path []string, hops []Forwarding, from int, elapsed time.Duration) Step {
	total := time.Duration(g.Timeout) * time.Second
	reason := switchboard.ReasonOffline
	for i := from; i < len(g.Members); i++ {
		left := total - elapsed
		if left <= 0 {
			reason = switchboard.ReasonNoAnswer
			break
		}
		p, ok := r.member(g.Members[i])
		if !ok {
			continue
		}
		return Step{Kind: Ring, Target: groupTarget(g), Group: &g, Member: i, Elapsed: elapsed, Devices: p.Devices,
			Timeout: min(time.Duration(g.RingSeconds)*time.Second, left), Path: path, Forwarded: hops}
	}
	if from > 0 {
		reason = switchboard.ReasonNoAnswer // someone rang: nobody answered
	}
	return r.groupNoAnswer(g, path, hops, reason)
}

// groupAfter follows a group's ringing step that nobody answered: the next member when
// hunting, else the no-answer destination.
func (r router) groupAfter(ring Step) Step {
	g := *ring.Group
	if g.Strategy == switchboard.Hunt {
		return r.hunt(g, ring.Path, ring.Forwarded, ring.Member+1, ring.Elapsed+ring.Timeout)
	}
	return r.groupNoAnswer(g, ring.Path, ring.Forwarded, switchboard.ReasonNoAnswer)
}

// member returns a member who can take the call now, with their phones.
func (r router) member(ext string) (Party, bool) {
	if ext == r.caller {
		return Party{}, false
	}
	p, ok := r.lookup(ext)
	switch {
	case !ok || p.Room != nil || p.Group != nil || p.Queue != nil:
		return Party{}, false
	case p.User.Calls.DND, len(p.Devices) == 0, p.InCall && !p.User.Calls.CallWaiting:
		return Party{}, false
	}
	return p, true
}

// groupNoAnswer sends a call nobody in g took to g's destination.
func (r router) groupNoAnswer(g switchboard.Group, path []string, hops []Forwarding, reason string) Step {
	return r.destination(groupTarget(g), g.NoAnswer, path, hops, reason)
}

// QueueTimeout returns where a call that waited in a queue (its Queued step) as long as the
// queue lets callers wait goes: the queue's no-answer destination.
func QueueTimeout(queued Step, lookup Lookup) Step {
	r := router{caller: queued.Caller, lookup: lookup}
	q := queued.Queue
	s := r.destination(switchboard.User{Extension: q.Number, Name: q.Name, Voicemail: q.Mailbox}, q.NoAnswer, queued.Path, queued.Forwarded,
		switchboard.ReasonMaxWait)
	s.Caller = queued.Caller
	return s
}

// destination sends a call that owner (a group, a queue) could not place to its destination: a
// user's mailbox or owner's own, another number (never back into the call's path), or a
// refusal.
func (r router) destination(owner switchboard.User, dest switchboard.GroupDestination, path []string, hops []Forwarding, reason string) Step {
	refuse := Step{Kind: Reject, Target: owner, Cause: NobodyAvailable, Reason: reason, Path: path, Forwarded: hops}
	switch dest.Kind {
	case switchboard.DestinationVoicemail:
		if dest.Number == owner.Extension {
			// The group's (queue's) own mailbox; without one, nobody takes the call.
			if !owner.Voicemail.Enabled {
				return refuse
			}
			return Step{Kind: Voicemail, Target: owner, Greeting: Unavailable, Reason: reason, Path: path, Forwarded: hops}
		}
		p, ok := r.lookup(dest.Number)
		if !ok || p.Room != nil || p.Group != nil || p.Queue != nil {
			return refuse
		}
		return Step{Kind: Voicemail, Target: p.User, Greeting: Unavailable, Reason: reason,
			Path: with(path, p.User.Extension), Forwarded: hops}
	case switchboard.DestinationNumber:
		if slices.Contains(path, dest.Number) || len(hops) >= MaxHops {
			return refuse
		}
		p, ok := r.lookup(dest.Number)
		if !ok {
			return refuse
		}
		return r.reach(p, path, append(slices.Clone(hops), Forwarding{From: owner.Extension, To: dest.Number, Kind: OnNoAnswer}))
	}
	return refuse
}

// groupTarget names a group where a step names whom it reaches (its own mailbox too).
func groupTarget(g switchboard.Group) switchboard.User {
	return switchboard.User{Extension: g.Number, Name: g.Name, Voicemail: g.Mailbox}
}
