package switchboard

import (
	"context"
	"time"
)

// Room is a conference room: a number in the same plan as extensions (no user may have it)
// that puts everyone who dials it into one conversation, mixed by Asterisk.
type Room struct {
	Number string
	Name   string
	// PIN, when not empty, is asked for before a caller joins; three wrong tries hang up.
	PIN string
	// ModeratorPIN, when not empty, makes whoever enters it a moderator: from the phone they
	// can mute everyone else, lock the room and remove the last one who joined. When the room
	// has a moderator PIN but no PIN, callers are asked for a PIN and join as participants by
	// pressing # alone.
	ModeratorPIN string
	// MaxParticipants is how many may be in the room at once.
	MaxParticipants int
	// AnnounceJoins plays a tone to the room when someone joins or leaves.
	AnnounceJoins bool
	// MusicWhenAlone plays music on hold to a participant alone in the room.
	MusicWhenAlone bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Limits of a room.
const (
	DefaultRoomParticipants = 20
	MinRoomParticipants     = 2
	MaxRoomParticipants     = 100
)

// RoomStore keeps rooms. Numbers are unique across users and rooms: creating a room (or a
// user) on a number the other has is ECONFLICT. ENOTFOUND for an unknown number.
type RoomStore interface {
	CreateRoom(ctx context.Context, r Room) (Room, error)
	Room(ctx context.Context, number string) (Room, error)
	// Rooms returns every room, ordered by number (shorter numbers first).
	Rooms(ctx context.Context) ([]Room, error)
	// UpdateRoom applies change to the stored room inside one transaction.
	UpdateRoom(ctx context.Context, number string, change func(*Room) error) (Room, error)
	DeleteRoom(ctx context.Context, number string) error
}

// RoomDirectory tells whether a number is a room.
type RoomDirectory interface {
	Room(ctx context.Context, number string) (Room, error)
}

// Participant is one caller in a room, as call control sees them now.
type Participant struct {
	ID        string // the ID of their call (its record)
	Caller    string // the calling extension
	Channel   string // their channel in Asterisk
	JoinedAt  time.Time
	Muted     bool
	Moderator bool
}

// RoomState is what goes on in a room now.
type RoomState struct {
	Number string
	// Locked rooms take nobody new; a room unlocks when its last participant leaves.
	Locked       bool
	Participants []Participant // in the order they joined
}

// RoomControl is the live side of rooms: who is in them, and what an admin may do to them.
// ENOTFOUND for a participant who is not in that room.
type RoomControl interface {
	RoomState(ctx context.Context, number string) (RoomState, error)
	MuteParticipant(ctx context.Context, number, id string, muted bool) error
	KickParticipant(ctx context.Context, number, id string) error
	LockRoom(ctx context.Context, number string, locked bool) error
}
