package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
)

const voicemailUsage = `usage: switchboard voicemail <command> [flags]

  list MAILBOX [--folder F]       the messages, newest first
  get MAILBOX ID --out FILE       save a message's recording (WAV)
  heard MAILBOX ID                mark a message heard (it moves to old)
  move MAILBOX ID FOLDER          file a message: new, old, work, family, friends, urgent
  rm MAILBOX ID                   delete a message
  greetings MAILBOX               the greetings the mailbox has
  greeting-set MAILBOX GREETING FILE
                                  upload a greeting (unavailable, busy or name): WAV or MP3
  greeting-get MAILBOX GREETING --out FILE
                                  save a greeting (WAV)
  greeting-rm MAILBOX GREETING    delete a greeting: callers hear Asterisk's own

MAILBOX is a user's extension, or the number of a ring group or call queue with its own
mailbox. Changes go through Asterisk: a phone's message-waiting lamp follows.

The CLI talks to the REST API: API_URL (default http://127.0.0.1:8080) and
API_TOKEN or SWITCHBOARD_ADMIN_TOKEN. Add --json for machine-readable output.
`

func voicemailCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, ok := newAdminCommand("voicemail", voicemailUsage, args, stdout, stderr)
	if !ok {
		return 2
	}
	folder := c.flags.String("folder", "", "only this folder")
	out := c.flags.String("out", "", "file to write")
	if !c.parse() {
		return 2
	}
	needOut := func() bool {
		if *out == "" {
			fmt.Fprintf(c.stderr, "switchboard voicemail %s: --out FILE is required\n", c.cmd)
		}
		return *out != ""
	}
	var err error
	switch c.cmd {
	case "list":
		if !c.need("MAILBOX") {
			return 2
		}
		var l api.MessageList
		if l, err = c.client.Messages(ctx, c.positional[0], api.MessageQuery{Folder: *folder, Limit: 1000}); err == nil {
			c.print(l, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tFOLDER\tFROM\tRECEIVED\tLENGTH")
				for _, m := range l.Messages {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.ID, m.Folder, caller(m), m.ReceivedAt.Local().Format(time.DateTime),
						(time.Duration(m.DurationMS) * time.Millisecond).Round(100*time.Millisecond))
				}
				tw.Flush()
			})
		}
	case "get":
		if !c.need("MAILBOX", "ID") || !needOut() {
			return 2
		}
		var wav []byte
		if wav, err = c.client.MessageAudio(ctx, c.positional[0], c.positional[1]); err == nil {
			err = c.save(*out, wav)
		}
	case "heard":
		if !c.need("MAILBOX", "ID") {
			return 2
		}
		heard := true
		err = c.patchMessage(ctx, api.PatchMessageRequest{Heard: &heard})
	case "move":
		if !c.need("MAILBOX", "ID", "FOLDER") {
			return 2
		}
		err = c.patchMessage(ctx, api.PatchMessageRequest{Folder: &c.positional[2]})
	case "rm":
		if !c.need("MAILBOX", "ID") {
			return 2
		}
		if err = c.client.DeleteMessage(ctx, c.positional[0], c.positional[1]); err == nil {
			c.done("deleted message %s of %s", c.positional[1], c.positional[0])
		}
	case "greetings":
		if !c.need("MAILBOX") {
			return 2
		}
		var l api.GreetingList
		if l, err = c.client.Greetings(ctx, c.positional[0]); err == nil {
			c.print(l, func(w io.Writer) {
				if len(l.Greetings) == 0 {
					fmt.Fprintln(w, "no greetings of its own: callers hear Asterisk's")
				}
				for _, g := range l.Greetings {
					fmt.Fprintf(w, "%-12s %s\n", g.Greeting, (time.Duration(g.DurationMS) * time.Millisecond).Round(100*time.Millisecond))
				}
			})
		}
	case "greeting-set":
		if !c.need("MAILBOX", "GREETING", "FILE") {
			return 2
		}
		audio, rerr := os.ReadFile(c.positional[2])
		if rerr != nil {
			return c.exit(rerr)
		}
		var g api.Greeting
		if g, err = c.client.SetGreeting(ctx, c.positional[0], c.positional[1], audio); err == nil {
			c.print(g, func(w io.Writer) {
				fmt.Fprintf(w, "%s greeting of %s set (%s)\n", g.Greeting, c.positional[0], time.Duration(g.DurationMS)*time.Millisecond)
			})
		}
	case "greeting-get":
		if !c.need("MAILBOX", "GREETING") || !needOut() {
			return 2
		}
		var wav []byte
		if wav, err = c.client.GreetingAudio(ctx, c.positional[0], c.positional[1]); err == nil {
			err = c.save(*out, wav)
		}
	case "greeting-rm":
		if !c.need("MAILBOX", "GREETING") {
			return 2
		}
		if err = c.client.DeleteGreeting(ctx, c.positional[0], c.positional[1]); err == nil {
			c.done("deleted the %s greeting of %s", c.positional[1], c.positional[0])
		}
	default:
		return c.unknown()
	}
	return c.exit(err)
}

func (c *adminCommand) patchMessage(ctx context.Context, req api.PatchMessageRequest) error {
	m, err := c.client.PatchMessage(ctx, c.positional[0], c.positional[1], req)
	if err == nil {
		c.print(m, func(w io.Writer) { fmt.Fprintf(w, "message %s of %s is in %s\n", m.ID, c.positional[0], m.Folder) })
	}
	return err
}

// save writes what was downloaded; it never replaces a file that is there.
func (c *adminCommand) save(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	c.done("wrote %s (%d bytes)", path, len(b))
	return nil
}

// caller names who left a message.
func caller(m api.VoicemailMessage) string {
	switch {
	case m.CallerName != "" && m.CallerNumber != "":
		return m.CallerName + " <" + m.CallerNumber + ">"
	case m.CallerNumber != "":
		return m.CallerNumber
	case m.CallerName != "":
		return m.CallerName
	}
	return "unknown"
}
