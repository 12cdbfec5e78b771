package main

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/softphone"
)

//go:embed sipp/*.xml
var scenarios embed.FS

// bench holds what every phase needs: the stack, its processes and the users it created.
type bench struct {
	api       *api.Client
	apiURL    string
	sipServer string
	cli       string // the Asterisk CLI wrapper of the stack
	etcDir    string // the stack Asterisk's etc directory
	dir       string // scratch directory
	created   []string
	floor     *floor       // the ARI floor application, once a phase needs it
	answered  atomic.Int64 // calls the bench's answering phones picked up
}

func newBench() (*bench, error) {
	get := func(name string) (string, error) {
		v := os.Getenv(name)
		if v == "" {
			return "", fmt.Errorf("%s is not set: run eval \"$(scripts/stack up)\" first", name)
		}
		return v, nil
	}
	var b bench
	var err error
	if b.apiURL, err = get("API_URL"); err != nil {
		return nil, err
	}
	token, err := get("API_TOKEN")
	if err != nil {
		return nil, err
	}
	host, err := get("SIP_HOST")
	if err != nil {
		return nil, err
	}
	port, err := get("SIP_PORT")
	if err != nil {
		return nil, err
	}
	if b.cli, err = get("ASTERISK_CLI"); err != nil {
		return nil, err
	}
	b.sipServer = host + ":" + port
	b.etcDir = filepath.Join(filepath.Dir(b.cli), "etc")
	b.api = &api.Client{BaseURL: b.apiURL, Token: token, HTTP: &http.Client{Timeout: 60 * time.Second}}
	if b.dir, err = os.MkdirTemp("", "sbbench-"); err != nil {
		return nil, err
	}
	return &b, nil
}

// startFloor starts the ARI floor application (floor.go) unless it runs already.
func (b *bench) startFloor(ctx context.Context) error {
	if b.floor != nil {
		return nil
	}
	f, err := startFloor(ctx)
	b.floor = f
	return err
}

// cleanup deletes the users the bench created and the site dialplan it wrote.
func (b *bench) cleanup() {
	b.deleteUsers(context.Background())
	os.Remove(filepath.Join(b.etcDir, "extensions_local.conf"))
	b.asterisk("module reload pbx_config.so")
	if os.Getenv("SBBENCH_KEEP") == "" {
		os.RemoveAll(b.dir)
	}
}

// deleteUsers deletes every user the bench created so far.
func (b *bench) deleteUsers(ctx context.Context) {
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, ext := range b.created {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			b.api.DeleteUser(ctx, ext)
		})
	}
	wg.Wait()
	b.created = nil
}

func (b *bench) asterisk(command string) (string, error) {
	out, err := exec.Command(b.cli, command).CombinedOutput()
	return string(out), err
}

// createUsers creates extensions from first to first+n-1 with password "bench-password-<ext>",
// concurrency at a time, and returns how long it took.
func (b *bench) createUsers(ctx context.Context, first, n, concurrency int) (time.Duration, error) {
	start := time.Now()
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range n {
		ext := strconv.Itoa(first + i)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, err := b.api.CreateUser(ctx, api.CreateUserRequest{Extension: ext, Name: "Bench " + ext, Password: password(ext)})
			mu.Lock()
			defer mu.Unlock()
			var se *api.StatusError
			switch {
			case err == nil, errors.As(err, &se) && se.Status == http.StatusConflict:
				b.created = append(b.created, ext)
			case firstErr == nil:
				firstErr = fmt.Errorf("create %s: %w", ext, err)
			}
		})
	}
	wg.Wait()
	return time.Since(start), firstErr
}

func password(ext string) string { return "bench-password-" + ext }

