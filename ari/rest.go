package ari

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

var _ switchboard.PresenceSource = (*Client)(nil)

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// Ping asks Asterisk whether it answers (GET /asterisk/info).
func (c *Client) Ping(ctx context.Context) error {
	_, err := do(ctx, "ping Asterisk", func() (*v5.AsteriskInfo, error) {
		return c.rest.Asterisk().Info(nil)
	})
	return err
}

// Endpoint is a PJSIP endpoint's state as ARI reports it.
type Endpoint struct {
	State    string   // online, offline, unknown
	Channels []string // IDs of its channels
}

// Endpoint returns the state of PJSIP/{ext} (GET /endpoints/PJSIP/{ext}); ENOTFOUND when
// Asterisk has no such endpoint.
func (c *Client) Endpoint(ctx context.Context, ext string) (Endpoint, error) {
	d, err := do(ctx, "get endpoint "+ext, func() (*v5.EndpointData, error) {
		return c.rest.Endpoint().Data(v5.NewEndpointKey("PJSIP", pathID(ext)))
	})
	if err != nil {
		return Endpoint{}, err
	}
	return Endpoint{State: d.State, Channels: d.ChannelIDs}, nil
}

// DeviceState returns a device's state, e.g. "PJSIP/1001" → NOT_INUSE, INUSE, RINGING,
// UNAVAILABLE (GET /deviceStates/{device}, the slash escaped).
func (c *Client) DeviceState(ctx context.Context, device string) (string, error) {
	d, err := do(ctx, "get device state "+device, func() (*v5.DeviceStateData, error) {
		return c.rest.DeviceState().Data(v5.NewKey(v5.DeviceStateKey, pathID(device)))
	})
	if err != nil {
		return "", err
	}
	return d.State, nil
}

// Presence combines endpoint and device state into a user's presence. An extension Asterisk
// does not know (yet) is offline.
func (c *Client) Presence(ctx context.Context, ext string) (switchboard.Presence, error) {
	p := switchboard.Presence{Extension: ext, EndpointState: "unknown"}
	ep, err := c.Endpoint(ctx, ext)
	switch {
	case switchboard.ErrorCode(err) == switchboard.ENOTFOUND:
		p.State = switchboard.Offline
		return p, nil
	case err != nil:
		return p, fmt.Errorf("presence of %s: %w", ext, err)
	}
	p.EndpointState, p.Channels = ep.State, len(ep.Channels)
	p.DeviceState, err = c.DeviceState(ctx, "PJSIP/"+ext)
	if err != nil {
		return p, fmt.Errorf("presence of %s: %w", ext, err)
	}
	p.State = switchboard.PresenceFromStates(p.EndpointState, p.DeviceState)
	if p.Devices, err = c.Devices(ctx, ext); err != nil {
		return p, fmt.Errorf("presence of %s: %w", ext, err)
	}
	return p, nil
}

// Devices lists the phones registered for ext, from Asterisk's dynamic configuration: the
// AOR's contacts (GET /asterisk/config/dynamic/res_pjsip/aor/{ext}), then each contact's user
// agent (contact objects are named "<aor>;@<md5 of the URI>").
func (c *Client) Devices(ctx context.Context, ext string) ([]switchboard.Device, error) {
	aor, err := c.dynamicObject(ctx, "aor", ext)
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []switchboard.Device
	for _, uri := range strings.Split(strings.Join(aor["contact"], ","), ",") {
		if uri = strings.TrimSpace(uri); uri == "" {
			continue
		}
		d := switchboard.Device{Contact: uri}
		sum := md5.Sum([]byte(uri))
		if contact, err := c.dynamicObject(ctx, "contact", ext+";@"+hex.EncodeToString(sum[:])); err == nil {
			d.UserAgent = strings.Join(contact["user_agent"], " ")
		}
		out = append(out, d)
	}
	return out, nil
}

// dynamicObject reads one res_pjsip object's attributes (GET /asterisk/config/dynamic/...); an
// attribute may come several times (an AOR lists one "contact" per registered phone).
func (c *Client) dynamicObject(ctx context.Context, kind, id string) (map[string][]string, error) {
	var attrs []struct {
		Attribute string `json:"attribute"`
		Value     string `json:"value"`
	}
	if err := c.request(ctx, "read "+kind+" "+id, "GET", dynamicPath(provisioning.ModulePJSIP, kind, id), nil, nil, &attrs); err != nil {
		return nil, err
	}
	m := make(map[string][]string, len(attrs))
	for _, a := range attrs {
		m[a.Attribute] = append(m[a.Attribute], a.Value)
	}
	return m, nil
}

// ErrNotConnected is returned by operations that need the event stream while it is down.
var ErrNotConnected = errors.New("ARI event stream not connected")
