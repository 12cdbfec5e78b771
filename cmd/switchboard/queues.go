package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/switchboard-pbx/switchboard/api"
)

const queuesUsage = `usage: switchboard queues <command> [flags]

  add NUMBER --name NAME --agents EXT,EXT,...
             [--strategy ring_all|round_robin|least_recent|fewest_calls]
             [--ring-seconds S] [--max-wait S] [--no-answer hangup|voicemail:EXT|number:NUM]
             [--voicemail on|off] [--pin PIN]
              create a call queue (ring_all, 15 s of ringing, 300 s of waiting at most, then
              hang up, no mailbox, unless told otherwise); agents start logged out
  list        list queues
  show NUMBER show a queue, who waits in it and what its agents do now
  set NUMBER [--name NAME] [--agents EXT,EXT,...] [--strategy S] [--ring-seconds S]
             [--max-wait S] [--no-answer hangup|voicemail:EXT|number:NUM]
             [--voicemail on|off] [--pin PIN]
              change a queue; --agents replaces the whole list (agents who stay keep
              their logins)
  rm NUMBER   delete a queue (agents' calls go on; callers waiting go to its no-answer
              destination)
  login NUMBER EXT | logout NUMBER EXT
              log an agent in to a queue or out of it (agents also dial *45)

--voicemail on gives the queue a mailbox of its own, numbered like the queue, with
a generated PIN (printed once) unless --pin gives one; --no-answer voicemail:NUMBER
(the queue's own number) sends the callers who waited too long there, and agents
listen with *98. --voicemail off keeps the PIN for when it is turned on again.

The CLI talks to the REST API: API_URL (default http://127.0.0.1:8080) and
API_TOKEN or SWITCHBOARD_ADMIN_TOKEN. Add --json for machine-readable output.
`

func queues(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, ok := newAdminCommand("queues", queuesUsage, args, stdout, stderr)
	if !ok {
		return 2
	}
	name := c.flags.String("name", "", "display name")
	agents := c.flags.String("agents", "", "extensions of the agents, comma-separated, in order")
	strategy := c.flags.String("strategy", "", "ring_all, round_robin, least_recent or fewest_calls")
	ringSeconds := c.flags.Int("ring-seconds", 0, "seconds an agent's phones ring before the queue tries again (5-120)")
	maxWait := c.flags.Int("max-wait", 0, "seconds a caller waits at most (10-3600)")
	noAnswer := c.flags.String("no-answer", "", "after the maximum wait: hangup, voicemail:EXT or number:NUM")
	voicemail := c.flags.String("voicemail", "", "the queue's own mailbox: on or off")
	pin := c.flags.String("pin", "", "the PIN of the queue's own mailbox, 4 to 10 digits (generated when not given)")
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
	options := func(s **string, ring, wait **int) {
		if c.given["strategy"] {
			*s = strategy
		}
		if c.given["ring-seconds"] {
			*ring = ringSeconds
		}
		if c.given["max-wait"] {
			*wait = maxWait
		}
	}

	var err error
	switch c.cmd {
	case "add":
		if !c.need("NUMBER") {
			return 2
		}
		req := api.CreateQueueRequest{Number: c.positional[0], Name: *name, Agents: splitExtensions(*agents),
			NoAnswer: destination, Voicemail: mailbox}
		options(&req.Strategy, &req.RingSeconds, &req.MaxWait)
		var q api.Queue
		if q, err = c.client.CreateQueue(ctx, req); err == nil {
			c.print(q, func(w io.Writer) {
				fmt.Fprintf(w, "created queue %s (%s)\n", q.Number, q.Name)
				showQueue(w, q)
				showGeneratedPIN(w, q.Voicemail)
			})
		}
	case "set":
		if !c.need("NUMBER") {
			return 2
		}
		req := api.PatchQueueRequest{NoAnswer: destination, Voicemail: mailbox}
		if c.given["name"] {
			req.Name = name
		}
		if c.given["agents"] {
			list := splitExtensions(*agents)
			req.Agents = &list
		}
		options(&req.Strategy, &req.RingSeconds, &req.MaxWait)
		var q api.Queue
		if q, err = c.client.PatchQueue(ctx, c.positional[0], req); err == nil {
			c.print(q, func(w io.Writer) {
				fmt.Fprintf(w, "changed queue %s\n", q.Number)
				showQueue(w, q)
				showGeneratedPIN(w, q.Voicemail)
			})
		}
	case "list":
		if !c.need() {
			return 2
		}
		var all []api.Queue
		if all, err = c.client.Queues(ctx); err == nil {
			c.print(all, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NUMBER\tNAME\tSTRATEGY\tAGENTS\tMAX WAIT\tNO ANSWER")
				for _, q := range all {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d s\t%s\n", q.Number, q.Name, q.Strategy, describeAgents(q.Agents),
						q.MaxWait, describeNoAnswer(q.Number, q.NoAnswer))
				}
				tw.Flush()
			})
		}
	case "show":
		if !c.need("NUMBER") {
			return 2
		}
		var q api.QueueDetail
		if q, err = c.client.Queue(ctx, c.positional[0]); err == nil {
			c.print(q, func(w io.Writer) {
				showHeading(w, q.Number, q.Name)
				showQueue(w, q.Queue)
				showCreated(w, q.CreatedAt)
				showQueueLive(w, q.Live)
			})
		}
	case "rm":
		if !c.need("NUMBER") {
			return 2
		}
		if err = c.client.DeleteQueue(ctx, c.positional[0]); err == nil {
			c.done("deleted queue %s", c.positional[0])
		}
	case "login", "logout":
		if !c.need("NUMBER", "EXT") {
			return 2
		}
		if err = c.client.SetAgentLoggedIn(ctx, c.positional[0], c.positional[1], c.cmd == "login"); err == nil {
			c.done("%s is logged %s queue %s", c.positional[1],
				map[bool]string{true: "in to", false: "out of"}[c.cmd == "login"], c.positional[0])
		}
	default:
		return c.unknown()
	}
	return c.exit(err)
}

