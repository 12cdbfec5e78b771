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

const queuesUsage = `usage: switchboard queues <command> [flags]

  add NUMBER --name NAME --agents EXT,EXT,...
             [--strategy ring_all|round_robin|least_recent|fewest_calls]
             [--ring-seconds S] [--max-wait S] [--no-answer hangup|voicemail:EXT|number:NUM]
              create a call queue (ring_all, 15 s of ringing, 300 s of waiting at most, then
              hang up, unless told otherwise); agents start logged out
  list        list queues
  show NUMBER show a queue, who waits in it and what its agents do now
  set NUMBER [--name NAME] [--agents EXT,EXT,...] [--strategy S] [--ring-seconds S]
             [--max-wait S] [--no-answer hangup|voicemail:EXT|number:NUM]
              change a queue; --agents replaces the whole list (agents who stay keep
              their logins)
  rm NUMBER   delete a queue (callers waiting and agents' calls go on)
  login NUMBER EXT | logout NUMBER EXT
              log an agent in to a queue or out of it (agents also dial *45)

The CLI talks to the REST API: API_URL (default http://127.0.0.1:8080) and
API_TOKEN or SWITCHBOARD_ADMIN_TOKEN. Add --json for machine-readable output.
`

func queues(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, queuesUsage)
		return 2
	}
	client := &api.Client{BaseURL: getenv("API_URL", "http://127.0.0.1:8080"),
		Token: getenv("API_TOKEN", os.Getenv("SWITCHBOARD_ADMIN_TOKEN"))}
	fs := flag.NewFlagSet("queues "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "display name")
	agents := fs.String("agents", "", "extensions of the agents, comma-separated, in order")
	strategy := fs.String("strategy", "", "ring_all, round_robin, least_recent or fewest_calls")
	ringSeconds := fs.Int("ring-seconds", 0, "seconds an agent's phones ring before the queue tries again (5-120)")
	maxWait := fs.Int("max-wait", 0, "seconds a caller waits at most (10-3600)")
	noAnswer := fs.String("no-answer", "", "after the maximum wait: hangup, voicemail:EXT or number:NUM")
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
			fmt.Fprintf(stderr, "switchboard queues %s: expected %s\n\n%s", cmd, expected, queuesUsage)
			return false
		}
		return true
	}
	var destination *api.GroupDestination
	if given["no-answer"] {
		d, ok := parseDestination(*noAnswer)
		if !ok {
			fmt.Fprintf(stderr, "switchboard queues %s: --no-answer must be hangup, voicemail:EXT or number:NUM\n", cmd)
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
	// The optional settings are the same for add and set.
	options := func(s **string, ring, wait **int) {
		if given["strategy"] {
			*s = strategy
		}
		if given["ring-seconds"] {
			*ring = ringSeconds
		}
		if given["max-wait"] {
			*wait = maxWait
		}
	}

	var err error
	switch cmd {
	case "add":
		if !need("NUMBER") {
			return 2
		}
		req := api.CreateQueueRequest{Number: positional[0], Name: *name, Agents: splitMembers(*agents), NoAnswer: destination}
		options(&req.Strategy, &req.RingSeconds, &req.MaxWait)
		var q api.Queue
		if q, err = client.CreateQueue(ctx, req); err == nil {
			print(q, func(w io.Writer) { fmt.Fprintf(w, "created queue %s (%s)\n", q.Number, q.Name); showQueue(w, q) })
		}
	case "set":
		if !need("NUMBER") {
			return 2
		}
		req := api.PatchQueueRequest{NoAnswer: destination}
		if given["name"] {
			req.Name = name
		}
		if given["agents"] {
			list := splitMembers(*agents)
			req.Agents = &list
		}
		options(&req.Strategy, &req.RingSeconds, &req.MaxWait)
		var q api.Queue
		if q, err = client.PatchQueue(ctx, positional[0], req); err == nil {
			print(q, func(w io.Writer) { fmt.Fprintf(w, "changed queue %s\n", q.Number); showQueue(w, q) })
		}
	case "list":
		if !need() {
			return 2
		}
		var all []api.Queue
		if all, err = client.Queues(ctx); err == nil {
			print(all, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NUMBER\tNAME\tSTRATEGY\tAGENTS\tMAX WAIT\tNO ANSWER")
				for _, q := range all {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d s\t%s\n", q.Number, q.Name, q.Strategy, describeAgents(q.Agents),
						q.MaxWait, describeDestination(q.NoAnswer))
				}
				tw.Flush()
			})
		}
	case "show":
		if !need("NUMBER") {
			return 2
		}
		var q api.QueueDetail
		if q, err = client.Queue(ctx, positional[0]); err == nil {
			print(q, func(w io.Writer) {
				fmt.Fprintf(w, "number:        %s\nname:          %s\n", q.Number, q.Name)
				showQueue(w, q.Queue)
				fmt.Fprintf(w, "created:       %s\n", q.CreatedAt.Format("2006-01-02 15:04:05Z07:00"))
				showQueueLive(w, q.Live)
			})
		}
	case "rm":
		if !need("NUMBER") {
			return 2
		}
		if err = client.DeleteQueue(ctx, positional[0]); err == nil && !*asJSON {
			fmt.Fprintf(stdout, "deleted queue %s\n", positional[0])
		}
	case "login", "logout":
		if !need("NUMBER", "EXT") {
			return 2
		}
		if err = client.SetAgentLoggedIn(ctx, positional[0], positional[1], cmd == "login"); err == nil && !*asJSON {
			fmt.Fprintf(stdout, "%s is logged %s queue %s\n", positional[1],
				map[bool]string{true: "in to", false: "out of"}[cmd == "login"], positional[0])
		}
	default:
		fmt.Fprintf(stderr, "switchboard queues: unknown command %q\n\n%s", cmd, queuesUsage)
		return 2
	}
	if err != nil {
		var se *api.StatusError
		if errors.As(err, &se) {
			fmt.Fprintf(stderr, "switchboard queues %s: %s (%s)\n", cmd, se.Err.Message, se.Err.Code)
		} else {
			fmt.Fprintf(stderr, "switchboard queues %s: %v\n", cmd, err)
		}
		return 1
	}
	return 0
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
	fmt.Fprintf(w, "agents:        %s (* logged in)\nstrategy:      %s\nring seconds:  %d (each try)\nmax wait:      %d seconds\nno answer:     %s\n",
		describeAgents(q.Agents), q.Strategy, q.RingSeconds, q.MaxWait, describeDestination(q.NoAnswer))
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
