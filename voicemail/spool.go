// Package voicemail reads Asterisk's voicemail spool and changes it through Asterisk: the
// messages in each mailbox, their audio, and (through app_voicemail's manager actions, so that
// its locks hold and phones' message-waiting lamps follow) moving and deleting them.
//
// The spool is app_voicemail's file storage: DIR/voicemail/default/MAILBOX/FOLDER/msgNNNN.txt
// describes a message and msgNNNN.wav is its audio. Message numbers change whenever a folder
// is resequenced (a message before it deleted or moved), so a message is found by the msg_id
// its .txt file carries, never by a path taken from a request.
package voicemail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/media"
)

// Context is the voicemail context of every mailbox (asterisk/extensions.conf leaves messages
// at EXTENSION@default).
const Context = "default"

// folderDirs maps folders to app_voicemail's directory names.
var folderDirs = map[switchboard.Folder]string{
	switchboard.FolderNew:     "INBOX",
	switchboard.FolderOld:     "Old",
	switchboard.FolderWork:    "Work",
	switchboard.FolderFamily:  "Family",
	switchboard.FolderFriends: "Friends",
	switchboard.FolderUrgent:  "Urgent",
}

// FolderDir returns app_voicemail's name for f ("INBOX" for new).
func FolderDir(f switchboard.Folder) string { return folderDirs[f] }

// idPattern is app_voicemail's msg_id: the time it was made and a counter in hex.
var idPattern = regexp.MustCompile(`^[0-9]{1,20}-[0-9a-f]{8}$`)

// mailboxPattern is an extension: digits only, so a mailbox name is never a path.
var mailboxPattern = regexp.MustCompile(`^[0-9]{2,16}$`)

// msgFile is a message's description file name; its audio has the same stem.
var msgFile = regexp.MustCompile(`^msg[0-9]{4}\.txt$`)

// ValidID reports an id that cannot be a message id as EINVALID.
func ValidID(id string) error {
	if !idPattern.MatchString(id) {
		return switchboard.Errorf(switchboard.EINVALID, "message id must look like 1733340000-0000000a")
	}
	return nil
}

func validMailbox(mailbox string) error {
	if !mailboxPattern.MatchString(mailbox) {
		return switchboard.Errorf(switchboard.EINVALID, "mailbox must be an extension")
	}
	return nil
}

// Spool reads app_voicemail's spool directory (Asterisk's astspooldir).
type Spool struct {
	Dir string
}

// message is one message as the spool holds it.
type message struct {
	switchboard.VoicemailMessage
	audio string // path of its .wav file
}

// folder returns the messages of one folder of a mailbox, in file order.
func (s Spool) folder(mailbox string, f switchboard.Folder) ([]message, error) {
	dir := filepath.Join(s.Dir, "voicemail", Context, mailbox, folderDirs[f])
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read voicemail folder %s/%s: %w", mailbox, folderDirs[f], err)
	}
	var out []message
	for _, e := range entries {
		if !e.Type().IsRegular() || !msgFile.MatchString(e.Name()) {
			continue
		}
		stem := filepath.Join(dir, strings.TrimSuffix(e.Name(), ".txt"))
		m, err := readMessage(stem)
		if errors.Is(err, fs.ErrNotExist) {
			continue // moved or deleted while we read the folder
		}
		if err != nil {
			return nil, fmt.Errorf("read voicemail message %s/%s/%s: %w", mailbox, folderDirs[f], e.Name(), err)
		}
		if m.ID == "" {
			continue // no (valid) msg_id: app_voicemail adds one when it next opens the folder
		}
		m.Mailbox, m.Folder = mailbox, f
		out = append(out, m)
	}
	return out, nil
}

// all returns every message of a mailbox, folder by folder.
func (s Spool) all(mailbox string) ([]message, error) {
	var out []message
	for _, f := range switchboard.Folders {
		ms, err := s.folder(mailbox, f)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

// find returns the message with id in mailbox.
func (s Spool) find(mailbox, id string) (message, error) {
	ms, err := s.all(mailbox)
	if err != nil {
		return message{}, err
	}
	for _, m := range ms {
		if m.ID == id {
			return m, nil
		}
	}
	return message{}, switchboard.Errorf(switchboard.ENOTFOUND, "no message %s in mailbox %s", id, mailbox)
}

// readMessage reads stem.txt and the header of stem.wav.
func readMessage(stem string) (message, error) {
	b, err := os.ReadFile(stem + ".txt")
	if err != nil {
		return message{}, err
	}
	m := message{audio: stem + ".wav"}
	fields := parseInfo(b)
	if idPattern.MatchString(fields["msg_id"]) {
		m.ID = fields["msg_id"]
	}
	m.CallerName, m.CallerNumber = parseCallerID(fields["callerid"])
	if t, err := strconv.ParseInt(fields["origtime"], 10, 64); err == nil {
		m.ReceivedAt = time.Unix(t, 0).UTC()
	}
	f, err := os.Open(m.audio)
	if err != nil {
		return message{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return message{}, err
	}
	m.Size = st.Size()
	l, err := media.ReadWAVLayout(f, st.Size())
	m.Duration = l.Duration()
	if err != nil {
		// A recording still being written has no final header yet; fall back to its text.
		secs, _ := strconv.Atoi(fields["duration"])
		m.Duration = time.Duration(secs) * time.Second
	}
	return m, nil
}

// parseInfo reads the key=value lines of a message's [message] section.
func parseInfo(b []byte) map[string]string {
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' || line[0] == '[' {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return fields
}

// parseCallerID splits app_voicemail's callerid field: `"Name" <number>`, `<number>`, a bare
// number, or "Unknown".
func parseCallerID(s string) (name, number string) {
	if open := strings.LastIndexByte(s, '<'); open >= 0 && strings.HasSuffix(s, ">") {
		number = s[open+1 : len(s)-1]
		name = strings.Trim(strings.TrimSpace(s[:open]), `"`)
		return name, number
	}
	if s == "Unknown" || s == "" {
		return "", ""
	}
	return "", s
}
