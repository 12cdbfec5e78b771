package main

import (
	"bytes"
	"context"
	"fmt"
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
)

// renamingManager files and removes messages as app_voicemail's manager actions do.
type renamingManager struct{ spool string }

func (m renamingManager) stem(mailbox, folder, id string) (string, error) {
	txts, _ := filepath.Glob(filepath.Join(m.spool, "voicemail/default", mailbox, folder, "msg*.txt"))
	for _, txt := range txts {
		if b, _ := os.ReadFile(txt); strings.Contains(string(b), "msg_id="+id+"\n") {
			return strings.TrimSuffix(txt, ".txt"), nil
		}
	}
	return "", switchboard.Errorf(switchboard.ENOTFOUND, "no such message")
}

func (m renamingManager) MoveMessage(_ context.Context, mailbox, _, folder, id, to string) error {
	stem, err := m.stem(mailbox, folder, id)
	if err != nil {
		return err
	}
	dir := filepath.Join(m.spool, "voicemail/default", mailbox, to)
	os.MkdirAll(dir, 0o755)
	os.Rename(stem+".wav", filepath.Join(dir, "msg0000.wav"))
	return os.Rename(stem+".txt", filepath.Join(dir, "msg0000.txt"))
}

func (m renamingManager) RemoveMessage(_ context.Context, mailbox, _, folder, id string) error {
	stem, err := m.stem(mailbox, folder, id)
	if err != nil {
		return err
	}
	os.Remove(stem + ".wav")
	return os.Remove(stem + ".txt")
}

// The voicemail CLI against the real API handler, over a spool in a temporary directory.
func TestVoicemailCLI(t *testing.T) {
	ctx := context.Background()
	spool := t.TempDir()
	store := inmem.NewUserStore()
	if _, err := store.CreateUser(ctx, switchboard.User{Extension: "1002", Name: "Bob",
		Voicemail: switchboard.Mailbox{Enabled: true, PIN: "1234"}}); err != nil {
		t.Fatal(err)
	}
	inbox := filepath.Join(spool, "voicemail/default/1002/INBOX")
	os.MkdirAll(inbox, 0o755)
	const id = "1796374800-0000000c"
	os.WriteFile(filepath.Join(inbox, "msg0000.txt"), []byte(fmt.Sprintf(
		"[message]\ncallerid=\"Alice\" <1001>\norigtime=%d\nmsg_id=%s\nduration=1\n", time.Now().Unix(), id)), 0o644)
	var wav bytes.Buffer
	media.WriteWAV(&wav, media.Tone(700, -12, 8000, 8000), 8000)
	os.WriteFile(filepath.Join(inbox, "msg0000.wav"), wav.Bytes(), 0o644)
	boxes := &voicemail.Mailboxes{Spool: voicemail.Spool{Dir: spool}, Manager: renamingManager{spool}}
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
