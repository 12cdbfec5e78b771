//go:build integration

package softphone_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/media"
	"github.com/switchboard-pbx/switchboard/softphone"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// The accounts of the test PBX. 7001 and 7002 have mailboxes (PIN 1234); extension 7003 rings
// for 15 s and has no voicemail, so busy and no answer reach the caller as SIP statuses.
const (
	pin           = "1234"
	endpointsConf = `
[7001](switchboard-endpoint)
auth = 7001
aors = 7001
[7001](switchboard-auth)
username = 7001
password = secret-7001
[7001](switchboard-aor)

[7002](switchboard-endpoint)
auth = 7002
aors = 7002
[7002](switchboard-auth)
username = 7002
password = secret-7002
[7002](switchboard-aor)

[7003](switchboard-endpoint)
auth = 7003
aors = 7003
[7003](switchboard-auth)
username = 7003
password = secret-7003
[7003](switchboard-aor)
`
)

// pbx is a private Asterisk 22 with the repository's configuration and the test accounts. No
// Stasis app is connected, so the dialplan's fallback dials the callee and then voicemail.
type pbx struct {
	*testbed.Asterisk
	server string
}

func startPBX(t *testing.T) *pbx {
	t.Helper()
	ast := testbed.StartAsterisk(t)
	ast.WriteConfig(t, "pjsip.conf", endpointsConf, "res_pjsip.so")
	// Their lines: 15 s of ringing, then voicemail for 7001 and 7002; 7003 has none.
	line := func(ext, name string, vm bool) switchboard.User {
		return switchboard.User{Extension: ext, Name: name, RingTimeout: 15,
			Voicemail: switchboard.Mailbox{Enabled: vm, PIN: pin}, Calls: switchboard.DefaultCallSettings()}
	}
	ast.WriteUsers(t, []switchboard.User{line("7001", "Test One", true), line("7002", "Test Two", true), line("7003", "Test Three", false)})
	return &pbx{Asterisk: ast, server: net.JoinHostPort("127.0.0.1", strconv.Itoa(ast.SIPPort))}
}

// phone opens a phone for ext over transport; its events go to the test log and to events.
func (p *pbx) phone(t *testing.T, ext, transport string, events chan<- softphone.Event) *softphone.Phone {
	t.Helper()
	return p.phoneWithCodec(t, ext, transport, media.PCMU, events)
}

func (p *pbx) phoneWithCodec(t *testing.T, ext, transport string, codec media.G711, events chan<- softphone.Event) *softphone.Phone {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	closed := false // no logging once the test is over
	ph, err := softphone.Open(ctx, softphone.Options{
		Server: p.server, Username: ext, Password: "secret-" + ext, Transport: transport, Codec: codec,
		OnEvent: func(e softphone.Event) {
			mu.Lock()
			if !closed {
				t.Logf("%s: %s", ext, e)
			}
			mu.Unlock()
			if events != nil {
				select {
				case events <- e:
				default:
				}
			}
		},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		closed = true
		mu.Unlock()
		ph.Close()
		cancel()
	})
	return ph
}

// answering starts ext answering calls as opts say and returns once it is registered; the
// channel yields Answer's result.
type answerResult struct {
	reports []*softphone.Report
	err     error
}

func (p *pbx) answering(t *testing.T, ctx context.Context, ext, transport string, opts softphone.AnswerOptions) <-chan answerResult {
	t.Helper()
	return p.answeringWithCodec(t, ctx, ext, transport, media.PCMU, opts)
}

func (p *pbx) answeringWithCodec(t *testing.T, ctx context.Context, ext, transport string, codec media.G711, opts softphone.AnswerOptions) <-chan answerResult {
	t.Helper()
	events := make(chan softphone.Event, 64)
	ph := p.phoneWithCodec(t, ext, transport, codec, events)
	done := make(chan answerResult, 1)
	go func() {
		reps, err := ph.Answer(ctx, opts)
		done <- answerResult{reps, err}
	}()
	for {
		select {
		case e := <-events:
			if e.Kind == softphone.EventRegistered {
				return done
			}
		case res := <-done:
			t.Fatalf("%s stopped answering before registering: %v", ext, res.err)
		case <-ctx.Done():
			t.Fatalf("%s did not register: %v", ext, ctx.Err())
		}
	}
}

func logReport(t *testing.T, who string, rep *softphone.Report) {
	t.Helper()
	t.Logf("%s: %+v rtp=%+v audio=%+v tone=%+v", who, *rep, rep.RTP, rep.Audio, rep.Tone)
}

