//go:build integration

package e2e_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/softphone"
	"github.com/switchboard-pbx/switchboard/testbed"
)

func pw(ext string) string { return "password-" + ext + "-x1" }

// users creates users with the passwords pw gives them.
func users(t *testing.T, s *Stack, exts ...string) {
	t.Helper()
	for _, ext := range exts {
		createUser(t, s, ext, "User "+ext, pw(ext))
	}
}

// patch changes a user's settings over the API and waits until Asterisk has the new dialplan
// line (what the settings make of it when the control plane is away).
func patch(t *testing.T, s *Stack, ext string, req api.PatchUserRequest) api.User {
	t.Helper()
	u, err := s.API.PatchUser(ctxT(t, 10*time.Second), ext, req)
	if err != nil {
		t.Fatalf("PATCH %s: %v", ext, err)
	}
	return u
}

func ptr[T any](v T) *T { return &v }

// callsTo returns the records of calls to callee since t0, newest first, once all have ended.
func endedCallsTo(t *testing.T, s *Stack, callee string, since time.Time, n int) []api.Call {
	t.Helper()
	var calls []api.Call
	eventually(t, 30*time.Second, fmt.Sprintf("%d ended calls to %s", n, callee), func() error {
		l, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{User: callee, From: since.Add(-time.Second), Limit: 50})
		if err != nil {
			return err
		}
		calls = nil
		for _, c := range l.Calls {
			if c.Callee == callee && !c.Active {
				calls = append(calls, c)
			}
		}
		if len(calls) != n {
			return fmt.Errorf("%d ended: %+v", len(calls), l.Calls)
		}
		return nil
	})
	return calls
}

