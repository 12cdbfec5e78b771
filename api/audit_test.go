package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/media"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
	"github.com/switchboard-pbx/switchboard/voicemail"
	"github.com/switchboard-pbx/switchboard/voicemail/voicemailtest"
)

// fakeAudit is an in-memory audit trail; with fail set, recording fails.
type fakeAudit struct {
	mu      sync.Mutex
	entries []switchboard.AuditEntry
	fail    error
}

func (f *fakeAudit) Record(_ context.Context, e switchboard.AuditEntry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	e.ID = int64(len(f.entries) + 1)
	if e.At.IsZero() {
		e.At = time.Now()
	}
	f.entries = append(f.entries, e)
	return nil
}

func (f *fakeAudit) Entries(_ context.Context, q switchboard.AuditFilter) (switchboard.AuditPage, error) {
	if err := q.Validate(); err != nil {
		return switchboard.AuditPage{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var page switchboard.AuditPage
	for i := len(f.entries) - 1; i >= 0; i-- {
		e := f.entries[i]
		if (q.Before > 0 && e.ID >= q.Before) || !strings.HasPrefix(e.Path, q.Path) {
			continue
		}
		if len(page.Entries) == q.Limit {
			page.Next = page.Entries[q.Limit-1].ID
			break
		}
		page.Entries = append(page.Entries, e)
	}
	return page, nil
}

// recorded returns the entries so far, oldest first.
func (f *fakeAudit) recorded() []switchboard.AuditEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]switchboard.AuditEntry(nil), f.entries...)
}