// TestTwoWayToneCall proves two-way audio through Asterisk: the callee plays 2000 Hz and must
// hear the caller's 1000 Hz, the caller plays 1000 Hz and must hear 2000 Hz. Packets alone
// would not prove it; a detector tuned to the other side's frequency does.
func TestTwoWayToneCall(t *testing.T) {
	ast := startPBX(t)
	for _, tc := range []struct {
		transport string
		codec     media.G711
	}{
		{"udp", media.PCMU},
		{"tcp", media.PCMA}, // A-law on both legs, and the other transport
	} {
		transport := tc.transport
		t.Run(strings.ToUpper(transport), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			callee := ast.answeringWithCodec(t, ctx, "7002", transport, tc.codec, softphone.AnswerOptions{
				Calls: 1,
				MediaOptions: softphone.MediaOptions{
					Tone: 2000, ExpectTone: 1000,
					Duration: 60 * time.Second, // a bound; the caller hangs up first
				},
			})
			caller := ast.phoneWithCodec(t, "7001", transport, tc.codec, nil)
			rep, err := caller.Call(ctx, "7002", softphone.CallOptions{MediaOptions: softphone.MediaOptions{
				Tone: 1000, ExpectTone: 2000, Duration: 4 * time.Second,
			}})
			logReport(t, "caller", rep)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			res := <-callee
			if res.err != nil || len(res.reports) != 1 {
				t.Fatalf("callee: %d reports, %v", len(res.reports), res.err)
			}
			in := res.reports[0]
			logReport(t, "callee", in)

			if rep.Outcome != softphone.OutcomeAnswered || rep.SIPStatus != 200 || rep.Transport != transport {
				t.Errorf("caller: outcome %s, status %d over %s", rep.Outcome, rep.SIPStatus, rep.Transport)
			}
			if rep.Setup <= 0 || rep.FirstProvisional <= 0 || rep.FirstProvisional > rep.Setup {
				t.Errorf("caller: first provisional %v, setup %v", rep.FirstProvisional, rep.Setup)
			}
			if rep.Tone == nil || !rep.Tone.Detected {
				t.Errorf("caller did not hear the callee's 2000 Hz: %+v", rep.Tone)
			}
			if in.Tone == nil || !in.Tone.Detected {
				t.Errorf("callee did not hear the caller's 1000 Hz: %+v", in.Tone)
			}
			if in.Peer != "7001" || in.EndedBy != "remote" || rep.EndedBy != "local" {
				t.Errorf("callee saw peer %q ended by %q; caller ended by %q", in.Peer, in.EndedBy, rep.EndedBy)
			}
			for who, r := range map[string]*softphone.Report{"caller": rep, "callee": in} {
				// Loopback loses nothing in practice; the bound only catches counting gone wrong.
				if r.RTP.Sent == 0 || r.RTP.Received == 0 || r.RTP.Expected == 0 || r.RTP.LossPercent > 20 {
					t.Errorf("%s: RTP %+v", who, r.RTP)
				}
				if r.Codec != tc.codec.String() || r.ExitCode != softphone.ExitOK {
					t.Errorf("%s: codec %s, exit code %d", who, r.Codec, r.ExitCode)
				}
			}
		})
	}
}

// waitForFile polls until every path exists and is not empty.
func waitForFile(t *testing.T, ctx context.Context, paths ...string) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		missing := ""
		for _, p := range paths {
			if st, err := os.Stat(p); err != nil || st.Size() == 0 {
				missing = p
				break
			}
		}
		if missing == "" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not appear: %v", missing, ctx.Err())
		case <-tick.C:
		}
	}
}

