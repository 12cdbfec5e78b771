package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

// plan gives the numbers of the CLI tests' users and groups their kind.
type plan map[string]string

func (p plan) NumberKind(_ context.Context, number string) (string, error) { return p[number], nil }

// trunkServer is the API over the three in-memory stores, which share the users' store (user
// 1001 exists); every trunk it is asked about is registered.
func trunkServer(t *testing.T) (api.Server, *inmem.TrunkStore, *inmem.RouteStore, *inmem.InboundNumberStore) {
	t.Helper()
	users := inmem.NewUserStore()
	if _, err := users.CreateUser(context.Background(), switchboard.User{Extension: "1001", Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	trunks := inmem.NewTrunkStore(users)
	routes := inmem.NewRouteStore(trunks)
	numbers := inmem.NewInboundNumberStore(trunks)
	since := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	s := api.Server{
		Users: &provisioning.Service{Store: users, Config: noConfig{}, Presence: offlinePresence{}},
		Trunks: &provisioning.TrunkService{Store: trunks, Routes: routes,
			Status: cliStatuses{switchboard.TrunkStatus{State: switchboard.Registered, Since: since, Channels: 1}}},
		Routes:         &provisioning.RouteService{Store: routes},
		InboundNumbers: &provisioning.InboundNumberService{Store: numbers, Numbers: plan{"1001": "user", "600": "group"}},
	}
	return s, trunks, routes, numbers
}

type cliStatuses struct{ st switchboard.TrunkStatus }

func (s cliStatuses) TrunkStatus(name string) switchboard.TrunkStatus {
	st := s.st
	st.Name = name
	return st
}

const cliPassword = "s3cret!pass-1234"

// The trunks CLI against the real API handler: what each command sends, prints and exits with,
// and that it never prints the password.
func TestTrunksCLI(t *testing.T) {
	s, store, _, _ := trunkServer(t)
	stdin := ""
	cli := adminCLI(t, s, func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		return trunksReading(ctx, args, strings.NewReader(stdin), stdout, stderr)
	})
	stdin = cliPassword + "\n"
	out, errOut, code := cli("add", "sipgate", "--host", "sip.example.net", "--username", "acct-1", "--password-stdin",
		"--address", "192.0.2.0/24", "--address", "198.51.100.7", "--caller-id", "+4930123456", "--pai", "--channels", "10")
	if code != 0 || !strings.Contains(out, "created trunk sipgate") || !strings.Contains(out, "host:          sip.example.net port 5060 (udp)") ||
		!strings.Contains(out, "auth:          registers as acct-1 (password set)") ||
		!strings.Contains(out, "inbound from:  the host and 192.0.2.0/24, 198.51.100.7") || !strings.Contains(out, "pai:           on") ||
		!strings.Contains(out, "status:        registered since 2026-05-06 07:08:09Z, 1/10 calls") {
		t.Fatalf("trunks add: exit %d\n%s%s", code, out, errOut)
	}
	if tr, _ := store.Trunk(context.Background(), "sipgate"); tr.Password != cliPassword || strings.Join(tr.Codecs, ",") != "ulaw,alaw" || tr.ChannelLimit != 10 {
		t.Errorf("stored %+v", tr)
	}
	// An IP trunk, flags before the name, the password on the command line refused for it.
	stdin = ""
	if out, errOut, code := cli("add", "--host", "203.0.113.5", "--auth", "ip", "--transport", "tcp", "--port", "5080", "--codecs", "g722, ulaw", "carrier"); code != 0 ||
		!strings.Contains(out, "auth:          by address (ip)") || !strings.Contains(out, "codecs:        g722,ulaw") {
		t.Errorf("trunks add ip: exit %d\n%s%s", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"add", "sipgate", "--host", "h", "--username", "u", "--password", cliPassword}, "exists already (conflict)"},
		{[]string{"add", "b", "--host", "h", "--auth", "ip", "--password", cliPassword}, "auth ip takes no username or password (invalid)"},
		{[]string{"add", "b", "--host", "h", "--username", "u"}, "password must be"},
		{[]string{"add", "b", "--host", "h;x", "--auth", "ip"}, "host must be"},
		// An explicit --port 0 is sent as given and refused, not taken for the default.
		{[]string{"add", "b", "--host", "h", "--auth", "ip", "--port", "0"}, "port must be 1 to 65535"},
		{[]string{"add", "b", "--host", "h", "--auth", "ip", "--codecs", ""}, "codecs must list"},
		{[]string{"add", "b", "--host", "h", "--auth", "ip", "--address", "sip.example.net"}, `address "sip.example.net"`},
		{[]string{"set", "sipgate", "--password", "short"}, "password must be"},
	} {
		_, errOut, code := cli(c.args...)
		if code != 1 || !strings.Contains(errOut, c.err) {
			t.Errorf("trunks %v: exit %d, %q, want %q", c.args, code, errOut, c.err)
		}
		if strings.Contains(errOut, cliPassword) || strings.Contains(errOut, "short") {
			t.Errorf("trunks %v printed the password: %q", c.args, errOut)
		}
	}
	for _, c := range []struct {
		stdin string
		args  []string
		err   string
	}{
		{"", []string{"add", "b", "--host", "h", "--username", "u", "--password-stdin"}, "no password on the first line"},
		{"\n" + cliPassword, []string{"add", "b", "--host", "h", "--username", "u", "--password-stdin"}, "no password"},
		{cliPassword, []string{"add", "b", "--host", "h", "--username", "u", "--password-stdin", "--password", cliPassword}, "not both"},
	} {
		stdin = c.stdin
		if _, errOut, code := cli(c.args...); code != 2 || !strings.Contains(errOut, c.err) {
			t.Errorf("trunks %v with %q on stdin: exit %d, %q, want 2 %q", c.args, c.stdin, code, errOut, c.err)
		}
	}
	// The last line of a file need not end in a newline.
	stdin = "n3w:pass.word~5678"
	if out, errOut, code := cli("set", "sipgate", "--password-stdin", "--address", "", "--pai=false"); code != 0 ||
		!strings.Contains(out, "inbound from:  the host only") || !strings.Contains(out, "pai:           off") {
		t.Errorf("trunks set: exit %d\n%s%s", code, out, errOut)
	}
	if tr, _ := store.Trunk(context.Background(), "sipgate"); tr.Password != "n3w:pass.word~5678" || len(tr.Addresses) != 0 || tr.SendPAI || tr.Host != "sip.example.net" {
		t.Errorf("after set: %+v", tr)
	}

	stdin = ""
	out, _, code = cli("list")
	if code != 0 || !strings.Contains(out, "carrier") || !strings.Contains(out, "203.0.113.5:5080/tcp") || !strings.Contains(out, "registered") {
		t.Errorf("trunks list (exit %d):\n%s", code, out)
	}
	out, _, code = cli("list", "--json")
	var list []api.Trunk
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 || list[0].Name != "carrier" {
		t.Errorf("trunks list --json (exit %d):\n%s", code, out)
	}
	for _, args := range [][]string{{"get", "sipgate"}, {"get", "sipgate", "--json"}, {"show", "sipgate"}, {"list"}, {"list", "--json"}} {
		out, _, code := cli(args...)
		if code != 0 || strings.Contains(out, "n3w:pass.word~5678") || strings.Contains(out, cliPassword) || strings.Contains(out, `"password":`) {
			t.Errorf("trunks %v (exit %d) shows the password:\n%s", args, code, out)
		}
	}
	if out, _, code := cli("get", "sipgate"); code != 0 || !strings.Contains(out, "name:          sipgate") || !strings.Contains(out, "created:") {
		t.Errorf("trunks get (exit %d):\n%s", code, out)
	}
	if out, _, code := cli("rm", "carrier"); code != 0 || !strings.Contains(out, "deleted trunk carrier") {
		t.Errorf("trunks rm (exit %d): %s", code, out)
	}
	if _, errOut, code := cli("get", "carrier"); code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("get after rm: exit %d, %q", code, errOut)
	}
	for _, args := range [][]string{{}, {"get"}, {"frobnicate"}, {"list", "x"}} {
		if _, _, code := cli(args...); code != 2 {
			t.Errorf("trunks %v: exit %d, want 2", args, code)
		}
	}
	if _, err := store.Trunk(context.Background(), "b"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("a refused trunk was stored: %v", err)
	}
}