// describeAgents shows a queue's agents, "*" after those logged in, or that it has none left.
func describeAgents(agents []api.QueueAgent) string {
	if len(agents) == 0 {
		return "nobody"
	}
	var out []string
	for _, a := range agents {
		if a.LoggedIn {
			out = append(out, a.Extension+"*")
		} else {
			out = append(out, a.Extension)
		}
	}
	return strings.Join(out, ",")
}

// showQueue prints a queue's settings.
func showQueue(w io.Writer, q api.Queue) {
	fmt.Fprintf(w, "agents:        %s (* logged in)\nstrategy:      %s\nring seconds:  %d (each try)\nmax wait:      %d seconds\nno answer:     %s\nvoicemail:     %s\n",
		describeAgents(q.Agents), q.Strategy, q.RingSeconds, q.MaxWait, describeNoAnswer(q.Number, q.NoAnswer), describeMailbox(q.Voicemail))
}

// showQueueLive prints who waits in a queue and what its agents do, or that call control
// cannot say.
func showQueueLive(w io.Writer, st *api.QueueState) {
	if st == nil {
		fmt.Fprintln(w, "live:          unknown (call control is not reachable)")
		return
	}
	fmt.Fprintf(w, "waiting:       %d\nanswered:      %d, abandoned: %d, timed out: %d (since the control plane started)\n",
		len(st.Callers), st.Answered, st.Abandoned, st.TimedOut)
	if len(st.Callers) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tCALLER\tWAITING\tRINGING")
		for _, c := range st.Callers {
			fmt.Fprintf(tw, "  %s\t%s\t%d s\t%s\n", c.ID, c.Caller, c.WaitSeconds, orNobody(c.Ringing))
		}
		tw.Flush()
	}
	if len(st.Agents) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  AGENT\tSTATE\tCALLS\tLAST CALL")
		for _, a := range st.Agents {
			last := "none"
			if a.LastCall != nil {
				last = a.LastCall.Format("2006-01-02 15:04:05Z07:00")
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\n", a.Extension, a.State, a.Calls, last)
		}
		tw.Flush()
	}
}
