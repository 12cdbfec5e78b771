package softphone_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/softphone"
)

func TestExitCodeForStatus(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   softphone.ExitCode
	}{
		{200, softphone.ExitOK},
		{202, softphone.ExitOK},
		{401, softphone.ExitAuthFailed},
		{407, softphone.ExitAuthFailed}, // a proxy's challenge failed the same way
		{403, softphone.ExitAuthFailed}, // Asterisk may answer 403 to a bad digest
		{404, softphone.ExitNotFound},
		{484, softphone.ExitNotFound}, // address incomplete: no such extension either
		{604, softphone.ExitNotFound},
		{486, softphone.ExitBusy},
		{600, softphone.ExitBusy},
		{408, softphone.ExitNoAnswer},
		{480, softphone.ExitNoAnswer},
		{487, softphone.ExitNoAnswer}, // our own CANCEL after the ring timeout
		{488, softphone.ExitRejected},
		{500, softphone.ExitRejected},
		{503, softphone.ExitRejected},
		{603, softphone.ExitRejected}, // declined is not busy
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			if got := softphone.ExitCodeForStatus(tc.status); got != tc.want {
				t.Errorf("ExitCodeForStatus(%d) = %d, want %d", tc.status, got, tc.want)
			}
		})
	}
}

func TestExitCodesAreDistinct(t *testing.T) {
	seen := map[softphone.ExitCode]softphone.Outcome{}
	for _, o := range []softphone.Outcome{
		softphone.OutcomeAuthFailed, softphone.OutcomeNotFound, softphone.OutcomeBusy,
		softphone.OutcomeNoAnswer, softphone.OutcomeUnreachable, softphone.OutcomeRejected,
		softphone.OutcomeCanceled, softphone.OutcomeFailed,
	} {
		code := o.ExitCode()
		if code == softphone.ExitOK {
			t.Errorf("%s exits 0", o)
		}
		if prev, ok := seen[code]; ok {
			t.Errorf("%s and %s share exit code %d", o, prev, code)
		}
		seen[code] = o
	}
	for _, code := range []softphone.ExitCode{softphone.ExitUsage, softphone.ExitToneMissing} {
		if o, ok := seen[code]; ok {
			t.Errorf("exit code %d of %s clashes with %s", code, o, map[softphone.ExitCode]string{softphone.ExitUsage: "usage", softphone.ExitToneMissing: "tone missing"}[code])
		}
	}
}

