// Package voicemailtest is for unit tests of code that reads and changes voicemail: it leaves
// messages in a spool directory as app_voicemail does, and its Manager moves and removes them
// as app_voicemail's manager actions do (without resequencing: readers must not depend on it).
package voicemailtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/media"
)

// Leave writes message n of folder (INBOX, Old…) of mailbox: msgNNNN.txt with id, the caller
// ID and the time, and msgNNNN.wav holding pcm (8 kHz).
func Leave(tb testing.TB, spool, mailbox, folder string, n int, id, callerID string, at time.Time, pcm []int16) {
	tb.Helper()
	dir := filepath.Join(spool, "voicemail", "default", mailbox, folder)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	stem := filepath.Join(dir, fmt.Sprintf("msg%04d", n))
	info := fmt.Sprintf(";\n; Message Information file\n;\n[message]\norigmailbox=%s\ncontext=switchboard\n"+
		"callerid=%s\norigdate=whenever\norigtime=%d\ncategory=\nmsg_id=%s\nflag=\nduration=%d\n",
		mailbox, callerID, at.Unix(), id, len(pcm)/8000)
	if err := os.WriteFile(stem+".txt", []byte(info), 0o644); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(stem + ".wav")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := media.WriteWAV(f, pcm, media.SampleRate); err != nil {
		tb.Fatal(err)
	}
}

// Manager does to a spool's files what VoicemailMove and VoicemailRemove do. Calls lists what
// it was asked; with Fail set it fails every action with that error.
type Manager struct {
	Spool string
	Fail  error

	mu    sync.Mutex
	Calls []string
}

func (m *Manager) note(format string, args ...any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Calls = append(m.Calls, fmt.Sprintf(format, args...))
	return m.Fail
}

// stem finds the message id in a folder, as app_voicemail does (by the .txt's msg_id).
func (m *Manager) stem(mailbox, folder, id string) (string, error) {
	txts, _ := filepath.Glob(filepath.Join(m.Spool, "voicemail", "default", mailbox, folder, "msg*.txt"))
	for _, txt := range txts {
		if b, _ := os.ReadFile(txt); strings.Contains(string(b), "msg_id="+id+"\n") {
			return strings.TrimSuffix(txt, ".txt"), nil
		}
	}
	return "", switchboard.Errorf(switchboard.ENOTFOUND, "Message move failed")
}

// MoveMessage moves the message's files to the end of folder to.
func (m *Manager) MoveMessage(_ context.Context, mailbox, vmContext, folder, id, to string) error {
	if err := m.note("move %s@%s %s %s -> %s", mailbox, vmContext, folder, id, to); err != nil {
		return err
	}
	stem, err := m.stem(mailbox, folder, id)
	if err != nil {
		return err
	}
	dir := filepath.Join(m.Spool, "voicemail", "default", mailbox, to)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	existing, _ := filepath.Glob(filepath.Join(dir, "msg*.txt"))
	dst := filepath.Join(dir, fmt.Sprintf("msg%04d", len(existing)))
	for _, ext := range []string{".txt", ".wav"} {
		if err := os.Rename(stem+ext, dst+ext); err != nil {
			return err
		}
	}
	return nil
}

// RemoveMessage deletes the message's files.
func (m *Manager) RemoveMessage(_ context.Context, mailbox, vmContext, folder, id string) error {
	if err := m.note("remove %s@%s %s %s", mailbox, vmContext, folder, id); err != nil {
		return err
	}
	stem, err := m.stem(mailbox, folder, id)
	if err != nil {
		return err
	}
	os.Remove(stem + ".txt")
	return os.Remove(stem + ".wav")
}
