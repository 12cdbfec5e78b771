//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard/softphone"
)

// kill -9 of the control plane during a bridged call: the call keeps its audio and ends
// normally (the caller's hang-up ends the callee's leg although nobody drives the call); a call
// placed during the outage completes through the dialplan fallback; after a restart the app is
// connected again within 5 s, new calls go through Stasis, and the crashed call's record is
// closed.
func TestControlPlaneCrash(t *testing.T) {
	s := StartStack(t, StackOptions{})
	for _, ext := range []string{"1001", "1002", "1003", "1004"} {
		createUser(t, s, ext, "User "+ext, "password-"+ext+"-x")
	}
	// The calls during the outage need their users in Asterisk before serve goes.
	for _, ext := range []string{"1003", "1004"} {
		waitDialplan(t, s, ext)
	}
	bob := startAnswering(t, s, "1002", "password-1002-x", "udp", softphone.AnswerOptions{
		Calls: 1, MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
	start := time.Now()
	const talk = 12 * time.Second
	alice := make(chan *softphone.Report, 1)
	go func() {
		alice <- call(t, s, "1001", "password-1001-x", "udp", "1002", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: talk}})
	}()
	// Records are written in the background: crash once the answer is in PostgreSQL, so that
	// the test can check what the restarted app makes of the record.
	eventually(t, 20*time.Second, "answered call stored", func() error {
		conn, err := pgx.Connect(ctxT(t, 10*time.Second), s.DSN)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		var outcome string
		err = conn.QueryRow(ctxT(t, 10*time.Second), `SELECT outcome FROM calls WHERE callee = '1002' AND ended_at IS NULL`).Scan(&outcome)
		if err != nil || outcome != "answered" {
			return fmt.Errorf("stored outcome %q: %v", outcome, err)
		}
		return nil
	})
	s.KillServe(t)

	t.Run("CallDuringOutageUsesTheDialplan", func(t *testing.T) {
		dave := startAnswering(t, s, "1004", "password-1004-x", "udp", softphone.AnswerOptions{
			Calls: 1, MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
		r := call(t, s, "1003", "password-1003-x", "udp", "1004", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: 2 * time.Second}})
		if !r.Answered() || !r.Tone.Detected {
			t.Errorf("call during the outage: answered %v, tone %+v, %s", r.Answered(), r.Tone, r.Error)
		}
		if reports := dave.Wait(t); len(reports) != 1 || !reports[0].Tone.Detected {
			t.Errorf("callee during the outage: %+v", reports)
		}
	})
	t.Run("BridgedCallKeepsItsAudio", func(t *testing.T) {
		r := <-alice
		if !r.Answered() || !r.Tone.Detected || r.EndedBy != "local" {
			t.Fatalf("bridged call: answered %v, tone %+v, ended by %s", r.Answered(), r.Tone, r.EndedBy)
		}
		// 12 s of 20 ms packets is 600; the crash must not have cost more than a few.
		if min := uint64(talk/(20*time.Millisecond)) * 9 / 10; r.RTP.Received < min {
			t.Errorf("caller received %d RTP packets in %v, want at least %d: audio stopped after the crash", r.RTP.Received, talk, min)
		}
		reports := bob.Wait(t) // returns only when the callee's leg was hung up
		if len(reports) != 1 || reports[0].EndedBy != "remote" || reports[0].RTP.Received < uint64(talk/(20*time.Millisecond))*9/10 {
			t.Errorf("callee: %+v", reports)
		}
		// Both legs are gone; the empty bridge waits for the app's reconciliation (below).
		eventually(t, 20*time.Second, "no channels left", func() error {
			if ch := s.Asterisk.MustCLI(t, "core show channels count"); !strings.Contains(ch, "0 active channels") {
				return fmt.Errorf("channels: %s", strings.TrimSpace(ch))
			}
			return nil
		})
	})
	t.Run("RestartReconnectsWithinFiveSeconds", func(t *testing.T) {
		restarted := time.Now()
		s.StartServe(t)
		eventually(t, 5*time.Second, "ready after restart", func() error {
			resp, err := http.Get(s.APIURL + "/readyz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		})
		t.Logf("ready %v after restart", time.Since(restarted).Round(time.Millisecond))
		waitNoChannels(t, s) // the crashed call's empty bridge is destroyed on reconnect
		rec := waitCall(t, s, "1002", start)
		if rec.Outcome != "answered" || rec.EndedAt == nil {
			t.Errorf("crashed call's record %+v: want answered and closed", rec)
		}
		after := time.Now()
		bob2 := startAnswering(t, s, "1002", "password-1002-x", "udp", softphone.AnswerOptions{Calls: 1})
		r := call(t, s, "1001", "password-1001-x", "udp", "1002", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Duration: time.Second}})
		if !r.Answered() {
			t.Fatalf("call after restart: %s", r.Error)
		}
		bob2.Wait(t)
		if rec := waitCall(t, s, "1002", after); rec.Outcome != "answered" {
			t.Errorf("call after restart not recorded by the app: %+v", rec)
		}
	})
}

// Asterisk restarted under the app: it is connected again within 5 s, nothing is orphaned,
// and calls work.
func TestAsteriskRestart(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1002", "Bob", "bob-password-222")
	s.Asterisk.Restart(t)
	restarted := time.Now()
	eventually(t, 5*time.Second, "ready after Asterisk restart", func() error {
		resp, err := http.Get(s.APIURL + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	t.Logf("ready %v after Asterisk came back", time.Since(restarted).Round(time.Millisecond))
	waitNoChannels(t, s)
	bob := startAnswering(t, s, "1002", "bob-password-222", "udp", softphone.AnswerOptions{Calls: 1})
	r := call(t, s, "1001", "alice-password-1", "udp", "1002", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{Duration: time.Second}})
	if !r.Answered() {
		t.Fatalf("call after Asterisk restart: %s", r.Error)
	}
	bob.Wait(t)
	waitNoChannels(t, s)
}

// With the FastAGI server unreachable the voicemail path still reaches VoiceMail(): the caller
// leaves a message.
func TestVoicemailWithoutFastAGI(t *testing.T) {
	s := StartStack(t, StackOptions{AGIURL: "agi://127.0.0.1:9"}) // discard port: nothing listens
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1002", "Bob", "bob-password-222")
	waitEndpoint(t, s, "1002")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := openPhone(t, s, "1001", "alice-password-1", "udp")
	r, err := p.Call(ctx, "1002", softphone.CallOptions{MediaOptions: softphone.MediaOptions{Tone: 1000, Duration: 18 * time.Second}})
	if err != nil || !r.Answered() {
		t.Fatalf("voicemail did not answer: %v", err)
	}
	inbox := s.Asterisk.SpoolDir + "/voicemail/default/1002/INBOX/msg0000.wav"
	eventually(t, 20*time.Second, "message file", func() error { return fileHasTone(inbox, 1000) })
}

// A control plane restarted while a call is bridged adopts it: when a party hangs up, the
// other leg ends and the record is closed by the app, with the call's real end time.
func TestRestartAdoptsBridgedCall(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1002", "Bob", "bob-password-222")
	bob := startAnswering(t, s, "1002", "bob-password-222", "udp", softphone.AnswerOptions{Calls: 1})
	start := time.Now()
	alice := make(chan *softphone.Report, 1)
	go func() {
		alice <- call(t, s, "1001", "alice-password-1", "udp", "1002", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Duration: 6 * time.Second}})
	}()
	eventually(t, 20*time.Second, "bridged", func() error {
		if out := s.Asterisk.MustCLI(t, "bridge show all"); !strings.Contains(out, "sb-") {
			return fmt.Errorf("no bridge yet")
		}
		return nil
	})
	s.KillServe(t)
	s.StartServe(t)
	s.WaitReady(t)
	eventually(t, 10*time.Second, "adopted", func() error {
		if !strings.Contains(s.Log(), `"reconcile: adopted a call"`) || !strings.Contains(s.Log(), `"phase":"talk"`) {
			return fmt.Errorf("not adopted")
		}
		return nil
	})
	if r := <-alice; !r.Answered() || r.EndedBy != "local" {
		t.Fatalf("caller: %+v", r)
	}
	if reports := bob.Wait(t); len(reports) != 1 || reports[0].EndedBy != "remote" {
		t.Errorf("callee: %+v", reports)
	}
	rec := waitCall(t, s, "1002", start)
	if rec.Outcome != "answered" || rec.EndedAt == nil || rec.EndedAt.Sub(start) < 5*time.Second {
		t.Errorf("record %+v: want answered, ended when the caller hung up", rec)
	}
	waitNoChannels(t, s)
}
