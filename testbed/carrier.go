package testbed

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// CarrierBehaviour is what the carrier does with the calls a PBX sends it through an account.
type CarrierBehaviour string

// The behaviours.
const (
	// CarrierEcho answers and echoes (Echo()): the caller hears what it sends.
	CarrierEcho CarrierBehaviour = "echo"
	// CarrierCongestion refuses every call with 503 Service Unavailable (Hangup(34), cause 34:
	// no circuit available), as a provider out of capacity does; a PBX should try its next trunk.
	CarrierCongestion CarrierBehaviour = "congestion"
	// CarrierBusy refuses every call with 486 Busy Here (Hangup(17), user busy).
	CarrierBusy CarrierBehaviour = "busy"
)

// CarrierAccount is one account at the carrier: what a PBX's trunk registers with (digest
// authentication) and authenticates its calls with.
type CarrierAccount struct {
	Username  string // [A-Za-z0-9._-], 1-64; names the account's endpoint, auth and AOR
	Password  string // [A-Za-z0-9._~+/=@!%^*-], 1-128
	Behaviour CarrierBehaviour
}

// CarrierOptions describe a carrier.
type CarrierOptions struct {
	Accounts []CarrierAccount
}

// CarrierCall is one call a PBX made to the carrier, as the carrier received it.
type CarrierCall struct {
	Account      string // the account that authenticated the call
	Number       string // the number dialled (the request URI's user)
	CallerNumber string // the caller ID number (From user)
	CallerName   string // the caller ID name (From display name)
	PAI          string // the P-Asserted-Identity header, "" when there was none
}

// Carrier is a fake SIP provider for end-to-end tests of trunks: a private Asterisk 22
// instance on a loopback address of its own (127.0.0.2, so that the PBX under test, on
// 127.0.0.1, can tell it from its phones by address) with one PJSIP endpoint, auth and AOR per
// account. A PBX registers with an account (one contact, a new registration replaces the old)
// and sends calls through it, which the carrier logs (Calls) and then treats as the account's
// Behaviour says; CallIn calls the PBX from the outside world through its registration.
type Carrier struct {
	Asterisk *Asterisk // the instance: its CLI, its log (pjsip set logger on shows the SIP)
	accounts []CarrierAccount
}

// The carrier's own loopback address.
const carrierHost = "127.0.0.2"

var (
	carrierUsername = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	carrierPassword = regexp.MustCompile(`^[A-Za-z0-9._~+/=@!%^*-]{1,128}$`)
)

// StartCarrier starts a carrier with the given accounts and waits until it takes
// registrations and calls. It stops when the test ends.
func StartCarrier(tb testing.TB, opts CarrierOptions) *Carrier {
	tb.Helper()
	seen := map[string]bool{}
	for _, acc := range opts.Accounts {
		switch {
		case !carrierUsername.MatchString(acc.Username) || strings.HasPrefix(acc.Username, "switchboard-"):
			tb.Fatalf("testbed: carrier account name %q: want [A-Za-z0-9._-], 1-64, not switchboard-*", acc.Username)
		case !carrierPassword.MatchString(acc.Password):
			tb.Fatalf("testbed: carrier account %s: password must be 1-128 of [A-Za-z0-9._~+/=@!%%^*-]", acc.Username)
		case acc.Behaviour != CarrierEcho && acc.Behaviour != CarrierCongestion && acc.Behaviour != CarrierBusy:
			tb.Fatalf("testbed: carrier account %s: unknown behaviour %q", acc.Username, acc.Behaviour)
		case seen[acc.Username]:
			tb.Fatalf("testbed: carrier account %s twice", acc.Username)
		}
		seen[acc.Username] = true
	}
	c := &Carrier{Asterisk: StartAsteriskWith(tb, AsteriskOptions{SIPBind: carrierHost}), accounts: opts.Accounts}
	c.writeConfig(tb)
	c.Asterisk.MustCLI(tb, "module reload res_pjsip.so")
	c.Asterisk.MustCLI(tb, "dialplan reload")
	for _, acc := range c.accounts {
		if out := c.Asterisk.MustCLI(tb, "pjsip show endpoint "+acc.Username); !strings.Contains(out, "Endpoint:  "+acc.Username) {
			tb.Fatalf("testbed: the carrier did not load account %s:\n%s", acc.Username, out)
		}
	}
	return c
}

