//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/softphone"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// An extension nobody has is refused with 404 and rings no phone. Numbers of an extension's
// length reach call control, which records them as failed calls to an unknown extension (a
// misdial shows in the call list); others never get that far.
func TestUnknownExtensionReachesNobody(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1002", "Bob", "bob-password-222")
	waitEndpoint(t, s, "1002")
	bob := testbed.StartBaresip(t, testbed.BaresipOptions{Server: s.SIPServer(), Ext: "1002", Password: "bob-password-222", AutoAnswer: true})
	eventually(t, 20*time.Second, "1002 online", func() error {
		p, err := s.API.Presence(ctxT(t, 10*time.Second), "1002")
		if err != nil || p.State != "online" {
			return fmt.Errorf("presence %+v %v", p, err)
		}
		return nil
	})
	for _, dialled := range []string{"4040", "10020", "1002#", "*99"} { // *99: no such feature code
		res := testbed.RunSIPp(t, ctxT(t, 30*time.Second), testbed.SIPp{
			Scenario: "call-rejected.xml", Server: s.SIPServer(), Service: dialled,
			Username: "1001", Password: "alice-password-1", Keys: map[string]string{"caller": "1001"},
			Template: map[string]string{"status": "404"},
		})
		if res.ExitCode != 0 {
			t.Errorf("calling %q: not a 404 (SIPp exit %d):\n%s", dialled, res.ExitCode, tail(res.ErrorLog, 10))
		}
	}
	bob.Stop(t)
	if log := bob.Log(); strings.Contains(log, "Incoming call") || strings.Contains(log, "answering call") {
		t.Errorf("a registered phone got a call:\n%s", log)
	}
	page, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var callees []string
	for _, c := range page.Calls {
		callees = append(callees, c.Callee)
		if c.Outcome != "failed" || c.Reason != "unknown_extension" || c.AnsweredAt != nil || c.Active {
			t.Errorf("record of a call to an unknown extension: %+v", c)
		}
	}
	slices.Sort(callees)
	if fmt.Sprint(callees) != "[10020 4040]" {
		t.Errorf("records for %v, want the calls to 4040 and 10020", callees)
	}
}

// An online callee answers: audio flows both ways through the Asterisk bridge (each side hears
// the other's tone), the caller's BYE ends both legs, and the record says answered.
func TestAnsweredCall(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		for _, hangsUp := range []string{"Caller", "Callee"} {
			t.Run(strings.ToUpper(transport)+"/"+hangsUp+"HangsUp", func(t *testing.T) {
				s := StartStack(t, StackOptions{})
				createUser(t, s, "1001", "Alice", "alice-password-1")
				createUser(t, s, "1002", "Bob", "bob-password-222")
				answer := softphone.AnswerOptions{Calls: 1, MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}}
				dial := softphone.CallOptions{MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000}}
				if hangsUp == "Caller" {
					dial.Duration = 3 * time.Second
				} else {
					answer.Duration = 3 * time.Second
				}
				bob := startAnswering(t, s, "1002", "bob-password-222", transport, answer)
				start := time.Now()
				r := call(t, s, "1001", "alice-password-1", transport, "1002", dial)
				if !r.Answered() {
					t.Fatalf("call not answered: %s", r.Error)
				}
				if r.Tone == nil || !r.Tone.Detected {
					t.Errorf("caller did not hear the callee's 2000 Hz: %+v", r.Tone)
				}
				reports := bob.Wait(t)
				if len(reports) != 1 || reports[0].Tone == nil || !reports[0].Tone.Detected {
					t.Fatalf("callee did not hear the caller's 1000 Hz: %+v", reports)
				}
				wantEnd := map[string]string{"Caller": "local", "Callee": "remote"}[hangsUp]
				if r.EndedBy != wantEnd {
					t.Errorf("caller's call ended by %s, want %s", r.EndedBy, wantEnd)
				}
				if r.RTP.Received == 0 || reports[0].RTP.Received == 0 {
					t.Errorf("RTP received: caller %d, callee %d", r.RTP.Received, reports[0].RTP.Received)
				}
				waitNoChannels(t, s)
				rec := waitCall(t, s, "1002", start)
				if rec.Outcome != "answered" || rec.Caller != "1001" || rec.AnsweredAt == nil || rec.EndedAt == nil {
					t.Errorf("record %+v", rec)
				}
				t.Logf("setup %v (first provisional %v); callee RTP %d received, loss %.1f%%",
					r.Setup, r.FirstProvisional, reports[0].RTP.Received, reports[0].RTP.LossPercent)
			})
		}
	}
}

