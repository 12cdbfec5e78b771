//go:build integration

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/media"
	"github.com/switchboard-pbx/switchboard/softphone"
)

// mwiWatch collects the message-summary NOTIFYs a phone receives.
type mwiWatch struct {
	name string
	ch   chan softphone.MWI
}

func newMWIWatch(name string) *mwiWatch {
	return &mwiWatch{name: name, ch: make(chan softphone.MWI, 64)}
}

func (w *mwiWatch) onEvent(e softphone.Event) {
	if e.Kind == softphone.EventMWI && e.MWI != nil {
		select {
		case w.ch <- *e.MWI:
		default:
		}
	}
}

// wait returns the first summary from now on that matches want.
func (w *mwiWatch) wait(t *testing.T, within time.Duration, what string, want func(softphone.MWI) bool) softphone.MWI {
	t.Helper()
	deadline := time.After(within)
	var seen []softphone.MWI
	for {
		select {
		case m := <-w.ch:
			if want(m) {
				return m
			}
			seen = append(seen, m)
		case <-deadline:
			t.Fatalf("%s: no NOTIFY with %s within %v; got %+v", w.name, what, within, seen)
		}
	}
}

func mwiIs(waiting bool, newMsgs, oldMsgs int) func(softphone.MWI) bool {
	return func(m softphone.MWI) bool { return m.Waiting == waiting && m.New == newMsgs && m.Old == oldMsgs }
}

func inSubscription(want func(softphone.MWI) bool) func(softphone.MWI) bool {
	return func(m softphone.MWI) bool { return m.Subscription && want(m) }
}

// messageStart returns where the recording began in what a caller heard: the end of the last
// sound (the beep after the greeting); from there on voicemail sends silence while it records.
func messageStart(t *testing.T, path string) (start, total time.Duration) {
	t.Helper()
	samples, format := readWAV(t, path)
	block := format.SampleRate / 50 // 20 ms
	last := 0
	for i := 0; i+block <= len(samples); i += block {
		if media.Level(samples[i:i+block]) > -45 {
			last = i + block
		}
	}
	rate := time.Duration(format.SampleRate)
	return time.Duration(last) * time.Second / rate, time.Duration(len(samples)) * time.Second / rate
}

// leaveMessage has Alice leave Bob a message: 20 s of a 1000 Hz tone from the answer, the
// greeting first. It returns the message's true length, from the beep to the hang-up.
func leaveMessage(t *testing.T, s *Stack) time.Duration {
	t.Helper()
	rec := filepath.Join(t.TempDir(), "caller-heard.wav")
	r := call(t, s, "1001", "alice-password-1", "udp", "1002", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{Tone: 1000, Duration: 20 * time.Second, Record: rec}})
	if !r.Answered() {
		t.Fatalf("voicemail did not answer: %s", r.Error)
	}
	start, total := messageStart(t, rec)
	if start < 3*time.Second || total-start < 3*time.Second {
		t.Fatalf("caller heard sound until %v of %v: no greeting, or no time left to record", start, total)
	}
	return total - start
}

// checkMailbox dials *97 as Bob, logs in with the PIN and presses 1 (play the first message,
// new ones first, else old ones), then dtmf; it reports whether Bob heard Alice's tone.
func checkMailbox(t *testing.T, s *Stack, then string, d time.Duration) bool {
	t.Helper()
	r := call(t, s, "1002", "bob-password-222", "udp", "*97", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{DTMF: "2468#WW1" + then, DTMFDelay: 1500 * time.Millisecond,
			ExpectTone: 1000, HangupOnTone: then == "", Duration: d}})
	if !r.Answered() {
		t.Fatalf("*97 did not answer: %s", r.Error)
	}
	return r.Tone != nil && r.Tone.Detected
}

