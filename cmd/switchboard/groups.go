package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/switchboard-pbx/switchboard/api"
)

const groupsUsage = `usage: switchboard groups <command> [flags]

  add NUMBER --name NAME --members EXT,EXT,... [--strategy ring_all|hunt]
             [--ring-seconds S] [--timeout S] [--no-answer hangup|voicemail:EXT|number:NUM]
              create a ring group (ring_all, 15 s a member, 60 s in all, hang up when
              nobody answers, unless told otherwise); members ring in the order given
  list        list groups
  show NUMBER show a group
  set NUMBER [--name NAME] [--members EXT,EXT,...] [--strategy ring_all|hunt]
             [--ring-seconds S] [--timeout S] [--no-answer hangup|voicemail:EXT|number:NUM]
              change a group; --members replaces the whole list
  rm NUMBER   delete a group (calls ringing its members now go on)

The CLI talks to the REST API: API_URL (default http://127.0.0.1:8080) and
API_TOKEN or SWITCHBOARD_ADMIN_TOKEN. Add --json for machine-readable output.
`

func groups(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, groupsUsage)
		return 2
	}
	client := &api.Client{BaseURL: getenv("API_URL", "http://127.0.0.1:8080"),
		Token: getenv("API_TOKEN", os.Getenv("SWITCHBOARD_ADMIN_TOKEN"))}
	fs := flag.NewFlagSet("groups "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "display name")
	members := fs.String("members", "", "extensions of the members, comma-separated, in hunting order")
	strategy := fs.String("strategy", "", "ring_all (every member at once) or hunt (one after the other)")
	ringSeconds := fs.Int("ring-seconds", 0, "seconds each member rings when hunting (5-120)")
	timeout := fs.Int("timeout", 0, "seconds the group tries in all (5-600)")
	noAnswer := fs.String("no-answer", "", "when nobody answers: hangup, voicemail:EXT or number:NUM")
	cmd, rest := args[0], args[1:]
	// Flags may come before or after the arguments.
	var positional []string
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	// Values given are sent as given, even 0 or "": the server says what is wrong with them
	// rather than the CLI taking them for "the default".
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	need := func(what ...string) bool {
		if len(positional) != len(what) {
			expected := "no arguments"
			if len(what) > 0 {
				expected = strings.Join(what, " ")
			}
			fmt.Fprintf(stderr, "switchboard groups %s: expected %s\n\n%s", cmd, expected, groupsUsage)
			return false
		}
		return true
	}
	var destination *api.GroupDestination
	if given["no-answer"] {
		d, ok := parseDestination(*noAnswer)
		if !ok {
			fmt.Fprintf(stderr, "switchboard groups %s: --no-answer must be hangup, voicemail:EXT or number:NUM\n", cmd)
			return 2
		}
		destination = &d
	}
	print := func(v any, text func(w io.Writer)) {
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			enc.Encode(v)
			return
		}
		text(stdout)
	}

	var err error
	switch cmd {
	case "add":
		if !need("NUMBER") {
			return 2
		}
		req := api.CreateGroupRequest{Number: positional[0], Name: *name, Members: splitMembers(*members),
			NoAnswer: destination}
		if given["strategy"] {
			req.Strategy = strategy
		}
		if given["ring-seconds"] {
			req.RingSeconds = ringSeconds
		}
		if given["timeout"] {
			req.Timeout = timeout
		}
		var g api.Group
		if g, err = client.CreateGroup(ctx, req); err == nil {
			print(g, func(w io.Writer) { fmt.Fprintf(w, "created group %s (%s)\n", g.Number, g.Name); showGroup(w, g) })
		}
	case "set":
		if !need("NUMBER") {
			return 2
		}
		req := api.PatchGroupRequest{NoAnswer: destination}
		if given["name"] {
			req.Name = name
		}
		if given["members"] {
			list := splitMembers(*members)
			req.Members = &list
		}
		if given["strategy"] {
			req.Strategy = strategy
		}
		if given["ring-seconds"] {
			req.RingSeconds = ringSeconds
		}
		if given["timeout"] {
			req.Timeout = timeout
		}
		var g api.Group
		if g, err = client.PatchGroup(ctx, positional[0], req); err == nil {
			print(g, func(w io.Writer) { fmt.Fprintf(w, "changed group %s\n", g.Number); showGroup(w, g) })
		}
	case "list":
		if !need() {
			return 2
		}
		var all []api.Group
		if all, err = client.Groups(ctx); err == nil {
			print(all, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NUMBER\tNAME\tSTRATEGY\tMEMBERS\tNO ANSWER")
				for _, g := range all {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Number, g.Name, g.Strategy, orNobody(g.Members), describeDestination(g.NoAnswer))
				}
				tw.Flush()
			})
		}
	case "show":
		if !need("NUMBER") {
			return 2
		}
		var g api.Group
		if g, err = client.Group(ctx, positional[0]); err == nil {
			print(g, func(w io.Writer) {
				fmt.Fprintf(w, "number:        %s\nname:          %s\n", g.Number, g.Name)
				showGroup(w, g)
				fmt.Fprintf(w, "created:       %s\n", g.CreatedAt.Format("2006-01-02 15:04:05Z07:00"))
			})
		}
	case "rm":
		if !need("NUMBER") {
			return 2
		}
		if err = client.DeleteGroup(ctx, positional[0]); err == nil && !*asJSON {
			fmt.Fprintf(stdout, "deleted group %s\n", positional[0])
		}
	default:
		fmt.Fprintf(stderr, "switchboard groups: unknown command %q\n\n%s", cmd, groupsUsage)
		return 2
	}
	if err != nil {
		var se *api.StatusError
		if errors.As(err, &se) {
			fmt.Fprintf(stderr, "switchboard groups %s: %s (%s)\n", cmd, se.Err.Message, se.Err.Code)
		} else {
			fmt.Fprintf(stderr, "switchboard groups %s: %v\n", cmd, err)
		}
		return 1
	}
	return 0
}

// splitMembers reads "1001, 1002" as a list of extensions; "" is an empty list, which the
// server refuses with a message that says what a group needs.
func splitMembers(v string) []string {
	members := []string{}
	for _, m := range strings.Split(v, ",") {
		if m = strings.TrimSpace(m); m != "" {
			members = append(members, m)
		}
	}
	return members
}

// parseDestination reads --no-answer: hangup, voicemail:EXT or number:NUM. The number itself
// is the server's to check.
func parseDestination(v string) (api.GroupDestination, bool) {
	if v == "hangup" {
		return api.GroupDestination{Kind: v}, true
	}
	kind, number, ok := strings.Cut(v, ":")
	if !ok || (kind != "voicemail" && kind != "number") {
		return api.GroupDestination{}, false
	}
	return api.GroupDestination{Kind: kind, Number: number}, true
}

// describeDestination says where a group's unanswered calls go.
func describeDestination(d api.GroupDestination) string {
	switch d.Kind {
	case "voicemail":
		return "voicemail of " + d.Number
	case "number":
		return "number " + d.Number
	}
	return "hang up"
}

// orNobody shows a group's members, or that it has none left.
func orNobody(members []string) string {
	if len(members) == 0 {
		return "nobody"
	}
	return strings.Join(members, ",")
}

// showGroup prints a group's settings.
func showGroup(w io.Writer, g api.Group) {
	fmt.Fprintf(w, "members:       %s\nstrategy:      %s\nring seconds:  %d (each member, when hunting)\ntimeout:       %d seconds in all\nno answer:     %s\n",
		orNobody(g.Members), g.Strategy, g.RingSeconds, g.Timeout, describeDestination(g.NoAnswer))
}
