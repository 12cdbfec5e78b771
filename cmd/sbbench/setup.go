package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SetupResult compares call setup through call control (ARI) with the smallest ARI program
// that does the same job (the floor, floor.go) and with a plain Dial() in the same Asterisk:
// INVITE→180 and INVITE→200 at the caller (SIPp), with an auto-answering callee (softphone),
// the three paths taken in turn call by call.
type SetupResult struct {
	Method           string      `json:"method"`
	ARIRinging       Percentiles `json:"ari_invite_to_180"`
	ARIAnswer        Percentiles `json:"ari_invite_to_200"`
	DialRing         Percentiles `json:"dial_invite_to_180"`
	DialAnswer       Percentiles `json:"dial_invite_to_200"`
	FloorRing        Percentiles `json:"floor_invite_to_180"`
	FloorAnswer      Percentiles `json:"floor_invite_to_200"`
	Ratio180         Ratio       `json:"ratio_180"` // call control / Dial()
	Ratio200         Ratio       `json:"ratio_200"`
	FloorRatio180    Ratio       `json:"floor_ratio_180"` // call control / floor
	FloorRatio200    Ratio       `json:"floor_ratio_200"`
	FloorOverDial200 Ratio       `json:"floor_over_dial_200"`    // what ARI itself costs
	ARIRequest       Percentiles `json:"ari_request_round_trip"` // GET /ari/asterisk/ping, for the evidence
	// ARI requests call control made per call through it (its own counter, over the phase).
	ARIRequestsPerCall float64 `json:"ari_requests_per_call"`
	ARICalls           int     `json:"ari_calls"`
}

// Ratio is one path's figure over another's at p50 and p99.
type Ratio struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

func ratio(a, d Percentiles) Ratio {
	if d.P50 == 0 || d.P99 == 0 {
		return Ratio{}
	}
	return Ratio{P50: a.P50 / d.P50, P99: a.P99 / d.P99}
}

const setupCallees = 10

func (b *bench) setupOverhead(ctx context.Context, perPath int) (*SetupResult, error) {
	if _, err := b.createUsers(ctx, 5000, 1, 1); err != nil { // the caller
		return nil, err
	}
	actx, stop := context.WithCancel(ctx)
	defer stop()
	callees, err := b.readyCallees(actx, 5001, setupCallees, 0)
	if err != nil {
		return nil, err
	}
	if err := b.startFloor(ctx); err != nil {
		return nil, err
	}
	// Calls take the paths in turn (call control, floor, plain) and rotate over the callees;
	// one call at a time (-l 1), so that no callee is ever busy and the numbers are the PBX's,
	// not a queue's.
	const warmup = 30
	var calls []string
	for i := range warmup/3 + perPath {
		callee := callees[i%len(callees)]
		calls = append(calls, callee, floorPrefix+callee, dialPrefix+callee)
	}
	requests0 := b.metric("switchboard_ari_requests_total")
	rtts, err := b.sippSetup(ctx, "setup", calls)
	if err != nil {
		return nil, err
	}
	requests := b.metric("switchboard_ari_requests_total") - requests0
	var aRing, aAns, fRing, fAns, dRing, dAns []float64
	for i, r := range rtts[warmup:] {
		switch i % 3 {
		case 0:
			aRing, aAns = append(aRing, r[0]), append(aAns, r[1])
		case 1:
			fRing, fAns = append(fRing, r[0]), append(fAns, r[1])
		default:
			dRing, dAns = append(dRing, r[0]), append(dAns, r[1])
		}
	}
	res := &SetupResult{
		Method: fmt.Sprintf("SIPp caller, %d calls per path taken in turn (after %d warm-up calls), one at a time; "+
			"callees: %d softphones answering at once; times from the authenticated INVITE", perPath, warmup, setupCallees),
		ARIRinging: percentiles(aRing), ARIAnswer: percentiles(aAns),
		DialRing: percentiles(dRing), DialAnswer: percentiles(dAns),
		FloorRing: percentiles(fRing), FloorAnswer: percentiles(fAns),
	}
	res.ARICalls = len(calls) / 3
	res.ARIRequestsPerCall = requests / float64(res.ARICalls)
	res.Ratio180 = ratio(res.ARIRinging, res.DialRing)
	res.Ratio200 = ratio(res.ARIAnswer, res.DialAnswer)
	res.FloorRatio180 = ratio(res.ARIRinging, res.FloorRing)
	res.FloorRatio200 = ratio(res.ARIAnswer, res.FloorAnswer)
	res.FloorOverDial200 = ratio(res.FloorAnswer, res.DialAnswer)
	if res.ARIRequest, err = ariRoundTrip(ctx, 500); err != nil {
		return nil, err
	}
	slog.Info("setup overhead", "ari_200_p50", res.ARIAnswer.P50, "floor_200_p50", res.FloorAnswer.P50,
		"dial_200_p50", res.DialAnswer.P50, "ratio_dial", res.Ratio200, "ratio_floor", res.FloorRatio200)
	return res, nil
}