// Five people call one colleague at once; the phone takes every call (call waiting, on by
// default): all five are answered by it with audio both ways. With call waiting off, the
// second to fifth callers reach the busy greeting and the phone gets one INVITE.
func TestCallWaiting(t *testing.T) {
	s := StartStack(t, StackOptions{})
	callers := []string{"2001", "2002", "2003", "2004", "2005"}
	users(t, s, append(callers, "2010")...)
	const talk = 4 * time.Second
	t.Run("On", func(t *testing.T) {
		phone := startAnswering(t, s, "2010", pw("2010"), "udp", softphone.AnswerOptions{Calls: 5,
			MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
		reports := make([]*softphone.Report, len(callers))
		var wg sync.WaitGroup
		for i, c := range callers {
			wg.Go(func() {
				reports[i] = call(t, s, c, pw(c), "udp", "2010", softphone.CallOptions{
					MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: talk}})
			})
		}
		wg.Wait()
		for i, r := range reports {
			if !r.Answered() || r.Tone == nil || !r.Tone.Detected {
				t.Errorf("caller %s: answered %v, heard %+v: %s", callers[i], r.Answered(), r.Tone, r.Error)
			}
		}
		taken := phone.Wait(t)
		heard := 0
		for _, r := range taken {
			if r.Answered() && r.Tone != nil && r.Tone.Detected {
				heard++
			}
		}
		if len(taken) != 5 || heard != 5 {
			t.Errorf("the phone took %d calls, heard the caller in %d; want 5 and 5", len(taken), heard)
		}
	})
	t.Run("Off", func(t *testing.T) {
		patch(t, s, "2010", api.PatchUserRequest{CallSettingsChange: api.CallSettingsChange{CallWaiting: ptr(false)}})
		since := time.Now()
		phone := startAnswering(t, s, "2010", pw("2010"), "udp", softphone.AnswerOptions{Calls: 1,
			MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
		first := make(chan *softphone.Report, 1)
		go func() {
			first <- call(t, s, callers[0], pw(callers[0]), "udp", "2010", softphone.CallOptions{
				MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: 8 * time.Second}})
		}()
		waitAnswered(t, s, "2010", since)
		var wg sync.WaitGroup
		for _, c := range callers[1:] {
			wg.Go(func() {
				r := call(t, s, c, pw(c), "udp", "2010", softphone.CallOptions{
					MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: 3 * time.Second}})
				if !r.Answered() || r.Tone.Detected {
					t.Errorf("caller %s: answered %v, heard the phone %+v; want the busy greeting", c, r.Answered(), r.Tone)
				}
			})
		}
		wg.Wait()
		if r := <-first; !r.Answered() || !r.Tone.Detected {
			t.Errorf("first caller: %+v", r)
		}
		phone.Wait(t)
		if n := phone.invites.Load(); n != 1 {
			t.Errorf("the phone got %d INVITEs, want 1 (call waiting is off)", n)
		}
		busy := 0
		for _, c := range endedCallsTo(t, s, "2010", since, 5) {
			if c.Outcome == "voicemail" && c.Reason == "busy" {
				busy++
			}
		}
		if busy != 4 {
			t.Errorf("%d calls reached the busy greeting, want 4", busy)
		}
	})
}

// A user with three phones: all three ring; the one that answers talks both ways; the other
// two are cancelled, told the call was answered elsewhere. One unregistering leaves the others
// registered and ringing, and presence lists the phones.
func TestSeveralPhones(t *testing.T) {
	s := StartStack(t, StackOptions{})
	users(t, s, "3001", "3002")
	waitEndpoint(t, s, "3002")
	// Phone 1: a SIPp that rings and checks the CANCEL's Reason; 2: a softphone that rings until
	// cancelled; 3: a softphone that answers after a second.
	sipp := testbed.StartSIPpCallee(t, testbed.CalleeOptions{Server: s.SIPServer(), Ext: "3002", Password: pw("3002"), Mode: "ring-elsewhere"})
	ringer := startAnswering(t, s, "3002", pw("3002"), "udp", softphone.AnswerOptions{Calls: 1, Reject: softphone.RejectNoAnswer})
	answerer := startAnswering(t, s, "3002", pw("3002"), "udp", softphone.AnswerOptions{Calls: 2, RingFor: time.Second,
		MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
	eventually(t, 20*time.Second, "three phones registered", func() error {
		p, err := s.API.Presence(ctxT(t, 10*time.Second), "3002")
		if err != nil || len(p.Devices) != 3 || p.State != "online" {
			return fmt.Errorf("presence %+v %v", p, err)
		}
		return nil
	})
	r := call(t, s, "3001", pw("3001"), "udp", "3002", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: 3 * time.Second}})
	if !r.Answered() || !r.Tone.Detected {
		t.Fatalf("caller: answered %v, heard %+v: %s", r.Answered(), r.Tone, r.Error)
	}
	if rep := ringer.Wait(t); len(rep) != 1 || rep[0].Outcome != softphone.OutcomeNoAnswer {
		t.Errorf("the ringing softphone: %+v, want its call cancelled", rep)
	}
	eventually(t, 10*time.Second, "SIPp cancelled", func() error {
		if m := sipp.Messages(); !strings.Contains(m, "CANCEL sip:") {
			return fmt.Errorf("no CANCEL yet")
		}
		return nil
	})
	// SIPp logs a failed check of the CANCEL's Reason as a regexp mismatch.
	if e := sipp.Errors(); strings.Contains(e, "regexp") {
		t.Errorf("SIPp phone (the CANCEL must say \"Call completed elsewhere\"): %s", e)
	}
	// The ringing softphone took its call and unregistered: the two others stay.
	eventually(t, 10*time.Second, "two phones left", func() error {
		p, err := s.API.Presence(ctxT(t, 10*time.Second), "3002")
		if err != nil || len(p.Devices) != 2 || p.State != "online" {
			return fmt.Errorf("presence %+v %v", p, err)
		}
		return nil
	})
	r = call(t, s, "3001", pw("3001"), "udp", "3002", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: 2 * time.Second}})
	if !r.Answered() || !r.Tone.Detected {
		t.Errorf("second call: answered %v, heard %+v: %s", r.Answered(), r.Tone, r.Error)
	}
	if rep := answerer.Wait(t); len(rep) != 2 {
		t.Errorf("the answering phone took %d calls, want 2", len(rep))
	}
	if n := strings.Count(sipp.Messages(), "CANCEL sip:"); n != 2 {
		t.Errorf("the SIPp phone got %d CANCELs, want 2 (one per call)", n)
	}
	waitNoChannels(t, s)
}

