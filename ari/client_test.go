package ari_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"
	"golang.org/x/net/websocket"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/ari"
)

// fakeAsterisk is an HTTP server speaking just enough ARI for the client's defences to be
// exercised: /ari/asterisk/info, an events websocket fed by the test, and custom handlers.
type fakeAsterisk struct {
	*httptest.Server
	mu       sync.Mutex
	paths    []string // raw request paths seen
	handlers map[string]http.HandlerFunc
	events   chan string // messages sent to the websocket client
}

func newFakeAsterisk(t *testing.T) *fakeAsterisk {
	f := &fakeAsterisk{handlers: map[string]http.HandlerFunc{}, events: make(chan string, 100_000)}
	mux := http.NewServeMux()
	mux.Handle("/ari/events", websocket.Handler(func(ws *websocket.Conn) {
		for msg := range f.events {
			if err := websocket.Message.Send(ws, msg); err != nil {
				return
			}
		}
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.paths = append(f.paths, r.URL.EscapedPath())
		h := f.handlers[r.Method+" "+r.URL.Path]
		f.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		if r.URL.Path == "/ari/asterisk/info" {
			io.WriteString(w, `{"system":{"version":"22.10.1","entity_id":"00:00:00:00:00:01"}}`)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Resource not found"}`)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(func() { close(f.events); f.Close() })
	return f
}

func (f *fakeAsterisk) handle(pattern string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[pattern] = h
}

func (f *fakeAsterisk) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.paths...)
}

func newClient(t *testing.T, url string, timeout time.Duration) *ari.Client {
	t.Helper()
	c, err := ari.NewClient(ari.Config{URL: url, Username: "u", Password: "p", App: "switchboard",
		RequestTimeout: timeout, DialTimeout: timeout, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// v5's native.Connect waits forever for a websocket that never opens. Our Run dials with a
// deadline: against a server that accepts TCP and never answers, it gives up and retries, and
// it returns as soon as its context ends.
func TestRunDoesNotBlockOnSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- conn // hold it open, never answer
		}
	}()
	c := newClient(t, "http://"+l.Addr().String(), 100*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	// Two accepted connections prove the first dial gave up and a retry followed.
	for i := range 2 {
		select {
		case conn := <-accepted:
			defer conn.Close()
		case <-time.After(20 * time.Second):
			t.Fatalf("connection attempt %d never came: the dial is stuck", i+1)
		}
	}
	if c.Connected() {
		t.Error("client reports connected to a server that never answered")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// Unknown event types decode to nil in v5 and panic its bus. Ours drops and counts them and
// delivers the known events around them, in order.
func TestUnknownEventsAreDroppedNotDelivered(t *testing.T) {
	f := newFakeAsterisk(t)
	c := newClient(t, f.URL, 2*time.Second)
	got := make(chan v5.Event, 10)
	c.OnEvent(func(e v5.Event) {
		if e == nil {
			t.Error("nil event delivered")
		}
		got <- e
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	f.events <- `{"type":"ApplicationRegistered","application":"switchboard"}`
	f.events <- `{"type":"SomethingAsterisk30Invents","application":"switchboard"}`
	f.events <- `not json at all`
	f.events <- `{"type":"StasisStart","application":"switchboard","args":["call","1002"],"channel":{"id":"c1","name":"PJSIP/1001-00000001"}}`
	select {
	case e := <-got:
		start, ok := e.(*v5.StasisStart)
		if !ok || start.Channel.ID != "c1" {
			t.Fatalf("first delivered event %#v, want the StasisStart", e)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("StasisStart never delivered")
	}
	if n := c.UnknownEvents(); n != 3 {
		t.Errorf("UnknownEvents = %d, want 3", n)
	}
}

// v5's bus drops events when a subscriber's 100-event buffer is full. Ours queues: a consumer
// blocked while 20,000 events arrive still receives every one, in order.
func TestNoEventIsDroppedWhenTheConsumerIsSlow(t *testing.T) {
	const n = 20_000
	f := newFakeAsterisk(t)
	c := newClient(t, f.URL, 2*time.Second)
	release := make(chan struct{})
	var got []string
	done := make(chan struct{})
	c.OnEvent(func(e v5.Event) {
		<-release // blocked until every event has been sent
		got = append(got, e.(*v5.ChannelVarset).Value)
		if len(got) == n {
			close(done)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	for i := range n {
		f.events <- fmt.Sprintf(`{"type":"ChannelVarset","application":"switchboard","variable":"X","value":"%d","channel":{"id":"c1"}}`, i)
	}
	// The websocket has been written n times; wait until the server side drained it.
	deadline := time.Now().Add(30 * time.Second)
	for len(f.events) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("received %d of %d events", len(got), n)
	}
	for i, v := range got {
		if v != fmt.Sprint(i) {
			t.Fatalf("event %d has value %s: out of order or lost", i, v)
		}
	}
}

// v5's REST client has no timeout. Through our transport a request to an Asterisk that hangs
// fails with EUNAVAILABLE instead of waiting forever, and a caller's context ends it earlier.
func TestRESTRequestsTimeOut(t *testing.T) {
	f := newFakeAsterisk(t)
	hang := make(chan struct{})
	defer close(hang)
	f.handle("GET /ari/endpoints/PJSIP/1001", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	c := newClient(t, f.URL, 200*time.Millisecond)
	errc := make(chan error, 1)
	go func() { _, err := c.Endpoint(context.Background(), "1001"); errc <- err }()
	select {
	case err := <-errc:
		if switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
			t.Errorf("hanging request: %v (code %q), want unavailable", err, switchboard.ErrorCode(err))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("request to a hanging Asterisk never returned")
	}

	ctx, cancel := context.WithCancel(context.Background())
	c2 := newClient(t, f.URL, time.Hour)
	go func() { _, err := c2.Endpoint(ctx, "1001"); errc <- err }()
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("cancelled request succeeded")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("cancelled request never returned")
	}
}

// v5 puts IDs into paths unescaped. Ours escapes them: a device name with a slash stays one
// segment, and an ID cannot smuggle a query or another path.
func TestPathSegmentsAreEscaped(t *testing.T) {
	f := newFakeAsterisk(t)
	f.handle("GET /ari/deviceStates/PJSIP/1001", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"name":"PJSIP/1001","state":"NOT_INUSE"}`)
	})
	c := newClient(t, f.URL, 2*time.Second)
	state, err := c.DeviceState(context.Background(), "PJSIP/1001")
	if err != nil || state != "NOT_INUSE" {
		t.Fatalf("DeviceState = %q, %v", state, err)
	}
	c.Endpoint(context.Background(), "10?x=1/../../asterisk/info")
	seen := f.seen()
	wantDevice := "/ari/deviceStates/PJSIP%2F1001"
	wantEndpoint := "/ari/endpoints/PJSIP/10%3Fx=1%2F..%2F..%2Fasterisk%2Finfo"
	for _, want := range []string{wantDevice, wantEndpoint} {
		found := false
		for _, p := range seen {
			found = found || p == want
		}
		if !found {
			t.Errorf("no request for %s; saw %s", want, strings.Join(seen, " "))
		}
	}
}

// ARI's status codes survive v5's wrapping (including errDataGet, which has no Unwrap) and
// become our vocabulary.
func TestErrorsAreTranslated(t *testing.T) {
	f := newFakeAsterisk(t)
	f.handle("PUT /ari/asterisk/modules/busy.so", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
	})
	c := newClient(t, f.URL, 2*time.Second)
	_, err := c.Endpoint(context.Background(), "4040")
	if switchboard.ErrorCode(err) != switchboard.ENOTFOUND || ari.StatusCode(err) != 404 {
		t.Errorf("missing endpoint: %v (code %q, status %d), want not_found/404", err, switchboard.ErrorCode(err), ari.StatusCode(err))
	}
	dead := newClient(t, "http://127.0.0.1:1", 2*time.Second)
	if err := dead.Ping(context.Background()); switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
		t.Errorf("unreachable Asterisk: %v, want unavailable", err)
	}
}

// The application asks Asterisk for only the events call control reads, with the client's
// credentials; a refusal comes back in our error vocabulary.
func TestFilterEvents(t *testing.T) {
	f := newFakeAsterisk(t)
	var body, user string
	f.handle("PUT /ari/applications/switchboard/eventFilter", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		user, _, _ = r.BasicAuth()
		io.WriteString(w, `{}`)
	})
	c := newClient(t, f.URL, time.Second)
	if err := c.FilterEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	if user != "u" {
		t.Errorf("basic auth user = %q, want u", user)
	}
	for _, want := range []string{`{"type":"StasisStart"}`, `{"type":"ChannelDestroyed"}`, `"disallowed":[]`} {
		if !strings.Contains(body, want) {
			t.Errorf("filter body %s lacks %s", body, want)
		}
	}
	if strings.Contains(body, "ChannelVarset") {
		t.Errorf("filter body %s allows ChannelVarset", body)
	}

	f.handle("PUT /ari/applications/switchboard/eventFilter", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	})
	if err := c.FilterEvents(context.Background()); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("refused filter: err = %v, want ENOTFOUND", err)
	}
}

// ChannelTransfer (Asterisk 22, unknown to ari/v5) is decoded with what call control reads.
func TestChannelTransferIsDecoded(t *testing.T) {
	f := newFakeAsterisk(t)
	c := newClient(t, f.URL, 2*time.Second)
	got := make(chan v5.Event, 10)
	c.OnEvent(func(e v5.Event) { got <- e })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	f.events <- `{"type":"ChannelTransfer","application":"switchboard","state":"channel_progress",
		"referred_by":{"source_channel":{"id":"b1","name":"PJSIP/1002-1"},"connected_channel":{"id":"a1"}},
		"refer_to":{"requested_destination":{"destination":"1003"},"destination_channel":{"id":"b2"},
		"connected_channel":{"id":"c1","name":"PJSIP/1003-2","state":"Up"}}}`
	select {
	case e := <-got:
		tr, ok := e.(*ari.ChannelTransfer)
		if !ok || tr.ReferredBy.Source.ID != "b1" || tr.ReferTo.Requested.Destination != "1003" ||
			tr.ReferTo.Destination == nil || tr.ReferTo.Destination.ID != "b2" || tr.ReferTo.Connected.Name != "PJSIP/1003-2" {
			t.Fatalf("decoded %#v", e)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ChannelTransfer never delivered")
	}
}

// Every REST request is counted, the ones v5 sends and our own (the bench's requests per call).
func TestRequestsAreCounted(t *testing.T) {
	f := newFakeAsterisk(t)
	f.handle("GET /ari/asterisk/info", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{}`) })
	c := newClient(t, f.URL, 2*time.Second)
	for range 3 {
		if err := c.Ping(context.Background()); err != nil {
			t.Fatalf("ping: %v", err)
		}
	}
	if got := c.Requests(); got != 3 {
		t.Errorf("Requests() = %d after 3 pings, want 3", got)
	}
}
