//go:build integration

package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/media"
	"github.com/switchboard-pbx/switchboard/softphone"
)

// roomPhone is a phone in a conference room: it sends its own tone and records what it hears.
type roomPhone struct {
	ext    string
	tone   float64
	record string
	cancel context.CancelFunc
	done   chan struct{}
	rep    *softphone.Report
	err    error
}

// joinRoom calls the room from ext with its PIN and returns once call control has it in the
// room; the phone stays until hangUp (or until it is removed).
func joinRoom(t *testing.T, s *Stack, ext, password, number, pin string, tone float64) *roomPhone {
	t.Helper()
	waitEndpoint(t, s, ext) // a user just created may not be in Asterisk yet
	p := openPhone(t, s, ext, password, "udp")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	rp := &roomPhone{ext: ext, tone: tone, record: filepath.Join(t.TempDir(), ext+".wav"), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(rp.done)
		rp.rep, rp.err = p.Call(ctx, number, softphone.CallOptions{MediaOptions: softphone.MediaOptions{
			Tone: tone, DTMF: pin + "#", Record: rp.record}})
	}()
	t.Cleanup(rp.hangUp)
	eventually(t, 20*time.Second, ext+" in room "+number, func() error {
		if _, err := participant(t, s, number, ext); err != nil {
			return err
		}
		return nil
	})
	return rp
}

// hangUp ends the phone's call and waits for its report.
func (rp *roomPhone) hangUp() {
	rp.cancel()
	<-rp.done
}

// participant returns ext's participant in a room, as the API shows it.
func participant(t *testing.T, s *Stack, number, ext string) (api.Participant, error) {
	live, err := s.API.RoomParticipants(ctxT(t, 10*time.Second), number)
	if err != nil {
		return api.Participant{}, err
	}
	for _, p := range live.Participants {
		if p.Caller == ext {
			return p, nil
		}
	}
	return api.Participant{}, fmt.Errorf("%s not in room %s: %+v", ext, number, live.Participants)
}

// roomCall waits for the ended record of ext's latest call into a room.
func roomCall(t *testing.T, s *Stack, ext, number string, since time.Time) api.Call {
	t.Helper()
	var found api.Call
	eventually(t, 30*time.Second, "record of "+ext+"'s call into "+number, func() error {
		l, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{User: ext, From: since.Add(-time.Second), Limit: 10})
		if err != nil {
			return err
		}
		for _, c := range l.Calls {
			if c.Callee == number && !c.Active {
				found = c
				return nil
			}
		}
		return fmt.Errorf("no ended call from %s to %s yet", ext, number)
	})
	return found
}

// isStatus reports whether err is an API error with the HTTP status.
func isStatus(err error, status int) bool {
	var se *api.StatusError
	return errors.As(err, &se) && se.Status == status
}

// heard is what one phone's recording held, in 100 ms blocks: which of the room's tones each
// block carries.
type heard struct {
	freqs  []float64
	blocks [][]bool
}

const heardBlock = 100 * time.Millisecond

// listen reads a phone's recording. A block carries a tone when the tone has at least a fifth
// of the block's power and is louder than -40 dBFS: two tones mixed at one level share the
// power half and half, and neither leaks into the other's frequency.
func listen(t *testing.T, path string, freqs ...float64) heard {
	t.Helper()
	samples, format := readWAV(t, path)
	n := int(heardBlock.Seconds() * float64(format.SampleRate))
	h := heard{freqs: freqs}
	for i := 0; i+n <= len(samples); i += n {
		block := samples[i : i+n]
		var power float64
		for _, v := range block {
			x := float64(v) / media.FullScale
			power += x * x
		}
		power /= float64(n)
		row := make([]bool, len(freqs))
		for j, hz := range freqs {
			amp := media.ToneAmplitude(block, hz, format.SampleRate)
			row[j] = power > 0 && amp*amp/2 >= power/5 && media.AmplitudeToDBFS(amp) >= -40
		}
		h.blocks = append(h.blocks, row)
	}
	return h
}