// Each forward takes the call to its target with the original caller's ID; the record says
// where it went. A loop ends in a mailbox, ringing nobody; DND sends callers to voicemail
// without an INVITE to any phone.
func TestForwardsAndDND(t *testing.T) {
	s := StartStack(t, StackOptions{})
	users(t, s, "4001", "4002", "4003")
	fwd := func(kind string, to string) api.PatchUserRequest {
		f := &api.ForwardChange{Enabled: ptr(to != ""), Destination: ptr(to)}
		var c api.ForwardsChange
		switch kind {
		case "unconditional":
			c.Unconditional = f
		case "busy":
			c.Busy = f
		case "no_answer":
			c.NoAnswer = f
		}
		return api.PatchUserRequest{RingTimeout: ptr(5), CallSettingsChange: api.CallSettingsChange{Forwards: &c}}
	}
	for _, tt := range []struct {
		kind  string
		phone softphone.AnswerOptions // 4002's phone
		rings bool                    // 4002's phone gets the INVITE first
	}{
		{"unconditional", softphone.AnswerOptions{Calls: 1}, false},
		{"busy", softphone.AnswerOptions{Calls: 1, Reject: softphone.RejectBusy}, true},
		{"no_answer", softphone.AnswerOptions{Calls: 1, Reject: softphone.RejectNoAnswer}, true},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			patch(t, s, "4002", fwd(tt.kind, "4003"))
			t.Cleanup(func() { patch(t, s, "4002", fwd(tt.kind, "")) })
			since := time.Now()
			bob := startAnswering(t, s, "4002", pw("4002"), "udp", tt.phone)
			carol := startAnswering(t, s, "4003", pw("4003"), "udp", softphone.AnswerOptions{Calls: 1,
				MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
			r := call(t, s, "4001", pw("4001"), "udp", "4002", softphone.CallOptions{
				MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: 2 * time.Second}})
			if !r.Answered() || !r.Tone.Detected {
				t.Fatalf("caller: answered %v, heard %+v: %s", r.Answered(), r.Tone, r.Error)
			}
			reports := carol.Wait(t)
			if len(reports) != 1 || reports[0].Peer != "4001" || !reports[0].Tone.Detected {
				t.Errorf("the forward's target: %+v, want a call from 4001 (the original caller) with audio", reports)
			}
			bob.Stop(t)
			if got, want := bob.invites.Load(), map[bool]int32{true: 1, false: 0}[tt.rings]; got != want {
				t.Errorf("4002's phone got %d INVITEs, want %d", got, want)
			}
			rec := endedCallsTo(t, s, "4002", since, 1)[0]
			if rec.Outcome != "answered" || fmt.Sprint(rec.ForwardedTo) != "[4003]" {
				t.Errorf("record %+v: want answered, forwarded to [4003]", rec)
			}
		})
	}
	t.Run("Loop", func(t *testing.T) {
		patch(t, s, "4002", fwd("unconditional", "4003"))
		patch(t, s, "4003", fwd("unconditional", "4002"))
		since := time.Now()
		bob := startAnswering(t, s, "4002", pw("4002"), "udp", softphone.AnswerOptions{Calls: 1})
		carol := startAnswering(t, s, "4003", pw("4003"), "udp", softphone.AnswerOptions{Calls: 1})
		r := call(t, s, "4001", pw("4001"), "udp", "4002", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Duration: 2 * time.Second}})
		if !r.Answered() {
			t.Errorf("the loop did not end in a mailbox: %s", r.Error)
		}
		bob.Stop(t)
		carol.Stop(t)
		if n := bob.invites.Load() + carol.invites.Load(); n != 0 {
			t.Errorf("%d INVITEs to the phones of a forwarding loop, want 0", n)
		}
		rec := endedCallsTo(t, s, "4002", since, 1)[0]
		if rec.Outcome != "voicemail" || rec.Reason != "forward_loop" || fmt.Sprint(rec.ForwardedTo) != "[4003]" {
			t.Errorf("record %+v: want voicemail of 4003 (forward_loop)", rec)
		}
		patch(t, s, "4002", fwd("unconditional", ""))
		patch(t, s, "4003", fwd("unconditional", ""))
	})
	t.Run("DND", func(t *testing.T) {
		patch(t, s, "4002", api.PatchUserRequest{CallSettingsChange: api.CallSettingsChange{DND: ptr(true)}})
		since := time.Now()
		bob := startAnswering(t, s, "4002", pw("4002"), "udp", softphone.AnswerOptions{Calls: 1})
		r := call(t, s, "4001", pw("4001"), "udp", "4002", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Duration: 2 * time.Second}})
		if !r.Answered() || r.Audio.Active == 0 {
			t.Errorf("DND: the caller did not reach a greeting: %+v", r)
		}
		bob.Stop(t)
		if n := bob.invites.Load(); n != 0 {
			t.Errorf("a phone with DND got %d INVITEs", n)
		}
		rec := endedCallsTo(t, s, "4002", since, 1)[0]
		if rec.Outcome != "voicemail" || rec.Reason != "dnd" {
			t.Errorf("record %+v: want voicemail, dnd", rec)
		}
		patch(t, s, "4002", api.PatchUserRequest{CallSettingsChange: api.CallSettingsChange{DND: ptr(false)}})
	})
}

