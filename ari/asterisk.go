package ari

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard"
)

// Asterisk is what call control asks of Asterisk. *Client implements it over ARI; unit tests
// fake it.
type Asterisk interface {
	Endpoint(ctx context.Context, ext string) (Endpoint, error)
	// CreateChannel creates an outgoing channel in the Stasis app without dialing it.
	CreateChannel(ctx context.Context, req ChannelRequest) (Channel, error)
	// Dial dials a created channel on behalf of the caller channel (whose identity it takes).
	Dial(ctx context.Context, channelID, callerID string, timeout time.Duration) error
	// Ring indicates ringing to a channel (a 180 to a caller's phone).
	Ring(ctx context.Context, channelID string) error
	Answer(ctx context.Context, channelID string) error
	Hangup(ctx context.Context, channelID, reason string) error
	SetVariable(ctx context.Context, channelID, name, value string) error
	// ChannelVariable reads a variable or evaluates a function on a channel.
	ChannelVariable(ctx context.Context, channelID, name string) (string, error)
	// ContinueAt hands a channel in Stasis back to the dialplan at a label of the extension it
	// entered Stasis from.
	ContinueAt(ctx context.Context, channelID, context, exten, label string) error
	CreateBridge(ctx context.Context, bridgeID string) error
	AddToBridge(ctx context.Context, bridgeID string, channelIDs ...string) error
	DestroyBridge(ctx context.Context, bridgeID string) error
	// TransferProgress tells the phone that asked for a transfer how it goes (a NOTIFY):
	// channel_progress, channel_answered, channel_unavailable or channel_declined.
	TransferProgress(ctx context.Context, channelID, state string) error
	// Subscribe keeps the app's events of a channel coming after it leaves Stasis.
	Subscribe(ctx context.Context, channelID string) error
	// Snapshot lists every channel and every Switchboard bridge.
	Snapshot(ctx context.Context) (Snapshot, error)
	// SetGlobal sets a dialplan global variable; Global reads one ("" when unset).
	SetGlobal(ctx context.Context, name, value string) error
	Global(ctx context.Context, name string) (string, error)
	// Play plays media (sound:x, tone:y) to a channel, in order, as one playback;
	// PlayToBridge to everyone in a bridge. StopPlayback ends a playback early.
	Play(ctx context.Context, channelID, playbackID string, media ...string) error
	PlayToBridge(ctx context.Context, bridgeID, playbackID string, media ...string) error
	StopPlayback(ctx context.Context, playbackID string) error
	// BridgeMOH starts or stops music on hold in a bridge.
	BridgeMOH(ctx context.Context, bridgeID string, on bool) error
	// Mute stops or restores the audio a channel sends into its bridge.
	Mute(ctx context.Context, channelID string, muted bool) error
	// BridgeByID returns one bridge (ENOTFOUND when there is none).
	BridgeByID(ctx context.Context, bridgeID string) (Bridge, error)
	// TakeEndStamp returns (and deletes) the end time the dialplan noted for a caller channel
	// that hung up while the control plane was away; zero when it noted none.
	TakeEndStamp(ctx context.Context, channelID string) (time.Time, error)
}

var _ Asterisk = (*Client)(nil)

// ChannelRequest creates an outgoing channel that enters the Stasis app at once, not dialed.
type ChannelRequest struct {
	ID         string            // the channel ID to give it
	Endpoint   string            // e.g. PJSIP/1002
	AppArgs    string            // Stasis arguments
	Originator string            // the caller's channel: codecs and linked ID follow it
	Variables  map[string]string // set on the channel before it is dialed (functions too)
}

// Channel is one channel as Asterisk reports it.
type Channel struct {
	ID      string
	Name    string // e.g. PJSIP/1002-0000002a
	State   string // Down, Ring, Ringing, Up...
	App     string // the dialplan application running: Stasis, VoiceMail, Dial...
	AppData string // its arguments, e.g. "switchboard,call,1002"
	Created time.Time
}

// InStasis reports whether the channel is in a Stasis application.
func (c Channel) InStasis() bool { return c.App == "Stasis" }

// Bridge is one bridge and the channels in it.
type Bridge struct {
	ID       string
	Channels []string
}

// Snapshot is what Asterisk holds: every channel, and the bridges call control created.
type Snapshot struct {
	Channels []Channel
	Bridges  []Bridge
}

// BridgePrefix starts the ID of every bridge call control creates.
const BridgePrefix = "sb-"

func channelKey(id string) *v5.Key { return v5.NewKey(v5.ChannelKey, pathID(id)) }
func bridgeKey(id string) *v5.Key  { return v5.NewKey(v5.BridgeKey, pathID(id)) }

// channelJSON is ARI's channel object, with the fields ari/v5 does not decode.
type channelJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	State    string `json:"state"`
	Dialplan struct {
		AppName string `json:"app_name"`
		AppData string `json:"app_data"`
	} `json:"dialplan"`
	Created string `json:"creationtime"`
}

