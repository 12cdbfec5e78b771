package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
)

// adminCommand is what the admin commands (users, rooms, groups, queues, trunks, routes, dids)
// share: the REST client, the flags of one subcommand, the arguments among them, and how they
// report to stdout and stderr. A command defines its own flags on flags, then calls parse.
type adminCommand struct {
	noun   string // "groups", as in "switchboard groups add"
	usage  string
	cmd    string // the subcommand
	stdout io.Writer
	stderr io.Writer
	client *api.Client
	flags  *flag.FlagSet
	asJSON *bool
	args   []string // what follows the subcommand: flags and arguments
	// positional holds the arguments, in order, once parse has run.
	positional []string
	// given holds the flags given, once parse has run: their values are sent as given, even 0
	// or "", so that the server says what is wrong with them rather than the CLI taking them for
	// "the default".
	given map[string]bool
}

// newAdminCommand prepares the subcommand args[0] of switchboard noun; with no subcommand it
// prints usage and returns false (the command then exits with 2).
func newAdminCommand(noun, usage string, args []string, stdout, stderr io.Writer) (*adminCommand, bool) {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return nil, false
	}
	c := &adminCommand{noun: noun, usage: usage, cmd: args[0], args: args[1:], stdout: stdout, stderr: stderr,
		client: &api.Client{BaseURL: getenv("API_URL", "http://127.0.0.1:8080"),
			Token: getenv("API_TOKEN", os.Getenv("SWITCHBOARD_ADMIN_TOKEN"))},
		flags: flag.NewFlagSet(noun+" "+args[0], flag.ContinueOnError)}
	c.flags.SetOutput(stderr)
	c.asJSON = c.flags.Bool("json", false, "print JSON")
	return c, true
}

// parse reads the flags and the arguments; flags may come before or after the arguments. It
// returns false when a flag is wrong (the flag package has said why on stderr).
func (c *adminCommand) parse() bool {
	rest := c.args
	for len(rest) > 0 {
		if err := c.flags.Parse(rest); err != nil {
			return false
		}
		if c.flags.NArg() == 0 {
			break
		}
		c.positional = append(c.positional, c.flags.Arg(0))
		rest = c.flags.Args()[1:]
	}
	c.given = map[string]bool{}
	c.flags.Visit(func(f *flag.Flag) { c.given[f.Name] = true })
	return true
}

// need reports whether the arguments are what (their names, as in the usage); when they are
// not, it says what was expected.
func (c *adminCommand) need(what ...string) bool {
	if len(c.positional) != len(what) {
		expected := "no arguments"
		if len(what) > 0 {
			expected = strings.Join(what, " ")
		}
		fmt.Fprintf(c.stderr, "switchboard %s %s: expected %s\n\n%s", c.noun, c.cmd, expected, c.usage)
		return false
	}
	return true
}

// print writes v as indented JSON with --json, and as text otherwise.
func (c *adminCommand) print(v any, text func(w io.Writer)) {
	if *c.asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(v)
		return
	}
	text(c.stdout)
}

// done says on stdout what a command without a result did, unless --json asks for silence.
func (c *adminCommand) done(format string, args ...any) {
	if !*c.asJSON {
		fmt.Fprintf(c.stdout, format+"\n", args...)
	}
}

// noAnswer reads the --no-answer flag (value) of a group or a queue: nil when it was not
// given. It returns false, having said why, when the value is not a destination.
func (c *adminCommand) noAnswer(value string) (*api.GroupDestination, bool) {
	if !c.given["no-answer"] {
		return nil, true
	}
	d, ok := parseDestination(value)
	if !ok {
		fmt.Fprintf(c.stderr, "switchboard %s %s: --no-answer must be hangup, voicemail:EXT or number:NUM\n", c.noun, c.cmd)
		return nil, false
	}
	return &d, true
}

