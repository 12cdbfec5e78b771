package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
)

const auditUsage = `usage: switchboard audit [--limit N] [--before ID] [--path PREFIX] [--json]

The audit trail, newest first: every change asked of the REST API (and so of this
CLI), refused ones too. Each entry says when, who (admin-token for the admin token,
- for a request refused for a missing or wrong one), the method and path, the status
answered, and the body with its passwords, PINs, secrets and tokens redacted (only its
type and size for a recording, or for a request with a wrong token).

  --limit N       at most N entries, 1 to 1000 (default 100)
  --before ID     entries older than the entry ID: the cursor a page ends with
  --path PREFIX   only the changes of paths starting with PREFIX (/api/v1/users/1001)

The CLI talks to the REST API: API_URL (default http://127.0.0.1:8080) and
API_TOKEN or SWITCHBOARD_ADMIN_TOKEN. Add --json for machine-readable output.
`

func audit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// The audit trail has one thing to do: it is the list subcommand of the shared parser.
	c, _ := newAdminCommand("audit", auditUsage, append([]string{"list"}, args...), stdout, stderr)
	c.flags.Usage = func() { fmt.Fprint(stderr, auditUsage) }
	limit := c.flags.Int("limit", 0, "at most this many entries (default 100)")
	before := c.flags.String("before", "", "entries older than this entry ID")
	path := c.flags.String("path", "", "only the changes of paths starting with this")
	if !c.parse() {
		return 2
	}
	if len(c.positional) > 0 {
		fmt.Fprintf(stderr, "switchboard audit: expected no arguments\n\n%s", auditUsage)
		return 2
	}
	if c.given["limit"] && *limit < 1 { // the client would leave it out, for the server's default
		fmt.Fprintf(stderr, "switchboard audit: --limit must be 1 to 1000\n")
		return 2
	}
	l, err := c.client.Audit(ctx, api.AuditQuery{Limit: *limit, Before: *before, Path: *path})
	if err != nil {
		var se *api.StatusError
		if errors.As(err, &se) {
			fmt.Fprintf(stderr, "switchboard audit: %s (%s)\n", se.Err.Message, se.Err.Code)
		} else {
			fmt.Fprintf(stderr, "switchboard audit: %v\n", err)
		}
		return 1
	}
	c.print(l, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTIME\tACTOR\tSTATUS\tREQUEST\tCHANGE")
		for _, e := range l.Entries {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s %s\t%s\n", e.ID, e.At.Local().Format(time.DateTime), orDash(e.Actor),
				e.Status, e.Method, e.Path, describeChange(e.Change))
		}
		tw.Flush()
		if l.Next != "" {
			fmt.Fprintf(w, "older entries: switchboard audit --before %s\n", l.Next)
		}
	})
	return 0
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// describeChange shows a recorded body on one line: its JSON, or - for none.
func describeChange(change map[string]any) string {
	if change == nil {
		return "-"
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(change); err != nil {
		return "?"
	}
	return string(bytes.TrimSpace(b.Bytes()))
}
