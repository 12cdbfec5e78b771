package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/switchboard-pbx/switchboard/api"
)

const groupsUsage = `usage: switchboard groups <command> [flags]

  add NUMBER --name NAME --members EXT,EXT,... [--strategy ring_all|hunt]
             [--ring-seconds S] [--timeout S] [--no-answer hangup|voicemail:EXT|number:NUM]
             [--voicemail on|off] [--pin PIN]
              create a ring group (ring_all, 15 s a member, 60 s in all, hang up when
              nobody answers, no mailbox, unless told otherwise); members ring in the
              order given
  list        list groups
  show NUMBER show a group
  set NUMBER [--name NAME] [--members EXT,EXT,...] [--strategy ring_all|hunt]
             [--ring-seconds S] [--timeout S] [--no-answer hangup|voicemail:EXT|number:NUM]
             [--voicemail on|off] [--pin PIN]
              change a group; --members replaces the whole list
  rm NUMBER   delete a group (calls ringing its members now go on)

--voicemail on gives the group a mailbox of its own, numbered like the group, with
a generated PIN (printed once) unless --pin gives one; --no-answer voicemail:NUMBER
(the group's own number) sends its unanswered calls there, and members listen with
*98. --voicemail off keeps the PIN for when it is turned on again.

The CLI talks to the REST API: API_URL (default http://127.0.0.1:8080) and
API_TOKEN or SWITCHBOARD_ADMIN_TOKEN. Add --json for machine-readable output.
`

func groups(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, ok := newAdminCommand("groups", groupsUsage, args, stdout, stderr)
	if !ok {
		return 2
	}
	name := c.flags.String("name", "", "display name")
	members := c.flags.String("members", "", "extensions of the members, comma-separated, in hunting order")
	strategy := c.flags.String("strategy", "", "ring_all (every member at once) or hunt (one after the other)")
	ringSeconds := c.flags.Int("ring-seconds", 0, "seconds each member rings when hunting (5-120)")
	timeout := c.flags.Int("timeout", 0, "seconds the group tries in all (5-600)")
	noAnswer := c.flags.String("no-answer", "", "when nobody answers: hangup, voicemail:EXT or number:NUM")
	voicemail := c.flags.String("voicemail", "", "the group's own mailbox: on or off")
	pin := c.flags.String("pin", "", "the PIN of the group's own mailbox, 4 to 10 digits (generated when not given)")
	if !c.parse() {
		return 2
	}
	destination, ok := c.noAnswer(*noAnswer)
	if !ok {
		return 2
	}
	mailbox, ok := c.voicemail(*voicemail, *pin)
	if !ok {
		return 2
	}
	// The optional settings are the same for add and set.
	options := func(s **string, ring, total **int) {
		if c.given["strategy"] {
			*s = strategy
		}
		if c.given["ring-seconds"] {
			*ring = ringSeconds
		}
		if c.given["timeout"] {
			*total = timeout
		}
	}

	var err error
	switch c.cmd {
	case "add":
		if !c.need("NUMBER") {
			return 2
		}
		req := api.CreateGroupRequest{Number: c.positional[0], Name: *name, Members: splitExtensions(*members),
			NoAnswer: destination, Voicemail: mailbox}
		options(&req.Strategy, &req.RingSeconds, &req.Timeout)
		var g api.Group
		if g, err = c.client.CreateGroup(ctx, req); err == nil {
			c.print(g, func(w io.Writer) {
				fmt.Fprintf(w, "created group %s (%s)\n", g.Number, g.Name)
				showGroup(w, g)
				showGeneratedPIN(w, g.Voicemail)
			})
		}
	case "set":
		if !c.need("NUMBER") {
			return 2
		}
		req := api.PatchGroupRequest{NoAnswer: destination, Voicemail: mailbox}
		if c.given["name"] {
			req.Name = name
		}
		if c.given["members"] {
			list := splitExtensions(*members)
			req.Members = &list
		}
		options(&req.Strategy, &req.RingSeconds, &req.Timeout)
		var g api.Group
		if g, err = c.client.PatchGroup(ctx, c.positional[0], req); err == nil {
			c.print(g, func(w io.Writer) {
				fmt.Fprintf(w, "changed group %s\n", g.Number)
				showGroup(w, g)
				showGeneratedPIN(w, g.Voicemail)
			})
		}
	case "list":
		if !c.need() {
			return 2
		}
		var all []api.Group
		if all, err = c.client.Groups(ctx); err == nil {
			c.print(all, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NUMBER\tNAME\tSTRATEGY\tMEMBERS\tNO ANSWER")
				for _, g := range all {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Number, g.Name, g.Strategy, orNobody(g.Members), describeNoAnswer(g.Number, g.NoAnswer))
				}
				tw.Flush()
			})
		}
	case "show":
		if !c.need("NUMBER") {
			return 2
		}
		var g api.Group
		if g, err = c.client.Group(ctx, c.positional[0]); err == nil {
			c.print(g, func(w io.Writer) {
				showHeading(w, g.Number, g.Name)
				showGroup(w, g)
				showCreated(w, g.CreatedAt)
			})
		}
	case "rm":
		if !c.need("NUMBER") {
			return 2
		}
		if err = c.client.DeleteGroup(ctx, c.positional[0]); err == nil {
			c.done("deleted group %s", c.positional[0])
		}
	default:
		return c.unknown()
	}
	return c.exit(err)
}

// showGroup prints a group's settings.
func showGroup(w io.Writer, g api.Group) {
	fmt.Fprintf(w, "members:       %s\nstrategy:      %s\nring seconds:  %d (each member, when hunting)\ntimeout:       %d seconds in all\nno answer:     %s\nvoicemail:     %s\n",
		orNobody(g.Members), g.Strategy, g.RingSeconds, g.Timeout, describeNoAnswer(g.Number, g.NoAnswer), describeMailbox(g.Voicemail))
}
