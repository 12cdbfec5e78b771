//go:build integration

package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/postgres"
	"github.com/switchboard-pbx/switchboard/testbed"
)

func group(number, name string, members ...string) switchboard.Group {
	return switchboard.Group{Number: number, Name: name, Members: members, Strategy: switchboard.RingAll,
		RingSeconds: switchboard.DefaultGroupRingSeconds, Timeout: switchboard.DefaultGroupTimeout,
		NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationHangup}}
}

// mustCreateUsers creates users with the given extensions.
func mustCreateUsers(tb testing.TB, users *postgres.UserStore, exts ...string) {
	tb.Helper()
	for _, ext := range exts {
		if _, err := users.CreateUser(context.Background(), user(ext, "User "+ext)); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestGroupStore(t *testing.T) {
	ctx := context.Background()
	dsn := testbed.NewDatabase(t)
	db := MustOpenDB(t, dsn)
	users, store := &postgres.UserStore{DB: db}, &postgres.GroupStore{DB: db}
	mustCreateUsers(t, users, "1001", "1002", "1003")

	t.Run("CreateAndGet", func(t *testing.T) {
		want := group("600", "Support", "1003", "1001", "1002") // hunting order, not number order
		want.Strategy, want.RingSeconds, want.Timeout = switchboard.Hunt, 10, 45
		want.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "1001"}
		created, err := store.CreateGroup(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		if created.CreatedAt.IsZero() || created.UpdatedAt.IsZero() {
			t.Error("timestamps not set")
		}
		got, err := store.Group(ctx, "600")
		if err != nil {
			t.Fatal(err)
		}
		got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Group = %+v, want %+v", got, want)
		}
	})
	t.Run("ErrDuplicateNumber", func(t *testing.T) {
		_, err := store.CreateGroup(ctx, group("600", "Again", "1001"))
		if switchboard.ErrorCode(err) != switchboard.ECONFLICT || switchboard.ErrorMessage(err) != "number 600 is in use" {
			t.Errorf("duplicate: %v", err)
		}
	})
	t.Run("ErrMemberNotAUser", func(t *testing.T) {
		_, err := store.CreateGroup(ctx, group("601", "Ghosts", "1001", "1234", "1002"))
		if switchboard.ErrorCode(err) != switchboard.EINVALID || switchboard.ErrorMessage(err) != "member 1234 is not a user" {
			t.Errorf("member who is not a user: %v", err)
		}
		// Nothing of the group is left, not even its claim of the number.
		if _, err := store.Group(ctx, "601"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("the group was stored: %v", err)
		}
		if _, err := users.CreateUser(ctx, user("601", "Takes the number")); err != nil {
			t.Errorf("the refused group kept its number: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := store.Group(ctx, "4040"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND ||
			switchboard.ErrorMessage(err) != "no group with number 4040" {
			t.Errorf("Group(4040): %v", err)
		}
		if err := store.DeleteGroup(ctx, "4040"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("DeleteGroup(4040): %v", err)
		}
		_, err := store.UpdateGroup(ctx, "4040", func(*switchboard.Group) error { return nil })
		if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("UpdateGroup(4040): %v", err)
		}
	})
	t.Run("DatabaseRejectsWhatValidationWould", func(t *testing.T) {
		// Defence in depth: a caller that skipped validation still cannot store a group that
		// would give call control something other than digits to dial or a plain name.
		for _, change := range []func(*switchboard.Group){
			func(g *switchboard.Group) { g.Name = "a\n[evil]" },
			func(g *switchboard.Group) { g.Number = "6" },
			func(g *switchboard.Group) { g.Number = "69a" },
			func(g *switchboard.Group) { g.Strategy = "random" },
			func(g *switchboard.Group) { g.RingSeconds = 4 },
			func(g *switchboard.Group) { g.RingSeconds = 121 },
			func(g *switchboard.Group) { g.Timeout = 4 },
			func(g *switchboard.Group) { g.Timeout = 601 },
			func(g *switchboard.Group) { g.NoAnswer.Kind = "queue" },
			func(g *switchboard.Group) { g.NoAnswer.Number = "1001" }, // hanging up goes nowhere
			func(g *switchboard.Group) {
				g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail}
			},
			func(g *switchboard.Group) {
				g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "*97"}
			},
			func(g *switchboard.Group) { // its calls would come back to it forever
				g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: g.Number}
			},
			func(g *switchboard.Group) { // its own mailbox, which it does not have on
				g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: g.Number}
				g.Mailbox = switchboard.Mailbox{PIN: "1234"}
			},
			func(g *switchboard.Group) { // dialling itself is refused even with a mailbox of its own
				g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: g.Number}
				g.Mailbox = switchboard.Mailbox{Enabled: true, PIN: "1234"}
			},
			func(g *switchboard.Group) { g.Mailbox = switchboard.Mailbox{Enabled: true} }, // on without a PIN
			func(g *switchboard.Group) { g.Mailbox = switchboard.Mailbox{Enabled: true, PIN: "12a4"} },
			func(g *switchboard.Group) { g.Mailbox = switchboard.Mailbox{Enabled: true, PIN: "1234\n[x]"} },
			func(g *switchboard.Group) { g.Mailbox = switchboard.Mailbox{Enabled: true, PIN: "123"} },
			func(g *switchboard.Group) { g.Mailbox = switchboard.Mailbox{PIN: "01234567890"} }, // off, but no PIN either
		} {
			g := group("699", "Bad", "1001")
			change(&g)
			if _, err := store.CreateGroup(ctx, g); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateGroup(%+v): %v, want invalid", g, err)
			}
		}
		if all, _ := store.Groups(ctx); len(all) != 1 {
			t.Errorf("a rejected group was stored: %+v", all)
		}
	})
	t.Run("Update", func(t *testing.T) {
		before, _ := store.Group(ctx, "600")
		g, err := store.UpdateGroup(ctx, "600", func(g *switchboard.Group) error {
			g.Name, g.Strategy, g.Members = "Helpdesk", switchboard.RingAll, []string{"1002", "1003"}
			g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "1001"}
			g.Number = "602" // the key: ignored
			return nil
		})
		if err != nil || g.Number != "600" || g.Name != "Helpdesk" || g.Strategy != switchboard.RingAll ||
			fmt.Sprint(g.Members) != "[1002 1003]" || g.NoAnswer.Number != "1001" || !g.UpdatedAt.After(before.UpdatedAt) {
			t.Errorf("UpdateGroup = %+v, %v", g, err)
		}
		// An error from the change function aborts the transaction and comes back unchanged.
		_, err = store.UpdateGroup(ctx, "600", func(g *switchboard.Group) error {
			g.Name = "Changed"
			return switchboard.Errorf(switchboard.EINVALID, "no")
		})
		if switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("change error: %v", err)
		}
		// So does a member who is not a user, with everything else the change made.
		_, err = store.UpdateGroup(ctx, "600", func(g *switchboard.Group) error {
			g.Name, g.Members = "Changed", []string{"1001", "1999"}
			return nil
		})
		if switchboard.ErrorCode(err) != switchboard.EINVALID || switchboard.ErrorMessage(err) != "member 1999 is not a user" {
			t.Errorf("update with a member who is not a user: %v", err)
		}
		if g, _ := store.Group(ctx, "600"); g.Name != "Helpdesk" || fmt.Sprint(g.Members) != "[1002 1003]" {
			t.Errorf("aborted updates stored %+v", g)
		}
		if _, err := store.Group(ctx, "602"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("an update moved the group: %v", err)
		}
	})
	t.Run("InReadingOrder", func(t *testing.T) {
		for _, n := range []string{"9000", "61", "100000", "599", "60"} {
			if _, err := store.CreateGroup(ctx, group(n, "Group "+n, "1001")); err != nil {
				t.Fatal(err)
			}
		}
		groups, err := store.Groups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range groups {
			got = append(got, g.Number+":"+strings.Join(g.Members, ","))
		}
		if want := "[60:1001 61:1001 599:1001 600:1002,1003 9000:1001 100000:1001]"; fmt.Sprint(got) != want {
			t.Errorf("Groups = %v, want %s", got, want)
		}
	})
	t.Run("DeletingAUserDropsThemFromEveryGroup", func(t *testing.T) {
		store.UpdateGroup(ctx, "600", func(g *switchboard.Group) error {
			g.Members = []string{"1003", "1002", "1001"}
			return nil
		})
		if err := users.DeleteUser(ctx, "1002"); err != nil {
			t.Fatal(err)
		}
		if g, _ := store.Group(ctx, "600"); fmt.Sprint(g.Members) != "[1003 1001]" {
			t.Errorf("members after the user was deleted: %v", g.Members)
		}
		if err := users.DeleteUser(ctx, "1001"); err != nil {
			t.Fatal(err)
		}
		// A group whose only member went is still there, with nobody to ring.
		if g, err := store.Group(ctx, "60"); err != nil || len(g.Members) != 0 {
			t.Errorf("group of a deleted user: %+v, %v", g, err)
		}
		// A re-created user is a new user: they are in no group until one is given them.
		mustCreateUsers(t, users, "1001")
		if g, _ := store.Group(ctx, "60"); len(g.Members) != 0 {
			t.Errorf("a re-created user came back into a group: %v", g.Members)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := store.DeleteGroup(ctx, "600"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Group(ctx, "600"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("deleted group still there: %v", err)
		}
		// Its members went with it, and its number is free.
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM group_members WHERE group_number = '600'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d members of a deleted group left, %v", n, err)
		}
		if _, err := users.CreateUser(ctx, user("600", "Was Helpdesk")); err != nil {
			t.Errorf("user on a deleted group's number: %v", err)
		}
	})
}

