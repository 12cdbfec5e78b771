// Package ami sends Asterisk Manager Interface (AMI) actions to Asterisk over its HTTP server:
// the /rawman endpoint of the server ARI uses (http.conf), so the control plane never needs
// AMI's own TCP port. Switchboard uses it for what ARI cannot do: app_voicemail's
// VoicemailMove, VoicemailRemove and VoicemailRefresh, which take the mailbox's locks and
// publish its message-waiting state to the phones; and the state of the trunks: their outbound
// registrations and whether their providers answer (registrations.go), which ARI does not show.
//
// AMI over HTTP is a session: a login sets a mansession_id cookie, and Asterisk forgets the
// session after manager.conf's httptimeout (60 s) without a request, or when it restarts. The
// client logs in before its first action and, when Asterisk answers "Permission denied" to a
// session that had logged in, logs in once more and repeats the action.
package ami

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// Config says where Asterisk's HTTP server is and who to log in as.
type Config struct {
	URL      string        // the ARI base URL, http(s)://host:port, with or without /ari
	Username string        // the AMI user (asterisk/manager.conf), ARI's user name
	Password string        // its secret, ARI's password
	Timeout  time.Duration // per HTTP request (default 5 s)
	Logger   *slog.Logger
}

// Header is one "Key: Value" line of an AMI action or response.
type Header struct{ Key, Value string }

// Response is an AMI response: its lines in the order Asterisk sent them.
type Response []Header

// Get returns the value of the first line named key (AMI names ignore case), or "".
func (r Response) Get(key string) string {
	for _, h := range r {
		if strings.EqualFold(h.Key, key) {
			return h.Value
		}
	}
	return ""
}

// Client sends AMI actions to one Asterisk. It is safe for concurrent use, but runs one action
// at a time: every answer of Asterisk's HTTP manager sets mansession_id, an unauthenticated
// request's answer too, so concurrent requests would let a stale one replace the cookie of a
// fresh login. Voicemail actions are rare; one session in order is enough.
type Client struct {
	rawman   string
	username string
	password string
	http     *http.Client
	logger   *slog.Logger

	turn     chan struct{} // held by the action in flight
	loggedIn bool          // guarded by turn
}

// New prepares a client. It does no I/O: the first action logs in.
func New(cfg Config) (*Client, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.URL, "/"))
	if err != nil {
		return nil, errors.New("AMI URL does not parse") // url's error would repeat a password in it
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.RawQuery != "" || base.User != nil {
		return nil, fmt.Errorf("AMI URL %q must be http(s)://host:port", base.Redacted())
	}
	if cfg.Username == "" || cfg.Password == "" {
		return nil, errors.New("AMI username and password must be set")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("AMI timeout %s is negative", cfg.Timeout)
	}
	// /rawman sits beside /ari, under http.conf's prefix if there is one.
	base.Path = strings.TrimSuffix(base.Path, "/ari") + "/rawman"
	jar, _ := cookiejar.New(nil) // never fails without options
	// Asterisk closes idle connections after http.conf's session_keep_alive (15 s); dropping
	// ours first means no POST is sent on a connection it is closing (Go does not retry those).
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.IdleConnTimeout = 10 * time.Second
	return &Client{
		rawman:   base.String(),
		username: cfg.Username,
		password: cfg.Password,
		http:     &http.Client{Timeout: cfg.Timeout, Jar: jar, Transport: transport},
		logger:   cfg.Logger,
		turn:     make(chan struct{}, 1),
	}, nil
}

// Action sends one AMI action with its headers, in order, and returns Asterisk's response. A
// response other than "Response: Success" is an error. A header containing CR, LF or NUL is
// refused (EINVALID): AMI reads them as the end of a header.
func (c *Client) Action(ctx context.Context, name string, headers ...Header) (Response, error) {
	blocks, err := c.send(ctx, name, headers)
	if err != nil {
		return nil, err
	}
	return blocks[0], nil
}

