package provisioning

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/media"
)

// VoicemailService manages the messages and greetings in users' mailboxes. Only a user with voicemail on has a
// mailbox: asking for anyone else's messages is ENOTFOUND, whatever the spool holds.
type VoicemailService struct {
	Users         switchboard.UserStore
	Mailboxes     switchboard.Mailboxes
	GreetingStore switchboard.GreetingStore
	// Shared, when set, opens ring groups' and call queues' own mailboxes too.
	Shared interface {
		Has(ctx context.Context, number string) (bool, error)
	}
}

// mailbox checks that ext is a user whose voicemail is on, or a ring group's or call queue's
// own mailbox.
func (s *VoicemailService) mailbox(ctx context.Context, ext string) error {
	if err := ValidateExtension(ext); err != nil {
		return err
	}
	u, err := s.Users.User(ctx, ext)
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND && s.Shared != nil {
		has, serr := s.Shared.Has(ctx, ext)
		switch {
		case serr != nil:
			return serr
		case has:
			return nil
		}
		return switchboard.Errorf(switchboard.ENOTFOUND, "%s has no mailbox", ext)
	}
	if err != nil {
		return err
	}
	if !u.Voicemail.Enabled {
		return switchboard.Errorf(switchboard.ENOTFOUND, "user %s has voicemail off", ext)
	}
	return nil
}

// Messages returns a page of ext's messages, newest first.
func (s *VoicemailService) Messages(ctx context.Context, ext string, q switchboard.MessageQuery) (switchboard.MessagePage, error) {
	if err := s.mailbox(ctx, ext); err != nil {
		return switchboard.MessagePage{}, err
	}
	return s.Mailboxes.Messages(ctx, ext, q)
}

// Message returns one of ext's messages.
func (s *VoicemailService) Message(ctx context.Context, ext, id string) (switchboard.VoicemailMessage, error) {
	if err := s.mailbox(ctx, ext); err != nil {
		return switchboard.VoicemailMessage{}, err
	}
	return s.Mailboxes.Message(ctx, ext, id)
}

// Audio opens the recording of one of ext's messages; the caller closes it.
func (s *VoicemailService) Audio(ctx context.Context, ext, id string) (switchboard.AudioFile, error) {
	if err := s.mailbox(ctx, ext); err != nil {
		return switchboard.AudioFile{}, err
	}
	return s.Mailboxes.Audio(ctx, ext, id)
}

// MessagePatch changes a message: Folder files it; Heard true moves a new message to old, false
// an old one back to new (as a phone's "mark unheard"). At most one of them is given.
type MessagePatch struct {
	Folder *switchboard.Folder
	Heard  *bool
}

// UpdateMessage applies p to one of ext's messages.
func (s *VoicemailService) UpdateMessage(ctx context.Context, ext, id string, p MessagePatch) (switchboard.VoicemailMessage, error) {
	if p.Folder != nil && p.Heard != nil {
		return switchboard.VoicemailMessage{}, switchboard.Errorf(switchboard.EINVALID, "give folder or heard, not both")
	}
	if p.Folder == nil && p.Heard == nil {
		return switchboard.VoicemailMessage{}, switchboard.Errorf(switchboard.EINVALID, "give folder or heard")
	}
	if p.Folder != nil && !p.Folder.Valid() {
		return switchboard.VoicemailMessage{}, switchboard.Errorf(switchboard.EINVALID, "folder must be one of %v", switchboard.Folders)
	}
	m, err := s.Message(ctx, ext, id)
	if err != nil {
		return switchboard.VoicemailMessage{}, err
	}
	to := m.Folder
	switch {
	case p.Folder != nil:
		to = *p.Folder
	case *p.Heard && m.Folder == switchboard.FolderNew:
		to = switchboard.FolderOld
	case !*p.Heard && m.Folder == switchboard.FolderOld:
		to = switchboard.FolderNew
	}
	if to == m.Folder {
		return m, nil
	}
	return s.Mailboxes.Move(ctx, ext, id, to)
}

// DeleteMessage deletes one of ext's messages.
func (s *VoicemailService) DeleteMessage(ctx context.Context, ext, id string) error {
	if err := s.mailbox(ctx, ext); err != nil {
		return err
	}
	return s.Mailboxes.Delete(ctx, ext, id)
}

// Greetings lists the greetings ext's mailbox has.
func (s *VoicemailService) Greetings(ctx context.Context, ext string) ([]switchboard.GreetingInfo, error) {
	if err := s.mailbox(ctx, ext); err != nil {
		return nil, err
	}
	return s.GreetingStore.Greetings(ctx, ext)
}

// GreetingAudio opens one of ext's greetings; the caller closes it.
func (s *VoicemailService) GreetingAudio(ctx context.Context, ext string, g switchboard.Greeting) (switchboard.AudioFile, error) {
	if err := s.mailbox(ctx, ext); err != nil {
		return switchboard.AudioFile{}, err
	}
	return s.GreetingStore.GreetingAudio(ctx, ext, g)
}

// SetGreeting replaces one of ext's greetings with an uploaded recording (WAV or MP3, see
// media.DecodeAudio), converted to what Asterisk plays. Anything that is not sound, or too short
// or too long a sound, is EINVALID and changes nothing.
func (s *VoicemailService) SetGreeting(ctx context.Context, ext string, g switchboard.Greeting, upload []byte) (switchboard.GreetingInfo, error) {
	if !g.Valid() {
		return switchboard.GreetingInfo{}, switchboard.Errorf(switchboard.EINVALID, "greeting must be one of %v", switchboard.Greetings)
	}
	if err := s.mailbox(ctx, ext); err != nil {
		return switchboard.GreetingInfo{}, err
	}
	pcm, err := media.DecodeAudio(upload, switchboard.MaxGreetingLength)
	switch {
	case errors.Is(err, media.ErrTooLong):
		return switchboard.GreetingInfo{}, switchboard.Errorf(switchboard.EINVALID, "a greeting may last at most %v", switchboard.MaxGreetingLength)
	case errors.Is(err, media.ErrNotAudio):
		return switchboard.GreetingInfo{}, switchboard.Errorf(switchboard.EINVALID, "the upload is not audio Switchboard can read: %v", err)
	case err != nil:
		return switchboard.GreetingInfo{}, err
	}
	if d := time.Duration(len(pcm)) * time.Second / media.SampleRate; d < switchboard.MinGreetingLength {
		return switchboard.GreetingInfo{}, switchboard.Errorf(switchboard.EINVALID, "a greeting must last at least %v (this one: %v)", switchboard.MinGreetingLength, d)
	} else if d > switchboard.MaxGreetingLength {
		return switchboard.GreetingInfo{}, switchboard.Errorf(switchboard.EINVALID, "a greeting may last at most %v", switchboard.MaxGreetingLength)
	}
	return s.GreetingStore.SetGreeting(ctx, ext, g, pcm)
}

// DeleteGreeting removes one of ext's greetings: callers then hear Asterisk's own.
func (s *VoicemailService) DeleteGreeting(ctx context.Context, ext string, g switchboard.Greeting) error {
	if err := s.mailbox(ctx, ext); err != nil {
		return err
	}
	return s.GreetingStore.DeleteGreeting(ctx, ext, g)
}
