package ari

import (
	"context"
	"net/url"
)

// The ARI requests conference rooms need: prompts and tones (playbacks), music on hold in a
// room's bridge, muting a participant, and reading what Asterisk holds of a room (its bridge,
// the global that says it is locked).

// Play starts playing media (sound:..., tone:...) to a channel, one after the other, as
// playback playbackID (POST /channels/{id}/play/{playbackId}).
func (c *Client) Play(ctx context.Context, channelID, playbackID string, media ...string) error {
	return c.request(ctx, "play to "+channelID, "POST", "/channels/"+pathID(channelID)+"/play/"+pathID(playbackID),
		url.Values{"media": media}, nil, nil)
}

// PlayToBridge plays media to everyone in a bridge (POST /bridges/{id}/play/{playbackId}).
func (c *Client) PlayToBridge(ctx context.Context, bridgeID, playbackID string, media ...string) error {
	return c.request(ctx, "play to bridge "+bridgeID, "POST", "/bridges/"+pathID(bridgeID)+"/play/"+pathID(playbackID),
		url.Values{"media": media}, nil, nil)
}

// StopPlayback stops a playback (DELETE /playbacks/{id}); ENOTFOUND when it has ended.
func (c *Client) StopPlayback(ctx context.Context, playbackID string) error {
	return c.request(ctx, "stop playback "+playbackID, "DELETE", "/playbacks/"+pathID(playbackID), nil, nil, nil)
}

// BridgeMOH starts (on) or stops music on hold for everyone in a bridge (POST or DELETE
// /bridges/{id}/moh), in the default class.
func (c *Client) BridgeMOH(ctx context.Context, bridgeID string, on bool) error {
	if on {
		return c.request(ctx, "start music in "+bridgeID, "POST", "/bridges/"+pathID(bridgeID)+"/moh", nil, nil, nil)
	}
	return c.request(ctx, "stop music in "+bridgeID, "DELETE", "/bridges/"+pathID(bridgeID)+"/moh", nil, nil, nil)
}

// Mute stops (muted) or lets through again the audio a channel sends (POST or DELETE
// /channels/{id}/mute, direction in): the others in its bridge no longer hear it.
func (c *Client) Mute(ctx context.Context, channelID string, muted bool) error {
	method := "DELETE"
	if muted {
		method = "POST"
	}
	return c.request(ctx, "mute "+channelID, method, "/channels/"+pathID(channelID)+"/mute",
		url.Values{"direction": {"in"}}, nil, nil)
}

// BridgeByID returns one bridge and the channels in it (GET /bridges/{id}); ENOTFOUND when
// there is none.
func (c *Client) BridgeByID(ctx context.Context, bridgeID string) (Bridge, error) {
	var b struct {
		ID       string   `json:"id"`
		Channels []string `json:"channels"`
	}
	if err := c.request(ctx, "get bridge "+bridgeID, "GET", "/bridges/"+pathID(bridgeID), nil, nil, &b); err != nil {
		return Bridge{}, err
	}
	return Bridge{ID: b.ID, Channels: b.Channels}, nil
}

// Global reads a dialplan global variable (GET /asterisk/variable); "" when it is not set.
func (c *Client) Global(ctx context.Context, name string) (string, error) {
	var v struct {
		Value string `json:"value"`
	}
	err := c.request(ctx, "read global "+name, "GET", "/asterisk/variable", url.Values{"variable": {name}}, nil, &v)
	return v.Value, err
}
