package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/media"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
	"github.com/switchboard-pbx/switchboard/voicemail"
	"github.com/switchboard-pbx/switchboard/voicemail/voicemailtest"
)

// The voicemail CLI against the real API handler, over a spool in a temporary directory.
func TestVoicemailCLI(t *testing.T) {
	ctx := context.Background()
	spool := t.TempDir()
	store := inmem.NewUserStore()
	if _, err := store.CreateUser(ctx, switchboard.User{Extension: "1002", Name: "Bob",
		Voicemail: switchboard.Mailbox{Enabled: true, PIN: "1234"}}); err != nil {
		t.Fatal(err)
	}
	const id = "1796374800-0000000c"
	var wav bytes.Buffer
	tone := media.Tone(700, -12, 8000, 8000)
	media.WriteWAV(&wav, tone, 8000)
	voicemailtest.Leave(t, spool, "1002", "INBOX", 0, id, `"Alice" <1001>`, time.Now(), tone)
	boxes := &voicemail.Mailboxes{Spool: voicemail.Spool{Dir: spool}, Manager: &voicemailtest.Manager{Spool: spool}}
	cli := adminCLI(t, api.Server{
		Users:     &provisioning.Service{Store: store, Config: noConfig{}, Presence: offlinePresence{}},
		Voicemail: &provisioning.VoicemailService{Users: store, Mailboxes: boxes, GreetingStore: boxes},
	}, voicemailCmd)

	if out, _, code := cli("list", "1002"); code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "Alice <1001>") ||
		!strings.Contains(out, "new") || !strings.Contains(out, "1s") {
		t.Errorf("list (exit %d):\n%s", code, out)
	}
	saved := filepath.Join(t.TempDir(), "message.wav")
	if out, errOut, code := cli("get", "1002", id, "--out", saved); code != 0 {
		t.Fatalf("get (exit %d): %s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(saved); !bytes.Equal(b, wav.Bytes()) {
		t.Error("the saved recording is not the message's")
	}
	if _, errOut, code := cli("get", "1002", id, "--out", saved); code == 0 || !strings.Contains(errOut, "exists") {
		t.Errorf("get over an existing file: exit %d, %s", code, errOut)
	}
	if out, _, code := cli("heard", "1002", id); code != 0 || !strings.Contains(out, "is in old") {
		t.Errorf("heard (exit %d):\n%s", code, out)
	}
	if _, errOut, code := cli("move", "1002", id, "Deleted"); code != 1 || !strings.Contains(errOut, "(invalid)") {
		t.Errorf("move to Deleted: exit %d, %s", code, errOut)
	}
	if out, _, code := cli("rm", "1002", id); code != 0 || !strings.Contains(out, "deleted message "+id) {
		t.Errorf("rm (exit %d):\n%s", code, out)
	}
	if _, errOut, code := cli("rm", "1002", "../../etc"); code != 1 || !strings.Contains(errOut, "(invalid)") {
		t.Errorf("rm of a path: exit %d, %s", code, errOut)
	}

	greeting := filepath.Join(t.TempDir(), "hello.wav")
	os.WriteFile(greeting, wav.Bytes(), 0o644)
	if out, errOut, code := cli("greeting-set", "1002", "busy", greeting); code != 0 || !strings.Contains(out, "busy greeting of 1002 set (1s)") {
		t.Errorf("greeting-set (exit %d): %s%s", code, out, errOut)
	}
	if out, _, code := cli("greetings", "1002"); code != 0 || !strings.Contains(out, "busy") {
		t.Errorf("greetings (exit %d):\n%s", code, out)
	}
	notAudio := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notAudio, []byte("hello"), 0o644)
	if _, errOut, code := cli("greeting-set", "1002", "name", notAudio); code != 1 || !strings.Contains(errOut, "not audio") {
		t.Errorf("greeting-set of text: exit %d, %s", code, errOut)
	}
	if out, _, code := cli("greeting-rm", "1002", "busy"); code != 0 || !strings.Contains(out, "deleted the busy greeting") {
		t.Errorf("greeting-rm (exit %d):\n%s", code, out)
	}
	if _, _, code := cli("get", "1002", id); code != 2 {
		t.Errorf("get without --out: exit %d, want 2", code)
	}
}
