package provisioning_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

const (
	alice = "0b0e7d4e-3c1f-4a55-9d6e-6a1f5c0b2e11"
	bob   = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
)

func newRoomService() (*provisioning.RoomService, *inmem.UserStore, *inmem.RoomControl) {
	users := inmem.NewUserStore()
	live := inmem.NewRoomControl()
	return &provisioning.RoomService{Store: inmem.NewRoomStore(users), Live: live}, users, live
}

func TestCreateRoom(t *testing.T) {
	ctx := context.Background()
	t.Run("Defaults", func(t *testing.T) {
		svc, _, _ := newRoomService()
		r, err := svc.CreateRoom(ctx, provisioning.NewRoom{Number: "800", Name: "Sales"})
		if err != nil {
			t.Fatal(err)
		}
		want := switchboard.Room{Number: "800", Name: "Sales", MaxParticipants: switchboard.DefaultRoomParticipants,
			AnnounceJoins: true, MusicWhenAlone: true, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
		if r != want || r.CreatedAt.IsZero() {
			t.Errorf("created %+v, want %+v", r, want)
		}
	})
	t.Run("Chosen", func(t *testing.T) {
		svc, _, _ := newRoomService()
		off := false
		r, err := svc.CreateRoom(ctx, provisioning.NewRoom{Number: "801", Name: "Board", PIN: "1234",
			ModeratorPIN: "4321", MaxParticipants: 5, AnnounceJoins: &off, MusicWhenAlone: &off})
		if err != nil || r.PIN != "1234" || r.ModeratorPIN != "4321" || r.MaxParticipants != 5 || r.AnnounceJoins || r.MusicWhenAlone {
			t.Errorf("created %+v, %v", r, err)
		}
	})
	t.Run("ErrNumberOfAUser", func(t *testing.T) {
		svc, users, _ := newRoomService()
		users.CreateUser(ctx, switchboard.User{Extension: "1001", Name: "Alice"})
		if _, err := svc.CreateRoom(ctx, provisioning.NewRoom{Number: "1001", Name: "Clash"}); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Errorf("room on a user's number: %v", err)
		}
		svc.CreateRoom(ctx, provisioning.NewRoom{Number: "800", Name: "Sales"})
		if _, err := users.CreateUser(ctx, switchboard.User{Extension: "800", Name: "Bob"}); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Errorf("user on a room's number: %v", err)
		}
	})
	t.Run("ErrInvalidChangesNothing", func(t *testing.T) {
		svc, _, _ := newRoomService()
		for _, nr := range []provisioning.NewRoom{
			{Number: "8", Name: "Sales"},
			{Number: "800", Name: "Sales\n[evil]"},
			{Number: "800", Name: "Sales", PIN: "12;4"},
			{Number: "800", Name: "Sales", ModeratorPIN: "123"},
			{Number: "800", Name: "Sales", PIN: "1234", ModeratorPIN: "1234"},
			{Number: "800", Name: "Sales", MaxParticipants: 1},
			{Number: "800", Name: "Sales", MaxParticipants: 101},
		} {
			if _, err := svc.CreateRoom(ctx, nr); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateRoom(%+v) = %v, want invalid", nr, err)
			}
		}
		if all, _ := svc.Rooms(ctx); len(all) != 0 {
			t.Errorf("%d rooms stored after rejected input", len(all))
		}
	})
}

func TestUpdateRoom(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newRoomService()
	svc.CreateRoom(ctx, provisioning.NewRoom{Number: "800", Name: "Sales", PIN: "1234"})
	t.Run("OK", func(t *testing.T) {
		name, pin, max, off := "Sales Weekly", "", 8, false
		r, err := svc.UpdateRoom(ctx, "800", provisioning.RoomPatch{Name: &name, PIN: &pin, MaxParticipants: &max, MusicWhenAlone: &off})
		if err != nil || r.Name != name || r.PIN != "" || r.MaxParticipants != 8 || r.MusicWhenAlone || !r.AnnounceJoins {
			t.Errorf("UpdateRoom = %+v, %v", r, err)
		}
	})
	t.Run("ErrInvalidKeepsRoom", func(t *testing.T) {
		pin := "5555"
		svc.UpdateRoom(ctx, "800", provisioning.RoomPatch{PIN: &pin})
		// The moderator PIN may not become the PIN the room has already.
		if _, err := svc.UpdateRoom(ctx, "800", provisioning.RoomPatch{ModeratorPIN: &pin}); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("moderator PIN equal to the PIN: %v", err)
		}
		max := 0
		if _, err := svc.UpdateRoom(ctx, "800", provisioning.RoomPatch{MaxParticipants: &max}); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("max participants 0: %v", err)
		}
		if r, _ := svc.Room(ctx, "800"); r.ModeratorPIN != "" || r.MaxParticipants != 8 {
			t.Errorf("rejected changes were stored: %+v", r)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		name := "X"
		if _, err := svc.UpdateRoom(ctx, "4040", provisioning.RoomPatch{Name: &name}); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("got %v", err)
		}
		if err := svc.DeleteRoom(ctx, "4040"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("delete: %v", err)
		}
	})
	t.Run("ErrInvalidNumber", func(t *testing.T) {
		if _, err := svc.Room(ctx, "80a"); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("Room(80a): %v", err)
		}
	})
}

