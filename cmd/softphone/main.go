// Command softphone is a SIP phone for people and for tests: it registers an extension, places
// and answers calls through the PBX, sends a tone, a WAV file or DTMF, and measures what it hears.
//
//	softphone register                 stay registered, print incoming calls and voicemail
//	                                   indications (--mwi-subscribe asks for them)
//	softphone call EXT [flags]         call EXT, print a report
//	softphone answer [flags]           register and answer --calls N calls
//
// Credentials and server come from flags or from SOFTPHONE_SERVER (host:port), SOFTPHONE_USER
// and SOFTPHONE_PASSWORD. Exit codes (see softphone.ExitCode): 0 ok, 1 local failure, 2 usage,
// 3 wrong user name or password, 4 no such extension, 5 busy, 6 no answer, 7 server
// unreachable, 8 call rejected (other SIP failure), 9 expected tone not heard, 130 interrupted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	diagomedia "github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-pbx/switchboard/media"
	"github.com/switchboard-pbx/switchboard/softphone"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(int(code))
}

const usage = `usage: softphone <command> [flags]

commands:
  register          register and stay registered; print incoming calls (they ring) and
                    message-waiting indications (voicemail)
  call EXT          call extension EXT and print a report
  answer            register and answer incoming calls (--calls N)

account (flags override the environment):
  --server HOST:PORT    PBX address            ($SOFTPHONE_SERVER, default 127.0.0.1:5060)
  --user EXT            extension / user name  ($SOFTPHONE_USER)
  --password PW         SIP password           ($SOFTPHONE_PASSWORD)
  --transport udp|tcp   SIP transport          ($SOFTPHONE_TRANSPORT, default udp)
  --bind ADDR           local address for SIP and RTP (default 127.0.0.1)
  --local-port N        local SIP port (default: any free port)
  --codec pcmu|pcma     G.711 µ-law or A-law (default pcmu)

media (call, answer):
  --tone HZ             send a sine tone          --tone-level DBFS (default -12)
  --play FILE.wav       send a WAV file (8 kHz 16-bit mono PCM) once
  --record FILE.wav     record the received audio
  --duration D          hang up D after the answer (e.g. 10s; default: wait for the other side)
  --dtmf DIGITS         send RFC 4733 DTMF after the answer ("," pauses 500 ms)
  --dtmf-delay D        wait before the first digit (default 500ms)
  --expect-tone HZ      check that the received audio holds this tone (exit 9 if not)
  --hangup-on-tone      hang up as soon as the expected tone is heard

call:    --ring-timeout D (default 60s)
answer:  --calls N (default 1, 0 = until interrupted)   --ring-for D
         --reject busy|decline|noanswer (refuse calls instead, for tests)
register, answer: --expiry D (default 300s)
         --mwi-subscribe: also subscribe to the mailbox's message summary (RFC 3842);
         a refused subscription fails like a refused registration
all:     --response-timeout D: the server is unreachable without any answer
         within D (default 5s)

output:  --json (machine-readable report)   -q (no progress lines)   -v (SIP debug logs)

exit codes: 0 ok, 1 local failure, 2 usage, 3 wrong user name or password,
  4 no such extension, 5 busy, 6 no answer, 7 server unreachable,
  8 call rejected (other SIP failure), 9 expected tone not heard, 130 interrupted
`

var setLibraryLoggers sync.Once