func (j channelJSON) channel() Channel {
	created, _ := time.Parse("2006-01-02T15:04:05.000-0700", j.Created)
	return Channel{ID: j.ID, Name: j.Name, State: j.State, App: j.Dialplan.AppName, AppData: j.Dialplan.AppData, Created: created}
}

// request sends one ARI request with our HTTP client (for what ari/v5 has no method for) and
// decodes a JSON answer into out when it is not nil.
func (c *Client) request(ctx context.Context, op, method, path string, query url.Values, body, out any) error {
	u := c.base.String() + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	resp, err := c.http.Do(req)
	if err != nil {
		return translate(op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return translate(op, &statusError{code: resp.StatusCode, err: fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))})
	}
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return translate(op, fmt.Errorf("decode answer: %w", err))
	}
	return nil
}

// CreateChannel creates an outgoing channel in the app (POST /channels/create): it enters
// Stasis at once and can be bridged before it is dialed, so that its ringing and its answer
// reach the caller through the bridge without the control plane (early bridging).
func (c *Client) CreateChannel(ctx context.Context, r ChannelRequest) (Channel, error) {
	q := url.Values{"endpoint": {r.Endpoint}, "app": {c.cfg.App}, "channelId": {r.ID}}
	if r.AppArgs != "" {
		q.Set("appArgs", r.AppArgs)
	}
	if r.Originator != "" {
		q.Set("originator", r.Originator)
	}
	var body any
	if len(r.Variables) > 0 {
		body = map[string]any{"variables": r.Variables}
	}
	var ch channelJSON
	if err := c.request(ctx, "create channel "+r.ID, "POST", "/channels/create", q, body, &ch); err != nil {
		return Channel{}, err
	}
	return ch.channel(), nil
}

// Dial dials a created channel (POST /channels/{id}/dial). With a caller, the callee leg takes
// the caller's identity (connected line, redirecting, inheritable variables) as Dial() does.
func (c *Client) Dial(ctx context.Context, channelID, callerID string, timeout time.Duration) error {
	q := url.Values{"timeout": {strconv.Itoa(int(timeout / time.Second))}}
	if callerID != "" {
		q.Set("caller", callerID)
	}
	return c.request(ctx, "dial "+channelID, "POST", "/channels/"+pathID(channelID)+"/dial", q, nil, nil)
}

// Ring indicates ringing to a channel.
func (c *Client) Ring(ctx context.Context, channelID string) error {
	return do0(ctx, "ring "+channelID, func() error { return c.rest.Channel().Ring(channelKey(channelID)) })
}

// ChannelVariable reads a channel variable or evaluates a function on the channel (GET
// /channels/{id}/variable).
func (c *Client) ChannelVariable(ctx context.Context, channelID, name string) (string, error) {
	var v struct {
		Value string `json:"value"`
	}
	err := c.request(ctx, "read "+name+" of "+channelID, "GET", "/channels/"+pathID(channelID)+"/variable",
		url.Values{"variable": {name}}, nil, &v)
	return v.Value, err
}

// Answer answers a channel.
func (c *Client) Answer(ctx context.Context, channelID string) error {
	return do0(ctx, "answer "+channelID, func() error { return c.rest.Channel().Answer(channelKey(channelID)) })
}

// Hangup hangs a channel up with an ARI reason (normal, busy, unallocated, no_answer...).
func (c *Client) Hangup(ctx context.Context, channelID, reason string) error {
	return do0(ctx, "hang up "+channelID, func() error { return c.rest.Channel().Hangup(channelKey(channelID), reason) })
}

// SetVariable sets a channel variable or function.
func (c *Client) SetVariable(ctx context.Context, channelID, name, value string) error {
	return do0(ctx, fmt.Sprintf("set %s on %s", name, channelID), func() error {
		return c.rest.Channel().SetVariable(channelKey(channelID), name, value)
	})
}

// ContinueAt hands a channel back to the dialplan at a label (POST /channels/{id}/continue).
func (c *Client) ContinueAt(ctx context.Context, channelID, context, exten, label string) error {
	q := url.Values{"context": {context}, "extension": {exten}, "label": {label}}
	return c.request(ctx, "continue "+channelID+" at "+label, "POST", "/channels/"+pathID(channelID)+"/continue", q, nil, nil)
}

// CreateBridge creates a mixing bridge.
func (c *Client) CreateBridge(ctx context.Context, bridgeID string) error {
	return do0(ctx, "create bridge "+bridgeID, func() error {
		_, err := c.rest.Bridge().Create(bridgeKey(bridgeID), "mixing", bridgeID)
		return err
	})
}

