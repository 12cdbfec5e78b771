package main

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard/softphone"
)

// ConcurrencyResult is how many bridged calls each path carries with good audio.
type ConcurrencyResult struct {
	Method  string     `json:"method"`
	Steps   []ConcStep `json:"steps"`
	MaxARI  int        `json:"max_calls_ari"`
	MaxDial int        `json:"max_calls_dial"`
	Ratio   float64    `json:"ratio"`
}

// ConcStep is one path at one number of simultaneous calls.
type ConcStep struct {
	Path     string `json:"path"`
	Calls    int    `json:"calls"`
	Answered int    `json:"answered"`
	// Calls a callee picked up: a call answered by voicemail instead is not a good call.
	AnsweredByCallee int     `json:"answered_by_callee"`
	LossPercent      float64 `json:"loss_percent"`
	JitterP95        float64 `json:"jitter_p95_ms"`
	AsteriskCPU      float64 `json:"asterisk_cpu_percent"`
	SwitchboardCPU   float64 `json:"switchboard_cpu_percent"`
	Good             bool    `json:"good"` // loss ≤ 1 % and jitter p95 ≤ 30 ms
}

func (b *bench) concurrency(ctx context.Context, steps []int, hold time.Duration) (*ConcurrencyResult, error) {
	most := 0
	for _, n := range steps {
		most = max(most, n)
	}
	if _, err := b.createUsers(ctx, 8001, most, 16); err != nil { // callers
		return nil, err
	}
	actx, stop := context.WithCancel(ctx)
	defer stop()
	// Callees apart from the rate phase's, whose unregistering phones could look like these.
	callees, err := b.readyCallees(actx, 7001, most, 2000)
	if err != nil {
		return nil, err
	}
	if err := b.waitEndpoint(ctx, strconv.Itoa(8000+most)); err != nil {
		return nil, err
	}
	phones := make([]*softphone.Phone, most)
	for i := range most {
		ext := strconv.Itoa(8001 + i)
		p, err := softphone.Open(actx, softphone.Options{Server: b.sipServer, Username: ext, Password: password(ext)})
		if err != nil {
			return nil, err
		}
		defer p.Close()
		phones[i] = p
	}
	res := &ConcurrencyResult{Method: fmt.Sprintf("softphone load mode: N callers and N callees (the softphone's "+
		"SIP/RTP stack, one process), G.711 µ-law tones both ways relayed by Asterisk, calls started at 50/s and held %v; "+
		"loss and jitter (RFC 3550) of the audio each caller receives through the bridge; good = every call answered by its callee, loss ≤ 1 %% and jitter p95 ≤ 30 ms", hold)}
	stopped := map[string]bool{}
	for _, n := range steps {
		for _, path := range []string{"ari", "dial"} {
			if stopped[path] {
				continue
			}
			st := b.concStep(ctx, path, phones[:n], callees[:n], hold)
			res.Steps = append(res.Steps, st)
			b.waitIdle(ctx)
			if !st.Good {
				stopped[path] = true
				continue
			}
			if path == "ari" {
				res.MaxARI = n
			} else {
				res.MaxDial = n
			}
		}
	}
	if res.MaxDial > 0 {
		res.Ratio = float64(res.MaxARI) / float64(res.MaxDial)
	}
	return res, nil
}

func (b *bench) concStep(ctx context.Context, path string, phones []*softphone.Phone, callees []string, hold time.Duration) ConcStep {
	n := len(phones)
	reports := make([]*softphone.Report, n)
	var wg sync.WaitGroup
	start := time.Now()
	ast, sb := meter(asteriskProc()), meter(switchboardProc())
	answeredBefore := b.answered.Load()
	for i := range n {
		// 50 calls per second: the step measures calls in progress, not a setup storm.
		time.Sleep(time.Until(start.Add(time.Duration(i) * 20 * time.Millisecond)))
		target := callees[i]
		if path == "dial" {
			target = dialPrefix + target
		}
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, hold+time.Minute)
			defer cancel()
			reports[i], _ = phones[i].Call(cctx, target, softphone.CallOptions{
				MediaOptions: softphone.MediaOptions{Tone: 1000, Duration: hold}})
		})
	}
	wg.Wait()
	st := ConcStep{Path: path, Calls: n, AsteriskCPU: ast.percent(), SwitchboardCPU: sb.percent(),
		AnsweredByCallee: int(b.answered.Load() - answeredBefore)}
	var lost, expected int64
	var jitters []float64
	for _, r := range reports {
		if r == nil || !r.Answered() {
			continue
		}
		st.Answered++
		lost += r.RTP.Lost
		expected += int64(r.RTP.Expected)
		jitters = append(jitters, float64(time.Duration(r.RTP.Jitter).Microseconds())/1000)
	}
	if expected > 0 {
		// Duplicated packets make the RFC 3550 count negative: no loss.
		st.LossPercent = max(0, 100*float64(lost)/float64(expected))
	}
	if len(jitters) > 0 {
		sort.Float64s(jitters)
		st.JitterP95 = jitters[min(len(jitters)-1, int(0.95*float64(len(jitters))))]
	}
	st.Good = st.Answered == n && st.AnsweredByCallee == n && st.LossPercent <= 1 && st.JitterP95 <= 30
	slog.Info("concurrency step", "path", path, "calls", n, "answered", st.Answered, "by_callee", st.AnsweredByCallee, "loss_pct", st.LossPercent,
		"jitter_p95_ms", st.JitterP95, "asterisk_cpu", st.AsteriskCPU, "switchboard_cpu", st.SwitchboardCPU)
	return st
}

func (r *ConcurrencyResult) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Concurrent calls\n\n%s. Loss and jitter are measured at the callers (audio from the callees through "+
		"the bridge).\n\n| path | calls | answered | by callee | RTP loss | jitter p95 | Asterisk CPU | switchboard CPU | good |\n|---|---|---|---|---|---|---|---|---|\n", r.Method)
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %.2f %% | %.1f ms | %.0f %% | %.1f %% | %v |\n", s.Path, s.Calls, s.Answered, s.AnsweredByCallee, s.LossPercent, s.JitterP95, s.AsteriskCPU, s.SwitchboardCPU, s.Good)
	}
	fmt.Fprintf(&b, "\nMost simultaneous calls with good audio: ARI %d, plain Dial() %d; ARI/Dial %.2f (target ≥ 0.90: %s). "+
		"CPU is the share of one core (200 %% = both).\n\n", r.MaxARI, r.MaxDial, r.Ratio, check(r.Ratio >= 0.9))
	return b.String()
}
