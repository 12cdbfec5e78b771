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
	if len(args) == 0 {
		fmt.Fprint(stderr, roomsUsage)
		return 2
	}
	client := &api.Client{BaseURL: getenv("API_URL", "http://127.0.0.1:8080"),
		Token: getenv("API_TOKEN", os.Getenv("SWITCHBOARD_ADMIN_TOKEN"))}
	fs := flag.NewFlagSet("rooms "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "display name")
	pin := fs.String("pin", "", "PIN asked for before joining (4-10 digits; empty: none)")
	moderatorPIN := fs.String("moderator-pin", "", "PIN that makes a caller a moderator (4-10 digits; empty: none)")
	maxParticipants := fs.Int("max", 0, "participants at once (2-100)")
	noAnnounce := fs.Bool("no-announce", false, "create without join and leave tones")
	noMusic := fs.Bool("no-music", false, "create without music for a participant alone")
	announce := fs.String("announce", "", "join and leave tones: on or off")
	music := fs.String("music", "", "music for a participant alone: on or off")
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
	// set changes what was given, even to "" (which removes a PIN).
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	need := func(what ...string) bool {
		if len(positional) != len(what) {
			expected := "no arguments"
			if len(what) > 0 {
				expected = strings.Join(what, " ")
			}
			fmt.Fprintf(stderr, "switchboard rooms %s: expected %s\n\n%s", cmd, expected, roomsUsage)
			return false
		}
		return true
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
	done := func(format string, args ...any) {
		if !*asJSON {
			fmt.Fprintf(stdout, format+"\n", args...)
		}
	}

	var err error
	switch cmd {
	case "add":
		if !need("NUMBER") {
			return 2
		}
		req := api.CreateRoomRequest{Number: positional[0], Name: *name, PIN: *pin, ModeratorPIN: *moderatorPIN}
		if given["max"] {
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
		if r, err = client.CreateRoom(ctx, req); err == nil {
			print(r, func(w io.Writer) { fmt.Fprintf(w, "created room %s (%s)\n", r.Number, r.Name); showRoom(w, r) })
		}
	case "set":
		if !need("NUMBER") {
			return 2
		}
		var req api.PatchRoomRequest
		if given["name"] {
			req.Name = name
		}
		if given["pin"] {
			req.PIN = pin
		}
		if given["moderator-pin"] {
			req.ModeratorPIN = moderatorPIN
		}
		if given["max"] {
			req.MaxParticipants = maxParticipants
		}
		for _, f := range []struct {
			flag, value string
			set         **bool
		}{{"announce", *announce, &req.AnnounceJoins}, {"music", *music, &req.MusicWhenAlone}} {
			if !given[f.flag] {
				continue
			}
			b, ok := onOff(f.value)
			if !ok {
				fmt.Fprintf(stderr, "switchboard rooms set: --%s must be on or off\n", f.flag)
				return 2
			}
			*f.set = &b
		}
		var r api.Room
		if r, err = client.PatchRoom(ctx, positional[0], req); err == nil {
			print(r, func(w io.Writer) { fmt.Fprintf(w, "changed room %s\n", r.Number); showRoom(w, r) })
		}
	case "list":
		if !need() {
			return 2
		}
		var all []api.Room
		if all, err = client.Rooms(ctx); err == nil {
			print(all, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NUMBER\tNAME\tPIN\tMODERATOR PIN\tMAX")
				for _, r := range all {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", r.Number, r.Name, orNone(r.PIN), orNone(r.ModeratorPIN), r.MaxParticipants)
				}
				tw.Flush()
			})
		}
	case "show":
		if !need("NUMBER") {
			return 2
		}
		var r api.RoomDetail
		if r, err = client.Room(ctx, positional[0]); err == nil {
			print(r, func(w io.Writer) {
				fmt.Fprintf(w, "number:        %s\nname:          %s\n", r.Number, r.Name)
				showRoom(w, r.Room)
				fmt.Fprintf(w, "created:       %s\n", r.CreatedAt.Format("2006-01-02 15:04:05Z07:00"))
				showLive(w, r.Live)
			})
		}
	case "rm":
		if !need("NUMBER") {
			return 2
		}
		if err = client.DeleteRoom(ctx, positional[0]); err == nil {
			done("deleted room %s", positional[0])
		}
	case "mute", "unmute":
		if !need("NUMBER", "ID") {
			return 2
		}
		if err = client.MuteParticipant(ctx, positional[0], positional[1], cmd == "mute"); err == nil {
			done("%sd %s in room %s", cmd, positional[1], positional[0])
		}
	case "kick":
		if !need("NUMBER", "ID") {
			return 2
		}
		if err = client.KickParticipant(ctx, positional[0], positional[1]); err == nil {
			done("removed %s from room %s", positional[1], positional[0])
		}
	case "lock", "unlock":
		if !need("NUMBER") {
			return 2
		}
		if err = client.LockRoom(ctx, positional[0], cmd == "lock"); err == nil {
			done("%sed room %s", cmd, positional[0])
		}
	default:
		fmt.Fprintf(stderr, "switchboard rooms: unknown command %q\n\n%s", cmd, roomsUsage)
		return 2
	}
	if err != nil {
		var se *api.StatusError
		if errors.As(err, &se) {
			fmt.Fprintf(stderr, "switchboard rooms %s: %s (%s)\n", cmd, se.Err.Message, se.Err.Code)
		} else {
			fmt.Fprintf(stderr, "switchboard rooms %s: %v\n", cmd, err)
		}
		return 1
	}
	return 0
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
