package routing

import (
	"testing"

	"github.com/switchboard-pbx/switchboard"
)

func TestMatchPattern(t *testing.T) {
	for _, c := range []struct {
		p       switchboard.DialPattern
		dialled string
		want    string
		ok      bool
	}{
		{switchboard.DialPattern{Prefix: "9", Match: "NXXXXXX"}, "92345678", "2345678", true},
		{switchboard.DialPattern{Prefix: "9", Match: "NXXXXXX"}, "91345678", "", false},  // N is 2-9
		{switchboard.DialPattern{Prefix: "9", Match: "NXXXXXX"}, "9234567", "", false},   // too short
		{switchboard.DialPattern{Prefix: "9", Match: "NXXXXXX"}, "923456789", "", false}, // too long
		{switchboard.DialPattern{Prefix: "9", Match: "X."}, "9", "", false},              // . needs one more
		{switchboard.DialPattern{Prefix: "9", Match: "0X.", Prepend: "+33"}, "90612345678", "+330612345678", true},
		{switchboard.DialPattern{Match: "+X."}, "+4930123", "+4930123", true},
		{switchboard.DialPattern{Match: "112"}, "112", "112", true},
		{switchboard.DialPattern{Match: "112"}, "1120", "", false},
		{switchboard.DialPattern{Prefix: "9", Match: "[1-35]XX"}, "9512", "512", true},
		{switchboard.DialPattern{Prefix: "9", Match: "[1-35]XX"}, "9412", "", false},
		{switchboard.DialPattern{Prefix: "9", Match: "ZX"}, "901", "", false},
		{switchboard.DialPattern{Prefix: "0", Match: "X."}, "90", "", false}, // wrong prefix
	} {
		got, ok := MatchPattern(c.p, c.dialled)
		if got != c.want || ok != c.ok {
			t.Errorf("MatchPattern(%+v, %q) = %q, %v; want %q, %v", c.p, c.dialled, got, ok, c.want, c.ok)
		}
	}
}

var testRoutes = []switchboard.OutboundRoute{
	{Name: "emergency", Emergency: true, Patterns: []switchboard.DialPattern{{Match: "112"}, {Prefix: "9", Match: "112"}},
		Trunks: []string{"a", "b"}},
	{Name: "national", Patterns: []switchboard.DialPattern{{Prefix: "9", Match: "0[1-9]XXXXXXXX"}}, Trunks: []string{"a", "b"}},
	{Name: "international", Users: []string{"1001"}, Patterns: []switchboard.DialPattern{{Prefix: "9", Match: "00X."}},
		Trunks: []string{"b"}, CallerID: "+3312345678"},
}

func TestRouteOutbound(t *testing.T) {
	users := map[string]Party{
		"1001": {User: switchboard.User{Extension: "1001"}, Devices: []string{"PJSIP/1001/sip:a"}},
		"1002": {User: switchboard.User{Extension: "1002"}, Devices: []string{"PJSIP/1002/sip:b"}},
		// An extension that looks like an emergency number: the emergency route still wins.
		"112": {User: switchboard.User{Extension: "112"}, Devices: []string{"PJSIP/112/sip:c"}},
	}
	lookup := func(ext string) (Party, bool) { p, ok := users[ext]; return p, ok }
	for _, c := range []struct {
		caller, dialled string
		kind            Kind
		cause           Cause
		route, number   string
	}{
		{"1002", "90123456789", External, "", "national", "0123456789"},
		{"1002", "9001234", Reject, RouteDenied, "", ""}, // international is 1001's only
		{"1001", "9001234", External, "", "international", "001234"},
		{"1002", "112", External, "", "emergency", "112"}, // before extension 112
		{"1002", "9112", External, "", "emergency", "112"},
		{"1002", "1001", Ring, "", "", ""},
		{"1002", "98", Reject, NoSuchNumber, "", ""},
		{"", "90123456789", Reject, NoSuchNumber, "", ""}, // from outside: never out again
		{"", "1001", Ring, "", "", ""},
	} {
		s := Route(Call{Caller: c.caller, Dialled: c.dialled, Routes: testRoutes}, lookup)
		if s.Kind != c.kind || s.Cause != c.cause {
			t.Errorf("%s dials %s: step %v/%q, want %v/%q", c.caller, c.dialled, s.Kind, s.Cause, c.kind, c.cause)
			continue
		}
		if c.kind == External {
			if s.Outbound == nil || s.Outbound.Route != c.route || s.Outbound.Number != c.number || s.Outbound.Trunk != 0 {
				t.Errorf("%s dials %s: outbound %+v, want route %s number %s", c.caller, c.dialled, s.Outbound, c.route, c.number)
			}
		}
	}
}

