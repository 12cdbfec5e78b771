package switchboard

import (
	"context"
	"time"
)

// Group is a ring group: a number in the extension plan that rings several users, all at once
// or one after the other, and goes somewhere else when none of them answers.
type Group struct {
	Number string
	Name   string
	// Members are extensions of users, in hunting order. A member who is offline, on do not
	// disturb, or in a call with call waiting off is skipped; members' forwards are not
	// followed (the group is how the call reaches them, not their own line).
	Members  []string
	Strategy GroupStrategy
	// RingSeconds is how long each member rings when hunting.
	RingSeconds int
	// Timeout is how long the group tries in all before NoAnswer: ringing everyone at once
	// rings this long; hunting stops at the member whose turn would pass it.
	Timeout  int
	NoAnswer GroupDestination
	// Mailbox is the group's own: a shared mailbox numbered like the group, which NoAnswer may
	// name (voicemail to the group's own number) and its members listen to with *98.
	Mailbox   Mailbox
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GroupStrategy is how a group rings its members.
type GroupStrategy string

// The strategies.
const (
	RingAll GroupStrategy = "ring_all" // every member's phones at once; the first to answer takes it
	Hunt    GroupStrategy = "hunt"     // one member after the other, in order
)

// GroupDestination is where a call goes when no member answers.
type GroupDestination struct {
	Kind GroupDestinationKind
	// Number is whose mailbox (Kind voicemail: a user's extension, or the group's or queue's
	// own number for its own mailbox) or what number (Kind number: a user, a room or another
	// group) takes the call.
	Number string
}

// GroupDestinationKind names a destination.
type GroupDestinationKind string

// The destinations.
const (
	DestinationHangup    GroupDestinationKind = "hangup"    // the caller is told nobody is available
	DestinationVoicemail GroupDestinationKind = "voicemail" // a mailbox (unavailable greeting)
	DestinationNumber    GroupDestinationKind = "number"    // another number, routed as if dialled
)

// Limits of a group.
const (
	MaxGroupMembers         = 50
	DefaultGroupRingSeconds = 15
	DefaultGroupTimeout     = 60
)

// GroupStore keeps ring groups. Numbers are unique across users, rooms and groups (ECONFLICT);
// members must be users (EINVALID otherwise), and a deleted user leaves every group.
type GroupStore interface {
	CreateGroup(ctx context.Context, g Group) (Group, error)
	Group(ctx context.Context, number string) (Group, error)
	// Groups returns every group, ordered by number (shorter numbers first).
	Groups(ctx context.Context) ([]Group, error)
	UpdateGroup(ctx context.Context, number string, change func(*Group) error) (Group, error)
	DeleteGroup(ctx context.Context, number string) error
}

// GroupDirectory tells whether a number is a ring group.
type GroupDirectory interface {
	Group(ctx context.Context, number string) (Group, error)
}
