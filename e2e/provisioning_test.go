//go:build integration

package e2e_test

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/testbed"
)

func createUser(t *testing.T, s *Stack, ext, name, password string) api.User {
	t.Helper()
	u, err := s.API.CreateUser(ctxT(t, 30*time.Second), api.CreateUserRequest{Extension: ext, Name: name, Password: password})
	if err != nil {
		t.Fatalf("create %s: %v", ext, err)
	}
	return u
}

// registerOK registers with SIPp until Asterisk accepts (the config is applied asynchronously).
func registerOK(t *testing.T, s *Stack, transport, ext, password string) {
	t.Helper()
	eventually(t, 15*time.Second, "REGISTER "+ext+" over "+transport, func() error {
		res := testbed.Register(t, ctxT(t, 30*time.Second), s.SIPServer(), transport, ext, password, 60)
		if res.ExitCode != 0 {
			return fmt.Errorf("SIPp exit %d: %s", res.ExitCode, tail(res.ErrorLog, 5))
		}
		return nil
	})
}

func registerFails(t *testing.T, s *Stack, transport, ext, password string) {
	t.Helper()
	if res := testbed.Register(t, ctxT(t, 30*time.Second), s.SIPServer(), transport, ext, password, 60); res.ExitCode == 0 {
		t.Errorf("REGISTER %s over %s with %q succeeded, want a rejection", ext, transport, password)
	}
}

func TestProvisionedUserCanRegister(t *testing.T) {
	s := StartStack(t, StackOptions{})
	u := createUser(t, s, "1001", "Alice Smith", "")
	if u.Password == "" {
		t.Fatal("no generated password in the creation response")
	}
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(strings.ToUpper(transport), func(t *testing.T) {
			registerOK(t, s, transport, "1001", u.Password)
			registerFails(t, s, transport, "1001", u.Password+"x")
		})
	}
	t.Run("OnlyDigestsStored", func(t *testing.T) {
		for _, f := range generatedFiles {
			b, _ := os.ReadFile(filepath.Join(s.Asterisk.ConfigDir, f))
			if strings.Contains(string(b), u.Password) {
				t.Errorf("%s holds the plaintext password", f)
			}
		}
	})
}

func TestPasswordChange(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "first-password-1")
	registerOK(t, s, "udp", "1001", "first-password-1")
	pw := "second-password-2"
	if _, err := s.API.PatchUser(ctxT(t, 30*time.Second), "1001", api.PatchUserRequest{Password: &pw}); err != nil {
		t.Fatal(err)
	}
	registerOK(t, s, "udp", "1001", pw)
	registerFails(t, s, "udp", "1001", "first-password-1")
}

func TestDeletedUserIsGone(t *testing.T) {
	s := StartStack(t, StackOptions{})
	u := createUser(t, s, "1001", "Alice", "")
	const pw2 = "bob-password-222"
	createUser(t, s, "1002", "Bob", pw2)
	registerOK(t, s, "udp", "1001", u.Password)
	if err := s.API.DeleteUser(ctxT(t, 30*time.Second), "1001"); err != nil {
		t.Fatal(err)
	}
	// Asterisk cannot forget an endpoint its files gave it, so a deleted user's stays until it
	// restarts, locked: its registrations dropped, credentials no password matches, no line.
	eventually(t, 15*time.Second, "1001 locked out", func() error {
		if line := realtimeLine(t, s, "1001"); line["extension"] != "" {
			return fmt.Errorf("line still there: %v", line)
		}
		if out := s.Asterisk.MustCLI(t, "pjsip show aor 1001"); strings.Contains(out, "Contact:  1001/") {
			return fmt.Errorf("registration still there:\n%s", out)
		}
		return nil
	})
	registerFails(t, s, "udp", "1001", u.Password)
	if out := s.Asterisk.MustCLI(t, "pjsip show endpoint 1002"); !strings.Contains(out, "Endpoint:  1002") {
		t.Errorf("1002 is gone too:\n%s", out)
	}
	// A call to the deleted number: 404, and nobody rings.
	res := testbed.RunSIPp(t, ctxT(t, 30*time.Second), testbed.SIPp{
		Scenario: "call-rejected.xml", Server: s.SIPServer(), Service: "1001",
		Username: "1002", Password: pw2, Keys: map[string]string{"caller": "1002"},
		Template: map[string]string{"status": "404"},
	})
	if res.ExitCode != 0 {
		t.Errorf("calling the deleted 1001: not a 404 (SIPp exit %d):\n%s", res.ExitCode, tail(res.ErrorLog, 10))
	}
}