func TestOutboundFailover(t *testing.T) {
	lookup := func(string) (Party, bool) { return Party{}, false }
	s := Route(Call{Caller: "1002", Dialled: "90123456789", Routes: testRoutes}, lookup)
	if s.Outbound.TrunkName() != "a" {
		t.Fatalf("first trunk %s, want a", s.Outbound.TrunkName())
	}
	// Call control rings the trunk's dial string; it fails (503, a timeout, the trunk down).
	ringing := s
	ringing.Kind, ringing.Devices = Ring, []string{"PJSIP/0123456789@trunk-a"}
	next := After(ringing, ResultUnreachable, lookup)
	if next.Kind != External || len(next.Devices) != 0 || next.Outbound.TrunkName() != "b" || next.Outbound.Number != "0123456789" {
		t.Fatalf("after a failure: %v %+v, want trunk b", next.Kind, next.Outbound)
	}
	if s.Outbound.Trunk != 0 {
		t.Fatal("After changed the step it was given")
	}
	last := After(next, ResultUnreachable, lookup)
	if last.Kind != Reject || last.Cause != TrunksFailed || last.Reason != switchboard.ReasonTrunksFailed {
		t.Fatalf("after the last trunk failed: %v %q, want a trunks_failed refusal", last.Kind, last.Cause)
	}
	if busy := After(s, ResultBusy, lookup); busy.Kind != Reject || busy.Cause != UserBusy {
		t.Fatalf("a busy far end: %v %q, want busy (no failover)", busy.Kind, busy.Cause)
	}
	if na := After(s, ResultNoAnswer, lookup); na.Kind != Reject || na.Cause != NobodyAvailable {
		t.Fatalf("no answer: %v %q, want a refusal (no failover)", na.Kind, na.Cause)
	}
}

func TestOutboundCallerID(t *testing.T) {
	u := switchboard.User{Extension: "1002"}
	tr := switchboard.Trunk{CallerID: "+3310000000"}
	o := OutboundStep{}
	if got := OutboundCallerID(o, u, switchboard.Trunk{}); got != "1002" {
		t.Errorf("nothing set: %s, want the extension", got)
	}
	if got := OutboundCallerID(o, u, tr); got != "+3310000000" {
		t.Errorf("trunk's: %s", got)
	}
	u.OutboundCallerID = "+3310000002"
	if got := OutboundCallerID(o, u, tr); got != "+3310000002" {
		t.Errorf("user's: %s", got)
	}
	o.CallerID = "+3312345678"
	if got := OutboundCallerID(o, u, tr); got != "+3312345678" {
		t.Errorf("route's: %s", got)
	}
}

// A forward to an outside number goes out through a route the forwarding user may use, with
// their caller ID; one they may not use is ignored as if off. A call from outside may be
// forwarded out by a user's own setting.
func TestForwardToOutsideNumber(t *testing.T) {
	fwd := func(ext, to string) Party {
		u := switchboard.User{Extension: ext, Voicemail: switchboard.Mailbox{Enabled: true}, RingTimeout: 20}
		u.Calls.Forwards.Unconditional = switchboard.Forward{Enabled: true, Destination: to}
		return Party{User: u, Devices: []string{"PJSIP/" + ext + "/sip:x"}}
	}
	users := map[string]Party{
		"1001": fwd("1001", "9001234"),     // international: 1001 may
		"1002": fwd("1002", "9001234"),     // 1002 may not: the forward is ignored
		"1003": fwd("1003", "90123456789"), // national: everyone may
	}
	lookup := func(ext string) (Party, bool) { p, ok := users[ext]; return p, ok }
	for _, c := range []struct {
		caller, dialled string
		kind            Kind
		number          string
	}{
		{"1003", "1001", External, "001234"},
		{"1003", "1002", Ring, ""},
		{"", "1003", External, "0123456789"}, // from outside, forwarded out by 1003's setting
	} {
		s := Route(Call{Caller: c.caller, Dialled: c.dialled, Routes: testRoutes}, lookup)
		if s.Kind != c.kind {
			t.Errorf("%q calls %s: %v, want %v", c.caller, c.dialled, s.Kind, c.kind)
			continue
		}
		if c.kind != External {
			continue
		}
		o := s.Outbound
		if o.Number != c.number || o.ForwardedBy != c.dialled || len(s.Forwarded) != 1 || s.Forwarded[0].Kind != Unconditional {
			t.Errorf("%q calls %s: %+v forwarded %+v", c.caller, c.dialled, o, s.Forwarded)
		}
	}
	// On no answer too, through After.
	u := switchboard.User{Extension: "1004", RingTimeout: 20}
	u.Calls.Forwards.NoAnswer = switchboard.Forward{Enabled: true, Destination: "90123456789"}
	users["1004"] = Party{User: u, Devices: []string{"PJSIP/1004/sip:y"}}
	ring := Route(Call{Caller: "1003", Dialled: "1004", Routes: testRoutes}, lookup)
	if ring.Kind != Ring {
		t.Fatalf("1004 first rings: %v", ring.Kind)
	}
	next := After(ring, ResultNoAnswer, lookup)
	if next.Kind != External || next.Outbound.Number != "0123456789" || next.Outbound.ForwardedBy != "1004" {
		t.Fatalf("after no answer: %v %+v", next.Kind, next.Outbound)
	}
}
