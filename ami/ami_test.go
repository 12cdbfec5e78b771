package ami_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/ami"
)

// rawman imitates Asterisk's /rawman (main/manager.c, generic_http_callback): every answer
// sets mansession_id, an unknown or missing cookie starts an unauthenticated session, and
// app_voicemail acknowledges a failed move or remove with "Response: Success".
type rawman struct {
	mu       sync.Mutex
	sessions map[string]bool // id → logged in
	next     int
	logins   int
	events   string              // the Events header of the last login
	actions  []map[string]string // every action after login, headers by lower-case name
	messages map[string]bool     // message IDs in the mailbox
	deny     bool                // the user lacks write permission for every action
	status   int                 // answer every request with this HTTP status
	answers  map[string]string   // canned answers of other actions, by lower-case name
}

func newRawman() *rawman {
	return &rawman{sessions: map[string]bool{}, messages: map[string]bool{"1733340000-0000000a": true}}
}

// seen returns what the fake received: logins, the Events of the last, the other actions.
func (s *rawman) seen() (logins int, events string, actions []map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins, s.events, s.actions
}

// expire forgets every session, as Asterisk does after httptimeout or a restart.
func (s *rawman) expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

func (s *rawman) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != 0 {
		http.Error(w, "Service Unavailable", s.status)
		return
	}
	if r.URL.Path != "/rawman" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h := map[string]string{}
	for k, v := range r.PostForm {
		h[strings.ToLower(k)] = v[0]
	}
	id := ""
	if c, err := r.Cookie("mansession_id"); err == nil && c.Value != "" {
		id = strings.Trim(c.Value, `"`)
	}
	if _, ok := s.sessions[id]; !ok {
		s.next++
		id = fmt.Sprintf("%08x", s.next)
		s.sessions[id] = false
	}
	w.Header().Set("Set-Cookie", fmt.Sprintf(`mansession_id="%s"; Version=1; Max-Age=60`, id))
	answer := func(response, message string) {
		fmt.Fprintf(w, "Response: %s\r\nMessage: %s\r\n\r\n", response, message)
	}
	switch {
	case strings.EqualFold(h["action"], "login"):
		s.logins++
		s.events = h["events"]
		if h["username"] != "switchboard" || h["secret"] != "s3cret-password" {
			delete(s.sessions, id)
			answer("Error", "Authentication failed")
			return
		}
		s.sessions[id] = true
		answer("Success", "Authentication accepted")
	case !s.sessions[id] || s.deny:
		answer("Error", "Permission denied")
	default:
		s.actions = append(s.actions, h)
		switch strings.ToLower(h["action"]) {
		case "voicemailrefresh":
			answer("Success", "Refresh sent")
		case "voicemailmove", "voicemailremove":
			verb := strings.TrimPrefix(strings.ToLower(h["action"]), "voicemail")
			if !s.messages[h["id"]] {
				answer("Success", "Message "+verb+" failed\n")
				return
			}
			delete(s.messages, h["id"])
			answer("Success", "Message "+verb+" successful\n")
		default:
			if body, ok := s.answers[strings.ToLower(h["action"])]; ok {
				fmt.Fprint(w, body)
				return
			}
			answer("Error", "Invalid/unknown command: "+h["action"])
		}
	}
}

// MustClient starts a fake rawman and a client of it.
func MustClient(tb testing.TB) (*ami.Client, *rawman) {
	tb.Helper()
	fake := newRawman()
	srv := httptest.NewServer(fake)
	tb.Cleanup(srv.Close)
	c, err := ami.New(ami.Config{URL: srv.URL + "/ari", Username: "switchboard", Password: "s3cret-password"})
	if err != nil {
		tb.Fatal(err)
	}
	return c, fake
}