func TestPresenceFollowsThePhone(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	presence := func(want string) func() error {
		return func() error {
			p, err := s.API.Presence(ctxT(t, 10*time.Second), "1001")
			if err != nil {
				return err
			}
			if p.State != want {
				return fmt.Errorf("state %s (endpoint %s, device %s), want %s", p.State, p.EndpointState, p.DeviceState, want)
			}
			return nil
		}
	}
	eventually(t, 15*time.Second, "offline before registering", presence("offline"))
	// A phone that registers before its endpoint exists is refused and backs off for a while;
	// start it once Asterisk knows the user.
	waitEndpoint(t, s, "1001")
	phone := testbed.StartBaresip(t, testbed.BaresipOptions{Server: s.SIPServer(), Ext: "1001", Password: "alice-password-1"})
	eventually(t, 20*time.Second, "online after registering", presence("online"))
	phone.Stop(t) // baresip unregisters on SIGINT
	eventually(t, 20*time.Second, "offline after unregistering", presence("offline"))
}

// waitEndpoint waits until Asterisk has loaded the endpoint of ext.
func waitEndpoint(t *testing.T, s *Stack, ext string) {
	t.Helper()
	eventually(t, 15*time.Second, "endpoint "+ext+" loaded", func() error {
		out, err := s.Asterisk.CLI(ctxT(t, 10*time.Second), "pjsip show endpoint "+ext)
		if err != nil || !strings.Contains(out, "Endpoint:  "+ext) {
			return fmt.Errorf("not loaded: %v", err)
		}
		return nil
	})
}

// waitDialplan waits until Asterisk has ext's endpoint and its line in the realtime table the
// dialplan reads: a call to it works even if the control plane goes away now.
func waitDialplan(t *testing.T, s *Stack, ext string) {
	t.Helper()
	waitEndpoint(t, s, ext)
	eventually(t, 15*time.Second, "line of "+ext+" in the realtime table", func() error {
		if line := realtimeLine(t, s, ext); line["extension"] != ext {
			return fmt.Errorf("not there: %v", line)
		}
		return nil
	})
}

// realtimeLine is ext's line as Asterisk reads it (realtime load switchboard_lines ...): field
// names to values; empty when there is none.
func realtimeLine(t *testing.T, s *Stack, ext string) map[string]string {
	t.Helper()
	out, err := s.Asterisk.CLI(ctxT(t, 10*time.Second), "realtime load switchboard_lines extension "+ext)
	if err != nil {
		t.Fatalf("realtime load: %v", err)
	}
	line := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 1 && f[0] != "Column" && !strings.HasPrefix(f[0], "---") {
			line[f[0]] = strings.Join(f[1:], " ")
		}
	}
	return line
}

// generatedFiles are what the control plane writes for Asterisk: the files it starts from and
// the realtime database.
var generatedFiles = []string{"pjsip.conf", "extensions.conf", "switchboard.sqlite3"}

