package ari

import (
	"slices"
	"strings"

	"github.com/switchboard-pbx/switchboard"
)

// adoption is what reconciliation decided for one call.
type adoption struct {
	rec     switchboard.CallRecord
	caller  Channel
	leg     Channel   // adoptTalk, adoptConnect: the leg that answered
	ringing []Channel // adoptRinging: the legs still ringing
	legs    int       // the highest leg number the call used
	bridge  Bridge    // zero when the call has no bridge now
	action  adoptAction
}

// adoptAction says how a call is taken over.
type adoptAction int

const (
	adoptClose    adoptAction = iota // the caller is gone: close the record
	adoptTalk                        // caller and answered leg are bridged: watch them
	adoptConnect                     // the leg answered while nobody watched, unbridged: join them
	adoptRinging                     // the leg still rings: wait for its answer
	adoptNoAnswer                    // the leg ended unanswered while nobody watched: next step
	adoptLookup                      // the caller waits with nothing done yet: start over
	adoptDialplan                    // the caller is in the dialplan (voicemail): watch for its end
	adoptNew                         // a caller in Stasis that no record knows: a new call
)

func (x adoptAction) String() string {
	return [...]string{"close", "talk", "connect", "ringing", "no-answer", "lookup", "dialplan", "new"}[x]
}

// reconcilePlan is everything reconciliation does.
type reconcilePlan struct {
	calls   []adoption
	hangup  []string // legs of calls that no longer exist
	destroy []string // bridges no call uses
}

// planReconcile decides, from Asterisk's channels and bridges and the records of calls in
// progress, what becomes of every call. It is pure: Reconcile carries the plan out. A call's
// leg and bridge are found by their names (legID, bridgeID), so calls are rebuilt even without
// their records (the database down): the caller is then the other channel of the bridge, and
// what it dialled is in its Stasis arguments.
func planReconcile(app string, snap Snapshot, recs []switchboard.CallRecord) reconcilePlan {
	chans := map[string]Channel{}
	for _, ch := range snap.Channels {
		chans[ch.ID] = ch
	}
	bridges := map[string]Bridge{}
	for _, b := range snap.Bridges {
		bridges[b.ID] = b
	}
	legsOf := map[string][]Channel{}
	for _, ch := range snap.Channels {
		if id, _ := callOfLeg(ch.ID); id != "" && stasisArgs(app, ch) != nil {
			legsOf[id] = append(legsOf[id], ch)
		}
	}
	claimed := map[string]bool{} // channels and bridges a call accounts for
	var p reconcilePlan
	plan := func(rec switchboard.CallRecord) {
		ad := adoption{rec: rec}
		caller, hasCaller := chans[rec.CallerChannel]
		br, hasBridge := bridges[bridgeID(rec.ID)]
		legs := slices.Clone(legsOf[rec.ID])
		// The call's bridge also holds the parties a transfer joined to it (channels named
		// after another call).
		for _, id := range br.Channels {
			if ch, ok := chans[id]; ok && id != rec.CallerChannel && !slices.ContainsFunc(legs, func(l Channel) bool { return l.ID == id }) {
				legs = append(legs, ch)
			}
		}
		claimed[rec.CallerChannel], claimed[bridgeID(rec.ID)] = true, true
		var up, ringing []Channel
		for _, l := range legs {
			claimed[l.ID] = true
			if _, n := callOfLeg(l.ID); n > ad.legs {
				ad.legs = n
			}
			switch l.State {
			case "Up":
				up = append(up, l)
			case "Down":
				// Created, but maybe never dialed (the control plane stopped in between): a
				// leg that has not started ringing is replaced by a new one.
			default:
				ringing = append(ringing, l)
			}
		}
		if hasBridge {
			ad.bridge = br
		}
		ad.caller = caller
		switch {
		case !hasCaller:
			ad.action = adoptClose
		case !caller.InStasis():
			ad.action = adoptDialplan
		case len(up) > 0:
			ad.leg = up[0]
			if hasBridge && slices.Contains(br.Channels, caller.ID) && slices.Contains(br.Channels, ad.leg.ID) {
				ad.action = adoptTalk
			} else {
				ad.action = adoptConnect
			}
		case len(ringing) > 0:
			ad.ringing = ringing
			ad.action = adoptRinging
		case len(legs) > 0:
			ad.action = adoptLookup
		case rec.CalleeChannel != "" || hasBridge:
			ad.action = adoptNoAnswer
		default:
			ad.action = adoptLookup
		}
		for _, l := range legs {
			if l.ID != ad.leg.ID && !slices.ContainsFunc(ad.ringing, func(r Channel) bool { return r.ID == l.ID }) {
				p.hangup = append(p.hangup, l.ID)
			}
		}
		if (ad.action == adoptClose || ad.action == adoptDialplan) && hasBridge {
			// What is left of the call in Stasis goes with it.
			p.destroy = append(p.destroy, br.ID)
			ad.bridge = Bridge{}
		}
		p.calls = append(p.calls, ad)
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		if rec.ID == "" || seen[rec.ID] {
			continue
		}
		seen[rec.ID] = true
		plan(rec)
	}
	// Calls Asterisk holds that no record knows of: their bridge names them.
	for _, b := range snap.Bridges {
		if claimed[b.ID] {
			continue
		}
		id := strings.TrimPrefix(b.ID, BridgePrefix)
		// The caller is the channel that is not one of the call's own legs: the one that dialled
		// in ("call" arguments) if there are two (a transfer joined parties of other calls).
		var caller Channel
		for _, ch := range b.Channels {
			c, ok := chans[ch]
			if leg, _ := callOfLeg(ch); !ok || leg == id {
				continue
			}
			if _, dialled := dialledBy(app, c); caller.ID == "" || dialled {
				caller = c
			}
		}
		if caller.ID != "" && (stasisArgs(app, caller) != nil || caller.InStasis()) {
			dialled, _ := dialledBy(app, caller)
			plan(switchboard.CallRecord{ID: id, CallerChannel: caller.ID, Caller: endpointOf(caller.Name),
				Callee: dialled, StartedAt: caller.Created})
			continue
		}
		claimed[b.ID] = true
		p.destroy = append(p.destroy, b.ID)
	}
	for _, ch := range snap.Channels {
		if claimed[ch.ID] {
			continue
		}
		switch args := stasisArgs(app, ch); {
		case len(args) >= 2 && args[0] == "callee":
			p.hangup = append(p.hangup, ch.ID)
		case len(args) >= 2 && (args[0] == "call" || args[0] == "inbound"):
			// (A call from a trunk is known by its caller's endpoint, see lookup.)
			p.calls = append(p.calls, adoption{action: adoptNew, caller: ch,
				rec: switchboard.CallRecord{Callee: args[1], StartedAt: ch.Created}})
		}
	}
	return p
}

// stasisArgs returns the arguments of a channel in app's Stasis ("switchboard,call,1002" →
// [call 1002]), or nil for a channel elsewhere.
func stasisArgs(app string, ch Channel) []string {
	if !ch.InStasis() {
		return nil
	}
	parts := strings.Split(ch.AppData, ",")
	if len(parts) < 2 || parts[0] != app {
		return nil
	}
	return parts[1:]
}

// dialledBy returns what a caller in app's Stasis dialled.
func dialledBy(app string, ch Channel) (string, bool) {
	args := stasisArgs(app, ch)
	if len(args) >= 2 && args[0] == "call" {
		return args[1], true
	}
	return "", false
}
