package voicemail

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/switchboard-pbx/switchboard"
)

// Manager is what changes a mailbox: app_voicemail's manager actions (package ami). Folders are
// app_voicemail's directory names (INBOX, Old...).
type Manager interface {
	MoveMessage(ctx context.Context, mailbox, context, folder, id, toFolder string) error
	RemoveMessage(ctx context.Context, mailbox, context, folder, id string) error
}

// Mailboxes reads messages from the spool and changes them through Asterisk.
type Mailboxes struct {
	Spool   Spool
	Manager Manager
}

var _ switchboard.Mailboxes = (*Mailboxes)(nil)

// Messages returns a page of a mailbox's messages, newest first.
func (b *Mailboxes) Messages(ctx context.Context, mailbox string, q switchboard.MessageQuery) (switchboard.MessagePage, error) {
	if err := validMailbox(mailbox); err != nil {
		return switchboard.MessagePage{}, err
	}
	if q.Folder != "" && !q.Folder.Valid() {
		return switchboard.MessagePage{}, switchboard.Errorf(switchboard.EINVALID, "folder must be one of %v", switchboard.Folders)
	}
	if q.After != "" {
		if err := ValidID(q.After); err != nil {
			return switchboard.MessagePage{}, switchboard.Errorf(switchboard.EINVALID, "after must be a message id")
		}
	}
	if q.Limit < 1 || q.Limit > 1000 {
		return switchboard.MessagePage{}, switchboard.Errorf(switchboard.EINVALID, "limit must be 1 to 1000")
	}
	var ms []message
	var err error
	if q.Folder == "" {
		ms, err = b.Spool.all(mailbox)
	} else {
		ms, err = b.Spool.folder(mailbox, q.Folder)
	}
	if err != nil {
		return switchboard.MessagePage{}, unavailable(err)
	}
	// Newest first by id: app_voicemail's ids are the time the message was made and a counter,
	// of fixed width for the next few centuries, so they sort as the messages came. A page
	// starts after the cursor's place even when that message has gone meanwhile (deleted).
	slices.SortFunc(ms, func(a, b message) int { return cmp.Compare(b.ID, a.ID) })
	start := 0
	if q.After != "" {
		start, _ = slices.BinarySearchFunc(ms, q.After, func(m message, after string) int { return cmp.Compare(after, m.ID) })
		if start < len(ms) && ms[start].ID == q.After {
			start++
		}
	}
	page := switchboard.MessagePage{Messages: []switchboard.VoicemailMessage{}}
	for _, m := range ms[start:] {
		if len(page.Messages) == q.Limit {
			page.Next = page.Messages[len(page.Messages)-1].ID
			break
		}
		page.Messages = append(page.Messages, m.VoicemailMessage)
	}
	return page, nil
}

// Message returns one message.
func (b *Mailboxes) Message(ctx context.Context, mailbox, id string) (switchboard.VoicemailMessage, error) {
	m, err := b.find(mailbox, id)
	return m.VoicemailMessage, err
}

// Audio opens a message's recording.
func (b *Mailboxes) Audio(ctx context.Context, mailbox, id string) (switchboard.AudioFile, error) {
	m, err := b.find(mailbox, id)
	if err != nil {
		return switchboard.AudioFile{}, err
	}
	return openAudio(m.audio, switchboard.Errorf(switchboard.ENOTFOUND, "no message %s in mailbox %s", id, mailbox))
}

// openAudio opens a recording of the spool; gone is the error for a file that is not there.
func openAudio(path string, gone error) (switchboard.AudioFile, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return switchboard.AudioFile{}, gone
	}
	if err != nil {
		return switchboard.AudioFile{}, unavailable(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return switchboard.AudioFile{}, unavailable(err)
	}
	return switchboard.AudioFile{ReadSeekCloser: f, Size: st.Size(), Modified: st.ModTime()}, nil
}

// Move files a message in another folder through app_voicemail; moving it where it is
// changes nothing.
func (b *Mailboxes) Move(ctx context.Context, mailbox, id string, to switchboard.Folder) (switchboard.VoicemailMessage, error) {
	if !to.Valid() {
		return switchboard.VoicemailMessage{}, switchboard.Errorf(switchboard.EINVALID, "folder must be one of %v", switchboard.Folders)
	}
	m, err := b.find(mailbox, id)
	if err != nil || m.Folder == to {
		return m.VoicemailMessage, err
	}
	if err := b.Manager.MoveMessage(ctx, mailbox, Context, folderDirs[m.Folder], id, folderDirs[to]); err != nil {
		return switchboard.VoicemailMessage{}, fmt.Errorf("move message %s of %s to %s: %w", id, mailbox, to, err)
	}
	moved, err := b.find(mailbox, id)
	if err != nil {
		return switchboard.VoicemailMessage{}, fmt.Errorf("find message %s of %s after the move: %w", id, mailbox, err)
	}
	return moved.VoicemailMessage, nil
}

// Delete removes a message through app_voicemail.
func (b *Mailboxes) Delete(ctx context.Context, mailbox, id string) error {
	m, err := b.find(mailbox, id)
	if err != nil {
		return err
	}
	if err := b.Manager.RemoveMessage(ctx, mailbox, Context, folderDirs[m.Folder], id); err != nil {
		return fmt.Errorf("delete message %s of %s: %w", id, mailbox, err)
	}
	return nil
}

func (b *Mailboxes) find(mailbox, id string) (message, error) {
	if err := validMailbox(mailbox); err != nil {
		return message{}, err
	}
	if err := ValidID(id); err != nil {
		return message{}, err
	}
	m, err := b.Spool.find(mailbox, id)
	if err != nil && switchboard.ErrorCode(err) == switchboard.EINTERNAL {
		return message{}, unavailable(err)
	}
	return m, err
}

// unavailable reports a spool that cannot be read (a volume not mounted, permissions).
func unavailable(err error) error {
	return fmt.Errorf("%w (%v)", switchboard.Errorf(switchboard.EUNAVAILABLE, "the voicemail spool cannot be read"), err)
}
