package api

import (
	"context"
	"net/url"
)

// CreateTrunk creates a trunk. The response, like every other, holds no password.
func (c *Client) CreateTrunk(ctx context.Context, req CreateTrunkRequest) (Trunk, error) {
	var t Trunk
	return t, c.do(ctx, "POST", "/api/v1/trunks", req, &t)
}

// Trunks returns every trunk, ordered by name, with its status now.
func (c *Client) Trunks(ctx context.Context) ([]Trunk, error) {
	var l TrunkList
	return l.Trunks, c.do(ctx, "GET", "/api/v1/trunks", nil, &l)
}

// Trunk returns one trunk with its status now.
func (c *Client) Trunk(ctx context.Context, name string) (Trunk, error) {
	var t Trunk
	return t, c.do(ctx, "GET", "/api/v1/trunks/"+url.PathEscape(name), nil, &t)
}

// PatchTrunk changes some fields of a trunk; addresses and codecs, when given, replace the
// whole list.
func (c *Client) PatchTrunk(ctx context.Context, name string, req PatchTrunkRequest) (Trunk, error) {
	var t Trunk
	return t, c.do(ctx, "PATCH", "/api/v1/trunks/"+url.PathEscape(name), req, &t)
}

// DeleteTrunk deletes a trunk no route uses; calls on it go on.
func (c *Client) DeleteTrunk(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/api/v1/trunks/"+url.PathEscape(name), nil, nil)
}

// CreateRoute creates an outbound route.
func (c *Client) CreateRoute(ctx context.Context, req CreateRouteRequest) (OutboundRoute, error) {
	var r OutboundRoute
	return r, c.do(ctx, "POST", "/api/v1/routes", req, &r)
}

// Routes returns every outbound route, in the order they are tried.
func (c *Client) Routes(ctx context.Context) ([]OutboundRoute, error) {
	var l RouteList
	return l.Routes, c.do(ctx, "GET", "/api/v1/routes", nil, &l)
}

// Route returns one outbound route.
func (c *Client) Route(ctx context.Context, name string) (OutboundRoute, error) {
	var r OutboundRoute
	return r, c.do(ctx, "GET", "/api/v1/routes/"+url.PathEscape(name), nil, &r)
}

// PatchRoute changes some fields of a route; a list given replaces the whole list.
func (c *Client) PatchRoute(ctx context.Context, name string, req PatchRouteRequest) (OutboundRoute, error) {
	var r OutboundRoute
	return r, c.do(ctx, "PATCH", "/api/v1/routes/"+url.PathEscape(name), req, &r)
}

// DeleteRoute deletes an outbound route.
func (c *Client) DeleteRoute(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/api/v1/routes/"+url.PathEscape(name), nil, nil)
}

// CreateInboundNumber creates an inbound number (DID).
func (c *Client) CreateInboundNumber(ctx context.Context, req CreateInboundNumberRequest) (InboundNumber, error) {
	var n InboundNumber
	return n, c.do(ctx, "POST", "/api/v1/inbound-numbers", req, &n)
}

// InboundNumbers returns every inbound number, ordered by number.
func (c *Client) InboundNumbers(ctx context.Context) ([]InboundNumber, error) {
	var l InboundNumberList
	return l.InboundNumbers, c.do(ctx, "GET", "/api/v1/inbound-numbers", nil, &l)
}

// InboundNumber returns one inbound number.
func (c *Client) InboundNumber(ctx context.Context, number string) (InboundNumber, error) {
	var n InboundNumber
	return n, c.do(ctx, "GET", "/api/v1/inbound-numbers/"+url.PathEscape(number), nil, &n)
}

// PatchInboundNumber changes some fields of an inbound number.
func (c *Client) PatchInboundNumber(ctx context.Context, number string, req PatchInboundNumberRequest) (InboundNumber, error) {
	var n InboundNumber
	return n, c.do(ctx, "PATCH", "/api/v1/inbound-numbers/"+url.PathEscape(number), req, &n)
}

// DeleteInboundNumber deletes an inbound number; calls to it are refused from then on.
func (c *Client) DeleteInboundNumber(ctx context.Context, number string) error {
	return c.do(ctx, "DELETE", "/api/v1/inbound-numbers/"+url.PathEscape(number), nil, nil)
}