func TestRoutesCLI(t *testing.T) {
	s, trunks, store, _ := trunkServer(t)
	for _, name := range []string{"sipgate", "backup"} {
		trunks.CreateTrunk(context.Background(), switchboard.Trunk{Name: name, Host: "h", Port: 5060, Transport: "udp", Auth: "ip", Codecs: []string{"ulaw"}})
	}
	cli := adminCLI(t, s, routes)
	out, errOut, code := cli("add", "national", "--pattern", "9|0nxxxxxx.|", "--pattern", "+49Z.", "--trunks", "sipgate, backup",
		"--users", "1001", "--caller-id", "+4930123400")
	if code != 0 || !strings.Contains(out, "created route national") || !strings.Contains(out, "position:      10") ||
		!strings.Contains(out, "patterns:      9|0NXXXXXX.| +49Z.") || !strings.Contains(out, "trunks:        sipgate,backup") ||
		!strings.Contains(out, "users:         1001") {
		t.Fatalf("routes add: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := cli("add", "emergency", "--emergency", "--pattern", "112", "--trunks", "backup"); code != 0 ||
		!strings.Contains(out, "position:      20") || !strings.Contains(out, "emergency:     yes") || !strings.Contains(out, "users:         everyone") {
		t.Errorf("routes add --emergency: exit %d\n%s%s", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"add", "b", "--pattern", "0X.", "--trunks", "ghost"}, "trunk ghost does not exist (invalid)"},
		{[]string{"add", "b", "--trunks", "sipgate"}, "patterns must list"},
		{[]string{"add", "b", "--pattern", "0X.", "--trunks", ""}, "trunks must list"},
		{[]string{"add", "b", "--pattern", "0X;x", "--trunks", "sipgate"}, "pattern match"},
		{[]string{"add", "national", "--pattern", "0X.", "--trunks", "sipgate"}, "conflict"},
	} {
		if _, errOut, code := cli(c.args...); code != 1 || !strings.Contains(errOut, c.err) {
			t.Errorf("routes %v: exit %d, %q, want %q", c.args, code, errOut, c.err)
		}
	}
	if _, errOut, code := cli("add", "b", "--pattern", "9|0X.", "--trunks", "sipgate"); code != 2 || !strings.Contains(errOut, "prefix|match|prepend") {
		t.Errorf("a pattern of two parts: exit %d, %q, want 2", code, errOut)
	}
	// set changes only what is given; lists replace; --users "" lets everyone in.
	if out, errOut, code := cli("set", "national", "--position", "0", "--users", "", "--trunks", "backup"); code != 0 ||
		!strings.Contains(out, "position:      0") || !strings.Contains(out, "users:         everyone") {
		t.Errorf("routes set: exit %d\n%s%s", code, out, errOut)
	}
	if r, _ := store.Route(context.Background(), "national"); r.Position != 0 || strings.Join(r.Trunks, ",") != "backup" || len(r.Patterns) != 2 || r.CallerID != "+4930123400" {
		t.Errorf("after set: %+v", r)
	}
	if _, _, code := cli("set", "emergency", "--emergency=false"); code != 0 {
		t.Errorf("routes set --emergency=false: exit %d", code)
	}
	if r, _ := store.Route(context.Background(), "emergency"); r.Emergency {
		t.Errorf("still an emergency route: %+v", r)
	}
	out, _, code = cli("list")
	if code != 0 || strings.Index(out, "national") > strings.Index(out, "emergency") || !strings.Contains(out, "9|0NXXXXXX.| +49Z.") {
		t.Errorf("routes list (exit %d):\n%s", code, out)
	}
	out, _, code = cli("get", "national", "--json")
	var r api.OutboundRoute
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Patterns[0] != (api.DialPattern{Prefix: "9", Match: "0NXXXXXX."}) {
		t.Errorf("routes get --json (exit %d):\n%s", code, out)
	}
	if out, _, code := cli("rm", "national"); code != 0 || !strings.Contains(out, "deleted route national") {
		t.Errorf("routes rm (exit %d): %s", code, out)
	}
	if _, errOut, code := cli("get", "national"); code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("get after rm: exit %d, %q", code, errOut)
	}
}

