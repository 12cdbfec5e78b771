package main

import (
	"bytes"
	"context"
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
