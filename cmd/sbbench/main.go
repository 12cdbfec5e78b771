// Command sbbench measures Switchboard on the native stack (scripts/stack) and writes
// docs/benchmarks.md and docs/benchmarks.json. `make bench` runs it; it is not part of
// `make test`. Load comes from SIPp (callers) and from the softphone's packages (callees,
// concurrency, registrations); every figure in the report says which.
//
//	sbbench [-phases provisioning,setup,rate,concurrency] [-quick] [-out docs]
//
// It reads the stack's exports (API_URL, API_TOKEN, SIP_HOST, SIP_PORT, ASTERISK_CLI) and uses
// extensions 5000-7999, 100000-149999 and 160000-169999, which it deletes afterwards.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() { os.Exit(run()) }

// run is the bench; it returns the exit status, so that deferred cleanup (the bench's users,
// its dialplan) happens whichever way it ends.
func run() int {
	// Provisioning first: it removes its population when done, and the call phases then run
	// with the few users they need.
	phases := flag.String("phases", "provisioning,setup,rate,concurrency", "phases to run")
	out := flag.String("out", "docs", "directory for benchmarks.md and benchmarks.json")
	setupCalls := flag.Int("setup-calls", 500, "calls per path for the setup-overhead phase")
	rateSteps := flag.String("rate-steps", "40,60,80,100", "calls per second to try, in order, for each path")
	rateSeconds := flag.Int("rate-seconds", 60, "seconds each rate step lasts")
	concSteps := flag.String("concurrency-steps", "50,100,200,300", "concurrent calls to try, in order")
	concHold := flag.Duration("concurrency-hold", 15*time.Second, "how long the calls of a concurrency step last")
	populations := flag.String("populations", "10000,50000", "user populations the provisioning phase grows to, in order")
	samples := flag.Int("provisioning-samples", 50, "users created, changed and deleted at each population")
	quick := flag.Bool("quick", false, "a short run for development: smaller populations, fewer calls, shorter steps")
	rerender := flag.Bool("report", false, "measure nothing: rewrite benchmarks.md from the benchmarks.json in -out")
	flag.Parse()
	if *quick {
		*populations, *samples, *setupCalls = "2000", 20, 100
		*rateSteps, *rateSeconds = "40,80", 10
		*concSteps, *concHold = "50,100", 5*time.Second
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))

	if *rerender {
		if err := rewriteReport(*out); err != nil {
			fmt.Fprintln(os.Stderr, "sbbench:", err)
			return 1
		}
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := newBench()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sbbench:", err)
		return 2
	}
	defer b.cleanup()
	report := &Report{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Command: "make bench (" + strings.Join(os.Args, " ") + ")"}
	for _, p := range strings.Split(*phases, ",") {
		start := time.Now()
		slog.Info("phase", "name", p)
		switch p {
		case "setup":
			report.Setup, err = b.setupOverhead(ctx, *setupCalls)
		case "rate":
			report.Rate, err = b.callRate(ctx, parseInts(*rateSteps), time.Duration(*rateSeconds)*time.Second)
		case "concurrency":
			report.Concurrency, err = b.concurrency(ctx, parseInts(*concSteps), *concHold)
		case "provisioning":
			report.Provisioning, err = b.provisioning(ctx, provisioningOptions{Populations: parseInts(*populations),
				Samples: *samples, SetupCalls: min(*setupCalls, 200), ChurnUsers: 100})
		default:
			err = fmt.Errorf("unknown phase %q", p)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "sbbench: phase %s: %v\n", p, err)
			return 1
		}
		slog.Info("phase done", "name", p, "took", time.Since(start).Round(time.Second))
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "sbbench:", err)
		return 1
	}
	raw, _ := json.MarshalIndent(report, "", "  ")
	os.WriteFile(filepath.Join(*out, "benchmarks.json"), append(raw, '\n'), 0o644)
	os.WriteFile(filepath.Join(*out, "benchmarks.md"), []byte(report.Markdown()), 0o644)
	fmt.Print(report.Markdown())
	return 0
}

// rewriteReport renders benchmarks.md again from the raw figures, after a change to the
// report's text.
func rewriteReport(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "benchmarks.json"))
	if err != nil {
		return err
	}
	var report Report
	if err := json.Unmarshal(raw, &report); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "benchmarks.json"), err)
	}
	return os.WriteFile(filepath.Join(dir, "benchmarks.md"), []byte(report.Markdown()), 0o644)
}

func parseInts(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	n := 0
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		n = strings.Count(string(b), "processor\t:")
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf(", %.0f GiB", float64(kb)/1024/1024)
	}
	return fmt.Sprintf("%d × %s%s", n, cpu, mem)
}