func TestDIDsCLI(t *testing.T) {
	s, trunks, _, store := trunkServer(t)
	trunks.CreateTrunk(context.Background(), switchboard.Trunk{Name: "sipgate", Host: "h", Port: 5060, Transport: "udp", Auth: "ip", Codecs: []string{"ulaw"}})
	cli := adminCLI(t, s, dids)
	out, errOut, code := cli("add", "+4930123456", "--name", "Main line", "--trunk", "sipgate", "--to", "600")
	if code != 0 || !strings.Contains(out, "created inbound number +4930123456") || !strings.Contains(out, "to:            number 600") ||
		!strings.Contains(out, "trunk:         sipgate") {
		t.Fatalf("dids add: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := cli("add", "030123457", "--to", "voicemail:1001"); code != 0 || !strings.Contains(out, "to:            voicemail of 1001") ||
		!strings.Contains(out, "trunk:         any") {
		t.Errorf("dids add voicemail: exit %d\n%s%s", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"add", "12", "--to", "1234"}, "number 1234 is nobody's (invalid)"},
		{[]string{"add", "12", "--to", "hangup", "--trunk", "ghost"}, "trunk ghost"},
		{[]string{"add", "+49 30", "--to", "hangup"}, "inbound number must be"},
		{[]string{"add", "+4930123456", "--to", "hangup"}, "conflict"},
	} {
		if _, errOut, code := cli(c.args...); code != 1 || !strings.Contains(errOut, c.err) {
			t.Errorf("dids %v: exit %d, %q, want %q", c.args, code, errOut, c.err)
		}
	}
	for _, args := range [][]string{{"add", "12"}, {"add", "12", "--to", "queue:700"}, {"add", "12", "--to", ""}} {
		if _, _, code := cli(args...); code != 2 {
			t.Errorf("dids %v: exit %d, want 2", args, code)
		}
	}
	if out, errOut, code := cli("set", "+4930123456", "--to", "hangup", "--trunk", ""); code != 0 ||
		!strings.Contains(out, "to:            refused (hang up)") || !strings.Contains(out, "trunk:         any") || !strings.Contains(out, "name:          Main line") {
		t.Errorf("dids set: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, code := cli("list"); code != 0 || !strings.Contains(out, "+4930123456") || !strings.Contains(out, "voicemail of 1001") {
		t.Errorf("dids list (exit %d):\n%s", code, out)
	}
	out, _, code = cli("get", "+4930123456", "--json")
	var n api.InboundNumber
	if code != 0 || json.Unmarshal([]byte(out), &n) != nil || n.Destination.Kind != "hangup" {
		t.Errorf("dids get --json (exit %d):\n%s", code, out)
	}
	if out, _, code := cli("rm", "+4930123456"); code != 0 || !strings.Contains(out, "deleted inbound number +4930123456") {
		t.Errorf("dids rm (exit %d): %s", code, out)
	}
	if _, err := store.InboundNumber(context.Background(), "+4930123456"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("after rm: %v", err)
	}
}

// users add and set take --outbound-caller-id; show prints it.
func TestUsersCLIOutboundCallerID(t *testing.T) {
	ctx := context.Background()
	store := inmem.NewUserStore()
	cli := adminCLI(t, api.Server{Users: &provisioning.Service{Store: store, Config: noConfig{}, Presence: offlinePresence{}}}, users)
	if _, errOut, code := cli("add", "1001", "--name", "Alice", "--outbound-caller-id", "+4930123401"); code != 0 {
		t.Fatalf("users add: exit %d %s", code, errOut)
	}
	if u, _ := store.User(ctx, "1001"); u.OutboundCallerID != "+4930123401" {
		t.Errorf("stored %q", u.OutboundCallerID)
	}
	if out, _, code := cli("show", "1001"); code != 0 || !strings.Contains(out, "outbound id:  +4930123401\n") {
		t.Errorf("users show (exit %d):\n%s", code, out)
	}
	if _, errOut, code := cli("set", "1001", "--outbound-caller-id", "anonymous"); code != 1 || !strings.Contains(errOut, "outbound_caller_id") {
		t.Errorf("users set a bad caller ID: exit %d %q", code, errOut)
	}
	if _, errOut, code := cli("set", "1001", "--outbound-caller-id", ""); code != 0 {
		t.Errorf("users set --outbound-caller-id \"\": exit %d %q", code, errOut)
	}
	if out, _, _ := cli("show", "1001"); !strings.Contains(out, "outbound id:  none (the trunk's)") {
		t.Errorf("users show after removing it:\n%s", out)
	}
}