// AddToBridge adds channels to a bridge, all at once: one request per channel, in parallel.
// (ARI takes a list in the query string, but v5 sends the ID as one JSON string, which
// Asterisk reads as a single channel.)
func (c *Client) AddToBridge(ctx context.Context, bridgeID string, channelIDs ...string) error {
	errs := make(chan error, len(channelIDs))
	for _, id := range channelIDs {
		go func() {
			errs <- do0(ctx, "add "+id+" to bridge "+bridgeID, func() error {
				// The ID travels in the body, where v5 encodes it as JSON: no escaping.
				return c.rest.Bridge().AddChannel(bridgeKey(bridgeID), id)
			})
		}()
	}
	var first error
	for range channelIDs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// DestroyBridge destroys a bridge.
func (c *Client) DestroyBridge(ctx context.Context, bridgeID string) error {
	return do0(ctx, "destroy bridge "+bridgeID, func() error { return c.rest.Bridge().Delete(bridgeKey(bridgeID)) })
}

// TransferProgress reports a transfer's progress to the transferring phone (POST
// /channels/{id}/transfer_progress).
func (c *Client) TransferProgress(ctx context.Context, channelID, state string) error {
	return c.request(ctx, "transfer progress of "+channelID, "POST", "/channels/"+pathID(channelID)+"/transfer_progress",
		url.Values{"states": {state}}, nil, nil)
}

// Subscribe subscribes the app to a channel's events (POST /applications/{app}/subscription):
// they keep coming after the channel leaves Stasis, until it is destroyed.
func (c *Client) Subscribe(ctx context.Context, channelID string) error {
	q := url.Values{"eventSource": {"channel:" + channelID}}
	return c.request(ctx, "subscribe to "+channelID, "POST", "/applications/"+pathID(c.cfg.App)+"/subscription", q, nil, nil)
}

// Snapshot lists every channel (GET /channels) and Switchboard's bridges (GET /bridges, by
// BridgePrefix): two requests, whatever the number of calls.
func (c *Client) Snapshot(ctx context.Context) (Snapshot, error) {
	var chans []channelJSON
	if err := c.request(ctx, "list channels", "GET", "/channels", nil, nil, &chans); err != nil {
		return Snapshot{}, err
	}
	var bridges []struct {
		ID       string   `json:"id"`
		Channels []string `json:"channels"`
	}
	if err := c.request(ctx, "list bridges", "GET", "/bridges", nil, nil, &bridges); err != nil {
		return Snapshot{}, err
	}
	var s Snapshot
	for _, ch := range chans {
		s.Channels = append(s.Channels, ch.channel())
	}
	for _, b := range bridges {
		if strings.HasPrefix(b.ID, BridgePrefix) {
			s.Bridges = append(s.Bridges, Bridge{ID: b.ID, Channels: b.Channels})
		}
	}
	return s, nil
}

// SetGlobal sets a global dialplan variable (POST /asterisk/variable).
func (c *Client) SetGlobal(ctx context.Context, name, value string) error {
	q := url.Values{"variable": {name}, "value": {value}}
	return c.request(ctx, "set global "+name, "POST", "/asterisk/variable", q, nil, nil)
}

// EndStampPrefix starts the name of the dialplan global in which the dialplan notes when a
// caller hung up while the control plane was away: SB_ENDED_<uniqueid, dots as underscores>
// (see [switchboard-ended] in asterisk/extensions.conf).
const EndStampPrefix = "SB_ENDED_"

// TakeEndStamp reads the global the dialplan wrote for a channel (GET /asterisk/variable) and
// removes it (POST without a value deletes a global).
func (c *Client) TakeEndStamp(ctx context.Context, channelID string) (time.Time, error) {
	name := EndStampPrefix + strings.ReplaceAll(channelID, ".", "_")
	var v struct {
		Value string `json:"value"`
	}
	if err := c.request(ctx, "read end of "+channelID, "GET", "/asterisk/variable", url.Values{"variable": {name}}, nil, &v); err != nil {
		return time.Time{}, err
	}
	at := parseStamp(v.Value)
	if !at.IsZero() {
		if err := c.request(ctx, "remove end of "+channelID, "POST", "/asterisk/variable", url.Values{"variable": {name}}, nil, nil); err != nil {
			return at, err
		}
	}
	return at, nil
}

// parseStamp reads "1764700000.123" (seconds since the epoch, with milliseconds); zero for
// anything else.
func parseStamp(s string) time.Time {
	secs, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}
	}
	var ms int64
	if frac != "" {
		frac = (frac + "000")[:3]
		if ms, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}
		}
	}
	return time.Unix(sec, ms*int64(time.Millisecond))
}

// endpointOf returns the endpoint of a channel name: "PJSIP/1001-0000002a" → "1001".
func endpointOf(name string) string {
	rest, ok := strings.CutPrefix(name, "PJSIP/")
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		return rest[:i]
	}
	return rest
}

// ErrorIsUnavailable reports whether err says Asterisk could not be reached: call control
// then does nothing and leaves the call to reconciliation.
func ErrorIsUnavailable(err error) bool {
	return switchboard.ErrorCode(err) == switchboard.EUNAVAILABLE
}
