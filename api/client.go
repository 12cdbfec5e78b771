package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// Client calls the admin API; the CLI (`switchboard users ...`, `switchboard rooms ...`,
// `switchboard groups ...`, `switchboard queues ...`, `switchboard trunks ...`, `switchboard
// routes ...`, `switchboard dids ...`) and the end-to-end tests use it. Errors from the server
// are *switchboard.Error values carrying the server's code and message; StatusError exposes
// the HTTP status.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Token   string
	HTTP    *http.Client
}

// StatusError is an API error response.
type StatusError struct {
	Status int
	Err    *switchboard.Error
}

func (e *StatusError) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Err.Error()) }
func (e *StatusError) Unwrap() error { return e.Err }

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.send(ctx, method, path, body, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// send sends a request and returns a successful response, whose body the caller closes; an
// error response is returned as a *StatusError.
func (c *Client) send(ctx context.Context, method, path string, body any, header http.Header) (*http.Response, error) {
	if body == nil {
		return c.request(ctx, method, path, nil, header)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	if header == nil {
		header = http.Header{}
	}
	header.Set("Content-Type", "application/json")
	return c.request(ctx, method, path, b, header)
}

// sendRaw sends body as it is, of the given Content-Type.
func (c *Client) sendRaw(ctx context.Context, method, path string, body []byte, contentType string) (*http.Response, error) {
	return c.request(ctx, method, path, body, http.Header{"Content-Type": {contentType}})
}

func (c *Client) request(ctx context.Context, method, path string, body []byte, header http.Header) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var eb errorBody
		if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil || eb.Error.Code == "" {
			return nil, &StatusError{Status: resp.StatusCode, Err: switchboard.Errorf(switchboard.EINTERNAL, "%s %s: HTTP %d", method, path, resp.StatusCode)}
		}
		return nil, &StatusError{Status: resp.StatusCode, Err: &switchboard.Error{Code: eb.Error.Code, Message: eb.Error.Message}}
	}
	return resp, nil
}

// CreateUser creates a user; the response holds the generated password, if any.
func (c *Client) CreateUser(ctx context.Context, req CreateUserRequest) (User, error) {
	var u User
	return u, c.do(ctx, "POST", "/api/v1/users", req, &u)
}

// User returns one user.
func (c *Client) User(ctx context.Context, ext string) (User, error) {
	var u User
	return u, c.do(ctx, "GET", "/api/v1/users/"+url.PathEscape(ext), nil, &u)
}

// Users returns a page of users after the given extension.
func (c *Client) Users(ctx context.Context, after string, limit int) (UserList, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var l UserList
	return l, c.do(ctx, "GET", "/api/v1/users?"+q.Encode(), nil, &l)
}

// PatchUser changes some fields of a user.
func (c *Client) PatchUser(ctx context.Context, ext string, req PatchUserRequest) (User, error) {
	var u User
	return u, c.do(ctx, "PATCH", "/api/v1/users/"+url.PathEscape(ext), req, &u)
}

// DeleteUser deletes a user.
func (c *Client) DeleteUser(ctx context.Context, ext string) error {
	return c.do(ctx, "DELETE", "/api/v1/users/"+url.PathEscape(ext), nil, nil)
}

// ResetPassword sets a new SIP password; with password "" the server generates and returns one.
func (c *Client) ResetPassword(ctx context.Context, ext, password string) (PasswordResponse, error) {
	var r PasswordResponse
	return r, c.do(ctx, "POST", "/api/v1/users/"+url.PathEscape(ext)+"/password", PasswordRequest{Password: password}, &r)
}

// ResetPIN sets a user's voicemail PIN; with pin "" the server generates one and returns it.
func (c *Client) ResetPIN(ctx context.Context, ext, pin string) (PINResponse, error) {
	var out PINResponse
	return out, c.do(ctx, "POST", "/api/v1/users/"+url.PathEscape(ext)+"/voicemail/pin", PINRequest{PIN: pin}, &out)
}

// Presence returns a user's phone state.
func (c *Client) Presence(ctx context.Context, ext string) (Presence, error) {
	var p Presence
	return p, c.do(ctx, "GET", "/api/v1/users/"+url.PathEscape(ext)+"/presence", nil, &p)
}

// CallQuery selects call records (GET /api/v1/calls).
type CallQuery struct {
	Active bool
	User   string
	From   time.Time
	To     time.Time
	Limit  int
	Before string
}

// Calls lists call records, newest first.
func (c *Client) Calls(ctx context.Context, q CallQuery) (CallList, error) {
	v := url.Values{}
	if q.Active {
		v.Set("active", "true")
	}
	if q.User != "" {
		v.Set("user", q.User)
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.Format(time.RFC3339))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Before != "" {
		v.Set("before", q.Before)
	}
	var l CallList
	return l, c.do(ctx, "GET", "/api/v1/calls?"+v.Encode(), nil, &l)
}

// Call returns one call record.
func (c *Client) Call(ctx context.Context, id string) (Call, error) {
	var call Call
	return call, c.do(ctx, "GET", "/api/v1/calls/"+url.PathEscape(id), nil, &call)
}

// HangupCall ends a call in progress.
func (c *Client) HangupCall(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "/api/v1/calls/"+url.PathEscape(id), nil, nil)
}

// CreateRoom creates a conference room.
func (c *Client) CreateRoom(ctx context.Context, req CreateRoomRequest) (Room, error) {
	var r Room
	return r, c.do(ctx, "POST", "/api/v1/rooms", req, &r)
}

