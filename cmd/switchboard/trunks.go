package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/switchboard-pbx/switchboard/api"
)

const trunksUsage = `usage: switchboard trunks <command> [flags]

  add NAME --host HOST [--port N] [--transport udp|tcp] [--auth register|ip]
           [--username USER] [--password-stdin | --password PW] [--address NET]...
           [--codecs ulaw,alaw,...] [--caller-id NUM] [--pai] [--channels N]
              create a trunk (port 5060, udp, register, codecs ulaw,alaw, no limit,
              unless told otherwise); one that registers needs --username and a
              password, one the provider knows by our address (--auth ip) neither
  list        list trunks and their status
  get NAME    show a trunk and its status
  set NAME [the flags of add]
              change a trunk; --address and --codecs replace the whole list
              (--address "" leaves none), --auth ip drops the account, --pai=false
              turns P-Asserted-Identity off
  rm NAME     delete a trunk (refused while a route uses it)

--address is repeatable: the networks (192.0.2.0/24) or addresses besides the host
that inbound calls may come from. The password is never printed: --password-stdin
reads it from the first line of standard input (printf '%s\n' "$PW" | switchboard
trunks add ...); --password puts it on the command line, where other users of the
machine may see it.

The CLI talks to the REST API: API_URL (default http://127.0.0.1:8080) and
API_TOKEN or SWITCHBOARD_ADMIN_TOKEN. Add --json for machine-readable output.
`

// repeated is a flag that may be given more than once (--address, --pattern): each value, in
// order.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, " ") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func trunks(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return trunksReading(ctx, args, os.Stdin, stdout, stderr)
}

// trunksReading is switchboard trunks with stdin as its standard input (--password-stdin).
func trunksReading(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, ok := newAdminCommand("trunks", trunksUsage, args, stdout, stderr)
	if !ok {
		return 2
	}
	host := c.flags.String("host", "", "the provider's host name or IPv4 address")
	port := c.flags.Int("port", 0, "the provider's SIP port (default 5060)")
	transport := c.flags.String("transport", "", "udp or tcp (default udp)")
	auth := c.flags.String("auth", "", "register (username and password) or ip (default register)")
	username := c.flags.String("username", "", "the account at the provider")
	password := c.flags.String("password", "", "the account's password (visible to other users of the machine: prefer --password-stdin)")
	passwordStdin := c.flags.Bool("password-stdin", false, "read the password from the first line of standard input")
	var addresses repeated
	c.flags.Var(&addresses, "address", "a network or address inbound calls may come from besides the host (repeatable)")
	codecs := c.flags.String("codecs", "", "codecs in order of preference, comma-separated: ulaw, alaw, g722, gsm")
	callerID := c.flags.String("caller-id", "", `the number sent when no route or user gives one ("" for the caller's extension)`)
	pai := c.flags.Bool("pai", false, "send a P-Asserted-Identity with the caller ID")
	channels := c.flags.Int("channels", 0, "calls the trunk carries at once (0: no limit)")
	if !c.parse() {
		return 2
	}
	secret, ok := c.password(*password, *passwordStdin, stdin)
	if !ok {
		return 2
	}
	given := func(name string, v *string) *string {
		if c.given[name] {
			return v
		}
		return nil
	}
	givenInt := func(name string, v *int) *int {
		if c.given[name] {
			return v
		}
		return nil
	}
	addressList := splitList(strings.Join(addresses, ","))
	codecList := splitList(*codecs)

	var err error
	switch c.cmd {
	case "add":
		if !c.need("NAME") {
			return 2
		}
		req := api.CreateTrunkRequest{Name: c.positional[0], Host: *host, Port: givenInt("port", port),
			Transport: given("transport", transport), Auth: given("auth", auth), Username: *username,
			CallerID: *callerID, SendPAI: *pai, ChannelLimit: *channels}
		if secret != nil {
			req.Password = *secret
		}
		if c.given["address"] {
			req.Addresses = addressList
		}
		if c.given["codecs"] {
			req.Codecs = &codecList
		}
		var t api.Trunk
		if t, err = c.client.CreateTrunk(ctx, req); err == nil {
			c.print(t, func(w io.Writer) {
				fmt.Fprintf(w, "created trunk %s\n", t.Name)
				showTrunk(w, t)
			})
		}
	case "set":
		if !c.need("NAME") {
			return 2
		}
		req := api.PatchTrunkRequest{Host: given("host", host), Port: givenInt("port", port),
			Transport: given("transport", transport), Auth: given("auth", auth), Username: given("username", username),
			Password: secret, CallerID: given("caller-id", callerID), ChannelLimit: givenInt("channels", channels)}
		if c.given["address"] {
			req.Addresses = &addressList
		}
		if c.given["codecs"] {
			req.Codecs = &codecList
		}
		if c.given["pai"] {
			req.SendPAI = pai
		}
		var t api.Trunk
		if t, err = c.client.PatchTrunk(ctx, c.positional[0], req); err == nil {
			c.print(t, func(w io.Writer) {
				fmt.Fprintf(w, "changed trunk %s\n", t.Name)
				showTrunk(w, t)
			})
		}
	case "list":
		if !c.need() {
			return 2
		}
		var all []api.Trunk
		if all, err = c.client.Trunks(ctx); err == nil {
			c.print(all, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tHOST\tAUTH\tSTATUS\tCALLS")
				for _, t := range all {
					fmt.Fprintf(tw, "%s\t%s:%d/%s\t%s\t%s\t%s\n", t.Name, t.Host, t.Port, t.Transport, t.Auth, t.Status.State,
						describeChannels(t.Status.Channels, t.ChannelLimit))
				}
				tw.Flush()
			})
		}
	case "get", "show":
		if !c.need("NAME") {
			return 2
		}
		var t api.Trunk
		if t, err = c.client.Trunk(ctx, c.positional[0]); err == nil {
			c.print(t, func(w io.Writer) {
				fmt.Fprintf(w, "name:          %s\n", t.Name)
				showTrunk(w, t)
				showCreated(w, t.CreatedAt)
			})
		}
	case "rm":
		if !c.need("NAME") {
			return 2
		}
		if err = c.client.DeleteTrunk(ctx, c.positional[0]); err == nil {
			c.done("deleted trunk %s", c.positional[0])
		}
	default:
		return c.unknown()
	}
	return c.exit(err)
}