// newAuditAPI is the API of newTestAPI with an audit trail, logging to logs when it is given.
func newAuditAPI(t *testing.T, audit switchboard.AuditLog, logs io.Writer) *testAPI {
	t.Helper()
	ta := &testAPI{t: t, store: inmem.NewUserStore(), trig: &triggers{}, spool: t.TempDir()}
	mailboxes := &voicemail.Mailboxes{Spool: voicemail.Spool{Dir: ta.spool}, Manager: &voicemailtest.Manager{Spool: ta.spool}}
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	s, err := api.NewServer(api.Server{
		Users:     &provisioning.Service{Store: ta.store, Config: ta.trig, Presence: fakePresence{}},
		Voicemail: &provisioning.VoicemailService{Users: ta.store, Mailboxes: mailboxes, GreetingStore: mailboxes},
		Audit:     audit,
		Token:     token,
		Logger:    logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	ta.srv = httptest.NewServer(s.Handler())
	t.Cleanup(ta.srv.Close)
	return ta
}

// asJSON is v as JSON, for comparing a recorded change with the one expected and for
// searching an entry for a secret.
func asJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// Every change is an entry, whatever its outcome, with its secrets redacted; reads are none.
func TestAuditRecordsChanges(t *testing.T) {
	audit := &fakeAudit{}
	ta := newAuditAPI(t, audit, nil)
	secrets := []string{"Sup3r-secret-pass", "4321", "Other-secret-pass", "9876", "db-secret-1", "list-secret-2",
		"moderator-secret-3", "folded-secret-4", "token-secret-5", "query-secret-6"}
	steps := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		// want is the entry expected (its ID, time and request ID aside); change as JSON.
		actor, path2, change string
	}{
		{name: "Create", method: "POST", path: "/api/v1/users",
			body:   `{"extension":"1001","name":"Alice","password":"Sup3r-secret-pass","voicemail":{"enabled":true,"pin":"4321"}}`,
			status: 201, actor: api.TokenActor, path2: "/api/v1/users",
			change: `{"extension":"1001","name":"Alice","password":"[redacted]","voicemail":{"enabled":true,"pin":"[redacted]"}}`},
		{name: "ReadsAreNone", method: "GET", path: "/api/v1/users/1001", status: 200},
		{name: "ListsAreNone", method: "GET", path: "/api/v1/users", status: 200},
		// The query string is dropped, whatever it holds.
		{name: "Patch", method: "PATCH", path: "/api/v1/users/1001?token=query-secret-6", body: `{"name":"Alice B"}`,
			status: 200, actor: api.TokenActor, path2: "/api/v1/users/1001", change: `{"name":"Alice B"}`},
		// A generated password is in the response only: the change is the empty object asked.
		{name: "GeneratedPassword", method: "POST", path: "/api/v1/users/1001/password", body: `{}`,
			status: 200, actor: api.TokenActor, path2: "/api/v1/users/1001/password", change: `{}`},
		// Refused (unknown fields), and recorded with its status: secrets at any depth and in
		// any case (encoding/json would take "Password" and "paſſword" for "password").
		{name: "Refused", method: "POST", path: "/api/v1/users",
			body: `{"extension":"1002","name":"Bob","Password":"Other-secret-pass","voicemail":{"PIN":"9876"},` +
				`"trunk":{"db_password":"db-secret-1","list":[{"Secret":"list-secret-2"},{"moderator_pin":"moderator-secret-3"}]},` +
				`"paſſword":"folded-secret-4","api_token":"token-secret-5","pin_set":true,"n":12345678901234567890}`,
			status: 400, actor: api.TokenActor, path2: "/api/v1/users",
			change: `{"Password":"[redacted]","api_token":"[redacted]","extension":"1002","n":12345678901234567890,"name":"Bob",` +
				`"paſſword":"[redacted]","pin_set":true,"trunk":{"db_password":"[redacted]","list":[{"Secret":"[redacted]"},` +
				`{"moderator_pin":"[redacted]"}]},"voicemail":{"PIN":"[redacted]"}}`},
		// A body that is not an object is recorded by its size.
		{name: "NotAnObject", method: "PATCH", path: "/api/v1/users/1001", body: `["password","Sup3r-secret-pass"]`,
			header: []string{"Content-Type", "application/json; charset=utf-8"},
			status: 400, actor: api.TokenActor, path2: "/api/v1/users/1001",
			change: `{"bytes":32,"content_type":"application/json"}`},
		{name: "NotFound", method: "DELETE", path: "/api/v1/users/1009", status: 404,
			actor: api.TokenActor, path2: "/api/v1/users/1009", change: `null`},
		// A wrong token names nobody, and what it sent is not kept: only its size.
		{name: "WrongToken", method: "POST", path: "/api/v1/users", body: `{"extension":"1003","name":"Eve","password":"Sup3r-secret-pass"}`,
			header: []string{"Authorization", "Bearer wrong-token-0123456789", "Content-Type", "application/json"},
			status: 401, actor: "", path2: "/api/v1/users", change: `{"bytes":64,"content_type":"application/json"}`},
		{name: "Delete", method: "DELETE", path: "/api/v1/users/1001", status: 204,
			actor: api.TokenActor, path2: "/api/v1/users/1001", change: `null`},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := len(audit.recorded())
			r := ta.do(st.method, st.path, st.body, st.header...)
			if r.Status != st.status {
				t.Fatalf("%s %s: %d %s, want %d", st.method, st.path, r.Status, r.Body, st.status)
			}
			entries := audit.recorded()[before:]
			if st.method == "GET" {
				if len(entries) != 0 {
					t.Errorf("a read was recorded: %+v", entries)
				}
				return
			}
			if len(entries) != 1 {
				t.Fatalf("%d entries, want 1: %+v", len(entries), entries)
			}
			e := entries[0]
			if e.Actor != st.actor || e.Method != st.method || e.Path != st.path2 || e.Status != st.status || e.RequestID == "" {
				t.Errorf("entry %+v", e)
			}
			if got := asJSON(t, e.Change); got != st.change {
				t.Errorf("change\n got %s\nwant %s", got, st.change)
			}
			if st.name == "GeneratedPassword" {
				var p api.PasswordResponse
				json.Unmarshal(r.Body, &p)
				if p.Password == "" || strings.Contains(asJSON(t, e), p.Password) {
					t.Errorf("generated password %q recorded: %+v", p.Password, e)
				}
			}
		})
	}
	all := asJSON(t, audit.recorded())
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("the audit trail holds %q: %s", s, all)
		}
	}
}

