package voicemail_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/media"
	"github.com/switchboard-pbx/switchboard/voicemail"
	"github.com/switchboard-pbx/switchboard/voicemail/voicemailtest"
)

// leave writes a message of seconds of silence (see voicemailtest.Leave).
func leave(t *testing.T, spool, mailbox, folder string, n int, id, callerID string, at time.Time, seconds float64) {
	t.Helper()
	voicemailtest.Leave(t, spool, mailbox, folder, n, id, callerID, at, make([]int16, int(seconds*8000)))
}

func setup(t *testing.T) (*voicemail.Mailboxes, *voicemailtest.Manager, string) {
	spool := t.TempDir()
	base := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	leave(t, spool, "1002", "INBOX", 0, "1796374800-00000001", `"Alice Smith" <1001>`, base, 3.5)
	leave(t, spool, "1002", "INBOX", 1, "1796374900-00000002", `<1003>`, base.Add(100*time.Second), 1)
	leave(t, spool, "1002", "Old", 0, "1796374700-00000000", `Unknown`, base.Add(-100*time.Second), 2)
	leave(t, spool, "1005", "INBOX", 0, "1796374950-00000003", `"Eve" <1005>`, base.Add(150*time.Second), 1)
	m := &voicemailtest.Manager{Spool: spool}
	return &voicemail.Mailboxes{Spool: voicemail.Spool{Dir: spool}, Manager: m}, m, spool
}

func TestMessagesNewestFirstWithPages(t *testing.T) {
	b, _, _ := setup(t)
	ctx := context.Background()
	page, err := b.Messages(ctx, "1002", switchboard.MessageQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 2 || page.Messages[0].ID != "1796374900-00000002" || page.Messages[1].ID != "1796374800-00000001" ||
		page.Next != "1796374800-00000001" {
		t.Fatalf("first page %+v", page)
	}
	alice := page.Messages[1]
	if alice.CallerName != "Alice Smith" || alice.CallerNumber != "1001" || alice.Folder != switchboard.FolderNew ||
		alice.Duration != 3500*time.Millisecond || alice.Size != 44+3.5*8000*2 || alice.Mailbox != "1002" {
		t.Errorf("message %+v", alice)
	}
	if page.Messages[0].CallerName != "" || page.Messages[0].CallerNumber != "1003" {
		t.Errorf("caller of <1003>: %q %q", page.Messages[0].CallerName, page.Messages[0].CallerNumber)
	}
	rest, err := b.Messages(ctx, "1002", switchboard.MessageQuery{After: page.Next, Limit: 2})
	if err != nil || len(rest.Messages) != 1 || rest.Next != "" || rest.Messages[0].Folder != switchboard.FolderOld ||
		rest.Messages[0].CallerNumber != "" {
		t.Fatalf("second page %+v, %v", rest, err)
	}
	// A cursor whose message has gone (deleted while the client paged) still places the page.
	gone, err := b.Messages(ctx, "1002", switchboard.MessageQuery{After: "1796374850-000000ff", Limit: 10})
	if err != nil || len(gone.Messages) != 2 || gone.Messages[0].ID != "1796374800-00000001" {
		t.Errorf("after a vanished cursor: %+v, %v", gone, err)
	}
	old, err := b.Messages(ctx, "1002", switchboard.MessageQuery{Folder: switchboard.FolderOld, Limit: 10})
	if err != nil || len(old.Messages) != 1 || old.Messages[0].ID != "1796374700-00000000" {
		t.Errorf("old folder %+v, %v", old, err)
	}
	empty, err := b.Messages(ctx, "1009", switchboard.MessageQuery{Limit: 10})
	if err != nil || empty.Messages == nil || len(empty.Messages) != 0 {
		t.Errorf("a mailbox nobody left a message in: %+v, %v", empty, err)
	}
}

func TestMoveAndDeleteGoThroughAsterisk(t *testing.T) {
	b, m, _ := setup(t)
	ctx := context.Background()
	moved, err := b.Move(ctx, "1002", "1796374800-00000001", switchboard.FolderOld)
	if err != nil || moved.Folder != switchboard.FolderOld || moved.ID != "1796374800-00000001" {
		t.Fatalf("move: %+v, %v", moved, err)
	}
	if _, err := b.Move(ctx, "1002", "1796374800-00000001", switchboard.FolderOld); err != nil {
		t.Errorf("moving a message where it is: %v", err)
	}
	if err := b.Delete(ctx, "1002", "1796374900-00000002"); err != nil {
		t.Fatal(err)
	}
	want := []string{"move 1002@default INBOX 1796374800-00000001 -> Old", "remove 1002@default INBOX 1796374900-00000002"}
	if fmt.Sprint(m.Calls) != fmt.Sprint(want) {
		t.Errorf("manager actions %q, want %q", m.Calls, want)
	}
	if _, err := b.Message(ctx, "1002", "1796374900-00000002"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("deleted message: %v", err)
	}
	m.Fail = switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk is down")
	if _, err := b.Move(ctx, "1002", "1796374700-00000000", switchboard.FolderWork); switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
		t.Errorf("move with Asterisk down: %v", err)
	}
}

// Nothing a request names becomes a path: mailboxes are digits, ids are app_voicemail's
// format, and a message is looked up in its own mailbox only.
func TestNoPathEscapesTheMailbox(t *testing.T) {
	b, _, spool := setup(t)
	os.WriteFile(filepath.Join(spool, "secret.txt"), []byte("msg_id=1796374800-00000009\n"), 0o644)
	ctx := context.Background()
	for _, mailbox := range []string{"..", "../1002", "/etc", "1002/INBOX", "", "10 02", "%2e%2e"} {
		if _, err := b.Messages(ctx, mailbox, switchboard.MessageQuery{Limit: 10}); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("mailbox %q: %v, want invalid", mailbox, err)
		}
	}
	for _, id := range []string{"..", "../../secret", "/etc/passwd", "msg0000", "1796374800-0000000", "1796374800-00000001/..", "%2e%2e"} {
		if _, err := b.Audio(ctx, "1002", id); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("id %q: %v, want invalid", id, err)
		}
	}
	// Eve's message, asked for in Bob's mailbox.
	if _, err := b.Audio(ctx, "1002", "1796374950-00000003"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("another mailbox's message: %v, want not found", err)
	}
	if _, err := b.Move(ctx, "1002", "1796374800-00000001", "Deleted"); switchboard.ErrorCode(err) != switchboard.EINVALID {
		t.Errorf("folder Deleted: %v, want invalid", err)
	}
}

func TestAudioIsTheRecording(t *testing.T) {
	b, _, _ := setup(t)
	a, err := b.Audio(context.Background(), "1002", "1796374800-00000001")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	samples, format, err := media.ReadWAV(a)
	if err != nil || len(samples) != 28000 || format.SampleRate != 8000 || a.Size != 56044 {
		t.Errorf("audio: %d samples, %v, size %d, %v", len(samples), format, a.Size, err)
	}
}
