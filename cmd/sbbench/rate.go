package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-pbx/switchboard/media"
)

// RateResult is the highest call rate each path sustains without a failed call.
type RateResult struct {
	Method   string     `json:"method"`
	Steps    []RateStep `json:"steps"`
	MaxARI   int        `json:"max_cps_ari"`
	MaxFloor int        `json:"max_cps_floor"`
	MaxDial  int        `json:"max_cps_dial"`
	// A path that never failed: its maximum is only a lower bound (the bench's ceiling).
	ARIOpen   bool `json:"ari_never_failed"`
	FloorOpen bool `json:"floor_never_failed"`
	DialOpen  bool `json:"dial_never_failed"`
	// Why the steps stopped.
	Stopped    string  `json:"stopped"`
	Ratio      float64 `json:"ratio"`       // call control / Dial()
	FloorRatio float64 `json:"floor_ratio"` // call control / floor
	Seconds    int     `json:"seconds_per_step"`
	CallTime   float64 `json:"call_seconds"`
}

// RateStep is one path at one rate.
type RateStep struct {
	Path   string `json:"path"`
	CPS    int    `json:"cps"`
	Calls  int    `json:"calls"`
	Failed int    `json:"failed"`
	// SIPp's own count of failed calls, and the calls the callees answered: a call SIPp
	// completed that no callee answered (voicemail took it) is a failure too.
	SIPpFailed     int     `json:"sipp_failed"`
	Answered       int     `json:"answered_by_callee"`
	AsteriskCPU    float64 `json:"asterisk_cpu_percent"`
	GeneratorCPU   float64 `json:"sipp_cpu_percent"`
	SwitchboardCPU float64 `json:"switchboard_cpu_percent"`
	// Messages Asterisk's Stasis layer queued for the application per call (its taskprocessor
	// stasis/m:ari:application/APP): work a plain Dial() does not have.
	StasisMessagesPerCall float64 `json:"stasis_messages_per_call,omitempty"`
	// ARI requests call control made per call (its own counter over the step).
	ARIRequestsPerCall float64 `json:"ari_requests_per_call,omitempty"`
	// Why calls failed: SIPp's failure counters, e.g. FailedUnexpectedMessage → 3.
	Errors map[string]int `json:"errors,omitempty"`
}

// sippFailures sums why calls failed from SIPp's statistics file (-trace_stat): the cumulative
// Failed* counters of its last line that are not zero, e.g. FailedMaxUDPRetrans → 12.
func sippFailures(path string) map[string]int {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) < 2 {
		return nil
	}
	header, last := strings.Split(lines[0], ";"), strings.Split(lines[len(lines)-1], ";")
	kinds := map[string]int{}
	for i, name := range header {
		if !strings.HasPrefix(name, "Failed") || !strings.HasSuffix(name, "(C)") || i >= len(last) {
			continue
		}
		if n, _ := strconv.Atoi(strings.TrimSpace(last[i])); n > 0 {
			kinds[strings.TrimSuffix(name, "(C)")] = n
		}
	}
	return kinds
}

const rateCallees = 500