// TestVoicemail leaves a message by voice and listens to it through *97: the caller reaches
// 7002's voicemail while 7002 is offline and plays 1000 Hz; the message appears in the spool and
// holds the tone; then 7002 dials *97, hears the PIN prompt, and only with the right PIN does
// the mailbox play the message back (the tone comes back) and mark it as heard.
func TestVoicemail(t *testing.T) {
	ast := startPBX(t)
	mailbox := filepath.Join(ast.SpoolDir, "voicemail", "default", "7002")
	inbox := filepath.Join(mailbox, "INBOX", "msg0000")
	old := filepath.Join(mailbox, "Old", "msg0000")

	t.Run("LeaveMessage", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		caller := ast.phone(t, "7001", "udp", nil)
		// The unavailable greeting ("the person at extension 7 0 0 2 … after the tone") takes
		// about 12 s; the tone after it is the message.
		rep, err := caller.Call(ctx, "7002", softphone.CallOptions{MediaOptions: softphone.MediaOptions{
			Tone: 1000, Duration: 18 * time.Second,
		}})
		logReport(t, "caller", rep)
		if err != nil {
			t.Fatalf("call to voicemail: %v", err)
		}
		if rep.EndedBy != "local" || rep.Audio.Active < softphone.Millis(time.Second) {
			t.Errorf("voicemail hung up or played no greeting: ended by %s, audio %+v", rep.EndedBy, rep.Audio)
		}
		waitForFile(t, ctx, inbox+".wav", inbox+".txt")
		f, err := os.Open(inbox + ".wav")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		samples, format, err := media.ReadWAV(f)
		if err != nil {
			t.Fatalf("read the message: %v", err)
		}
		res := media.DetectTone(samples, 1000, format.SampleRate)
		t.Logf("message: %s, %d samples, tone %+v", format, len(samples), res)
		if !res.Detected || res.Duration < time.Second {
			t.Errorf("1000 Hz not in the message: %+v", res)
		}
		if other := media.DetectTone(samples, 2000, format.SampleRate); other.Detected {
			t.Errorf("2000 Hz in the message, which holds only 1000 Hz: %+v", other)
		}
		txt, _ := os.ReadFile(inbox + ".txt")
		if !strings.Contains(string(txt), `callerid="7001" <7001>`) {
			t.Errorf("message envelope does not name the caller:\n%s", txt)
		}
	})
	if _, err := os.Stat(inbox + ".wav"); err != nil {
		t.Fatalf("no message to listen to: %v", err)
	}

	owner := ast.phone(t, "7002", "udp", nil)
	listen := func(t *testing.T, dtmf string, d time.Duration) *softphone.Report {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*d+30*time.Second)
		defer cancel()
		rep, err := owner.Call(ctx, "*97", softphone.CallOptions{MediaOptions: softphone.MediaOptions{
			DTMF: dtmf, DTMFDelay: 2 * time.Second,
			ExpectTone: 1000, HangupOnTone: true, Duration: d,
		}})
		logReport(t, "*97", rep)
		if err != nil {
			t.Fatalf("call *97: %v", err)
		}
		return rep
	}

	t.Run("StarNinetySevenPrompts", func(t *testing.T) {
		rep := listen(t, "", 3*time.Second)
		// VoiceMailMain knows the mailbox from the endpoint and asks for the password: sound
		// arrives and the line stays open, waiting for digits.
		if rep.Audio.Active < softphone.Millis(300*time.Millisecond) || rep.EndedBy != "local" {
			t.Errorf("no prompt: audio %+v, ended by %s", rep.Audio, rep.EndedBy)
		}
		if rep.Tone.Detected {
			t.Error("the message played without a PIN")
		}
	})
	t.Run("StarNinetySevenWrongPIN", func(t *testing.T) {
		// "9999#" then "1": the login fails, so "1" cannot play the message.
		rep := listen(t, "9999#,,,,1", 20*time.Second)
		if rep.DTMFSent != "9999#1" {
			t.Errorf("DTMF sent %q", rep.DTMFSent)
		}
		if rep.Tone.Detected {
			t.Error("the message played after a wrong PIN")
		}
		if rep.Audio.Active < softphone.Millis(time.Second) {
			t.Errorf("the mailbox said nothing after the wrong PIN: %+v", rep.Audio)
		}
		if _, err := os.Stat(inbox + ".wav"); err != nil {
			t.Errorf("the message left the inbox without a login: %v", err)
		}
	})
	t.Run("StarNinetySevenPIN", func(t *testing.T) {
		// The PIN, then "1" (play new messages) once the mailbox greets the owner.
		rep := listen(t, pin+"#,,,,1", 60*time.Second)
		if !rep.Tone.Detected {
			t.Fatalf("the message (1000 Hz) was not played back after the PIN: %+v", rep.Tone)
		}
		// Hanging up after listening moves the message to Old.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		waitForFile(t, ctx, old+".wav", old+".txt")
	})
}

