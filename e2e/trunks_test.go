//go:build integration

package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/softphone"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// The carrier's accounts, as a provider would hand them out: one that takes calls (and echoes
// them), one that refuses every call with 503.
const (
	carrierOK       = "sb-ok"
	carrierOKPass   = "carrier-ok-secret-7Q"
	carrierFail     = "sb-fail"
	carrierFailPass = "carrier-fail-secret-9Z"
)

// apiDo sends one API request and returns the status and the body; a body that is not nil is
// sent as JSON.
func apiDo(t *testing.T, s *Stack, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(ctxT(t, 20*time.Second), method, s.APIURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// mustAPI is apiDo that fails the test unless the status is 2xx.
func mustAPI(t *testing.T, s *Stack, method, path string, body any) []byte {
	t.Helper()
	status, b := apiDo(t, s, method, path, body)
	if status >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, status, b)
	}
	return b
}

// trunkState returns a trunk's state as the API shows it.
func trunkState(t *testing.T, s *Stack, name string) string {
	t.Helper()
	var tr struct {
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.Unmarshal(mustAPI(t, s, "GET", "/api/v1/trunks/"+name, nil), &tr); err != nil {
		t.Fatal(err)
	}
	return tr.Status.State
}

func waitTrunkState(t *testing.T, s *Stack, name, want string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	eventually(t, within, "trunk "+name+" "+want, func() error {
		if got := trunkState(t, s, name); got != want {
			return fmt.Errorf("trunk %s is %s", name, got)
		}
		return nil
	})
	return time.Since(start)
}

// trunkCall waits for the newest ended record of a call whose callee is callee (an outside
// number, which the API's user filter does not take).
func trunkCall(t *testing.T, s *Stack, callee string, since time.Time) api.Call {
	t.Helper()
	var found api.Call
	eventually(t, 30*time.Second, "call record to "+callee, func() error {
		l, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{From: since.Add(-time.Second), Limit: 20})
		if err != nil {
			return err
		}
		for _, c := range l.Calls {
			if c.Callee == callee && !c.Active {
				found = c
				return nil
			}
		}
		return fmt.Errorf("no ended call to %s yet", callee)
	})
	return found
}

// startCarrierStack starts a PBX and a carrier it has two trunks to, registered.
func startCarrierStack(t *testing.T) (*Stack, *testbed.Carrier) {
	t.Helper()
	carrier := testbed.StartCarrier(t, testbed.CarrierOptions{Accounts: []testbed.CarrierAccount{
		{Username: carrierOK, Password: carrierOKPass, Behaviour: testbed.CarrierEcho},
		{Username: carrierFail, Password: carrierFailPass, Behaviour: testbed.CarrierCongestion},
	}})
	s := StartStack(t, StackOptions{})
	host, port, _ := strings.Cut(carrier.Addr(), ":")
	var p int
	fmt.Sscan(port, &p)
	mustAPI(t, s, "POST", "/api/v1/trunks", map[string]any{"name": "main", "host": host, "port": p,
		"auth": "register", "username": carrierOK, "password": carrierOKPass, "caller_id": "+33100000000", "send_pai": true})
	mustAPI(t, s, "POST", "/api/v1/trunks", map[string]any{"name": "busy-provider", "host": host, "port": p,
		"auth": "register", "username": carrierFail, "password": carrierFailPass})
	carrier.WaitRegistered(t, carrierOK, 30*time.Second)
	carrier.WaitRegistered(t, carrierFail, 30*time.Second)
	waitTrunkState(t, s, "main", "registered", 30*time.Second)
	waitTrunkState(t, s, "busy-provider", "registered", 30*time.Second)
	return s, carrier
}