// A caller nobody here wrote (SIPp, streaming a G.711 tone) is heard by the callee through the
// bridge.
func TestSIPpCallerIsHeard(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1002", "Bob", "bob-password-222")
	bob := startAnswering(t, s, "1002", "bob-password-222", "udp", softphone.AnswerOptions{
		Calls: 1, MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
	res := testbed.RunSIPp(t, ctxT(t, 60*time.Second), testbed.SIPp{
		Scenario: "call.xml", Server: s.SIPServer(), Service: "1002",
		Username: "1001", Password: "alice-password-1", Keys: map[string]string{"caller": "1001"},
		Template: map[string]string{"audio": toneFile(t, 1000), "hold": "3000"},
	})
	if res.ExitCode != 0 {
		t.Fatalf("SIPp call failed (exit %d):\n%s", res.ExitCode, tail(res.ErrorLog, 10))
	}
	if reports := bob.Wait(t); len(reports) != 1 || !reports[0].Tone.Detected {
		t.Errorf("callee did not hear SIPp's 1000 Hz: %+v", reports)
	}
	waitNoChannels(t, s)
}

// Unanswered calls go to voicemail with the right greeting and record: offline (message left,
// with the caller's audio in the spool), no answer within the ring timeout, and busy.
func TestUnansweredCallsReachVoicemail(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	ring := 5
	for _, u := range []api.CreateUserRequest{
		{Extension: "1002", Name: "Offline Bob", Password: "bob-password-222"},
		{Extension: "1003", Name: "Slow Carol", Password: "carol-password-3", RingTimeout: &ring},
		{Extension: "1004", Name: "Busy Dave", Password: "dave-password-44"},
	} {
		if _, err := s.API.CreateUser(ctxT(t, 10*time.Second), u); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("Offline", func(t *testing.T) {
		start := time.Now()
		waitEndpoint(t, s, "1002")
		// The unavailable greeting takes about 12 s; the message is what follows the beep.
		r := call(t, s, "1001", "alice-password-1", "udp", "1002", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Tone: 1000, Duration: 20 * time.Second}})
		if !r.Answered() {
			t.Fatalf("voicemail did not answer: %s", r.Error)
		}
		inbox := s.Asterisk.SpoolDir + "/voicemail/default/1002/INBOX/msg0000.wav"
		eventually(t, 20*time.Second, "message file", func() error { return fileHasTone(inbox, 1000) })
		rec := waitCall(t, s, "1002", start)
		if rec.Outcome != "voicemail" || rec.Reason != "offline" {
			t.Errorf("record %+v, want voicemail/offline", rec)
		}
	})
	t.Run("NoAnswer", func(t *testing.T) {
		carol := startAnswering(t, s, "1003", "carol-password-3", "udp", softphone.AnswerOptions{Calls: 1, Reject: softphone.RejectNoAnswer})
		start := time.Now()
		r := call(t, s, "1001", "alice-password-1", "udp", "1003", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Duration: 2 * time.Second}})
		if !r.Answered() || r.Setup < softphone.Millis(4*time.Second) {
			t.Errorf("call answered %v after %v; want voicemail after the 5 s ring timeout", r.Answered(), r.Setup)
		}
		carol.Stop(t)
		rec := waitCall(t, s, "1003", start)
		if rec.Outcome != "voicemail" || rec.Reason != "no_answer" {
			t.Errorf("record %+v, want voicemail/no_answer", rec)
		}
	})
	t.Run("Busy", func(t *testing.T) {
		dave := startAnswering(t, s, "1004", "dave-password-44", "udp", softphone.AnswerOptions{Calls: 1, Reject: softphone.RejectBusy})
		start := time.Now()
		r := call(t, s, "1001", "alice-password-1", "udp", "1004", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Duration: 2 * time.Second}})
		if !r.Answered() {
			t.Errorf("voicemail did not answer the busy call: %s", r.Error)
		}
		dave.Stop(t)
		rec := waitCall(t, s, "1004", start)
		if rec.Outcome != "voicemail" || rec.Reason != "busy" {
			t.Errorf("record %+v, want voicemail/busy", rec)
		}
	})
	waitNoChannels(t, s)
}

