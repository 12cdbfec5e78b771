package api_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

// fakeSync counts the syncs a trunk service asks for and fails them with err.
type fakeSync struct {
	mu  sync.Mutex
	n   int
	err error
}

func (s *fakeSync) SyncTrunks(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return s.err
}

// fakeStatuses answers every trunk with st.
type fakeStatuses struct{ st switchboard.TrunkStatus }

func (f fakeStatuses) TrunkStatus(name string) switchboard.TrunkStatus {
	st := f.st
	st.Name = name
	return st
}

// numberPlan gives numbers their kind, as PostgreSQL's table of numbers does.
type numberPlan map[string]string

func (p numberPlan) NumberKind(_ context.Context, number string) (string, error) {
	return p[number], nil
}

// trunksAPI is the API with trunks, routes and inbound numbers over in-memory stores sharing
// the user store; users 1001 and 1002 exist, 600 is a group and 800 a room.
type trunksAPI struct {
	*testAPI
	users  *inmem.UserStore
	trunks *inmem.TrunkStore
	routes *inmem.RouteStore
	dids   *inmem.InboundNumberStore
	sync   *fakeSync
}

func newTrunksAPI(t *testing.T, status provisioning.TrunkStatuses) *trunksAPI {
	t.Helper()
	users := inmem.NewUserStore()
	trunks := inmem.NewTrunkStore(users)
	ta := &trunksAPI{testAPI: &testAPI{t: t, store: users, trig: &triggers{}}, users: users, trunks: trunks,
		routes: inmem.NewRouteStore(trunks), dids: inmem.NewInboundNumberStore(trunks), sync: &fakeSync{}}
	s, err := api.NewServer(api.Server{
		Users:  &provisioning.Service{Store: users, Config: ta.trig, Presence: fakePresence{}},
		Trunks: &provisioning.TrunkService{Store: ta.trunks, Routes: ta.routes, Sync: ta.sync, Status: status},
		Routes: &provisioning.RouteService{Store: ta.routes},
		InboundNumbers: &provisioning.InboundNumberService{Store: ta.dids,
			Numbers: numberPlan{"1001": "user", "1002": "user", "600": "group", "800": "room"}},
		Token: token,
	})
	if err != nil {
		t.Fatal(err)
	}
	ta.srv = httptest.NewServer(s.Handler())
	t.Cleanup(ta.srv.Close)
	for _, ext := range []string{"1001", "1002"} {
		if r := ta.do("POST", "/api/v1/users", `{"extension":"`+ext+`","name":"User `+ext+`"}`); r.Status != 201 {
			t.Fatalf("user %s: %d %s", ext, r.Status, r.Body)
		}
	}
	return ta
}

// storedTrunks returns the stored trunks by name, as they are, password included.
func (ta *trunksAPI) storedTrunks() map[string]switchboard.Trunk {
	return storedBy(ta.t, ta.trunks.Trunks, func(t switchboard.Trunk) string { return t.Name })
}

// storedRoutes returns the stored routes by name.
func (ta *trunksAPI) storedRoutes() map[string]switchboard.OutboundRoute {
	return storedBy(ta.t, ta.routes.Routes, func(r switchboard.OutboundRoute) string { return r.Name })
}

// storedDIDs returns the stored inbound numbers by number.
func (ta *trunksAPI) storedDIDs() map[string]switchboard.InboundNumber {
	return storedBy(ta.t, ta.dids.InboundNumbers, func(n switchboard.InboundNumber) string { return n.Number })
}

// storedBy returns what list gives, by key; the test fails when list does (t may be a parent
// of the running test, so it is not stopped).
func storedBy[T any](t *testing.T, list func(context.Context) ([]T, error), key func(T) string) map[string]T {
	t.Helper()
	all, err := list(context.Background())
	if err != nil {
		t.Errorf("listing the stored rows: %v", err)
	}
	m := make(map[string]T, len(all))
	for _, v := range all {
		m[key(v)] = v
	}
	return m
}

func decodeAs[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("%s: %v", r.Body, err)
	}
	return v
}

const (
	trunkPassword = "s3cret!pass-1234"
	newPassword   = "n3w:pass.word~5678"
	sipgate       = `{"name":"sipgate","host":"sip.example.net","username":"acct-1","password":"` + trunkPassword + `"}`
)

// showsPassword reports whether a response body holds a trunk's password, or a "password"
// field (password_set is not one).
func showsPassword(body []byte) bool {
	b := string(body)
	return strings.Contains(b, trunkPassword) || strings.Contains(b, newPassword) || strings.Contains(b, `"password":`)
}

