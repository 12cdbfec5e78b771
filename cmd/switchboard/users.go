package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/switchboard-pbx/switchboard/api"
)

const usersUsage = `usage: switchboard users <command> [flags]

  add EXT --name NAME [--email ADDR] [--password PW] [--pin PIN] [--no-voicemail]
          [--ring-timeout S] [--outbound-caller-id NUM]
              create a user; prints the generated SIP password once
  list        list users
  show EXT    show one user
  set EXT [--name NAME] [--email ADDR] [--ring-timeout S] [--dnd on|off]
          [--call-waiting on|off] [--max-devices N] [--forward-always EXT|off]
          [--forward-busy EXT|off] [--forward-noanswer EXT|off]
          [--outbound-caller-id NUM]
              change a user's settings
  passwd EXT [--password PW]
              set a new SIP password; prints the generated one once
  pin EXT [--pin PIN]
              set a new voicemail PIN; prints the generated one once
  rm EXT      delete a user

--email ADDR is where new voicemail messages are mailed: one bare address
(alice@example.com, no name or angle brackets); --email "" removes it.
--outbound-caller-id NUM is the number sent to the outside world on the user's
calls through a trunk, unless their route sends its own (2 to 20 digits with an
optional leading +); --outbound-caller-id "" removes it (the trunk's is sent).

The CLI talks to the REST API: API_URL (default http://127.0.0.1:8080) and
API_TOKEN or SWITCHBOARD_ADMIN_TOKEN. Add --json for machine-readable output.
`