// password reads the trunk's password from --password (value) or, with --password-stdin
// (fromStdin), from the first line of stdin: nil when neither was given. It returns false,
// having said why, when both were, or standard input holds none.
func (c *adminCommand) password(value string, fromStdin bool, stdin io.Reader) (*string, bool) {
	switch {
	case c.given["password"] && fromStdin:
		fmt.Fprintf(c.stderr, "switchboard %s %s: give --password or --password-stdin, not both\n", c.noun, c.cmd)
		return nil, false
	case c.given["password"]:
		return &value, true // as given, even "": the server says what is wrong with it
	case !fromStdin:
		return nil, true
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if (err != nil && !errors.Is(err, io.EOF)) || line == "" {
		fmt.Fprintf(c.stderr, "switchboard %s %s: --password-stdin: no password on the first line of standard input\n", c.noun, c.cmd)
		return nil, false
	}
	return &line, true
}

// showTrunk prints a trunk's settings and status; never its password.
func showTrunk(w io.Writer, t api.Trunk) {
	account := "by address (ip)"
	if t.Auth == "register" {
		account = "registers as " + t.Username + map[bool]string{true: " (password set)", false: " (no password)"}[t.PasswordSet]
	}
	addresses := "the host only"
	if len(t.Addresses) > 0 {
		addresses = "the host and " + strings.Join(t.Addresses, ", ")
	}
	callerID := t.CallerID
	if callerID == "" {
		callerID = "the caller's extension"
	}
	limit := "no limit"
	if t.ChannelLimit > 0 {
		limit = fmt.Sprintf("%d calls at once", t.ChannelLimit)
	}
	fmt.Fprintf(w, "host:          %s port %d (%s)\nauth:          %s\ninbound from:  %s\ncodecs:        %s\ncaller id:     %s\npai:           %s\nchannels:      %s\n",
		t.Host, t.Port, t.Transport, account, addresses, strings.Join(t.Codecs, ","), callerID,
		map[bool]string{true: "on", false: "off"}[t.SendPAI], limit)
	status := t.Status.State
	if t.Status.Since != nil {
		status += " since " + t.Status.Since.Format("2006-01-02 15:04:05Z07:00")
	}
	if t.Status.Detail != "" {
		status += " (" + t.Status.Detail + ")"
	}
	fmt.Fprintf(w, "status:        %s, %s\n", status, describeChannels(t.Status.Channels, t.ChannelLimit))
}

// describeChannels says how many calls a trunk carries now, of its limit.
func describeChannels(now, limit int) string {
	if limit > 0 {
		return fmt.Sprintf("%d/%d calls", now, limit)
	}
	return fmt.Sprintf("%d calls", now)
}

// splitList reads "a, b" (--codecs, --trunks, --users, the addresses) as a list; "" is an
// empty list, which the server refuses where a list needs entries.
func splitList(v string) []string {
	items := []string{}
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}
