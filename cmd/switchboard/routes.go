package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/switchboard-pbx/switchboard/api"
)

const routesUsage = `usage: switchboard routes <command> [flags]

  add NAME --pattern PREFIX|MATCH|PREPEND [--pattern ...] --trunks NAME,NAME,...
           [--position N] [--emergency] [--users EXT,EXT,...] [--caller-id NUM]
              create an outbound route (after the last one, for everyone, unless
              told otherwise); its trunks are tried in the order given
  list        list routes in the order they are tried
  get NAME    show a route
  set NAME [the flags of add]
              change a route; --pattern, --trunks and --users replace the whole
              list (--users "" lets everyone use it), --emergency=false makes it an
              ordinary route, --position 0 puts it first
  rm NAME     delete a route

--pattern (repeatable) is prefix|match|prepend: 9|0NXXXXXX.| dials 9 then a
national number and sends the number without the 9; a lone match (112) has no
prefix and no prepend. X is any digit, Z 1-9, N 2-9, [1-5] a set, a trailing . one
or more of anything. Quote it: | is the shell's pipe.

The CLI talks to the REST API: API_URL (default http://127.0.0.1:8080) and
API_TOKEN or SWITCHBOARD_ADMIN_TOKEN. Add --json for machine-readable output.
`

func routes(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, ok := newAdminCommand("routes", routesUsage, args, stdout, stderr)
	if !ok {
		return 2
	}
	var patterns repeated
	c.flags.Var(&patterns, "pattern", "a dial pattern, prefix|match|prepend (repeatable)")
	trunkNames := c.flags.String("trunks", "", "trunks in failover order, comma-separated")
	position := c.flags.Int("position", 0, "the order routes are tried in, lower first (default: after the last)")
	emergency := c.flags.Bool("emergency", false, "an emergency route: everyone may use it, matched before anything else")
	users := c.flags.String("users", "", `extensions allowed to use the route, comma-separated ("": everyone)`)
	callerID := c.flags.String("caller-id", "", `the number sent on every call of the route ("" for none of its own)`)
	if !c.parse() {
		return 2
	}
	var dialPatterns []api.DialPattern
	for _, p := range patterns {
		d, ok := parsePattern(p)
		if !ok {
			fmt.Fprintf(c.stderr, "switchboard routes %s: --pattern %q must be prefix|match|prepend or a lone match\n", c.cmd, p)
			return 2
		}
		dialPatterns = append(dialPatterns, d)
	}
	trunkList, userList := splitList(*trunkNames), splitExtensions(*users)

	var err error
	switch c.cmd {
	case "add":
		if !c.need("NAME") {
			return 2
		}
		req := api.CreateRouteRequest{Name: c.positional[0], Position: *position, Patterns: dialPatterns,
			Trunks: trunkList, Emergency: *emergency, Users: userList, CallerID: *callerID}
		var r api.OutboundRoute
		if r, err = c.client.CreateRoute(ctx, req); err == nil {
			c.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "created route %s\n", r.Name)
				showRoute(w, r)
			})
		}
	case "set":
		if !c.need("NAME") {
			return 2
		}
		var req api.PatchRouteRequest
		if c.given["pattern"] {
			req.Patterns = &dialPatterns
		}
		if c.given["trunks"] {
			req.Trunks = &trunkList
		}
		if c.given["users"] {
			req.Users = &userList
		}
		if c.given["position"] {
			req.Position = position
		}
		if c.given["emergency"] {
			req.Emergency = emergency
		}
		if c.given["caller-id"] {
			req.CallerID = callerID
		}
		var r api.OutboundRoute
		if r, err = c.client.PatchRoute(ctx, c.positional[0], req); err == nil {
			c.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "changed route %s\n", r.Name)
				showRoute(w, r)
			})
		}
	case "list":
		if !c.need() {
			return 2
		}
		var all []api.OutboundRoute
		if all, err = c.client.Routes(ctx); err == nil {
			c.print(all, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "POSITION\tNAME\tPATTERNS\tTRUNKS\tUSERS")
				for _, r := range all {
					name := r.Name
					if r.Emergency {
						name += " (emergency)"
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.Position, name, describePatterns(r.Patterns),
						strings.Join(r.Trunks, ","), orEveryone(r.Users))
				}
				tw.Flush()
			})
		}
	case "get", "show":
		if !c.need("NAME") {
			return 2
		}
		var r api.OutboundRoute
		if r, err = c.client.Route(ctx, c.positional[0]); err == nil {
			c.print(r, func(w io.Writer) {
				fmt.Fprintf(w, "name:          %s\n", r.Name)
				showRoute(w, r)
				showCreated(w, r.CreatedAt)
			})
		}
	case "rm":
		if !c.need("NAME") {
			return 2
		}
		if err = c.client.DeleteRoute(ctx, c.positional[0]); err == nil {
			c.done("deleted route %s", c.positional[0])
		}
	default:
		return c.unknown()
	}
	return c.exit(err)
}

// parsePattern reads --pattern: prefix|match|prepend, or a lone match. What each part may
// hold is the server's to check.
func parsePattern(v string) (api.DialPattern, bool) {
	parts := strings.Split(v, "|")
	switch len(parts) {
	case 1:
		return api.DialPattern{Match: parts[0]}, true
	case 3:
		return api.DialPattern{Prefix: parts[0], Match: parts[1], Prepend: parts[2]}, true
	}
	return api.DialPattern{}, false
}

// describePatterns shows a route's patterns as --pattern takes them.
func describePatterns(patterns []api.DialPattern) string {
	var out []string
	for _, p := range patterns {
		if p.Prefix == "" && p.Prepend == "" {
			out = append(out, p.Match)
		} else {
			out = append(out, p.Prefix+"|"+p.Match+"|"+p.Prepend)
		}
	}
	return strings.Join(out, " ")
}

// orEveryone shows who may use a route.
func orEveryone(users []string) string {
	if len(users) == 0 {
		return "everyone"
	}
	return strings.Join(users, ",")
}

// showRoute prints a route's settings.
func showRoute(w io.Writer, r api.OutboundRoute) {
	callerID := r.CallerID
	if callerID == "" {
		callerID = "the user's or the trunk's"
	}
	fmt.Fprintf(w, "position:      %d\npatterns:      %s\ntrunks:        %s\nemergency:     %s\nusers:         %s\ncaller id:     %s\n",
		r.Position, describePatterns(r.Patterns), strings.Join(r.Trunks, ","), map[bool]string{true: "yes", false: "no"}[r.Emergency],
		orEveryone(r.Users), callerID)
}
