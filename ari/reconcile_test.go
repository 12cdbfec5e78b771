package ari

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// TestPlanReconcile decides, for every shape in which Asterisk can hold a call (and for the
// leftovers of calls that are gone), what reconciliation does.
func TestPlanReconcile(t *testing.T) {
	started := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	caller := func(id, state string) Channel {
		return Channel{ID: id, Name: "PJSIP/1001-" + id, State: state, App: "Stasis", AppData: "switchboard,call,1002", Created: started}
	}
	leg := func(call, state string) Channel {
		return Channel{ID: legID(call, 1), Name: "PJSIP/1002-" + call, State: state, App: "Stasis", AppData: "switchboard,callee," + call}
	}
	rec := func(id, callerCh string, withLeg bool) switchboard.CallRecord {
		r := switchboard.CallRecord{ID: id, Caller: "1001", Callee: "1002", CallerChannel: callerCh, StartedAt: started}
		if withLeg {
			r.CalleeChannel = legID(id, 1)
		}
		return r
	}
	bridge := func(call string, chans ...string) Bridge { return Bridge{ID: bridgeID(call), Channels: chans} }
	inVoicemail := caller("c1", "Up")
	inVoicemail.App, inVoicemail.AppData = "VoiceMail", "1002@default,u"

	tests := []struct {
		name    string
		snap    Snapshot
		recs    []switchboard.CallRecord
		want    string   // action per call, "callID:action" sorted
		hangup  []string // channels hung up
		destroy []string // bridges destroyed
	}{
		{name: "BridgedAndAnswered",
			snap: Snapshot{Channels: []Channel{caller("c1", "Up"), leg("A", "Up")}, Bridges: []Bridge{bridge("A", "c1", legID("A", 1))}},
			recs: []switchboard.CallRecord{rec("A", "c1", true)}, want: "A:talk"},
		{name: "RingingInTheBridge",
			snap: Snapshot{Channels: []Channel{caller("c1", "Ring"), leg("A", "Ringing")}, Bridges: []Bridge{bridge("A", "c1", legID("A", 1))}},
			recs: []switchboard.CallRecord{rec("A", "c1", true)}, want: "A:ringing"},
		// Killed between creating the leg and bridging it: the leg still rings alone.
		{name: "RingingOutsideTheBridge",
			snap: Snapshot{Channels: []Channel{caller("c1", "Ring"), leg("A", "Ringing")}},
			recs: []switchboard.CallRecord{rec("A", "c1", true)}, want: "A:ringing"},
		// Answered while away, but not bridged with its caller: join them.
		{name: "AnsweredNotBridged",
			snap: Snapshot{Channels: []Channel{caller("c1", "Ring"), leg("A", "Up")}, Bridges: []Bridge{bridge("A", legID("A", 1))}},
			recs: []switchboard.CallRecord{rec("A", "c1", true)}, want: "A:connect"},
		// The leg refused or timed out while away: the caller waits alone in the bridge.
		{name: "LegEndedUnanswered",
			snap: Snapshot{Channels: []Channel{caller("c1", "Ring")}, Bridges: []Bridge{bridge("A", "c1")}},
			recs: []switchboard.CallRecord{rec("A", "c1", true)}, want: "A:no-answer"},
		{name: "NothingDoneYet",
			snap: Snapshot{Channels: []Channel{caller("c1", "Ring")}},
			recs: []switchboard.CallRecord{rec("A", "c1", false)}, want: "A:lookup"},
		{name: "InVoicemail",
			snap: Snapshot{Channels: []Channel{inVoicemail}},
			recs: []switchboard.CallRecord{rec("A", "c1", false)}, want: "A:dialplan"},
		// The caller hung up while away: its leg (if the handler missed it) and bridge go.
		{name: "CallerGone",
			snap: Snapshot{Channels: []Channel{leg("A", "Up")}, Bridges: []Bridge{bridge("A", legID("A", 1))}},
			recs: []switchboard.CallRecord{rec("A", "c1", true)}, want: "A:close", hangup: []string{legID("A", 1)}, destroy: []string{bridgeID("A")}},
		{name: "AllGone", recs: []switchboard.CallRecord{rec("A", "c1", true)}, want: "A:close"},
		// No record (the database was down): the bridge names the call and its caller.
		{name: "NoRecordBridged",
			snap: Snapshot{Channels: []Channel{caller("c1", "Up"), leg("A", "Up")}, Bridges: []Bridge{bridge("A", "c1", legID("A", 1))}},
			want: "A:talk"},
		{name: "NoRecordRinging",
			snap: Snapshot{Channels: []Channel{caller("c1", "Ring"), leg("A", "Ringing")}, Bridges: []Bridge{bridge("A", legID("A", 1), "c1")}},
			want: "A:ringing"},
		// A caller entered Stasis while nobody listened: a new call.
		{name: "UnknownCaller", snap: Snapshot{Channels: []Channel{caller("c9", "Ring")}}, want: ":new"},
		// Leftovers: a leg whose call is unknown and a bridge without a caller.
		{name: "OrphanLeg", snap: Snapshot{Channels: []Channel{leg("Z", "Ringing")}}, hangup: []string{legID("Z", 1)}},
		// Created but never dialed (stopped in between): replaced by a new leg.
		{name: "LegNeverDialed",
			snap: Snapshot{Channels: []Channel{caller("c1", "Ring"), leg("A", "Down")}, Bridges: []Bridge{bridge("A", "c1", legID("A", 1))}},
			recs: []switchboard.CallRecord{rec("A", "c1", true)}, want: "A:lookup", hangup: []string{legID("A", 1)}},
		// Two legs of one call, one answered: the other stops ringing.
		{name: "TwoLegsOneAnswered",
			snap: Snapshot{Channels: []Channel{caller("c1", "Up"), leg("A", "Ringing"),
				{ID: legID("A", 2), State: "Up", App: "Stasis", AppData: "switchboard,callee,A"}},
				Bridges: []Bridge{bridge("A", "c1", legID("A", 2))}},
			recs: []switchboard.CallRecord{rec("A", "c1", true)}, want: "A:talk", hangup: []string{legID("A", 1)}},
		{name: "OrphanBridge",
			snap:   Snapshot{Channels: []Channel{leg("Z", "Up")}, Bridges: []Bridge{bridge("Z", legID("Z", 1))}},
			hangup: []string{legID("Z", 1)}, destroy: []string{bridgeID("Z")}},
		{name: "EmptyBridge", snap: Snapshot{Bridges: []Bridge{bridge("Z")}}, destroy: []string{bridgeID("Z")}},
		// Channels of other Stasis apps and of the plain dialplan are never touched.
		{name: "OtherApps", snap: Snapshot{Channels: []Channel{
			{ID: "x1", App: "Stasis", AppData: "floor,call,1002"},
			{ID: "x2-callee", App: "Stasis", AppData: "floor,callee,x2"},
			{ID: "x3", App: "Dial", AppData: "PJSIP/1002,20"},
		}}},
		// A transfer joined two parties named after other calls in W's bridge: they are W's.
		{name: "TransferredCall",
			snap: Snapshot{Channels: []Channel{leg("X", "Up"), leg("Z", "Up")}, Bridges: []Bridge{bridge("W", legID("X", 1), legID("Z", 1))}},
			recs: []switchboard.CallRecord{rec("W", legID("X", 1), false)}, want: "W:talk"},
		// The same without its record: rebuilt from the bridge, nobody hung up.
		{name: "TransferredCallNoRecord",
			snap: Snapshot{Channels: []Channel{leg("X", "Up"), leg("Z", "Up")}, Bridges: []Bridge{bridge("W", legID("X", 1), legID("Z", 1))}},
			want: "W:talk"},
		// One record known twice (memory and database) is one call.
		{name: "Duplicate",
			snap: Snapshot{Channels: []Channel{caller("c1", "Up"), leg("A", "Up")}, Bridges: []Bridge{bridge("A", "c1", legID("A", 1))}},
			recs: []switchboard.CallRecord{rec("A", "c1", true), rec("A", "c1", true)}, want: "A:talk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planReconcile("switchboard", tt.snap, tt.recs)
			var got []string
			for _, ad := range p.calls {
				got = append(got, ad.rec.ID+":"+ad.action.String())
			}
			slices.Sort(got)
			if g := strings.Join(got, ","); g != tt.want {
				t.Errorf("calls %q, want %q", g, tt.want)
			}
			if !sameSet(p.hangup, tt.hangup) {
				t.Errorf("hang up %q, want %q", p.hangup, tt.hangup)
			}
			if !sameSet(p.destroy, tt.destroy) {
				t.Errorf("destroy %q, want %q", p.destroy, tt.destroy)
			}
		})
	}
}