func TestTrunkLifecycle(t *testing.T) {
	ta := newTrunksAPI(t, nil)
	t.Run("Create", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/trunks", sipgate)
		if r.Status != 201 || r.Header.Get("Location") != "/api/v1/trunks/sipgate" {
			t.Fatalf("status %d, Location %q: %s", r.Status, r.Header.Get("Location"), r.Body)
		}
		tr := decodeAs[api.Trunk](t, r)
		if tr.Name != "sipgate" || tr.Host != "sip.example.net" || tr.Port != 5060 || tr.Transport != "udp" || tr.Auth != "register" ||
			tr.Username != "acct-1" || !tr.PasswordSet || strings.Join(tr.Codecs, ",") != "ulaw,alaw" || tr.Addresses == nil ||
			tr.Status.State != "unknown" || tr.Status.Since != nil || tr.CreatedAt.IsZero() {
			t.Errorf("created %+v", tr)
		}
		if ta.sync.n != 1 {
			t.Errorf("%d syncs, want 1", ta.sync.n)
		}
	})
	t.Run("CreateIP", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/trunks", `{"name":"carrier","host":"203.0.113.5","port":5080,"transport":"tcp","auth":"ip",
			"addresses":["203.0.113.0/24","198.51.100.7"],"codecs":["g722","ulaw"],"caller_id":"+4930123456","send_pai":true,"channel_limit":30}`)
		tr := decodeAs[api.Trunk](t, r)
		if r.Status != 201 || tr.Port != 5080 || tr.Transport != "tcp" || tr.Auth != "ip" || tr.Username != "" || tr.PasswordSet ||
			strings.Join(tr.Addresses, ",") != "203.0.113.0/24,198.51.100.7" || strings.Join(tr.Codecs, ",") != "g722,ulaw" ||
			tr.CallerID != "+4930123456" || !tr.SendPAI || tr.ChannelLimit != 30 {
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
	})
	t.Run("ListByName", func(t *testing.T) {
		l := decodeAs[api.TrunkList](t, ta.do("GET", "/api/v1/trunks", ""))
		if len(l.Trunks) != 2 || l.Trunks[0].Name != "carrier" || l.Trunks[1].Name != "sipgate" {
			t.Errorf("trunks %+v", l.Trunks)
		}
	})
	t.Run("Get", func(t *testing.T) {
		r := ta.do("GET", "/api/v1/trunks/sipgate", "")
		if tr := decodeAs[api.Trunk](t, r); r.Status != 200 || tr.Username != "acct-1" || !tr.PasswordSet {
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
	})
	t.Run("Patch", func(t *testing.T) {
		r := ta.do("PATCH", "/api/v1/trunks/sipgate", `{"host":"sip2.example.net","codecs":["alaw"],"password":"`+newPassword+`","channel_limit":4}`)
		tr := decodeAs[api.Trunk](t, r)
		if r.Status != 200 || tr.Host != "sip2.example.net" || strings.Join(tr.Codecs, ",") != "alaw" || tr.ChannelLimit != 4 ||
			tr.Username != "acct-1" || tr.Port != 5060 {
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
		if stored := ta.storedTrunks()["sipgate"]; stored.Password != newPassword {
			t.Errorf("stored password %q, want the new one", stored.Password)
		}
	})
	t.Run("PatchToIPDropsTheAccount", func(t *testing.T) {
		r := ta.do("PATCH", "/api/v1/trunks/carrier", `{"auth":"register","username":"acct-2","password":"`+newPassword+`"}`)
		if tr := decodeAs[api.Trunk](t, r); r.Status != 200 || tr.Auth != "register" || !tr.PasswordSet {
			t.Errorf("to register: %d %s", r.Status, r.Body)
		}
		r = ta.do("PATCH", "/api/v1/trunks/carrier", `{"auth":"ip"}`)
		if tr := decodeAs[api.Trunk](t, r); r.Status != 200 || tr.Auth != "ip" || tr.Username != "" || tr.PasswordSet {
			t.Errorf("to ip: %d %s", r.Status, r.Body)
		}
	})
	t.Run("ErrInUse", func(t *testing.T) {
		if r := ta.do("POST", "/api/v1/routes", `{"name":"national","patterns":[{"match":"0X."}],"trunks":["sipgate"]}`); r.Status != 201 {
			t.Fatalf("route: %d %s", r.Status, r.Body)
		}
		r := ta.do("DELETE", "/api/v1/trunks/sipgate", "")
		if r.Status != 409 || r.errorCode() != "conflict" || !strings.Contains(string(r.Body), "trunk sipgate is used by route national") {
			t.Errorf("delete a trunk in use: %d %s", r.Status, r.Body)
		}
		ta.do("DELETE", "/api/v1/routes/national", "")
	})
	t.Run("Delete", func(t *testing.T) {
		if r := ta.do("DELETE", "/api/v1/trunks/sipgate", ""); r.Status != 204 {
			t.Errorf("delete: %d %s", r.Status, r.Body)
		}
		if r := ta.do("GET", "/api/v1/trunks/sipgate", ""); r.Status != 404 || r.errorCode() != "not_found" {
			t.Errorf("after delete: %d %s", r.Status, r.Body)
		}
		if r := ta.do("DELETE", "/api/v1/trunks/sipgate", ""); r.Status != 404 {
			t.Errorf("second delete: %d %s", r.Status, r.Body)
		}
	})
	t.Run("UnknownMethod", func(t *testing.T) {
		if r := ta.do("PUT", "/api/v1/trunks/carrier", `{}`); r.Status != 405 || r.Header.Get("Allow") != "GET, PATCH, DELETE" {
			t.Errorf("PUT: %d Allow=%q", r.Status, r.Header.Get("Allow"))
		}
	})
}

// The password is write-only: no response of the trunk routes holds it, not even an error
// about it; password_set says whether there is one.
func TestTrunkPasswordNeverShown(t *testing.T) {
	ta := newTrunksAPI(t, nil)
	var bodies []response
	bodies = append(bodies, ta.do("POST", "/api/v1/trunks", sipgate))
	bodies = append(bodies, ta.do("GET", "/api/v1/trunks/sipgate", ""))
	bodies = append(bodies, ta.do("GET", "/api/v1/trunks", ""))
	bodies = append(bodies, ta.do("PATCH", "/api/v1/trunks/sipgate", `{"password":"`+newPassword+`"}`))
	bodies = append(bodies, ta.do("PATCH", "/api/v1/trunks/sipgate", `{"caller_id":"+4930123456"}`))
	bodies = append(bodies, ta.do("GET", "/api/v1/trunks/sipgate", ""))
	bodies = append(bodies, ta.do("GET", "/api/v1/trunks", ""))
	for i, r := range bodies {
		if r.Status >= 300 {
			t.Errorf("request %d: %d %s", i, r.Status, r.Body)
		}
		if showsPassword(r.Body) || !strings.Contains(string(r.Body), `"password_set":true`) {
			t.Errorf("response %d shows the password or hides password_set: %s", i, r.Body)
		}
	}
	// Refused passwords and refused trunks with a password are not echoed either.
	for _, c := range []struct{ method, path, body, secret string }{
		{"POST", "/api/v1/trunks", `{"name":"b","host":"h","username":"u","password":"abc;def#ghi"}`, "abc;def#ghi"},
		{"POST", "/api/v1/trunks", `{"name":"b","host":"h","username":"u","password":"tiny"}`, "tiny"},
		{"POST", "/api/v1/trunks", `{"name":"b","host":"h;x","username":"u","password":"` + trunkPassword + `"}`, trunkPassword},
		{"POST", "/api/v1/trunks", `{"name":"b","host":"h","auth":"ip","password":"` + trunkPassword + `"}`, trunkPassword},
		{"PATCH", "/api/v1/trunks/sipgate", `{"password":"pass word with spaces"}`, "pass word with spaces"},
	} {
		r := ta.do(c.method, c.path, c.body)
		if r.Status != 400 || strings.Contains(string(r.Body), c.secret) {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
}

// A trunk shows what its provider makes of us, as the trunk service's Status says.
func TestTrunkStatus(t *testing.T) {
	since := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	ta := newTrunksAPI(t, fakeStatuses{switchboard.TrunkStatus{State: switchboard.Rejected, Since: since, Detail: "403 Forbidden", Channels: 2}})
	r := ta.do("POST", "/api/v1/trunks", sipgate)
	want := api.TrunkStatus{State: "rejected", Since: &since, Detail: "403 Forbidden", Channels: 2}
	for _, r := range []response{r, ta.do("GET", "/api/v1/trunks/sipgate", "")} {
		if tr := decodeAs[api.Trunk](t, r); tr.Status.State != want.State || tr.Status.Since == nil || !tr.Status.Since.Equal(since) ||
			tr.Status.Detail != want.Detail || tr.Status.Channels != 2 {
			t.Errorf("status %+v, want %+v", tr.Status, want)
		}
	}
	if l := decodeAs[api.TrunkList](t, ta.do("GET", "/api/v1/trunks", "")); len(l.Trunks) != 1 || l.Trunks[0].Status.State != "rejected" {
		t.Errorf("list: %+v", l)
	}
}

// A trunk stored that Asterisk could not be told about is reported as such: the change is
// kept, and the next sync brings Asterisk up to date.
func TestTrunkSyncFails(t *testing.T) {
	ta := newTrunksAPI(t, nil)
	ta.sync.err = switchboard.Errorf(switchboard.EUNAVAILABLE, "asterisk is unreachable")
	if r := ta.do("POST", "/api/v1/trunks", sipgate); r.Status != 503 || r.errorCode() != "unavailable" || showsPassword(r.Body) {
		t.Errorf("create: %d %s", r.Status, r.Body)
	}
	if _, ok := ta.storedTrunks()["sipgate"]; !ok {
		t.Error("the trunk was not stored")
	}
	ta.sync.err = nil
	if r := ta.do("GET", "/api/v1/trunks/sipgate", ""); r.Status != 200 {
		t.Errorf("get: %d %s", r.Status, r.Body)
	}
}

func TestTrunkBadInputChangesNothing(t *testing.T) {
	ta := newTrunksAPI(t, nil)
	ta.do("POST", "/api/v1/trunks", sipgate)
	before := ta.storedTrunks()["sipgate"]
	syncs := ta.sync.n
	reg := `"username":"u","password":"` + trunkPassword + `"`
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"InvalidJSON", "POST", "/api/v1/trunks", `{"name":"b",`, 400},
		{"EmptyBody", "POST", "/api/v1/trunks", ``, 400},
		{"TwoObjects", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `}{}`, 400},
		{"UnknownField", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"secret":"x"}`, 400},
		// The status is the server's to say.
		{"StatusGiven", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"status":{"state":"registered"}}`, 400},
		{"PasswordSetGiven", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"password_set":true}`, 400},
		{"WrongType", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"port":"5060"}`, 400},
		{"CodecsNotAList", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"codecs":"ulaw"}`, 400},
		{"Oversize", "POST", "/api/v1/trunks", `{"name":"b","host":"` + strings.Repeat("h", api.MaxBodyBytes) + `"}`, 413},
		{"NameUpperCase", "POST", "/api/v1/trunks", `{"name":"B","host":"h",` + reg + `}`, 400},
		{"NameSection", "POST", "/api/v1/trunks", `{"name":"b]\n[evil","host":"h",` + reg + `}`, 400},
		{"NoHost", "POST", "/api/v1/trunks", `{"name":"b",` + reg + `}`, 400},
		{"HostComment", "POST", "/api/v1/trunks", `{"name":"b","host":"h;x",` + reg + `}`, 400},
		{"HostIPv6", "POST", "/api/v1/trunks", `{"name":"b","host":"2001:db8::1",` + reg + `}`, 400},
		// Explicit 0 and "" are out of range, not "the default".
		{"PortZero", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"port":0}`, 400},
		{"TransportEmpty", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"transport":""}`, 400},
		{"AuthEmpty", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"auth":""}`, 400},
		{"CodecsEmpty", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"codecs":[]}`, 400},
		{"PortTooHigh", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"port":65536}`, 400},
		{"TransportTLS", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"transport":"tls"}`, 400},
		{"RegisterWithoutAccount", "POST", "/api/v1/trunks", `{"name":"b","host":"h"}`, 400},
		{"IPWithAccount", "POST", "/api/v1/trunks", `{"name":"b","host":"h","auth":"ip",` + reg + `}`, 400},
		{"UsernameQuote", "POST", "/api/v1/trunks", `{"name":"b","host":"h","username":"u\"","password":"` + trunkPassword + `"}`, 400},
		{"AddressName", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"addresses":["sip.example.net"]}`, 400},
		{"AddressTwice", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"addresses":["192.0.2.1","192.0.2.1"]}`, 400},
		{"CodecUnknown", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"codecs":["opus"]}`, 400},
		{"CallerIDName", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"caller_id":"Boss"}`, 400},
		{"ChannelsNegative", "POST", "/api/v1/trunks", `{"name":"b","host":"h",` + reg + `,"channel_limit":-1}`, 400},
		{"PatchName", "PATCH", "/api/v1/trunks/sipgate", `{"name":"other"}`, 400},
		{"PatchHost", "PATCH", "/api/v1/trunks/sipgate", `{"host":"h\n[evil]"}`, 400},
		{"PatchPasswordEmpty", "PATCH", "/api/v1/trunks/sipgate", `{"password":""}`, 400},
		{"PatchCodecsEmpty", "PATCH", "/api/v1/trunks/sipgate", `{"codecs":[]}`, 400},
		{"PatchIPWithUsername", "PATCH", "/api/v1/trunks/sipgate", `{"auth":"ip","username":"u"}`, 400},
		{"PatchEmptyBody", "PATCH", "/api/v1/trunks/sipgate", ``, 400},
		{"PatchOversize", "PATCH", "/api/v1/trunks/sipgate", `{"host":"` + strings.Repeat("h", api.MaxBodyBytes) + `"}`, 413},
		{"BadPathName", "GET", "/api/v1/trunks/Sipgate", ``, 400},
		{"BadPathNamePatch", "PATCH", "/api/v1/trunks/a_b", `{"port":5061}`, 400},
		{"BadPathNameDelete", "DELETE", "/api/v1/trunks/" + strings.Repeat("a", 33), ``, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ta.do(tt.method, tt.path, tt.body)
			if r.Status != tt.status || r.errorCode() != "invalid" {
				t.Errorf("status %d code %q, want %d invalid: %s", r.Status, r.errorCode(), tt.status, r.Body)
			}
		})
	}
	if len(ta.storedTrunks()) != 1 || !slices.Equal(ta.storedTrunks()["sipgate"].Codecs, before.Codecs) ||
		ta.storedTrunks()["sipgate"].Host != before.Host || ta.storedTrunks()["sipgate"].Password != before.Password {
		t.Errorf("bad input changed the trunks: %+v", ta.storedTrunks())
	}
	if ta.sync.n != syncs {
		t.Errorf("%d syncs after refused input", ta.sync.n-syncs)
	}
	if r := ta.do("POST", "/api/v1/trunks", sipgate); r.Status != 409 || r.errorCode() != "conflict" {
		t.Errorf("duplicate: %d %s", r.Status, r.Body)
	}
}

