//go:build integration

package testbed_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/softphone"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// TestCarrier proves the fake provider with a real softphone registering with it as a PBX
// would: registration with digest auth, calls to an echo account (the audio comes back), to a
// congested one (503) and a busy one (486), each logged with what the caller sent; a call from
// the carrier to the registered phone, which hears the tone; and a restart that forgets the
// registration. A private PBX Asterisk then registers with it and calls through it as a trunk
// does, with P-Asserted-Identity.
func TestCarrier(t *testing.T) {
	car := testbed.StartCarrier(t, testbed.CarrierOptions{Accounts: []testbed.CarrierAccount{
		{Username: "acme-echo", Password: "echo-password-1", Behaviour: testbed.CarrierEcho},
		{Username: "acme-full", Password: "full-password-1", Behaviour: testbed.CarrierCongestion},
		{Username: "acme-busy", Password: "busy-password-1", Behaviour: testbed.CarrierBusy},
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if !strings.HasPrefix(car.Addr(), "127.0.0.2:") {
		t.Fatalf("carrier at %s, want 127.0.0.2", car.Addr())
	}
	phone := func(t *testing.T, user, password string) *softphone.Phone {
		p, err := softphone.Open(ctx, softphone.Options{Server: car.Addr(), Username: user, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}

	// The PBX's side: a phone registered as acme-echo that answers one call and listens for
	// the carrier's tone.
	answered := make(chan []*softphone.Report, 1)
	answerErr := make(chan error, 1)
	pbx := phone(t, "acme-echo", "echo-password-1")
	if car.Registered(t, "acme-echo") {
		t.Fatal("acme-echo registered before anyone registered")
	}
	go func() {
		reps, err := pbx.Answer(ctx, softphone.AnswerOptions{Calls: 1, MediaOptions: softphone.MediaOptions{
			ExpectTone: 1000, HangupOnTone: true, Duration: 10 * time.Second}})
		answered <- reps
		answerErr <- err
	}()

	t.Run("Register", func(t *testing.T) {
		start := time.Now()
		car.WaitRegistered(t, "acme-echo", 10*time.Second)
		t.Logf("registered after %s: %s", time.Since(start).Round(time.Millisecond), car.Contact(t, "acme-echo"))
		if car.Registered(t, "acme-full") {
			t.Error("acme-full registered, but nobody registered with it")
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		err := phone(t, "acme-full", "not-the-password").Register(ctx, softphone.RegisterOptions{})
		if e := (*softphone.Error)(nil); !errors.As(err, &e) || e.Outcome != softphone.OutcomeAuthFailed {
			t.Errorf("register with a wrong password: %v, want auth_failed", err)
		}
	})
	t.Run("Echo", func(t *testing.T) {
		rep, err := phone(t, "acme-echo", "echo-password-1").Call(ctx, "+4930123456", softphone.CallOptions{
			MediaOptions: softphone.MediaOptions{Tone: 1000, ExpectTone: 1000, HangupOnTone: true, Duration: 5 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Tone == nil || !rep.Tone.Detected {
			t.Errorf("the caller did not hear its own tone back: %+v", rep.Tone)
		}
		calls := car.WaitCalls(t, 1, 5*time.Second)
		// The softphone's From is its user name, display name included.
		want := testbed.CarrierCall{Account: "acme-echo", Number: "+4930123456", CallerNumber: "acme-echo", CallerName: "acme-echo"}
		if calls[0] != want {
			t.Errorf("carrier logged %+v, want %+v", calls[0], want)
		}
	})
	for _, tt := range []struct {
		account, password string
		status            int
	}{
		{"acme-full", "full-password-1", 503},
		{"acme-busy", "busy-password-1", 486},
	} {
		t.Run(fmt.Sprintf("Refused%d", tt.status), func(t *testing.T) {
			before := len(car.Calls(t))
			_, err := phone(t, tt.account, tt.password).Call(ctx, "0800111", softphone.CallOptions{})
			if e := (*softphone.Error)(nil); !errors.As(err, &e) || e.Status != tt.status {
				t.Fatalf("call through %s: %v, want SIP %d", tt.account, err, tt.status)
			}
			if calls := car.WaitCalls(t, before+1, 5*time.Second); calls[before].Account != tt.account || calls[before].Number != "0800111" {
				t.Errorf("carrier logged %+v", calls[before])
			}
		})
	}
	t.Run("CallIn", func(t *testing.T) {
		id := car.CallIn(t, "acme-echo", "4969555", "+4989123", "Outside Caller")
		var reps []*softphone.Report
		select {
		case reps = <-answered:
		case <-ctx.Done():
			t.Fatal("the registered phone got no call")
		}
		if err := <-answerErr; err != nil {
			t.Fatal(err)
		}
		car.Hangup(t, id) // ended already: the phone hung up on the tone
		if len(reps) != 1 || !reps[0].Answered() || reps[0].Peer != "+4989123" {
			t.Fatalf("the phone's calls: %+v", reps)
		}
		if tone := reps[0].Tone; tone == nil || !tone.Detected {
			t.Errorf("the phone did not hear the carrier's 1000 Hz tone: %+v", tone)
		}
	})
	t.Run("Restart", func(t *testing.T) {
		p := phone(t, "acme-busy", "busy-password-1")
		regCtx, stop := context.WithCancel(ctx)
		defer stop()
		go p.Register(regCtx, softphone.RegisterOptions{})
		car.WaitRegistered(t, "acme-busy", 10*time.Second)
		calls := len(car.Calls(t))
		car.Stop(t)
		car.Start(t)
		if car.Registered(t, "acme-busy") {
			t.Error("the restarted carrier still holds the registration")
		}
		if n := len(car.Calls(t)); n != calls {
			t.Errorf("%d calls after the restart, %d before", n, calls)
		}
		if err := phone(t, "acme-busy", "busy-password-1").Register(shortly(ctx), softphone.RegisterOptions{}); err != nil {
			t.Errorf("register after the restart: %v", err)
		}
	})
	t.Run("FromPBX", func(t *testing.T) { testCarrierFromPBX(t, car) })
	t.Run("NoProblemsInLog", func(t *testing.T) {
		// A wrong password and refused calls are notices, not warnings.
		for _, line := range car.Asterisk.LogProblems(t) {
			t.Errorf("carrier: %s", line)
		}
	})
}

// shortly is a context that ends a second from now: Register returns nil when it ends.
func shortly(ctx context.Context) context.Context {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	go func() { <-ctx.Done(); cancel() }()
	return ctx
}

// testCarrierFromPBX: a PBX Asterisk with a trunk (outbound registration, outbound auth,
// send_pai) registers with the carrier and calls through it. Its calls come From the caller's
// number, not the account, so the carrier knows them by the digest user name.
func testCarrierFromPBX(t *testing.T, car *testbed.Carrier) {
	pbx := testbed.StartAsterisk(t)
	for _, mod := range []string{"res_pjsip_outbound_registration.so"} {
		if !strings.Contains(pbx.MustCLI(t, "module show like "+mod), "Running") {
			pbx.MustCLI(t, "module load "+mod)
		}
	}
	etc := filepath.Join(pbx.Dir, "etc")
	trunk := fmt.Sprintf(`[acme]
type = registration
server_uri = sip:%[1]s
client_uri = sip:acme-echo@%[1]s
contact_user = acme-echo
outbound_auth = acme
max_random_initial_delay = 0
retry_interval = 5
expiration = 60

[acme]
type = auth
auth_type = userpass
username = acme-echo
password = echo-password-1

[acme]
type = aor
contact = sip:%[1]s

[acme]
type = endpoint
aors = acme
outbound_auth = acme
context = carrier-test
disallow = all
allow = ulaw
send_pai = yes
`, car.Addr())
	if err := os.WriteFile(filepath.Join(etc, "pjsip_local.conf"), []byte(trunk), 0o644); err != nil {
		t.Fatal(err)
	}
	// Where the PBX's own leg goes once the carrier answers.
	if err := os.WriteFile(filepath.Join(etc, "extensions_local.conf"), []byte("[carrier-test]\nexten => s,1,Wait(1)\n same => n,Hangup()\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	pbx.MustCLI(t, "module reload res_pjsip.so")
	pbx.MustCLI(t, "dialplan reload")
	car.WaitRegistered(t, "acme-echo", 10*time.Second)
	t.Logf("the PBX registered after %s: %s", time.Since(start).Round(time.Millisecond), car.Contact(t, "acme-echo"))

	before := len(car.Calls(t))
	q := url.Values{"endpoint": {"PJSIP/+4930987654@acme"}, "context": {"carrier-test"}, "extension": {"s"},
		"priority": {"1"}, "callerId": {`"Alice Example" <1001>`}}
	req, _ := http.NewRequest(http.MethodPost, pbx.ARIURL+"/ari/channels?"+q.Encode(), nil)
	req.SetBasicAuth(pbx.ARIUsername, pbx.ARIPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PBX originate: %s", resp.Status)
	}
	got := car.WaitCalls(t, before+1, 10*time.Second)[before]
	t.Logf("the carrier received %+v", got)
	if got.Account != "acme-echo" || got.Number != "+4930987654" || got.CallerNumber != "1001" || got.CallerName != "Alice Example" ||
		!strings.HasPrefix(got.PAI, `"Alice Example" <sip:1001@`) {
		t.Errorf("carrier logged %+v", got)
	}
}
