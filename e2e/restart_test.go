//go:build integration

package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/softphone"
)

// twoWayCall is a call from a softphone of 1001 to an answering softphone of 1002, both
// playing a tone and listening for the other's.
type twoWayCall struct {
	start  time.Time
	callee *answerer
	caller chan *softphone.Report
}

func startTwoWayCall(t *testing.T, s *Stack, talk, ringFor time.Duration) *twoWayCall {
	t.Helper()
	c := &twoWayCall{caller: make(chan *softphone.Report, 1)}
	c.callee = startAnswering(t, s, "1002", "bob-password-222", "udp", softphone.AnswerOptions{Calls: 1, RingFor: ringFor,
		MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
	c.start = time.Now()
	go func() {
		c.caller <- call(t, s, "1001", "alice-password-1", "udp", "1002", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: talk}})
	}()
	return c
}

// checkWholeCall checks that the call lasted talk with both tones heard without a break, that
// the callee's phone got exactly one INVITE, and that the record is one answered call with the
// times the phones saw; answeredBy bounds when the record may say it was answered (the answer
// itself, or, for an answer nobody watched, when call control came back).
func (c *twoWayCall) checkWholeCall(t *testing.T, s *Stack, talk time.Duration, answeredBy time.Time) {
	t.Helper()
	r := <-c.caller
	ended := time.Now()
	if !r.Answered() || r.EndedBy != "local" {
		t.Fatalf("caller: answered %v, ended by %q: %s", r.Answered(), r.EndedBy, r.Error)
	}
	reports := c.callee.Wait(t)
	if len(reports) != 1 {
		t.Fatalf("callee took %d calls, want 1", len(reports))
	}
	callee := reports[0]
	if n := c.callee.invites.Load(); n != 1 {
		t.Errorf("the callee's phone got %d INVITEs for one call, want 1 (it rang again)", n)
	}
	// Both tones heard for the whole call, without a break: audio never stopped.
	for who, rep := range map[string]*softphone.Report{"caller": r, "callee": callee} {
		if rep.Tone == nil || !rep.Tone.Detected || time.Duration(rep.Tone.LongestRun) < talk-time.Second {
			t.Errorf("%s heard the other's tone %+v in a %v call: audio stopped", who, rep.Tone, talk)
		}
		if min := uint64(talk/(20*time.Millisecond)) * 95 / 100; rep.RTP.Received < min {
			t.Errorf("%s received %d RTP packets in %v, want at least %d", who, rep.RTP.Received, talk, min)
		}
	}
	answered := c.start.Add(time.Duration(r.Setup))
	rec := waitCall(t, s, "1002", c.start)
	if rec.Outcome != "answered" || rec.AnsweredAt == nil || rec.EndedAt == nil {
		t.Fatalf("record %+v: want one answered call, ended", rec)
	}
	if rec.AnsweredAt.Before(answered.Add(-time.Second)) || rec.AnsweredAt.After(answeredBy.Add(time.Second)) {
		t.Errorf("record answered at %v; the callee answered at %v", rec.AnsweredAt, answered)
	}
	if d := rec.EndedAt.Sub(ended); d < -2*time.Second || d > time.Second {
		t.Errorf("record ended at %v; the caller hung up at %v", rec.EndedAt, ended)
	}
	l, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{User: "1002", From: c.start.Add(-time.Second), Limit: 10})
	if err != nil || len(l.Calls) != 1 {
		t.Errorf("records of the call: %+v (%v), want exactly one", l.Calls, err)
	}
	waitNoChannels(t, s)
}

// SIGTERM 4 s into a bridged call, serve back 3 s later: the call goes on untouched, with audio
// both ways throughout, the callee's phone never rings again, and the record is one answered
// call with the right times (the restarted control plane adopts the call and records its end).
func TestGracefulRestartMidCall(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1002", "Bob", "bob-password-222")
	const talk = 12 * time.Second
	c := startTwoWayCall(t, s, talk, 0)
	answered := waitAnswered(t, s, "1002", c.start)
	<-time.After(time.Until(answered.Add(4 * time.Second))) // the scenario: 4 s into the call
	stopped := time.Now()
	s.StopServe(t)
	t.Logf("serve stopped %v after SIGTERM", time.Since(stopped).Round(time.Millisecond))
	if d := time.Since(stopped); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	<-time.After(3 * time.Second) // the scenario: the upgrade takes 3 s
	s.StartServe(t)
	s.WaitReady(t)
	c.checkWholeCall(t, s, talk, answered)
	noEndStamps(t, s)
}