// TestRegisterShowsIncomingCalls: a registered phone reports incoming calls as events.
func TestRegisterShowsIncomingCalls(t *testing.T) {
	ast := startPBX(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	events := make(chan softphone.Event, 64)
	ph := ast.phone(t, "7003", "udp", events)
	regCtx, stopReg := context.WithCancel(ctx)
	regDone := make(chan error, 1)
	go func() { regDone <- ph.Register(regCtx, softphone.RegisterOptions{}) }()
	waitEvent(t, ctx, events, softphone.EventRegistered)

	out := ast.MustCLI(t, "pjsip show contacts")
	if !strings.Contains(out, "7003/sip:7003@127.0.0.1") {
		t.Errorf("no contact for 7003:\n%s", out)
	}
	caller := ast.phone(t, "7001", "udp", nil)
	callDone := make(chan *softphone.Report, 1)
	go func() {
		rep, _ := caller.Call(ctx, "7003", softphone.CallOptions{RingTimeout: 30 * time.Second})
		callDone <- rep
	}()
	in := waitEvent(t, ctx, events, softphone.EventIncoming)
	if in.Peer != "7001" {
		t.Errorf("incoming call from %q, want 7001", in.Peer)
	}
	stopReg() // unregisters; the ringing call is refused, the caller sees no answer
	if err := <-regDone; err != nil {
		t.Errorf("register: %v", err)
	}
	// Going offline, the ringing phone answers 480: the caller hears "no answer" at once.
	rep := <-callDone
	if rep.Outcome != softphone.OutcomeNoAnswer || rep.SIPStatus != 480 {
		t.Errorf("caller: %s (SIP %d), want no answer (480)", rep.Outcome, rep.SIPStatus)
	}
	out = ast.MustCLI(t, "pjsip show contacts")
	if strings.Contains(out, "7003/sip:7003@") {
		t.Errorf("7003 still registered after Register returned:\n%s", out)
	}
}

func waitEvent(t *testing.T, ctx context.Context, events <-chan softphone.Event, kind softphone.EventKind) softphone.Event {
	t.Helper()
	for {
		select {
		case e := <-events:
			if e.Kind == kind {
				return e
			}
		case <-ctx.Done():
			t.Fatalf("no %s event: %v", kind, ctx.Err())
		}
	}
}

// TestCallFailures: each failure reaches the caller as its own outcome and exit code.
func TestCallFailures(t *testing.T) {
	ast := startPBX(t)
	for _, tc := range []struct {
		name     string
		password string
		ext      string
		callee   *softphone.AnswerOptions // 7003's behaviour, if it is online
		ring     time.Duration
		want     softphone.ExitCode
		status   int
	}{
		{"WrongPassword", "wrong", "7002", nil, 0, softphone.ExitAuthFailed, 401},
		{"UnknownExtension", "", "7999", nil, 0, softphone.ExitNotFound, 404},
		{"Busy", "", "7003", &softphone.AnswerOptions{Calls: 1, Reject: softphone.RejectBusy}, 0, softphone.ExitBusy, 486},
		{"Declined", "", "7003", &softphone.AnswerOptions{Calls: 1, Reject: softphone.RejectDecline}, 0, softphone.ExitRejected, 0},
		{"RingTimeout", "", "7003", &softphone.AnswerOptions{Calls: 1, Reject: softphone.RejectNoAnswer}, 2 * time.Second, softphone.ExitNoAnswer, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var callee <-chan answerResult
			if tc.callee != nil {
				callee = ast.answering(t, ctx, "7003", "udp", *tc.callee)
			}
			caller := ast.phone(t, "7001", "udp", nil)
			if tc.password != "" {
				var err error
				caller, err = softphone.Open(ctx, softphone.Options{Server: ast.server, Username: "7001", Password: tc.password})
				if err != nil {
					t.Fatal(err)
				}
				defer caller.Close()
			}
			rep, err := caller.Call(ctx, tc.ext, softphone.CallOptions{RingTimeout: tc.ring})
			t.Logf("err: %v", err)
			if got := softphone.ExitCodeFor(err); got != tc.want || rep.ExitCode != tc.want {
				t.Errorf("exit code %d (report %d), want %d", got, rep.ExitCode, tc.want)
			}
			if tc.status != 0 && rep.SIPStatus != tc.status {
				t.Errorf("SIP status %d, want %d", rep.SIPStatus, tc.status)
			}
			if callee != nil {
				res := <-callee
				if res.err != nil || len(res.reports) != 1 || res.reports[0].ExitCode != softphone.ExitOK {
					t.Errorf("callee: %v %v", res.reports, res.err)
				}
			}
		})
	}
	t.Run("Unreachable", func(t *testing.T) {
		// A port where nothing listens, over both transports.
		for _, transport := range []string{"udp", "tcp"} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ph, err := softphone.Open(ctx, softphone.Options{
				Server: fmt.Sprintf("127.0.0.1:%d", testbed.FreePort(t)), Username: "7001", Password: "x", Transport: transport,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer ph.Close()
			rep, err := ph.Call(ctx, "7002", softphone.CallOptions{ResponseTimeout: 2 * time.Second})
			t.Logf("%s: %v", transport, err)
			if softphone.ExitCodeFor(err) != softphone.ExitUnreachable || rep.Outcome != softphone.OutcomeUnreachable {
				t.Errorf("%s: %v (outcome %s), want unreachable", transport, err, rep.Outcome)
			}
			err = ph.Register(ctx, softphone.RegisterOptions{ResponseTimeout: 2 * time.Second})
			if softphone.ExitCodeFor(err) != softphone.ExitUnreachable {
				t.Errorf("%s: register: %v, want unreachable", transport, err)
			}
		}
	})
}
