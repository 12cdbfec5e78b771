//go:build integration

package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/postgres"
	"github.com/switchboard-pbx/switchboard/testbed"
)

func room(number, name string) switchboard.Room {
	return switchboard.Room{Number: number, Name: name, PIN: "1234", ModeratorPIN: "98765",
		MaxParticipants: switchboard.DefaultRoomParticipants, AnnounceJoins: true, MusicWhenAlone: true}
}

func TestRoomStore(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, testbed.NewDatabase(t))
	store := &postgres.RoomStore{DB: db}

	t.Run("CreateAndGet", func(t *testing.T) {
		want := room("800", "Sales Weekly")
		want.AnnounceJoins, want.MaxParticipants = false, 5
		created, err := store.CreateRoom(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		if created.CreatedAt.IsZero() || created.UpdatedAt.IsZero() {
			t.Error("timestamps not set")
		}
		got, err := store.Room(ctx, "800")
		if err != nil {
			t.Fatal(err)
		}
		got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
		if got != want {
			t.Errorf("Room = %+v, want %+v", got, want)
		}
	})
	t.Run("ErrDuplicateNumber", func(t *testing.T) {
		_, err := store.CreateRoom(ctx, room("800", "Again"))
		if switchboard.ErrorCode(err) != switchboard.ECONFLICT || switchboard.ErrorMessage(err) != "number 800 is in use" {
			t.Errorf("duplicate: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := store.Room(ctx, "4040"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND ||
			switchboard.ErrorMessage(err) != "no room with number 4040" {
			t.Errorf("Room(4040): %v", err)
		}
		if err := store.DeleteRoom(ctx, "4040"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("DeleteRoom(4040): %v", err)
		}
		_, err := store.UpdateRoom(ctx, "4040", func(*switchboard.Room) error { return nil })
		if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("UpdateRoom(4040): %v", err)
		}
	})
	t.Run("DatabaseRejectsWhatValidationWould", func(t *testing.T) {
		// Defence in depth: a caller that skipped validation still cannot store a room that
		// would give call control something other than digits to compare or a plain name.
		for _, change := range []func(*switchboard.Room){
			func(r *switchboard.Room) { r.Name = "a\n[evil]" },
			func(r *switchboard.Room) { r.PIN = "12;4" },
			func(r *switchboard.Room) { r.PIN = "123" },
			func(r *switchboard.Room) { r.ModeratorPIN = "12345678901" },
			func(r *switchboard.Room) { r.ModeratorPIN = r.PIN }, // everyone would moderate
			func(r *switchboard.Room) { r.MaxParticipants = 1 },
			func(r *switchboard.Room) { r.MaxParticipants = 101 },
			func(r *switchboard.Room) { r.Number = "8" },
			func(r *switchboard.Room) { r.Number = "80a" },
		} {
			r := room("899", "Bad")
			change(&r)
			if _, err := store.CreateRoom(ctx, r); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateRoom(%+v): %v, want invalid", r, err)
			}
		}
		if _, err := store.Room(ctx, "899"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("a rejected room was stored: %v", err)
		}
	})
	t.Run("Update", func(t *testing.T) {
		before, _ := store.Room(ctx, "800")
		r, err := store.UpdateRoom(ctx, "800", func(r *switchboard.Room) error {
			r.Name, r.PIN, r.MusicWhenAlone = "Sales", "", false
			r.Number = "801" // the key: ignored
			return nil
		})
		if err != nil || r.Number != "800" || r.Name != "Sales" || r.PIN != "" || r.MusicWhenAlone ||
			!r.UpdatedAt.After(before.UpdatedAt) {
			t.Errorf("UpdateRoom = %+v, %v", r, err)
		}
		// An error from the change function aborts the transaction and comes back unchanged.
		_, err = store.UpdateRoom(ctx, "800", func(r *switchboard.Room) error {
			r.Name = "Changed"
			return switchboard.Errorf(switchboard.EINVALID, "no")
		})
		if switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("change error: %v", err)
		}
		if r, _ := store.Room(ctx, "800"); r.Name != "Sales" {
			t.Errorf("aborted update stored %q", r.Name)
		}
		if _, err := store.Room(ctx, "801"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("an update moved the room: %v", err)
		}
	})
	t.Run("InReadingOrder", func(t *testing.T) {
		for _, n := range []string{"9000", "81", "100000", "799", "80"} {
			if _, err := store.CreateRoom(ctx, room(n, "Room "+n)); err != nil {
				t.Fatal(err)
			}
		}
		rooms, err := store.Rooms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rooms {
			got = append(got, r.Number)
		}
		if want := "[80 81 799 800 9000 100000]"; fmt.Sprint(got) != want {
			t.Errorf("Rooms = %v, want %s", got, want)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := store.DeleteRoom(ctx, "9000"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Room(ctx, "9000"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("deleted room still there: %v", err)
		}
	})
}

// Users and rooms share one plan of numbers: neither can take the other's, and deleting one
// frees its number for the other.
func TestNumbersAreSharedByUsersAndRooms(t *testing.T) {
	ctx := context.Background()
	dsn := testbed.NewDatabase(t)
	db := MustOpenDB(t, dsn)
	users, rooms := &postgres.UserStore{DB: db}, &postgres.RoomStore{DB: db}
	if _, err := users.CreateUser(ctx, user("1001", "Alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := rooms.CreateRoom(ctx, room("800", "Sales")); err != nil {
		t.Fatal(err)
	}

	t.Run("ErrRoomOnAUsersNumber", func(t *testing.T) {
		_, err := rooms.CreateRoom(ctx, room("1001", "Clash"))
		if switchboard.ErrorCode(err) != switchboard.ECONFLICT || switchboard.ErrorMessage(err) != "number 1001 is in use" {
			t.Errorf("room on user 1001: %v", err)
		}
		if _, err := rooms.Room(ctx, "1001"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("the clashing room was stored: %v", err)
		}
	})
	t.Run("ErrUserOnARoomsNumber", func(t *testing.T) {
		_, err := users.CreateUser(ctx, user("800", "Clash"))
		if switchboard.ErrorCode(err) != switchboard.ECONFLICT || !strings.Contains(switchboard.ErrorMessage(err), "number 800 is in use") {
			t.Errorf("user on room 800: %v", err)
		}
		if _, err := users.User(ctx, "800"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("the clashing user was stored: %v", err)
		}
	})
	t.Run("ErrUserOnAUsersNumberSaysSo", func(t *testing.T) {
		_, err := users.CreateUser(ctx, user("1001", "Again"))
		if switchboard.ErrorCode(err) != switchboard.ECONFLICT || switchboard.ErrorMessage(err) != "extension 1001 already exists" {
			t.Errorf("duplicate user: %v", err)
		}
	})
	t.Run("DeletingAUserFreesTheNumber", func(t *testing.T) {
		if err := users.DeleteUser(ctx, "1001"); err != nil {
			t.Fatal(err)
		}
		if _, err := rooms.CreateRoom(ctx, room("1001", "Was Alice")); err != nil {
			t.Errorf("room on a deleted user's number: %v", err)
		}
	})
	t.Run("DeletingARoomFreesTheNumber", func(t *testing.T) {
		if err := rooms.DeleteRoom(ctx, "800"); err != nil {
			t.Fatal(err)
		}
		if _, err := users.CreateUser(ctx, user("800", "Was Sales")); err != nil {
			t.Errorf("user on a deleted room's number: %v", err)
		}
	})
	t.Run("NumbersCannotBeMovedBehindTheStores", func(t *testing.T) {
		// The stores never change a number; SQL that tries is refused, not half-followed.
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for _, q := range []string{`UPDATE users SET extension = '802' WHERE extension = '800'`,
			`UPDATE rooms SET number = '803' WHERE number = '1001'`} {
			if _, err := conn.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "cannot change") {
				t.Errorf("%s: %v, want refused", q, err)
			}
		}
	})
	t.Run("NumbersTableMatches", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		rows, _ := conn.Query(ctx, `SELECT number || ':' || kind FROM numbers ORDER BY number`)
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || fmt.Sprint(got) != "[1001:room 800:user]" {
			t.Errorf("numbers = %v, %v", got, err)
		}
	})
}

// Of a user and a room created at the same time on the same number, exactly one gets it.
func TestConcurrentClaimsOfANumber(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, testbed.NewDatabase(t))
	users, rooms := &postgres.UserStore{DB: db}, &postgres.RoomStore{DB: db}
	for i := range 20 {
		number := fmt.Sprint(500 + i)
		var wg sync.WaitGroup
		var userErr, roomErr error
		start := make(chan struct{})
		wg.Go(func() { <-start; _, userErr = users.CreateUser(ctx, user(number, "User")) })
		wg.Go(func() { <-start; _, roomErr = rooms.CreateRoom(ctx, room(number, "Room")) })
		close(start)
		wg.Wait()
		switch {
		case userErr == nil && roomErr == nil:
			t.Fatalf("number %s: both a user and a room got it", number)
		case userErr != nil && roomErr != nil:
			t.Fatalf("number %s: neither got it: %v; %v", number, userErr, roomErr)
		}
		for _, err := range []error{userErr, roomErr} {
			if err != nil && switchboard.ErrorCode(err) != switchboard.ECONFLICT {
				t.Errorf("number %s: the loser got %v, want conflict", number, err)
			}
		}
	}
}