// config is everything the command line and the environment say.
type config struct {
	command, ext string

	server, user, password, transport, bind, codec string
	localPort                                      int

	tone, toneLevel, expectTone float64
	play, record, dtmf          string
	duration, dtmfDelay         time.Duration
	hangupOnTone                bool

	ringTimeout, responseTimeout time.Duration
	calls                        int
	reject                       string
	ringFor, expiry              time.Duration
	mwiSubscribe                 bool

	json, quiet, verbose bool
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func parse(args []string, getenv func(string) string) (*config, error) {
	if len(args) == 0 {
		return nil, usageError{"missing command"}
	}
	c := &config{command: args[0]}
	switch c.command {
	case "register", "call", "answer":
	case "help", "-h", "--help", "-help":
		return c, nil
	default:
		return nil, usageError{fmt.Sprintf("unknown command %q", c.command)}
	}
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("softphone "+c.command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.server, "server", env("SOFTPHONE_SERVER", "127.0.0.1:5060"), "")
	fs.StringVar(&c.user, "user", env("SOFTPHONE_USER", ""), "")
	fs.StringVar(&c.password, "password", env("SOFTPHONE_PASSWORD", ""), "")
	fs.StringVar(&c.transport, "transport", env("SOFTPHONE_TRANSPORT", "udp"), "")
	fs.StringVar(&c.bind, "bind", "127.0.0.1", "")
	fs.IntVar(&c.localPort, "local-port", 0, "")
	fs.StringVar(&c.codec, "codec", "pcmu", "")
	fs.BoolVar(&c.json, "json", false, "")
	fs.BoolVar(&c.quiet, "q", false, "")
	fs.BoolVar(&c.verbose, "v", false, "")
	fs.DurationVar(&c.expiry, "expiry", 300*time.Second, "")
	if c.command != "call" {
		fs.BoolVar(&c.mwiSubscribe, "mwi-subscribe", false, "")
	}
	if c.command != "register" {
		fs.Float64Var(&c.tone, "tone", 0, "")
		fs.Float64Var(&c.toneLevel, "tone-level", -12, "")
		fs.StringVar(&c.play, "play", "", "")
		fs.StringVar(&c.record, "record", "", "")
		fs.DurationVar(&c.duration, "duration", 0, "")
		fs.StringVar(&c.dtmf, "dtmf", "", "")
		fs.DurationVar(&c.dtmfDelay, "dtmf-delay", 500*time.Millisecond, "")
		fs.Float64Var(&c.expectTone, "expect-tone", 0, "")
		fs.BoolVar(&c.hangupOnTone, "hangup-on-tone", false, "")
	}
	fs.DurationVar(&c.responseTimeout, "response-timeout", 5*time.Second, "")
	if c.command == "call" {
		fs.DurationVar(&c.ringTimeout, "ring-timeout", 60*time.Second, "")
	}
	if c.command == "answer" {
		fs.IntVar(&c.calls, "calls", 1, "")
		fs.StringVar(&c.reject, "reject", "", "")
		fs.DurationVar(&c.ringFor, "ring-for", 0, "")
	}
	// Flags may come before and after the extension.
	var positional []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	switch {
	case c.command == "call" && len(positional) != 1:
		return nil, usageError{"call needs exactly one extension: softphone call EXT"}
	case c.command != "call" && len(positional) > 0:
		return nil, usageError{fmt.Sprintf("unexpected argument %q", positional[0])}
	case c.user == "":
		return nil, usageError{"no user: set --user or SOFTPHONE_USER"}
	case c.tone != 0 && c.play != "":
		return nil, usageError{"--tone and --play exclude each other"}
	case c.hangupOnTone && c.expectTone == 0:
		return nil, usageError{"--hangup-on-tone needs --expect-tone"}
	case c.calls < 0:
		return nil, usageError{"--calls must not be negative"}
	}
	if c.command == "call" {
		c.ext = positional[0]
	}
	return c, nil
}

// run is the whole command; main only wires the process to it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) softphone.ExitCode {
	c, err := parse(args, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "softphone: %v\n\n%s", err, usage)
		return softphone.ExitUsage
	}
	if c.command == "help" || strings.HasPrefix(c.command, "-") {
		fmt.Fprint(stdout, usage)
		return softphone.ExitOK
	}
	fail := func(code softphone.ExitCode, err error) softphone.ExitCode {
		fmt.Fprintf(stderr, "softphone: %v\n", err)
		return code
	}

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if c.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// sipgo's and diago's layers below the Phone log through package-wide defaults: set them
	// once per process (tests run the command several times).
	setLibraryLoggers.Do(func() {
		sip.SetDefaultLogger(logger)
		diagomedia.SetDefaultLogger(logger)
		sip.SIPDebug = c.verbose // every SIP message, in the debug log
	})

	codec, err := media.ParseG711(c.codec)
	if err != nil {
		return fail(softphone.ExitUsage, err)
	}
	reject, err := softphone.ParseReject(c.reject)
	if err != nil {
		return fail(softphone.ExitUsage, err)
	}
	mopts := softphone.MediaOptions{
		Tone: c.tone, ToneLevel: c.toneLevel, Record: c.record,
		ExpectTone: c.expectTone, HangupOnTone: c.hangupOnTone, Duration: c.duration,
		DTMF: c.dtmf, DTMFDelay: c.dtmfDelay,
	}
	if c.play != "" {
		if mopts.Play, err = readPlay(c.play); err != nil {
			return fail(softphone.ExitFailure, err)
		}
	}

	events := eventPrinter(c, stdout, stderr)
	// The phone outlives an interrupt (ctx) long enough to hang up and unregister; Close ends it.
	phone, err := softphone.Open(context.WithoutCancel(ctx), softphone.Options{
		Server: c.server, Username: c.user, Password: c.password, Transport: c.transport,
		BindHost: c.bind, LocalPort: c.localPort, Codec: codec, Logger: logger, OnEvent: events,
	})
	if err != nil {
		return fail(softphone.ExitUsage, err)
	}
	defer phone.Close()

	switch c.command {
	case "register":
		err := phone.Register(ctx, softphone.RegisterOptions{
			Expiry: c.expiry, ResponseTimeout: c.responseTimeout, SubscribeMWI: c.mwiSubscribe,
		})
		if err != nil {
			return fail(softphone.ExitCodeFor(err), hint(err, c))
		}
		return softphone.ExitOK

	case "call":
		rep, err := phone.Call(ctx, c.ext, softphone.CallOptions{
			MediaOptions: mopts, RingTimeout: c.ringTimeout, ResponseTimeout: c.responseTimeout,
		})
		if c.json {
			printJSON(stdout, rep)
		} else if rep.Answered() {
			printReport(stdout, rep)
		}
		if err != nil {
			if !rep.Answered() {
				return fail(softphone.ExitCodeFor(err), hint(err, c))
			}
			fmt.Fprintf(stderr, "softphone: %v\n", err) // the call happened; its media had trouble
		}
		if rep.ExitCode == softphone.ExitToneMissing {
			fmt.Fprintf(stderr, "softphone: call %s: expected %g Hz tone not heard\n", c.ext, c.expectTone)
		}
		return rep.ExitCode

	case "answer":
		reps, err := phone.Answer(ctx, softphone.AnswerOptions{
			MediaOptions: mopts, Calls: c.calls, Reject: reject, RingFor: c.ringFor,
			Register: softphone.RegisterOptions{Expiry: c.expiry, ResponseTimeout: c.responseTimeout, SubscribeMWI: c.mwiSubscribe},
		})
		if c.json {
			if reps == nil {
				reps = []*softphone.Report{}
			}
			printJSON(stdout, reps)
		} else {
			for _, rep := range reps {
				printReport(stdout, rep)
			}
		}
		if err != nil {
			return fail(softphone.ExitCodeFor(err), hint(err, c))
		}
		for _, rep := range reps {
			if rep.ExitCode == softphone.ExitToneMissing {
				fmt.Fprintf(stderr, "softphone: call from %s: expected %g Hz tone not heard\n", rep.Peer, c.expectTone)
			}
			if rep.ExitCode != softphone.ExitOK {
				return rep.ExitCode
			}
		}
		if ctx.Err() != nil && c.calls > 0 && len(reps) < c.calls {
			return fail(softphone.ExitInterrupted, fmt.Errorf("interrupted after %d of %d calls", len(reps), c.calls))
		}
		return softphone.ExitOK
	}
	return softphone.ExitUsage
}

