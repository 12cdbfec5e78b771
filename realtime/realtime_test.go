package realtime_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/realtime"
)

func user(ext, name string, vm bool) switchboard.User {
	return switchboard.User{Extension: ext, Name: name, RingTimeout: 20,
		Voicemail: switchboard.Mailbox{Enabled: vm, PIN: "1234"}, Calls: switchboard.DefaultCallSettings()}
}

// rows reads the tables as Asterisk would: one line and one mailbox per extension.
func rows(t *testing.T, path string) (lines map[string]string, boxes map[string]string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lines, boxes = map[string]string{}, map[string]string{}
	r, err := db.Query(`SELECT extension, ring_timeout, voicemail, dnd, forward_always, forward_busy, forward_no_answer FROM switchboard_lines`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var ext, fa, fb, fn string
		var ring, vm, dnd int
		if err := r.Scan(&ext, &ring, &vm, &dnd, &fa, &fb, &fn); err != nil {
			t.Fatal(err)
		}
		lines[ext] = fmtLine(ring, vm, dnd, fa, fb, fn)
	}
	r.Close()
	r, err = db.Query(`SELECT mailbox, context, password, fullname FROM voicemail`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var box, ctx, pw, name string
		if err := r.Scan(&box, &ctx, &pw, &name); err != nil {
			t.Fatal(err)
		}
		boxes[box] = ctx + " " + pw + " " + name
	}
	r.Close()
	return lines, boxes
}

func fmtLine(ring, vm, dnd int, fa, fb, fn string) string {
	return fmt.Sprintf("%d vm=%d dnd=%d %s/%s/%s", ring, vm, dnd, fa, fb, fn)
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), provisioning.RealtimeFile)
	db, err := realtime.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.Version(ctx); err != nil || v != 0 {
		t.Fatalf("new database: version %d, %v", v, err)
	}
	alice, bob := user("1001", "Alice", true), user("1002", "Bob", false)
	bob.Calls.Forwards.NoAnswer = switchboard.Forward{Enabled: true, Destination: "1001"}
	if err := db.Apply(ctx, switchboard.UserChanges{Users: []switchboard.User{alice, bob}, Version: 2}, true); err != nil {
		t.Fatal(err)
	}
	lines, boxes := rows(t, path)
	if len(lines) != 2 || lines["1002"] != "20 vm=0 dnd=0 //1001" {
		t.Errorf("lines %v", lines)
	}
	if len(boxes) != 1 || boxes["1001"] != "default 1234 Alice" {
		t.Errorf("mailboxes %v (Bob has no voicemail)", boxes)
	}
	// A change: Alice's voicemail off, Bob on DND; Carol new; then Bob deleted.
	alice.Voicemail.Enabled = false
	bob.Calls.DND = true
	carol := user("1003", "Carol", true)
	if err := db.Apply(ctx, switchboard.UserChanges{Users: []switchboard.User{alice, bob, carol}, Version: 5}, false); err != nil {
		t.Fatal(err)
	}
	if err := db.Apply(ctx, switchboard.UserChanges{Deleted: []string{"1002"}, Version: 6}, false); err != nil {
		t.Fatal(err)
	}
	lines, boxes = rows(t, path)
	if _, ok := lines["1002"]; ok || len(lines) != 2 || lines["1001"] != "20 vm=0 dnd=0 //" {
		t.Errorf("lines after the changes %v", lines)
	}
	if len(boxes) != 1 || boxes["1003"] == "" {
		t.Errorf("mailboxes after the changes %v", boxes)
	}
	if v, _ := db.Version(ctx); v != 6 {
		t.Errorf("version %d, want 6", v)
	}
	// A full write replaces everything.
	if err := db.Apply(ctx, switchboard.UserChanges{Users: []switchboard.User{bob}, Version: 9}, true); err != nil {
		t.Fatal(err)
	}
	if lines, boxes = rows(t, path); len(lines) != 1 || len(boxes) != 0 {
		t.Errorf("after a full write: lines %v, mailboxes %v", lines, boxes)
	}
}

// Shared mailboxes (groups', queues') are replaced as a set and survive a full write of the
// users; a user's mailbox is never taken for a shared one.
func TestSharedMailboxes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), provisioning.RealtimeFile)
	db, err := realtime.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Apply(ctx, switchboard.UserChanges{Users: []switchboard.User{user("1001", "Alice", true)}, Version: 1}, true); err != nil {
		t.Fatal(err)
	}
	sales := provisioning.VoicemailBox{Mailbox: "600", PIN: "5555", FullName: "Sales"}
	support := provisioning.VoicemailBox{Mailbox: "700", PIN: "7777", FullName: "Support"}
	if err := db.SetSharedMailboxes(ctx, []provisioning.VoicemailBox{sales, support}); err != nil {
		t.Fatal(err)
	}
	if err := db.Apply(ctx, switchboard.UserChanges{Users: []switchboard.User{user("1002", "Bob", true)}, Version: 2}, true); err != nil {
		t.Fatal(err)
	}
	_, boxes := rows(t, path)
	if fmt.Sprint(boxes) != "map[1002:default 1234 Bob 600:default 5555 Sales 700:default 7777 Support]" {
		t.Errorf("after a full write of the users: %v", boxes)
	}
	if err := db.SetSharedMailboxes(ctx, []provisioning.VoicemailBox{{Mailbox: "600", PIN: "1212", FullName: "Sales"}}); err != nil {
		t.Fatal(err)
	}
	if _, boxes = rows(t, path); fmt.Sprint(boxes) != "map[1002:default 1234 Bob 600:default 1212 Sales]" {
		t.Errorf("after replacing the shared mailboxes: %v", boxes)
	}
}

// A voicemail table app_voicemail made of its own (before the control plane first wrote the
// database) is replaced by ours, and the version starts over.
func TestOpenReplacesForeignTables(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), provisioning.RealtimeFile)
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE voicemail ("uniqueid" INTEGER, "password" TEXT);
		CREATE TABLE switchboard_version (id INTEGER PRIMARY KEY, version INTEGER NOT NULL);
		INSERT INTO switchboard_version VALUES (1, 40)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := realtime.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Version(ctx); v != 0 {
		t.Errorf("version %d after replacing a foreign table, want 0", v)
	}
	if err := db.Apply(ctx, switchboard.UserChanges{Users: []switchboard.User{user("1001", "Alice", true)}, Version: 1}, true); err != nil {
		t.Fatal(err)
	}
	if _, boxes := rows(t, path); boxes["1001"] != "default 1234 Alice" {
		t.Errorf("mailboxes %v", boxes)
	}
}

// A damaged file (an operating-system crash while writes were not synced) is started afresh
// in place: version 0, so that every row is written again.
func TestOpenStartsADamagedFileAfresh(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), provisioning.RealtimeFile)
	db, err := realtime.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Apply(ctx, switchboard.UserChanges{Users: []switchboard.User{user("1001", "Alice", true)}, Version: 7}, true); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xde, 0xad}, 2048), 0); err != nil { // the header and the first page
		t.Fatal(err)
	}
	f.Close()
	db, err = realtime.Open(ctx, path)
	if err != nil {
		t.Fatalf("open a damaged file: %v", err)
	}
	defer db.Close()
	if v, err := db.Version(ctx); err != nil || v != 0 {
		t.Errorf("version %d (%v) after starting afresh, want 0", v, err)
	}
	after, err := os.Stat(path)
	if err != nil || !os.SameFile(before, after) {
		t.Errorf("the file was replaced, not emptied in place (%v)", err)
	}
}
