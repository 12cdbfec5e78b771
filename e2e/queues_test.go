//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/softphone"
)

// queueCaller is a caller who dials a queue and talks for a while once an agent answers.
type queueCaller struct {
	ext  string
	done chan struct{}
	rep  *softphone.Report
	err  error
}

func callQueue(t *testing.T, s *Stack, ext, password, number string, talk time.Duration) *queueCaller {
	t.Helper()
	waitEndpoint(t, s, ext) // a user just created may not be in Asterisk yet
	p := openPhone(t, s, ext, password, "udp")
	qc := &queueCaller{ext: ext, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	go func() {
		defer close(qc.done)
		defer cancel()
		qc.rep, qc.err = p.Call(ctx, number, softphone.CallOptions{MediaOptions: softphone.MediaOptions{Duration: talk}})
	}()
	t.Cleanup(func() { cancel(); <-qc.done })
	return qc
}

// queueLive returns a queue's live state.
func queueLive(t *testing.T, s *Stack, number string) *api.QueueState {
	t.Helper()
	q, err := s.API.Queue(ctxT(t, 10*time.Second), number)
	if err != nil {
		t.Fatal(err)
	}
	if q.Live == nil {
		t.Fatalf("queue %s has no live state", number)
	}
	return q.Live
}

func TestCallQueue(t *testing.T) {
	s := StartStack(t, StackOptions{})
	pw := func(ext string) string { return "queue-password-" + ext }
	for _, ext := range []string{"2001", "2002", "2003", "2004", "2101", "2102", "2201"} {
		createUser(t, s, ext, "User "+ext, pw(ext))
	}
	ctx := ctxT(t, 5*time.Minute)
	if _, err := s.API.CreateQueue(ctx, api.CreateQueueRequest{Number: "700", Name: "Sales", Agents: []string{"2101", "2102"},
		Strategy: ptr("round_robin"), RingSeconds: ptr(10)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.API.CreateQueue(ctx, api.CreateQueueRequest{Number: "701", Name: "Night", Agents: []string{"2102"},
		MaxWait: ptr(10), NoAnswer: &api.GroupDestination{Kind: "voicemail", Number: "2201"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.API.CreateUser(ctx, api.CreateUserRequest{Extension: "700", Name: "Clash"}); !isStatus(err, 409) {
		t.Errorf("user on a queue's number: %v, want 409", err)
	}

	// Agents log in: 2101 with *45 from the phone, 2102 over the API.
	waitEndpoint(t, s, "2101")
	r := call(t, s, "2101", pw("2101"), "udp", "*45", softphone.CallOptions{})
	if !r.Answered() {
		t.Fatalf("*45: %+v", r)
	}
	if err := s.API.SetAgentLoggedIn(ctx, "700", "2102", true); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "both agents logged in to 700", func() error {
		q, err := s.API.Queue(ctxT(t, 10*time.Second), "700")
		if err != nil {
			return err
		}
		for _, a := range q.Agents {
			if !a.LoggedIn {
				return fmt.Errorf("agents %+v", q.Agents)
			}
		}
		return nil
	})
	// Agents answer after half a second of ringing and end each call after 4 s.
	agentOpts := softphone.AnswerOptions{RingFor: 500 * time.Millisecond, MediaOptions: softphone.MediaOptions{Duration: 4 * time.Second}}
	startMember(t, s, "2101", pw("2101"), agentOpts)
	startMember(t, s, "2102", pw("2102"), agentOpts)

	// Four callers, one after the other; two agents.
	since := time.Now()
	var callers []*queueCaller
	for i, ext := range []string{"2001", "2002", "2003", "2004"} {
		callers = append(callers, callQueue(t, s, ext, pw(ext), "700", 0))
		want := i + 1
		eventually(t, 10*time.Second, fmt.Sprintf("%d callers in the queue", want), func() error {
			l, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{Active: true, User: "700"})
			if err == nil && len(l.Calls) != want {
				err = fmt.Errorf("%d active calls", len(l.Calls))
			}
			return err
		})
	}
	// The first two talk, the last two wait: the live view shows them in order, with their wait.
	eventually(t, 15*time.Second, "two callers waiting, two agents in calls", func() error {
		live := queueLive(t, s, "700")
		if len(live.Callers) != 2 || live.Callers[0].Caller != "2003" || live.Callers[1].Caller != "2004" {
			return fmt.Errorf("callers %+v", live.Callers)
		}
		for _, a := range live.Agents {
			if a.State != "in_call" {
				return fmt.Errorf("agents %+v", live.Agents)
			}
		}
		if live.Callers[0].WaitSeconds < live.Callers[1].WaitSeconds {
			return fmt.Errorf("the first caller waited less than the second: %+v", live.Callers)
		}
		return nil
	})
	for _, c := range callers {
		select {
		case <-c.done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%s still in the call", c.ext)
		}
		if !c.rep.Answered() {
			t.Errorf("%s: %+v (%v)", c.ext, c.rep, c.err)
		}
	}
	recs := endedCallsTo(t, s, "700", since, 4)
	sort.Slice(recs, func(i, j int) bool { return recs[i].StartedAt.Before(recs[j].StartedAt) })
	var order, agents []string
	for _, rc := range recs {
		order = append(order, rc.Caller)
		agents = append(agents, rc.AnsweredBy)
		if rc.Outcome != "answered" || rc.AnsweredAt == nil {
			t.Errorf("record %+v: want answered", rc)
			continue
		}
		t.Logf("%s waited %v, answered by %s", rc.Caller, rc.AnsweredAt.Sub(rc.StartedAt).Round(time.Millisecond), rc.AnsweredBy)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].AnsweredAt != nil && recs[i-1].AnsweredAt != nil && recs[i].AnsweredAt.Before(*recs[i-1].AnsweredAt) {
			t.Errorf("%s was answered before %s, who called first", recs[i].Caller, recs[i-1].Caller)
		}
	}
	// Round robin: the agents take turns.
	if fmt.Sprint(order) != "[2001 2002 2003 2004]" || fmt.Sprint(agents) != "[2101 2102 2101 2102]" {
		t.Errorf("callers %v answered by %v, want 2101 and 2102 in turn", order, agents)
	}
	if live := queueLive(t, s, "700"); live.Answered != 4 || len(live.Callers) != 0 {
		t.Errorf("live %+v: want 4 answered, nobody waiting", live)
	}

	// Nobody logged in to 701: after its 10 s maximum the caller reaches 2201's mailbox.
	since = time.Now()
	r = call(t, s, "2003", pw("2003"), "udp", "701", softphone.CallOptions{MediaOptions: softphone.MediaOptions{Duration: 14 * time.Second}})
	if !r.Answered() {
		t.Fatalf("call to 701: %+v", r)
	}
	rec := endedCallsTo(t, s, "701", since, 1)[0]
	if rec.Outcome != "voicemail" || rec.Reason != "max_wait" || fmt.Sprint(rec.ForwardedTo) != "[2201]" {
		t.Errorf("record %+v: want voicemail in 2201's mailbox after the maximum wait", rec)
	}
	if live := queueLive(t, s, "701"); live.TimedOut != 1 {
		t.Errorf("live %+v: want one timed out", live)
	}

	// *45 again: 2101 logs out.
	if r := call(t, s, "2101", pw("2101"), "udp", "*45", softphone.CallOptions{}); !r.Answered() {
		t.Fatalf("*45: %+v", r)
	}
	q, err := s.API.Queue(ctx, "700")
	if err != nil || q.Agents[0].Extension != "2101" || q.Agents[0].LoggedIn {
		t.Errorf("after *45 again: %+v (%v), want 2101 logged out", q.Agents, err)
	}
}

// A caller waiting in a queue stays in line while call control restarts, keeps their place
// (the time they called), and is answered when an agent comes.
func TestCallQueueSurvivesRestart(t *testing.T) {
	s := StartStack(t, StackOptions{})
	pw := func(ext string) string { return "queue-password-" + ext }
	for _, ext := range []string{"2001", "2101"} {
		createUser(t, s, ext, "User "+ext, pw(ext))
	}
	ctx := ctxT(t, 3*time.Minute)
	if _, err := s.API.CreateQueue(ctx, api.CreateQueueRequest{Number: "702", Name: "Desk", Agents: []string{"2101"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.API.SetAgentLoggedIn(ctx, "702", "2101", true); err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	c := callQueue(t, s, "2001", pw("2001"), "702", 0)
	var before api.QueuedCaller
	eventually(t, 15*time.Second, "2001 waiting (the agent has no phone registered)", func() error {
		live := queueLive(t, s, "702")
		if len(live.Callers) != 1 {
			return fmt.Errorf("callers %+v", live.Callers)
		}
		before = live.Callers[0]
		return nil
	})

	s.StopServe(t)
	s.StartServe(t)
	s.WaitReady(t)
	eventually(t, 15*time.Second, "2001 back in line", func() error {
		live := queueLive(t, s, "702")
		if len(live.Callers) != 1 || live.Callers[0].ID != before.ID {
			return fmt.Errorf("callers %+v, want %+v", live.Callers, before)
		}
		return nil
	})
	// The agent's phone comes: the caller is answered, and ends the call after 2 s of talk.
	startMember(t, s, "2101", pw("2101"), softphone.AnswerOptions{MediaOptions: softphone.MediaOptions{Duration: 2 * time.Second}})
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		t.Fatal("2001 never answered")
	}
	if !c.rep.Answered() || c.rep.EndedBy != "remote" {
		t.Errorf("caller %+v (%v): want answered, ended by the agent", c.rep, c.err)
	}
	rec := endedCallsTo(t, s, "702", since, 1)[0]
	if rec.ID != before.ID || rec.AnsweredBy != "2101" {
		t.Errorf("record %+v: want call %s answered by 2101", rec, before.ID)
	}
}
