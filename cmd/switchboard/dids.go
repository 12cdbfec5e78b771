package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/switchboard-pbx/switchboard/api"
)

const didsUsage = `usage: switchboard dids <command> [flags]

  add NUMBER --to EXT|voicemail:EXT|hangup [--name NAME] [--trunk TRUNK]
              create an inbound number: calls to it go to the number EXT (a user, a
              room, a group or a queue), to the mailbox of EXT, or are refused; from
              any trunk unless --trunk names the only one
  list        list inbound numbers
  get NUMBER  show an inbound number
  set NUMBER [--to ...] [--name NAME] [--trunk TRUNK]
              change an inbound number (--trunk "" accepts it from any trunk)
  rm NUMBER   delete an inbound number: calls to it are refused from then on

NUMBER is as the provider sends it: digits with an optional leading +.

The CLI talks to the REST API: API_URL (default http://127.0.0.1:8080) and
API_TOKEN or SWITCHBOARD_ADMIN_TOKEN. Add --json for machine-readable output.
`

func dids(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, ok := newAdminCommand("dids", didsUsage, args, stdout, stderr)
	if !ok {
		return 2
	}
	name := c.flags.String("name", "", "what the number is, for admins")
	trunk := c.flags.String("trunk", "", `the only trunk the number is accepted from ("": any)`)
	to := c.flags.String("to", "", "where calls go: EXT (or number:EXT), voicemail:EXT or hangup")
	if !c.parse() {
		return 2
	}
	var destination *api.GroupDestination
	if c.given["to"] {
		d, ok := parseInboundDestination(*to)
		if !ok {
			fmt.Fprintf(c.stderr, "switchboard dids %s: --to must be EXT, voicemail:EXT or hangup\n", c.cmd)
			return 2
		}
		destination = &d
	}

	var err error
	switch c.cmd {
	case "add":
		if !c.need("NUMBER") {
			return 2
		}
		if destination == nil {
			fmt.Fprintf(c.stderr, "switchboard dids add: --to is required\n\n%s", didsUsage)
			return 2
		}
		var n api.InboundNumber
		req := api.CreateInboundNumberRequest{Number: c.positional[0], Name: *name, Trunk: *trunk, Destination: destination}
		if n, err = c.client.CreateInboundNumber(ctx, req); err == nil {
			c.print(n, func(w io.Writer) {
				fmt.Fprintf(w, "created inbound number %s\n", n.Number)
				showInboundNumber(w, n)
			})
		}
	case "set":
		if !c.need("NUMBER") {
			return 2
		}
		req := api.PatchInboundNumberRequest{Destination: destination}
		if c.given["name"] {
			req.Name = name
		}
		if c.given["trunk"] {
			req.Trunk = trunk
		}
		var n api.InboundNumber
		if n, err = c.client.PatchInboundNumber(ctx, c.positional[0], req); err == nil {
			c.print(n, func(w io.Writer) {
				fmt.Fprintf(w, "changed inbound number %s\n", n.Number)
				showInboundNumber(w, n)
			})
		}
	case "list":
		if !c.need() {
			return 2
		}
		var all []api.InboundNumber
		if all, err = c.client.InboundNumbers(ctx); err == nil {
			c.print(all, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NUMBER\tNAME\tTRUNK\tTO")
				for _, n := range all {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Number, n.Name, orAnyTrunk(n.Trunk), describeInboundDestination(n.Destination))
				}
				tw.Flush()
			})
		}
	case "get", "show":
		if !c.need("NUMBER") {
			return 2
		}
		var n api.InboundNumber
		if n, err = c.client.InboundNumber(ctx, c.positional[0]); err == nil {
			c.print(n, func(w io.Writer) {
				fmt.Fprintf(w, "number:        %s\n", n.Number)
				showInboundNumber(w, n)
				showCreated(w, n.CreatedAt)
			})
		}
	case "rm":
		if !c.need("NUMBER") {
			return 2
		}
		if err = c.client.DeleteInboundNumber(ctx, c.positional[0]); err == nil {
			c.done("deleted inbound number %s", c.positional[0])
		}
	default:
		return c.unknown()
	}
	return c.exit(err)
}

// parseInboundDestination reads --to: hangup, voicemail:EXT, number:EXT or a bare EXT. The
// number itself is the server's to check.
func parseInboundDestination(v string) (api.GroupDestination, bool) {
	if v != "" && v != "hangup" && !strings.Contains(v, ":") {
		return api.GroupDestination{Kind: "number", Number: v}, true
	}
	return parseDestination(v)
}

// describeInboundDestination says where the calls of an inbound number go.
func describeInboundDestination(d api.GroupDestination) string {
	if d.Kind == "hangup" {
		return "refused (hang up)"
	}
	return describeDestination(d)
}

// orAnyTrunk shows the trunk an inbound number is accepted from.
func orAnyTrunk(trunk string) string {
	if trunk == "" {
		return "any"
	}
	return trunk
}

// showInboundNumber prints an inbound number's settings.
func showInboundNumber(w io.Writer, n api.InboundNumber) {
	fmt.Fprintf(w, "name:          %s\ntrunk:         %s\nto:            %s\n", n.Name, orAnyTrunk(n.Trunk), describeInboundDestination(n.Destination))
}
