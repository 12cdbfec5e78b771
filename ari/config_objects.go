package ari

import (
	"context"

	"github.com/switchboard-pbx/switchboard/provisioning"
)

var _ provisioning.ConfigAsterisk = (*Client)(nil)

// PutObject creates or replaces an object of any module's push configuration (PUT
// /asterisk/config/dynamic/{module}/{type}/{id}) with exactly its own fields: trunks are built
// from Asterisk's defaults, not from the users' templates. The fields' values (a trunk's
// password) never appear in an error.
func (c *Client) PutObject(ctx context.Context, o provisioning.ConfigObject) error {
	fields := make([]configTuple, 0, len(o.Fields))
	for _, f := range o.Fields {
		fields = append(fields, configTuple{f.Name, f.Value})
	}
	return c.request(ctx, "push "+o.Type+" "+o.ID, "PUT", dynamicPath(o.Module, o.Type, o.ID), nil,
		map[string]any{"fields": fields}, nil)
}

// DeleteObject removes a pushed object; ENOTFOUND when Asterisk holds none of that name.
func (c *Client) DeleteObject(ctx context.Context, module, typ, id string) error {
	return c.request(ctx, "remove "+typ+" "+id, "DELETE", dynamicPath(module, typ, id), nil, nil, nil)
}

func dynamicPath(module, typ, id string) string {
	return "/asterisk/config/dynamic/" + pathID(module) + "/" + pathID(typ) + "/" + pathID(id)
}
