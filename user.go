package switchboard

import (
	"context"
	"time"
)

// User is a person with one or more phones: an extension others dial, the SIP account their
// phones register with, their call settings and, optionally, a voicemail box.
type User struct {
	Extension string
	Name      string
	Email     string // where new voicemail messages are mailed; "" for none
	// OutboundCallerID is the number sent to the outside world on this user's calls through a
	// trunk, unless their route sends one of its own; "" uses the trunk's.
	OutboundCallerID string
	Voicemail        Mailbox
	RingTimeout      int // seconds a call rings before it goes on (voicemail, a forward)
	Credentials      Credentials
	Calls            CallSettings
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Mailbox is a user's voicemail box. The PIN guards it from the phone (*97); Asterisk needs it
// in the clear, so it is stored as is (unlike the SIP password).
type Mailbox struct {
	Enabled bool
	PIN     string
}

// Credentials are the SIP digest secrets of a user: HA1 hashes of "extension:realm:password"
// in lower-case hex. The password itself is never stored.
type Credentials struct {
	MD5    string
	SHA256 string
}

// CallSettings say what happens to a user's calls: the features of a desk phone.
type CallSettings struct {
	// CallWaiting lets a second call ring a phone that is in a call (the person may answer,
	// hold or refuse it); without it the second caller finds the user busy.
	CallWaiting bool
	// DND (do not disturb) sends callers straight on (voicemail, or busy) without ringing.
	DND bool
	// MaxDevices is how many phones may be registered at once; all of them ring.
	MaxDevices int
	Forwards   Forwards
}

// Default call settings of a new user.
const (
	DefaultMaxDevices = 3
	MaxMaxDevices     = 10
)

// DefaultCallSettings are a new user's: call waiting on, DND off, three phones, no forwards.
func DefaultCallSettings() CallSettings {
	return CallSettings{CallWaiting: true, MaxDevices: DefaultMaxDevices}
}

// Forwards are where a user's calls go instead of ringing them.
type Forwards struct {
	Unconditional Forward // every call, without ringing
	Busy          Forward // when the user is busy (in a call without call waiting, or refuses busy)
	NoAnswer      Forward // when the phones ring out, or none is registered
}

// Forward sends calls to another number when it is enabled.
type Forward struct {
	Enabled     bool
	Destination string // an extension
}

// Active reports whether the forward is on and goes somewhere.
func (f Forward) Active() bool { return f.Enabled && f.Destination != "" }

// UserPage is one page of users ordered by extension (shorter extensions first).
type UserPage struct {
	Users []User
	Next  string // the After of the next page; "" on the last page
}

// UserStore keeps users. Implementations translate their errors into the error vocabulary:
// ENOTFOUND for an unknown extension, ECONFLICT for a duplicate, EUNAVAILABLE when the
// database cannot be reached.
type UserStore interface {
	// CreateUser stores a new user and returns it with its timestamps set.
	CreateUser(ctx context.Context, u User) (User, error)
	// User returns one user.
	User(ctx context.Context, ext string) (User, error)
	// Users returns up to limit users whose extension sorts after the given one.
	Users(ctx context.Context, after string, limit int) (UserPage, error)
	// AllUsers returns every user, ordered by extension, for configuration rendering.
	AllUsers(ctx context.Context) ([]User, error)
	// UpdateUser applies change to the stored user inside one transaction and returns the result.
	UpdateUser(ctx context.Context, ext string, change func(*User) error) (User, error)
	// DeleteUser removes a user.
	DeleteUser(ctx context.Context, ext string) error
	// ChangesSince returns what changed after a configuration version (0: every user).
	ChangesSince(ctx context.Context, version int64) (UserChanges, error)
}

// UserChanges is what changed in the directory after a configuration version: every change of
// a user (created, changed, deleted) takes the next version. Configuration that holds version v
// (Asterisk's, the realtime tables) is brought up to date by exactly these changes.
type UserChanges struct {
	Users   []User   // created or changed after the version, as they are now, in extension order
	Deleted []string // extensions deleted after the version and not created again
	// Version is the store's newest version: the changes bring configuration up to it. One
	// smaller than the version asked about means the configuration came from another store
	// (a restored or replaced database): it must be rebuilt from version 0.
	Version int64
}

// UserDirectory tells who an extension is.
type UserDirectory interface {
	User(ctx context.Context, ext string) (User, error)
}

// PresenceState is what a caller would find: a phone is registered and idle, none is
// registered, one is ringing, or one is in a call.
type PresenceState string

// Presence states reported by the API.
const (
	Online  PresenceState = "online"
	Offline PresenceState = "offline"
	Ringing PresenceState = "ringing"
	Busy    PresenceState = "busy"
)

// Presence is a user's phones' state as Asterisk sees it.
type Presence struct {
	Extension     string
	State         PresenceState
	EndpointState string   // Asterisk's endpoint state: online, offline, unknown
	DeviceState   string   // Asterisk's device state: NOT_INUSE, INUSE, RINGING, UNAVAILABLE...
	Channels      int      // channels the endpoint has open
	Devices       []Device // the registered phones
}

// Device is one registered phone of a user.
type Device struct {
	Contact   string // the SIP URI it registered
	UserAgent string
	Status    string // Reachable, Unreachable, NonQualified, Unknown
}

// PresenceSource asks Asterisk for an extension's state.
type PresenceSource interface {
	Presence(ctx context.Context, ext string) (Presence, error)
}

// PresenceFromStates combines Asterisk's endpoint and device states into one PresenceState.
func PresenceFromStates(endpointState, deviceState string) PresenceState {
	switch deviceState {
	case "RINGING", "RINGINUSE":
		return Ringing
	case "INUSE", "BUSY", "ONHOLD":
		return Busy
	}
	if endpointState != "online" {
		return Offline
	}
	switch deviceState {
	case "UNAVAILABLE", "INVALID":
		return Offline
	}
	return Online
}