// Messages over the API, and the message-waiting lamp: what the API changes is what *97 and
// the phones' NOTIFYs then show, and what the phone deletes is gone from the API.
func TestVoicemailMessages(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	pin, dnd := "2468", true
	if _, err := s.API.CreateUser(ctxT(t, 10*time.Second), api.CreateUserRequest{Extension: "1002", Name: "Bob",
		Password: "bob-password-222", Voicemail: &api.VoicemailChange{PIN: &pin},
		CallSettingsChange: api.CallSettingsChange{DND: &dnd}}); err != nil {
		t.Fatal(err)
	}
	waitEndpoint(t, s, "1002")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	// Bob's desk phone registers: Asterisk tells it of his mailbox unasked (unsolicited NOTIFY).
	desk := newMWIWatch("desk phone")
	deskPhone := openPhoneAt(t, s.SIPServer(), "1002", "bob-password-222", "udp", desk.onEvent)
	go deskPhone.Register(ctx, softphone.RegisterOptions{})
	desk.wait(t, 15*time.Second, "no messages, on registration", mwiIs(false, 0, 0))

	truth := leaveMessage(t, s)
	hungUp := time.Now()
	var msg api.VoicemailMessage
	eventually(t, 3*time.Second, "the message in the API", func() error {
		l, err := s.API.Messages(ctxT(t, 5*time.Second), "1002", api.MessageQuery{})
		if err != nil || len(l.Messages) != 1 {
			return fmt.Errorf("%d messages, %v", len(l.Messages), err)
		}
		msg = l.Messages[0]
		return nil
	})
	t.Logf("message listed %v after the hang-up; %v long by the API, %v by the caller's ear",
		time.Since(hungUp).Round(10*time.Millisecond), time.Duration(msg.DurationMS)*time.Millisecond, truth.Round(10*time.Millisecond))
	if msg.CallerNumber != "1001" || msg.CallerName != "Alice" || msg.Folder != "new" || msg.Heard {
		t.Errorf("message %+v, want a new one from Alice <1001>", msg)
	}
	if diff := time.Duration(msg.DurationMS)*time.Millisecond - truth; diff > 500*time.Millisecond || diff < -500*time.Millisecond {
		t.Errorf("duration %d ms, truth %v: off by %v", msg.DurationMS, truth, diff)
	}
	if since := time.Since(msg.ReceivedAt); since < 0 || since > time.Minute {
		t.Errorf("received at %v", msg.ReceivedAt)
	}
	wav, err := s.API.MessageAudio(ctxT(t, 10*time.Second), "1002", msg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(wav)) != msg.Size {
		t.Errorf("downloaded %d bytes, the list says %d", len(wav), msg.Size)
	}
	samples, format, err := media.ReadWAV(bytes.NewReader(wav))
	if err != nil || format.SampleRate != 8000 || !media.DetectTone(samples, 1000, 8000).Detected {
		t.Errorf("downloaded audio: %v, %v, tone %+v", format, err, media.DetectTone(samples, 1000, 8000))
	}
	desk.wait(t, 10*time.Second, "1 new message", mwiIs(true, 1, 0))

	traversal(t, s, msg.ID)

	// Marked heard over the API: the lamps go out, and *97 still plays it (as an old message).
	if m, err := s.API.PatchMessage(ctxT(t, 10*time.Second), "1002", msg.ID, api.PatchMessageRequest{Heard: &dnd}); err != nil ||
		m.Folder != "old" || m.ID != msg.ID {
		t.Fatalf("mark heard: %+v, %v", m, err)
	}
	desk.wait(t, 10*time.Second, "0 new, 1 old", mwiIs(false, 0, 1))
	if !checkMailbox(t, s, "", 40*time.Second) {
		t.Error("*97 did not play the message marked heard")
	}

	// Deleted over the API: gone for *97 too.
	if err := s.API.DeleteMessage(ctxT(t, 10*time.Second), "1002", msg.ID); err != nil {
		t.Fatal(err)
	}
	desk.wait(t, 10*time.Second, "no messages", mwiIs(false, 0, 0))
	if checkMailbox(t, s, "", 15*time.Second) {
		t.Error("*97 played a message deleted over the API")
	}

	leaveMessage(t, s)
	desk.wait(t, 10*time.Second, "1 new message", mwiIs(true, 1, 0))

	// Bob's second phone subscribes (SUBSCRIBE message-summary to its own address): the state
	// comes in its subscription at once, and every change after it.
	second := newMWIWatch("subscribing phone")
	secondPhone := openPhoneAt(t, s.SIPServer(), "1002", "bob-password-222", "udp", second.onEvent)
	go secondPhone.Register(ctx, softphone.RegisterOptions{SubscribeMWI: true})
	// (Registering, before it subscribes, it may get an unsolicited one too.)
	second.wait(t, 15*time.Second, "1 new message, in the subscription", inSubscription(mwiIs(true, 1, 0)))

	// Deleted from the phone (*97, 1 to play, 7 to delete): gone from the API.
	checkMailbox(t, s, "WWWW7W", 12*time.Second)
	eventually(t, 10*time.Second, "the message deleted by phone gone from the API", func() error {
		l, err := s.API.Messages(ctxT(t, 5*time.Second), "1002", api.MessageQuery{})
		if err != nil || len(l.Messages) != 0 {
			return fmt.Errorf("%+v, %v", l.Messages, err)
		}
		return nil
	})
	second.wait(t, 10*time.Second, "no messages, in the subscription", inSubscription(mwiIs(false, 0, 0)))
}