// sippSetup places calls (one per entry, the number dialled) one at a time from SIPp and
// returns, per call in order, INVITE→180 and INVITE→200 in milliseconds.
func (b *bench) sippSetup(ctx context.Context, name string, calls []string) ([][2]float64, error) {
	run, err := b.runSIPp(ctx, name, map[string]string{"media": "", "hold": "0"}, calls,
		"-m", strconv.Itoa(len(calls)), "-l", "1", "-r", "1000", "-trace_msg", "-message_file", "messages.log")
	if err != nil {
		return nil, err
	}
	if run.Exit != 0 {
		return nil, fmt.Errorf("SIPp failed (exit %d): %s", run.Exit, tailLines(run.Output, 15))
	}
	rtts, err := readMessageTimes(filepath.Join(run.Dir, "messages.log"))
	if err != nil {
		return nil, err
	}
	if len(rtts) != len(calls) {
		return nil, fmt.Errorf("%d calls measured, %d placed", len(rtts), len(calls))
	}
	return rtts, nil
}

// readMessageTimes reads SIPp's message trace (-trace_msg: every message with a microsecond
// timestamp) and returns, per call in the order placed, the time from the authenticated INVITE
// (CSeq 2) to the first 180 and to the 200. SIPp's own response-time counters tick in
// milliseconds; the trace does not.
func readMessageTimes(path string) ([][2]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	type times struct{ invite, ring, answer time.Time }
	calls := map[string]*times{}
	var order []string
	for _, block := range strings.Split(string(b), "\n-----------------------------------------------") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		if len(lines) < 3 {
			continue
		}
		ts, err := time.Parse("2006-01-02 15:04:05.000000", strings.TrimSpace(strings.TrimLeft(lines[0], "-")))
		if err != nil {
			continue
		}
		sent := strings.Contains(lines[1], "message sent")
		start, callID, cseq := "", "", ""
		for _, l := range lines[2:] {
			l = strings.TrimSpace(l)
			switch {
			case start == "" && l != "":
				start = l
			case strings.HasPrefix(l, "Call-ID:"):
				callID = strings.TrimSpace(strings.TrimPrefix(l, "Call-ID:"))
			case strings.HasPrefix(l, "CSeq:"):
				cseq = strings.TrimSpace(strings.TrimPrefix(l, "CSeq:"))
			}
		}
		if cseq != "2 INVITE" || callID == "" {
			continue
		}
		t := calls[callID]
		if t == nil {
			t = &times{}
			calls[callID] = t
			order = append(order, callID)
		}
		switch {
		case sent && strings.HasPrefix(start, "INVITE ") && t.invite.IsZero():
			t.invite = ts
		case !sent && strings.HasPrefix(start, "SIP/2.0 180") && t.ring.IsZero():
			t.ring = ts
		case !sent && strings.HasPrefix(start, "SIP/2.0 200") && t.answer.IsZero():
			t.answer = ts
		}
	}
	var out [][2]float64
	for _, id := range order {
		t := calls[id]
		if t.invite.IsZero() || t.ring.IsZero() || t.answer.IsZero() {
			return nil, fmt.Errorf("call %s: incomplete trace", id)
		}
		out = append(out, [2]float64{
			float64(t.ring.Sub(t.invite).Microseconds()) / 1000,
			float64(t.answer.Sub(t.invite).Microseconds()) / 1000,
		})
	}
	return out, nil
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ariRoundTrip measures n sequential ARI requests (GET /ari/asterisk/ping) on one kept-alive
// connection: the cost of each request call control makes on the call setup path.
func ariRoundTrip(ctx context.Context, n int) (Percentiles, error) {
	url, password := os.Getenv("ARI_URL"), os.Getenv("ARI_PASSWORD")
	if url == "" {
		return Percentiles{}, fmt.Errorf("ARI_URL is not set: run eval \"$(scripts/stack up)\" first")
	}
	client := &http.Client{Timeout: 5 * time.Second}
	var ms []float64
	for range n {
		req, _ := http.NewRequestWithContext(ctx, "GET", url+"/ari/asterisk/ping", nil)
		req.SetBasicAuth("switchboard", password)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return Percentiles{}, fmt.Errorf("ARI ping: %w", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return Percentiles{}, fmt.Errorf("ARI ping: HTTP %d", resp.StatusCode)
		}
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
	}
	return percentiles(ms), nil
}
