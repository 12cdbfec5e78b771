package voicemail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/media"
)

// greetingStems are app_voicemail's file names for the greetings, in the mailbox directory.
var greetingStems = map[switchboard.Greeting]string{
	switchboard.GreetingUnavailable: "unavail",
	switchboard.GreetingBusy:        "busy",
	switchboard.GreetingName:        "greet",
}

// otherFormats are the other file formats Asterisk could find a greeting in. It plays the one
// cheapest to translate to the call's codec (a .ulaw before a .wav on a u-law call), so a new
// greeting removes them all.
var otherFormats = []string{".WAV", ".wav49", ".gsm", ".ulaw", ".alaw", ".sln", ".sln16", ".g722", ".g729"}

// Directory modes: the mailbox directory may be created here before app_voicemail ever wrote
// to it, and Asterisk (another user in a shared group, under compose) must then create its
// folders in it.
const (
	dirMode  = os.ModeSetgid | 0o775 // files made in it take its group
	fileMode = 0o664
)

var _ switchboard.GreetingStore = (*Mailboxes)(nil)

func (b *Mailboxes) greetingPath(mailbox string, g switchboard.Greeting) (string, error) {
	if err := validMailbox(mailbox); err != nil {
		return "", err
	}
	stem, ok := greetingStems[g]
	if !ok {
		return "", switchboard.Errorf(switchboard.EINVALID, "greeting must be one of %v", switchboard.Greetings)
	}
	return filepath.Join(b.Spool.Dir, "voicemail", Context, mailbox, stem), nil
}

// Greetings lists the greetings mailbox has.
func (b *Mailboxes) Greetings(ctx context.Context, mailbox string) ([]switchboard.GreetingInfo, error) {
	out := []switchboard.GreetingInfo{}
	for _, g := range switchboard.Greetings {
		info, err := b.greeting(mailbox, g)
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func (b *Mailboxes) greeting(mailbox string, g switchboard.Greeting) (switchboard.GreetingInfo, error) {
	stem, err := b.greetingPath(mailbox, g)
	if err != nil {
		return switchboard.GreetingInfo{}, err
	}
	f, err := os.Open(stem + ".wav")
	if errors.Is(err, fs.ErrNotExist) {
		return switchboard.GreetingInfo{}, switchboard.Errorf(switchboard.ENOTFOUND, "mailbox %s has no %s greeting", mailbox, g)
	}
	if err != nil {
		return switchboard.GreetingInfo{}, unavailable(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return switchboard.GreetingInfo{}, unavailable(err)
	}
	l, err := media.ReadWAVLayout(f, st.Size())
	if err != nil {
		return switchboard.GreetingInfo{}, unavailable(fmt.Errorf("greeting %s: %w", stem, err))
	}
	return switchboard.GreetingInfo{Greeting: g, Mailbox: mailbox, Duration: l.Duration(), Size: st.Size(), Modified: st.ModTime()}, nil
}

// GreetingAudio opens a greeting's recording.
func (b *Mailboxes) GreetingAudio(ctx context.Context, mailbox string, g switchboard.Greeting) (switchboard.AudioFile, error) {
	stem, err := b.greetingPath(mailbox, g)
	if err != nil {
		return switchboard.AudioFile{}, err
	}
	return openAudio(stem+".wav", switchboard.Errorf(switchboard.ENOTFOUND, "mailbox %s has no %s greeting", mailbox, g))
}

// SetGreeting writes a greeting as Asterisk plays it (8 kHz 16-bit WAV): into a file of its
// own first, renamed over the old one, so that a caller hears the old greeting or the new one,
// never half of either.
func (b *Mailboxes) SetGreeting(ctx context.Context, mailbox string, g switchboard.Greeting, pcm []int16) (switchboard.GreetingInfo, error) {
	stem, err := b.greetingPath(mailbox, g)
	if err != nil {
		return switchboard.GreetingInfo{}, err
	}
	dir := filepath.Dir(stem)
	if err := mkdirShared(dir); err != nil {
		return switchboard.GreetingInfo{}, unavailable(err)
	}
	var wav bytes.Buffer
	if err := media.WriteWAV(&wav, pcm, media.SampleRate); err != nil {
		return switchboard.GreetingInfo{}, err
	}
	suffix := make([]byte, 8)
	rand.Read(suffix)
	tmp := filepath.Join(dir, ".upload-"+hex.EncodeToString(suffix)) // no extension Asterisk knows
	if err := os.WriteFile(tmp, wav.Bytes(), fileMode); err != nil {
		os.Remove(tmp)
		return switchboard.GreetingInfo{}, unavailable(err)
	}
	os.Chmod(tmp, fileMode) // whatever the umask
	if err := os.Rename(tmp, stem+".wav"); err != nil {
		os.Remove(tmp)
		return switchboard.GreetingInfo{}, unavailable(err)
	}
	for _, ext := range otherFormats {
		if err := os.Remove(stem + ext); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return switchboard.GreetingInfo{}, unavailable(err)
		}
	}
	return b.greeting(mailbox, g)
}

// mkdirShared creates dir and its missing parents group-writable, whatever the umask.
func mkdirShared(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirShared(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, dirMode); errors.Is(err, fs.ErrExist) {
		return nil // Asterisk made it meanwhile
	} else if err != nil {
		return err
	}
	return os.Chmod(dir, dirMode)
}

// DeleteGreeting removes a greeting in every format; the mailbox then plays Asterisk's own.
func (b *Mailboxes) DeleteGreeting(ctx context.Context, mailbox string, g switchboard.Greeting) error {
	stem, err := b.greetingPath(mailbox, g)
	if err != nil {
		return err
	}
	found := false
	for _, ext := range append([]string{".wav"}, otherFormats...) {
		err := os.Remove(stem + ext)
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, fs.ErrNotExist):
			return unavailable(err)
		}
	}
	if !found {
		return switchboard.Errorf(switchboard.ENOTFOUND, "mailbox %s has no %s greeting", mailbox, g)
	}
	return nil
}
