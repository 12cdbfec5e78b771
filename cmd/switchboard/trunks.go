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
