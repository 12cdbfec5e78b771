package switchboard

import (
	"context"
	"io"
	"time"
)

// Folder is where a voicemail message sits in its mailbox. Messages arrive in FolderNew; once
// heard (on the phone or marked over the API) they are old; a person may file them further.
type Folder string

// The folders of a mailbox, as people see them (app_voicemail's INBOX, Old, Work, Family,
// Friends and Urgent).
const (
	FolderNew     Folder = "new"
	FolderOld     Folder = "old"
	FolderWork    Folder = "work"
	FolderFamily  Folder = "family"
	FolderFriends Folder = "friends"
	FolderUrgent  Folder = "urgent"
)

// Folders lists every folder in the order a phone's menu has them.
var Folders = []Folder{FolderNew, FolderOld, FolderWork, FolderFamily, FolderFriends, FolderUrgent}

// Valid reports whether f is one of Folders.
func (f Folder) Valid() bool {
	for _, g := range Folders {
		if f == g {
			return true
		}
	}
	return false
}

// VoicemailMessage is one message left in a mailbox.
type VoicemailMessage struct {
	// ID is Asterisk's message id: stable while the message exists, whichever folder it is
	// moved to, and never a path.
	ID      string
	Mailbox string // the extension whose mailbox holds it
	Folder  Folder
	// CallerName and CallerNumber are the caller ID the message was left with; either may be
	// empty (an anonymous caller).
	CallerName   string
	CallerNumber string
	ReceivedAt   time.Time
	Duration     time.Duration // of the recording, measured from its audio
	Size         int64         // bytes of the audio file
}

// MessagePage is one page of a mailbox's messages, newest first.
type MessagePage struct {
	Messages []VoicemailMessage
	Next     string // the After of the next page; "" on the last page
}

// MessageQuery selects messages: in one folder ("" for all), after the message with ID After
// ("" from the newest), at most Limit.
type MessageQuery struct {
	Folder Folder
	After  string
	Limit  int
}

// AudioFile is an open recording (a message, a greeting): a WAV file, read and seek it, then
// close it.
type AudioFile struct {
	io.ReadSeekCloser
	Size     int64
	Modified time.Time
}

// Mailboxes reads and changes the messages in voicemail boxes. A mailbox is named by its
// extension; an extension with no messages yet has an empty mailbox. Errors are of the error
// vocabulary: ENOTFOUND for a message that is not in that mailbox, EINVALID for a malformed id
// or folder, EUNAVAILABLE when Asterisk cannot make a change.
type Mailboxes interface {
	Messages(ctx context.Context, mailbox string, q MessageQuery) (MessagePage, error)
	Message(ctx context.Context, mailbox, id string) (VoicemailMessage, error)
	Audio(ctx context.Context, mailbox, id string) (AudioFile, error)
	// Move files a message in another folder (FolderOld marks it heard).
	Move(ctx context.Context, mailbox, id string, to Folder) (VoicemailMessage, error)
	Delete(ctx context.Context, mailbox, id string) error
}

// Greeting is one of the recordings a mailbox plays: to callers when nobody answers
// (unavailable) or the line is busy, and the person's name, which app_voicemail says in
// place of "extension 1002".
type Greeting string

// The greetings of a mailbox.
const (
	GreetingUnavailable Greeting = "unavailable"
	GreetingBusy        Greeting = "busy"
	GreetingName        Greeting = "name"
)

// Greetings lists every greeting.
var Greetings = []Greeting{GreetingUnavailable, GreetingBusy, GreetingName}

// Valid reports whether g is one of Greetings.
func (g Greeting) Valid() bool {
	for _, h := range Greetings {
		if g == h {
			return true
		}
	}
	return false
}

// Greeting lengths: voicemail.conf's maxgreet, and the shortest that is more than a click.
const (
	MaxGreetingLength = 60 * time.Second
	MinGreetingLength = 500 * time.Millisecond
)

// GreetingInfo describes a greeting a mailbox has.
type GreetingInfo struct {
	Greeting Greeting
	Mailbox  string
	Duration time.Duration
	Size     int64
	Modified time.Time
}

// GreetingStore keeps mailboxes' greetings as Asterisk plays them. Errors are of the error
// vocabulary: ENOTFOUND for a greeting the mailbox does not have, EINVALID for a malformed
// mailbox or greeting.
type GreetingStore interface {
	Greetings(ctx context.Context, mailbox string) ([]GreetingInfo, error)
	GreetingAudio(ctx context.Context, mailbox string, g Greeting) (AudioFile, error)
	// SetGreeting replaces a greeting with pcm (8 kHz 16-bit mono), at once for the next caller.
	SetGreeting(ctx context.Context, mailbox string, g Greeting, pcm []int16) (GreetingInfo, error)
	DeleteGreeting(ctx context.Context, mailbox string, g Greeting) error
}
