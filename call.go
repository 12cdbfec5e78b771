package switchboard

import (
	"context"
	"slices"
	"time"
)

// Outcome is how a call ended up.
type Outcome string

// Call outcomes. A call has no outcome while it rings; answered is set as soon as it is
// bridged, the others when they are decided.
const (
	Answered  Outcome = "answered"  // bridged with the callee
	Voicemail Outcome = "voicemail" // reached the callee's mailbox
	Missed    Outcome = "missed"    // not answered and no mailbox to take a message
	Failed    Outcome = "failed"    // unknown extension or an error
	Cancelled Outcome = "cancelled" // the caller hung up before anyone answered
)

// Reasons say why a call did not get answered, failed or ended.
const (
	ReasonBusy             = "busy"
	ReasonNoAnswer         = "no_answer"
	ReasonOffline          = "offline"
	ReasonDeclined         = "declined"
	ReasonUnreachable      = "unreachable"
	ReasonUnknownExtension = "unknown_extension"
	ReasonVoicemailOff     = "voicemail_disabled"
	ReasonError            = "error"
	ReasonHungUpByAdmin    = "hung_up_by_admin"
	ReasonDND              = "dnd"          // the callee is not to be disturbed
	ReasonForwardLoop      = "forward_loop" // a forward led back into the call's path, or too far
	ReasonTransferred      = "transferred"  // a party transferred the call: it goes on as another one
	ReasonWrongPIN         = "wrong_pin"    // a room's PIN was entered wrong too many times
	ReasonRoomFull         = "room_full"    // the room had as many participants as it takes
	ReasonRoomLocked       = "room_locked"  // the room was locked
	ReasonKicked           = "kicked"       // an admin or a moderator removed the participant
	ReasonAbandoned        = "abandoned"    // the caller hung up while waiting in a queue
	ReasonMaxWait          = "max_wait"     // the caller waited in a queue as long as it lets them
	// ReasonEndedUnseen marks a call that ended while the control plane was away and left no
	// trace of when: its end time is when the control plane found it gone.
	ReasonEndedUnseen = "ended_unseen"
)

// CallRecord is the history of one call as stored and listed by the API.
type CallRecord struct {
	ID            string
	Caller        string // calling extension
	Callee        string // dialled extension
	Outcome       Outcome
	Reason        string
	CallerChannel string
	CalleeChannel string
	Bridge        string
	// ForwardedTo are the users the call was forwarded to, in order, after the dialled one:
	// the last one is who it rang or whose mailbox took it.
	ForwardedTo []string
	// TransferredFrom is the call a transfer made this one from (its ID); "" otherwise.
	TransferredFrom string
	// AnsweredBy is the extension whose phone answered (a member of a ring group, the callee,
	// the user a forward reached); "" when no phone answered.
	AnsweredBy string
	// Direction is Internal, or Outbound/Inbound for a call through Trunk, whose party in the
	// outside world is External (the number sent to the provider, or the caller's number as
	// the provider gave it, sanitised).
	Direction  Direction
	Trunk      string
	External   string
	StartedAt  time.Time
	AnsweredAt time.Time // zero when never answered
	EndedAt    time.Time // zero while the call is in progress
}

// Active reports whether the call is still in progress.
func (r CallRecord) Active() bool { return r.EndedAt.IsZero() }

// CallChange is one step of a call's history, written by the part of the system that knows it:
// call control (started, ringing, answered, ended), the dialplan helpers (what voicemail made of
// it), reconciliation (an end seen late). A change names only the facts it owns; zero fields
// leave the stored ones as they are, so that two writers never overwrite each other's facts
// with a stale copy. The first answer and the first end recorded win.
type CallChange struct {
	ID string

	// Creation: these describe the call and are stored only when the record does not exist yet.
	Caller          string
	Callee          string
	CallerChannel   string
	TransferredFrom string
	StartedAt       time.Time

	CalleeChannel string
	Bridge        string
	ForwardedTo   []string
	Outcome       Outcome
	Reason        string
	AnsweredBy    string
	AnsweredAt    time.Time
	EndedAt       time.Time
	// Direction, Trunk and External describe a call through a trunk (see CallRecord); the
	// latest given wins (a failover changes the trunk).
	Direction Direction
	Trunk     string
	External  string
}

// Apply returns r with the change applied by the rules of CallChange: what a store does.
func (ch CallChange) Apply(r CallRecord) CallRecord {
	if r.ID == "" {
		r = CallRecord{ID: ch.ID, Caller: ch.Caller, Callee: ch.Callee, CallerChannel: ch.CallerChannel,
			TransferredFrom: ch.TransferredFrom, StartedAt: ch.StartedAt, Direction: Internal}
	}
	if ch.CalleeChannel != "" {
		r.CalleeChannel = ch.CalleeChannel
	}
	if ch.Bridge != "" {
		r.Bridge = ch.Bridge
	}
	if len(ch.ForwardedTo) > 0 {
		r.ForwardedTo = slices.Clone(ch.ForwardedTo)
	}
	if ch.Outcome != "" {
		r.Outcome = ch.Outcome
	}
	if ch.Reason != "" {
		r.Reason = ch.Reason
	}
	if ch.Direction != "" {
		r.Direction = ch.Direction
	}
	if ch.Trunk != "" {
		r.Trunk = ch.Trunk
	}
	if ch.External != "" {
		r.External = ch.External
	}
	if r.AnsweredBy == "" {
		r.AnsweredBy = ch.AnsweredBy
	}
	if r.AnsweredAt.IsZero() {
		r.AnsweredAt = ch.AnsweredAt
	}
	if r.EndedAt.IsZero() {
		r.EndedAt = ch.EndedAt
	}
	return r
}

// CallFilter selects call records.
type CallFilter struct {
	User   string    // calls from or to this extension
	From   time.Time // started at or after
	To     time.Time // started before
	Active bool      // only calls in progress
	Before string    // cursor: records older than this one
	Limit  int
}

// CallPage is one page of call records, newest first.
type CallPage struct {
	Calls []CallRecord
	Next  string // Before of the next page; "" on the last
}

// CallStore keeps call records.
type CallStore interface {
	// ApplyCallChange stores one change: it creates the record when there is none with the
	// change's ID and otherwise updates only the columns the change names (see CallChange).
	ApplyCallChange(ctx context.Context, ch CallChange) error
	// Call returns one record; ENOTFOUND when there is none.
	Call(ctx context.Context, id string) (CallRecord, error)
	// CallByChannel returns the newest record whose caller channel is channelID; ENOTFOUND
	// when there is none.
	CallByChannel(ctx context.Context, channelID string) (CallRecord, error)
	// Calls lists records.
	Calls(ctx context.Context, f CallFilter) (CallPage, error)
}
