//go:build integration

package ami_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/ami"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// TestVoicemailActions: with the repository's manager.conf and the ARI user's credentials, the
// client logs in through /rawman, app_voicemail refreshes, moves and removes a message of a
// real mailbox, a message that is not there is ENOTFOUND, and after Asterisk restarts (the
// session is gone) the client logs in again by itself.
func TestVoicemailActions(t *testing.T) {
	ast := testbed.StartAsterisk(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ast.WriteUsers(t, []switchboard.User{{Extension: "1001", Name: "Mailbox User", RingTimeout: 20,
		Voicemail:   switchboard.Mailbox{Enabled: true, PIN: "1234"},
		Credentials: provisioning.NewCredentials("1001", "mailbox-user-password"),
		Calls:       switchboard.DefaultCallSettings()}})
	var log bytes.Buffer
	c, err := ami.New(ami.Config{URL: ast.ARIURL, Username: ast.ARIUsername, Password: ast.ARIPassword,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}

	if err := c.RefreshMailbox(ctx, "1001", "default"); err != nil {
		t.Fatal(err)
	}
	const id = "1733340000-0000000a"
	err = c.RemoveMessage(ctx, "1001", "default", "INBOX", id)
	if code := switchboard.ErrorCode(err); code != switchboard.ENOTFOUND {
		t.Fatalf("remove of a message not there: code %q (%v), want not_found", code, err)
	}

	box := filepath.Join(ast.SpoolDir, "voicemail", "default", "1001")
	writeMessage(t, filepath.Join(box, "INBOX"), id)
	if err := c.MoveMessage(ctx, "1001", "default", "INBOX", id, "Old"); err != nil {
		t.Fatal(err)
	}
	if txt, err := os.ReadFile(filepath.Join(box, "Old", "msg0000.txt")); err != nil || !strings.Contains(string(txt), "msg_id="+id) {
		t.Fatalf("the message is not in Old after the move: %v\n%s", err, txt)
	}
	if _, err := os.Stat(filepath.Join(box, "INBOX", "msg0000.txt")); !os.IsNotExist(err) {
		t.Errorf("the message is still in INBOX after the move: %v", err)
	}

	// A restart ends the session; the client notices "Permission denied" and logs in again.
	ast.Restart(t)
	if err := c.RemoveMessage(ctx, "1001", "default", "Old", id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(box, "Old", "msg0000.txt")); !os.IsNotExist(err) {
		t.Errorf("the message is still in Old after the remove: %v", err)
	}
	if n := strings.Count(log.String(), "logging in again"); n != 1 {
		t.Errorf("%d logins again after the restart, want 1; log:\n%s", n, log.String())
	}
	for _, line := range ast.LogProblems(t) {
		if strings.Contains(line, "manager") || strings.Contains(line, "ERROR[") {
			t.Errorf("Asterisk: %s", line)
		}
	}
}

// writeMessage leaves a message in a folder as app_voicemail records one: msg0000.txt with
// its msg_id, and its audio (a WAV header, no samples).
func writeMessage(tb testing.TB, dir, id string) {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	txt := "[message]\norigmailbox=1001\ncontext=default\nexten=1001\npriority=2\n" +
		"callerchan=PJSIP/1002-00000001\ncallerid=\"Caller\" <1002>\n" +
		"origdate=Wed Dec  4 18:00:00 UTC 2024\norigtime=1733340000\ncategory=\n" +
		"msg_id=" + id + "\nflag=\nduration=1\n"
	wav := []byte("RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00")
	if err := os.WriteFile(filepath.Join(dir, "msg0000.txt"), []byte(txt), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "msg0000.wav"), wav, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// TestTrunkRegistrations: trunks registering with a fake provider (testbed.StartCarrier)
// through the repository's manager.conf. A registration the provider accepts is Registered and
// its contact Reachable; a wrong password is Rejected at once; when the provider stops, the
// contact turns Unreachable within a qualify and the registration Rejected once a refresh goes
// unanswered (32 s, timer_b); after it starts again, the registration comes back by itself.
func TestTrunkRegistrations(t *testing.T) {
	car := testbed.StartCarrier(t, testbed.CarrierOptions{Accounts: []testbed.CarrierAccount{
		{Username: "acme-good", Password: "good-password-1", Behaviour: testbed.CarrierEcho},
		{Username: "acme-wrong", Password: "real-password-1", Behaviour: testbed.CarrierEcho},
	}})
	ast := testbed.StartAsterisk(t)
	if !strings.Contains(ast.MustCLI(t, "module show like res_pjsip_outbound_registration.so"), "Running") {
		ast.MustCLI(t, "module load res_pjsip_outbound_registration.so")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := ami.New(ami.Config{URL: ast.ARIURL, Username: ast.ARIUsername, Password: ast.ARIPassword})
	if err != nil {
		t.Fatal(err)
	}
	if regs, err := c.OutboundRegistrations(ctx); err != nil || len(regs) != 0 {
		t.Fatalf("before any trunk: %v, %v; want none", regs, err)
	}

	// Short registrations (refreshed 10 s before they expire, so every 5 s) and a qualify every
	// 2 s, so that the test sees the provider go in seconds.
	trunk := func(name, username, password string) string {
		return fmt.Sprintf(`
[%[1]s]
type = registration
server_uri = sip:%[2]s
client_uri = sip:%[3]s@%[2]s
contact_user = %[3]s
outbound_auth = %[1]s
max_random_initial_delay = 0
retry_interval = 5
expiration = 15

[%[1]s]
type = auth
auth_type = userpass
username = %[3]s
password = %[4]s

[%[1]s]
type = aor
contact = sip:%[2]s
qualify_frequency = 2
qualify_timeout = 1.0

[%[1]s]
type = endpoint
aors = %[1]s
outbound_auth = %[1]s
context = switchboard-trunk-in
disallow = all
allow = ulaw
`, name, car.Addr(), username, password)
	}
	conf := trunk("trunk-good", "acme-good", "good-password-1") + trunk("trunk-wrong", "acme-wrong", "not-the-password")
	if err := os.WriteFile(filepath.Join(ast.Dir, "etc", "pjsip_local.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ast.MustCLI(t, "module reload res_pjsip.so")

	// waitFor polls until the registration and the contact of a trunk are in the states
	// wanted ("" for any) and returns how long that took.
	waitFor := func(t *testing.T, name string, status ami.RegistrationStatus, contact string, within time.Duration) time.Duration {
		t.Helper()
		began := time.Now()
		var reg ami.OutboundRegistration
		var contacts []ami.ContactStatus
		for time.Since(began) < within {
			regs, err := c.OutboundRegistrations(ctx)
			if err != nil {
				t.Fatal(err)
			}
			reg = ami.OutboundRegistration{}
			for _, r := range regs {
				if r.ObjectName == name {
					reg = r
				}
			}
			if contacts, err = c.ContactStatuses(ctx, name); err != nil {
				t.Fatal(err)
			}
			if (status == "" || reg.Status == status) && (contact == "" || len(contacts) == 1 && contacts[0].Status == contact) {
				return time.Since(began)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("%s: after %s registration %+v and contacts %+v; want %q and %q", name, within, reg, contacts, status, contact)
		return 0
	}

	t.Run("Registered", func(t *testing.T) {
		waitFor(t, "trunk-good", ami.RegistrationRegistered, "Reachable", 10*time.Second)
		t.Logf("trunk-good Registered and Reachable %s after the reload", time.Since(start).Round(100*time.Millisecond))
		regs, err := c.OutboundRegistrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(regs) != 2 || regs[0].ServerURI != "sip:"+car.Addr() || !strings.HasPrefix(regs[0].ClientURI, "sip:acme-") ||
			regs[0].Expiration != 15*time.Second {
			t.Errorf("registrations %+v", regs)
		}
		contacts, err := c.ContactStatuses(ctx, "trunk-good")
		if err != nil {
			t.Fatal(err)
		}
		if len(contacts) != 1 || contacts[0].AOR != "trunk-good" || contacts[0].URI != "sip:"+car.Addr() || contacts[0].RoundTrip <= 0 {
			t.Errorf("contacts %+v", contacts)
		}
		if !car.Registered(t, "acme-good") {
			t.Error("the carrier does not know the registration")
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		// The provider answers (Reachable) but refuses the registration.
		waitFor(t, "trunk-wrong", ami.RegistrationRejected, "Reachable", 10*time.Second)
		t.Logf("trunk-wrong Rejected %s after the reload", time.Since(start).Round(100*time.Millisecond))
		if car.Registered(t, "acme-wrong") {
			t.Error("the carrier took a registration with a wrong password")
		}
	})
	t.Run("ErrNoEndpoint", func(t *testing.T) {
		_, err := c.ContactStatuses(ctx, "trunk-nosuch")
		if code := switchboard.ErrorCode(err); code != switchboard.ENOTFOUND {
			t.Errorf("code %q (%v), want not_found", code, err)
		}
	})
	t.Run("ProviderDown", func(t *testing.T) {
		car.Stop(t)
		took := waitFor(t, "trunk-good", "", "Unreachable", 10*time.Second)
		t.Logf("trunk-good's contact Unreachable %s after the carrier stopped", took.Round(100*time.Millisecond))
		// Asterisk still says Registered until a refresh goes unanswered.
		regs, err := c.OutboundRegistrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range regs {
			if r.ObjectName == "trunk-good" {
				t.Logf("meanwhile the registration is %s", r.Status)
			}
		}
		took += waitFor(t, "trunk-good", ami.RegistrationRejected, "Unreachable", 60*time.Second)
		t.Logf("trunk-good Rejected %s after the carrier stopped", took.Round(100*time.Millisecond))
	})
	t.Run("ProviderBack", func(t *testing.T) {
		car.Start(t)
		took := waitFor(t, "trunk-good", ami.RegistrationRegistered, "Reachable", 30*time.Second)
		t.Logf("trunk-good Registered and Reachable %s after the carrier started", took.Round(100*time.Millisecond))
		car.WaitRegistered(t, "acme-good", 5*time.Second)
	})
	for _, line := range ast.LogProblems(t) {
		if strings.Contains(line, "manager") {
			t.Errorf("Asterisk: %s", line)
		}
	}
}