// hashDir fingerprints the generated files.
func hashDir(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	for _, f := range generatedFiles {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s:%x\n", f, sha256.Sum256(b))
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestInjectionIsRejectedAndChangesNothing(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "")
	eventually(t, 15*time.Second, "config written", func() error {
		b, err := os.ReadFile(filepath.Join(s.Asterisk.ConfigDir, "pjsip.conf"))
		if err != nil || !strings.Contains(string(b), "[1001]") {
			return fmt.Errorf("1001 not rendered yet: %v", err)
		}
		return nil
	})
	before := hashDir(t, s.Asterisk.ConfigDir)
	payloads := []string{
		"Eve\n[1002](switchboard-endpoint)", "[evil]", "Eve;comment", "#include /etc/passwd",
		"#exec /bin/sh -c id", `Eve "quoted"`, `Eve\`, "Eve\x01", "Eve\u202eevE", "Eve\r\nX",
		strings.Repeat("E", 10_000), "Eve,Mallory", "${SHELL(id)}", "Eve => 1",
	}
	for i, p := range payloads {
		post := func(body any) {
			err := postJSON(t, s, "/api/v1/users", body)
			if err == nil || !strings.Contains(err.Error(), "400") {
				t.Errorf("payload %d %q: %v, want 400", i, trunc(p), err)
			}
		}
		post(map[string]any{"extension": "1002", "name": p})
		post(map[string]any{"extension": p, "name": "Eve"})
		post(map[string]any{"extension": "1002", "name": "Eve", "voicemail": map[string]any{"enabled": true, "pin": p}})
		if err := patchJSON(t, s, "/api/v1/users/1001", map[string]any{"name": p}); err == nil || !strings.Contains(err.Error(), "400") {
			t.Errorf("PATCH payload %d %q: %v, want 400", i, trunc(p), err)
		}
	}
	if after := hashDir(t, s.Asterisk.ConfigDir); after != before {
		t.Error("generated files changed after rejected requests")
	}
	// A valid change is a fence: once it is applied, any pass that a rejected request could have
	// caused has run too. The files must then hold exactly 1001 and 1003.
	createUser(t, s, "1003", "Carol", "")
	eventually(t, 15*time.Second, "1003 applied", func() error {
		b, _ := os.ReadFile(filepath.Join(s.Asterisk.ConfigDir, "pjsip.conf"))
		if !strings.Contains(string(b), "[1003](switchboard-endpoint)") {
			return errors.New("1003 not in pjsip.conf yet")
		}
		if line := realtimeLine(t, s, "1003"); line["extension"] != "1003" {
			return fmt.Errorf("1003 not in the realtime table yet: %v", line)
		}
		return nil
	})
	pjsip, _ := os.ReadFile(filepath.Join(s.Asterisk.ConfigDir, "pjsip.conf"))
	var sections []string
	for _, line := range strings.Split(string(pjsip), "\n") {
		if strings.HasPrefix(line, "[") {
			sections = append(sections, line)
		}
	}
	want := "[1001](switchboard-auth) [1001](switchboard-aor) [1001](switchboard-endpoint) " +
		"[1003](switchboard-auth) [1003](switchboard-aor) [1003](switchboard-endpoint)"
	if got := strings.Join(sections, " "); got != want {
		t.Errorf("pjsip.conf sections after rejected requests:\n%s\nwant\n%s", got, want)
	}
	for _, f := range generatedFiles {
		b, _ := os.ReadFile(filepath.Join(s.Asterisk.ConfigDir, f))
		for _, bad := range []string{"Eve", "evil", "#include /etc", "#exec", "SHELL"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s contains %q", f, bad)
			}
		}
	}
	list, _ := s.API.Users(ctxT(t, 10*time.Second), "", 100)
	if len(list.Users) != 2 || list.Users[0].Name != "Alice" {
		t.Errorf("users after rejected requests: %+v", list.Users)
	}
}

func TestUnauthorized(t *testing.T) {
	s := StartStack(t, StackOptions{})
	for _, token := range []string{"", "wrong-token-0123456789"} {
		c := &api.Client{BaseURL: s.APIURL, Token: token}
		_, err := c.CreateUser(ctxT(t, 10*time.Second), api.CreateUserRequest{Extension: "1001", Name: "A"})
		var se *api.StatusError
		if !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
			t.Errorf("token %q: %v, want 401", token, err)
		}
	}
	if list, _ := s.API.Users(ctxT(t, 10*time.Second), "", 10); len(list.Users) != 0 {
		t.Error("unauthorized request created a user")
	}
}

// PostgreSQL is the source of truth: while it is down the API says 503; when it is back the
// API works again and nothing committed is lost.
func TestDatabaseOutage(t *testing.T) {
	pg := testbed.StartPostgres(t)
	s := StartStack(t, StackOptions{DSN: pg.NewDatabase(t)})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	pg.Stop(t)
	for _, f := range []func() error{
		func() error { _, err := s.API.User(ctxT(t, 20*time.Second), "1001"); return err },
		func() error {
			_, err := s.API.CreateUser(ctxT(t, 20*time.Second), api.CreateUserRequest{Extension: "1002", Name: "Bob"})
			return err
		},
	} {
		var se *api.StatusError
		if err := f(); !errors.As(err, &se) || se.Status != 503 || se.Err.Code != "unavailable" {
			t.Errorf("with PostgreSQL down: %v, want 503 unavailable", err)
		}
	}
	resp, err := http.Get(s.APIURL + "/readyz")
	if err != nil || resp.StatusCode != 503 {
		t.Errorf("/readyz with PostgreSQL down: %v %v", resp.StatusCode, err)
	}
	pg.Start(t)
	s.WaitReady(t)
	u, err := s.API.User(ctxT(t, 20*time.Second), "1001")
	if err != nil || u.Name != "Alice" {
		t.Fatalf("after restart: %+v, %v", u, err)
	}
	createUser(t, s, "1002", "Bob", "bob-password-22")
	registerOK(t, s, "udp", "1002", "bob-password-22")
}

// Asterisk unreachable: the API still accepts writes (PostgreSQL is the source of truth),
// /readyz says 503, and the configuration is applied when Asterisk is back.
func TestAsteriskOutage(t *testing.T) {
	s := StartStack(t, StackOptions{})
	s.Asterisk.Stop(t)
	eventually(t, 20*time.Second, "/readyz 503 with Asterisk down", func() error {
		resp, err := http.Get(s.APIURL + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	s.Asterisk.Start(t)
	s.WaitReady(t)
	registerOK(t, s, "udp", "1001", "alice-password-1")
}

func postJSON(t *testing.T, s *Stack, path string, body any) error {
	return sendJSON(t, s, "POST", path, body)
}

func patchJSON(t *testing.T, s *Stack, path string, body any) error {
	return sendJSON(t, s, "PATCH", path, body)
}

func sendJSON(t *testing.T, s *Stack, method, path string, body any) error {
	t.Helper()
	b, _ := jsonMarshal(body)
	req, _ := http.NewRequestWithContext(ctxT(t, 10*time.Second), method, s.APIURL+path, strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