// voicemail reads the --voicemail (on or off) and --pin flags of a group or a queue, its own
// mailbox: nil when neither was given. It returns false, having said why, when --voicemail is
// neither on nor off.
func (c *adminCommand) voicemail(onoff, pin string) (*api.VoicemailChange, bool) {
	if !c.given["voicemail"] && !c.given["pin"] {
		return nil, true
	}
	v := &api.VoicemailChange{}
	if c.given["voicemail"] {
		on, ok := onOff(onoff)
		if !ok {
			fmt.Fprintf(c.stderr, "switchboard %s %s: --voicemail must be on or off\n", c.noun, c.cmd)
			return nil, false
		}
		v.Enabled = &on
	}
	if c.given["pin"] {
		v.PIN = &pin // as given, even "": the server says what is wrong with it
	}
	return v, true
}

// describeMailbox says whether the own mailbox of a group or a queue is on; never its PIN.
func describeMailbox(v api.Voicemail) string {
	switch {
	case v.Enabled && v.PINSet:
		return "on (PIN set)"
	case v.Enabled:
		return "on"
	}
	return "off"
}

// showGeneratedPIN prints the PIN the server generated for the own mailbox of a group or a
// queue, which only the response that generated it has.
func showGeneratedPIN(w io.Writer, v api.Voicemail) {
	if v.PIN != "" {
		fmt.Fprintf(w, "voicemail PIN: %s (shown once)\n", v.PIN)
	}
}

// unknown says that the subcommand is not one of noun's and returns the exit code for it.
func (c *adminCommand) unknown() int {
	fmt.Fprintf(c.stderr, "switchboard %s: unknown command %q\n\n%s", c.noun, c.cmd, c.usage)
	return 2
}

// exit reports err, the outcome of the subcommand, and returns the exit code: the API's
// message and code for an error the server returned.
func (c *adminCommand) exit(err error) int {
	if err == nil {
		return 0
	}
	var se *api.StatusError
	if errors.As(err, &se) {
		fmt.Fprintf(c.stderr, "switchboard %s %s: %s (%s)\n", c.noun, c.cmd, se.Err.Message, se.Err.Code)
	} else {
		fmt.Fprintf(c.stderr, "switchboard %s %s: %v\n", c.noun, c.cmd, err)
	}
	return 1
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

// describeDestination says where the unanswered calls of a group or a queue go.
func describeDestination(d api.GroupDestination) string {
	switch d.Kind {
	case "voicemail":
		return "voicemail of " + d.Number
	case "number":
		return "number " + d.Number
	}
	return "hang up"
}

// describeNoAnswer says where the unanswered calls of the group or queue owner go, naming its
// own mailbox as such.
func describeNoAnswer(owner string, d api.GroupDestination) string {
	if d.Kind == "voicemail" && d.Number == owner {
		return describeDestination(d) + " (its own mailbox)"
	}
	return describeDestination(d)
}

// splitExtensions reads "1001, 1002" (--members, --agents) as a list of extensions; "" is an
// empty list, which the server refuses with a message that says what a group or queue needs.
func splitExtensions(v string) []string {
	exts := []string{}
	for _, m := range strings.Split(v, ",") {
		if m = strings.TrimSpace(m); m != "" {
			exts = append(exts, m)
		}
	}
	return exts
}

// orNobody shows the members of a group (or the phones a queue's caller rings), or that there
// are none.
func orNobody(exts []string) string {
	if len(exts) == 0 {
		return "nobody"
	}
	return strings.Join(exts, ",")
}

// showHeading prints the number and name that open "show" of a room, a group or a queue.
func showHeading(w io.Writer, number, name string) {
	fmt.Fprintf(w, "number:        %s\nname:          %s\n", number, name)
}

// showCreated prints when a room, a group or a queue was created.
func showCreated(w io.Writer, at time.Time) {
	fmt.Fprintf(w, "created:       %s\n", at.Format("2006-01-02 15:04:05Z07:00"))
}
