//go:build integration

package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/softphone"
)

// TestChaos places 24 calls with media (12 pairs of phones, two calls each) while the control
// plane is SIGTERMed, SIGKILLed and restarted and its ARI connection is cut, on a schedule
// drawn from a seed. Every answered call must last its planned length with audio both ways
// without a break, no phone may ring twice for one call, and afterwards Asterisk holds no
// channel and no bridge, no record is left active, and serve's goroutines are back to their
// idle count. A failure prints the seed; SWITCHBOARD_CHAOS_SEED=<seed> replays the schedule.
func TestChaos(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SWITCHBOARD_CHAOS_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("SWITCHBOARD_CHAOS_SEED=%q: %v", v, err)
		}
	}
	t.Logf("chaos seed %d (replay: SWITCHBOARD_CHAOS_SEED=%d TESTFLAGS='-run TestChaos' make test)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))

	s := StartStack(t, StackOptions{ProxyARI: true})
	const pairs, callsPerPair = 12, 2
	caller := func(i int) string { return strconv.Itoa(2101 + i) }
	callee := func(i int) string { return strconv.Itoa(2201 + i) }
	password := func(ext string) string { return "chaos-password-" + ext }
	for i := range pairs {
		createUser(t, s, caller(i), "Caller "+caller(i), password(caller(i)))
		createUser(t, s, callee(i), "Callee "+callee(i), password(callee(i)))
	}
	for i := range pairs {
		waitDialplan(t, s, callee(i)) // calls during an outage need them in Asterisk
	}
	idle := goroutines(t, s)

	// The calls: each pair's caller dials its callee twice, one call after the other, with a
	// talk time and a ring time drawn from the seed.
	type plannedCall struct {
		pair  int
		talk  time.Duration
		delay time.Duration // before dialling
		rep   *softphone.Report
		err   error
	}
	plans := make([][]*plannedCall, pairs)
	callees := make([]*answerer, pairs)
	for i := range pairs {
		ring := time.Duration(rng.IntN(2500)) * time.Millisecond
		callees[i] = startAnswering(t, s, callee(i), password(callee(i)), "udp", softphone.AnswerOptions{
			Calls: callsPerPair, RingFor: ring, MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
		for range callsPerPair {
			plans[i] = append(plans[i], &plannedCall{pair: i,
				talk:  time.Duration(6000+rng.IntN(5000)) * time.Millisecond,
				delay: time.Duration(1000+rng.IntN(4000)) * time.Millisecond})
		}
	}
	var calls sync.WaitGroup
	began := time.Now()
	for i := range pairs {
		p := openPhone(t, s, caller(i), password(caller(i)), "udp")
		calls.Go(func() {
			for _, c := range plans[i] {
				time.Sleep(c.delay) // the schedule, drawn from the seed
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				c.rep, c.err = p.Call(ctx, callee(i), softphone.CallOptions{
					MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: c.talk}})
				cancel()
			}
		})
	}
	allDone := make(chan struct{})
	go func() { calls.Wait(); close(allDone) }()

	// The disruptions, on the test's goroutine, until the calls are over.
	var terms, kills, cuts int
	for done := false; !done; {
		select {
		case <-allDone:
			done = true
			continue
		case <-time.After(time.Duration(2000+rng.IntN(3000)) * time.Millisecond):
		}
		gap := time.Duration(800+rng.IntN(2500)) * time.Millisecond
		switch what := rng.IntN(3); what {
		case 0:
			terms++
			t.Logf("%5.1fs: SIGTERM, back after %v", time.Since(began).Seconds(), gap)
			s.StopServe(t)
			time.Sleep(gap) // the schedule: how long serve stays away
			s.StartServe(t)
		case 1:
			kills++
			t.Logf("%5.1fs: SIGKILL, back after %v", time.Since(began).Seconds(), gap)
			s.KillServe(t)
			time.Sleep(gap)
			s.StartServe(t)
		case 2:
			cuts++
			t.Logf("%5.1fs: ARI connections cut for %v", time.Since(began).Seconds(), gap)
			s.ARIProxy.Cut()
			time.Sleep(gap)
			s.ARIProxy.Restore()
		}
	}
	s.WaitReady(t)
	t.Logf("calls over after %v: %d SIGTERMs, %d SIGKILLs, %d cuts", time.Since(began).Round(time.Second), terms, kills, cuts)

	// Every call: answered by its callee, the planned length, both tones without a break.
	answered, lost := 0, 0
	for i := range pairs {
		reports := callees[i].Wait(t)
		if n := callees[i].invites.Load(); n != callsPerPair {
			t.Errorf("callee %s got %d INVITEs for %d calls: a phone rang twice", callee(i), n, callsPerPair)
		}
		if len(reports) != callsPerPair {
			t.Errorf("callee %s took %d calls, want %d", callee(i), len(reports), callsPerPair)
		}
		for k, c := range plans[i] {
			if c.rep == nil || !c.rep.Answered() {
				lost++
				t.Errorf("call %s → %s #%d not answered: %v %+v", caller(i), callee(i), k+1, c.err, c.rep)
				continue
			}
			answered++
			heard := []*softphone.Report{c.rep}
			if k < len(reports) {
				heard = append(heard, reports[k])
			}
			for _, r := range heard {
				if r.Tone == nil || !r.Tone.Detected || time.Duration(r.Tone.LongestRun) < c.talk-1500*time.Millisecond {
					lost++
					t.Errorf("call %s → %s #%d (%v): %s heard %+v: audio stopped", caller(i), callee(i), k+1, c.talk, r.Direction, r.Tone)
				}
			}
			if c.rep.EndedBy != "local" || time.Duration(c.rep.Talk) < c.talk-500*time.Millisecond {
				lost++
				t.Errorf("call %s → %s #%d: talked %v of %v, ended by %s", caller(i), callee(i), k+1, c.rep.Talk, c.talk, c.rep.EndedBy)
			}
		}
	}
	waitNoChannels(t, s)
	if out := s.Asterisk.MustCLI(t, "core show channels count"); !strings.Contains(out, "0 active channels") {
		t.Errorf("channels left: %s", out)
	}
	var recorded int
	eventually(t, 20*time.Second, "no record left active", func() error {
		l, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{Active: true, Limit: 100})
		if err != nil {
			return err
		}
		if len(l.Calls) > 0 {
			return fmt.Errorf("%d active: %+v", len(l.Calls), l.Calls)
		}
		all, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{Limit: 100})
		recorded = len(all.Calls)
		return err
	})
	var after int
	eventually(t, 20*time.Second, "goroutines back to the idle count", func() error {
		after = goroutines(t, s)
		if after > idle+3 {
			return fmt.Errorf("%d goroutines, %d when idle before the calls", after, idle)
		}
		return nil
	})
	t.Logf("chaos: %d calls, %d answered with audio both ways throughout, %d lost; %d records (the others went through the dialplan while serve was away); %d SIGTERM + %d SIGKILL restarts, %d ARI cuts; goroutines idle %d, after %d",
		pairs*callsPerPair, answered, lost, recorded, terms, kills, cuts, idle, after)
}

// goroutines reads go_goroutines from serve's /metrics.
func goroutines(t *testing.T, s *Stack) int {
	t.Helper()
	resp, err := http.Get(s.APIURL + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("go_goroutines %q: %v", v, err)
			}
			return int(n)
		}
	}
	t.Fatal("no go_goroutines in /metrics")
	return 0
}
