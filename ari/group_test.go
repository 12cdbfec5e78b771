package ari_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-pbx/switchboard"
)

// groupDirectory is a fake directory of ring groups.
type groupDirectory map[string]switchboard.Group

func (d groupDirectory) Group(_ context.Context, number string) (switchboard.Group, error) {
	if g, ok := d[number]; ok {
		return g, nil
	}
	return switchboard.Group{}, switchboard.Errorf(switchboard.ENOTFOUND, "no group %s", number)
}

// groups: 600 rings 1002 and 1003 at once; 601 hunts 1002 then 1003, a second each, then
// 1005's mailbox.
var groups = groupDirectory{
	"600": {Number: "600", Name: "Sales", Members: []string{"1002", "1003"}, Strategy: switchboard.RingAll,
		RingSeconds: 15, Timeout: 30, NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationHangup}},
	"601": {Number: "601", Name: "Support", Members: []string{"1002", "1003"}, Strategy: switchboard.Hunt,
		RingSeconds: 1, Timeout: 30, NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "1005"}},
}

// legFor waits for a ringing callee leg that rings ext's phone, and returns it.
func (h *harness) legFor(ext string) string {
	h.t.Helper()
	var id string
	eventually(h.t, "a leg ringing "+ext, func() bool {
		h.ast.mu.Lock()
		defer h.ast.mu.Unlock()
		for _, c := range h.ast.channels {
			if strings.HasPrefix(c.Name, "PJSIP/"+ext+"-") && strings.Contains(c.ID, "-leg") && c.dialed {
				id = c.ID
				return true
			}
		}
		return false
	})
	return id
}

func TestGroupRingAll(t *testing.T) {
	h := newHarness(t)
	caller := h.ast.dial("1001", "600")
	l2, l3 := h.legFor("1002"), h.legFor("1003")
	h.ast.answer(t, l3)
	r := h.waitRecord(caller, "answered by 1003", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
	if r.AnsweredBy != "1003" || r.Callee != "600" {
		t.Errorf("record %+v: want callee 600 answered by 1003", r)
	}
	eventually(t, "1002 stopped ringing", func() bool { return !h.ast.has(l2) })
}

// numberPlan is a fake numbers table that counts the questions.
type numberPlan struct {
	mu    sync.Mutex
	kinds map[string]string
	asked []string
}

func (p *numberPlan) NumberKind(_ context.Context, number string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, number)
	return p.kinds[number], nil
}

// With the number plan, a number no user has costs one question, and only the directory of
// its kind is asked: 600 is a ring group and rings as one.
func TestNumberPlanNamesTheKind(t *testing.T) {
	h := newHarness(t)
	h.shutdown()
	plan := &numberPlan{kinds: map[string]string{"600": "group"}}
	h.numbers = plan
	h.start()
	caller := h.ast.dial("1001", "600")
	h.legFor("1002")
	l3 := h.legFor("1003")
	h.ast.answer(t, l3)
	h.waitRecord(caller, "answered by 1003", func(r switchboard.CallRecord) bool { return r.AnsweredBy == "1003" })
	plan.mu.Lock()
	defer plan.mu.Unlock()
	if fmt.Sprint(plan.asked) != "[600]" {
		t.Errorf("the number plan was asked %v, want [600]", plan.asked)
	}
}

func TestGroupHunt(t *testing.T) {
	h := newHarness(t)
	caller := h.ast.dial("1001", "601")
	first := h.legFor("1002")
	// 1002 does not answer within its second: 1003 rings next, and answers.
	eventually(t, "1002's turn over", func() bool { return !h.ast.has(first) })
	l3 := h.legFor("1003")
	h.ast.answer(t, l3)
	r := h.waitRecord(caller, "answered", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
	if r.AnsweredBy != "1003" {
		t.Errorf("record %+v: want answered by 1003", r)
	}
}

func TestGroupHuntToVoicemail(t *testing.T) {
	h := newHarness(t)
	caller := h.ast.dial("1001", "601")
	h.legFor("1002")
	h.legFor("1003")
	// Nobody answers: the destination, 1005's mailbox.
	eventually(t, "caller sent to 1005's mailbox", func() bool {
		return index(h.ast.opsSince(0), "continue "+caller+" 1005 unavailable") >= 0
	})
}
