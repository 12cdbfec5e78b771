package inmem

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// RoomStore keeps conference rooms in a map, in the plan of numbers of a UserStore: a room
// cannot take a user's extension (or a group's or a queue's number) nor a user a room's
// number, as in PostgreSQL. It shares the user store's lock (so that a claim of a number is one
// step) and its SetDown.
type RoomStore struct {
	users *UserStore
	rooms map[string]switchboard.Room
}

var _ switchboard.RoomStore = (*RoomStore)(nil)

// NewRoomStore returns an empty room store sharing its numbers with users; with users nil it
// shares them with an empty user store of its own.
func NewRoomStore(users *UserStore) *RoomStore {
	if users == nil {
		users = NewUserStore()
	}
	s := &RoomStore{users: users, rooms: map[string]switchboard.Room{}}
	users.mu.Lock()
	users.rooms = s
	users.mu.Unlock()
	return s
}

// numbers returns the rooms by number; nil for a user store without rooms. The caller holds
// the user store's lock.
func (s *RoomStore) numbers() map[string]switchboard.Room {
	if s == nil {
		return nil
	}
	return s.rooms
}

// CreateRoom stores a new room.
func (s *RoomStore) CreateRoom(_ context.Context, r switchboard.Room) (switchboard.Room, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return switchboard.Room{}, err
	}
	if s.users.numberHolder(r.Number) != "" {
		return switchboard.Room{}, switchboard.Errorf(switchboard.ECONFLICT, "number %s is in use", r.Number)
	}
	r.CreatedAt = time.Now().UTC()
	r.UpdatedAt = r.CreatedAt
	s.rooms[r.Number] = r
	return r, nil
}

// Room returns one room.
func (s *RoomStore) Room(_ context.Context, number string) (switchboard.Room, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return switchboard.Room{}, err
	}
	r, err := lookupNumber(s.rooms, "room", number)
	if err != nil {
		return switchboard.Room{}, err
	}
	return r, nil
}

// Rooms returns every room, shorter numbers first.
func (s *RoomStore) Rooms(context.Context) ([]switchboard.Room, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return nil, err
	}
	return inNumberOrder(s.rooms), nil
}

// UpdateRoom applies change atomically; a change of the number is ignored, as in PostgreSQL.
func (s *RoomStore) UpdateRoom(_ context.Context, number string, change func(*switchboard.Room) error) (switchboard.Room, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return switchboard.Room{}, err
	}
	r, err := lookupNumber(s.rooms, "room", number)
	if err != nil {
		return switchboard.Room{}, err
	}
	if err := change(&r); err != nil {
		return switchboard.Room{}, err
	}
	r.Number = number
	r.UpdatedAt = time.Now().UTC()
	s.rooms[number] = r
	return r, nil
}

// DeleteRoom removes a room.
func (s *RoomStore) DeleteRoom(_ context.Context, number string) error {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return err
	}
	if _, err := lookupNumber(s.rooms, "room", number); err != nil {
		return err
	}
	delete(s.rooms, number)
	return nil
}

// RoomControl stands in for call control: tests put participants in rooms with Join, and the
// admin's actions change them as call control would. A room nobody is in has an empty state.
type RoomControl struct {
	mu    sync.Mutex
	rooms map[string]*switchboard.RoomState
	down  bool
}

var _ switchboard.RoomControl = (*RoomControl)(nil)

// NewRoomControl returns call control with every room empty.
func NewRoomControl() *RoomControl {
	return &RoomControl{rooms: map[string]*switchboard.RoomState{}}
}

// Join puts a participant in a room, as their call joining it would.
func (c *RoomControl) Join(number string, p switchboard.Participant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.room(number).Participants = append(c.room(number).Participants, p)
}

// SetDown makes every call fail with EUNAVAILABLE (true), as while Asterisk is unreachable,
// or work again (false).
func (c *RoomControl) SetDown(down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = down
}

func (c *RoomControl) room(number string) *switchboard.RoomState {
	st, ok := c.rooms[number]
	if !ok {
		st = &switchboard.RoomState{Number: number}
		c.rooms[number] = st
	}
	return st
}

// participant returns a room's state and the index of a participant in it; ENOTFOUND when
// they are not in it.
func (c *RoomControl) participant(number, id string) (*switchboard.RoomState, int, error) {
	if c.down {
		return nil, 0, switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk unavailable")
	}
	st := c.room(number)
	i := slices.IndexFunc(st.Participants, func(p switchboard.Participant) bool { return p.ID == id })
	if i < 0 {
		return nil, 0, switchboard.Errorf(switchboard.ENOTFOUND, "no participant %s in room %s", id, number)
	}
	return st, i, nil
}

// RoomState returns a copy of a room's state.
func (c *RoomControl) RoomState(_ context.Context, number string) (switchboard.RoomState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return switchboard.RoomState{}, switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk unavailable")
	}
	st := *c.room(number)
	st.Participants = slices.Clone(st.Participants)
	return st, nil
}

// MuteParticipant mutes or unmutes a participant.
func (c *RoomControl) MuteParticipant(_ context.Context, number, id string, muted bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, i, err := c.participant(number, id)
	if err != nil {
		return err
	}
	st.Participants[i].Muted = muted
	return nil
}

// KickParticipant removes a participant; a room left empty unlocks.
func (c *RoomControl) KickParticipant(_ context.Context, number, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, i, err := c.participant(number, id)
	if err != nil {
		return err
	}
	st.Participants = slices.Delete(st.Participants, i, i+1)
	if len(st.Participants) == 0 {
		st.Locked = false
	}
	return nil
}

// LockRoom locks or unlocks a room.
func (c *RoomControl) LockRoom(_ context.Context, number string, locked bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk unavailable")
	}
	c.room(number).Locked = locked
	return nil
}
