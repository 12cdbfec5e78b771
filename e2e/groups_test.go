//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/softphone"
)

// member is a phone of a ring group's member that notes when it was first rung.
type member struct {
	ext     string
	mu      sync.Mutex
	invited []time.Time
	cancel  context.CancelFunc
	done    chan struct{}
}

// startMember registers ext and takes calls as opts say until the test ends.
func startMember(t *testing.T, s *Stack, ext, password string, opts softphone.AnswerOptions) *member {
	t.Helper()
	waitEndpoint(t, s, ext)
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{ext: ext, cancel: cancel, done: make(chan struct{})}
	p := openPhoneAt(t, s.SIPServer(), ext, password, "udp", func(e softphone.Event) {
		if e.Kind == softphone.EventIncoming {
			m.mu.Lock()
			m.invited = append(m.invited, time.Now())
			m.mu.Unlock()
		}
	})
	go func() {
		defer close(m.done)
		p.Answer(ctx, opts)
	}()
	t.Cleanup(func() { m.cancel(); <-m.done })
	waitReachable(t, s, ext)
	return m
}

// invites returns when the phone was rung, since t0.
func (m *member) invites(since time.Time) []time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []time.Time
	for _, at := range m.invited {
		if !at.Before(since) {
			out = append(out, at)
		}
	}
	return out
}

func TestRingGroups(t *testing.T) {
	s := StartStack(t, StackOptions{})
	pw := func(ext string) string { return "group-password-" + ext }
	for _, ext := range []string{"1001", "1002", "1003", "1004", "1005"} {
		createUser(t, s, ext, "User "+ext, pw(ext))
	}
	ctx := ctxT(t, 5*time.Minute)
	patch(t, s, "1004", api.PatchUserRequest{CallSettingsChange: api.CallSettingsChange{DND: ptr(true)}})
	// 1002 rings and never answers; 1003 answers after a second with a tone; 1004 is on DND.
	m2 := startMember(t, s, "1002", pw("1002"), softphone.AnswerOptions{Reject: softphone.RejectNoAnswer})
	m3 := startMember(t, s, "1003", pw("1003"), softphone.AnswerOptions{RingFor: time.Second,
		MediaOptions: softphone.MediaOptions{Tone: 1300}})
	m4 := startMember(t, s, "1004", pw("1004"), softphone.AnswerOptions{})

	if _, err := s.API.CreateGroup(ctx, api.CreateGroupRequest{Number: "600", Name: "Sales",
		Members: []string{"1002", "1003", "1004"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.API.CreateGroup(ctx, api.CreateGroupRequest{Number: "601", Name: "Support",
		Members: []string{"1002", "1001", "1003"}, Strategy: ptr("hunt"), RingSeconds: ptr(5),
		NoAnswer: &api.GroupDestination{Kind: "voicemail", Number: "1005"}}); err != nil {
		t.Fatal(err)
	}
	// One plan of numbers.
	if _, err := s.API.CreateGroup(ctx, api.CreateGroupRequest{Number: "1001", Name: "Clash", Members: []string{"1002"}}); !isStatus(err, 409) {
		t.Errorf("group on a user's number: %v, want 409", err)
	}
	if _, err := s.API.CreateUser(ctx, api.CreateUserRequest{Extension: "600", Name: "Clash"}); !isStatus(err, 409) {
		t.Errorf("user on a group's number: %v, want 409", err)
	}

	waitEndpoint(t, s, "1001") // the caller
	t.Run("RingAll", func(t *testing.T) {
		since := time.Now()
		// The group is deleted while the call is in progress: the call goes on to its end.
		go func() {
			eventually(t, 20*time.Second, "the group's call answered", func() error {
				l, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{Active: true, User: "600"})
				if err == nil && (len(l.Calls) == 0 || l.Calls[0].AnsweredAt == nil) {
					err = fmt.Errorf("not answered yet")
				}
				return err
			})
			// The first answer took it: 1002 stopped ringing while 1003 talks.
			eventually(t, 5*time.Second, "1002 no longer ringing", func() error {
				if out := s.Asterisk.MustCLI(t, "core show channels concise"); strings.Contains(out, "PJSIP/1002-") {
					return fmt.Errorf("channels:\n%s", out)
				}
				return nil
			})
			if err := s.API.DeleteGroup(ctxT(t, 10*time.Second), "600"); err != nil {
				t.Errorf("delete group: %v", err)
			}
		}()
		r := call(t, s, "1001", pw("1001"), "udp", "600", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{ExpectTone: 1300, Duration: 4 * time.Second}})
		if !r.Answered() || r.Tone == nil || !r.Tone.Detected || r.EndedBy != "local" || r.Talk < softphone.Millis(3900*time.Millisecond) {
			t.Fatalf("call to the group: %+v, want answered by 1003 with its tone, talking the whole 4 s", r)
		}
		if _, err := s.API.Group(ctx, "600"); !isStatus(err, 404) {
			t.Errorf("group 600 after the delete: %v, want 404", err)
		}
		rec := endedCallsTo(t, s, "600", since, 1)[0]
		if rec.Outcome != "answered" || rec.AnsweredBy != "1003" {
			t.Errorf("record %+v: want answered by 1003", rec)
		}
		// Both available members rang at once; the one on DND never did.
		i2, i3 := m2.invites(since), m3.invites(since)
		if len(i2) != 1 || len(i3) != 1 {
			t.Fatalf("INVITEs: 1002 %d, 1003 %d; want one each", len(i2), len(i3))
		}
		if d := i2[0].Sub(i3[0]).Abs(); d > time.Second {
			t.Errorf("1002 and 1003 rang %v apart, want at once", d)
		}
		if n := len(m4.invites(since)); n != 0 {
			t.Errorf("1004 (DND) got %d INVITEs", n)
		}
	})

	t.Run("HuntToVoicemail", func(t *testing.T) {
		// 1003 now refuses too: the hunt goes 1002, (1001 is the caller: skipped), 1003, each
		// for five seconds, then 1005's mailbox.
		m3.cancel()
		<-m3.done
		m3 = startMember(t, s, "1003", pw("1003"), softphone.AnswerOptions{Reject: softphone.RejectNoAnswer})
		since := time.Now()
		r := call(t, s, "1001", pw("1001"), "udp", "601", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Duration: 3 * time.Second}})
		if !r.Answered() || r.Audio.Active == 0 {
			t.Errorf("hunt: %+v, want the mailbox's greeting", r)
		}
		i2, i3 := m2.invites(since), m3.invites(since)
		if len(i2) != 1 || len(i3) != 1 {
			t.Fatalf("INVITEs: 1002 %d, 1003 %d; want one each", len(i2), len(i3))
		}
		if d := i3[0].Sub(i2[0]); d < 4*time.Second || d > 7*time.Second {
			t.Errorf("1003 rang %v after 1002, want its turn after ring_seconds (5 s)", d)
		}
		rec := endedCallsTo(t, s, "601", since, 1)[0]
		if rec.Outcome != "voicemail" || fmt.Sprint(rec.ForwardedTo) != "[1005]" || rec.AnsweredBy != "" {
			t.Errorf("record %+v: want voicemail in 1005's mailbox", rec)
		}
	})
}