// send runs one action in the session, logging in first or once more when the session is
// gone, and returns the blocks of the answer: the response first, then any events that came
// with it. The response is a Success; anything else is an error.
func (c *Client) send(ctx context.Context, name string, headers []Header) ([]Response, error) {
	op := "AMI " + name
	form, err := encode(append([]Header{{"Action", name}}, headers...))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", op, unreachable(ctx.Err()))
	}
	defer func() { <-c.turn }()

	fresh := !c.loggedIn
	if fresh {
		if err := c.login(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	blocks, err := c.post(ctx, form)
	if err == nil && !fresh && denied(blocks[0]) {
		c.logger.Info("AMI session expired, logging in again", "action", name)
		if err = c.login(ctx); err == nil {
			blocks, err = c.post(ctx, form)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	switch r := blocks[0]; {
	case denied(r):
		return nil, fmt.Errorf("%s: Asterisk denies it to AMI user %s (manager.conf write)", op, c.username)
	case strings.EqualFold(r.Get("Message"), "Asterisk is shutting down"):
		return nil, fmt.Errorf("%s: %w", op, switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk is shutting down"))
	case !strings.EqualFold(r.Get("Response"), "Success"):
		return nil, fmt.Errorf("%s: Asterisk answered %s: %s", op, r.Get("Response"), r.Get("Message"))
	}
	return blocks, nil
}

// MoveMessage files message id of mailbox@vmContext from folder into toFolder (app_voicemail's
// folder names: INBOX, Old, Work...). A message that is not there is ENOTFOUND.
func (c *Client) MoveMessage(ctx context.Context, mailbox, vmContext, folder, id, toFolder string) error {
	r, err := c.Action(ctx, "VoicemailMove", Header{"Context", vmContext}, Header{"Mailbox", mailbox},
		Header{"Folder", folder}, Header{"ID", id}, Header{"ToFolder", toFolder})
	return outcome(r, err, "VoicemailMove", "move", mailbox, vmContext, folder, id)
}

// RemoveMessage deletes message id from folder of mailbox@vmContext. A message that is not
// there is ENOTFOUND.
func (c *Client) RemoveMessage(ctx context.Context, mailbox, vmContext, folder, id string) error {
	r, err := c.Action(ctx, "VoicemailRemove", Header{"Context", vmContext}, Header{"Mailbox", mailbox},
		Header{"Folder", folder}, Header{"ID", id})
	return outcome(r, err, "VoicemailRemove", "remove", mailbox, vmContext, folder, id)
}

// RefreshMailbox makes app_voicemail count mailbox@vmContext's messages again and publish its
// message-waiting state, after the spool changed behind its back.
func (c *Client) RefreshMailbox(ctx context.Context, mailbox, vmContext string) error {
	_, err := c.Action(ctx, "VoicemailRefresh", Header{"Context", vmContext}, Header{"Mailbox", mailbox})
	return err
}

// outcome reads VoicemailMove's and VoicemailRemove's answer: both acknowledge a failure with
// "Response: Success" and "Message: Message move failed" (app_voicemail.c), and the failure
// is a message, folder or mailbox that is not there.
func outcome(r Response, err error, action, verb, mailbox, vmContext, folder, id string) error {
	if err != nil {
		return err
	}
	switch r.Get("Message") {
	case "Message " + verb + " successful":
		return nil
	case "Message " + verb + " failed":
		return fmt.Errorf("AMI %s: %w", action, switchboard.Errorf(switchboard.ENOTFOUND,
			"Asterisk found no message %s in %s of mailbox %s@%s", id, folder, mailbox, vmContext))
	}
	return fmt.Errorf("AMI %s: unexpected answer %q", action, r.Get("Message"))
}

// login opens a session; Events: off keeps Asterisk from queueing events for it.
func (c *Client) login(ctx context.Context) error {
	form, err := encode([]Header{{"Action", "Login"}, {"Username", c.username}, {"Secret", c.password}, {"Events", "off"}})
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	c.loggedIn = false
	blocks, err := c.post(ctx, form)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	r := blocks[0]
	if !strings.EqualFold(r.Get("Response"), "Success") {
		return fmt.Errorf("login as %s: %w: %s", c.username,
			switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk refused the AMI credentials"), r.Get("Message"))
	}
	c.loggedIn = true
	return nil
}

// maxAnswer bounds the answer to one action. A list action answers with an event per object:
// about 1 KiB per outbound registration, so thousands of trunks fit.
const maxAnswer = 16 << 20

// post sends one action as a form (the values never appear in a URL, so errors and logs carry
// no secret) and parses the answer into its blocks, the response first. Here and in
// unreachable, transport failures and HTTP statuses become the switchboard vocabulary.
func (c *Client) post(ctx context.Context, form string) ([]Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.rawman, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, unreachable(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, unreachable(err)
	}
	if len(body) > maxAnswer {
		return nil, fmt.Errorf("%s answered more than %d MiB", c.rawman, maxAnswer>>20)
	}
	switch {
	case resp.StatusCode >= 500:
		return nil, fmt.Errorf("%w: %s", switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk unavailable"), resp.Status)
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%s answered %s: is AMI over HTTP on (manager.conf enabled, webenabled)?", c.rawman, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s answered %s", c.rawman, resp.Status)
	}
	return parse(body)
}

// unreachable translates a request that got no answer: Asterisk is down or too slow. A caller
// that gave up is not Asterisk's fault and keeps its own error.
func unreachable(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk unavailable"), err)
}

// denied reports the answer to an action of a session that is not logged in (it expired) or
// whose user lacks the action's write permission: manager.c cannot tell them apart for us.
func denied(r Response) bool {
	return strings.EqualFold(r.Get("Response"), "Error") && strings.EqualFold(r.Get("Message"), "Permission denied")
}

// encode writes headers as a form in their order, refusing what AMI would read as a line end.
func encode(headers []Header) (string, error) {
	var b strings.Builder
	for i, h := range headers {
		if strings.ContainsAny(h.Key, "\r\n\x00") || strings.ContainsAny(h.Value, "\r\n\x00") {
			return "", switchboard.Errorf(switchboard.EINVALID, "AMI header %q contains a line break or NUL", h.Key)
		}
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(h.Key) + "=" + url.QueryEscape(h.Value))
	}
	return b.String(), nil
}

// parse reads rawman's body: blocks of "Key: Value" lines, each ended by a blank line. The
// first is the response; list actions (PJSIPShowRegistrationsOutbound...) send their events
// as further blocks in the same body. app_voicemail ends some messages with a "\n" of its own,
// so lines end at LF and lose any CR, and runs of blank lines count as one.
func parse(body []byte) ([]Response, error) {
	var (
		blocks []Response
		r      Response
	)
	for line := range strings.SplitSeq(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			if len(r) > 0 {
				blocks, r = append(blocks, r), nil
			}
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("AMI answer line %q has no ':'", line)
		}
		r = append(r, Header{strings.TrimSpace(key), strings.TrimSpace(value)})
	}
	if len(r) > 0 {
		blocks = append(blocks, r)
	}
	if len(blocks) == 0 || blocks[0].Get("Response") == "" {
		return nil, fmt.Errorf("AMI answer without Response: %q", truncate(body, 200))
	}
	return blocks, nil
}

// truncate shortens what an error quotes of an answer, which may be long.
func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