func TestClient(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		c, fake := MustClient(t)
		for range 2 {
			if err := c.RefreshMailbox(ctx, "1001", "default"); err != nil {
				t.Fatal(err)
			}
		}
		logins, events, actions := fake.seen()
		if logins != 1 || events != "off" {
			t.Errorf("%d logins with Events %q, want one with off", logins, events)
		}
		if len(actions) != 2 || actions[0]["mailbox"] != "1001" || actions[0]["context"] != "default" {
			t.Errorf("actions: %v", actions)
		}
	})
	t.Run("ExpiredSession", func(t *testing.T) {
		c, fake := MustClient(t)
		if err := c.RefreshMailbox(ctx, "1001", "default"); err != nil {
			t.Fatal(err)
		}
		fake.expire()
		if err := c.RefreshMailbox(ctx, "1001", "default"); err != nil {
			t.Fatal(err)
		}
		if logins, _, actions := fake.seen(); logins != 2 || len(actions) != 2 {
			t.Errorf("%d logins, %d actions; want 2 and 2", logins, len(actions))
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Actions in parallel share one session: one login, every action answered.
		c, fake := MustClient(t)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if err := c.RefreshMailbox(ctx, "1001", "default"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if logins, _, actions := fake.seen(); logins != 1 || len(actions) != 8 {
			t.Errorf("%d logins, %d actions; want 1 and 8", logins, len(actions))
		}
	})
	t.Run("ErrPermission", func(t *testing.T) {
		// A user without write = user is denied even right after a login: one login again, no loop.
		c, fake := MustClient(t)
		fake.mu.Lock()
		fake.deny = true
		fake.mu.Unlock()
		for range 2 {
			err := c.RefreshMailbox(ctx, "1001", "default")
			if code := switchboard.ErrorCode(err); code != switchboard.EINTERNAL {
				t.Fatalf("code %q (%v), want internal", code, err)
			}
		}
		if logins, _, _ := fake.seen(); logins != 2 {
			t.Errorf("%d logins, want 2", logins)
		}
	})
	t.Run("ErrCredentials", func(t *testing.T) {
		fake := newRawman()
		srv := httptest.NewServer(fake)
		defer srv.Close()
		c, err := ami.New(ami.Config{URL: srv.URL, Username: "switchboard", Password: "wrong-password"})
		if err != nil {
			t.Fatal(err)
		}
		err = c.RefreshMailbox(ctx, "1001", "default")
		if code := switchboard.ErrorCode(err); code != switchboard.EUNAVAILABLE || strings.Contains(err.Error(), "wrong-password") {
			t.Errorf("code %q (%v), want unavailable without the password", code, err)
		}
	})
	t.Run("MoveAndRemove", func(t *testing.T) {
		c, fake := MustClient(t)
		if err := c.MoveMessage(ctx, "1001", "default", "INBOX", "1733340000-0000000a", "Old"); err != nil {
			t.Fatal(err)
		}
		_, _, actions := fake.seen()
		if got := actions[0]; got["folder"] != "INBOX" || got["id"] != "1733340000-0000000a" || got["tofolder"] != "Old" {
			t.Errorf("VoicemailMove sent %v", got)
		}
		err := c.MoveMessage(ctx, "1001", "default", "INBOX", "1733340000-0000000a", "Old")
		if code := switchboard.ErrorCode(err); code != switchboard.ENOTFOUND {
			t.Errorf("move of a message not there: code %q (%v), want not_found", code, err)
		}
		err = c.RemoveMessage(ctx, "1001", "default", "Old", "1733340000-0000000b")
		if code := switchboard.ErrorCode(err); code != switchboard.ENOTFOUND {
			t.Errorf("remove of a message not there: code %q (%v), want not_found", code, err)
		}
	})
	t.Run("ErrUnknownAction", func(t *testing.T) {
		c, _ := MustClient(t)
		_, err := c.Action(ctx, "NoSuchAction")
		if code := switchboard.ErrorCode(err); code != switchboard.EINTERNAL || !strings.Contains(err.Error(), "Invalid/unknown command") {
			t.Errorf("code %q (%v), want internal with Asterisk's message", code, err)
		}
	})
	t.Run("Encoding", func(t *testing.T) {
		c, fake := MustClient(t)
		const odd = "a&b=c+d %41;é"
		if _, err := c.Action(ctx, "VoicemailRefresh", ami.Header{Key: "Mailbox", Value: odd}); err != nil {
			t.Fatal(err)
		}
		if _, _, actions := fake.seen(); actions[0]["mailbox"] != odd {
			t.Errorf("Mailbox arrived as %q, want %q", actions[0]["mailbox"], odd)
		}
	})
	t.Run("ErrUnavailable", func(t *testing.T) {
		c, fake := MustClient(t)
		fake.mu.Lock()
		fake.status = http.StatusServiceUnavailable
		fake.mu.Unlock()
		err := c.RefreshMailbox(ctx, "1001", "default")
		if code := switchboard.ErrorCode(err); code != switchboard.EUNAVAILABLE {
			t.Errorf("503: code %q (%v), want unavailable", code, err)
		}
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c, err := ami.New(ami.Config{URL: srv.URL, Username: "switchboard", Password: "s3cret-password"})
		if err != nil {
			t.Fatal(err)
		}
		err = c.RefreshMailbox(ctx, "1001", "default")
		if code := switchboard.ErrorCode(err); code != switchboard.EUNAVAILABLE || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("code %q (%v), want unavailable without the password", code, err)
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		c, _ := MustClient(t)
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		err := c.RefreshMailbox(canceled, "1001", "default")
		if !errors.Is(err, context.Canceled) || switchboard.ErrorCode(err) == switchboard.EUNAVAILABLE {
			t.Errorf("got %v, want the caller's cancellation, not Asterisk's fault", err)
		}
	})
}

func TestClientRefusesLineBreaks(t *testing.T) {
	ctx := context.Background()
	for _, id := range []string{
		"1733340000-0000000a\r\nAction: Command", // a second action smuggled in
		"1733340000-0000000a\nToFolder: Old",     // LF alone ends a header too
		"1733340000-0000000a\r",                  // CR alone
		"1733340000-0000000a\x00",                // NUL cuts the value short in C
	} {
		c, fake := MustClient(t)
		err := c.RemoveMessage(ctx, "1001", "default", "INBOX", id)
		if code := switchboard.ErrorCode(err); code != switchboard.EINVALID {
			t.Errorf("%q: code %q (%v), want invalid", id, code, err)
		}
		if logins, _, actions := fake.seen(); logins != 0 || len(actions) != 0 {
			t.Errorf("%q: a request reached Asterisk", id)
		}
	}
	c, _ := MustClient(t)
	if _, err := c.Action(ctx, "Voicemail\nRemove"); switchboard.ErrorCode(err) != switchboard.EINVALID {
		t.Errorf("a line break in the action name: %v, want invalid", err)
	}
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		cfg ami.Config
		ok  bool
	}{
		{ami.Config{URL: "http://127.0.0.1:8088", Username: "u", Password: "p"}, true},
		{ami.Config{URL: "https://pbx.example:8089/ari/", Username: "u", Password: "p"}, true},
		{ami.Config{URL: "127.0.0.1:8088", Username: "u", Password: "p"}, false},            // no scheme
		{ami.Config{URL: "ws://127.0.0.1:8088", Username: "u", Password: "p"}, false},       // not HTTP
		{ami.Config{URL: "http://u:p@127.0.0.1:8088", Username: "u", Password: "p"}, false}, // credentials belong in Config
		{ami.Config{URL: "http://127.0.0.1:8088?x=1", Username: "u", Password: "p"}, false}, // a query would be lost
		{ami.Config{URL: "http://127.0.0.1:8088", Password: "p"}, false},                    // no user
		{ami.Config{URL: "http://127.0.0.1:8088", Username: "u"}, false},                    // no secret
		{ami.Config{URL: "http://127.0.0.1:8088", Username: "u", Password: "p", Timeout: -1}, false},
	} {
		_, err := ami.New(tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("New(%+v): %v, want ok=%v", tt.cfg, err, tt.ok)
		}
	}
}

// TestClientPrefix: with http.conf's prefix, /rawman sits beside ARI under it.
func TestClientPrefix(t *testing.T) {
	fake := newRawman()
	mux := http.NewServeMux()
	mux.Handle("/asterisk/rawman", http.StripPrefix("/asterisk", fake))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := ami.New(ami.Config{URL: srv.URL + "/asterisk/ari", Username: "switchboard", Password: "s3cret-password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RefreshMailbox(context.Background(), "1001", "default"); err != nil {
		t.Fatal(err)
	}
}