// A call rebuilt without its record gets one from what Asterisk shows.
func TestPlanReconcileRebuildsRecords(t *testing.T) {
	created := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	snap := Snapshot{
		Channels: []Channel{
			{ID: "c1", Name: "PJSIP/1001-00000001", State: "Up", App: "Stasis", AppData: "switchboard,call,1002", Created: created},
			{ID: legID("A", 1), Name: "PJSIP/1002-00000002", State: "Up", App: "Stasis"},
		},
		Bridges: []Bridge{{ID: bridgeID("A"), Channels: []string{legID("A", 1), "c1"}}},
	}
	p := planReconcile("switchboard", snap, nil)
	if len(p.calls) != 1 {
		t.Fatalf("calls %+v", p.calls)
	}
	got := p.calls[0].rec
	want := switchboard.CallRecord{ID: "A", Caller: "1001", Callee: "1002", CallerChannel: "c1", StartedAt: created}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rebuilt record %+v, want %+v", got, want)
	}
}

func TestLegIDs(t *testing.T) {
	// No leg's ID starts with another's: Asterisk matches IDs by prefix.
	for i := 1; i <= maxLegs; i++ {
		for j := 1; j <= maxLegs; j++ {
			if i != j && strings.HasPrefix(legID("c", i), legID("c", j)) {
				t.Fatalf("%s starts with %s", legID("c", i), legID("c", j))
			}
		}
	}
	for _, tt := range []struct {
		id   string
		call string
		n    int
	}{
		{legID("abc", 1), "abc", 1},
		{legID("abc", 2), "abc", 2},
		{legID("abc", 12), "abc", 12},
		{"abc-leg00", "", 0}, // legs count from 1
		{"abc-leg1", "", 0},  // two digits, always: no ID is a prefix of another
		{"abc-leg123", "", 0},
		{"abc-legxx", "", 0},
		{"-leg01", "", 0},
		{"1764666000.12", "", 0}, // a caller's channel
	} {
		if call, n := callOfLeg(tt.id); call != tt.call || n != tt.n {
			t.Errorf("callOfLeg(%q) = %q, %d; want %q, %d", tt.id, call, n, tt.call, tt.n)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func TestParseStamp(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"1764666000.123", time.Unix(1764666000, 123e6)},
		{"1764666000", time.Unix(1764666000, 0)},
		{"", time.Time{}},
		{"0", time.Time{}},       // never noted
		{"garbage", time.Time{}}, // not ours
	}
	for _, tt := range tests {
		if got := parseStamp(tt.in); !got.Equal(tt.want) {
			t.Errorf("parseStamp(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
