package api

import (
	"context"
	"net/url"
	"strconv"
)

// AuditQuery selects entries of the audit trail (GET /api/v1/audit): at most Limit (0: the
// server's default), older than the entry Before (the Next of the previous page), with a path
// starting with Path.
type AuditQuery struct {
	Limit  int
	Before string
	Path   string
}

// Audit lists the audit trail, newest first.
func (c *Client) Audit(ctx context.Context, q AuditQuery) (AuditList, error) {
	v := url.Values{}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Before != "" {
		v.Set("before", q.Before)
	}
	if q.Path != "" {
		v.Set("path", q.Path)
	}
	var l AuditList
	return l, c.do(ctx, "GET", "/api/v1/audit?"+v.Encode(), nil, &l)
}