// A user with voicemail disabled: the FastAGI helper decides at call time and the caller hears
// an announcement; the call is recorded as missed.
func TestVoicemailDisabled(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	off := false
	if _, err := s.API.CreateUser(ctxT(t, 10*time.Second), api.CreateUserRequest{Extension: "1002", Name: "Bob",
		Password: "bob-password-222", Voicemail: &api.VoicemailChange{Enabled: &off}}); err != nil {
		t.Fatal(err)
	}
	waitEndpoint(t, s, "1002")
	start := time.Now()
	r := call(t, s, "1001", "alice-password-1", "udp", "1002", softphone.CallOptions{})
	if !r.Answered() || r.Audio.Active == 0 || r.EndedBy != "remote" {
		t.Errorf("want an announcement, then a hang-up: answered %v, sound %v, ended by %s", r.Answered(), r.Audio.Active, r.EndedBy)
	}
	rec := waitCall(t, s, "1002", start)
	if rec.Outcome != "missed" || rec.Reason != "voicemail_disabled" {
		t.Errorf("record %+v, want missed/voicemail_disabled", rec)
	}
	if entries, _ := filepathGlob(s.Asterisk.SpoolDir + "/voicemail/default/1002/INBOX/*"); len(entries) != 0 {
		t.Errorf("a message was left for a user without voicemail: %v", entries)
	}
}

// Twenty calls at once, sixteen answered and four to voicemail: every one completes with the
// right outcome and record.
func TestTwentySimultaneousCalls(t *testing.T) {
	s := StartStack(t, StackOptions{})
	const n, offline = 20, 4
	for i := range n {
		createUser(t, s, fmt.Sprint(3000+i), fmt.Sprint("Caller ", i), fmt.Sprint("caller-password-", i))
		createUser(t, s, fmt.Sprint(4000+i), fmt.Sprint("Callee ", i), fmt.Sprint("callee-password-", i))
	}
	var callees []*answerer
	for i := offline; i < n; i++ {
		callees = append(callees, startAnswering(t, s, fmt.Sprint(4000+i), fmt.Sprint("callee-password-", i), "udp",
			softphone.AnswerOptions{Calls: 1, MediaOptions: softphone.MediaOptions{Tone: 2000}}))
	}
	start := time.Now()
	var wg sync.WaitGroup
	reports := make([]*softphone.Report, n)
	for i := range n {
		p := openPhone(t, s, fmt.Sprint(3000+i), fmt.Sprint("caller-password-", i), "udp")
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			reports[i], _ = p.Call(ctx, fmt.Sprint(4000+i), softphone.CallOptions{
				MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: 4 * time.Second}})
		})
	}
	wg.Wait()
	for i, r := range reports {
		switch {
		case r == nil || !r.Answered():
			t.Errorf("call %d not answered: %+v", i, r)
		case i >= offline && !r.Tone.Detected:
			t.Errorf("call %d: caller did not hear the callee", i)
		}
	}
	for _, c := range callees {
		c.Wait(t)
	}
	waitNoChannels(t, s)
	eventually(t, 30*time.Second, "20 ended records", func() error {
		l, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{From: start.Add(-time.Second), Limit: 100})
		if err != nil {
			return err
		}
		outcomes := map[string]int{}
		for _, c := range l.Calls {
			if c.Active {
				return fmt.Errorf("call %s still active", c.ID)
			}
			outcomes[c.Outcome]++
		}
		if len(l.Calls) != n || outcomes["answered"] != n-offline || outcomes["voicemail"] != offline {
			return fmt.Errorf("%d records, outcomes %v", len(l.Calls), outcomes)
		}
		return nil
	})
}

