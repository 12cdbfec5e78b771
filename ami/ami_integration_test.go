//go:build integration

package ami_test

import (
	"bytes"
	"context"
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