// traversal: ids and extensions that try to leave the mailbox get 400 or 404 and nothing else.
func traversal(t *testing.T, s *Stack, id string) {
	t.Helper()
	for _, path := range []string{
		"/api/v1/users/1002/voicemail/messages/../audio",
		"/api/v1/users/1002/voicemail/messages/%2e%2e/audio",
		"/api/v1/users/1002/voicemail/messages/%2e%2e%2f%2e%2e%2f1001/audio",
		"/api/v1/users/1002/voicemail/messages/%2fetc%2fpasswd/audio",
		"/api/v1/users/%2e%2e/voicemail/messages",
		"/api/v1/users/1001/voicemail/messages/" + id + "/audio", // Bob's message in Alice's mailbox
	} {
		req, _ := http.NewRequest("GET", s.APIURL+path, nil)
		req.Header.Set("Authorization", "Bearer "+s.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if (resp.StatusCode != 400 && resp.StatusCode != 404) || bytes.HasPrefix(body, []byte("RIFF")) {
			t.Errorf("GET %s: %d %.60q", path, resp.StatusCode, body)
		}
	}
}

// An uploaded greeting is what the next caller hears, and the message after it lands in the
// mailbox the upload created; an upload that is not audio changes nothing.
func TestVoicemailGreetings(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1003", "Carol", "carol-password-3")
	waitEndpoint(t, s, "1003")

	// Three seconds of 600 Hz at 22.05 kHz: converted to 8 kHz on the way in.
	var greeting bytes.Buffer
	media.WriteWAV(&greeting, media.Tone(600, -12, 22050, 3*22050), 22050)
	g, err := s.API.SetGreeting(ctxT(t, 10*time.Second), "1003", "unavailable", greeting.Bytes())
	if err != nil || g.DurationMS != 3000 {
		t.Fatalf("upload: %+v, %v", g, err)
	}
	var notAudio *api.StatusError
	if _, err := s.API.SetGreeting(ctxT(t, 10*time.Second), "1003", "unavailable", []byte("GIF89a not a sound")); !errors.As(err, &notAudio) ||
		notAudio.Status != 400 {
		t.Errorf("non-audio upload: %v, want 400", err)
	}
	stored, err := s.API.GreetingAudio(ctxT(t, 10*time.Second), "1003", "unavailable")
	if samples, _, rerr := media.ReadWAV(bytes.NewReader(stored)); err != nil || rerr != nil || !media.DetectTone(samples, 600, 8000).Detected {
		t.Fatalf("the greeting after a refused upload: %v %v", err, rerr)
	}

	// Carol is offline: Alice hears Carol's greeting, then leaves a message.
	r := call(t, s, "1001", "alice-password-1", "udp", "1003", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 600, Duration: 10 * time.Second}})
	if !r.Answered() || r.Tone == nil || !r.Tone.Detected {
		t.Fatalf("the caller did not hear the uploaded greeting: answered %v, tone %+v", r.Answered(), r.Tone)
	}
	eventually(t, 5*time.Second, "the message after the uploaded greeting", func() error {
		l, err := s.API.Messages(ctxT(t, 5*time.Second), "1003", api.MessageQuery{})
		if err != nil || len(l.Messages) != 1 {
			return fmt.Errorf("%d messages, %v", len(l.Messages), err)
		}
		return nil
	})

	// Deleted: Asterisk's own greeting again (no 600 Hz).
	if err := s.API.DeleteGreeting(ctxT(t, 10*time.Second), "1003", "unavailable"); err != nil {
		t.Fatal(err)
	}
	r = call(t, s, "1001", "alice-password-1", "udp", "1003", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{ExpectTone: 600, Duration: 6 * time.Second}})
	if !r.Answered() || r.Tone == nil || r.Tone.Detected || r.Audio.Active == 0 {
		t.Errorf("after the delete: answered %v, tone %+v, audio %+v; want Asterisk's spoken greeting", r.Answered(), r.Tone, r.Audio)
	}
}

