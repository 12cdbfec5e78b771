package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
	"github.com/switchboard-pbx/switchboard/voicemail"
	"github.com/switchboard-pbx/switchboard/voicemail/voicemailtest"
)

const token = "test-token-0123456789"

type fakePresence struct{}

func (fakePresence) Presence(_ context.Context, ext string) (switchboard.Presence, error) {
	return switchboard.Presence{Extension: ext, State: switchboard.Online, EndpointState: "online", DeviceState: "NOT_INUSE"}, nil
}

type triggers struct{ n int }

func (t *triggers) Trigger() { t.n++ }

// testAPI is the API over an in-memory store; every response is checked against the OpenAPI
// document (see openapi_test.go).
type testAPI struct {
	t     *testing.T
	srv   *httptest.Server
	store *inmem.UserStore
	trig  *triggers
	ready error
	spool string // the voicemail spool, empty until a test leaves messages in it
}

func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	ta := &testAPI{t: t, store: inmem.NewUserStore(), trig: &triggers{}, spool: t.TempDir()}
	mailboxes := &voicemail.Mailboxes{Spool: voicemail.Spool{Dir: ta.spool}, Manager: &voicemailtest.Manager{Spool: ta.spool}}
	s, err := api.NewServer(api.Server{
		Users: &provisioning.Service{Store: ta.store, Config: ta.trig, Presence: fakePresence{}},
		Voicemail: &provisioning.VoicemailService{Users: ta.store, Mailboxes: mailboxes, GreetingStore: mailboxes,
			Shared: sharedMailboxes{"600": true, "700": true}},
		Token: token,
		Ready: []api.Check{{Name: "postgres", Check: func(context.Context) error { return ta.ready }}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ta.srv = httptest.NewServer(s.Handler())
	t.Cleanup(ta.srv.Close)
	return ta
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) errorCode() string {
	var e struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

func (ta *testAPI) do(method, path, body string, hdr ...string) response {
	ta.t.Helper()
	req, _ := http.NewRequest(method, ta.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	checkAgainstSpec(ta.t, req, body, r)
	return r
}

func TestCreateUser(t *testing.T) {
	ta := newTestAPI(t)
	t.Run("OK", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/users", `{"extension":"1001","name":"Alice Smith","voicemail":{"enabled":true,"pin":"4321"},"ring_timeout":25}`)
		if r.Status != 201 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		var u api.User
		json.Unmarshal(r.Body, &u)
		if u.Extension != "1001" || u.Name != "Alice Smith" || u.RingTimeout != 25 || !u.Voicemail.PINSet {
			t.Errorf("created %+v", u)
		}
		// A PIN the admin chose is not echoed; no read or list response shows one.
		if bytes.Contains(r.Body, []byte(`"pin"`)) {
			t.Errorf("the creation response echoes the chosen PIN: %s", r.Body)
		}
		for _, path := range []string{"/api/v1/users/1001", "/api/v1/users"} {
			if g := ta.do("GET", path, ""); bytes.Contains(g.Body, []byte(`"pin"`)) {
				t.Errorf("GET %s shows the PIN: %s", path, g.Body)
			}
		}
		if len(u.Password) != provisioning.GeneratedPasswordLength {
			t.Errorf("generated password %q missing from the creation response", u.Password)
		}
		if r.Header.Get("Location") != "/api/v1/users/1001" {
			t.Errorf("Location %q", r.Header.Get("Location"))
		}
		// The password is shown once: never again.
		if g := ta.do("GET", "/api/v1/users/1001", ""); bytes.Contains(g.Body, []byte(u.Password)) || bytes.Contains(g.Body, []byte(`"password"`)) {
			t.Errorf("GET shows the password: %s", g.Body)
		}
	})
	t.Run("ErrDuplicateExtension", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/users", `{"extension":"1001","name":"Mallory"}`)
		if r.Status != 409 || r.errorCode() != "conflict" {
			t.Errorf("status %d %s", r.Status, r.Body)
		}
	})
	t.Run("DefaultsWithoutPassword", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/users", `{"extension":"20","name":"Front Desk"}`)
		var u api.User
		json.Unmarshal(r.Body, &u)
		if r.Status != 201 || !u.Voicemail.Enabled || u.Voicemail.PIN == "" || u.RingTimeout != 20 {
			t.Errorf("status %d, user %+v", r.Status, u)
		}
		if g := ta.do("GET", "/api/v1/users/20", ""); bytes.Contains(g.Body, []byte(`"pin"`)) {
			t.Errorf("GET shows the generated PIN again: %s", g.Body)
		}
	})
	t.Run("ChosenPasswordNotEchoed", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/users", `{"extension":"21","name":"B","password":"my-own-password-1"}`)
		if r.Status != 201 || bytes.Contains(r.Body, []byte("my-own-password-1")) {
			t.Errorf("status %d body %s", r.Status, r.Body)
		}
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	ta := newTestAPI(t)
	ta.do("POST", "/api/v1/users", `{"extension":"1001","name":"Alice"}`)
	before := ta.trig.n
	long := strings.Repeat("A", 10_000)
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"InvalidJSON", "POST", "/api/v1/users", `{"extension":"1002",`, 400},
		{"NotAnObject", "POST", "/api/v1/users", `["1002"]`, 400},
		{"EmptyBody", "POST", "/api/v1/users", ``, 400},
		{"TwoObjects", "POST", "/api/v1/users", `{"extension":"1002","name":"B"}{"extension":"1003","name":"C"}`, 400},
		{"UnknownField", "POST", "/api/v1/users", `{"extension":"1002","name":"B","admin":true}`, 400},
		{"WrongType", "POST", "/api/v1/users", `{"extension":1002,"name":"B"}`, 400},
		{"Oversize", "POST", "/api/v1/users", `{"extension":"1002","name":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, 413},
		{"Newline", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob\n[evil]"}`, 400},
		{"Section", "POST", "/api/v1/users", `{"extension":"1002","name":"[1001]"}`, 400},
		{"Semicolon", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob;comment"}`, 400},
		{"Include", "POST", "/api/v1/users", `{"extension":"1002","name":"#include /etc/passwd"}`, 400},
		{"Exec", "POST", "/api/v1/users", `{"extension":"1002","name":"#exec /bin/sh"}`, 400},
		{"Quote", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob \"B\""}`, 400},
		{"Backslash", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob\\\\"}`, 400},
		{"Control", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob\u0007"}`, 400},
		{"Bidi", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob\u202e"}`, 400},
		{"TenKB", "POST", "/api/v1/users", `{"extension":"1002","name":"` + long + `"}`, 400},
		{"PINInjection", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob","voicemail":{"enabled":true,"pin":"1234,x"}}`, 400},
		{"ExtensionPattern", "POST", "/api/v1/users", `{"extension":"_X.","name":"Bob"}`, 400},
		{"ExtensionNewline", "POST", "/api/v1/users", `{"extension":"1002\n","name":"Bob"}`, 400},
		{"RingTimeoutZero", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob","ring_timeout":0}`, 400},
		{"PatchInjection", "PATCH", "/api/v1/users/1001", `{"name":"Alice\n#include x"}`, 400},
		{"PatchExtension", "PATCH", "/api/v1/users/1001", `{"extension":"1009"}`, 400},
		{"PatchShortPassword", "PATCH", "/api/v1/users/1001", `{"password":"short"}`, 400},
		{"BadPathExtension", "GET", "/api/v1/users/10a1", ``, 400},
		{"BadLimit", "GET", "/api/v1/users?limit=0", ``, 400},
		{"BadLimitText", "GET", "/api/v1/users?limit=ten", ``, 400},
		// Call settings: a forward to oneself, to what is not a number, enabled without a
		// destination, a field nobody knows, devices out of range.
		{"ForwardToSelf", "PATCH", "/api/v1/users/1001", `{"forwards":{"unconditional":{"enabled":true,"destination":"1001"}}}`, 400},
		{"ForwardNotANumber", "PATCH", "/api/v1/users/1001", `{"forwards":{"busy":{"enabled":true,"destination":"1002,x"}}}`, 400},
		{"ForwardInjection", "PATCH", "/api/v1/users/1001", `{"forwards":{"busy":{"enabled":true,"destination":"1002)\n[evil]"}}}`, 400},
		{"ForwardNotANumber", "PATCH", "/api/v1/users/1001", `{"forwards":{"no_answer":{"enabled":true,"destination":"+49-30-123456"}}}`, 400},
		{"ForwardWithoutDestination", "PATCH", "/api/v1/users/1001", `{"forwards":{"no_answer":{"enabled":true}}}`, 400},
		{"ForwardUnknownField", "PATCH", "/api/v1/users/1001", `{"forwards":{"always":{"enabled":true,"destination":"1002"}}}`, 400},
		{"MaxDevicesZero", "PATCH", "/api/v1/users/1001", `{"max_devices":0}`, 400},
		{"MaxDevicesEleven", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob","max_devices":11}`, 400},
		{"DNDNotBool", "PATCH", "/api/v1/users/1001", `{"dnd":"yes"}`, 400},
		// E-mail addresses go into mail headers: a line break would add a header, a display
		// name, a list or a space a recipient; an address must be one bare addr-spec.
		{"EmailHeaderInjection", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob","email":"a@b.c\r\nBcc: x@y.z"}`, 400},
		{"EmailDisplayName", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob","email":"Bob <bob@example.com>"}`, 400},
		{"EmailList", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob","email":"a@b.c, d@e.f"}`, 400},
		{"EmailSpace", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob","email":"a b@c.d"}`, 400},
		{"EmailTooLong", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob","email":"` + strings.Repeat("a", 288) + `@example.com"}`, 400},
		{"EmailNoDot", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob","email":"a@b"}`, 400},
		{"EmailNonASCII", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob","email":"bjørn@example.no"}`, 400},
		{"EmailNotAString", "POST", "/api/v1/users", `{"extension":"1002","name":"Bob","email":["a@b.c"]}`, 400},
		{"PatchEmailHeaderInjection", "PATCH", "/api/v1/users/1001", `{"email":"a@b.c\nBcc: x@y.z"}`, 400},
		{"PatchEmailAngleBrackets", "PATCH", "/api/v1/users/1001", `{"email":"<a@b.c>"}`, 400},
		{"PatchEmailList", "PATCH", "/api/v1/users/1001", `{"email":"a@b.c,d@e.f"}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ta.do(tt.method, tt.path, tt.body)
			if r.Status != tt.status || r.errorCode() != "invalid" {
				t.Errorf("status %d code %q, want %d invalid: %s", r.Status, r.errorCode(), tt.status, r.Body)
			}
		})
	}
	all, _ := ta.store.AllUsers(context.Background())
	if len(all) != 1 || all[0].Name != "Alice" || all[0].Email != "" || ta.trig.n != before {
		t.Errorf("bad input changed the store: %d users, name %q, email %q, %d new triggers", len(all), all[0].Name, all[0].Email, ta.trig.n-before)
	}
}

// A user's e-mail address is set at creation, changed and removed by PATCH ("" removes it),
// and left alone by a PATCH that does not name it.
func TestUserEmail(t *testing.T) {
	ta := newTestAPI(t)
	get := func(ext string) (api.User, []byte) {
		t.Helper()
		r := ta.do("GET", "/api/v1/users/"+ext, "")
		var u api.User
		json.Unmarshal(r.Body, &u)
		return u, r.Body
	}
	stored := func(ext string) string {
		t.Helper()
		u, _ := ta.store.User(context.Background(), ext)
		return u.Email
	}
	t.Run("Create", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/users", `{"extension":"1001","name":"Alice","email":"alice@example.com"}`)
		var u api.User
		json.Unmarshal(r.Body, &u)
		if r.Status != 201 || u.Email != "alice@example.com" || stored("1001") != "alice@example.com" {
			t.Fatalf("status %d, stored %q: %s", r.Status, stored("1001"), r.Body)
		}
		if u, _ := get("1001"); u.Email != "alice@example.com" {
			t.Errorf("GET: email %q", u.Email)
		}
		// Without an address (absent or "") the field is absent.
		for ext, body := range map[string]string{"1002": `{"extension":"1002","name":"Bob"}`, "1003": `{"extension":"1003","name":"Carol","email":""}`} {
			if r := ta.do("POST", "/api/v1/users", body); r.Status != 201 || bytes.Contains(r.Body, []byte(`"email"`)) || stored(ext) != "" {
				t.Errorf("%s: status %d, stored %q: %s", body, r.Status, stored(ext), r.Body)
			}
		}
	})
	t.Run("Patch", func(t *testing.T) {
		r := ta.do("PATCH", "/api/v1/users/1001", `{"email":"alice.smith@localhost"}`)
		var u api.User
		json.Unmarshal(r.Body, &u)
		if r.Status != 200 || u.Email != "alice.smith@localhost" || stored("1001") != "alice.smith@localhost" {
			t.Errorf("PATCH: status %d, stored %q: %s", r.Status, stored("1001"), r.Body)
		}
		// A PATCH of another field, or with email null, keeps the address.
		for _, body := range []string{`{"name":"Alice Smith"}`, `{"email":null}`} {
			if r := ta.do("PATCH", "/api/v1/users/1001", body); r.Status != 200 || stored("1001") != "alice.smith@localhost" {
				t.Errorf("PATCH %s: status %d, stored %q", body, r.Status, stored("1001"))
			}
		}
		// A refused address leaves the one there is, and the message names the field.
		r = ta.do("PATCH", "/api/v1/users/1001", `{"email":"a@b.c\r\nBcc: x@y.z"}`)
		if r.Status != 400 || !bytes.Contains(r.Body, []byte("email")) || stored("1001") != "alice.smith@localhost" {
			t.Errorf("PATCH with an injection: status %d, stored %q: %s", r.Status, stored("1001"), r.Body)
		}
	})
	t.Run("Clear", func(t *testing.T) {
		r := ta.do("PATCH", "/api/v1/users/1001", `{"email":""}`)
		if r.Status != 200 || bytes.Contains(r.Body, []byte(`"email"`)) || stored("1001") != "" {
			t.Errorf("PATCH email \"\": status %d, stored %q: %s", r.Status, stored("1001"), r.Body)
		}
		if u, body := get("1001"); u.Email != "" || u.Name != "Alice Smith" || bytes.Contains(body, []byte(`"email"`)) {
			t.Errorf("GET after clearing: %s", body)
		}
	})
}

// Call settings are read and changed like the other fields; a new user gets the defaults.
func TestCallSettings(t *testing.T) {
	ta := newTestAPI(t)
	r := ta.do("POST", "/api/v1/users", `{"extension":"1001","name":"Alice"}`, token)
	var u api.User
	json.Unmarshal(r.Body, &u)
	if !u.CallWaiting || u.DND || u.MaxDevices != 3 || u.Forwards != (api.Forwards{}) {
		t.Errorf("new user's call settings %+v, want call waiting on, DND off, 3 devices, no forwards", u)
	}
	r = ta.do("PATCH", "/api/v1/users/1001", `{"dnd":true,"call_waiting":false,"max_devices":5,
		"forwards":{"busy":{"enabled":true,"destination":"1002"},"no_answer":{"destination":"1003"}}}`, token)
	if r.Status != 200 {
		t.Fatalf("PATCH: %d %s", r.Status, r.Body)
	}
	r = ta.do("GET", "/api/v1/users/1001", ``, token)
	json.Unmarshal(r.Body, &u)
	want := api.Forwards{Busy: api.Forward{Enabled: true, Destination: "1002"}, NoAnswer: api.Forward{Destination: "1003"}}
	if !u.DND || u.CallWaiting || u.MaxDevices != 5 || u.Forwards != want {
		t.Errorf("after PATCH: %+v", u)
	}
	// A PATCH of one forward field leaves the rest alone.
	ta.do("PATCH", "/api/v1/users/1001", `{"forwards":{"no_answer":{"enabled":true}}}`, token)
	json.Unmarshal(ta.do("GET", "/api/v1/users/1001", ``, token).Body, &u)
	if want.NoAnswer.Enabled = true; u.Forwards != want {
		t.Errorf("after a partial PATCH: %+v, want %+v", u.Forwards, want)
	}
}

func TestAuth(t *testing.T) {
	ta := newTestAPI(t)
	for _, tt := range []struct{ name, header string }{
		{"Missing", ""},
		{"Wrong", "Bearer wrong-token-0123456789"},
		{"Prefix", "Bearer " + token[:len(token)-1]},
		{"Basic", "Basic " + token},
		{"NoScheme", token},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range []string{"/api/v1/users", "/api/v1/users/1001", "/api/v1/calls"} {
				r := ta.do("GET", p, "", "Authorization", tt.header)
				if r.Status != 401 || r.errorCode() != "unauthorized" {
					t.Errorf("GET %s with %q: %d %s", p, tt.header, r.Status, r.Body)
				}
			}
			r := ta.do("POST", "/api/v1/users", `{"extension":"1001","name":"A"}`, "Authorization", tt.header)
			if r.Status != 401 {
				t.Errorf("POST without auth: %d", r.Status)
			}
		})
	}
	if all, _ := ta.store.AllUsers(context.Background()); len(all) != 0 {
		t.Error("an unauthenticated POST created a user")
	}
	if r := ta.do("GET", "/healthz", "", "Authorization", ""); r.Status != 200 {
		t.Errorf("/healthz needs no token: %d", r.Status)
	}
}

func TestTokenTooShort(t *testing.T) {
	if _, err := api.NewServer(api.Server{Token: "short"}); err == nil {
		t.Error("NewServer accepted a 5-character token")
	}
}

func TestUserLifecycle(t *testing.T) {
	ta := newTestAPI(t)
	for _, ext := range []string{"1003", "20", "1001", "1002", "999999"} {
		if r := ta.do("POST", "/api/v1/users", `{"extension":"`+ext+`","name":"User `+ext+`"}`); r.Status != 201 {
			t.Fatalf("create %s: %d", ext, r.Status)
		}
	}
	t.Run("ListPaginates", func(t *testing.T) {
		var seen []string
		after := ""
		for range 10 {
			r := ta.do("GET", "/api/v1/users?limit=2&after="+after, "")
			var l api.UserList
			json.Unmarshal(r.Body, &l)
			for _, u := range l.Users {
				seen = append(seen, u.Extension)
			}
			if l.Next == "" {
				break
			}
			after = l.Next
		}
		if got := strings.Join(seen, ","); got != "20,1001,1002,1003,999999" {
			t.Errorf("pages gave %s", got)
		}
	})
	t.Run("Patch", func(t *testing.T) {
		r := ta.do("PATCH", "/api/v1/users/1001", `{"name":"Alice Smith","ring_timeout":45,"voicemail":{"enabled":false}}`)
		var u api.User
		json.Unmarshal(r.Body, &u)
		if r.Status != 200 || u.Name != "Alice Smith" || u.RingTimeout != 45 || u.Voicemail.Enabled {
			t.Errorf("status %d user %+v", r.Status, u)
		}
	})
	t.Run("PasswordReset", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/users/1001/password", "")
		var p api.PasswordResponse
		json.Unmarshal(r.Body, &p)
		if r.Status != 200 || len(p.Password) != provisioning.GeneratedPasswordLength {
			t.Errorf("status %d body %s", r.Status, r.Body)
		}
		stored, _ := ta.store.User(context.Background(), "1001")
		if stored.Credentials != provisioning.NewCredentials("1001", p.Password) {
			t.Error("reset password not stored")
		}
		r = ta.do("POST", "/api/v1/users/1001/password", `{"password":"chosen-password-9"}`)
		if r.Status != 200 || bytes.Contains(r.Body, []byte("chosen-password-9")) {
			t.Errorf("chosen password: %d %s", r.Status, r.Body)
		}
	})
	t.Run("Presence", func(t *testing.T) {
		r := ta.do("GET", "/api/v1/users/1001/presence", "")
		if r.Status != 200 || !bytes.Contains(r.Body, []byte(`"state":"online"`)) {
			t.Errorf("presence %d %s", r.Status, r.Body)
		}
		if r := ta.do("GET", "/api/v1/users/4040/presence", ""); r.Status != 404 {
			t.Errorf("presence of an unknown user: %d", r.Status)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if r := ta.do("DELETE", "/api/v1/users/1001", ""); r.Status != 204 {
			t.Errorf("delete: %d", r.Status)
		}
		if r := ta.do("GET", "/api/v1/users/1001", ""); r.Status != 404 || r.errorCode() != "not_found" {
			t.Errorf("after delete: %d", r.Status)
		}
		if r := ta.do("DELETE", "/api/v1/users/1001", ""); r.Status != 404 {
			t.Errorf("second delete: %d", r.Status)
		}
	})
	t.Run("UnknownRouteAndMethod", func(t *testing.T) {
		if r := ta.do("GET", "/api/v1/nothing", ""); r.Status != 404 || r.errorCode() != "not_found" {
			t.Errorf("unknown route: %d %s", r.Status, r.Body)
		}
		if r := ta.do("PUT", "/api/v1/users/1002", `{}`); r.Status != 405 || r.Header.Get("Allow") != "GET, PATCH, DELETE" {
			t.Errorf("PUT: %d Allow=%q", r.Status, r.Header.Get("Allow"))
		}
	})
}

func TestDatabaseDown(t *testing.T) {
	ta := newTestAPI(t)
	ta.do("POST", "/api/v1/users", `{"extension":"1001","name":"Alice"}`)
	ta.store.SetDown(true)
	ta.ready = switchboard.Errorf(switchboard.EUNAVAILABLE, "connection refused")
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/users", ""},
		{"GET", "/api/v1/users/1001", ""},
		{"POST", "/api/v1/users", `{"extension":"1002","name":"Bob"}`},
	} {
		if r := ta.do(c.method, c.path, c.body); r.Status != 503 || r.errorCode() != "unavailable" {
			t.Errorf("%s %s with the database down: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	if r := ta.do("GET", "/readyz", ""); r.Status != 503 || strings.Contains(string(r.Body), "refused") ||
		!strings.Contains(string(r.Body), `"postgres":"unavailable"`) {
		t.Errorf("/readyz with the database down: %d %s (want 503, which check, and no error detail)", r.Status, r.Body)
	}
	ta.store.SetDown(false)
	ta.ready = nil
	if r := ta.do("GET", "/api/v1/users/1001", ""); r.Status != 200 {
		t.Errorf("after recovery: %d", r.Status)
	}
	if r := ta.do("GET", "/readyz", ""); r.Status != 200 {
		t.Errorf("/readyz after recovery: %d", r.Status)
	}
}
