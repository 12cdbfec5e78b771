// Package provisioning owns Switchboard's users: what a user is, what a valid one looks like,
// how their SIP credentials are made, and how they become Asterisk configuration. It has no
// database, HTTP or ARI imports; those adapters live in postgres/, api/ and ari/ and meet this
// package through the interfaces declared here.
package provisioning

import (
	"context"
	"time"
)

// Realm is the SIP digest realm. It must equal the realm of the [switchboard-auth] template in
// asterisk/pjsip.conf: stored digests are hashes of "extension:realm:password".
const Realm = "switchboard"

// Defaults applied when a new user does not say otherwise.
const (
	DefaultRingTimeout = 20 // seconds
)

// User is a person with a phone: an extension others dial, the SIP account their phone
// registers with and, optionally, a voicemail box.
type User struct {
	Extension   string
	Name        string
	Voicemail   Voicemail
	RingTimeout int // seconds a call rings before it goes to voicemail
	Credentials Credentials
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Voicemail is a user's mailbox. The PIN guards it from the phone (*97); Asterisk needs it in
// the clear, so it is stored as is (unlike the SIP password).
type Voicemail struct {
	Enabled bool
	PIN     string
}

// Credentials are the SIP digest secrets of a user: HA1 hashes of "extension:Realm:password"
// in lower-case hex. The password itself is never stored.
type Credentials struct {
	MD5    string
	SHA256 string
}

// NewUser is what an admin submits to create a user. Zero values mean "use the default":
// a generated password, voicemail on with a generated PIN, DefaultRingTimeout.
type NewUser struct {
	Extension   string
	Name        string
	Password    string
	Voicemail   *Voicemail
	RingTimeout int
}

// UserPatch changes some fields of a user; nil fields are left alone.
type UserPatch struct {
	Name        *string
	Password    *string
	Voicemail   *VoicemailPatch
	RingTimeout *int
}

// VoicemailPatch changes a user's voicemail settings; nil fields are left alone.
type VoicemailPatch struct {
	Enabled *bool
	PIN     *string
}

// UserPage is one page of users ordered by extension (shorter extensions first).
type UserPage struct {
	Users []User
	Next  string // the After of the next page; "" on the last page
}

// UserStore keeps users. Implementations translate their errors into the switchboard error
// vocabulary: ENOTFOUND for an unknown extension, ECONFLICT for a duplicate, EUNAVAILABLE when
// the database cannot be reached.
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
}

// Less orders extensions the way people read them: shorter first, then by digits.
func Less(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