// The feature codes change the caller's own settings only, at once, and a prompt confirms.
func TestFeatureCodes(t *testing.T) {
	s := StartStack(t, StackOptions{})
	users(t, s, "5001", "5002", "5003")
	waitDialplan(t, s, "5003")
	steps := []struct {
		code  string
		check func(u api.User) bool
	}{
		{"*725003", func(u api.User) bool {
			return u.Forwards.Unconditional == api.Forward{Enabled: true, Destination: "5003"}
		}},
		{"*73", func(u api.User) bool { return !u.Forwards.Unconditional.Enabled }},
		{"*905002", func(u api.User) bool { return u.Forwards.Busy == api.Forward{Enabled: true, Destination: "5002"} }},
		{"*91", func(u api.User) bool { return !u.Forwards.Busy.Enabled }},
		{"*525003", func(u api.User) bool { return u.Forwards.NoAnswer == api.Forward{Enabled: true, Destination: "5003"} }},
		{"*53", func(u api.User) bool { return !u.Forwards.NoAnswer.Enabled }},
		{"*78", func(u api.User) bool { return u.DND }},
		{"*79", func(u api.User) bool { return !u.DND }},
		{"*71", func(u api.User) bool { return !u.CallWaiting }},
		{"*70", func(u api.User) bool { return u.CallWaiting }},
		// A forward to oneself is refused: nothing changes (and a prompt says so).
		{"*725001", func(u api.User) bool { return !u.Forwards.Unconditional.Enabled }},
	}
	other, err := s.API.User(ctxT(t, 10*time.Second), "5002")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range steps {
		r := call(t, s, "5001", pw("5001"), "udp", st.code, softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Duration: 3 * time.Second}})
		if !r.Answered() || r.Audio.Active == 0 {
			t.Errorf("%s: no confirming prompt (answered %v, audio %+v): %s", st.code, r.Answered(), r.Audio, r.Error)
		}
		u, err := s.API.User(ctxT(t, 10*time.Second), "5001")
		if err != nil {
			t.Fatal(err)
		}
		if !st.check(u) {
			t.Errorf("%s: settings of 5001 now %+v", st.code, u)
		}
	}
	if now, err := s.API.User(ctxT(t, 10*time.Second), "5002"); err != nil || now.Forwards != other.Forwards ||
		now.DND != other.DND || now.CallWaiting != other.CallWaiting {
		t.Errorf("another user's settings changed: %+v, was %+v (%v)", now, other, err)
	}
}

// With the control plane down, the dialplan still honours DND (the busy greeting, no INVITE)
// and the unconditional forward (the target rings, with audio), and rings every phone.
func TestFallbackHonoursDNDAndForward(t *testing.T) {
	s := StartStack(t, StackOptions{})
	users(t, s, "6001", "6002", "6003", "6004")
	patch(t, s, "6002", api.PatchUserRequest{CallSettingsChange: api.CallSettingsChange{DND: ptr(true)}})
	patch(t, s, "6004", api.PatchUserRequest{CallSettingsChange: api.CallSettingsChange{
		Forwards: &api.ForwardsChange{Unconditional: &api.ForwardChange{Enabled: ptr(true), Destination: ptr("6003")}}}})
	for ext, want := range map[string]map[string]string{
		"6002": {"dnd": "1", "forward_always": ""},
		"6004": {"dnd": "0", "forward_always": "6003"},
	} {
		eventually(t, 15*time.Second, "line of "+ext+" in the realtime table", func() error {
			line := realtimeLine(t, s, ext)
			for k, v := range want {
				if line[k] != v {
					return fmt.Errorf("%s = %q, want %q (line %v)", k, line[k], v, line)
				}
			}
			return nil
		})
	}
	s.KillServe(t)
	dnd := startAnswering(t, s, "6002", pw("6002"), "udp", softphone.AnswerOptions{Calls: 1})
	r := call(t, s, "6001", pw("6001"), "udp", "6002", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{Duration: 2 * time.Second}})
	if !r.Answered() || r.Audio.Active == 0 {
		t.Errorf("DND without the control plane: the caller did not reach the greeting: %+v", r)
	}
	dnd.Stop(t)
	if n := dnd.invites.Load(); n != 0 {
		t.Errorf("the DND phone got %d INVITEs without the control plane", n)
	}
	target := startAnswering(t, s, "6003", pw("6003"), "udp", softphone.AnswerOptions{Calls: 1,
		MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
	r = call(t, s, "6001", pw("6001"), "udp", "6004", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: 2 * time.Second}})
	if !r.Answered() || !r.Tone.Detected {
		t.Errorf("forward without the control plane: answered %v, heard %+v: %s", r.Answered(), r.Tone, r.Error)
	}
	if reports := target.Wait(t); len(reports) != 1 || !reports[0].Tone.Detected {
		t.Errorf("the forward's target without the control plane: %+v", reports)
	}
	waitNoChannels(t, s)

}
