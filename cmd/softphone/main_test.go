package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/softphone"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParse(t *testing.T) {
	base := map[string]string{"SOFTPHONE_SERVER": "pbx:5070", "SOFTPHONE_USER": "1001", "SOFTPHONE_PASSWORD": "pw"}
	t.Run("EnvironmentAndInterleavedFlags", func(t *testing.T) {
		c, err := parse([]string{"call", "--tone", "1000", "1002", "--duration", "3s", "--json"}, env(base))
		if err != nil {
			t.Fatal(err)
		}
		if c.ext != "1002" || c.server != "pbx:5070" || c.user != "1001" || c.password != "pw" ||
			c.tone != 1000 || c.duration != 3*time.Second || !c.json || c.transport != "udp" || c.bind != "127.0.0.1" {
			t.Errorf("parsed %+v", c)
		}
	})
	t.Run("FlagsOverrideEnvironment", func(t *testing.T) {
		c, err := parse([]string{"answer", "--server", "10.0.0.1:5060", "--user", "2002", "--password", "x", "--transport", "tcp", "--calls", "3"}, env(base))
		if err != nil {
			t.Fatal(err)
		}
		if c.server != "10.0.0.1:5060" || c.user != "2002" || c.password != "x" || c.transport != "tcp" || c.calls != 3 {
			t.Errorf("parsed %+v", c)
		}
	})
	t.Run("MWISubscribe", func(t *testing.T) {
		for _, cmd := range []string{"register", "answer"} {
			c, err := parse([]string{cmd, "--mwi-subscribe"}, env(base))
			if err != nil || !c.mwiSubscribe {
				t.Errorf("%s --mwi-subscribe: %+v, %v", cmd, c, err)
			}
		}
		if c, err := parse([]string{"register"}, env(base)); err != nil || c.mwiSubscribe {
			t.Errorf("register subscribes only when asked: %+v, %v", c, err)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"NoCommand", nil, base},
		{"UnknownCommand", []string{"dial", "1002"}, base},
		{"CallWithoutExtension", []string{"call"}, base},
		{"CallTwoExtensions", []string{"call", "1002", "1003"}, base},
		{"AnswerWithArgument", []string{"answer", "1002"}, base},
		{"NoUser", []string{"register"}, map[string]string{}},
		{"ToneAndPlay", []string{"call", "1002", "--tone", "440", "--play", "x.wav"}, base},
		{"HangupOnToneAlone", []string{"call", "1002", "--hangup-on-tone"}, base},
		{"UnknownFlag", []string{"call", "1002", "--volume", "11"}, base},
		// Media flags mean nothing to register.
		{"RegisterWithTone", []string{"register", "--tone", "1000"}, base},
		// A call does not stay registered, so it has no message summary to watch.
		{"CallWithMWISubscribe", []string{"call", "1002", "--mwi-subscribe"}, base},
		{"BadDuration", []string{"call", "1002", "--duration", "soon"}, base},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parse(tc.args, env(tc.env)); err == nil {
				t.Error("parse succeeded")
			}
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	// A UDP port on loopback where nothing listens.
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadServer := conn.LocalAddr().String()
	conn.Close()

	for _, tc := range []struct {
		name       string
		args       []string
		want       softphone.ExitCode
		wantStderr string
	}{
		{"Usage", []string{"call"}, softphone.ExitUsage, "usage: softphone"},
		{"Help", []string{"help"}, softphone.ExitOK, ""},
		{"BadCodec", []string{"call", "1002", "--user", "1001", "--codec", "opus"}, softphone.ExitUsage, "unknown codec"},
		{"BadDTMF", []string{"call", "1002", "--user", "1001", "--server", deadServer, "--dtmf", "12x"}, softphone.ExitFailure, "bad DTMF digit"},
		{"MissingWAV", []string{"call", "1002", "--user", "1001", "--play", "/nonexistent.wav"}, softphone.ExitFailure, "play:"},
		{"Unreachable", []string{"call", "1002", "--user", "1001", "--server", deadServer, "--response-timeout", "1s"}, softphone.ExitUnreachable, "server unreachable"},
		{"RegisterUnreachable", []string{"register", "--user", "1001", "--server", deadServer, "--response-timeout", "1s"}, softphone.ExitUnreachable, "server unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := run(context.Background(), tc.args, &stdout, &stderr, env(nil))
			if got != tc.want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", got, tc.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, stderr.String())
			}
			if tc.want != softphone.ExitOK && tc.want != softphone.ExitUsage && strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Errorf("want one line on stderr, got:\n%s", stderr.String())
			}
		})
	}
}

func TestEventPrinterMWI(t *testing.T) {
	e := softphone.Event{
		Time: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), Kind: softphone.EventMWI, Peer: "1002",
		MWI: &softphone.MWI{Waiting: true, New: 1, Account: "sip:1002@127.0.0.1", Subscription: true},
	}
	t.Run("Text", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		eventPrinter(&config{command: "register"}, &stdout, &stderr)(e)
		if got, want := stdout.String(), "15:04:05.000 mwi: messages waiting, 1 new, 0 old\n"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		eventPrinter(&config{command: "register", json: true}, &stdout, &stderr)(e)
		var got softphone.Event
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("%v: %s", err, stdout.String())
		}
		if got.Kind != softphone.EventMWI || got.MWI == nil || *got.MWI != *e.MWI {
			t.Errorf("got %s", stdout.String())
		}
	})
}