func (b *bench) callRate(ctx context.Context, steps []int, d time.Duration) (*RateResult, error) {
	if _, err := b.createUsers(ctx, 5000, 1, 1); err != nil {
		return nil, err
	}
	actx, stop := context.WithCancel(ctx)
	defer stop()
	callees, err := b.readyCallees(actx, 5101, rateCallees, 2000) // 5101-5600
	if err != nil {
		return nil, err
	}
	if err := b.startFloor(ctx); err != nil {
		return nil, err
	}
	tone := filepath.Join(b.dir, "tone.wav")
	if err := writeULawTone(tone, 1000, 30); err != nil {
		return nil, err
	}
	res := &RateResult{Seconds: int(d.Seconds()), CallTime: 2,
		Method: fmt.Sprintf("SIPp caller at a fixed rate for %v per step, 2 s calls streaming a G.711 tone "+
			"(media relayed by Asterisk), %d softphone callees answering at once and sending a tone back; "+
			"a step passes with zero failed calls, a call failing when SIPp fails it or when no callee answered it "+
			"(call control sent it to voicemail); paths (call control, the ARI floor, plain Dial()) tried one after the other at each rate", d, rateCallees)}
	failed := map[string]bool{}
	// After the listed steps the rate keeps rising by the last increment until both paths have
	// failed, or SIPp itself is the limit, or the bench's ceiling (twice the last listed rate).
	if len(steps) == 0 {
		return nil, fmt.Errorf("no rate steps")
	}
	ceiling, generatorBound := 2*steps[len(steps)-1], false
	for i := 0; ; i++ {
		if i >= len(steps) {
			inc := steps[len(steps)-1]
			if len(steps) > 1 {
				inc -= steps[len(steps)-2]
			}
			if steps[len(steps)-1]+inc > ceiling || generatorBound {
				break
			}
			steps = append(steps, steps[len(steps)-1]+inc)
		}
		cps := steps[i]
		for _, path := range []string{"ari", "floor", "dial"} {
			if failed[path] {
				continue
			}
			st, err := b.rateStep(ctx, path, cps, d, callees, tone)
			if err != nil {
				return nil, err
			}
			res.Steps = append(res.Steps, st)
			generatorBound = generatorBound || st.GeneratorCPU >= 90
			if st.Failed > 0 {
				failed[path] = true
				continue
			}
			switch path {
			case "ari":
				res.MaxARI = cps
			case "floor":
				res.MaxFloor = cps
			default:
				res.MaxDial = cps
			}
		}
		if failed["ari"] && failed["floor"] && failed["dial"] {
			res.Stopped = "every path failed"
			break
		}
	}
	res.ARIOpen, res.FloorOpen, res.DialOpen = !failed["ari"], !failed["floor"], !failed["dial"]
	switch {
	case res.Stopped != "":
	case generatorBound:
		res.Stopped = "SIPp used 90 % of a core or more: the load generator is the limit"
	default:
		res.Stopped = fmt.Sprintf("the bench's ceiling (%d calls/s) was reached", ceiling)
	}
	if res.MaxDial > 0 {
		res.Ratio = float64(res.MaxARI) / float64(res.MaxDial)
	}
	if res.MaxFloor > 0 {
		res.FloorRatio = float64(res.MaxARI) / float64(res.MaxFloor)
	}
	return res, nil
}

var failedCalls = regexp.MustCompile(`Failed call\s+\|\s+\d+\s+\|\s+(\d+)`)
var createdCalls = regexp.MustCompile(`Outgoing calls created\s+\|\s+\d+\s+\|\s+(\d+)`)

func (b *bench) rateStep(ctx context.Context, path string, cps int, d time.Duration, callees []string, tone string) (RateStep, error) {
	total := cps * int(d.Seconds())
	calls := make([]string, total)
	for i := range calls {
		calls[i] = callees[i%len(callees)]
		switch path {
		case "dial":
			calls[i] = dialPrefix + calls[i]
		case "floor":
			calls[i] = floorPrefix + calls[i]
		}
	}
	ast, sb := meter(asteriskProc()), meter(switchboardProc())
	answeredBefore := b.answered.Load()
	stasisBefore := b.stasisMessages()
	requestsBefore := b.metric("switchboard_ari_requests_total")
	// An overloaded step can leave SIPp waiting for answers that never come: cap it.
	sctx, cancel := context.WithTimeout(ctx, d+90*time.Second)
	defer cancel()
	run, err := b.runSIPp(sctx, "rate-"+path, map[string]string{
		"media": `<nop><action><exec rtp_stream="` + tone + `,-1,0" /></action></nop>`, "hold": "2000"},
		calls, "-m", strconv.Itoa(total), "-r", strconv.Itoa(cps), "-l", strconv.Itoa(cps*6), "-timeout", "200s", "-trace_stat", "-stf", "stats.csv", "-fd", "5")
	if err != nil {
		return RateStep{}, err
	}
	st := RateStep{Path: path, CPS: cps, AsteriskCPU: ast.percent(), SwitchboardCPU: sb.percent(), GeneratorCPU: run.CPU}
	if m := createdCalls.FindStringSubmatch(run.Output); m != nil {
		st.Calls, _ = strconv.Atoi(m[1])
	}
	if m := failedCalls.FindStringSubmatch(run.Output); m != nil {
		st.SIPpFailed, _ = strconv.Atoi(m[1])
	} else if run.Exit != 0 {
		st.SIPpFailed = total
	}
	if st.SIPpFailed > 0 {
		st.Errors = sippFailures(filepath.Join(run.Dir, "stats.csv"))
	}
	b.waitIdle(ctx)
	st.Answered = int(b.answered.Load() - answeredBefore)
	if n := b.stasisMessages() - stasisBefore; n > 0 && st.Calls > 0 {
		st.StasisMessagesPerCall = float64(n) / float64(st.Calls)
	}
	if n := b.metric("switchboard_ari_requests_total") - requestsBefore; n > 0 && st.Calls > 0 {
		st.ARIRequestsPerCall = n / float64(st.Calls)
	}
	st.Failed = max(st.SIPpFailed, total-st.Answered)
	slog.Info("rate step", "path", path, "cps", cps, "calls", st.Calls, "failed", st.Failed, "sipp_failed", st.SIPpFailed,
		"answered", st.Answered, "asterisk_cpu", st.AsteriskCPU, "errors", st.Errors)
	return st, nil
}