func TestRoomsLive(t *testing.T) {
	ctx := context.Background()
	svc, _, live := newRoomService()
	svc.CreateRoom(ctx, provisioning.NewRoom{Number: "800", Name: "Sales"})
	joined := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	live.Join("800", switchboard.Participant{ID: alice, Caller: "1001", Channel: "PJSIP/1001-1", JoinedAt: joined, Moderator: true})
	live.Join("800", switchboard.Participant{ID: bob, Caller: "1002", Channel: "PJSIP/1002-1", JoinedAt: joined.Add(time.Minute)})

	t.Run("MuteLockKick", func(t *testing.T) {
		if err := svc.MuteParticipant(ctx, "800", bob, true); err != nil {
			t.Fatal(err)
		}
		if err := svc.LockRoom(ctx, "800", true); err != nil {
			t.Fatal(err)
		}
		st, err := svc.RoomState(ctx, "800")
		if err != nil || !st.Locked || len(st.Participants) != 2 || !st.Participants[1].Muted || st.Participants[0].Muted {
			t.Fatalf("state %+v, %v", st, err)
		}
		if err := svc.KickParticipant(ctx, "800", bob); err != nil {
			t.Fatal(err)
		}
		if st, _ := svc.RoomState(ctx, "800"); len(st.Participants) != 1 || st.Participants[0].ID != alice {
			t.Errorf("after the kick: %+v", st)
		}
	})
	t.Run("ErrUnknownRoomIsNotAskedAbout", func(t *testing.T) {
		// Call control would answer for any number (an empty room); the store says what exists.
		if _, err := svc.RoomState(ctx, "801"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("state of a room that does not exist: %v", err)
		}
		if err := svc.LockRoom(ctx, "801", true); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("lock of a room that does not exist: %v", err)
		}
	})
	t.Run("ErrParticipant", func(t *testing.T) {
		if err := svc.MuteParticipant(ctx, "800", bob, true); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("mute of someone who left: %v", err)
		}
		if err := svc.KickParticipant(ctx, "800", "PJSIP/1001-1"); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("kick by channel name: %v", err)
		}
	})
	t.Run("ErrCallControlDown", func(t *testing.T) {
		live.SetDown(true)
		defer live.SetDown(false)
		if _, err := svc.RoomState(ctx, "800"); switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
			t.Errorf("state with call control down: %v", err)
		}
	})
	t.Run("ErrCallControlNotRunning", func(t *testing.T) {
		idle := &provisioning.RoomService{Store: svc.Store}
		for name, err := range map[string]error{
			"RoomState": func() error { _, err := idle.RoomState(ctx, "800"); return err }(),
			"Mute":      idle.MuteParticipant(ctx, "800", alice, true),
			"Kick":      idle.KickParticipant(ctx, "800", alice),
			"Lock":      idle.LockRoom(ctx, "800", true),
		} {
			if switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE || switchboard.ErrorMessage(err) != "call control is not running" {
				t.Errorf("%s without call control: %v", name, err)
			}
		}
		// The rooms themselves are still managed.
		if _, err := idle.Room(ctx, "800"); err != nil {
			t.Errorf("Room without call control: %v", err)
		}
	})
	t.Run("DeleteLeavesTheCallsAlone", func(t *testing.T) {
		if err := svc.DeleteRoom(ctx, "800"); err != nil {
			t.Fatal(err)
		}
		if st, _ := live.RoomState(ctx, "800"); len(st.Participants) != 1 {
			t.Errorf("deleting the room cut its participants: %+v", st)
		}
		if _, err := svc.Room(ctx, "800"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("after delete: %v", err)
		}
	})
}
