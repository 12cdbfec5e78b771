package provisioning

import (
	"context"
	"fmt"

	"github.com/switchboard-pbx/switchboard"
)

// NewRoom is what an admin submits to create a conference room. Zero values mean "use the
// default": no PINs, DefaultRoomParticipants, join tones and music when alone on.
type NewRoom struct {
	Number          string
	Name            string
	PIN             string
	ModeratorPIN    string
	MaxParticipants int   // 0: switchboard.DefaultRoomParticipants
	AnnounceJoins   *bool // nil: true
	MusicWhenAlone  *bool // nil: true
}

// RoomPatch changes some fields of a room; nil fields are left alone. An empty PIN removes it.
type RoomPatch struct {
	Name            *string
	PIN             *string
	ModeratorPIN    *string
	MaxParticipants *int
	AnnounceJoins   *bool
	MusicWhenAlone  *bool
}

// RoomService is what admins do with conference rooms: the rooms themselves, validated here
// and kept in the store, and what goes on in them now, which call control (Live) knows. Rooms
// need no configuration in Asterisk (call control mixes each in a bridge of its own), so a
// change applies to whoever joins next, without a configuration pass.
type RoomService struct {
	Store switchboard.RoomStore
	// Live is call control; nil while it is not running, and then what goes on in rooms is
	// EUNAVAILABLE while the rooms themselves can still be managed.
	Live switchboard.RoomControl
}

var _ switchboard.RoomDirectory = (*RoomService)(nil)

// CreateRoom validates and stores a new room; ECONFLICT when a user, a room, a ring group or a
// call queue has its number.
func (s *RoomService) CreateRoom(ctx context.Context, nr NewRoom) (switchboard.Room, error) {
	r := switchboard.Room{Number: nr.Number, Name: nr.Name, PIN: nr.PIN, ModeratorPIN: nr.ModeratorPIN,
		MaxParticipants: nr.MaxParticipants, AnnounceJoins: true, MusicWhenAlone: true}
	if r.MaxParticipants == 0 {
		r.MaxParticipants = switchboard.DefaultRoomParticipants
	}
	if nr.AnnounceJoins != nil {
		r.AnnounceJoins = *nr.AnnounceJoins
	}
	if nr.MusicWhenAlone != nil {
		r.MusicWhenAlone = *nr.MusicWhenAlone
	}
	if err := ValidateRoom(&r); err != nil {
		return switchboard.Room{}, err
	}
	created, err := s.Store.CreateRoom(ctx, r)
	if err != nil {
		return switchboard.Room{}, fmt.Errorf("create room %s: %w", nr.Number, err)
	}
	return created, nil
}

// Room returns one room.
func (s *RoomService) Room(ctx context.Context, number string) (switchboard.Room, error) {
	if err := ValidateRoomNumber(number); err != nil {
		return switchboard.Room{}, err
	}
	return s.Store.Room(ctx, number)
}

// Rooms returns every room, shorter numbers first.
func (s *RoomService) Rooms(ctx context.Context) ([]switchboard.Room, error) {
	return s.Store.Rooms(ctx)
}

// UpdateRoom changes the given fields of a room. Callers in the room stay: call control reads
// the room again for whoever joins next.
func (s *RoomService) UpdateRoom(ctx context.Context, number string, p RoomPatch) (switchboard.Room, error) {
	if err := ValidateRoomNumber(number); err != nil {
		return switchboard.Room{}, err
	}
	r, err := s.Store.UpdateRoom(ctx, number, func(r *switchboard.Room) error {
		if p.Name != nil {
			r.Name = *p.Name
		}
		if p.PIN != nil {
			r.PIN = *p.PIN
		}
		if p.ModeratorPIN != nil {
			r.ModeratorPIN = *p.ModeratorPIN
		}
		if p.MaxParticipants != nil {
			r.MaxParticipants = *p.MaxParticipants
		}
		if p.AnnounceJoins != nil {
			r.AnnounceJoins = *p.AnnounceJoins
		}
		if p.MusicWhenAlone != nil {
			r.MusicWhenAlone = *p.MusicWhenAlone
		}
		return ValidateRoom(r)
	})
	if err != nil {
		return switchboard.Room{}, fmt.Errorf("update room %s: %w", number, err)
	}
	return r, nil
}

// DeleteRoom removes a room and frees its number. Whoever is in it is not cut off: call
// control keeps their conference going until they leave, as Asterisk keeps calls going without
// the control plane; nobody new can join.
func (s *RoomService) DeleteRoom(ctx context.Context, number string) error {
	if err := ValidateRoomNumber(number); err != nil {
		return err
	}
	if err := s.Store.DeleteRoom(ctx, number); err != nil {
		return fmt.Errorf("delete room %s: %w", number, err)
	}
	return nil
}

// RoomState returns who is in a room now and whether it is locked.
func (s *RoomService) RoomState(ctx context.Context, number string) (switchboard.RoomState, error) {
	if err := s.liveRoom(ctx, number); err != nil {
		return switchboard.RoomState{}, err
	}
	st, err := s.Live.RoomState(ctx, number)
	if err != nil {
		return switchboard.RoomState{}, fmt.Errorf("state of room %s: %w", number, err)
	}
	return st, nil
}

// MuteParticipant stops (muted) or lets through again what a participant says to the room.
func (s *RoomService) MuteParticipant(ctx context.Context, number, id string, muted bool) error {
	if err := s.liveParticipant(ctx, number, id); err != nil {
		return err
	}
	if err := s.Live.MuteParticipant(ctx, number, id, muted); err != nil {
		return fmt.Errorf("mute %s in room %s: %w", id, number, err)
	}
	return nil
}

// KickParticipant hangs up a participant's call.
func (s *RoomService) KickParticipant(ctx context.Context, number, id string) error {
	if err := s.liveParticipant(ctx, number, id); err != nil {
		return err
	}
	if err := s.Live.KickParticipant(ctx, number, id); err != nil {
		return fmt.Errorf("remove %s from room %s: %w", id, number, err)
	}
	return nil
}

// LockRoom keeps newcomers out of a room (locked) or lets them in again.
func (s *RoomService) LockRoom(ctx context.Context, number string, locked bool) error {
	if err := s.liveRoom(ctx, number); err != nil {
		return err
	}
	if err := s.Live.LockRoom(ctx, number, locked); err != nil {
		return fmt.Errorf("lock room %s: %w", number, err)
	}
	return nil
}

// liveRoom checks, before call control is asked about a room, that the room exists (ENOTFOUND
// otherwise: call control knows only rooms someone is in) and that call control is running.
func (s *RoomService) liveRoom(ctx context.Context, number string) error {
	if _, err := s.Room(ctx, number); err != nil {
		return err
	}
	if s.Live == nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "call control is not running")
	}
	return nil
}

func (s *RoomService) liveParticipant(ctx context.Context, number, id string) error {
	if err := ValidateRoomNumber(number); err != nil {
		return err
	}
	if err := ValidateParticipantID(id); err != nil {
		return err
	}
	return s.liveRoom(ctx, number)
}
