package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/switchboard-pbx/switchboard/api"
)

const roomsUsage = `usage: switchboard rooms <command> [flags]

  add NUMBER --name NAME [--pin PIN] [--moderator-pin PIN] [--max N] [--no-announce] [--no-music]
              create a conference room (20 participants, join tones and music when alone
              unless told otherwise)
  list        list rooms
  show NUMBER show a room and who is in it now
  set NUMBER [--name NAME] [--pin PIN] [--moderator-pin PIN] [--max N]
             [--announce on|off] [--music on|off]
              change a room; --pin "" or --moderator-pin "" removes that PIN
  rm NUMBER   delete a room (whoever is in it stays until they leave)
  mute NUMBER ID | unmute NUMBER ID
              mute or unmute a participant (ID: the call ID "show" lists)
  kick NUMBER ID
              hang up a participant
  lock NUMBER | unlock NUMBER
              keep newcomers out of a room, or let them in again

The CLI talks to the REST API: API_URL (default http://127.0.0.1:8080) and
API_TOKEN or SWITCHBOARD_ADMIN_TOKEN. Add --json for machine-readable output.
`

func rooms(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, ok := newAdminCommand("rooms", roomsUsage, args, stdout, stderr)
	if !ok {
		return 2
	}
	name := c.flags.String("name", "", "display name")
	pin := c.flags.String("pin", "", "PIN asked for before joining (4-10 digits; empty: none)")
	moderatorPIN := c.flags.String("moderator-pin", "", "PIN that makes a caller a moderator (4-10 digits; empty: none)")
	maxParticipants := c.flags.Int("max", 0, "participants at once (2-100)")
	noAnnounce := c.flags.Bool("no-announce", false, "create without join and leave tones")
	noMusic := c.flags.Bool("no-music", false, "create without music for a participant alone")
	announce := c.flags.String("announce", "", "join and leave tones: on or off")
	music := c.flags.String("music", "", "music for a participant alone: on or off")
	if !c.parse() {
		return 2
	}

	var err error
	switch c.cmd {
	case "add":
		if !c.need("NUMBER") {
			return 2
		}
		req := api.CreateRoomRequest{Number: c.positional[0], Name: *name, PIN: *pin, ModeratorPIN: *moderatorPIN}
		if c.given["max"] {
			req.MaxParticipants = maxParticipants
		}
		if *noAnnounce {
			off := false
			req.AnnounceJoins = &off
		}
		if *noMusic {
			off := false
			req.MusicWhenAlone = &off
		}
		var r api.Room
		if r, err = c.client.CreateRoom(ctx, req); err == nil {
			c.print(r, func(w io.Writer) { fmt.Fprintf(w, "created room %s (%s)\n", r.Number, r.Name); showRoom(w, r) })
		}
	case "set":
		if !c.need("NUMBER") {
			return 2
		}
		// set changes what was given, even to "" (which removes a PIN).
		var req api.PatchRoomRequest
		if c.given["name"] {
			req.Name = name
		}
		if c.given["pin"] {
			req.PIN = pin
		}
		if c.given["moderator-pin"] {
			req.ModeratorPIN = moderatorPIN
		}
		if c.given["max"] {
			req.MaxParticipants = maxParticipants
		}
		for _, f := range []struct {
			flag, value string
			set         **bool
		}{{"announce", *announce, &req.AnnounceJoins}, {"music", *music, &req.MusicWhenAlone}} {
			if !c.given[f.flag] {
				continue
			}
			b, ok := onOff(f.value)
			if !ok {
				fmt.Fprintf(c.stderr, "switchboard rooms set: --%s must be on or off\n", f.flag)
				return 2
			}
			*f.set = &b
		}
		var r api.Room
		if r, err = c.client.PatchRoom(ctx, c.positional[0], req); err == nil {
			c.print(r, func(w io.Writer) { fmt.Fprintf(w, "changed room %s\n", r.Number); showRoom(w, r) })
		}
	case "list":
		if !c.need() {
			return 2
		}
		var all []api.Room
		if all, err = c.client.Rooms(ctx); err == nil {
			c.print(all, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NUMBER\tNAME\tPIN\tMODERATOR PIN\tMAX")
				for _, r := range all {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", r.Number, r.Name, orNone(r.PIN), orNone(r.ModeratorPIN), r.MaxParticipants)
				}
				tw.Flush()
			})
		}
	case "show":
		if !c.need("NUMBER") {
			return 2
		}
		var r api.RoomDetail
		if r, err = c.client.Room(ctx, c.positional[0]); err == nil {
			c.print(r, func(w io.Writer) {
				showHeading(w, r.Number, r.Name)
				showRoom(w, r.Room)
				showCreated(w, r.CreatedAt)
				showLive(w, r.Live)
			})
		}
	case "rm":
		if !c.need("NUMBER") {
			return 2
		}
		if err = c.client.DeleteRoom(ctx, c.positional[0]); err == nil {
			c.done("deleted room %s", c.positional[0])
		}
	case "mute", "unmute":
		if !c.need("NUMBER", "ID") {
			return 2
		}
		if err = c.client.MuteParticipant(ctx, c.positional[0], c.positional[1], c.cmd == "mute"); err == nil {
			c.done("%sd %s in room %s", c.cmd, c.positional[1], c.positional[0])
		}
	case "kick":
		if !c.need("NUMBER", "ID") {
			return 2
		}
		if err = c.client.KickParticipant(ctx, c.positional[0], c.positional[1]); err == nil {
			c.done("removed %s from room %s", c.positional[1], c.positional[0])
		}
	case "lock", "unlock":
		if !c.need("NUMBER") {
			return 2
		}
		if err = c.client.LockRoom(ctx, c.positional[0], c.cmd == "lock"); err == nil {
			c.done("%sed room %s", c.cmd, c.positional[0])
		}
	default:
		return c.unknown()
	}
	return c.exit(err)
}

// showRoom prints a room's settings.
func showRoom(w io.Writer, r api.Room) {
	onoff := map[bool]string{true: "on", false: "off"}
	fmt.Fprintf(w, "PIN:           %s\nmoderator PIN: %s\nparticipants:  up to %d\njoin tones:    %s\nmusic alone:   %s\n",
		orNone(r.PIN), orNone(r.ModeratorPIN), r.MaxParticipants, onoff[r.AnnounceJoins], onoff[r.MusicWhenAlone])
}

// showLive prints who is in a room, or that call control cannot say.
func showLive(w io.Writer, st *api.RoomState) {
	if st == nil {
		fmt.Fprintln(w, "live:          unknown (call control is not reachable)")
		return
	}
	yesNo := map[bool]string{true: "yes", false: "no"}
	fmt.Fprintf(w, "locked:        %s\nin the room:   %d\n", yesNo[st.Locked], len(st.Participants))
	if len(st.Participants) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tCALLER\tJOINED\tMUTED\tMODERATOR")
	for _, p := range st.Participants {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.ID, p.Caller, p.JoinedAt.Format("15:04:05Z07:00"), yesNo[p.Muted], yesNo[p.Moderator])
	}
	tw.Flush()
}

// orNone shows an empty PIN as "none".
func orNone(pin string) string {
	if pin == "" {
		return "none"
	}
	return pin
}
