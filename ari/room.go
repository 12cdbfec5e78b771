package ari

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// Conference rooms. Every participant is a call of its own (its goroutine, its record); what
// they share is the room's mixing bridge in Asterisk, named after the room (RoomBridgePrefix +
// number), and the App's record of who is in it. What must outlive the control plane lives in
// Asterisk: the bridge (the conversation goes on without us), each participant's role and join
// time (channel variables), whether the room is locked (a global). A participant whose call
// control restarts is found in the room's bridge and taken back without a PIN.

// RoomBridgePrefix starts the ID of a room's bridge. It is not BridgePrefix: reconciliation
// of calls leaves rooms alone.
const RoomBridgePrefix = "sbroom-"

func roomBridgeID(number string) string { return RoomBridgePrefix + number }

// What Asterisk keeps of a participant (channel variables) and of a room (a global).
const (
	varRoomRole      = "SB_ROOM_ROLE" // "moderator" or empty
	varRoomJoined    = "SB_ROOM_JOINED"
	varRoomMuted     = "SB_ROOM_MUTED" // "1" when muted
	roleModerator    = "moderator"
	roomLockedPrefix = "SB_ROOM_LOCKED_" // + number: "1" while locked
)

// room is what the App knows of one room. Its mutex serialises joining, leaving, locking and
// the music, so that the room's limit holds and the music plays exactly while one is alone.
type room struct {
	number   string
	mu       sync.Mutex
	settings switchboard.Room // as of the last join
	locked   bool
	bridged  bool // its bridge exists
	members  []*member
}

// member is one participant.
type member struct {
	call      *call
	channel   string
	joined    time.Time
	muted     bool
	moderator bool
	kicked    bool // an admin or a moderator removed them
}

// room returns the App's record of a room, made on first use.
func (a *App) room(number string) *room {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.rooms[number]
	if r == nil {
		r = &room{number: number}
		a.rooms[number] = r
	}
	return r
}

// findRoom returns the record of a room, or nil when nobody has been in it.
func (a *App) findRoom(number string) *room {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rooms[number]
}

func (r *room) participants() []switchboard.Participant {
	out := make([]switchboard.Participant, 0, len(r.members))
	for _, m := range r.members {
		out = append(out, switchboard.Participant{ID: m.call.id, Caller: m.call.caller, Channel: m.channel,
			JoinedAt: m.joined, Muted: m.muted, Moderator: m.moderator})
	}
	return out
}

// memberByID returns the participant whose call has the ID (r.mu held).
func (r *room) memberByID(id string) *member {
	for _, m := range r.members {
		if m.call.id == id {
			return m
		}
	}
	return nil
}

// remove takes a participant out of the room's record (r.mu held).
func (r *room) remove(m *member) bool {
	i := slices.Index(r.members, m)
	if i < 0 {
		return false
	}
	r.members = slices.Delete(r.members, i, i+1)
	return true
}

var _ switchboard.RoomControl = (*App)(nil)

// RoomState returns who is in a room now. A room nobody is in is empty and unlocked.
func (a *App) RoomState(_ context.Context, number string) (switchboard.RoomState, error) {
	r := a.findRoom(number)
	if r == nil {
		return switchboard.RoomState{Number: number, Participants: []switchboard.Participant{}}, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return switchboard.RoomState{Number: number, Locked: r.locked, Participants: r.participants()}, nil
}

// MuteParticipant mutes or unmutes a participant for everyone else in the room.
func (a *App) MuteParticipant(ctx context.Context, number, id string, muted bool) error {
	r := a.findRoom(number)
	if r == nil {
		return noParticipant(number, id)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.memberByID(id)
	if m == nil {
		return noParticipant(number, id)
	}
	return a.mute(ctx, m, muted)
}

// mute mutes or unmutes a participant (the room's mutex held).
func (a *App) mute(ctx context.Context, m *member, muted bool) error {
	if err := a.Asterisk.Mute(ctx, m.channel, muted); err != nil {
		return err
	}
	m.muted = muted
	value := ""
	if muted {
		value = "1"
	}
	if err := a.Asterisk.SetVariable(ctx, m.channel, varRoomMuted, value); err != nil {
		m.call.log.Warn("note mute on the channel", "error", err)
	}
	m.call.log.Info("participant muted", "room", m.call.route.Room.Number, "muted", muted)
	return nil
}

// KickParticipant removes a participant: they are told, then hung up. It returns once their
// call knows; they leave a moment later.
func (a *App) KickParticipant(_ context.Context, number, id string) error {
	r := a.findRoom(number)
	if r == nil {
		return noParticipant(number, id)
	}
	r.mu.Lock()
	m := r.memberByID(id)
	if m != nil {
		m.kicked = true
	}
	r.mu.Unlock()
	if m == nil {
		return noParticipant(number, id)
	}
	m.call.mailbox.push(&roomKick{})
	return nil
}

// LockRoom locks a room (nobody new may join, but moderators) or unlocks it. Only a room with
// people in it can be locked: it unlocks when the last one leaves.
func (a *App) LockRoom(ctx context.Context, number string, locked bool) error {
	r := a.findRoom(number)
	if r == nil {
		if !locked {
			return nil
		}
		return switchboard.Errorf(switchboard.ECONFLICT, "room %s is empty: there is nobody to lock it for", number)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if locked && len(r.members) == 0 {
		return switchboard.Errorf(switchboard.ECONFLICT, "room %s is empty: there is nobody to lock it for", number)
	}
	return a.lock(ctx, r, locked)
}

// lock sets a room's lock, in Asterisk first (r.mu held).
func (a *App) lock(ctx context.Context, r *room, locked bool) error {
	value := ""
	if locked {
		value = "1"
	}
	if err := a.Asterisk.SetGlobal(ctx, roomLockedPrefix+r.number, value); err != nil {
		return err
	}
	r.locked = locked
	a.Logger.Info("room locked", "room", r.number, "locked", locked)
	return nil
}

func noParticipant(number, id string) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "no participant %s in room %s", id, number)
}