// An admin lists the calls in progress and hangs one up: both phones are hung up.
func TestAdminHangsUpACall(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1002", "Bob", "bob-password-222")
	bob := startAnswering(t, s, "1002", "bob-password-222", "udp", softphone.AnswerOptions{Calls: 1})
	alice := make(chan *softphone.Report, 1)
	go func() {
		alice <- call(t, s, "1001", "alice-password-1", "udp", "1002", softphone.CallOptions{}) // until hung up
	}()
	var active api.Call
	eventually(t, 20*time.Second, "active answered call", func() error {
		l, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{Active: true, Limit: 10})
		if err != nil || len(l.Calls) != 1 || l.Calls[0].Outcome != "answered" {
			return fmt.Errorf("active calls %+v %v", l.Calls, err)
		}
		active = l.Calls[0]
		return nil
	})
	if err := s.API.HangupCall(ctxT(t, 10*time.Second), active.ID); err != nil {
		t.Fatal(err)
	}
	if r := <-alice; r.EndedBy != "remote" {
		t.Errorf("caller: ended by %s", r.EndedBy)
	}
	if reports := bob.Wait(t); len(reports) != 1 || reports[0].EndedBy != "remote" {
		t.Errorf("callee: %+v", reports)
	}
	waitNoChannels(t, s)
	rec, err := s.API.Call(ctxT(t, 10*time.Second), active.ID)
	if err != nil || rec.Active || rec.Reason != "hung_up_by_admin" {
		t.Errorf("record %+v %v", rec, err)
	}
	if err := s.API.HangupCall(ctxT(t, 10*time.Second), active.ID); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("hanging up an ended call: %v, want 404", err)
	}
}

// A callee nobody here wrote (SIPp, echoing RTP): the caller hears its own tone come back, so
// audio crossed the bridge in both directions; a SIPp callee answering 486 sends the caller to
// voicemail with the busy reason.
func TestSIPpCallee(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1002", "Bob", "bob-password-222")
	createUser(t, s, "1003", "Carol", "carol-password-3")
	waitEndpoint(t, s, "1002")
	waitEndpoint(t, s, "1003")
	testbed.StartSIPpCallee(t, testbed.CalleeOptions{Server: s.SIPServer(), EchoRTP: true,
		Ext: "1002", Password: "bob-password-222"})
	busy := testbed.StartSIPpCallee(t, testbed.CalleeOptions{Server: s.SIPServer(), Mode: "busy",
		Ext: "1003", Password: "carol-password-3"})
	waitReachable(t, s, "1002")
	waitReachable(t, s, "1003")
	r := call(t, s, "1001", "alice-password-1", "udp", "1002", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 1000, Duration: 3 * time.Second}})
	if !r.Answered() || r.Tone == nil || !r.Tone.Detected {
		t.Errorf("echo through the bridge: answered %v, tone %+v", r.Answered(), r.Tone)
	}
	start := time.Now()
	r = call(t, s, "1001", "alice-password-1", "udp", "1003", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{Duration: time.Second}})
	if !r.Answered() {
		t.Errorf("voicemail did not answer the busy call: %s\n%s", r.Error, busy.Errors())
	}
	if rec := waitCall(t, s, "1003", start); rec.Outcome != "voicemail" || rec.Reason != "busy" {
		t.Errorf("record %+v, want voicemail/busy", rec)
	}
	waitNoChannels(t, s)
}
