//go:build integration

package postgres_test

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/postgres"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// MustOpenDB opens a fresh, migrated database of the test bed's PostgreSQL.
func MustOpenDB(tb testing.TB, dsn string) *postgres.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(db.Close)
	if err := db.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		tb.Fatal(err)
	}
	return db
}

func user(ext, name string) switchboard.User {
	return switchboard.User{Extension: ext, Name: name, RingTimeout: 20,
		Voicemail:   switchboard.Mailbox{Enabled: true, PIN: "1234"},
		Credentials: provisioning.NewCredentials(ext, "password-"+ext),
		Calls:       switchboard.DefaultCallSettings()}
}

func TestUserStore(t *testing.T) {
	ctx := context.Background()
	store := &postgres.UserStore{DB: MustOpenDB(t, testbed.NewDatabase(t))}

	t.Run("CreateAndGet", func(t *testing.T) {
		created, err := store.CreateUser(ctx, user("1001", "José Müller"))
		if err != nil {
			t.Fatal(err)
		}
		if created.CreatedAt.IsZero() || created.UpdatedAt.IsZero() {
			t.Error("timestamps not set")
		}
		got, err := store.User(ctx, "1001")
		if err != nil || got.Name != "José Müller" || got.Credentials != user("1001", "").Credentials {
			t.Errorf("User = %+v, %v", got, err)
		}
		if got.Calls != switchboard.DefaultCallSettings() {
			t.Errorf("call settings %+v, want the defaults", got.Calls)
		}
	})
	t.Run("CallSettingsRoundTrip", func(t *testing.T) {
		u := user("1050", "Forwarded")
		u.Calls = switchboard.CallSettings{DND: true, MaxDevices: 7}
		u.Calls.Forwards.Busy = switchboard.Forward{Enabled: true, Destination: "1001"}
		u.Calls.Forwards.NoAnswer = switchboard.Forward{Destination: "1002"} // kept while off
		if _, err := store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := store.User(ctx, "1050")
		if err != nil || got.Calls != u.Calls {
			t.Errorf("call settings %+v, %v; want %+v", got.Calls, err, u.Calls)
		}
		bad := user("1051", "Too many phones")
		bad.Calls.MaxDevices = 11
		if _, err := store.CreateUser(ctx, bad); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("max_devices 11: %v, want invalid", err)
		}
		if err := store.DeleteUser(ctx, "1050"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("EmailRoundTrip", func(t *testing.T) {
		u := user("1060", "Mailed")
		u.Email = "mailed@example.com"
		created, err := store.CreateUser(ctx, u)
		if err != nil || created.Email != u.Email {
			t.Fatalf("CreateUser = %+v, %v", created, err)
		}
		if got, err := store.User(ctx, "1060"); err != nil || got.Email != u.Email {
			t.Errorf("User: email %q, %v; want %q", got.Email, err, u.Email)
		}
		for _, email := range []string{"other@localhost", ""} { // changed, then removed
			updated, err := store.UpdateUser(ctx, "1060", func(u *switchboard.User) error { u.Email = email; return nil })
			got, _ := store.User(ctx, "1060")
			if err != nil || updated.Email != email || got.Email != email || got.Name != "Mailed" {
				t.Errorf("UpdateUser to %q: returned %q, stored %q, %v", email, updated.Email, got.Email, err)
			}
		}
		if page, err := store.Users(ctx, "1059", 1); err != nil || len(page.Users) != 1 || page.Users[0].Email != "" {
			t.Errorf("Users: %+v, %v", page, err)
		}
		// Defence in depth: even a caller that skipped validation cannot store an address that
		// would add a mail header, nor one longer than SMTP allows.
		for _, email := range []string{"a@b.c\r\nBcc: x@y.z", "a@b.c\nBcc: x@y.z", "a b@c.d", "a@b.c\t",
			strings.Repeat("a", 243) + "@example.com"} {
			bad := user("1061", "Injected")
			bad.Email = email
			if _, err := store.CreateUser(ctx, bad); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("create with email %q: %v, want invalid", email, err)
			}
			_, err := store.UpdateUser(ctx, "1060", func(u *switchboard.User) error { u.Email = email; return nil })
			if switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("update to email %q: %v, want invalid", email, err)
			}
		}
		if got, _ := store.User(ctx, "1060"); got.Email != "" {
			t.Errorf("a rejected update stored %q", got.Email)
		}
		if err := store.DeleteUser(ctx, "1060"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrDuplicateExtension", func(t *testing.T) {
		_, err := store.CreateUser(ctx, user("1001", "Mallory"))
		if switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Errorf("duplicate: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := store.User(ctx, "4040"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("User(4040): %v", err)
		}
		if err := store.DeleteUser(ctx, "4040"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("DeleteUser(4040): %v", err)
		}
		_, err := store.UpdateUser(ctx, "4040", func(*switchboard.User) error { return nil })
		if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("UpdateUser(4040): %v", err)
		}
	})
	t.Run("DatabaseRejectsWhatValidationWould", func(t *testing.T) {
		// Defence in depth: even a caller that skipped validation cannot store a name that
		// would break Asterisk's configuration.
		for _, name := range []string{"a\n[evil]", "a;b", `a"b`, "#include x"} {
			_, err := store.CreateUser(ctx, user("1999", name))
			if switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("name %q: %v, want invalid", name, err)
			}
		}
	})
	t.Run("Update", func(t *testing.T) {
		before, _ := store.User(ctx, "1001")
		u, err := store.UpdateUser(ctx, "1001", func(u *switchboard.User) error {
			u.Name, u.RingTimeout = "Alice", 60
			return nil
		})
		if err != nil || u.Name != "Alice" || u.RingTimeout != 60 || !u.UpdatedAt.After(before.UpdatedAt) {
			t.Errorf("UpdateUser = %+v, %v", u, err)
		}
		// An error from the change function aborts the transaction and comes back unchanged.
		_, err = store.UpdateUser(ctx, "1001", func(u *switchboard.User) error {
			u.Name = "Changed"
			return switchboard.Errorf(switchboard.EINVALID, "no")
		})
		if switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("change error: %v", err)
		}
		if u, _ := store.User(ctx, "1001"); u.Name != "Alice" {
			t.Errorf("aborted update stored %q", u.Name)
		}
	})
	t.Run("PagesInReadingOrder", func(t *testing.T) {
		for _, ext := range []string{"20", "999", "1002", "100000", "21"} {
			if _, err := store.CreateUser(ctx, user(ext, "U"+ext)); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		after := ""
		for {
			page, err := store.Users(ctx, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page.Users {
				got = append(got, u.Extension)
			}
			if page.Next == "" {
				break
			}
			after = page.Next
		}
		if want := "[20 21 999 1001 1002 100000]"; fmt.Sprint(got) != want {
			t.Errorf("pages = %v, want %s", got, want)
		}
		all, _ := store.AllUsers(ctx)
		if len(all) != 6 || all[0].Extension != "20" || all[5].Extension != "100000" {
			t.Errorf("AllUsers out of order")
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := store.DeleteUser(ctx, "1002"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.User(ctx, "1002"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("deleted user still there: %v", err)
		}
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	dsn := testbed.NewDatabase(t)
	MustOpenDB(t, dsn)
	MustOpenDB(t, dsn) // a second start applies nothing and fails nothing
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	conn.QueryRow(context.Background(), "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&n)
	if n == 0 {
		t.Error("no migration recorded")
	}
}

// While PostgreSQL is down every call fails fast with EUNAVAILABLE; when it is back the same
// pool works again and nothing committed before is lost.
func TestDatabaseOutage(t *testing.T) {
	ctx := context.Background()
	pg := testbed.StartPostgres(t)
	store := &postgres.UserStore{DB: MustOpenDB(t, pg.NewDatabase(t))}
	if _, err := store.CreateUser(ctx, user("1001", "Alice")); err != nil {
		t.Fatal(err)
	}
	pg.Stop(t)
	for _, call := range []func(context.Context) error{
		func(ctx context.Context) error { _, err := store.User(ctx, "1001"); return err },
		func(ctx context.Context) error { _, err := store.CreateUser(ctx, user("1002", "Bob")); return err },
		func(ctx context.Context) error { _, err := store.AllUsers(ctx); return err },
	} {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := call(cctx)
		cancel()
		if switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
			t.Errorf("with PostgreSQL down: %v (code %q), want unavailable", err, switchboard.ErrorCode(err))
		}
	}
	pg.Start(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		u, err := store.User(ctx, "1001")
		if err == nil {
			if u.Name != "Alice" {
				t.Errorf("after restart: %+v", u)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCallStore(t *testing.T) {
	ctx := context.Background()
	store := &postgres.CallStore{DB: MustOpenDB(t, testbed.NewDatabase(t))}
	base := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 5 {
		r := switchboard.CallChange{ID: uuid.NewString(), Caller: "1001", Callee: fmt.Sprint(1002 + i%2),
			CallerChannel: fmt.Sprint("chan-", i), StartedAt: base.Add(time.Duration(i) * time.Minute)}
		if err := store.ApplyCallChange(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	t.Run("ChangesNameTheirColumns", func(t *testing.T) {
		steps := []switchboard.CallChange{
			{ID: ids[0], CalleeChannel: "leg-0", Bridge: "sb-0", ForwardedTo: []string{"1003", "1004"}},
			{ID: ids[0], Outcome: switchboard.Answered, AnsweredAt: base.Add(time.Second), AnsweredBy: "1004"},
			// A writer with an older view repeats the start: it must not undo anything.
			{ID: ids[0], Caller: "9999", Callee: "9999", CallerChannel: "stale", StartedAt: base.Add(time.Hour), AnsweredBy: "9999"},
			{ID: ids[0], EndedAt: base.Add(time.Minute)},
			// A second end (reconciliation, late) does not move the first.
			{ID: ids[0], EndedAt: base.Add(time.Hour), Reason: switchboard.ReasonEndedUnseen},
			{ID: ids[0], AnsweredAt: base.Add(time.Hour)},
			// The first phone recorded as answering stays the one that did.
			{ID: ids[0], AnsweredBy: "1003"},
		}
		for _, ch := range steps {
			if err := store.ApplyCallChange(ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := store.Call(ctx, ids[0])
		want := switchboard.CallRecord{ID: ids[0], Caller: "1001", Callee: "1002", CallerChannel: "chan-0",
			StartedAt: base, CalleeChannel: "leg-0", Bridge: "sb-0", ForwardedTo: []string{"1003", "1004"}, Outcome: switchboard.Answered,
			AnsweredBy: "1004", Reason: switchboard.ReasonEndedUnseen, AnsweredAt: base.Add(time.Second), EndedAt: base.Add(time.Minute), Direction: switchboard.Internal}
		if !got.StartedAt.Equal(want.StartedAt) || !got.AnsweredAt.Equal(want.AnsweredAt) || !got.EndedAt.Equal(want.EndedAt) {
			t.Errorf("times %v / %v / %v, want %v / %v / %v", got.StartedAt, got.AnsweredAt, got.EndedAt,
				want.StartedAt, want.AnsweredAt, want.EndedAt)
		}
		got.StartedAt, got.AnsweredAt, got.EndedAt = want.StartedAt, want.AnsweredAt, want.EndedAt
		if !reflect.DeepEqual(got, want) {
			t.Errorf("after the changes:\n got %+v\nwant %+v", got, want)
		}
		// The same rules as the in-memory fake's: one definition (CallChange.Apply).
		var applied switchboard.CallRecord
		for _, ch := range append([]switchboard.CallChange{{ID: ids[0], Caller: "1001", Callee: "1002",
			CallerChannel: "chan-0", StartedAt: base}}, steps...) {
			applied = ch.Apply(applied)
		}
		if !reflect.DeepEqual(applied, want) {
			t.Errorf("CallChange.Apply disagrees with the store:\n got %+v\nwant %+v", applied, want)
		}
	})
	t.Run("UpdateOfNothing", func(t *testing.T) {
		err := store.ApplyCallChange(ctx, switchboard.CallChange{ID: uuid.NewString(), EndedAt: base})
		if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("change of an unknown call: %v, want not found and nothing created", err)
		}
	})
	t.Run("ByChannel", func(t *testing.T) {
		if r, err := store.CallByChannel(ctx, "chan-3"); err != nil || r.ID != ids[3] {
			t.Errorf("CallByChannel = %+v, %v", r, err)
		}
		if _, err := store.CallByChannel(ctx, "nope"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("unknown channel: %v", err)
		}
	})
	t.Run("PagesNewestFirst", func(t *testing.T) {
		var got []string
		before := ""
		for {
			page, err := store.Calls(ctx, switchboard.CallFilter{Limit: 2, Before: before})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Calls {
				got = append(got, c.ID)
			}
			if page.Next == "" {
				break
			}
			before = page.Next
		}
		want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("pages %v, want %v", got, want)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		count := func(f switchboard.CallFilter) int {
			f.Limit = 100
			page, err := store.Calls(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return len(page.Calls)
		}
		if n := count(switchboard.CallFilter{User: "1003"}); n != 2 {
			t.Errorf("user 1003: %d calls, want 2", n)
		}
		if n := count(switchboard.CallFilter{From: base.Add(2 * time.Minute), To: base.Add(4 * time.Minute)}); n != 2 {
			t.Errorf("time range: %d calls, want 2", n)
		}
		if n := count(switchboard.CallFilter{Active: true}); n != 4 {
			t.Errorf("active: %d calls, want 4", n)
		}
	})
}

// TestChangesSince: every change takes the next version; a reader that holds version v gets
// exactly what changed after it, deletions included, and a re-created user is no deletion.
func TestChangesSince(t *testing.T) {
	ctx := context.Background()
	store := &postgres.UserStore{DB: MustOpenDB(t, testbed.NewDatabase(t))}
	changes := func(v int64) switchboard.UserChanges {
		t.Helper()
		c, err := store.ChangesSince(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	exts := func(us []switchboard.User) []string {
		var out []string
		for _, u := range us {
			out = append(out, u.Extension)
		}
		return out
	}
	if c := changes(0); len(c.Users) != 0 || len(c.Deleted) != 0 || c.Version != 0 {
		t.Fatalf("empty store: %+v", c)
	}
	for _, ext := range []string{"1001", "1002", "1003"} {
		if _, err := store.CreateUser(ctx, user(ext, "U"+ext)); err != nil {
			t.Fatal(err)
		}
	}
	v1 := changes(0)
	if got := exts(v1.Users); fmt.Sprint(got) != "[1001 1002 1003]" || v1.Version < 3 {
		t.Fatalf("after three creates: %v, version %d", got, v1.Version)
	}
	if _, err := store.UpdateUser(ctx, "1002", func(u *switchboard.User) error { u.Name = "Bob"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteUser(ctx, "1003"); err != nil {
		t.Fatal(err)
	}
	v2 := changes(v1.Version)
	if got := exts(v2.Users); fmt.Sprint(got) != "[1002]" || v2.Users[0].Name != "Bob" {
		t.Errorf("changed after %d: %v", v1.Version, got)
	}
	if fmt.Sprint(v2.Deleted) != "[1003]" || v2.Version != v1.Version+2 {
		t.Errorf("deleted after %d: %v, version %d (want %d)", v1.Version, v2.Deleted, v2.Version, v1.Version+2)
	}
	// A failed change takes no version.
	if _, err := store.UpdateUser(ctx, "1001", func(*switchboard.User) error {
		return switchboard.Errorf(switchboard.EINVALID, "no")
	}); err == nil {
		t.Fatal("update should fail")
	}
	if c := changes(v2.Version); len(c.Users)+len(c.Deleted) != 0 || c.Version != v2.Version {
		t.Errorf("after a failed change: %+v", c)
	}
	if _, err := store.CreateUser(ctx, user("1003", "Again")); err != nil {
		t.Fatal(err)
	}
	v3 := changes(v2.Version)
	if fmt.Sprint(exts(v3.Users)) != "[1003]" || len(v3.Deleted) != 0 {
		t.Errorf("re-created: %+v", v3)
	}
	if all := changes(0); len(all.Deleted) != 0 || len(all.Users) != 3 {
		t.Errorf("everything: users %v, deleted %v", exts(all.Users), all.Deleted)
	}
}

// TestChangesCommitInVersionOrder: concurrent writers commit their versions in order, so a
// reader following the versions never skips a change.
func TestChangesCommitInVersionOrder(t *testing.T) {
	ctx := context.Background()
	store := &postgres.UserStore{DB: MustOpenDB(t, testbed.NewDatabase(t))}
	const writers, each = 8, 25
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				if _, err := store.CreateUser(ctx, user(fmt.Sprintf("%d%03d", w+1, i), "U")); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	seen := map[string]bool{}
	var v int64
	done := 0
	for done < writers {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
			done++
		default:
		}
		c, err := store.ChangesSince(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range c.Users {
			seen[u.Extension] = true
		}
		v = c.Version
	}
	c, err := store.ChangesSince(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range c.Users {
		seen[u.Extension] = true
	}
	if len(seen) != writers*each {
		t.Errorf("a reader following versions saw %d of %d users", len(seen), writers*each)
	}
}