// SIGTERM while the callee's phone rings; it answers while serve is down; serve comes back 2 s
// later. The call connects when the callee answers (its legs were bridged before it rang), the
// audio flows both ways throughout, and the restarted control plane adopts and records it.
func TestGracefulRestartWhileRinging(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1002", "Bob", "bob-password-222")
	const talk, ringFor = 8 * time.Second, 4 * time.Second
	c := startTwoWayCall(t, s, talk, ringFor)
	eventually(t, 10*time.Second, "the callee's phone ringing", func() error {
		if c.callee.invites.Load() == 0 {
			return fmt.Errorf("no INVITE yet")
		}
		return nil
	})
	s.StopServe(t)
	<-time.After(time.Until(c.start.Add(ringFor + 2*time.Second))) // the callee answered meanwhile
	back := time.Now()
	s.StartServe(t)
	s.WaitReady(t)
	c.checkWholeCall(t, s, talk, back)
}

// waitAnswered waits until the API shows the call to callee answered, and returns when it was.
func waitAnswered(t *testing.T, s *Stack, callee string, since time.Time) time.Time {
	t.Helper()
	var at time.Time
	eventually(t, 20*time.Second, "call to "+callee+" answered", func() error {
		l, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{User: callee, From: since.Add(-time.Second), Active: true, Limit: 10})
		if err != nil {
			return err
		}
		for _, c := range l.Calls {
			if c.Outcome == "answered" && c.AnsweredAt != nil {
				at = *c.AnsweredAt
				return nil
			}
		}
		return fmt.Errorf("not answered yet: %+v", l.Calls)
	})
	return at
}

// The caller hangs up while serve is stopped: the other leg ends at once (hangup handlers), and
// the restarted control plane closes the record with the time the dialplan noted, not the time
// it came back.
func TestCallEndsWhileServeIsDown(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1002", "Bob", "bob-password-222")
	const talk = 5 * time.Second
	c := startTwoWayCall(t, s, talk, 0)
	answered := waitAnswered(t, s, "1002", c.start)
	s.StopServe(t)
	r := <-c.caller // hangs up after talk, while serve is down
	hungUp := time.Now()
	if !r.Answered() || r.EndedBy != "local" {
		t.Fatalf("caller: %+v", r)
	}
	if reports := c.callee.Wait(t); len(reports) != 1 || reports[0].EndedBy != "remote" {
		t.Fatalf("callee: %+v (its leg must end with the caller's, without the control plane)", reports)
	}
	<-time.After(2 * time.Second) // the scenario: serve comes back a while later
	if out := s.Asterisk.MustCLI(t, "dialplan show globals"); !strings.Contains(out, "SB_ENDED_") {
		t.Errorf("the dialplan noted no end while serve was away:\n%s", out)
	}
	s.StartServe(t)
	s.WaitReady(t)
	rec := waitCall(t, s, "1002", c.start)
	if rec.Outcome != "answered" || rec.Reason != "" || rec.EndedAt == nil {
		t.Fatalf("record %+v: want answered, closed with the noted end", rec)
	}
	if d := rec.EndedAt.Sub(hungUp); d < -time.Second || d > 500*time.Millisecond {
		t.Errorf("record ended at %v; the caller hung up at %v (serve came back %v later)", rec.EndedAt, hungUp, 2*time.Second)
	}
	if rec.AnsweredAt == nil || rec.AnsweredAt.Sub(answered).Abs() > time.Millisecond {
		t.Errorf("record answered at %v, want %v", rec.AnsweredAt, answered)
	}
	waitNoChannels(t, s)
	noEndStamps(t, s)
}

// noEndStamps checks that no note of a call's end is left in Asterisk's globals: the ones
// written while serve was away were read and removed, and none is written while it watches.
func noEndStamps(t *testing.T, s *Stack) {
	t.Helper()
	if out := s.Asterisk.MustCLI(t, "dialplan show globals"); strings.Contains(out, "SB_ENDED_") {
		t.Errorf("end stamps left in the dialplan's globals:\n%s", out)
	}
}