// writeConfig writes the accounts into the files the repository's pjsip.conf and
// extensions.conf include for a site's own additions.
func (c *Carrier) writeConfig(tb testing.TB) {
	tb.Helper()
	etc := filepath.Join(c.Asterisk.Dir, "etc")
	for name, content := range map[string]string{
		"pjsip_local.conf":      carrierPJSIP(c.accounts),
		"extensions_local.conf": carrierDialplan(c.accounts),
	} {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// carrierPJSIP renders the accounts' endpoints, auths and AORs.
func carrierPJSIP(accounts []CarrierAccount) string {
	var b strings.Builder
	b.WriteString(`; The carrier's accounts (testbed/carrier.go).

[carrier-account](!)
type = endpoint
disallow = all
allow = ulaw,alaw
direct_media = no
media_address = ` + carrierHost + `
rtp_symmetric = yes
force_rport = yes
rewrite_contact = yes
; REGISTER comes From the account; a PBX's calls come From its caller's number and name, and
; are known by the user name of their digest answer, as providers know them.
identify_by = username,auth_username
; What the PBX sends arrives as sent (Calls reports it), and nothing is added on the way back.
trust_id_inbound = no
send_pai = no
send_rpid = no
`)
	for _, acc := range accounts {
		fmt.Fprintf(&b, `
[%[1]s](carrier-account)
context = carrier-in-%[1]s
auth = %[1]s
aors = %[1]s

[%[1]s]
type = auth
auth_type = digest
username = %[1]s
password = %[2]s

; One registered PBX per account; a new registration replaces the old one. Registrations may
; be as short as 5 s, so that tests can watch a PBX refresh them.
[%[1]s]
type = aor
max_contacts = 1
remove_existing = yes
minimum_expiration = 5
default_expiration = 120
maximum_expiration = 3600
`, acc.Username, acc.Password)
	}
	return b.String()
}

// carrierDialplan renders a context per account, which logs each call and passes it to the
// account's behaviour, and the behaviours.
func carrierDialplan(accounts []CarrierAccount) string {
	var b strings.Builder
	b.WriteString(`; The carrier's dial plan (testbed/carrier.go).

; Gosub(carrier-log,s,1(ACCOUNT,URIENCODED-NUMBER)): one line per call in messages.log, which
; Carrier.Calls reads. Every value is URI-encoded: one line, no commas, no spaces.
[carrier-log]
exten => s,1,Log(NOTICE,carrier-call account=${ARG1} number=${ARG2} caller_number=${URIENCODE(${CALLERID(num)})} caller_name=${URIENCODE(${CALLERID(name)})} pai=${URIENCODE(${PJSIP_HEADER(read,P-Asserted-Identity)})})
 same => n,Return()

[carrier-echo]
exten => s,1,Answer()
 same => n,Echo()
 same => n,Hangup()

; Cause 34 (no circuit available) goes out as 503, cause 17 (user busy) as 486.
[carrier-congestion]
exten => s,1,Hangup(34)

[carrier-busy]
exten => s,1,Hangup(17)

; Carrier.CallIn: the called PBX answered; it hears a steady 1000 Hz tone.
[carrier-tone]
exten => s,1,Playtones(1000)
 same => n,Wait(3600)
 same => n,Hangup()
`)
	for _, acc := range accounts {
		// Numbers of one character, and of more (not 's', 'h', 'i' or 't': the special
		// extensions are letters alone).
		fmt.Fprintf(&b, `
[carrier-in-%[1]s]
exten => _[+0-9*#A-Za-z].,1,Gosub(carrier-log,s,1(%[1]s,${URIENCODE(${EXTEN})}))
 same => n,Goto(carrier-%[2]s,s,1)
exten => _[+0-9*#],1,Gosub(carrier-log,s,1(%[1]s,${URIENCODE(${EXTEN})}))
 same => n,Goto(carrier-%[2]s,s,1)
`, acc.Username, acc.Behaviour)
	}
	return b.String()
}

// Addr returns the carrier's SIP address, "127.0.0.2:PORT" (UDP and TCP): where a PBX's
// trunk registers and sends its calls.
func (c *Carrier) Addr() string {
	return net.JoinHostPort(c.Asterisk.SIPHost, strconv.Itoa(c.Asterisk.SIPPort))
}

// Contact returns the contact URI registered for an account, or "" when none is.
func (c *Carrier) Contact(tb testing.TB, username string) string {
	tb.Helper()
	// "  Contact:  trunk-echo/sip:trunk-echo@127.0.0.1:25070      2fa8cacaad NonQual   -nan"
	for line := range strings.SplitSeq(c.Asterisk.MustCLI(tb, "pjsip show contacts"), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "Contact:" {
			continue
		}
		if aor, uri, ok := strings.Cut(f[1], "/"); ok && aor == username {
			return uri
		}
	}
	return ""
}

// Registered reports whether a PBX (or phone) is registered with the account now.
func (c *Carrier) Registered(tb testing.TB, username string) bool {
	tb.Helper()
	return c.Contact(tb, username) != ""
}

// WaitRegistered waits until someone is registered with the account, and fails the test when
// nobody is within the time given.
func (c *Carrier) WaitRegistered(tb testing.TB, username string, within time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !c.Registered(tb, username) {
		if time.Now().After(deadline) {
			tb.Fatalf("testbed: nobody registered with carrier account %s within %s:\n%s", username, within,
				c.Asterisk.MustCLI(tb, "pjsip show contacts"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Calls returns the calls the carrier received so far, in order, across restarts.
func (c *Carrier) Calls(tb testing.TB) []CarrierCall {
	tb.Helper()
	f, err := os.Open(c.Asterisk.LogFile)
	if err != nil {
		tb.Fatalf("testbed: read the carrier's log: %v", err)
	}
	defer f.Close()
	var calls []CarrierCall
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		_, rest, ok := strings.Cut(sc.Text(), " carrier-call ")
		if !ok {
			continue
		}
		fields := map[string]string{}
		for _, kv := range strings.Fields(rest) {
			k, v, _ := strings.Cut(kv, "=")
			if dec, err := url.PathUnescape(v); err == nil {
				v = dec
			}
			fields[k] = v
		}
		calls = append(calls, CarrierCall{Account: fields["account"], Number: fields["number"],
			CallerNumber: fields["caller_number"], CallerName: fields["caller_name"], PAI: fields["pai"]})
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("testbed: read the carrier's log: %v", err)
	}
	return calls
}

// WaitCalls waits until the carrier has received at least n calls and returns them; it fails
// the test when fewer arrive within the time given.
func (c *Carrier) WaitCalls(tb testing.TB, n int, within time.Duration) []CarrierCall {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		calls := c.Calls(tb)
		if len(calls) >= n {
			return calls
		}
		if time.Now().After(deadline) {
			tb.Fatalf("testbed: the carrier received %d calls within %s, want %d: %+v", len(calls), within, n, calls)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CallIn calls number at the PBX registered with account, from callerNumber and callerName,
// as a call from the outside world arrives (PJSIP/number@account: to the registered contact,
// From callerNumber). Once answered, the carrier plays a steady 1000 Hz tone until hung up.
// It returns the carrier's channel ID at once; the PBX's side tells what became of the call.
func (c *Carrier) CallIn(tb testing.TB, account, number, callerNumber, callerName string) (channelID string) {
	tb.Helper()
	channelID = RunName("carrier-in")
	q := url.Values{
		"endpoint":  {"PJSIP/" + number + "@" + account},
		"context":   {"carrier-tone"},
		"extension": {"s"},
		"priority":  {"1"},
		"callerId":  {fmt.Sprintf("%q <%s>", callerName, callerNumber)},
		"channelId": {channelID},
		"timeout":   {"60"},
	}
	status, body := c.ari(tb, http.MethodPost, "/ari/channels?"+q.Encode())
	if status != http.StatusOK {
		tb.Fatalf("testbed: the carrier could not call %s through account %s: ARI %d %s", number, account, status, body)
	}
	var ch struct{ ID string }
	if err := json.Unmarshal(body, &ch); err != nil || ch.ID != channelID {
		tb.Fatalf("testbed: the carrier's ARI answered the call with %s (%v)", body, err)
	}
	return channelID
}

// Hangup hangs up a call of CallIn. A call that has ended already is no error.
func (c *Carrier) Hangup(tb testing.TB, channelID string) {
	tb.Helper()
	status, body := c.ari(tb, http.MethodDelete, "/ari/channels/"+url.PathEscape(channelID))
	if status != http.StatusNoContent && status != http.StatusNotFound {
		tb.Fatalf("testbed: hang up %s at the carrier: ARI %d %s", channelID, status, body)
	}
}

// Stop stops the carrier, as a provider that goes down: nothing answers on Addr any more.
func (c *Carrier) Stop(tb testing.TB) {
	tb.Helper()
	c.Asterisk.Stop(tb)
}

// Start starts a stopped carrier again with the same accounts. It has forgotten every
// registration, as a provider whose registrar keeps them in memory: calls to a PBX reach it
// once it has registered again (WaitRegistered proves that it did).
func (c *Carrier) Start(tb testing.TB) {
	tb.Helper()
	if c.Asterisk.proc != nil {
		tb.Fatalf("testbed: the carrier is already running")
	}
	// The contacts are kept in the instance's AstDB; nothing else of the carrier is.
	for _, f := range []string{"astdb.sqlite3", "astdb.sqlite3-journal"} {
		if err := os.Remove(filepath.Join(c.Asterisk.Dir, "db", f)); err != nil && !os.IsNotExist(err) {
			tb.Fatal(err)
		}
	}
	c.writeConfig(tb)
	c.Asterisk.Start(tb)
}

// ari sends one request to the carrier's ARI and returns the status and body.
func (c *Carrier) ari(tb testing.TB, method, path string) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, c.Asterisk.ARIURL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.SetBasicAuth(c.Asterisk.ARIUsername, c.Asterisk.ARIPassword)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		tb.Fatalf("testbed: the carrier's ARI: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body
}
