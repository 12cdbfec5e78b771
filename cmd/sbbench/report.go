package main

import (
	"fmt"
	"strings"
)

// Report is everything one run measured.
type Report struct {
	Date         string              `json:"date"`
	Machine      string              `json:"machine"`
	Command      string              `json:"command"`
	Setup        *SetupResult        `json:"setup,omitempty"`
	Rate         *RateResult         `json:"rate,omitempty"`
	Concurrency  *ConcurrencyResult  `json:"concurrency,omitempty"`
	Provisioning *ProvisioningResult `json:"provisioning,omitempty"`
}

func ms(v float64) string { return fmt.Sprintf("%.2f ms", v) }

func check(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// Markdown renders the report for docs/benchmarks.md.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Switchboard benchmarks\n\nMeasured %s on %s with the native stack "+
		"(scripts/stack: Asterisk 22, PostgreSQL 15 and switchboard serve on one machine, "+
		"load generators on the same cores).\n\nCommand: `%s`\n\n", r.Date, r.Machine, r.Command)
	if s := r.Setup; s != nil {
		fmt.Fprintf(&b, "## Call setup: call control vs the ARI floor vs plain Dial()\n\n%s. The floor is the smallest ARI "+
			"program that does call control's job (cmd/sbbench/floor.go: one Stasis application, the callee originated into a "+
			"mixing bridge with the caller, then dialled; no database, records, presence or hang-up handlers), on the same ARI "+
			"client; callers reach it as "+floorPrefix+"<extension>, the plain Dial() as "+dialPrefix+"<extension>.\n\n", s.Method)
		b.WriteString("| | p50 | p95 | p99 | max |\n|---|---|---|---|---|\n")
		for _, row := range []struct {
			name string
			p    Percentiles
		}{{"call control: INVITE→180", s.ARIRinging}, {"ARI floor: INVITE→180", s.FloorRing}, {"Dial(): INVITE→180", s.DialRing},
			{"call control: INVITE→200", s.ARIAnswer}, {"ARI floor: INVITE→200", s.FloorAnswer}, {"Dial(): INVITE→200", s.DialAnswer}} {
			fmt.Fprintf(&b, "| %s (n=%d) | %s | %s | %s | %s |\n", row.name, row.p.N, ms(row.p.P50), ms(row.p.P95), ms(row.p.P99), ms(row.p.Max))
		}
		fmt.Fprintf(&b, "\nCall control / ARI floor: INVITE→180 p50 %.2f, p99 %.2f; INVITE→200 p50 %.2f, p99 %.2f (target ≤ 1.10 at both: %s).\n\n",
			s.FloorRatio180.P50, s.FloorRatio180.P99, s.FloorRatio200.P50, s.FloorRatio200.P99,
			check(s.FloorRatio200.P50 <= 1.10 && s.FloorRatio200.P99 <= 1.10))
		fmt.Fprintf(&b, "Call control / Dial(): INVITE→180 p50 %.2f, p99 %.2f; INVITE→200 p50 %.2f (project goal ≤ 1.25: %s), p99 %.2f. "+
			"What ARI itself costs (floor / Dial(), INVITE→200): p50 %.2f, p99 %.2f.\n\n",
			s.Ratio180.P50, s.Ratio180.P99, s.Ratio200.P50, check(s.Ratio200.P50 <= 1.25), s.Ratio200.P99,
			s.FloorOverDial200.P50, s.FloorOverDial200.P99)
		diff := s.ARIAnswer.P50 - s.DialAnswer.P50
		fmt.Fprintf(&b, "Where the difference comes from: call control made %.1f ARI requests per call in this phase "+
			"(switchboard_ari_requests_total over its %d ARI calls; a plain Dial() makes none). One ARI request costs %s at p50 "+
			"(%s p99, GET /ari/asterisk/ping on a kept-alive connection, n=%d, every answer checked to be 200): made one after "+
			"another they would take %s of the %s difference at p50 — an upper bound, as some run in parallel with the call.\n\n",
			s.ARIRequestsPerCall, s.ARICalls, ms(s.ARIRequest.P50), ms(s.ARIRequest.P99), s.ARIRequest.N,
			ms(s.ARIRequestsPerCall*s.ARIRequest.P50), ms(diff))
	}
	if s := r.Rate; s != nil {
		b.WriteString(s.markdown())
	}
	if s := r.Concurrency; s != nil {
		b.WriteString(s.markdown())
	}
	if s := r.Provisioning; s != nil {
		b.WriteString(s.markdown())
	}
	b.WriteString("Earlier runs, and what was changed after them, are in docs/benchmarks-history.md (written by hand).\n")
	return b.String()
}
