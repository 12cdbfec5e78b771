//go:build integration

package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/postgres"
	"github.com/switchboard-pbx/switchboard/testbed"
	"github.com/switchboard-pbx/switchboard/voicemail"
)

// The outbox mails a message once: Add is idempotent, a claimed letter is held for its lease
// (another sender does not get it), a retry waits for its time, and finished letters stay
// finished.
func TestMailOutbox(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, testbed.NewDatabase(t))
	users := &postgres.UserStore{DB: db}
	bob := user("1002", "Bob")
	bob.Email = "bob@example.com"
	if _, err := users.CreateUser(ctx, bob); err != nil {
		t.Fatal(err)
	}
	o := &postgres.MailOutbox{DB: db}
	if email, err := o.Email(ctx, "1002"); err != nil || email != "bob@example.com" {
		t.Errorf("Email(1002) = %q, %v", email, err)
	}
	if email, err := o.Email(ctx, "1009"); err != nil || email != "" {
		t.Errorf("Email(1009) = %q, %v", email, err)
	}
	if all, err := o.WithEmail(ctx); err != nil || len(all) != 1 || all["1002"] != "bob@example.com" {
		t.Errorf("WithEmail = %v, %v", all, err)
	}

	j := voicemail.MailJob{Mailbox: "1002", MessageID: "1796374800-00000001", To: "bob@example.com"}
	for i, want := range []bool{true, false} {
		if added, err := o.Add(ctx, j); err != nil || added != want {
			t.Fatalf("Add #%d = %v, %v; want %v", i+1, added, err, want)
		}
	}
	claimed, err := o.Claim(ctx, 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0] != j {
		t.Fatalf("Claim = %+v, %v", claimed, err)
	}
	if again, err := o.Claim(ctx, 10, time.Minute); err != nil || len(again) != 0 {
		t.Fatalf("a claimed letter was claimed again within its lease: %+v, %v", again, err)
	}
	if err := o.Retry(ctx, j, time.Now().Add(-time.Second), "relay down"); err != nil {
		t.Fatal(err)
	}
	claimed, err = o.Claim(ctx, 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].Attempts != 1 {
		t.Fatalf("Claim after a retry = %+v, %v", claimed, err)
	}
	if err := o.Sent(ctx, claimed[0]); err != nil {
		t.Fatal(err)
	}
	if err := o.Retry(ctx, j, time.Now().Add(-time.Second), "late"); err != nil {
		t.Fatal(err)
	}
	if after, err := o.Claim(ctx, 10, 0); err != nil || len(after) != 0 {
		t.Errorf("a sent letter came back: %+v, %v", after, err)
	}
	if added, err := o.Add(ctx, j); err != nil || added {
		t.Errorf("a sent letter was queued again: %v, %v", added, err)
	}
	// A malformed id never reaches the table (the database checks it too).
	if _, err := o.Add(ctx, voicemail.MailJob{Mailbox: "1002", MessageID: "../x", To: "bob@example.com"}); err == nil {
		t.Error("a malformed message id was stored")
	}
	if err := o.Prune(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if added, err := o.Add(ctx, j); err != nil || !added {
		t.Errorf("after pruning, the id is free again: %v, %v", added, err)
	}
}