// Rooms returns every conference room, shorter numbers first.
func (c *Client) Rooms(ctx context.Context) ([]Room, error) {
	var l RoomList
	return l.Rooms, c.do(ctx, "GET", "/api/v1/rooms", nil, &l)
}

// Room returns one room with who is in it now (Live is nil when call control cannot say).
func (c *Client) Room(ctx context.Context, number string) (RoomDetail, error) {
	var r RoomDetail
	return r, c.do(ctx, "GET", "/api/v1/rooms/"+url.PathEscape(number), nil, &r)
}

// PatchRoom changes some fields of a room.
func (c *Client) PatchRoom(ctx context.Context, number string, req PatchRoomRequest) (Room, error) {
	var r Room
	return r, c.do(ctx, "PATCH", "/api/v1/rooms/"+url.PathEscape(number), req, &r)
}

// DeleteRoom deletes a room; whoever is in it stays until they leave.
func (c *Client) DeleteRoom(ctx context.Context, number string) error {
	return c.do(ctx, "DELETE", "/api/v1/rooms/"+url.PathEscape(number), nil, nil)
}

// RoomParticipants returns who is in a room now and whether it is locked.
func (c *Client) RoomParticipants(ctx context.Context, number string) (RoomState, error) {
	var st RoomState
	return st, c.do(ctx, "GET", "/api/v1/rooms/"+url.PathEscape(number)+"/participants", nil, &st)
}

// MuteParticipant mutes (muted) or unmutes a participant of a room.
func (c *Client) MuteParticipant(ctx context.Context, number, id string, muted bool) error {
	action := "/unmute"
	if muted {
		action = "/mute"
	}
	return c.do(ctx, "POST", "/api/v1/rooms/"+url.PathEscape(number)+"/participants/"+url.PathEscape(id)+action, nil, nil)
}

// KickParticipant hangs up a participant of a room.
func (c *Client) KickParticipant(ctx context.Context, number, id string) error {
	return c.do(ctx, "DELETE", "/api/v1/rooms/"+url.PathEscape(number)+"/participants/"+url.PathEscape(id), nil, nil)
}

// LockRoom locks a room (nobody new joins) or unlocks it.
func (c *Client) LockRoom(ctx context.Context, number string, locked bool) error {
	action := "/unlock"
	if locked {
		action = "/lock"
	}
	return c.do(ctx, "POST", "/api/v1/rooms/"+url.PathEscape(number)+action, nil, nil)
}

// CreateGroup creates a ring group.
func (c *Client) CreateGroup(ctx context.Context, req CreateGroupRequest) (Group, error) {
	var g Group
	return g, c.do(ctx, "POST", "/api/v1/groups", req, &g)
}

// Groups returns every ring group, shorter numbers first.
func (c *Client) Groups(ctx context.Context) ([]Group, error) {
	var l GroupList
	return l.Groups, c.do(ctx, "GET", "/api/v1/groups", nil, &l)
}

// Group returns one ring group.
func (c *Client) Group(ctx context.Context, number string) (Group, error) {
	var g Group
	return g, c.do(ctx, "GET", "/api/v1/groups/"+url.PathEscape(number), nil, &g)
}

// PatchGroup changes some fields of a group; members, when given, replaces the whole list.
func (c *Client) PatchGroup(ctx context.Context, number string, req PatchGroupRequest) (Group, error) {
	var g Group
	return g, c.do(ctx, "PATCH", "/api/v1/groups/"+url.PathEscape(number), req, &g)
}

// DeleteGroup deletes a group; calls ringing its members go on.
func (c *Client) DeleteGroup(ctx context.Context, number string) error {
	return c.do(ctx, "DELETE", "/api/v1/groups/"+url.PathEscape(number), nil, nil)
}

// CreateQueue creates a call queue; its agents start logged out.
func (c *Client) CreateQueue(ctx context.Context, req CreateQueueRequest) (Queue, error) {
	var q Queue
	return q, c.do(ctx, "POST", "/api/v1/queues", req, &q)
}

// Queues returns every call queue, shorter numbers first.
func (c *Client) Queues(ctx context.Context) ([]Queue, error) {
	var l QueueList
	return l.Queues, c.do(ctx, "GET", "/api/v1/queues", nil, &l)
}

// Queue returns one call queue with who waits in it and what its agents do now (Live is nil
// when call control cannot say).
func (c *Client) Queue(ctx context.Context, number string) (QueueDetail, error) {
	var q QueueDetail
	return q, c.do(ctx, "GET", "/api/v1/queues/"+url.PathEscape(number), nil, &q)
}

// PatchQueue changes some fields of a queue; agents, when given, replaces the whole list.
func (c *Client) PatchQueue(ctx context.Context, number string, req PatchQueueRequest) (Queue, error) {
	var q Queue
	return q, c.do(ctx, "PATCH", "/api/v1/queues/"+url.PathEscape(number), req, &q)
}

// DeleteQueue deletes a queue; callers waiting in it and its agents' calls go on.
func (c *Client) DeleteQueue(ctx context.Context, number string) error {
	return c.do(ctx, "DELETE", "/api/v1/queues/"+url.PathEscape(number), nil, nil)
}

// SetAgentLoggedIn logs agent ext in to queue number (in) or out of it.
func (c *Client) SetAgentLoggedIn(ctx context.Context, number, ext string, in bool) error {
	action := "/logout"
	if in {
		action = "/login"
	}
	return c.do(ctx, "POST", "/api/v1/queues/"+url.PathEscape(number)+"/agents/"+url.PathEscape(ext)+action, nil, nil)
}
