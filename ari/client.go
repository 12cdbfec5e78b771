// Package ari is Switchboard's call control over the Asterisk REST Interface: the connection
// to Asterisk (REST and events), presence, module reloads, and the Stasis application that
// decides what happens to every call.
//
// It is built on github.com/CyCoreSystems/ari/v5 (v5.3.1: its types, event decoding and REST
// client) and defends against that version's weaknesses:
//   - native.Connect can block forever when the websocket never opens: we do not use it; our
//     event connection (events.go) dials with a context and a deadline and reconnects with
//     backoff;
//   - unknown event types (Asterisk 22 sends some) decode to a nil event that panics the
//     library's bus: our reader drops and counts them, subscribers only ever see real events;
//   - its REST client has no timeout and no way to set one: every request goes through our
//     transport (transport.go), which applies a timeout, and every call takes a context;
//   - its bus drops events when a subscriber's buffer is full: our dispatcher queues without
//     bound and never blocks the reader, so no event is lost;
//   - it does not escape path segments: every ID we put in a path is escaped (pathID).
package ari

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"
	"github.com/CyCoreSystems/ari/v5/client/native"

	"github.com/switchboard-pbx/switchboard"
)

// Config says how to reach Asterisk's ARI.
type Config struct {
	URL            string        // e.g. http://127.0.0.1:8088 (with or without /ari)
	Username       string        // ARI user (asterisk/ari.conf)
	Password       string        // ARI password
	App            string        // Stasis application name
	RequestTimeout time.Duration // per REST request (default 5 s)
	DialTimeout    time.Duration // websocket connect + handshake (default 5 s)
	Logger         *slog.Logger
}

// Client is a connection to Asterisk: REST requests (always available, each bounded by a
// timeout) and, while Run is running, the application's event stream.
type Client struct {
	cfg    Config
	base   *url.URL // http://host:port/ari
	rest   *native.Client
	http   *http.Client // for the few requests v5 has no method for
	logger *slog.Logger

	connected   atomic.Bool
	unknown     atomic.Int64 // events of types v5 cannot decode, dropped
	requests    atomic.Int64 // REST requests sent
	mu          sync.Mutex
	onConnect   []func(ctx context.Context)
	onEvent     func(v5.Event)
	profiles    pjsipProfiles
	heartbeat   time.Duration
	reconnectCh chan struct{}
}

// NewClient prepares a client. It does no I/O: REST calls fail with EUNAVAILABLE while Asterisk
// is down, and Run keeps (re)connecting the event stream.
func NewClient(cfg Config) (*Client, error) {
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 5 * time.Second
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.App == "" {
		return nil, errors.New("ARI application name is empty")
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.URL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("ARI URL %q must be http(s)://host:port", cfg.URL)
	}
	if !strings.HasSuffix(base.Path, "/ari") {
		base.Path += "/ari"
	}
	c := &Client{cfg: cfg, base: base, logger: cfg.Logger, heartbeat: 2 * time.Second, reconnectCh: make(chan struct{}, 1)}
	// v5's REST client sends through http.DefaultTransport with no timeout; give it a URL whose
	// scheme routes its requests to a transport of ours (see transport.go). Our own requests
	// share that transport's connections.
	transport := &countingTransport{inner: newTransport(cfg.RequestTimeout), n: &c.requests}
	c.rest = native.New(&native.Options{
		Application:  cfg.App,
		URL:          timeoutURL(base, cfg.RequestTimeout, transport),
		WebsocketURL: "ws://unused.invalid/", // the event stream is ours (events.go)
		Username:     cfg.Username,
		Password:     cfg.Password,
	})
	c.http = &http.Client{Timeout: cfg.RequestTimeout, Transport: transport}
	return c, nil
}

// App returns the Stasis application name.
func (c *Client) App() string { return c.cfg.App }

// Connected reports whether the event stream is connected: the application exists in Asterisk
// and calls reach it.
func (c *Client) Connected() bool { return c.connected.Load() }

// Requests returns how many REST requests the client has sent to Asterisk.
func (c *Client) Requests() int64 { return c.requests.Load() }

// UnknownEvents returns how many events of types v5 cannot decode were dropped.
func (c *Client) UnknownEvents() int64 { return c.unknown.Load() }

// OnConnect registers f to run (in the event loop's goroutine) every time the event stream
// (re)connects, before any event of the new connection is dispatched.
func (c *Client) OnConnect(f func(ctx context.Context)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onConnect = append(c.onConnect, f)
}

// REST returns the underlying v5 client for operations not wrapped here. Its calls are bounded
// by the request timeout but take no context; prefer the methods of Client.
func (c *Client) REST() v5.Client { return c.rest }

// pathID escapes an identifier for use as one path segment: v5 concatenates IDs into paths
// as they are, so "PJSIP/1001" would otherwise become two segments.
func pathID(id string) string { return url.PathEscape(id) }

// do runs a v5 call under ctx and translates its error. v5 calls take no context: the call
// runs in its own goroutine (bounded by the transport's timeout) and do returns as soon as ctx
// ends.
func do[T any](ctx context.Context, op string, f func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, translate(op, err)
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return zero, translate(op, r.err)
		}
		return r.v, nil
	case <-ctx.Done():
		return zero, translate(op, ctx.Err())
	}
}

func do0(ctx context.Context, op string, f func() error) error {
	_, err := do(ctx, op, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

// StatusCode returns the HTTP status of an ARI error, looking through every wrapper v5 uses
// (including its errDataGet, which has Cause but no Unwrap), or 0 when there is none.
func StatusCode(err error) int {
	for err != nil {
		var re native.RequestError
		if errors.As(err, &re) {
			return re.Code()
		}
		var se *statusError
		if errors.As(err, &se) {
			return se.code
		}
		if c, ok := err.(interface{ Cause() error }); ok && c.Cause() != err {
			err = c.Cause()
			continue
		}
		err = errors.Unwrap(err)
	}
	return 0
}

// statusError keeps the HTTP status of an ARI error through our own wrapping.
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// translate turns an ARI or transport error into the switchboard vocabulary: the one place
// that knows ARI's status codes.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	code := StatusCode(err)
	if code != 0 {
		err = &statusError{code: code, err: err}
	}
	switch {
	case code == http.StatusNotFound:
		return fmt.Errorf("%s: %w: %w", op, switchboard.Errorf(switchboard.ENOTFOUND, "not found in Asterisk"), err)
	case code == http.StatusConflict:
		return fmt.Errorf("%s: %w: %w", op, switchboard.Errorf(switchboard.ECONFLICT, "conflict in Asterisk"), err)
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		return fmt.Errorf("%s: %w: %w", op, switchboard.Errorf(switchboard.EINVALID, "rejected by Asterisk"), err)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%s: %w: %w", op, switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk refused the ARI credentials"), err)
	case code >= 500 || code == 0:
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s: %w", op, err)
		}
		return fmt.Errorf("%s: %w: %w", op, switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk unavailable"), err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