func TestRouteLifecycle(t *testing.T) {
	ta := newTrunksAPI(t, nil)
	ta.do("POST", "/api/v1/trunks", sipgate)
	ta.do("POST", "/api/v1/trunks", `{"name":"backup","host":"203.0.113.5","auth":"ip"}`)
	t.Run("Create", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/routes", `{"name":"national","patterns":[{"prefix":"9","match":"0nxxxxxx."},{"match":"+49Z.","prepend":"0"}],
			"trunks":["sipgate","backup"],"users":["1001"],"caller_id":"+4930123400"}`)
		if r.Status != 201 || r.Header.Get("Location") != "/api/v1/routes/national" {
			t.Fatalf("status %d, Location %q: %s", r.Status, r.Header.Get("Location"), r.Body)
		}
		route := decodeAs[api.OutboundRoute](t, r)
		want := []api.DialPattern{{Prefix: "9", Match: "0NXXXXXX."}, {Match: "+49Z.", Prepend: "0"}}
		if route.Position != 10 || !slices.Equal(route.Patterns, want) || strings.Join(route.Trunks, ",") != "sipgate,backup" ||
			strings.Join(route.Users, ",") != "1001" || route.Emergency || route.CallerID != "+4930123400" {
			t.Errorf("created %+v", route)
		}
	})
	t.Run("EmergencyAfterTheLast", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/routes", `{"name":"emergency","emergency":true,"patterns":[{"match":"112"}],"trunks":["backup"]}`)
		route := decodeAs[api.OutboundRoute](t, r)
		if r.Status != 201 || route.Position != 20 || !route.Emergency || route.Users == nil || len(route.Users) != 0 ||
			!strings.Contains(string(r.Body), `"users":[]`) || !strings.Contains(string(r.Body), `{"prefix":"","match":"112","prepend":""}`) {
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
	})
	t.Run("ListInOrder", func(t *testing.T) {
		ta.do("POST", "/api/v1/routes", `{"name":"first","position":5,"patterns":[{"match":"00X."}],"trunks":["sipgate"]}`)
		l := decodeAs[api.RouteList](t, ta.do("GET", "/api/v1/routes", ""))
		var names []string
		for _, r := range l.Routes {
			names = append(names, r.Name)
		}
		if strings.Join(names, ",") != "first,national,emergency" {
			t.Errorf("routes %v", names)
		}
	})
	t.Run("Patch", func(t *testing.T) {
		r := ta.do("PATCH", "/api/v1/routes/national", `{"position":0,"trunks":["backup"],"users":[],"patterns":[{"match":"0[1-9]x."}]}`)
		route := decodeAs[api.OutboundRoute](t, r)
		if r.Status != 200 || route.Position != 0 || strings.Join(route.Trunks, ",") != "backup" || len(route.Users) != 0 ||
			route.Patterns[0].Match != "0[1-9]X." || route.CallerID != "+4930123400" {
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
		if got := decodeAs[api.OutboundRoute](t, ta.do("GET", "/api/v1/routes/national", "")); got.Position != 0 {
			t.Errorf("get after patch: %+v", got)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if r := ta.do("DELETE", "/api/v1/routes/national", ""); r.Status != 204 {
			t.Errorf("delete: %d %s", r.Status, r.Body)
		}
		if r := ta.do("GET", "/api/v1/routes/national", ""); r.Status != 404 {
			t.Errorf("after delete: %d %s", r.Status, r.Body)
		}
	})
}

func TestRouteBadInputChangesNothing(t *testing.T) {
	ta := newTrunksAPI(t, nil)
	ta.do("POST", "/api/v1/trunks", sipgate)
	ta.do("POST", "/api/v1/routes", `{"name":"national","patterns":[{"match":"0X."}],"trunks":["sipgate"]}`)
	before := ta.storedRoutes()["national"]
	ok := `"patterns":[{"match":"0X."}],"trunks":["sipgate"]`
	tests := []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{"UnknownField", "POST", "/api/v1/routes", `{"name":"b",` + ok + `,"order":1}`, 400, "unknown field"},
		{"UnknownPatternField", "POST", "/api/v1/routes", `{"name":"b","patterns":[{"match":"0X.","strip":1}],"trunks":["sipgate"]}`, 400, "unknown field"},
		{"Oversize", "POST", "/api/v1/routes", `{"name":"` + strings.Repeat("b", api.MaxBodyBytes) + `"}`, 413, "larger than"},
		{"NameSpace", "POST", "/api/v1/routes", `{"name":"b c",` + ok + `}`, 400, "route name"},
		{"NoPatterns", "POST", "/api/v1/routes", `{"name":"b","trunks":["sipgate"]}`, 400, "patterns must list"},
		{"MatchSemicolon", "POST", "/api/v1/routes", `{"name":"b","patterns":[{"match":"0X;x"}],"trunks":["sipgate"]}`, 400, "pattern match"},
		{"MatchNewline", "POST", "/api/v1/routes", `{"name":"b","patterns":[{"match":"0X\n"}],"trunks":["sipgate"]}`, 400, "pattern match"},
		{"PrefixLetter", "POST", "/api/v1/routes", `{"name":"b","patterns":[{"prefix":"a","match":"0X."}],"trunks":["sipgate"]}`, 400, "pattern prefix"},
		{"PatternTwice", "POST", "/api/v1/routes", `{"name":"b","patterns":[{"match":"0x."},{"match":"0X."}],"trunks":["sipgate"]}`, 400, "listed twice"},
		{"NoTrunks", "POST", "/api/v1/routes", `{"name":"b","patterns":[{"match":"0X."}]}`, 400, "trunks must list"},
		{"TrunkMissing", "POST", "/api/v1/routes", `{"name":"b","patterns":[{"match":"0X."}],"trunks":["sipgate","ghost"]}`, 400, "trunk ghost"},
		{"UserMissing", "POST", "/api/v1/routes", `{"name":"b",` + ok + `,"users":["1001","1999"]}`, 400, "user 1999"},
		{"UserPattern", "POST", "/api/v1/routes", `{"name":"b",` + ok + `,"users":["_X."]}`, 400, "user"},
		{"PositionNegative", "POST", "/api/v1/routes", `{"name":"b",` + ok + `,"position":-1}`, 400, "position"},
		{"CallerIDBad", "POST", "/api/v1/routes", `{"name":"b",` + ok + `,"caller_id":"x"}`, 400, "caller_id"},
		{"PatchName", "PATCH", "/api/v1/routes/national", `{"name":"other"}`, 400, "unknown field"},
		{"PatchNoTrunks", "PATCH", "/api/v1/routes/national", `{"trunks":[]}`, 400, "trunks must list"},
		{"PatchTrunkMissing", "PATCH", "/api/v1/routes/national", `{"trunks":["ghost"]}`, 400, "trunk ghost"},
		{"PatchPositionTooHigh", "PATCH", "/api/v1/routes/national", `{"position":100001}`, 400, "position"},
		{"BadPathName", "GET", "/api/v1/routes/Na", ``, 400, "route name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ta.do(tt.method, tt.path, tt.body)
			if r.Status != tt.status || r.errorCode() != "invalid" || !strings.Contains(string(r.Body), tt.msg) {
				t.Errorf("status %d code %q, want %d invalid %q: %s", r.Status, r.errorCode(), tt.status, tt.msg, r.Body)
			}
		})
	}
	if len(ta.storedRoutes()) != 1 || ta.storedRoutes()["national"].UpdatedAt != before.UpdatedAt {
		t.Errorf("bad input changed the routes: %+v", ta.storedRoutes())
	}
	if r := ta.do("POST", "/api/v1/routes", `{"name":"national",`+ok+`}`); r.Status != 409 {
		t.Errorf("duplicate: %d %s", r.Status, r.Body)
	}
}

func TestInboundNumberLifecycle(t *testing.T) {
	ta := newTrunksAPI(t, nil)
	ta.do("POST", "/api/v1/trunks", sipgate)
	t.Run("Create", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/inbound-numbers", `{"number":"+4930123456","name":"Main line","trunk":"sipgate",
			"destination":{"kind":"number","number":"600"}}`)
		if r.Status != 201 || r.Header.Get("Location") != "/api/v1/inbound-numbers/+4930123456" {
			t.Fatalf("status %d, Location %q: %s", r.Status, r.Header.Get("Location"), r.Body)
		}
		n := decodeAs[api.InboundNumber](t, r)
		if n.Number != "+4930123456" || n.Name != "Main line" || n.Trunk != "sipgate" ||
			n.Destination != (api.GroupDestination{Kind: "number", Number: "600"}) {
			t.Errorf("created %+v", n)
		}
	})
	t.Run("CreateFromAnyTrunk", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/inbound-numbers", `{"number":"030123457","destination":{"kind":"voicemail","number":"1001"}}`)
		if r.Status != 201 || !strings.Contains(string(r.Body), `"trunk":""`) || !strings.Contains(string(r.Body), `"name":""`) {
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
	})
	t.Run("List", func(t *testing.T) {
		l := decodeAs[api.InboundNumberList](t, ta.do("GET", "/api/v1/inbound-numbers", ""))
		if len(l.InboundNumbers) != 2 || l.InboundNumbers[0].Number != "+4930123456" {
			t.Errorf("inbound numbers %+v", l)
		}
	})
	t.Run("GetWithPlusInThePath", func(t *testing.T) {
		for _, path := range []string{"/api/v1/inbound-numbers/+4930123456", "/api/v1/inbound-numbers/%2B4930123456"} {
			r := ta.do("GET", path, "")
			if n := decodeAs[api.InboundNumber](t, r); r.Status != 200 || n.Name != "Main line" {
				t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
			}
		}
	})
	t.Run("Patch", func(t *testing.T) {
		r := ta.do("PATCH", "/api/v1/inbound-numbers/+4930123456", `{"trunk":"","destination":{"kind":"hangup"}}`)
		n := decodeAs[api.InboundNumber](t, r)
		if r.Status != 200 || n.Trunk != "" || n.Destination != (api.GroupDestination{Kind: "hangup"}) || n.Name != "Main line" {
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if r := ta.do("DELETE", "/api/v1/inbound-numbers/+4930123456", ""); r.Status != 204 {
			t.Errorf("delete: %d %s", r.Status, r.Body)
		}
		if r := ta.do("GET", "/api/v1/inbound-numbers/+4930123456", ""); r.Status != 404 {
			t.Errorf("after delete: %d %s", r.Status, r.Body)
		}
	})
}

func TestInboundNumberBadInputChangesNothing(t *testing.T) {
	ta := newTrunksAPI(t, nil)
	ta.do("POST", "/api/v1/trunks", sipgate)
	ta.do("POST", "/api/v1/inbound-numbers", `{"number":"+4930123456","destination":{"kind":"number","number":"600"}}`)
	before := ta.storedDIDs()["+4930123456"]
	tests := []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{"UnknownField", "POST", "/api/v1/inbound-numbers", `{"number":"12","destination":{"kind":"hangup"},"ring":1}`, 400, "unknown field"},
		{"UnknownDestinationField", "POST", "/api/v1/inbound-numbers", `{"number":"12","destination":{"kind":"hangup","after":1}}`, 400, "unknown field"},
		{"Oversize", "POST", "/api/v1/inbound-numbers", `{"number":"12","name":"` + strings.Repeat("n", api.MaxBodyBytes) + `"}`, 413, "larger than"},
		{"NoDestination", "POST", "/api/v1/inbound-numbers", `{"number":"12"}`, 400, "destination.kind"},
		{"NumberSpaces", "POST", "/api/v1/inbound-numbers", `{"number":"+49 30","destination":{"kind":"hangup"}}`, 400, "inbound number must be"},
		{"NumberPattern", "POST", "/api/v1/inbound-numbers", `{"number":"_X.","destination":{"kind":"hangup"}}`, 400, "inbound number"},
		{"NameSemicolon", "POST", "/api/v1/inbound-numbers", `{"number":"12","name":"a;b","destination":{"kind":"hangup"}}`, 400, "name"},
		{"TrunkMissing", "POST", "/api/v1/inbound-numbers", `{"number":"12","trunk":"ghost","destination":{"kind":"hangup"}}`, 400, "trunk ghost"},
		{"DestinationNobodys", "POST", "/api/v1/inbound-numbers", `{"number":"12","destination":{"kind":"number","number":"1234"}}`, 400, "number 1234 is nobody's"},
		{"VoicemailOfARoom", "POST", "/api/v1/inbound-numbers", `{"number":"12","destination":{"kind":"voicemail","number":"800"}}`, 400, "no mailbox"},
		{"HangupWithNumber", "POST", "/api/v1/inbound-numbers", `{"number":"12","destination":{"kind":"hangup","number":"600"}}`, 400, "hangup takes no number"},
		{"DestinationExternal", "POST", "/api/v1/inbound-numbers", `{"number":"12","destination":{"kind":"number","number":"+4930999"}}`, 400, "destination"},
		{"PatchNumber", "PATCH", "/api/v1/inbound-numbers/+4930123456", `{"number":"13"}`, 400, "unknown field"},
		{"PatchDestinationNobodys", "PATCH", "/api/v1/inbound-numbers/+4930123456", `{"name":"X","destination":{"kind":"number","number":"4321"}}`, 400, "nobody's"},
		{"PatchTrunkMissing", "PATCH", "/api/v1/inbound-numbers/+4930123456", `{"trunk":"ghost"}`, 400, "trunk ghost"},
		{"BadPathNumber", "GET", "/api/v1/inbound-numbers/49a", ``, 400, "inbound number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ta.do(tt.method, tt.path, tt.body)
			if r.Status != tt.status || r.errorCode() != "invalid" || !strings.Contains(string(r.Body), tt.msg) {
				t.Errorf("status %d code %q, want %d invalid %q: %s", r.Status, r.errorCode(), tt.status, tt.msg, r.Body)
			}
		})
	}
	if len(ta.storedDIDs()) != 1 || ta.storedDIDs()["+4930123456"] != before {
		t.Errorf("bad input changed the inbound numbers: %+v", ta.storedDIDs())
	}
	if r := ta.do("POST", "/api/v1/inbound-numbers", `{"number":"+4930123456","destination":{"kind":"hangup"}}`); r.Status != 409 {
		t.Errorf("duplicate: %d %s", r.Status, r.Body)
	}
}

// Without their services the trunk, route and inbound number routes answer 503, and the rest
// of the API works.
func TestTrunksUnavailable(t *testing.T) {
	ta := newTestAPI(t)
	for _, c := range []struct{ method, path, body, what string }{
		{"GET", "/api/v1/trunks", "", "trunks"},
		{"POST", "/api/v1/trunks", sipgate, "trunks"},
		{"GET", "/api/v1/trunks/sipgate", "", "trunks"},
		{"PATCH", "/api/v1/trunks/sipgate", `{"port":5061}`, "trunks"},
		{"DELETE", "/api/v1/trunks/sipgate", "", "trunks"},
		{"GET", "/api/v1/routes", "", "outbound routes"},
		{"POST", "/api/v1/routes", `{"name":"a","patterns":[{"match":"X"}],"trunks":["b"]}`, "outbound routes"},
		{"GET", "/api/v1/routes/a", "", "outbound routes"},
		{"PATCH", "/api/v1/routes/a", `{"position":1}`, "outbound routes"},
		{"DELETE", "/api/v1/routes/a", "", "outbound routes"},
		{"GET", "/api/v1/inbound-numbers", "", "inbound numbers"},
		{"POST", "/api/v1/inbound-numbers", `{"number":"12","destination":{"kind":"hangup"}}`, "inbound numbers"},
		{"GET", "/api/v1/inbound-numbers/12", "", "inbound numbers"},
		{"PATCH", "/api/v1/inbound-numbers/12", `{"name":"X"}`, "inbound numbers"},
		{"DELETE", "/api/v1/inbound-numbers/12", "", "inbound numbers"},
	} {
		if r := ta.do(c.method, c.path, c.body); r.Status != 503 || r.errorCode() != "unavailable" ||
			!strings.Contains(string(r.Body), c.what+" are not available") {
			t.Errorf("%s %s without the service: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	if r := ta.do("GET", "/api/v1/users", ""); r.Status != 200 {
		t.Errorf("users: %d %s", r.Status, r.Body)
	}
}

func TestTrunksAuthAndDatabaseDown(t *testing.T) {
	ta := newTrunksAPI(t, nil)
	ta.do("POST", "/api/v1/trunks", sipgate)
	requests := []struct{ method, path, body string }{
		{"GET", "/api/v1/trunks", ""},
		{"GET", "/api/v1/trunks/sipgate", ""},
		{"POST", "/api/v1/trunks", `{"name":"b","host":"h","auth":"ip"}`},
		{"PATCH", "/api/v1/trunks/sipgate", `{"port":5061}`},
		{"DELETE", "/api/v1/trunks/sipgate", ""},
		{"GET", "/api/v1/routes", ""},
		{"POST", "/api/v1/routes", `{"name":"a","patterns":[{"match":"X"}],"trunks":["sipgate"]}`},
		{"GET", "/api/v1/inbound-numbers", ""},
		{"POST", "/api/v1/inbound-numbers", `{"number":"12","destination":{"kind":"hangup"}}`},
	}
	for _, c := range requests {
		if r := ta.do(c.method, c.path, c.body, "Authorization", "Bearer wrong-token-0123456789"); r.Status != 401 || r.errorCode() != "unauthorized" {
			t.Errorf("%s %s with a wrong token: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	ta.users.SetDown(true)
	for _, c := range requests {
		if r := ta.do(c.method, c.path, c.body); r.Status != 503 || r.errorCode() != "unavailable" {
			t.Errorf("%s %s with the database down: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	ta.users.SetDown(false)
	if len(ta.storedTrunks()) != 1 || len(ta.storedRoutes()) != 0 || len(ta.storedDIDs()) != 0 {
		t.Errorf("refused requests changed the stores: %d trunks, %d routes, %d numbers", len(ta.storedTrunks()), len(ta.storedRoutes()), len(ta.storedDIDs()))
	}
}

// A user's outbound caller ID is set on create, shown, changed and removed by a patch.
func TestUserOutboundCallerID(t *testing.T) {
	ta := newTestAPI(t)
	r := ta.do("POST", "/api/v1/users", `{"extension":"1001","name":"Alice","outbound_caller_id":"+4930123401"}`)
	if u := decodeAs[api.User](t, r); r.Status != 201 || u.OutboundCallerID != "+4930123401" {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if u := decodeAs[api.User](t, ta.do("GET", "/api/v1/users/1001", "")); u.OutboundCallerID != "+4930123401" {
		t.Errorf("get: %+v", u)
	}
	for _, body := range []string{`{"outbound_caller_id":"anonymous"}`, `{"outbound_caller_id":"12;34"}`, `{"outbound_caller_id":1234}`} {
		if r := ta.do("PATCH", "/api/v1/users/1001", body); r.Status != 400 || r.errorCode() != "invalid" {
			t.Errorf("patch %s: %d %s", body, r.Status, r.Body)
		}
	}
	if r := ta.do("POST", "/api/v1/users", `{"extension":"1002","name":"Bob","outbound_caller_id":"1"}`); r.Status != 400 ||
		!strings.Contains(string(r.Body), "outbound_caller_id") {
		t.Errorf("create with a bad caller ID: %d %s", r.Status, r.Body)
	}
	r = ta.do("PATCH", "/api/v1/users/1001", `{"outbound_caller_id":"030123402"}`)
	if u := decodeAs[api.User](t, r); r.Status != 200 || u.OutboundCallerID != "030123402" {
		t.Errorf("patch: %d %s", r.Status, r.Body)
	}
	r = ta.do("PATCH", "/api/v1/users/1001", `{"outbound_caller_id":""}`)
	if r.Status != 200 || strings.Contains(string(r.Body), "outbound_caller_id") {
		t.Errorf("removing it: %d %s", r.Status, r.Body)
	}
}

// A call through a trunk says so: its direction, trunk and party in the outside world; an
// internal call says internal (a record written before directions existed too).
func TestCallDirection(t *testing.T) {
	start := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	calls := fakeCalls{records: []switchboard.CallRecord{
		{ID: aliceCall, Caller: "1001", Callee: "004930999", Outcome: switchboard.Answered, Direction: switchboard.Outbound,
			Trunk: "sipgate", External: "+4930999", StartedAt: start, AnsweredAt: start.Add(time.Second), EndedAt: start.Add(time.Minute)},
		{ID: bobCall, Caller: "1002", Callee: "1001", Outcome: switchboard.Missed, StartedAt: start, EndedAt: start.Add(time.Minute)},
	}}
	s, err := api.NewServer(api.Server{Calls: calls, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	ta := &testAPI{t: t, srv: httptest.NewServer(s.Handler())}
	defer ta.srv.Close()
	if c := decodeAs[api.Call](t, ta.do("GET", "/api/v1/calls/"+aliceCall, "")); c.Direction != "outbound" || c.Trunk != "sipgate" || c.External != "+4930999" {
		t.Errorf("outbound call: %+v", c)
	}
	r := ta.do("GET", "/api/v1/calls/"+bobCall, "")
	if c := decodeAs[api.Call](t, r); c.Direction != "internal" || strings.Contains(string(r.Body), `"trunk"`) || strings.Contains(string(r.Body), `"external"`) {
		t.Errorf("internal call: %s", r.Body)
	}
}
