//go:build integration

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/media"
	"github.com/switchboard-pbx/switchboard/softphone"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// The test binary doubles as the softphone: with this variable set it runs main instead of the
// tests, so every case below runs the real command in its own process, exit code and all.
const asMain = "SOFTPHONE_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
	}
	os.Exit(m.Run())
}

const (
	endpoints = `
[7001](switchboard-endpoint)
auth = 7001
aors = 7001
[7001](switchboard-auth)
username = 7001
password = secret-7001
[7001](switchboard-aor)

[7003](switchboard-endpoint)
auth = 7003
aors = 7003
[7003](switchboard-auth)
username = 7003
password = secret-7003
[7003](switchboard-aor)
`
)

// softphone prepares the command as ext with SOFTPHONE_* pointing at server. The server gets
// 20 s to answer at all (not the default 5 s): the shared test machine runs the e2e tests beside
// these, and a first REGISTER once went unanswered for 5 s under that load.
func softphoneCmd(ctx context.Context, server, ext, password string, args ...string) *exec.Cmd {
	args = append(args, "--response-timeout", "20s")
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMain+"=1",
		"SOFTPHONE_SERVER="+server, "SOFTPHONE_USER="+ext, "SOFTPHONE_PASSWORD="+password)
	return cmd
}

type result struct {
	code           softphone.ExitCode
	stdout, stderr string
}

func exitCode(t *testing.T, err error) softphone.ExitCode {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return softphone.ExitOK
	case errors.As(err, &exit):
		return softphone.ExitCode(exit.ExitCode())
	}
	t.Fatalf("run softphone: %v", err)
	return 0
}