// A recording streams through to the handler, counted only, however large; any other body
// does too past what the middleware reads ahead. Either way the handler gets all of it.
func TestAuditBodies(t *testing.T) {
	audit := &fakeAudit{}
	ta := newAuditAPI(t, audit, nil)
	ta.do("POST", "/api/v1/users", `{"extension":"1002","name":"Bob"}`)
	var upload bytes.Buffer
	media.WriteWAV(&upload, media.Tone(700, -12, 16000, 48000), 16000) // three seconds: more than MaxBodyBytes
	if upload.Len() <= api.MaxBodyBytes {
		t.Fatalf("the upload is only %d bytes", upload.Len())
	}
	path := "/api/v1/users/1002/voicemail/greetings/unavailable"
	last := func(t *testing.T) switchboard.AuditEntry {
		t.Helper()
		entries := audit.recorded()
		return entries[len(entries)-1]
	}
	wantGreeting := func(t *testing.T, status int, body []byte) {
		t.Helper()
		var g api.Greeting
		json.Unmarshal(body, &g)
		if status != 200 || g.DurationMS != 3000 {
			t.Fatalf("upload: %d %s", status, body)
		}
	}

	t.Run("Recording", func(t *testing.T) {
		r := ta.do("PUT", path, upload.String(), "Content-Type", "audio/wav")
		wantGreeting(t, r.Status, r.Body)
		e := last(t)
		if got, want := asJSON(t, e.Change), `{"bytes":96044,"content_type":"audio/wav"}`; got != want || e.Status != 200 {
			t.Errorf("entry %+v: change %s, want %s", e, got, want)
		}
	})
	// No Content-Type, no Content-Length (chunked): read ahead, then streamed, then counted.
	t.Run("UntypedChunked", func(t *testing.T) {
		req, _ := http.NewRequest("PUT", ta.srv.URL+path, io.MultiReader(bytes.NewReader(upload.Bytes())))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantGreeting(t, resp.StatusCode, body)
		if got, want := asJSON(t, last(t).Change), `{"bytes":96044,"content_type":""}`; got != want {
			t.Errorf("change %s, want %s", got, want)
		}
	})
	// JSON larger than handlers take: refused by the handler, recorded by its size.
	t.Run("TooBig", func(t *testing.T) {
		big := `{"extension":"1003","name":"` + strings.Repeat("x", api.MaxBodyBytes) + `","password":"Sup3r-secret-pass"}`
		r := ta.do("POST", "/api/v1/users", big, "Content-Type", "application/json")
		e := last(t)
		if r.Status != 413 || e.Status != 413 || asJSON(t, e.Change) != fmt.Sprintf(`{"bytes":%d,"content_type":"application/json"}`, len(big)) {
			t.Errorf("%d %s: entry %+v", r.Status, r.Body, e)
		}
	})
}

// A trail that cannot record fails no request; the log says which entry is missing, without
// its body.
func TestAuditFailureFailsNothing(t *testing.T) {
	var logs bytes.Buffer
	ta := newAuditAPI(t, &fakeAudit{fail: errors.New("database unavailable")}, &logs)
	r := ta.do("POST", "/api/v1/users", `{"extension":"1001","name":"Alice","voicemail":{"enabled":true,"pin":"4321"}}`)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if out := logs.String(); !strings.Contains(out, "audit entry not recorded") || !strings.Contains(out, "path=/api/v1/users") ||
		!strings.Contains(out, "status=201") || strings.Contains(out, "4321") || strings.Contains(out, "Alice") {
		t.Errorf("log: %s", out)
	}
}