// hint adds what a person should check next to errors whose cause is usually the setup.
func hint(err error, c *config) error {
	var e *softphone.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Outcome {
	case softphone.OutcomeAuthFailed:
		return fmt.Errorf("%w; check --user/--password (SOFTPHONE_USER, SOFTPHONE_PASSWORD)", err)
	case softphone.OutcomeUnreachable:
		return fmt.Errorf("%w; is the PBX running at %s (--server, SOFTPHONE_SERVER)?", err, c.server)
	}
	return err
}

func readPlay(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("play: %w", err)
	}
	defer f.Close()
	samples, format, err := media.ReadWAV(f)
	if err != nil {
		return nil, fmt.Errorf("play %s: %w", path, err)
	}
	if format.SampleRate != media.SampleRate {
		return nil, fmt.Errorf("play %s: %s, want 8000 Hz 16-bit mono (convert with: sox IN -r 8000 -c 1 -b 16 OUT.wav)", path, format)
	}
	return samples, nil
}

// eventPrinter prints what the phone does: one line per event on stderr for people, or, for
// `register --json`, one JSON object per line on stdout. Writes are short and serialised.
func eventPrinter(c *config, stdout, stderr io.Writer) func(softphone.Event) {
	var mu sync.Mutex
	if c.command == "register" && c.json {
		enc := json.NewEncoder(stdout)
		return func(e softphone.Event) {
			mu.Lock()
			defer mu.Unlock()
			enc.Encode(e)
		}
	}
	if c.quiet {
		return nil
	}
	out := stderr
	if c.command == "register" {
		out = stdout // printing incoming calls and voicemail indications is what register is for
	}
	return func(e softphone.Event) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(out, e.Time.Format("15:04:05.000")+" "+e.String())
	}
}

func printJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func printReport(w io.Writer, r *softphone.Report) {
	what := "call " + r.Peer
	if r.Direction == "incoming" {
		what = "call from " + r.Peer
	}
	if !r.Answered() {
		fmt.Fprintf(w, "%s: %s (SIP %d %s)\n", what, r.Outcome, r.SIPStatus, r.SIPReason)
		return
	}
	fmt.Fprintf(w, "%s: answered", what)
	if r.Setup > 0 {
		fmt.Fprintf(w, " after %v", time.Duration(r.Setup).Round(time.Microsecond))
	}
	if r.FirstProvisional > 0 {
		fmt.Fprintf(w, " (first provisional after %v)", time.Duration(r.FirstProvisional).Round(time.Microsecond))
	}
	fmt.Fprintf(w, "; %s over %s; talked %v, hung up by %s\n", r.Codec, r.Transport, time.Duration(r.Talk).Round(time.Millisecond), r.EndedBy)
	fmt.Fprintf(w, "  rtp: sent %d, received %d of %d (lost %d, %.1f%%), jitter %v\n",
		r.RTP.Sent, r.RTP.Received, r.RTP.Expected, r.RTP.Lost, r.RTP.LossPercent, time.Duration(r.RTP.Jitter).Round(time.Microsecond))
	fmt.Fprintf(w, "  audio: received %v, sound for %v, peak %.1f dBFS\n",
		time.Duration(r.Audio.Received).Round(time.Millisecond), time.Duration(r.Audio.Active).Round(time.Millisecond), r.Audio.PeakDBFS)
	if r.DTMFSent != "" {
		fmt.Fprintf(w, "  dtmf: sent %s\n", r.DTMFSent)
	}
	if t := r.Tone; t != nil {
		if t.Detected {
			fmt.Fprintf(w, "  tone %g Hz: heard for %v at %.1f dBFS\n", t.Hz, time.Duration(t.Duration).Round(time.Millisecond), t.LevelDBFS)
		} else {
			fmt.Fprintf(w, "  tone %g Hz: NOT heard\n", t.Hz)
		}
	}
}
