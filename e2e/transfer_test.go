//go:build integration

package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/softphone"
)

// Transfers from a phone in a call driven by call control. Alice (7001) calls Bob (7002); Bob
// transfers her to Carol (7003), blind or after a consultation call. Each plays its own tone
// (Alice 1000 Hz, Bob 1500, Carol 2000): Alice hearing 2000 and Carol hearing 1000 prove that
// the transferee and the target talk, with audio both ways, after the transferring phone left.
func TestTransfers(t *testing.T) {
	s := StartStack(t, StackOptions{})
	users(t, s, "7001", "7002", "7003")
	for _, attended := range []bool{false, true} {
		name := map[bool]string{false: "Blind", true: "Attended"}[attended]
		t.Run(name, func(t *testing.T) {
			since := time.Now()
			transfer := &softphone.Transfer{After: 2 * time.Second, To: "7003", Attended: attended,
				Consult: 2 * time.Second, ConsultMedia: softphone.MediaOptions{Tone: 1500}}
			bob := startAnswering(t, s, "7002", pw("7002"), "udp", softphone.AnswerOptions{Calls: 1,
				MediaOptions: softphone.MediaOptions{Tone: 1500, Transfer: transfer}})
			carol := startAnswering(t, s, "7003", pw("7003"), "udp", softphone.AnswerOptions{Calls: 1,
				MediaOptions: softphone.MediaOptions{Tone: 2000, ExpectTone: 1000}})
			r := call(t, s, "7001", pw("7001"), "udp", "7002", softphone.CallOptions{
				MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 2000, Duration: 12 * time.Second}})
			if !r.Answered() || r.EndedBy != "local" {
				t.Fatalf("Alice: answered %v, ended by %s: %s", r.Answered(), r.EndedBy, r.Error)
			}
			// Alice talked to Carol for the last seconds of her call: at least 5 s of 2000 Hz.
			if r.Tone == nil || time.Duration(r.Tone.LongestRun) < 5*time.Second {
				t.Errorf("Alice heard Carol's tone %+v: the transferred call has no audio", r.Tone)
			}
			bobs := bob.Wait(t)
			if len(bobs) != 1 || bobs[0].Transfer == nil || bobs[0].Transfer.Status != 200 {
				t.Fatalf("Bob's transfer: %+v", bobs)
			}
			if attended && (bobs[0].Transfer.Consult == nil || !bobs[0].Transfer.Consult.Answered()) {
				t.Errorf("Bob's consultation call: %+v", bobs[0].Transfer.Consult)
			}
			carols := carol.Wait(t) // returns when Alice's hang-up reached Carol
			if len(carols) != 1 || carols[0].EndedBy != "remote" || carols[0].Tone == nil ||
				time.Duration(carols[0].Tone.LongestRun) < 5*time.Second {
				t.Errorf("Carol: %+v, want Alice's tone for at least 5 s and Alice's hang-up", carols)
			}
			if n := carol.invites.Load(); n != 1 {
				t.Errorf("Carol's phone got %d INVITEs, want 1", n)
			}
			waitNoChannels(t, s)
			checkTransferRecords(t, s, since, attended)
		})
	}
}

// checkTransferRecords checks that the records say who ended up talking to whom: Alice's call
// to Bob ended "transferred", and a call that names it (transferred_from) is Alice talking to
// Carol, answered, ended.
func checkTransferRecords(t *testing.T, s *Stack, since time.Time, attended bool) {
	t.Helper()
	eventually(t, 30*time.Second, "the transfer's records", func() error {
		l, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{From: since.Add(-time.Second), Limit: 20})
		if err != nil {
			return err
		}
		var first, joined *api.Call
		for i, c := range l.Calls {
			if c.Active {
				return fmt.Errorf("call still active: %+v", c)
			}
			if c.Caller == "7001" && c.Callee == "7002" {
				first = &l.Calls[i]
			}
		}
		if first == nil || first.Outcome != "answered" || first.Reason != "transferred" {
			return fmt.Errorf("Alice's call to Bob: %+v, want answered, transferred (records %+v)", first, l.Calls)
		}
		for i, c := range l.Calls {
			if c.TransferredFrom == first.ID {
				joined = &l.Calls[i]
			}
		}
		if joined == nil || joined.Outcome != "answered" || joined.Caller != "7001" || joined.Callee != "7003" {
			return fmt.Errorf("the call made by the transfer: %+v, want 7001 with 7003, answered (records %+v)", joined, l.Calls)
		}
		if n := len(l.Calls); attended && n != 3 || !attended && n != 2 {
			return fmt.Errorf("%d records, want %d (the first call, %sthe joined one)", n,
				map[bool]int{false: 2, true: 3}[attended], map[bool]string{false: "", true: "the consultation, "}[attended])
		}
		return nil
	})
}
