//go:build integration

package e2e_test

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// The admin CLI in the same binary: users add|list|show|passwd|rm through the API, printing the
// generated password once.
func TestUsersCLI(t *testing.T) {
	s := StartStack(t, StackOptions{})
	cli := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(switchboardBin, append([]string{"users"}, args...)...)
		cmd.Env = []string{"API_URL=" + s.APIURL, "API_TOKEN=" + s.Token}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return stdout.String(), stderr.String(), code
	}
	out, errOut, code := cli("add", "1001", "--name", "Alice Smith", "--pin", "4321")
	if code != 0 {
		t.Fatalf("users add: exit %d: %s", code, errOut)
	}
	m := regexp.MustCompile(`SIP password: (\S+)`).FindStringSubmatch(out)
	if m == nil || strings.Contains(out, "4321") {
		t.Fatalf("users add printed (want the generated password, not the chosen PIN):\n%s", out)
	}
	// A PIN is printed only when the server made it up: once, at creation or reset.
	out, _, code = cli("add", "1003", "--name", "Carol")
	if code != 0 || !regexp.MustCompile(`voicemail PIN: [0-9]{6}\n`).MatchString(out) {
		t.Errorf("users add without --pin (exit %d):\n%s", code, out)
	}
	out, _, code = cli("pin", "1003")
	if code != 0 || !regexp.MustCompile(`new voicemail PIN for 1003: [0-9]{6}\n`).MatchString(out) {
		t.Errorf("users pin (exit %d):\n%s", code, out)
	}
	if out, _, code = cli("show", "1003"); code != 0 || strings.Contains(strings.ToLower(out), "pin:") {
		t.Errorf("users show prints a PIN (exit %d):\n%s", code, out)
	}
	registerOK(t, s, "udp", "1001", m[1])

	if out, _, code := cli("list"); code != 0 || !strings.Contains(out, "1001") || !strings.Contains(out, "Alice Smith") {
		t.Errorf("users list (exit %d):\n%s", code, out)
	}
	out, _, code = cli("show", "1001", "--json")
	var u api.User
	if code != 0 || json.Unmarshal([]byte(out), &u) != nil || u.Name != "Alice Smith" || u.Password != "" {
		t.Errorf("users show --json (exit %d):\n%s", code, out)
	}
	out, _, code = cli("passwd", "1001")
	m2 := regexp.MustCompile(`new SIP password for 1001: (\S+)`).FindStringSubmatch(out)
	if code != 0 || m2 == nil || m2[1] == m[1] {
		t.Fatalf("users passwd (exit %d):\n%s", code, out)
	}
	registerOK(t, s, "udp", "1001", m2[1])
	if res := testbed.Register(t, ctxT(t, 30*time.Second), s.SIPServer(), "udp", "1001", m[1], 60); res.ExitCode == 0 {
		t.Error("the old password still registers after users passwd")
	}
	if _, errOut, code := cli("add", "1001", "--name", "Mallory"); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("duplicate add: exit %d, %q", code, errOut)
	}
	if _, errOut, code := cli("add", "1002", "--name", "Eve\n[evil]"); code != 1 || !strings.Contains(errOut, "(invalid)") {
		t.Errorf("invalid name: exit %d, %q", code, errOut)
	}
	if out, _, code := cli("rm", "1001"); code != 0 || !strings.Contains(out, "deleted 1001") {
		t.Errorf("users rm (exit %d): %s", code, out)
	}
	if _, errOut, code := cli("show", "1001"); code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("show after rm: exit %d, %q", code, errOut)
	}
	if _, _, code := cli("frobnicate"); code != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", code)
	}
}