// Outbound calls: 9 + a national number goes out on the route's trunk with the prefix
// stripped and the user's caller ID, audio both ways (the carrier echoes); a user the route
// is not for hears an announcement and nothing reaches the carrier; a trunk that answers 503
// passes the call to the next; an emergency number goes out whoever dials it, before the
// extension plan. No password appears in the API, the log or a file.
func TestTrunkOutbound(t *testing.T) {
	s, carrier := startCarrierStack(t)
	createUser(t, s, "1001", "Alice Example", "alice-password-1")
	createUser(t, s, "1002", "Bob Example", "bob-password-222")
	patch(t, s, "1001", api.PatchUserRequest{OutboundCallerID: ptr("+33123456789")})
	mustAPI(t, s, "POST", "/api/v1/routes", map[string]any{"name": "emergency", "emergency": true,
		"patterns": []map[string]string{{"match": "112"}}, "trunks": []string{"busy-provider", "main"},
		"users": []string{"1001"}}) // an emergency route is everyone's, whatever it lists
	mustAPI(t, s, "POST", "/api/v1/routes", map[string]any{"name": "national",
		"patterns": []map[string]string{{"prefix": "9", "match": "0[1-9]XXXXXXXX"}}, "trunks": []string{"main"},
		"users": []string{"1001"}})
	mustAPI(t, s, "POST", "/api/v1/routes", map[string]any{"name": "failover",
		"patterns": []map[string]string{{"prefix": "80", "match": "X.", "prepend": "+33"}},
		"trunks":   []string{"busy-provider", "main"}})
	echo := softphone.CallOptions{MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 1000, Duration: 3 * time.Second}}

	t.Run("OutWithPrefixStripped", func(t *testing.T) {
		start := time.Now()
		r := call(t, s, "1001", "alice-password-1", "udp", "90123456789", echo)
		if !r.Answered() || r.Tone == nil || !r.Tone.Detected {
			t.Fatalf("call out not answered, or its echo not heard: %s %+v", r.Error, r.Tone)
		}
		got := carrier.WaitCalls(t, 1, 10*time.Second)
		c := got[len(got)-1]
		if c.Account != carrierOK || c.Number != "0123456789" || c.CallerNumber != "+33123456789" || !strings.Contains(c.PAI, "+33123456789") {
			t.Fatalf("the carrier received %+v, want 0123456789 from +33123456789 on %s with a PAI", c, carrierOK)
		}
		rec := trunkCall(t, s, "90123456789", start)
		if rec.Direction != "outbound" || rec.Trunk != "main" || rec.External != "0123456789" || rec.Outcome != "answered" {
			t.Errorf("record %+v", rec)
		}
		t.Logf("out through the carrier: setup %v, %d RTP packets back", r.Setup, r.RTP.Received)
	})

	t.Run("RouteDenied", func(t *testing.T) {
		before := len(carrier.Calls(t))
		start := time.Now()
		r := call(t, s, "1002", "bob-password-222", "udp", "90123456789", softphone.CallOptions{})
		if r.EndedBy != "remote" {
			t.Errorf("a refused call should be ended by the PBX after its announcement: %+v", r)
		}
		if !r.Answered() || r.Audio.Active < 1000 {
			t.Errorf("no announcement heard (answered %v, %v ms of sound)", r.Answered(), r.Audio.Active)
		}
		rec := trunkCall(t, s, "90123456789", start)
		if rec.Outcome != "failed" || rec.Reason != "route_denied" {
			t.Errorf("record %+v, want failed/route_denied", rec)
		}
		if n := len(carrier.Calls(t)); n != before {
			t.Fatalf("a denied call reached the carrier (%d calls, %d before)", n, before)
		}
	})

	t.Run("FailoverOn503", func(t *testing.T) {
		before := len(carrier.Calls(t))
		start := time.Now()
		r := call(t, s, "1002", "bob-password-222", "udp", "80611111111", echo)
		if !r.Answered() || r.Tone == nil || !r.Tone.Detected {
			t.Fatalf("failover call not answered or not heard: %s", r.Error)
		}
		got := carrier.WaitCalls(t, before+2, 10*time.Second)[before:]
		if got[0].Account != carrierFail || got[1].Account != carrierOK || got[1].Number != "+33611111111" {
			t.Fatalf("carrier saw %+v, want the 503 account first, then +33611111111 on %s", got, carrierOK)
		}
		if got[1].CallerNumber != "+33100000000" {
			t.Errorf("caller ID %q, want the trunk's (+33100000000: 1002 has none of their own)", got[1].CallerNumber)
		}
		if rec := trunkCall(t, s, "80611111111", start); rec.Trunk != "main" || rec.Outcome != "answered" {
			t.Errorf("record %+v, want answered on main", rec)
		}
	})

	t.Run("EmergencyIsEveryones", func(t *testing.T) {
		before := len(carrier.Calls(t))
		// 112 is also somebody's extension: the emergency route still wins.
		createUser(t, s, "112", "Not Emergency", "user-112-password")
		r := call(t, s, "1002", "bob-password-222", "udp", "112", echo)
		if !r.Answered() {
			t.Fatalf("emergency call not answered: %s", r.Error)
		}
		got := carrier.WaitCalls(t, before+2, 10*time.Second)[before:]
		if got[len(got)-1].Number != "112" || got[len(got)-1].Account != carrierOK {
			t.Fatalf("carrier saw %+v, want 112 on %s after the 503", got, carrierOK)
		}
	})

	t.Run("EmergencyWithoutCallControl", func(t *testing.T) {
		// The control plane is away: the fallback dialplan dials the emergency route's trunks
		// itself, one after the other (503 from the first, answered by the second).
		s.StopServe(t)
		before := len(carrier.Calls(t))
		r := call(t, s, "1002", "bob-password-222", "udp", "112", echo)
		s.StartServe(t)
		s.WaitReady(t)
		if !r.Answered() || r.Tone == nil || !r.Tone.Detected {
			t.Fatalf("emergency call without call control not answered or not heard: %s", r.Error)
		}
		got := carrier.WaitCalls(t, before+2, 10*time.Second)[before:]
		if got[0].Account != carrierFail || got[1].Account != carrierOK || got[1].Number != "112" {
			t.Fatalf("carrier saw %+v, want 112 on %s after the 503 of %s", got, carrierOK, carrierFail)
		}
	})

	t.Run("NoPasswordAnywhere", func(t *testing.T) {
		for _, path := range []string{"/api/v1/trunks", "/api/v1/trunks/main", "/api/v1/trunks/busy-provider"} {
			b := mustAPI(t, s, "GET", path, nil)
			if bytes.Contains(b, []byte(carrierOKPass)) || bytes.Contains(b, []byte(carrierFailPass)) {
				t.Errorf("GET %s shows a trunk password: %s", path, b)
			}
			if !bytes.Contains(b, []byte(`"password_set":true`)) {
				t.Errorf("GET %s does not say the password is set: %s", path, b)
			}
		}
		b := mustAPI(t, s, "PATCH", "/api/v1/trunks/main", map[string]any{"channel_limit": 10})
		if bytes.Contains(b, []byte(carrierOKPass)) {
			t.Errorf("PATCH shows the password: %s", b)
		}
		if log := s.Log(); strings.Contains(log, carrierOKPass) || strings.Contains(log, carrierFailPass) {
			t.Error("serve's log holds a trunk password")
		}
		filepath.WalkDir(s.Asterisk.Dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.Contains(path, "/log/") {
				return nil
			}
			if b, err := os.ReadFile(path); err == nil && (bytes.Contains(b, []byte(carrierOKPass)) || bytes.Contains(b, []byte(carrierFailPass))) {
				t.Errorf("%s holds a trunk password", path)
			}
			return nil
		})
		if b, err := os.ReadFile(s.Asterisk.LogFile); err == nil && bytes.Contains(b, []byte(carrierOKPass)) {
			t.Error("Asterisk's log holds a trunk password")
		}
	})

	t.Run("ChannelLimit", func(t *testing.T) {
		// main carries one call at a time: a second call while one is up goes to the next
		// trunk of the route (which refuses it here), never to main.
		mustAPI(t, s, "PATCH", "/api/v1/trunks/main", map[string]any{"channel_limit": 1})
		mustAPI(t, s, "POST", "/api/v1/routes", map[string]any{"name": "limited",
			"patterns": []map[string]string{{"prefix": "7", "match": "X."}}, "trunks": []string{"main", "busy-provider"}})
		before := len(carrier.Calls(t))
		first := make(chan *softphone.Report, 1)
		p := openPhone(t, s, "1001", "alice-password-1", "udp")
		go func() {
			r, _ := p.Call(ctxT(t, 30*time.Second), "70611111111", softphone.CallOptions{
				MediaOptions: softphone.MediaOptions{Duration: 6 * time.Second}})
			first <- r
		}()
		carrier.WaitCalls(t, before+1, 10*time.Second)
		start := time.Now()
		call(t, s, "1002", "bob-password-222", "udp", "70622222222", softphone.CallOptions{})
		if rec := trunkCall(t, s, "70622222222", start); rec.Reason != "trunks_failed" {
			t.Errorf("second call's record %+v, want trunks_failed", rec)
		}
		got := carrier.Calls(t)[before:]
		for _, c := range got[1:] {
			if c.Number == "0622222222" && c.Account == carrierOK {
				t.Fatalf("the second call went out on main beyond its channel limit: %+v", got)
			}
		}
		if len(got) != 2 || got[1].Account != carrierFail || got[1].Number != "0622222222" {
			t.Fatalf("carrier saw %+v, want the second call on the next trunk only", got)
		}
		if a := <-first; !a.Answered() {
			t.Fatalf("the first call was not answered: %s", a.Error)
		}
		mustAPI(t, s, "PATCH", "/api/v1/trunks/main", map[string]any{"channel_limit": 0})
	})

	t.Run("RegistrationFollowsTheCarrier", func(t *testing.T) {
		carrier.Stop(t)
		took := waitTrunkState(t, s, "main", "unreachable", 60*time.Second)
		t.Logf("carrier stopped: unreachable after %v", took.Round(100*time.Millisecond))
		carrier.Start(t)
		took = waitTrunkState(t, s, "main", "registered", 90*time.Second)
		carrier.WaitRegistered(t, carrierOK, 10*time.Second)
		t.Logf("carrier started: registered again after %v, with no reload", took.Round(100*time.Millisecond))
	})
}