// A group's own mailbox is stored with it and read back as written; the database refuses a PIN
// that is not 4 to 10 digits, on or off, as the validation does.
func TestGroupMailboxStore(t *testing.T) {
	ctx := context.Background()
	dsn := testbed.NewDatabase(t)
	db := MustOpenDB(t, dsn)
	users, store := &postgres.UserStore{DB: db}, &postgres.GroupStore{DB: db}
	mustCreateUsers(t, users, "1001")

	t.Run("RoundTrip", func(t *testing.T) {
		want := group("600", "Support", "1001")
		want.Mailbox = switchboard.Mailbox{Enabled: true, PIN: "004711"}
		want.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "600"}
		if _, err := store.CreateGroup(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := store.Group(ctx, "600")
		if err != nil {
			t.Fatal(err)
		}
		got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Group = %+v, want %+v", got, want)
		}
		if all, _ := store.Groups(ctx); len(all) != 1 || all[0].Mailbox != want.Mailbox {
			t.Errorf("Groups = %+v", all)
		}
	})
	t.Run("UpdateKeepsPINWhenOff", func(t *testing.T) {
		g, err := store.UpdateGroup(ctx, "600", func(g *switchboard.Group) error {
			g.Mailbox.Enabled = false
			g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationHangup}
			return nil
		})
		if err != nil || g.Mailbox != (switchboard.Mailbox{PIN: "004711"}) {
			t.Errorf("UpdateGroup = %+v, %v", g.Mailbox, err)
		}
		g, err = store.UpdateGroup(ctx, "600", func(g *switchboard.Group) error {
			g.Mailbox = switchboard.Mailbox{Enabled: true, PIN: "0123456789"}
			return nil
		})
		if got, _ := store.Group(ctx, "600"); err != nil || got.Mailbox != (switchboard.Mailbox{Enabled: true, PIN: "0123456789"}) {
			t.Errorf("after turning it on again: %+v, %v", got.Mailbox, err)
		}
	})
	t.Run("ErrDatabaseRefusesBadPIN", func(t *testing.T) {
		for _, pin := range []string{"12a4", "123", "01234567890", "1234\n", "١٢٣٤"} {
			_, err := store.UpdateGroup(ctx, "600", func(g *switchboard.Group) error {
				g.Mailbox.PIN = pin
				return nil
			})
			if switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("PIN %q: %v, want invalid", pin, err)
			}
		}
		// Behind the store, too.
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for _, stmt := range []string{
			`UPDATE groups SET voicemail_pin = 'abcd' WHERE number = '600'`,
			`UPDATE groups SET voicemail_pin = '' WHERE number = '600'`, // on without a PIN
		} {
			if _, err := conn.Exec(ctx, stmt); err == nil {
				t.Errorf("%s: done, want refused", stmt)
			}
		}
		if g, _ := store.Group(ctx, "600"); g.Mailbox.PIN != "0123456789" {
			t.Errorf("a refused PIN was stored: %+v", g.Mailbox)
		}
	})
	t.Run("ErrTurnedOffWhileCallsGoThere", func(t *testing.T) {
		store.UpdateGroup(ctx, "600", func(g *switchboard.Group) error {
			g.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "600"}
			return nil
		})
		_, err := store.UpdateGroup(ctx, "600", func(g *switchboard.Group) error {
			g.Mailbox.Enabled = false
			return nil
		})
		if switchboard.ErrorCode(err) != switchboard.EINVALID || !strings.Contains(switchboard.ErrorMessage(err), "groups_no_answer_not_self") {
			t.Errorf("mailbox off while no_answer goes to it: %v", err)
		}
	})
}