func TestExitCodeFor(t *testing.T) {
	busy := &softphone.Error{Op: "call 1002", Outcome: softphone.OutcomeBusy, Status: 486, Reason: "Busy Here"}
	for _, tc := range []struct {
		name string
		err  error
		want softphone.ExitCode
	}{
		{"Nil", nil, softphone.ExitOK},
		{"Busy", busy, softphone.ExitBusy},
		{"WrappedBusy", fmt.Errorf("load test: %w", busy), softphone.ExitBusy},
		{"Interrupted", context.Canceled, softphone.ExitInterrupted},
		{"Other", errors.New("disk full"), softphone.ExitFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := softphone.ExitCodeFor(tc.err); got != tc.want {
				t.Errorf("ExitCodeFor(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  *softphone.Error
		want string
	}{
		{&softphone.Error{Op: "call 1002", Outcome: softphone.OutcomeBusy, Status: 486, Reason: "Busy Here"},
			"call 1002: busy (SIP 486 Busy Here)"},
		{&softphone.Error{Op: "register 1001 at pbx:5060", Outcome: softphone.OutcomeAuthFailed, Status: 401, Reason: "Unauthorized"},
			"register 1001 at pbx:5060: wrong user name or password (SIP 401 Unauthorized)"},
		{&softphone.Error{Op: "call 1009", Outcome: softphone.OutcomeNotFound, Status: 404, Reason: "Not Found"},
			"call 1009: no such extension (SIP 404 Not Found)"},
		{&softphone.Error{Op: "call 1002", Outcome: softphone.OutcomeNoAnswer, Detail: "not answered within 20s", Err: context.Canceled},
			"call 1002: no answer: not answered within 20s"},
		{&softphone.Error{Op: "call 1002", Outcome: softphone.OutcomeFailed, Err: errors.New("boom")},
			"call 1002: failed: boom"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
		if strings.Contains(tc.err.Error(), "\n") {
			t.Errorf("%q is not one line", tc.err.Error())
		}
	}
}

func TestReportJSON(t *testing.T) {
	rep := softphone.Report{
		Direction: "outgoing", Peer: "1002", Outcome: softphone.OutcomeAnswered, SIPStatus: 200,
		Setup: softphone.Millis(12345678 * time.Nanosecond), FirstProvisional: softphone.Millis(time.Millisecond),
		RTP:  softphone.RTPReport{Sent: 250, Received: 249, Expected: 250, Lost: 1, LossPercent: 0.4, Jitter: softphone.Millis(500 * time.Microsecond)},
		Tone: &softphone.ToneReport{Hz: 1000, Detected: true, LevelDBFS: -12.1, Duration: softphone.Millis(4 * time.Second)},
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"setup_ms":12.346`, `"first_provisional_ms":1,`, `"jitter_ms":0.5`, `"outcome":"answered"`, `"sip_status":200`, `"duration_ms":4000`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	var back softphone.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if time.Duration(back.Setup) != 12346*time.Microsecond || back.RTP != rep.RTP || *back.Tone != *rep.Tone {
		t.Errorf("round trip: %+v", back)
	}
}

func TestParseReject(t *testing.T) {
	for _, s := range []string{"", "busy", "decline", "noanswer", "BUSY"} {
		if _, err := softphone.ParseReject(s); err != nil {
			t.Errorf("ParseReject(%q): %v", s, err)
		}
	}
	if _, err := softphone.ParseReject("maybe"); err == nil {
		t.Error(`ParseReject("maybe") succeeded`)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts softphone.Options
	}{
		{"NoUser", softphone.Options{Server: "127.0.0.1:5060"}},
		{"UserWithAt", softphone.Options{Server: "127.0.0.1:5060", Username: "1001@evil"}},
		{"NoServer", softphone.Options{Username: "1001"}},
		{"BadPort", softphone.Options{Server: "127.0.0.1:70000", Username: "1001"}},
		{"Transport", softphone.Options{Server: "127.0.0.1:5060", Username: "1001", Transport: "sctp"}},
		{"BindAny", softphone.Options{Server: "127.0.0.1:5060", Username: "1001", BindHost: "0.0.0.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := softphone.Open(context.Background(), tc.opts)
			if err == nil {
				p.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}

// A call with options that cannot work fails before anything is sent, as a local failure.
func TestCallRejectsBadMediaOptions(t *testing.T) {
	ctx := context.Background()
	// Nothing listens on port 9 of loopback; nothing is sent there either.
	p, err := softphone.Open(ctx, softphone.Options{Server: "127.0.0.1:9", Username: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, tc := range []struct {
		name string
		ext  string
		opts softphone.MediaOptions
	}{
		{"BadDTMF", "1002", softphone.MediaOptions{DTMF: "12x"}},
		{"ToneTooHigh", "1002", softphone.MediaOptions{Tone: 5000}},
		{"ExpectToneNegative", "1002", softphone.MediaOptions{ExpectTone: -1}},
		{"HangupOnToneWithoutTone", "1002", softphone.MediaOptions{HangupOnTone: true}},
		{"ToneLevelAboveFullScale", "1002", softphone.MediaOptions{Tone: 1000, ToneLevel: 3}},
		{"BadExtension", "10 02", softphone.MediaOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := p.Call(ctx, tc.ext, softphone.CallOptions{MediaOptions: tc.opts})
			if softphone.ExitCodeFor(err) != softphone.ExitFailure || rep.Outcome != softphone.OutcomeFailed || rep.ExitCode != softphone.ExitFailure {
				t.Errorf("err %v, report %+v; want a local failure", err, rep)
			}
		})
	}
}