// Inbound calls: a number the carrier sends us rings the user (or the group) it is mapped to
// with the outside caller's ID; a number that is none of ours is refused; a trunk known by its
// address takes calls from that address and nobody else's.
func TestTrunkInbound(t *testing.T) {
	s, carrier := startCarrierStack(t)
	createUser(t, s, "1001", "Alice Example", "alice-password-1")
	createUser(t, s, "1002", "Bob Example", "bob-password-222")
	createUser(t, s, "1003", "Carol Example", "carol-password-3")
	if _, err := s.API.CreateGroup(ctxT(t, 10*time.Second), api.CreateGroupRequest{Number: "600", Name: "Sales",
		Members: []string{"1002", "1003"}}); err != nil {
		t.Fatal(err)
	}
	// An IP trunk: its provider is 127.0.0.3, which nothing else may speak for.
	mustAPI(t, s, "POST", "/api/v1/trunks", map[string]any{"name": "by-address", "host": "127.0.0.3",
		"port": 5060, "auth": "ip"})
	mustAPI(t, s, "POST", "/api/v1/inbound-numbers", map[string]any{"number": "+33311111111", "name": "Alice's line",
		"destination": map[string]string{"kind": "number", "number": "1001"}})
	mustAPI(t, s, "POST", "/api/v1/inbound-numbers", map[string]any{"number": "+33322222222", "name": "Sales",
		"destination": map[string]string{"kind": "number", "number": "600"}})
	mustAPI(t, s, "POST", "/api/v1/inbound-numbers", map[string]any{"number": "0333333333", "name": "Partner line",
		"trunk": "by-address", "destination": map[string]string{"kind": "number", "number": "1001"}})
	if _, err := s.API.CreateQueue(ctxT(t, 10*time.Second), api.CreateQueueRequest{Number: "700", Name: "Support",
		Agents: []string{"1001"}}); err != nil {
		t.Fatal(err)
	}
	mustAPI(t, s, "POST", "/api/v1/inbound-numbers", map[string]any{"number": "+33355555555", "name": "Support",
		"destination": map[string]string{"kind": "number", "number": "700"}})
	mustAPI(t, s, "POST", "/api/v1/inbound-numbers", map[string]any{"number": "+33344444444", "name": "Carol's line",
		"destination": map[string]string{"kind": "number", "number": "1003"}})
	mustAPI(t, s, "POST", "/api/v1/routes", map[string]any{"name": "national",
		"patterns": []map[string]string{{"prefix": "9", "match": "0[1-9]XXXXXXXX"}}, "trunks": []string{"main"}})
	tone := softphone.AnswerOptions{Calls: 1, MediaOptions: softphone.MediaOptions{ExpectTone: 1000, Duration: 2 * time.Second}}

	t.Run("ToUser", func(t *testing.T) {
		alice := startAnswering(t, s, "1001", "alice-password-1", "udp", tone)
		start := time.Now()
		carrier.CallIn(t, carrierOK, "+33311111111", "+33698765432", "Outside Caller")
		reports := alice.Wait(t)
		if len(reports) != 1 || reports[0].Peer != "+33698765432" || reports[0].Tone == nil || !reports[0].Tone.Detected {
			t.Fatalf("1001 did not take the call from +33698765432 with the carrier's tone: %+v", reports)
		}
		rec := trunkCall(t, s, "1001", start)
		if rec.Direction != "inbound" || rec.External != "+33698765432" || rec.Trunk == "" || rec.Outcome != "answered" {
			t.Errorf("record %+v", rec)
		}
	})

	t.Run("ToGroup", func(t *testing.T) {
		bob := startAnswering(t, s, "1002", "bob-password-222", "udp", tone)
		carol := startAnswering(t, s, "1003", "carol-password-3", "udp", softphone.AnswerOptions{Reject: softphone.RejectNoAnswer})
		start := time.Now()
		carrier.CallIn(t, carrierOK, "+33322222222", "+33698765432", "Outside Caller")
		reports := bob.Wait(t)
		if len(reports) != 1 || reports[0].Peer != "+33698765432" || !reports[0].Tone.Detected {
			t.Fatalf("1002 did not take the group's call: %+v", reports)
		}
		if carol.invites.Load() == 0 {
			t.Error("1003, a member of the group, never rang")
		}
		if rec := trunkCall(t, s, "600", start); rec.AnsweredBy != "1002" || rec.Direction != "inbound" {
			t.Errorf("record %+v", rec)
		}
	})

	t.Run("ToQueue", func(t *testing.T) {
		if err := s.API.SetAgentLoggedIn(ctxT(t, 10*time.Second), "700", "1001", true); err != nil {
			t.Fatal(err)
		}
		alice := startAnswering(t, s, "1001", "alice-password-1", "udp", tone)
		start := time.Now()
		carrier.CallIn(t, carrierOK, "+33355555555", "+33698765432", "Outside Caller")
		reports := alice.Wait(t)
		if len(reports) != 1 || reports[0].Peer != "+33698765432" || !reports[0].Tone.Detected {
			t.Fatalf("the queue's agent did not take the call: %+v", reports)
		}
		if rec := trunkCall(t, s, "700", start); rec.AnsweredBy != "1001" || rec.Direction != "inbound" {
			t.Errorf("record %+v", rec)
		}
	})

	t.Run("ForwardedOut", func(t *testing.T) {
		// Carol forwards her calls to her mobile: a call from outside goes out again, by her
		// setting (nobody outside can make the PBX call out), with her caller ID.
		patch(t, s, "1003", api.PatchUserRequest{OutboundCallerID: ptr("+33344444444"),
			CallSettingsChange: api.CallSettingsChange{Forwards: &api.ForwardsChange{
				Unconditional: &api.ForwardChange{Enabled: ptr(true), Destination: ptr("90612340000")}}}})
		before := len(carrier.Calls(t))
		start := time.Now()
		in := carrier.CallIn(t, carrierOK, "+33344444444", "+33698765432", "Outside Caller")
		got := carrier.WaitCalls(t, before+1, 15*time.Second)[before:]
		if got[0].Number != "0612340000" || got[0].CallerNumber != "+33344444444" {
			t.Fatalf("the carrier received %+v, want 0612340000 from +33344444444", got[0])
		}
		carrier.Hangup(t, in)
		rec := trunkCall(t, s, "1003", start)
		if rec.Direction != "inbound" || len(rec.ForwardedTo) == 0 || rec.ForwardedTo[len(rec.ForwardedTo)-1] != "90612340000" {
			t.Errorf("record %+v, want inbound, forwarded to 90612340000", rec)
		}
	})

	t.Run("UnknownNumberRefused", func(t *testing.T) {
		start := time.Now()
		carrier.CallIn(t, carrierOK, "+33399999999", "+33698765432", "Outside Caller")
		rec := trunkCall(t, s, "+33399999999", start)
		if rec.Outcome != "failed" || rec.Reason != "unknown_number" || rec.AnsweredAt != nil {
			t.Errorf("record %+v, want failed/unknown_number", rec)
		}
	})

	t.Run("OnlyTheProvidersAddress", func(t *testing.T) {
		alice := startAnswering(t, s, "1001", "alice-password-1", "udp", softphone.AnswerOptions{Calls: 1, MediaOptions: softphone.MediaOptions{Duration: time.Second}})
		dial := func(from string) *softphone.Report {
			p, err := softphone.Open(ctxT(t, 10*time.Second), softphone.Options{Server: s.SIPServer(), Username: "0612345678",
				Password: "not-an-account", BindHost: from})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			r, _ := p.Call(ctxT(t, 30*time.Second), "0333333333", softphone.CallOptions{MediaOptions: softphone.MediaOptions{Duration: time.Second}})
			return r
		}
		r := dial("127.0.0.4")
		if r.Answered() {
			t.Fatalf("a call from 127.0.0.4, no provider's address, was answered")
		}
		t.Logf("a call from 127.0.0.4 to the IP trunk's number: %d %s", r.SIPStatus, r.SIPReason)
		if n := alice.invites.Load(); n != 0 {
			t.Fatalf("1001 rang for a call from an address that is not the provider's")
		}
		if r := dial("127.0.0.3"); !r.Answered() {
			t.Fatalf("the IP trunk's provider could not call: %s", r.Error)
		}
		if reports := alice.Wait(t); len(reports) != 1 || reports[0].Peer != "0612345678" {
			t.Fatalf("1001's calls: %+v", reports)
		}
	})
}