func TestAuditList(t *testing.T) {
	audit := &fakeAudit{}
	ta := newAuditAPI(t, audit, nil)
	ta.do("POST", "/api/v1/users", `{"extension":"1001","name":"Alice"}`)
	ta.do("POST", "/api/v1/users", `{"extension":"1002","name":"Bob"}`)
	ta.do("PATCH", "/api/v1/users/1001", `{"name":"Alice B"}`)
	ta.do("DELETE", "/api/v1/users/1002", ``)

	t.Run("Pages", func(t *testing.T) {
		c := &api.Client{BaseURL: ta.srv.URL, Token: token}
		var paths []string
		q := api.AuditQuery{Limit: 3}
		for range 3 {
			l, err := c.Audit(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range l.Entries {
				paths = append(paths, e.Method+" "+e.Path)
			}
			if q.Before = l.Next; q.Before == "" {
				break
			}
		}
		want := []string{"DELETE /api/v1/users/1002", "PATCH /api/v1/users/1001", "POST /api/v1/users", "POST /api/v1/users"}
		if !reflect.DeepEqual(paths, want) {
			t.Errorf("newest first: %q, want %q", paths, want)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		r := ta.do("GET", "/api/v1/audit?limit=1&path=/api/v1/users/1001", "")
		var l struct {
			Entries []map[string]any `json:"entries"`
			Next    string           `json:"next"`
		}
		json.Unmarshal(r.Body, &l)
		if r.Status != 200 || len(l.Entries) != 1 || l.Next != "" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		e := l.Entries[0]
		if e["id"] != float64(3) || e["actor"] != api.TokenActor || e["method"] != "PATCH" || e["path"] != "/api/v1/users/1001" ||
			e["status"] != float64(200) || asJSON(t, e["change"]) != `{"name":"Alice B"}` || e["request_id"] == "" || e["at"] == "" {
			t.Errorf("entry %s", r.Body)
		}
	})
	for _, query := range []string{"limit=0", "limit=1001", "limit=x", "before=0", "before=-1", "before=x", "path=users"} {
		t.Run("Err/"+query, func(t *testing.T) {
			if r := ta.do("GET", "/api/v1/audit?"+query, ""); r.Status != 400 || r.errorCode() != "invalid" {
				t.Errorf("%s: %d %s", query, r.Status, r.Body)
			}
		})
	}
	t.Run("Unauthorized", func(t *testing.T) {
		if r := ta.do("GET", "/api/v1/audit", "", "Authorization", ""); r.Status != 401 {
			t.Errorf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("Unavailable", func(t *testing.T) {
		if r := newTestAPI(t).do("GET", "/api/v1/audit", ""); r.Status != 503 || r.errorCode() != "unavailable" {
			t.Errorf("without an audit trail: %d %s", r.Status, r.Body)
		}
	})
}

// Without an audit trail, changes go through untouched.
func TestAuditOff(t *testing.T) {
	ta := newAuditAPI(t, nil, nil)
	if r := ta.do("POST", "/api/v1/users", `{"extension":"1001","name":"Alice"}`); r.Status != 201 {
		t.Errorf("create: %d %s", r.Status, r.Body)
	}
}

// A handler that panics is answered 500 by the recoverer, and its entry says so.
func TestAuditPanic(t *testing.T) {
	audit := &fakeAudit{}
	s, err := api.NewServer(api.Server{Users: &provisioning.Service{}, Audit: audit, Token: token}) // no store: a panic
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/users", strings.NewReader(`{"extension":"1001","name":"Alice"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 { // not in openapi.json: no handler means to panic
		t.Fatalf("status %d", resp.StatusCode)
	}
	if entries := audit.recorded(); len(entries) != 1 || entries[0].Status != 500 || entries[0].Change["extension"] != "1001" {
		t.Errorf("entries %+v", entries)
	}
}