// A ring group's own mailbox: nobody can take the call, so the caller leaves a message in the
// group's mailbox; the API lists it under the group, and a member hears it with *98, the
// group's number and its PIN.
func TestGroupOwnMailbox(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	createUser(t, s, "1002", "Bob", "bob-password-222") // offline: the group reaches nobody
	pin := "5555"
	if _, err := s.API.CreateGroup(ctxT(t, 10*time.Second), api.CreateGroupRequest{Number: "600", Name: "Sales",
		Members: []string{"1002"}, NoAnswer: &api.GroupDestination{Kind: "voicemail", Number: "600"},
		Voicemail: &api.VoicemailChange{Enabled: ptr(true), PIN: &pin}}); err != nil {
		t.Fatal(err)
	}
	waitEndpoint(t, s, "1001")
	start := time.Now()
	r := call(t, s, "1001", "alice-password-1", "udp", "600", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{Tone: 1000, Duration: 20 * time.Second}})
	if !r.Answered() {
		t.Fatalf("the group's mailbox did not answer: %s", r.Error)
	}
	var l api.MessageList
	eventually(t, 5*time.Second, "the message in the group's mailbox", func() error {
		if err := getJSON(s, "/api/v1/groups/600/voicemail/messages", &l); err != nil || len(l.Messages) != 1 {
			return fmt.Errorf("%+v, %v", l, err)
		}
		return nil
	})
	if m := l.Messages[0]; m.CallerNumber != "1001" || m.AudioURL != "/api/v1/groups/600/voicemail/messages/"+m.ID+"/audio" {
		t.Errorf("message %+v", m)
	}
	if rec := waitCall(t, s, "600", start); rec.Outcome != "voicemail" {
		t.Errorf("record %+v, want voicemail", rec)
	}
	// Bob, a member, dials *98, the group's number, its PIN, then 1: he hears Alice's tone.
	r = call(t, s, "1002", "bob-password-222", "udp", "*98", softphone.CallOptions{
		MediaOptions: softphone.MediaOptions{DTMF: "600#WW5555#WW1", DTMFDelay: 1500 * time.Millisecond,
			ExpectTone: 1000, HangupOnTone: true, Duration: 45 * time.Second}})
	if !r.Answered() || r.Tone == nil || !r.Tone.Detected {
		t.Errorf("*98 did not play the group's message: answered %v, tone %+v", r.Answered(), r.Tone)
	}
	// The group's mailbox is not a user's: its number under /users has none.
	var none api.MessageList
	if err := getJSON(s, "/api/v1/users/1002/voicemail/messages", &none); err != nil || len(none.Messages) != 0 {
		t.Errorf("Bob's own mailbox: %+v, %v", none, err)
	}
}

// getJSON GETs an API path and decodes its JSON answer.
func getJSON(s *Stack, path string, v any) error {
	req, _ := http.NewRequest("GET", s.APIURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
