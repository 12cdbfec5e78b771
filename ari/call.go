package ari

import (
	"context"
	"time"

	"github.com/switchboard-pbx/switchboard/provisioning"
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
	Cancelled Outcome = "cancelled" // the caller hung up while it rang
)

// Reasons say why a call did not get answered, or failed.
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
	StartedAt     time.Time
	AnsweredAt    time.Time // zero when never answered
	EndedAt       time.Time // zero while the call is in progress
}

// Active reports whether the call is still in progress.
func (r CallRecord) Active() bool { return r.EndedAt.IsZero() }

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
	// SaveCall inserts or updates a record (by ID).
	SaveCall(ctx context.Context, r CallRecord) error
	// Call returns one record; ENOTFOUND when there is none.
	Call(ctx context.Context, id string) (CallRecord, error)
	// CallByChannel returns the newest record whose caller channel is channelID.
	CallByChannel(ctx context.Context, channelID string) (CallRecord, error)
	// Calls lists records.
	Calls(ctx context.Context, f CallFilter) (CallPage, error)
}

// UserDirectory tells call control who an extension is.
type UserDirectory interface {
	User(ctx context.Context, ext string) (provisioning.User, error)
}