// longest returns the longest stretch of blocks that satisfy want.
func (h heard) longest(want func(row []bool) bool) time.Duration {
	best, run := 0, 0
	for _, row := range h.blocks {
		if want(row) {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return time.Duration(best) * heardBlock
}

// gaps counts the blocks without tone i between the first and the last that have it, and
// returns the span between those.
func (h heard) gaps(i int) (int, time.Duration) {
	first, last := -1, -1
	for k, row := range h.blocks {
		if row[i] {
			if first < 0 {
				first = k
			}
			last = k
		}
	}
	if first < 0 {
		return 0, 0
	}
	n := 0
	for _, row := range h.blocks[first : last+1] {
		if !row[i] {
			n++
		}
	}
	return n, time.Duration(last-first+1) * heardBlock
}

func (h heard) String() string {
	var s []byte
	for _, row := range h.blocks {
		c := byte('0')
		for j, on := range row {
			if on {
				c += byte(1 << j)
			}
		}
		s = append(s, c)
	}
	return string(s)
}

func TestConferenceRoom(t *testing.T) {
	s := StartStack(t, StackOptions{})
	pw := map[string]string{}
	for _, ext := range []string{"1001", "1002", "1003", "1004"} {
		pw[ext] = "room-password-" + ext
		createUser(t, s, ext, "User "+ext, pw[ext])
	}
	ctx := ctxT(t, 5*time.Minute)
	three := 3
	if _, err := s.API.CreateRoom(ctx, api.CreateRoomRequest{Number: "800", Name: "Board room", PIN: "1234",
		MaxParticipants: &three}); err != nil {
		t.Fatal(err)
	}
	// One plan of numbers: a user cannot take a room's, nor a room a user's.
	if _, err := s.API.CreateUser(ctx, api.CreateUserRequest{Extension: "800", Name: "Clash"}); !isStatus(err, 409) {
		t.Errorf("user on the room's number: %v, want 409", err)
	}
	if _, err := s.API.CreateRoom(ctx, api.CreateRoomRequest{Number: "1001", Name: "Clash"}); !isStatus(err, 409) {
		t.Errorf("room on a user's number: %v, want 409", err)
	}

	// Three phones, three tones: 450, 1250 and 2100 Hz (none a harmonic of another, none a DTMF
	// frequency).
	a := joinRoom(t, s, "1001", pw["1001"], "800", "1234", 450)
	b := joinRoom(t, s, "1002", pw["1002"], "800", "1234", 1250)
	c := joinRoom(t, s, "1003", pw["1003"], "800", "1234", 2100)

	// A fourth with the wrong PIN: three tries, then hung up by the room.
	since := time.Now()
	waitEndpoint(t, s, "1004")
	d := openPhone(t, s, "1004", pw["1004"], "udp")
	rep, err := d.Call(ctx, "800", softphone.CallOptions{MediaOptions: softphone.MediaOptions{DTMF: "1111#W2222#W3333#"}})
	if !rep.Answered() || rep.EndedBy != "remote" {
		t.Errorf("wrong PIN: %+v (%v), want answered and hung up by the room", rep, err)
	}
	if r := roomCall(t, s, "1004", "800", since); r.Outcome != "failed" || r.Reason != "wrong_pin" {
		t.Errorf("wrong PIN record %+v, want failed/wrong_pin", r)
	}
	// The right PIN, but the room takes three.
	since = time.Now()
	rep, err = d.Call(ctx, "800", softphone.CallOptions{MediaOptions: softphone.MediaOptions{DTMF: "1234#"}})
	if !rep.Answered() || rep.EndedBy != "remote" {
		t.Errorf("full room: %+v (%v), want answered and hung up by the room", rep, err)
	}
	if r := roomCall(t, s, "1004", "800", since); r.Outcome != "missed" || r.Reason != "room_full" {
		t.Errorf("full room record %+v, want missed/room_full", r)
	}
	live, err := s.API.RoomParticipants(ctx, "800")
	if err != nil || len(live.Participants) != 3 {
		t.Fatalf("participants %+v (%v), want 3", live, err)
	}

	// Muted over the API: the others stop hearing 1001, and still hear each other. The mute
	// stays on for 3 s of audio, the window the recordings are checked in.
	pa, err := participant(t, s, "800", "1001")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.API.MuteParticipant(ctx, "800", pa.ID, true); err != nil {
		t.Fatal(err)
	}
	if p, _ := participant(t, s, "800", "1001"); !p.Muted {
		t.Errorf("1001 not shown muted: %+v", p)
	}
	time.Sleep(3 * time.Second)

	// Kicked over the API: 1003's call ends, the room has two.
	pc, err := participant(t, s, "800", "1003")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.API.KickParticipant(ctx, "800", pc.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		t.Fatal("1003 still in the call 20 s after the kick")
	}
	if c.rep == nil || c.rep.EndedBy != "remote" {
		t.Errorf("kicked phone's report %+v (%v), want ended by the room", c.rep, c.err)
	}
	eventually(t, 10*time.Second, "two left in the room", func() error {
		l, err := s.API.RoomParticipants(ctxT(t, 10*time.Second), "800")
		if err == nil && len(l.Participants) != 2 {
			err = fmt.Errorf("%d participants", len(l.Participants))
		}
		return err
	})
	if r := roomCall(t, s, "1003", "800", since.Add(-time.Minute)); r.Outcome != "answered" || r.Reason != "kicked" {
		t.Errorf("kicked record %+v, want answered/kicked", r)
	}
	// Deleting the room does not cut the people in it: they talk on (the recordings below show
	// 1001 hearing 1002 to the end) and leave when they hang up.
	if err := s.API.DeleteRoom(ctx, "800"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // two more seconds of conversation, checked in the recordings
	for _, p := range []*roomPhone{a, b} {
		select {
		case <-p.done:
			t.Errorf("%s's call ended when the room was deleted: %+v (%v)", p.ext, p.rep, p.err)
		default:
		}
	}
	a.hangUp()
	b.hangUp()

	// Mixing: each phone heard the two others at once, not itself.
	freqs := []float64{a.tone, b.tone, c.tone}
	ha, hb, hc := listen(t, a.record, freqs...), listen(t, b.record, freqs...), listen(t, c.record, freqs...)
	both := func(i, j, self int) func([]bool) bool {
		return func(row []bool) bool { return row[i] && row[j] && !row[self] }
	}
	for _, x := range []struct {
		ext  string
		h    heard
		i, j int
		self int
	}{{"1001", ha, 1, 2, 0}, {"1002", hb, 0, 2, 1}, {"1003", hc, 0, 1, 2}} {
		if d := x.h.longest(both(x.i, x.j, x.self)); d < 2*time.Second {
			t.Errorf("%s heard both other tones together for %v at most, want ≥ 2 s; blocks (bit 1: 1001, 2: 1002, 4: 1003):\n%s", x.ext, d, x.h)
		}
	}
	// Muted: 1002 heard 1003 without 1001 for the muted window (3 s).
	if d := hb.longest(func(row []bool) bool { return row[2] && !row[0] }); d < 2*time.Second {
		t.Errorf("1002 heard 1003 without 1001 for %v, want ≥ 2 s (the mute window); blocks:\n%s", d, hb)
	}
	// The muted phone still heard the room: 1002 alone once 1003 was kicked, to the end (the
	// room deleted meanwhile).
	if d := ha.longest(func(row []bool) bool { return row[1] && !row[2] }); d < 3*time.Second {
		t.Errorf("muted 1001 heard 1002 alone for %v, want ≥ 3 s (kick, delete, hang-up); blocks:\n%s", d, ha)
	}
	t.Logf("1001 heard %s\n1002 heard %s\n1003 heard %s", ha, hb, hc)

	// Everyone gone: the room's bridge is gone too.
	eventually(t, 20*time.Second, "room 800 empty and its bridge gone", func() error {
		if br := s.Asterisk.MustCLI(t, "bridge show all"); strings.Contains(br, "sbroom-800") {
			return fmt.Errorf("bridges:\n%s", br)
		}
		return nil
	})
}

// The conversation lives in Asterisk: call control restarts, the participants talk on, and the
// restarted control plane takes them back (no PIN asked again) in the same bridge.
func TestConferenceRoomSurvivesRestart(t *testing.T) {
	s := StartStack(t, StackOptions{})
	pw := map[string]string{}
	for _, ext := range []string{"1001", "1002", "1003"} {
		pw[ext] = "room-password-" + ext
		createUser(t, s, ext, "User "+ext, pw[ext])
	}
	ctx := ctxT(t, 3*time.Minute)
	if _, err := s.API.CreateRoom(ctx, api.CreateRoomRequest{Number: "801", Name: "Stand-up", PIN: "4321"}); err != nil {
		t.Fatal(err)
	}
	a := joinRoom(t, s, "1001", pw["1001"], "801", "4321", 450)
	b := joinRoom(t, s, "1002", pw["1002"], "801", "4321", 1250)
	before, err := participant(t, s, "801", "1001")
	if err != nil {
		t.Fatal(err)
	}

	s.StopServe(t)
	s.StartServe(t)
	s.WaitReady(t)
	eventually(t, 20*time.Second, "both taken back", func() error {
		live, err := s.API.RoomParticipants(ctxT(t, 10*time.Second), "801")
		if err == nil && len(live.Participants) != 2 {
			err = fmt.Errorf("participants %+v", live.Participants)
		}
		return err
	})
	if after, _ := participant(t, s, "801", "1001"); !after.JoinedAt.Equal(before.JoinedAt) {
		t.Errorf("1001 joined at %v before the restart, %v after", before.JoinedAt, after.JoinedAt)
	}
	// A third joins the same conversation: they hear both.
	c := joinRoom(t, s, "1003", pw["1003"], "801", "4321", 2100)
	time.Sleep(3 * time.Second) // three seconds of the three of them, checked in the recordings
	for _, p := range []*roomPhone{a, b} {
		select {
		case <-p.done:
			t.Errorf("%s's call ended across the restart: %+v (%v)", p.ext, p.rep, p.err)
		default:
		}
	}
	c.hangUp()
	a.hangUp()
	b.hangUp()
	freqs := []float64{a.tone, b.tone, c.tone}
	hc := listen(t, c.record, freqs...)
	if d := hc.longest(func(row []bool) bool { return row[0] && row[1] }); d < 2*time.Second {
		t.Errorf("1003 heard 1001 and 1002 together for %v, want ≥ 2 s; blocks:\n%s", d, hc)
	}
	// 1001 heard 1002 across the restart without a break: from the first block with 1002's tone
	// to the last, every one has it.
	ha := listen(t, a.record, freqs...)
	if gaps, span := ha.gaps(1); gaps > 0 || span < 3*time.Second {
		t.Errorf("1001 heard 1002 over %v with %d blocks missing, want ≥ 3 s and none; blocks:\n%s", span, gaps, ha)
	}
}