func users(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, ok := newAdminCommand("users", usersUsage, args, stdout, stderr)
	if !ok {
		return 2
	}
	name := c.flags.String("name", "", "display name")
	email := c.flags.String("email", "", `address new voicemail messages are mailed to ("" for none)`)
	password := c.flags.String("password", "", "SIP password (generated when empty)")
	pin := c.flags.String("pin", "", "voicemail PIN (generated when empty)")
	noVM := c.flags.Bool("no-voicemail", false, "create without voicemail")
	ring := c.flags.Int("ring-timeout", 0, "seconds to ring before voicemail")
	dnd := c.flags.String("dnd", "", "do not disturb: on or off")
	waiting := c.flags.String("call-waiting", "", "call waiting: on or off")
	devices := c.flags.Int("max-devices", 0, "phones that may register at once (1-10)")
	fwdAlways := c.flags.String("forward-always", "", "forward every call to EXT, or off")
	fwdBusy := c.flags.String("forward-busy", "", "forward when busy to EXT, or off")
	fwdNoAnswer := c.flags.String("forward-noanswer", "", "forward when not answered to EXT, or off")
	outboundCallerID := c.flags.String("outbound-caller-id", "", `number sent on calls through a trunk ("" for none)`)
	if !c.parse() {
		return 2
	}
	needExt := func() (string, bool) {
		if len(c.positional) != 1 {
			fmt.Fprintf(c.stderr, "switchboard users %s: exactly one extension expected\n\n%s", c.cmd, usersUsage)
			return "", false
		}
		return c.positional[0], true
	}

	var err error
	switch c.cmd {
	case "add":
		ext, ok := needExt()
		if !ok {
			return 2
		}
		req := api.CreateUserRequest{Extension: ext, Name: *name, Password: *password}
		if c.given["email"] {
			req.Email = email
		}
		enabled := !*noVM
		req.Voicemail = &api.VoicemailChange{Enabled: &enabled}
		if *pin != "" {
			req.Voicemail.PIN = pin
		}
		if *ring != 0 {
			req.RingTimeout = ring
		}
		req.OutboundCallerID = *outboundCallerID
		var u api.User
		if u, err = c.client.CreateUser(ctx, req); err == nil {
			c.print(u, func(w io.Writer) {
				fmt.Fprintf(w, "created %s (%s)\n", u.Extension, u.Name)
				if u.Password != "" {
					fmt.Fprintf(w, "SIP password: %s\n(shown once; set it in the phone now)\n", u.Password)
				}
				if u.Voicemail.PIN != "" {
					fmt.Fprintf(w, "voicemail PIN: %s\n(shown once)\n", u.Voicemail.PIN)
				}
			})
		}
	case "set":
		ext, ok := needExt()
		if !ok {
			return 2
		}
		var req api.PatchUserRequest
		if *name != "" {
			req.Name = name
		}
		if c.given["email"] {
			req.Email = email // "" removes the address
		}
		if c.given["outbound-caller-id"] {
			req.OutboundCallerID = outboundCallerID // "" removes it
		}
		if *ring != 0 {
			req.RingTimeout = ring
		}
		if *devices != 0 {
			req.MaxDevices = devices
		}
		for _, f := range []struct {
			flag, value string
			set         **bool
		}{{"dnd", *dnd, &req.DND}, {"call-waiting", *waiting, &req.CallWaiting}} {
			if f.value == "" {
				continue
			}
			b, ok := onOff(f.value)
			if !ok {
				fmt.Fprintf(c.stderr, "switchboard users set: --%s must be on or off\n", f.flag)
				return 2
			}
			*f.set = &b
		}
		forwards := &api.ForwardsChange{}
		for _, f := range []struct {
			value string
			set   **api.ForwardChange
		}{{*fwdAlways, &forwards.Unconditional}, {*fwdBusy, &forwards.Busy}, {*fwdNoAnswer, &forwards.NoAnswer}} {
			switch f.value {
			case "":
			case "off":
				off := false
				*f.set = &api.ForwardChange{Enabled: &off}
			default:
				on, dest := true, f.value
				*f.set = &api.ForwardChange{Enabled: &on, Destination: &dest}
			}
		}
		if *forwards != (api.ForwardsChange{}) {
			req.Forwards = forwards
		}
		var u api.User
		if u, err = c.client.PatchUser(ctx, ext, req); err == nil {
			c.print(u, func(w io.Writer) { fmt.Fprintf(w, "changed %s\n", u.Extension); showSettings(w, u) })
		}
	case "list":
		var all []api.User
		after := ""
		for {
			var page api.UserList
			if page, err = c.client.Users(ctx, after, 1000); err != nil {
				break
			}
			all = append(all, page.Users...)
			if page.Next == "" {
				break
			}
			after = page.Next
		}
		if err == nil {
			c.print(all, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "EXTENSION\tNAME\tVOICEMAIL\tRING")
				for _, u := range all {
					fmt.Fprintf(tw, "%s\t%s\t%v\t%ds\n", u.Extension, u.Name, u.Voicemail.Enabled, u.RingTimeout)
				}
				tw.Flush()
			})
		}
	case "show":
		ext, ok := needExt()
		if !ok {
			return 2
		}
		var u api.User
		if u, err = c.client.User(ctx, ext); err == nil {
			p, perr := c.client.Presence(ctx, ext)
			c.print(u, func(w io.Writer) {
				fmt.Fprintf(w, "extension:    %s\nname:         %s\nemail:        %s\nvoicemail:    %v\nring timeout: %ds\ncreated:      %s\n",
					u.Extension, u.Name, emailOrNone(u.Email), u.Voicemail.Enabled, u.RingTimeout, u.CreatedAt.Format("2006-01-02 15:04:05Z07:00"))
				fmt.Fprintf(w, "outbound id:  %s\n", callerIDOrTrunks(u.OutboundCallerID))
				showSettings(w, u)
				if perr == nil {
					fmt.Fprintf(w, "presence:     %s\n", p.State)
					for _, d := range p.Devices {
						fmt.Fprintf(w, "  phone:      %s %s\n", d.Contact, d.UserAgent)
					}
				}
			})
		}
	case "passwd":
		ext, ok := needExt()
		if !ok {
			return 2
		}
		var r api.PasswordResponse
		if r, err = c.client.ResetPassword(ctx, ext, *password); err == nil {
			c.print(r, func(w io.Writer) {
				if r.Password != "" {
					fmt.Fprintf(w, "new SIP password for %s: %s\n(shown once)\n", ext, r.Password)
				} else {
					fmt.Fprintf(w, "password of %s changed\n", ext)
				}
			})
		}
	case "pin":
		ext, ok := needExt()
		if !ok {
			return 2
		}
		var r api.PINResponse
		if r, err = c.client.ResetPIN(ctx, ext, *pin); err == nil {
			c.print(r, func(w io.Writer) {
				if r.PIN != "" {
					fmt.Fprintf(w, "new voicemail PIN for %s: %s\n(shown once)\n", ext, r.PIN)
				} else {
					fmt.Fprintf(w, "voicemail PIN of %s changed\n", ext)
				}
			})
		}
	case "rm":
		ext, ok := needExt()
		if !ok {
			return 2
		}
		if err = c.client.DeleteUser(ctx, ext); err == nil {
			c.done("deleted %s", ext)
		}
	default:
		return c.unknown()
	}
	return c.exit(err)
}

// onOff reads "on" or "off".
func onOff(v string) (bool, bool) {
	switch v {
	case "on":
		return true, true
	case "off":
		return false, true
	}
	return false, false
}

// emailOrNone is how show prints a user's e-mail address.
func emailOrNone(email string) string {
	if email == "" {
		return "none"
	}
	return email
}

// callerIDOrTrunks is how show prints a user's outbound caller ID.
func callerIDOrTrunks(id string) string {
	if id == "" {
		return "none (the trunk's)"
	}
	return id
}

// showSettings prints a user's call settings.
func showSettings(w io.Writer, u api.User) {
	onoff := map[bool]string{true: "on", false: "off"}
	fwd := func(f api.Forward) string {
		switch {
		case f.Enabled:
			return "to " + f.Destination
		case f.Destination != "":
			return "off (" + f.Destination + ")"
		}
		return "off"
	}
	fmt.Fprintf(w, "call waiting: %s\ndnd:          %s\nphones:       up to %d\n", onoff[u.CallWaiting], onoff[u.DND], u.MaxDevices)
	fmt.Fprintf(w, "forward:      always %s, busy %s, no answer %s\n", fwd(u.Forwards.Unconditional), fwd(u.Forwards.Busy), fwd(u.Forwards.NoAnswer))
}