// Groups share the plan of numbers with users and rooms: none can take another's, the
// conflict says so, and deleting a group frees its number.
func TestNumbersAreSharedWithGroups(t *testing.T) {
	ctx := context.Background()
	dsn := testbed.NewDatabase(t)
	db := MustOpenDB(t, dsn)
	users, rooms, groups := &postgres.UserStore{DB: db}, &postgres.RoomStore{DB: db}, &postgres.GroupStore{DB: db}
	mustCreateUsers(t, users, "1001")
	if _, err := rooms.CreateRoom(ctx, room("800", "Sales")); err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateGroup(ctx, group("600", "Support", "1001")); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name   string
		create func() error
		msg    string
	}{
		{"ErrGroupOnAUsersNumber", func() error { _, err := groups.CreateGroup(ctx, group("1001", "Clash", "1001")); return err },
			"number 1001 is in use"},
		{"ErrGroupOnARoomsNumber", func() error { _, err := groups.CreateGroup(ctx, group("800", "Clash", "1001")); return err },
			"number 800 is in use"},
		{"ErrUserOnAGroupsNumber", func() error { _, err := users.CreateUser(ctx, user("600", "Clash")); return err },
			"number 600 is in use by a ring group"},
		{"ErrUserOnARoomsNumber", func() error { _, err := users.CreateUser(ctx, user("800", "Clash")); return err },
			"number 800 is in use by a conference room"},
		{"ErrRoomOnAGroupsNumber", func() error { _, err := rooms.CreateRoom(ctx, room("600", "Clash")); return err },
			"number 600 is in use"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.create(); switchboard.ErrorCode(err) != switchboard.ECONFLICT || switchboard.ErrorMessage(err) != tt.msg {
				t.Errorf("got %v, want conflict %q", err, tt.msg)
			}
		})
	}
	t.Run("NothingClashingWasStored", func(t *testing.T) {
		if g, _ := groups.Groups(ctx); len(g) != 1 {
			t.Errorf("groups %+v", g)
		}
		if r, _ := rooms.Room(ctx, "800"); r.Name != "Sales" {
			t.Errorf("room 800: %+v", r)
		}
		if _, err := users.User(ctx, "600"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("the clashing user was stored: %v", err)
		}
	})
	t.Run("NumbersCannotBeMovedBehindTheStores", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		// The members' foreign key refuses it first; without members, the numbers trigger.
		if _, err := conn.Exec(ctx, `UPDATE groups SET number = '602' WHERE number = '600'`); err == nil {
			t.Error("moving a group with members: done, want refused")
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.Exec(ctx, `DELETE FROM group_members WHERE group_number = '600'`)
		if _, err := tx.Exec(ctx, `UPDATE groups SET number = '602' WHERE number = '600'`); err == nil ||
			!strings.Contains(err.Error(), "cannot change") {
			t.Errorf("moving a group: %v, want refused", err)
		}
		tx.Rollback(ctx)
		rows, _ := conn.Query(ctx, `SELECT number || ':' || kind FROM numbers ORDER BY number`)
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || fmt.Sprint(got) != "[1001:user 600:group 800:room]" {
			t.Errorf("numbers = %v, %v", got, err)
		}
	})
	t.Run("DeletingAGroupFreesTheNumber", func(t *testing.T) {
		if err := groups.DeleteGroup(ctx, "600"); err != nil {
			t.Fatal(err)
		}
		if _, err := rooms.CreateRoom(ctx, room("600", "Was Support")); err != nil {
			t.Errorf("room on a deleted group's number: %v", err)
		}
	})
}

// Of a user and a group created at the same time on the same number, exactly one gets it.
func TestConcurrentClaimsOfAGroupsNumber(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, testbed.NewDatabase(t))
	users, groups := &postgres.UserStore{DB: db}, &postgres.GroupStore{DB: db}
	mustCreateUsers(t, users, "1001")
	for i := range 20 {
		number := fmt.Sprint(500 + i)
		var wg sync.WaitGroup
		var userErr, groupErr error
		start := make(chan struct{})
		wg.Go(func() { <-start; _, userErr = users.CreateUser(ctx, user(number, "User")) })
		wg.Go(func() { <-start; _, groupErr = groups.CreateGroup(ctx, group(number, "Group", "1001")) })
		close(start)
		wg.Wait()
		if (userErr == nil) == (groupErr == nil) {
			t.Fatalf("number %s: user %v, group %v; want exactly one to get it", number, userErr, groupErr)
		}
		for _, err := range []error{userErr, groupErr} {
			if err != nil && switchboard.ErrorCode(err) != switchboard.ECONFLICT {
				t.Errorf("number %s: the loser got %v, want conflict", number, err)
			}
		}
	}
}
