package routing

import (
	"slices"
	"strings"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// OutboundRingTimeout is how long a call to the outside world may ring before it is given up:
// the far end decides (its own voicemail, a network announcement), not a desk phone's timer.
const OutboundRingTimeout = 180 * time.Second

// OutboundStep is a call to the outside world: the number the provider is sent, through which
// trunks in order. Trunk is the index in Trunks of the trunk tried now.
type OutboundStep struct {
	Route     string
	Emergency bool
	Number    string
	Trunks    []string
	Trunk     int
	CallerID  string // the route's own, "" when it has none
	// ForwardedBy is the user whose forward sent the call out: their caller ID is sent, and
	// their permission to use the route was checked.
	ForwardedBy string
}

// TrunkName is the trunk the step tries now.
func (o OutboundStep) TrunkName() string { return o.Trunks[o.Trunk] }

// matchRoute returns the first route of routes (in order) with a pattern that matches dialled,
// and the number to send; only emergency routes when emergency is set.
func matchRoute(routes []switchboard.OutboundRoute, dialled string, emergency bool) (switchboard.OutboundRoute, string, bool) {
	for _, r := range routes {
		if emergency && !r.Emergency {
			continue
		}
		for _, p := range r.Patterns {
			if n, ok := MatchPattern(p, dialled); ok {
				return r, n, true
			}
		}
	}
	return switchboard.OutboundRoute{}, "", false
}

// MatchPattern tells whether dialled is p's prefix followed by a number that matches p.Match,
// and returns that number with p.Prepend before it.
func MatchPattern(p switchboard.DialPattern, dialled string) (string, bool) {
	rest, ok := strings.CutPrefix(dialled, p.Prefix)
	if !ok || !matchDigits(p.Match, rest) {
		return "", false
	}
	return p.Prepend + rest, true
}

// matchDigits matches s against an Asterisk-style pattern: X any digit, Z 1-9, N 2-9, [...] a
// set of digits and ranges, a trailing . one or more characters more, anything else itself.
func matchDigits(pattern, s string) bool {
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c == '.' && i == len(pattern)-1 {
			return len(s) > 0
		}
		if len(s) == 0 {
			return false
		}
		d := s[0]
		switch c {
		case 'X', 'x':
			if d < '0' || d > '9' {
				return false
			}
		case 'Z', 'z':
			if d < '1' || d > '9' {
				return false
			}
		case 'N', 'n':
			if d < '2' || d > '9' {
				return false
			}
		case '[':
			end := strings.IndexByte(pattern[i:], ']')
			if end < 0 || !inSet(pattern[i+1:i+end], d) {
				return false
			}
			i += end
		default:
			if c != d {
				return false
			}
		}
		s = s[1:]
	}
	return len(s) == 0
}

// inSet reports whether d is in a set such as 1-57 (1 to 5, and 7).
func inSet(set string, d byte) bool {
	for j := 0; j < len(set); j++ {
		lo, hi := set[j], set[j]
		if j+2 < len(set) && set[j+1] == '-' {
			hi = set[j+2]
			j += 2
		}
		if d >= lo && d <= hi {
			return true
		}
	}
	return false
}

// Permitted tells whether caller may use route r: emergency routes are everyone's, others are
// the listed users' (everyone's when none is listed).
func Permitted(r switchboard.OutboundRoute, caller string) bool {
	return r.Emergency || len(r.Users) == 0 || slices.Contains(r.Users, caller)
}

// OutboundCallerID is the number sent to the provider on a call of caller through trunk: the
// route's own, else the caller's outbound caller ID, else the trunk's, else the extension.
func OutboundCallerID(o OutboundStep, caller switchboard.User, trunk switchboard.Trunk) string {
	for _, id := range []string{o.CallerID, caller.OutboundCallerID, trunk.CallerID} {
		if id != "" {
			return id
		}
	}
	return caller.Extension
}

func outbound(r switchboard.OutboundRoute, number string) Step {
	return Step{Kind: External, Outbound: &OutboundStep{Route: r.Name, Emergency: r.Emergency, Number: number,
		Trunks: slices.Clone(r.Trunks), CallerID: r.CallerID},
		Target: switchboard.User{Extension: number}, Timeout: OutboundRingTimeout, Path: []string{number}}
}

// forwardOut follows p's forward f to an outside number when a route takes it and p may use
// that route.
func (r router) forwardOut(p Party, path []string, hops []Forwarding, kind ForwardKind, f switchboard.Forward) (Step, bool) {
	route, number, ok := matchRoute(r.routes, f.Destination, true)
	if !ok {
		route, number, ok = matchRoute(r.routes, f.Destination, false)
	}
	if !ok || !Permitted(route, p.User.Extension) {
		return Step{}, false
	}
	s := outbound(route, number)
	s.Outbound.ForwardedBy = p.User.Extension
	s.Path = append(with(path, p.User.Extension), f.Destination)
	s.Forwarded = append(slices.Clone(hops), Forwarding{From: p.User.Extension, To: f.Destination, Kind: kind})
	return s, true
}

// outboundAfter is the step after a trunk did not take the call: the next trunk when this one
// was unreachable, failed (5xx) or timed out; the caller is told busy or no answer otherwise.
func outboundAfter(ring Step, result Result) Step {
	o := *ring.Outbound
	switch result {
	case ResultBusy:
		return Step{Kind: Reject, Target: ring.Target, Cause: UserBusy, Reason: switchboard.ReasonBusy, Outbound: &o}
	case ResultNoAnswer, ResultDeclined:
		reason := switchboard.ReasonNoAnswer
		if result == ResultDeclined {
			reason = switchboard.ReasonDeclined
		}
		return Step{Kind: Reject, Target: ring.Target, Cause: NobodyAvailable, Reason: reason, Outbound: &o}
	}
	return NextTrunk(ring)
}

// NextTrunk is the step that tries the trunk after the one ring tried (a trunk at its channel
// limit, down, or failing): the same call on it, or a refusal when none is left.
func NextTrunk(ring Step) Step {
	o := *ring.Outbound
	o.Trunks = slices.Clone(o.Trunks)
	o.Trunk++
	if o.Trunk >= len(o.Trunks) {
		return Step{Kind: Reject, Target: ring.Target, Cause: TrunksFailed, Reason: switchboard.ReasonTrunksFailed, Outbound: &o}
	}
	s := ring
	s.Kind, s.Devices, s.Outbound = External, nil, &o
	return s
}
