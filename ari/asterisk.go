package ari

import (
	"context"
	"fmt"
	"strings"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard"
)

// Asterisk is what call control asks of Asterisk. *Client implements it over ARI; unit tests
// fake it.
type Asterisk interface {
	Endpoint(ctx context.Context, ext string) (Endpoint, error)
	Originate(ctx context.Context, req OriginateRequest) error
	Ring(ctx context.Context, channelID string) error
	Answer(ctx context.Context, channelID string) error
	Hangup(ctx context.Context, channelID, reason string) error
	SetVariable(ctx context.Context, channelID, name, value string) error
	Continue(ctx context.Context, channelID string) error
	CreateBridge(ctx context.Context, bridgeID string) error
	AddToBridge(ctx context.Context, bridgeID string, channelIDs ...string) error
	DestroyBridge(ctx context.Context, bridgeID string) error
	AppState(ctx context.Context) (AppState, error)
	ChannelExists(ctx context.Context, channelID string) (bool, error)
}

var _ Asterisk = (*Client)(nil)

// OriginateRequest creates and dials an outgoing channel that enters the Stasis app when
// answered (events reach the app from the start).
type OriginateRequest struct {
	ID         string        // the channel ID to give it
	Endpoint   string        // e.g. PJSIP/1002
	AppArgs    string        // Stasis arguments
	Originator string        // the caller's channel: codecs and linked ID follow it
	CallerID   string        // what the callee's phone shows, e.g. "Alice" <1001>
	Timeout    time.Duration // ring timeout: Asterisk hangs the channel up when it passes
}

// AppState is what Asterisk holds for the application: its channels and bridges.
type AppState struct {
	Channels []ChannelState
	Bridges  []BridgeState
}

// ChannelState is one channel of the application.
type ChannelState struct {
	ID    string
	Name  string
	State string // Down, Ring, Ringing, Up...
}

// BridgeState is one bridge of the application.
type BridgeState struct {
	ID       string
	Channels []string
}

func channelKey(id string) *v5.Key { return v5.NewKey(v5.ChannelKey, pathID(id)) }
func bridgeKey(id string) *v5.Key  { return v5.NewKey(v5.BridgeKey, pathID(id)) }

// Originate creates and dials an outgoing channel in one request (POST /channels): one round
// trip on the call setup path instead of create + dial.
func (c *Client) Originate(ctx context.Context, r OriginateRequest) error {
	return do0(ctx, "originate "+r.ID, func() error {
		_, err := c.rest.Channel().Originate(nil, v5.OriginateRequest{
			ChannelID: r.ID, Endpoint: r.Endpoint, App: c.cfg.App, AppArgs: r.AppArgs,
			Originator: r.Originator, CallerID: r.CallerID, Timeout: int(r.Timeout / time.Second),
		})
		return err
	})
}

// Ring indicates ringing to a channel (a 180 to the caller's phone).
func (c *Client) Ring(ctx context.Context, channelID string) error {
	return do0(ctx, "ring "+channelID, func() error { return c.rest.Channel().Ring(channelKey(channelID)) })
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

// Continue hands a channel back to the dialplan at the priority after Stasis().
func (c *Client) Continue(ctx context.Context, channelID string) error {
	return do0(ctx, "continue "+channelID, func() error {
		return c.rest.Channel().Continue(channelKey(channelID), "", "", 0)
	})
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

// BridgePrefix starts the ID of every bridge call control creates.
const BridgePrefix = "sb-"

// AppState lists the application's channels (GET /applications/{app}) and Switchboard's
// bridges (GET /bridges, by BridgePrefix).
func (c *Client) AppState(ctx context.Context) (AppState, error) {
	app, err := do(ctx, "get application", func() (*v5.ApplicationData, error) {
		return c.rest.Application().Data(v5.NewKey(v5.ApplicationKey, pathID(c.cfg.App)))
	})
	if err != nil {
		return AppState{}, err
	}
	var st AppState
	for _, id := range app.ChannelIDs {
		d, err := do(ctx, "get channel "+id, func() (*v5.ChannelData, error) { return c.rest.Channel().Data(channelKey(id)) })
		if err != nil {
			continue // gone meanwhile
		}
		st.Channels = append(st.Channels, ChannelState{ID: d.ID, Name: d.Name, State: d.State})
	}
	// Bridges are listed in full: after a crash, ours are known by their prefix.
	keys, err := do(ctx, "list bridges", func() ([]*v5.Key, error) { return c.rest.Bridge().List(nil) })
	if err != nil {
		return AppState{}, err
	}
	for _, k := range keys {
		if !strings.HasPrefix(k.ID, BridgePrefix) {
			continue
		}
		d, err := do(ctx, "get bridge "+k.ID, func() (*v5.BridgeData, error) { return c.rest.Bridge().Data(bridgeKey(k.ID)) })
		if err != nil {
			continue
		}
		st.Bridges = append(st.Bridges, BridgeState{ID: d.ID, Channels: d.ChannelIDs})
	}
	return st, nil
}

// ChannelExists reports whether Asterisk still has a channel (GET /channels/{id}).
func (c *Client) ChannelExists(ctx context.Context, channelID string) (bool, error) {
	_, err := do(ctx, "get channel "+channelID, func() (*v5.ChannelData, error) { return c.rest.Channel().Data(channelKey(channelID)) })
	switch switchboard.ErrorCode(err) {
	case "":
		return true, nil
	case switchboard.ENOTFOUND:
		return false, nil
	}
	return false, err
}