// waitEndpoints waits until Asterisk has loaded the endpoint of ext.
func (b *bench) waitEndpoint(ctx context.Context, ext string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, _ := b.asterisk("pjsip show endpoint " + ext)
		if strings.Contains(out, "Endpoint:  "+ext) {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("endpoint %s never loaded", ext)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyCallees creates n users from extension first, writes the plain Dial() path and
// registers an answering phone for each (sending a tone of tone Hz, 0: silence) until ctx ends.
func (b *bench) readyCallees(ctx context.Context, first, n int, tone float64) ([]string, error) {
	if _, err := b.createUsers(ctx, first, n, 16); err != nil {
		return nil, err
	}
	callees := make([]string, n)
	for i := range callees {
		callees[i] = strconv.Itoa(first + i)
	}
	if err := b.waitEndpoint(ctx, callees[n-1]); err != nil {
		return nil, err
	}
	if err := b.siteDialplan(); err != nil {
		return nil, err
	}
	if err := b.answerers(ctx, callees, tone); err != nil {
		return nil, err
	}
	return callees, nil
}

// answerers registers softphones for exts that answer every call at once, playing a tone and
// counting answered calls in b.answered; they stop when ctx ends. It returns once call control
// sees them all online.
func (b *bench) answerers(ctx context.Context, exts []string, tone float64) error {
	for _, ext := range exts {
		p, err := softphone.Open(ctx, softphone.Options{Server: b.sipServer, Username: ext, Password: password(ext),
			OnEvent: func(e softphone.Event) {
				if e.Kind == softphone.EventAnswered {
					b.answered.Add(1)
				}
			}})
		if err != nil {
			return err
		}
		go func() {
			defer p.Close()
			// A user created a moment ago may not be in Asterisk yet (a long reload still running):
			// registration is retried for a minute, as a phone would.
			for retry := time.Now().Add(time.Minute); ; {
				_, err := p.Answer(ctx, softphone.AnswerOptions{MediaOptions: softphone.MediaOptions{Tone: tone}})
				if err == nil || ctx.Err() != nil {
					break
				}
				if time.Now().After(retry) {
					slog.Warn("answerer stopped", "ext", ext, "error", err)
					break
				}
				time.Sleep(250 * time.Millisecond)
			}
		}()
	}
	// Ready means online for call control (the endpoint state it reads), not merely a contact
	// in Asterisk: right after many registrations Asterisk publishes the state a moment later,
	// and a call in between would go to voicemail as "offline".
	_, err := b.waitOnline(ctx, exts, time.Minute)
	return err
}

// waitOnline waits until call control sees every one of exts online, and returns how long
// that took.
func (b *bench) waitOnline(ctx context.Context, exts []string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	for pending := exts; len(pending) > 0; {
		var still []string
		for _, ext := range pending {
			if p, err := b.api.Presence(ctx, ext); err != nil || p.EndpointState != "online" {
				still = append(still, ext)
			}
		}
		pending = still
		if len(pending) == 0 {
			break
		}
		if time.Since(start) > limit {
			return time.Since(start), fmt.Errorf("%d of %d phones not online after %v (first: %s)", len(pending), len(exts), limit, pending[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start), nil
}

// The numbers the bench dials for the plain Dial() path and the ARI floor: a prefix and the
// callee's extension (4 digits), 7 digits in all, longer than any extension, so that they reach
// the site's [switchboard-local] (asterisk/extensions.conf sends every 2 to 6 digits to call
// control). Both are 3 digits: the dialplan strips 3.
const (
	dialPrefix  = "900"
	floorPrefix = "800"
)

// siteDialplan writes the paths call control is compared with, in the same Asterisk: the plain
// Dial() (dialPrefix + extension dials the phone directly, without the control plane) and the
// ARI floor (floorPrefix + extension enters its application).
func (b *bench) siteDialplan() error {
	conf := "; Written by sbbench: the plain Dial() path and the ARI floor it compares call control with.\n" +
		"[switchboard-local]\n" +
		"exten => _" + dialPrefix + "XXXX,1,Dial(PJSIP/${EXTEN:3},20)\n same => n,Hangup()\n" +
		"exten => _" + floorPrefix + "XXXX,1,Stasis(" + floorApp + ",${EXTEN:3})\n same => n,Hangup()\n"
	if err := os.WriteFile(filepath.Join(b.etcDir, "extensions_local.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	_, err := b.asterisk("module reload pbx_config.so")
	return err
}

// sipp runs the benchmark caller with a template and extra arguments, returning its rtt file
// and output.
type sippRun struct {
	Dir    string
	Output string
	Exit   int
	CPU    float64 // SIPp's CPU over the run, in percent of one core
}

func (b *bench) runSIPp(ctx context.Context, name string, template map[string]string, calls []string, args ...string) (sippRun, error) {
	dir, err := os.MkdirTemp(b.dir, name+"-")
	if err != nil {
		return sippRun{}, err
	}
	sc, _ := scenarios.ReadFile("sipp/bench-call.xml")
	for k, v := range template {
		sc = bytes.ReplaceAll(sc, []byte("{{"+k+"}}"), []byte(v))
	}
	csv := "SEQUENTIAL\n" + strings.Join(calls, "\n") + "\n"
	os.WriteFile(filepath.Join(dir, "bench-call.xml"), sc, 0o644)
	os.WriteFile(filepath.Join(dir, "calls.csv"), []byte(csv), 0o644)
	base := []string{"-sf", "bench-call.xml", "-inf", "calls.csv", "-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-p", "0", "-nostdin", "-au", callerExt, "-ap", password(callerExt), "-key", "caller", callerExt,
		"-trace_err", "-error_file", "errors.log", "-max_socket", "4096",
		// The generator shares two cores with what it measures: a large socket buffer keeps a
		// starved SIPp from dropping Asterisk's provisional responses, which are never resent.
		"-buff_size", "4194304"}
	cmd := exec.CommandContext(ctx, "sipp", append(append(base, args...), b.sipServer)...)
	cmd.Dir = dir
	started := time.Now()
	out, err := cmd.CombinedOutput()
	run := sippRun{Dir: dir, Output: string(out)}
	if ps := cmd.ProcessState; ps != nil {
		run.CPU = 100 * float64(ps.UserTime()+ps.SystemTime()) / float64(time.Since(started))
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		run.Exit = ee.ExitCode() // -1 when the step's deadline killed it
	case err != nil && ctx.Err() != nil:
		run.Exit = -1
	case err != nil:
		return run, err
	}
	return run, nil
}

// callerExt is the account every SIPp caller authenticates as.
const callerExt = "5000"

// Percentiles of durations.
type Percentiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func percentiles(ms []float64) Percentiles {
	if len(ms) == 0 {
		return Percentiles{}
	}
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	at := func(q float64) float64 {
		i := int(q*float64(len(s))+0.5) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Percentiles{N: len(s), P50: at(.50), P95: at(.95), P99: at(.99), Max: s[len(s)-1]}
}

// proc reads CPU time and RSS of the stack's processes.
type proc struct{ pid int }

func findProc(pattern string) proc {
	out, _ := exec.Command("pgrep", "-f", pattern).Output()
	for _, f := range strings.Fields(string(out)) {
		pid, _ := strconv.Atoi(f)
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil {
			comm := strings.TrimSpace(string(b))
			if comm == "asterisk" || comm == "switchboard" {
				return proc{pid}
			}
		}
	}
	return proc{}
}

func asteriskProc() proc    { return findProc("asterisk -f -C /srv/switchboard/stack/") }
func switchboardProc() proc { return findProc("switchboard serve") }

// cpu returns user+system CPU time.
func (p proc) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
}

// rssMB returns the resident set size in MiB.
func (p proc) rssMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb float64
			fmt.Sscanf(strings.TrimPrefix(line, "VmRSS:"), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// cpuMeter measures the CPU share of a process over an interval, in percent of one core.
type cpuMeter struct {
	p     proc
	t0    time.Time
	used0 time.Duration
}

func meter(p proc) cpuMeter { return cpuMeter{p: p, t0: time.Now(), used0: p.cpu()} }

func (m cpuMeter) percent() float64 {
	return 100 * float64(m.p.cpu()-m.used0) / float64(time.Since(m.t0))
}

// freeUDPPort returns a UDP port free at the time of the call.
func freeUDPPort() int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// metric reads one value from /metrics (summing series with labels).
func (b *bench) metric(name string) float64 {
	resp, err := http.Get(b.apiURL + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

// quiet waits until the control plane has caught up with the database: every holder of
// configuration (directory, realtime tables, Asterisk, generated files) at the newest version,
// and nothing changing for a second. It gives up after ten minutes (a bulk import at 50,000).
func (b *bench) quiet(ctx context.Context) {
	deadline := time.Now().Add(10 * time.Minute)
	last, since := map[string]float64(nil), time.Now()
	for ctx.Err() == nil && time.Now().Before(deadline) {
		v := b.labelled("switchboard_config_version", "holder")
		caughtUp := v["store"] > 0
		for _, h := range []string{"directory", "realtime", "asterisk", "files"} {
			caughtUp = caughtUp && v[h] == v["store"]
		}
		if !caughtUp || !maps.Equal(v, last) {
			last, since = v, time.Now()
		} else if time.Since(since) >= time.Second {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	slog.Warn("the control plane did not catch up with the database", "versions", last)
}

// labelled returns the values of a metric by one label.
func (b *bench) labelled(name, label string) map[string]float64 {
	out := map[string]float64{}
	resp, err := http.Get(b.apiURL + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	prefix := name + "{" + label + "=\""
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			value, _, _ := strings.Cut(rest, "\"")
			f := strings.Fields(line)
			out[value], _ = strconv.ParseFloat(f[len(f)-1], 64)
		}
	}
	return out
}
