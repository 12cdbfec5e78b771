package voicemail_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/media"
)

func TestGreetingsReplaceEveryFormat(t *testing.T) {
	b, _, spool := setup(t)
	ctx := context.Background()
	dir := filepath.Join(spool, "voicemail", "default", "1002")
	// A greeting recorded from the phone in another format would win over the new .wav.
	os.WriteFile(filepath.Join(dir, "busy.gsm"), []byte("gsm"), 0o644)
	g, err := b.SetGreeting(ctx, "1002", switchboard.GreetingBusy, media.Tone(500, -12, 8000, 12000))
	if err != nil || g.Duration != 1500*time.Millisecond || g.Greeting != switchboard.GreetingBusy {
		t.Fatalf("set: %+v, %v", g, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "busy.gsm")); !os.IsNotExist(err) {
		t.Errorf("busy.gsm still there: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name()[0] == '.' {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	list, err := b.Greetings(ctx, "1002")
	if err != nil || len(list) != 1 || list[0].Greeting != switchboard.GreetingBusy {
		t.Errorf("list: %+v, %v", list, err)
	}
	if err := b.DeleteGreeting(ctx, "1002", switchboard.GreetingBusy); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteGreeting(ctx, "1002", switchboard.GreetingBusy); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("delete twice: %v", err)
	}
}

// A greeting for a mailbox nobody left a message in yet creates its directories, writable by
// the group Asterisk shares (it adds the mailbox's folders there later).
func TestGreetingCreatesSharedDirectories(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	b, _, spool := setup(t)
	os.RemoveAll(filepath.Join(spool, "voicemail"))
	if _, err := b.SetGreeting(context.Background(), "1007", switchboard.GreetingName, make([]int16, 8000)); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"voicemail", "voicemail/default", "voicemail/default/1007"} {
		st, err := os.Stat(filepath.Join(spool, dir))
		if err != nil || st.Mode().Perm()&0o070 != 0o070 || st.Mode()&os.ModeSetgid == 0 {
			t.Errorf("%s: %v, %v; want group rwx and setgid", dir, st.Mode(), err)
		}
	}
	st, err := os.Stat(filepath.Join(spool, "voicemail/default/1007/greet.wav"))
	if err != nil || st.Mode().Perm() != 0o664 {
		t.Errorf("greet.wav: %v, %v", st.Mode(), err)
	}
}

func TestGreetingNames(t *testing.T) {
	b, _, _ := setup(t)
	ctx := context.Background()
	for _, g := range []switchboard.Greeting{"temp", "../unavail", "", "unavail"} {
		if _, err := b.SetGreeting(ctx, "1002", g, make([]int16, 8000)); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("greeting %q: %v", g, err)
		}
	}
	if _, err := b.SetGreeting(ctx, "../1002", switchboard.GreetingName, make([]int16, 8000)); switchboard.ErrorCode(err) != switchboard.EINVALID {
		t.Errorf("mailbox ../1002: %v", err)
	}
}