// waitIdle waits until Asterisk has no channels left, so that steps do not overlap.
func (b *bench) waitIdle(ctx context.Context) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		out, _ := b.asterisk("core show channels count")
		if strings.Contains(out, "\n0 active channels") || strings.HasPrefix(out, "0 active channels") {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// writeULawTone writes seconds of a tone as a G.711 u-law WAV (what SIPp streams).
func writeULawTone(path string, hz float64, seconds int) error {
	pcm := media.Tone(hz, -12, media.SampleRate, seconds*media.SampleRate)
	data := media.PCMU.Encode(nil, pcm)
	le32 := func(v int) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
	le16 := func(v int) []byte { return []byte{byte(v), byte(v >> 8)} }
	var w []byte
	w = append(w, "RIFF"...)
	w = append(w, le32(36+len(data))...)
	w = append(w, "WAVEfmt "...)
	w = append(w, le32(16)...)
	w = append(w, le16(7)...)
	w = append(w, le16(1)...)
	w = append(w, le32(media.SampleRate)...)
	w = append(w, le32(media.SampleRate)...)
	w = append(w, le16(1)...)
	w = append(w, le16(8)...)
	w = append(w, "data"...)
	w = append(w, le32(len(data))...)
	return os.WriteFile(path, append(w, data...), 0o644)
}

// stasisMessages is how many messages the application's Stasis taskprocessor has processed.
func (b *bench) stasisMessages() int {
	out, _ := b.asterisk("core show taskprocessors")
	total := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.HasPrefix(f[0], "stasis/m:ari:application/") {
			n, _ := strconv.Atoi(f[1])
			total += n
		}
	}
	return total
}

func (r *RateResult) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Call rate\n\n%s.\n\n| path | calls/s | calls | answered by callee | failed in SIPp | failed | Asterisk CPU | switchboard CPU | SIPp CPU | why SIPp failed calls |\n|---|---|---|---|---|---|---|---|---|---|\n", r.Method)
	for _, s := range r.Steps {
		var why []string
		for k, n := range s.Errors {
			if k != "FailedCall" {
				why = append(why, fmt.Sprintf("%s %d", k, n))
			}
		}
		sort.Strings(why)
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %.0f %% | %.1f %% | %.0f %% | %s |\n", s.Path, s.CPS, s.Calls, s.Answered, s.SIPpFailed, s.Failed,
			s.AsteriskCPU, s.SwitchboardCPU, s.GeneratorCPU, strings.Join(why, ", "))
	}
	for _, s := range r.Steps {
		if s.Path == "ari" && s.StasisMessagesPerCall > 0 {
			fmt.Fprintf(&b, "\nWhere call control's cost goes (%d calls/s): Asterisk's Stasis layer queued %.0f messages per call for "+
				"the application (its taskprocessor's count in `core show taskprocessors`) and the control plane made %.1f ARI "+
				"requests per call (switchboard_ari_requests_total); a plain Dial() does neither.\n", s.CPS, s.StasisMessagesPerCall, s.ARIRequestsPerCall)
			break
		}
	}
	bound := func(cps int, open bool) string {
		if open {
			return fmt.Sprintf("≥ %d", cps)
		}
		return strconv.Itoa(cps)
	}
	ratio := func(v float64, open bool) string {
		if open {
			return fmt.Sprintf("%.2f (a bound, not a measurement: a path never failed)", v)
		}
		return fmt.Sprintf("%.2f", v)
	}
	fmt.Fprintf(&b, "\nHighest rate sustained for %d s with zero failed calls: call control %s calls/s, ARI floor %s calls/s, "+
		"plain Dial() %s calls/s. Call control / floor %s (target ≥ 0.90: %s); call control / Dial() %s (project goal ≥ 0.85: %s). "+
		"The steps stopped because %s. CPU is the share of one core.\n\n", r.Seconds,
		bound(r.MaxARI, r.ARIOpen), bound(r.MaxFloor, r.FloorOpen), bound(r.MaxDial, r.DialOpen),
		ratio(r.FloorRatio, r.ARIOpen || r.FloorOpen), check(r.FloorRatio >= 0.90 && !r.FloorOpen),
		ratio(r.Ratio, r.ARIOpen || r.DialOpen), check(r.Ratio >= 0.85 && !r.DialOpen), r.Stopped)
	return b.String()
}
