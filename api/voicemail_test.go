package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/voicemail/voicemailtest"
)

// leaveMessage writes a one-second message from Alice into ext's new folder.
func (ta *testAPI) leaveMessage(ext, id string) {
	ta.t.Helper()
	n, _ := filepath.Glob(filepath.Join(ta.spool, "voicemail", "default", ext, "INBOX", "msg*.txt"))
	voicemailtest.Leave(ta.t, ta.spool, ext, "INBOX", len(n), id, `"Alice" <1001>`, time.Now(), make([]int16, 8000))
}

func TestVoicemailMessages(t *testing.T) {
	ta := newTestAPI(t)
	ta.do("POST", "/api/v1/users", `{"extension":"1002","name":"Bob"}`)
	ta.do("POST", "/api/v1/users", `{"extension":"1003","name":"Carol","voicemail":{"enabled":false}}`)
	const id = "1796374800-0000000a"
	ta.leaveMessage("1002", id)
	base := "/api/v1/users/1002/voicemail/messages"

	r := ta.do("GET", base, "")
	var l api.MessageList
	json.Unmarshal(r.Body, &l)
	if r.Status != 200 || len(l.Messages) != 1 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	m := l.Messages[0]
	if m.ID != id || m.Folder != "new" || m.Heard || m.CallerName != "Alice" || m.CallerNumber != "1001" ||
		m.DurationMS != 1000 || m.AudioURL != base+"/"+id+"/audio" {
		t.Errorf("message %+v", m)
	}

	audio := ta.do("GET", base+"/"+id+"/audio", "")
	if audio.Status != 200 || audio.Header.Get("Content-Type") != "audio/wav" ||
		audio.Header.Get("Content-Length") != "16044" || len(audio.Body) != 16044 {
		t.Errorf("audio: %d %v, %d bytes", audio.Status, audio.Header, len(audio.Body))
	}
	part := ta.do("GET", base+"/"+id+"/audio", "", "Range", "bytes=0-3")
	if part.Status != 206 || string(part.Body) != "RIFF" || part.Header.Get("Content-Range") != "bytes 0-3/16044" {
		t.Errorf("range: %d %q %v", part.Status, part.Body, part.Header)
	}

	r = ta.do("PATCH", base+"/"+id, `{"heard":true}`)
	json.Unmarshal(r.Body, &m)
	if r.Status != 200 || m.Folder != "old" || !m.Heard || m.ID != id {
		t.Errorf("mark heard: %d %s", r.Status, r.Body)
	}
	r = ta.do("PATCH", base+"/"+id, `{"folder":"work"}`)
	json.Unmarshal(r.Body, &m)
	if r.Status != 200 || m.Folder != "work" {
		t.Errorf("file in work: %d %s", r.Status, r.Body)
	}
	if r := ta.do("GET", base+"?folder=work", ""); !bytes.Contains(r.Body, []byte(id)) {
		t.Errorf("work folder: %s", r.Body)
	}
	if r := ta.do("DELETE", base+"/"+id, ""); r.Status != 204 {
		t.Errorf("delete: %d %s", r.Status, r.Body)
	}
	if r := ta.do("GET", base+"/"+id, ""); r.Status != 404 {
		t.Errorf("deleted message: %d %s", r.Status, r.Body)
	}

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"DotDot", "GET", base + "/../audio", "", 400},
		{"EncodedDotDot", "GET", base + "/%2e%2e/audio", "", 400},
		{"EncodedSlash", "GET", base + "/..%2f..%2fsecret/audio", "", 400},
		{"AbsolutePath", "GET", base + "/%2fetc%2fpasswd", "", 400},
		{"MailboxDotDot", "GET", "/api/v1/users/%2e%2e/voicemail/messages", "", 400},
		{"UnknownUser", "GET", "/api/v1/users/1009/voicemail/messages", "", 404},
		{"VoicemailOff", "GET", "/api/v1/users/1003/voicemail/messages", "", 404},
		{"AnotherUsersMessage", "GET", "/api/v1/users/1003/voicemail/messages/" + id, "", 404},
		{"BadFolder", "GET", base + "?folder=Deleted", "", 400},
		{"BadLimit", "GET", base + "?limit=0", "", 400},
		{"PatchBoth", "PATCH", base + "/" + id, `{"heard":true,"folder":"old"}`, 400},
		{"PatchNothing", "PATCH", base + "/" + id, `{}`, 400},
		{"PatchUnknownField", "PATCH", base + "/" + id, `{"path":"/etc"}`, 400},
		{"PatchBadFolder", "PATCH", base + "/" + id, `{"folder":"../../x"}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := ta.do(tc.method, tc.path, tc.body); r.Status != tc.status {
				t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.status)
			}
		})
	}
	if r := ta.do("GET", base, "", "Authorization", ""); r.Status != 401 {
		t.Errorf("without a token: %d", r.Status)
	}
}

func TestResetPIN(t *testing.T) {
	ta := newTestAPI(t)
	ta.do("POST", "/api/v1/users", `{"extension":"1002","name":"Bob","voicemail":{"enabled":false}}`)
	// Turning voicemail on gives the mailbox a PIN, shown in that response only.
	r := ta.do("PATCH", "/api/v1/users/1002", `{"voicemail":{"enabled":true}}`)
	var u api.User
	json.Unmarshal(r.Body, &u)
	if r.Status != 200 || len(u.Voicemail.PIN) != 6 || !u.Voicemail.PINSet {
		t.Errorf("voicemail on: %d %s", r.Status, r.Body)
	}
	if r := ta.do("PATCH", "/api/v1/users/1002", `{"voicemail":{"enabled":true}}`); bytes.Contains(r.Body, []byte(`"pin"`)) {
		t.Errorf("a second PATCH shows the PIN: %s", r.Body)
	}
	r = ta.do("POST", "/api/v1/users/1002/voicemail/pin", "")
	var p api.PINResponse
	json.Unmarshal(r.Body, &p)
	if r.Status != 200 || len(p.PIN) != 6 || p.PIN == u.Voicemail.PIN {
		t.Errorf("reset: %d %s", r.Status, r.Body)
	}
	if got, _ := ta.store.User(context.Background(), "1002"); got.Voicemail.PIN != p.PIN {
		t.Errorf("stored PIN %q, want the generated %q", got.Voicemail.PIN, p.PIN)
	}
	r = ta.do("POST", "/api/v1/users/1002/voicemail/pin", `{"pin":"4242"}`)
	if r.Status != 200 || bytes.Contains(r.Body, []byte("4242")) {
		t.Errorf("chosen PIN: %d %s", r.Status, r.Body)
	}
	for _, bad := range []string{`{"pin":"12"}`, `{"pin":"12,3456"}`, `{"pin":"1234\n"}`, `{"code":"1234"}`} {
		if r := ta.do("POST", "/api/v1/users/1002/voicemail/pin", bad); r.Status != 400 {
			t.Errorf("PIN %s: %d %s", bad, r.Status, r.Body)
		}
	}
	if got, _ := ta.store.User(context.Background(), "1002"); got.Voicemail.PIN != "4242" {
		t.Errorf("a refused PIN changed the stored one to %q", got.Voicemail.PIN)
	}
	if r := ta.do("POST", "/api/v1/users/1009/voicemail/pin", ""); r.Status != 404 {
		t.Errorf("unknown user: %d", r.Status)
	}
}

// sharedMailboxes are the groups and queues with their own mailbox.
type sharedMailboxes map[string]bool

func (m sharedMailboxes) Has(_ context.Context, number string) (bool, error) { return m[number], nil }

// A group's own mailbox is reached by the group's number, under /groups.
func TestSharedMailboxMessages(t *testing.T) {
	ta := newTestAPI(t)
	const id = "1796374800-0000000b"
	ta.leaveMessage("600", id)
	r := ta.do("GET", "/api/v1/groups/600/voicemail/messages", "")
	var l api.MessageList
	json.Unmarshal(r.Body, &l)
	if r.Status != 200 || len(l.Messages) != 1 || l.Messages[0].AudioURL != "/api/v1/groups/600/voicemail/messages/"+id+"/audio" {
		t.Fatalf("group 600's messages: %d %s", r.Status, r.Body)
	}
	if r := ta.do("GET", l.Messages[0].AudioURL, ""); r.Status != 200 || r.Header.Get("Content-Type") != "audio/wav" {
		t.Errorf("audio: %d", r.Status)
	}
	if r := ta.do("DELETE", "/api/v1/groups/600/voicemail/messages/"+id, ""); r.Status != 204 {
		t.Errorf("delete: %d %s", r.Status, r.Body)
	}
	if r := ta.do("GET", "/api/v1/queues/601/voicemail/messages", ""); r.Status != 404 {
		t.Errorf("a number without a mailbox: %d %s", r.Status, r.Body)
	}
	if r := ta.do("GET", "/api/v1/queues/700/voicemail/greetings", ""); r.Status != 200 {
		t.Errorf("queue 700's greetings: %d %s", r.Status, r.Body)
	}
}