func runSoftphone(t *testing.T, ctx context.Context, server, ext, password string, args ...string) result {
	t.Helper()
	cmd := softphoneCmd(ctx, server, ext, password, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := exitCode(t, cmd.Run())
	t.Logf("softphone %s (as %s): exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), ext, code, stdout.String(), stderr.String())
	return result{code, stdout.String(), stderr.String()}
}

// startAnswering runs `softphone answer` as ext in the background and returns once it has
// registered; the channel yields its result when it exits.
func startAnswering(t *testing.T, ctx context.Context, server, ext, password string, args ...string) <-chan result {
	t.Helper()
	cmd := softphoneCmd(ctx, server, ext, password, append([]string{"answer"}, args...)...)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	registered := make(chan struct{})
	lines := make(chan string, 1)
	go func() {
		var all strings.Builder
		seen := false
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if !seen && strings.Contains(sc.Text(), "registered "+ext) {
				seen = true
				close(registered)
			}
		}
		lines <- all.String()
	}()
	done := make(chan result, 1)
	go func() {
		err := cmd.Wait()
		errText := <-lines
		done <- result{exitCode(t, err), stdout.String(), errText}
	}()
	select {
	case <-registered:
		return done
	case res := <-done:
		t.Fatalf("softphone answer exited (%d) before registering:\n%s", res.code, res.stderr)
	case <-ctx.Done():
		t.Fatalf("softphone answer did not register: %v", ctx.Err())
	}
	return nil
}

func TestCommand(t *testing.T) {
	ast := testbed.StartAsterisk(t)
	ast.WriteConfig(t, "pjsip.conf", endpoints, "res_pjsip.so")
	// 7003 rings for 15 s without voicemail: busy and no answer reach the caller as SIP statuses.
	ast.WriteUsers(t, []switchboard.User{{Extension: "7003", Name: "Test", RingTimeout: 15, Calls: switchboard.DefaultCallSettings()}})
	server := net.JoinHostPort("127.0.0.1", strconv.Itoa(ast.SIPPort))

	t.Run("TwoWayToneJSON", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		dir := t.TempDir()
		// The caller plays a WAV file of 1000 Hz; the callee records what it hears.
		play, rec := filepath.Join(dir, "play.wav"), filepath.Join(dir, "heard.wav")
		f, err := os.Create(play)
		if err != nil {
			t.Fatal(err)
		}
		if err := media.WriteWAV(f, media.Tone(1000, -10, 8000, 8000*20), 8000); err != nil {
			t.Fatal(err)
		}
		f.Close()
		callee := startAnswering(t, ctx, server, "7003", "secret-7003",
			"--transport", "tcp", "--tone", "2000", "--expect-tone", "1000", "--record", rec, "--json", "--duration", "60s")
		res := runSoftphone(t, ctx, server, "7001", "secret-7001",
			"call", "7003", "--transport", "tcp", "--play", play, "--expect-tone", "2000", "--duration", "4s", "--json")
		if res.code != softphone.ExitOK {
			t.Fatalf("call: exit %d", res.code)
		}
		var out softphone.Report
		if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
			t.Fatalf("call report is not JSON: %v", err)
		}
		if out.Outcome != softphone.OutcomeAnswered || out.SIPStatus != 200 || out.Setup <= 0 || out.FirstProvisional <= 0 ||
			out.Tone == nil || !out.Tone.Detected || out.RTP.Received == 0 || out.Transport != "tcp" {
			t.Errorf("caller report: %s", res.stdout)
		}
		in := <-callee
		if in.code != softphone.ExitOK {
			t.Fatalf("answer: exit %d\n%s", in.code, in.stderr)
		}
		var reps []softphone.Report
		if err := json.Unmarshal([]byte(in.stdout), &reps); err != nil || len(reps) != 1 {
			t.Fatalf("answer report: %v\n%s", err, in.stdout)
		}
		if reps[0].Tone == nil || !reps[0].Tone.Detected || reps[0].Peer != "7001" {
			t.Errorf("callee report: %s", in.stdout)
		}
		// The recording holds the caller's WAV file as it came through Asterisk.
		rf, err := os.Open(rec)
		if err != nil {
			t.Fatal(err)
		}
		defer rf.Close()
		samples, format, err := media.ReadWAV(rf)
		if err != nil {
			t.Fatal(err)
		}
		if tone := media.DetectTone(samples, 1000, format.SampleRate); !tone.Detected || tone.Duration < 2*time.Second {
			t.Errorf("recording (%s, %d samples): %+v", format, len(samples), tone)
		}
	})

	for _, tc := range []struct {
		name     string
		password string
		ext      string
		callee   []string // `softphone answer` flags for 7003, when it is online
		args     []string
		want     softphone.ExitCode
		message  string // in the one line on stderr
	}{
		{"WrongPassword", "not-the-password", "7003", nil, nil, softphone.ExitAuthFailed, "wrong user name or password (SIP 401"},
		{"UnknownExtension", "secret-7001", "7999", nil, nil, softphone.ExitNotFound, "no such extension (SIP 404"},
		{"Busy", "secret-7001", "7003", []string{"--reject", "busy"}, nil, softphone.ExitBusy, "busy (SIP 486"},
		{"NoAnswer", "secret-7001", "7003", []string{"--reject", "noanswer"}, []string{"--ring-timeout", "2s"}, softphone.ExitNoAnswer, "no answer"},
		// 7003 answers with silence; the caller expected a tone.
		{"ToneMissing", "secret-7001", "7003", []string{"--duration", "30s"}, []string{"--expect-tone", "1000", "--duration", "2s"}, softphone.ExitToneMissing, "1000 Hz tone not heard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var callee <-chan result
			if tc.callee != nil {
				callee = startAnswering(t, ctx, server, "7003", "secret-7003", tc.callee...)
			}
			res := runSoftphone(t, ctx, server, "7001", tc.password, append([]string{"call", tc.ext, "-q"}, tc.args...)...)
			if res.code != tc.want {
				t.Errorf("exit code %d, want %d", res.code, tc.want)
			}
			lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.message) {
				t.Errorf("stderr should be one line with %q:\n%s", tc.message, res.stderr)
			}
			if callee != nil {
				if in := <-callee; in.code != softphone.ExitOK {
					t.Errorf("softphone answer: exit %d\n%s", in.code, in.stderr)
				}
			}
		})
	}

	t.Run("RegisterJSONEvents", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := softphoneCmd(ctx, server, "7003", "secret-7003", "register", "--json")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		defer func() { t.Logf("softphone register stderr:\n%s", stderr.String()) }()
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(stdout)
		next := func() softphone.Event {
			var e softphone.Event
			if err := dec.Decode(&e); err != nil {
				t.Fatalf("read event: %v", err)
			}
			return e
		}
		if e := next(); e.Kind != softphone.EventRegistered {
			t.Fatalf("first event %+v, want registered", e)
		}
		call := make(chan result, 1)
		go func() {
			call <- runSoftphone(t, ctx, server, "7001", "secret-7001", "call", "7003", "-q", "--ring-timeout", "30s")
		}()
		if e := next(); e.Kind != softphone.EventIncoming || e.Peer != "7001" {
			t.Fatalf("event %+v, want an incoming call from 7001", e)
		}
		// Interrupting register unregisters; the ringing caller hears no answer.
		cmd.Process.Signal(os.Interrupt)
		var rest []softphone.Event
		for {
			var e softphone.Event
			if err := dec.Decode(&e); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			rest = append(rest, e)
		}
		if code := exitCode(t, cmd.Wait()); code != softphone.ExitOK {
			t.Errorf("register: exit %d after interrupt", code)
		}
		if len(rest) == 0 || rest[len(rest)-1].Kind != softphone.EventUnregistered {
			t.Errorf("events after interrupt %+v, want unregistered last", rest)
		}
		// The ringing phone says 480 as it goes offline: the caller hears "no answer" at once.
		if res := <-call; res.code != softphone.ExitNoAnswer {
			t.Errorf("caller: exit %d, want %d (no answer)", res.code, softphone.ExitNoAnswer)
		}
	})
}
