package provisioning_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

// trunkStores are the in-memory stores of trunks, routes and inbound numbers over one user
// store, as in one database: unique names and numbers, a route's trunks and users and an
// inbound number's trunk must exist, a trunk a route uses cannot be deleted.
type trunkStores struct {
	trunks *inmem.TrunkStore
	routes *inmem.RouteStore
	dids   *inmem.InboundNumberStore
}

// newTrunkStores returns empty stores whose user store has users (the extensions).
func newTrunkStores(users ...string) *trunkStores {
	store := inmem.NewUserStore()
	for _, ext := range users {
		if _, err := store.CreateUser(context.Background(), switchboard.User{Extension: ext, Name: "User " + ext}); err != nil {
			panic(err)
		}
	}
	trunks := inmem.NewTrunkStore(store)
	return &trunkStores{trunks: trunks, routes: inmem.NewRouteStore(trunks), dids: inmem.NewInboundNumberStore(trunks)}
}

func (s *trunkStores) Trunks() *inmem.TrunkStore       { return s.trunks }
func (s *trunkStores) Routes() *inmem.RouteStore       { return s.routes }
func (s *trunkStores) DIDs() *inmem.InboundNumberStore { return s.dids }

// listed returns what list (a store's list of all it holds) gives, failing the test when it
// fails.
func listed[T any](t *testing.T, list func(context.Context) ([]T, error)) []T {
	t.Helper()
	all, err := list(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// syncs counts the passes a TrunkService asks for, failing them with err.
type syncs struct {
	n   int
	err error
}

func (s *syncs) SyncTrunks(context.Context) error { s.n++; return s.err }

// statuses answers every trunk with the same state.
type statuses struct{ st switchboard.TrunkStatus }

func (s statuses) TrunkStatus(name string) switchboard.TrunkStatus {
	st := s.st
	st.Name = name
	return st
}

// plan is a plan of numbers: the kind of each number that is somebody's.
type plan map[string]string

func (p plan) NumberKind(_ context.Context, number string) (string, error) { return p[number], nil }

func newTrunkService(t *testing.T) (*provisioning.TrunkService, *trunkStores, *syncs) {
	t.Helper()
	stores := newTrunkStores("1001", "1002")
	sync := &syncs{}
	return &provisioning.TrunkService{Store: stores.Trunks(), Routes: stores.Routes(), Sync: sync}, stores, sync
}

func registering() provisioning.NewTrunk {
	return provisioning.NewTrunk{Name: "sipgate", Host: "sip.example.net", Username: "acct", Password: "s3cret!pass"}
}

func TestCreateTrunk(t *testing.T) {
	ctx := context.Background()
	t.Run("Defaults", func(t *testing.T) {
		svc, _, sync := newTrunkService(t)
		tr, err := svc.CreateTrunk(ctx, registering())
		if err != nil {
			t.Fatal(err)
		}
		want := switchboard.Trunk{Name: "sipgate", Host: "sip.example.net", Port: 5060, Transport: switchboard.TransportUDP,
			Auth: switchboard.AuthRegister, Username: "acct", Password: "s3cret!pass", Addresses: []string{},
			Codecs: []string{"ulaw", "alaw"}, CreatedAt: tr.CreatedAt, UpdatedAt: tr.UpdatedAt}
		if !reflect.DeepEqual(tr, want) || tr.CreatedAt.IsZero() {
			t.Errorf("created %+v, want %+v", tr, want)
		}
		if sync.n != 1 {
			t.Errorf("%d syncs, want 1", sync.n)
		}
	})
	t.Run("Chosen", func(t *testing.T) {
		svc, _, _ := newTrunkService(t)
		tr, err := svc.CreateTrunk(ctx, provisioning.NewTrunk{Name: "carrier", Host: "203.0.113.5", Port: 5080,
			Transport: switchboard.TransportTCP, Auth: switchboard.AuthIP, Addresses: []string{"203.0.113.0/24"},
			Codecs: []string{"g722", "ulaw"}, CallerID: "+4930123456", SendPAI: true, ChannelLimit: 30})
		if err != nil || tr.Port != 5080 || tr.Transport != switchboard.TransportTCP || tr.Auth != switchboard.AuthIP ||
			strings.Join(tr.Codecs, ",") != "g722,ulaw" || !tr.SendPAI || tr.ChannelLimit != 30 || tr.CallerID != "+4930123456" {
			t.Errorf("created %+v, %v", tr, err)
		}
	})
	t.Run("ErrDuplicateName", func(t *testing.T) {
		svc, _, sync := newTrunkService(t)
		svc.CreateTrunk(ctx, registering())
		if _, err := svc.CreateTrunk(ctx, registering()); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Errorf("second trunk: %v", err)
		}
		if sync.n != 1 {
			t.Errorf("%d syncs after a refused trunk, want 1", sync.n)
		}
	})
	t.Run("ErrInvalidStoresNothing", func(t *testing.T) {
		svc, stores, sync := newTrunkService(t)
		for _, change := range []func(*provisioning.NewTrunk){
			func(nt *provisioning.NewTrunk) { nt.Name = "Bad Name" },
			func(nt *provisioning.NewTrunk) { nt.Host = "sip.example.net\n[evil]" },
			func(nt *provisioning.NewTrunk) { nt.Port = -1 },
			func(nt *provisioning.NewTrunk) { nt.Transport = "tls" },
			func(nt *provisioning.NewTrunk) { nt.Password = "" },
			func(nt *provisioning.NewTrunk) { nt.Auth = switchboard.AuthIP }, // with the account still given
			func(nt *provisioning.NewTrunk) { nt.Codecs = []string{} },       // none at all, not the default
			func(nt *provisioning.NewTrunk) { nt.Addresses = []string{"sip.example.net"} },
			func(nt *provisioning.NewTrunk) { nt.CallerID = "anonymous" },
			func(nt *provisioning.NewTrunk) { nt.ChannelLimit = -1 },
		} {
			nt := registering()
			change(&nt)
			if _, err := svc.CreateTrunk(ctx, nt); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateTrunk(%+v) = %v, want invalid", nt, err)
			}
		}
		if n := len(listed(t, stores.trunks.Trunks)); n != 0 || sync.n != 0 {
			t.Errorf("%d trunks stored, %d syncs after rejected input", n, sync.n)
		}
	})
	t.Run("ErrSyncKeepsTrunk", func(t *testing.T) {
		svc, stores, sync := newTrunkService(t)
		sync.err = switchboard.Errorf(switchboard.EUNAVAILABLE, "asterisk is unreachable")
		tr, err := svc.CreateTrunk(ctx, registering())
		if switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE || !strings.Contains(err.Error(), "trunk sipgate created, but Asterisk is not synced") ||
			tr.Name != "sipgate" {
			t.Errorf("CreateTrunk = %+v, %v", tr, err)
		}
		if _, err := stores.trunks.Trunk(ctx, "sipgate"); err != nil {
			t.Error("the trunk was not stored:", err)
		}
	})
	t.Run("WithoutSync", func(t *testing.T) {
		stores := newTrunkStores()
		svc := &provisioning.TrunkService{Store: stores.Trunks()}
		if _, err := svc.CreateTrunk(ctx, registering()); err != nil {
			t.Error(err)
		}
		if err := svc.DeleteTrunk(ctx, "sipgate"); err != nil {
			t.Error(err)
		}
	})
	t.Run("ListsAreCopied", func(t *testing.T) {
		svc, _, _ := newTrunkService(t)
		nt := registering()
		nt.Addresses, nt.Codecs = []string{"192.0.2.1"}, []string{"alaw"}
		svc.CreateTrunk(ctx, nt)
		nt.Addresses[0], nt.Codecs[0] = "evil", "evil"
		if tr, _ := svc.Trunk(ctx, "sipgate"); tr.Addresses[0] != "192.0.2.1" || tr.Codecs[0] != "alaw" {
			t.Errorf("the stored trunk changed with the caller's slices: %+v", tr)
		}
	})
}

func TestUpdateTrunk(t *testing.T) {
	ctx := context.Background()
	svc, _, sync := newTrunkService(t)
	svc.CreateTrunk(ctx, registering())
	t.Run("OK", func(t *testing.T) {
		host, port, codecs, pai := "sip2.example.net", 5070, []string{"g722"}, true
		tr, err := svc.UpdateTrunk(ctx, "sipgate", provisioning.TrunkPatch{Host: &host, Port: &port, Codecs: &codecs, SendPAI: &pai})
		if err != nil || tr.Host != host || tr.Port != 5070 || strings.Join(tr.Codecs, ",") != "g722" || !tr.SendPAI ||
			tr.Username != "acct" || tr.Password != "s3cret!pass" {
			t.Errorf("UpdateTrunk = %+v, %v", tr, err)
		}
		if sync.n != 2 {
			t.Errorf("%d syncs, want 2", sync.n)
		}
	})
	t.Run("ToIPDropsTheAccount", func(t *testing.T) {
		ip := switchboard.AuthIP
		tr, err := svc.UpdateTrunk(ctx, "sipgate", provisioning.TrunkPatch{Auth: &ip})
		if err != nil || tr.Auth != switchboard.AuthIP || tr.Username != "" || tr.Password != "" {
			t.Errorf("UpdateTrunk = %+v, %v", tr, err)
		}
	})
	t.Run("ErrRegisterNeedsAnAccount", func(t *testing.T) {
		reg := switchboard.AuthRegister
		if _, err := svc.UpdateTrunk(ctx, "sipgate", provisioning.TrunkPatch{Auth: &reg}); switchboard.ErrorCode(err) != switchboard.EINVALID ||
			!strings.Contains(err.Error(), "username must be") {
			t.Errorf("register without an account: %v", err)
		}
		user, pw := "acct2", "n3w-pass-word"
		tr, err := svc.UpdateTrunk(ctx, "sipgate", provisioning.TrunkPatch{Auth: &reg, Username: &user, Password: &pw})
		if err != nil || tr.Auth != reg || tr.Password != pw {
			t.Errorf("register with an account: %+v, %v", tr, err)
		}
	})
	t.Run("ErrInvalidKeepsTrunk", func(t *testing.T) {
		before, _ := svc.Trunk(ctx, "sipgate")
		n := sync.n
		bad, short, none, ip, user := "a;b", "short", []string{}, switchboard.AuthIP, "acct"
		for _, p := range []provisioning.TrunkPatch{
			{Host: &bad},
			{Password: &short},
			{Codecs: &none},
			{Auth: &ip, Username: &user}, // an account for a trunk known by its address
		} {
			if _, err := svc.UpdateTrunk(ctx, "sipgate", p); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("UpdateTrunk(%+v) = %v, want invalid", p, err)
			} else if strings.Contains(err.Error(), short) && p.Password != nil {
				t.Errorf("the message quotes the password: %v", err)
			}
		}
		if after, _ := svc.Trunk(ctx, "sipgate"); !reflect.DeepEqual(after, before) || sync.n != n {
			t.Errorf("refused changes changed %+v to %+v (%d syncs)", before, after, sync.n-n)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		host := "x.example.net"
		if _, err := svc.UpdateTrunk(ctx, "nobody", provisioning.TrunkPatch{Host: &host}); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("unknown trunk: %v", err)
		}
		if _, err := svc.UpdateTrunk(ctx, "No Name", provisioning.TrunkPatch{Host: &host}); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("bad name: %v", err)
		}
	})
}

func TestDeleteTrunk(t *testing.T) {
	ctx := context.Background()
	svc, stores, sync := newTrunkService(t)
	svc.CreateTrunk(ctx, registering())
	routes := &provisioning.RouteService{Store: stores.Routes()}
	for _, name := range []string{"national", "mobile"} {
		if _, err := routes.CreateRoute(ctx, provisioning.NewRoute{Name: name, Patterns: []switchboard.DialPattern{{Match: "0X."}},
			Trunks: []string{"sipgate"}}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("ErrInUse", func(t *testing.T) {
		err := svc.DeleteTrunk(ctx, "sipgate")
		if switchboard.ErrorCode(err) != switchboard.ECONFLICT || switchboard.ErrorMessage(err) != "trunk sipgate is used by routes national, mobile" {
			t.Errorf("DeleteTrunk = %v", err)
		}
		// Without Routes to ask, the store says so itself.
		bare := &provisioning.TrunkService{Store: stores.Trunks()}
		if err := bare.DeleteTrunk(ctx, "sipgate"); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Errorf("DeleteTrunk without Routes = %v", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		routes.DeleteRoute(ctx, "national")
		routes.DeleteRoute(ctx, "mobile")
		n := sync.n
		if err := svc.DeleteTrunk(ctx, "sipgate"); err != nil || sync.n != n+1 {
			t.Errorf("DeleteTrunk = %v, %d syncs", err, sync.n-n)
		}
		if err := svc.DeleteTrunk(ctx, "sipgate"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("second delete: %v", err)
		}
	})
	t.Run("ErrSyncAfterDelete", func(t *testing.T) {
		svc.CreateTrunk(ctx, registering())
		sync.err = errors.New("reload failed")
		defer func() { sync.err = nil }()
		if err := svc.DeleteTrunk(ctx, "sipgate"); err == nil || !strings.Contains(err.Error(), "trunk sipgate deleted, but Asterisk is not synced") {
			t.Errorf("DeleteTrunk = %v", err)
		}
		if _, err := stores.trunks.Trunk(ctx, "sipgate"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Error("the trunk is still stored:", err)
		}
	})
}

func TestTrunkStatus(t *testing.T) {
	svc := &provisioning.TrunkService{}
	if st := svc.TrunkStatus("sipgate"); st.State != switchboard.UnknownState || st.Name != "sipgate" {
		t.Errorf("without Status: %+v", st)
	}
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	svc.Status = statuses{switchboard.TrunkStatus{State: switchboard.Registered, Since: since, Channels: 2}}
	if st := svc.TrunkStatus("sipgate"); st.State != switchboard.Registered || !st.Since.Equal(since) || st.Channels != 2 {
		t.Errorf("with Status: %+v", st)
	}
	svc.Status = statuses{}
	if st := svc.TrunkStatus("sipgate"); st.State != switchboard.UnknownState {
		t.Errorf("a status without a state: %+v", st)
	}
}

func newRouteService(t *testing.T) (*provisioning.RouteService, *trunkStores) {
	t.Helper()
	ctx := context.Background()
	stores := newTrunkStores("1001", "1002")
	trunks := &provisioning.TrunkService{Store: stores.Trunks()}
	for _, name := range []string{"sipgate", "backup"} {
		nt := registering()
		nt.Name = name
		if _, err := trunks.CreateTrunk(ctx, nt); err != nil {
			t.Fatal(err)
		}
	}
	return &provisioning.RouteService{Store: stores.Routes()}, stores
}

func TestCreateRoute(t *testing.T) {
	ctx := context.Background()
	national := func(name string, position int) provisioning.NewRoute {
		return provisioning.NewRoute{Name: name, Position: position,
			Patterns: []switchboard.DialPattern{{Prefix: "9", Match: "0nxxxxxx."}, {Match: "+49z[1-5]x."}},
			Trunks:   []string{"sipgate", "backup"}}
	}
	t.Run("PositionsAfterTheLast", func(t *testing.T) {
		svc, _ := newRouteService(t)
		for _, c := range []struct {
			name          string
			given, placed int
		}{{"first", 0, 10}, {"second", 0, 20}, {"chosen", 15, 15}, {"far", 500, 500}, {"after-far", 0, 510}} {
			r, err := svc.CreateRoute(ctx, national(c.name, c.given))
			if err != nil || r.Position != c.placed {
				t.Errorf("route %s at %d: %+v, %v; want position %d", c.name, c.given, r, err, c.placed)
			}
		}
		all, _ := svc.Routes(ctx)
		var names []string
		for _, r := range all {
			names = append(names, r.Name)
		}
		if strings.Join(names, ",") != "first,chosen,second,far,after-far" {
			t.Errorf("routes in order: %v", names)
		}
	})
	t.Run("PatternsUpperCased", func(t *testing.T) {
		svc, _ := newRouteService(t)
		nr := national("national", 0)
		r, err := svc.CreateRoute(ctx, nr)
		want := []switchboard.DialPattern{{Prefix: "9", Match: "0NXXXXXX."}, {Match: "+49Z[1-5]X."}}
		if err != nil || !reflect.DeepEqual(r.Patterns, want) || !reflect.DeepEqual(r.Users, []string{}) || r.Emergency {
			t.Errorf("created %+v, %v", r, err)
		}
		if nr.Patterns[0].Match != "0nxxxxxx." {
			t.Errorf("the caller's patterns changed: %+v", nr.Patterns)
		}
	})
	t.Run("Emergency", func(t *testing.T) {
		svc, _ := newRouteService(t)
		r, err := svc.CreateRoute(ctx, provisioning.NewRoute{Name: "emergency", Emergency: true,
			Patterns: []switchboard.DialPattern{{Match: "112"}, {Match: "110"}}, Trunks: []string{"sipgate"},
			Users: []string{"1001"}, CallerID: "+4930123456"})
		if err != nil || !r.Emergency || r.CallerID != "+4930123456" || strings.Join(r.Users, ",") != "1001" {
			t.Errorf("created %+v, %v", r, err)
		}
	})
	t.Run("ErrNoPositionLeft", func(t *testing.T) {
		svc, _ := newRouteService(t)
		svc.CreateRoute(ctx, national("last", provisioning.MaxRoutePosition-5))
		if _, err := svc.CreateRoute(ctx, national("after", 0)); switchboard.ErrorCode(err) != switchboard.EINVALID ||
			!strings.Contains(err.Error(), "no position is left") {
			t.Errorf("after the last position: %v", err)
		}
	})
	t.Run("ErrMissingTrunkOrUser", func(t *testing.T) {
		svc, stores := newRouteService(t)
		nr := national("national", 0)
		nr.Trunks = []string{"sipgate", "ghost"}
		if _, err := svc.CreateRoute(ctx, nr); switchboard.ErrorCode(err) != switchboard.EINVALID || !strings.Contains(err.Error(), "trunk ghost") {
			t.Errorf("missing trunk: %v", err)
		}
		nr = national("national", 0)
		nr.Users = []string{"1001", "1999"}
		if _, err := svc.CreateRoute(ctx, nr); switchboard.ErrorCode(err) != switchboard.EINVALID || !strings.Contains(err.Error(), "user 1999") {
			t.Errorf("missing user: %v", err)
		}
		if routes := listed(t, stores.routes.Routes); len(routes) != 0 {
			t.Errorf("routes stored: %+v", routes)
		}
	})
	t.Run("ErrInvalidStoresNothing", func(t *testing.T) {
		svc, stores := newRouteService(t)
		for _, change := range []func(*provisioning.NewRoute){
			func(nr *provisioning.NewRoute) { nr.Name = "" },
			func(nr *provisioning.NewRoute) { nr.Position = -10 },
			func(nr *provisioning.NewRoute) { nr.Patterns = nil },
			func(nr *provisioning.NewRoute) { nr.Patterns = []switchboard.DialPattern{{Match: "0X;evil"}} },
			// Upper-cased, these two are one pattern.
			func(nr *provisioning.NewRoute) {
				nr.Patterns = []switchboard.DialPattern{{Match: "0x."}, {Match: "0X."}}
			},
			func(nr *provisioning.NewRoute) { nr.Trunks = nil },
			func(nr *provisioning.NewRoute) { nr.Trunks = []string{"sipgate", "sipgate"} },
			func(nr *provisioning.NewRoute) { nr.Users = []string{"1001;x"} },
			func(nr *provisioning.NewRoute) { nr.CallerID = "12 34" },
		} {
			nr := national("national", 0)
			change(&nr)
			if _, err := svc.CreateRoute(ctx, nr); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateRoute(%+v) = %v, want invalid", nr, err)
			}
		}
		if routes := listed(t, stores.routes.Routes); len(routes) != 0 {
			t.Errorf("routes stored: %+v", routes)
		}
	})
	t.Run("ErrDuplicateName", func(t *testing.T) {
		svc, _ := newRouteService(t)
		svc.CreateRoute(ctx, national("national", 0))
		if _, err := svc.CreateRoute(ctx, national("national", 0)); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Errorf("second route: %v", err)
		}
	})
}

func TestUpdateRoute(t *testing.T) {
	ctx := context.Background()
	svc, _ := newRouteService(t)
	svc.CreateRoute(ctx, provisioning.NewRoute{Name: "national", Patterns: []switchboard.DialPattern{{Match: "0X."}},
		Trunks: []string{"sipgate"}, Users: []string{"1001"}})
	t.Run("OK", func(t *testing.T) {
		position, patterns, trunks, users, emergency := 0, []switchboard.DialPattern{{Prefix: "9", Match: "00z."}}, []string{"backup", "sipgate"}, []string{}, true
		r, err := svc.UpdateRoute(ctx, "national", provisioning.RoutePatch{Position: &position, Patterns: &patterns,
			Trunks: &trunks, Users: &users, Emergency: &emergency})
		if err != nil || r.Position != 0 || r.Patterns[0].Match != "00Z." || strings.Join(r.Trunks, ",") != "backup,sipgate" ||
			len(r.Users) != 0 || !r.Emergency {
			t.Errorf("UpdateRoute = %+v, %v", r, err)
		}
	})
	t.Run("ErrInvalidKeepsRoute", func(t *testing.T) {
		before, _ := svc.Route(ctx, "national")
		none, ghost, far, bad := []string{}, []string{"ghost"}, provisioning.MaxRoutePosition+1, "x"
		for _, p := range []provisioning.RoutePatch{{Trunks: &none}, {Trunks: &ghost}, {Position: &far}, {CallerID: &bad}} {
			if _, err := svc.UpdateRoute(ctx, "national", p); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("UpdateRoute(%+v) = %v, want invalid", p, err)
			}
		}
		if after, _ := svc.Route(ctx, "national"); !reflect.DeepEqual(after, before) {
			t.Errorf("refused changes changed %+v to %+v", before, after)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := svc.DeleteRoute(ctx, "national"); err != nil {
			t.Error(err)
		}
		if _, err := svc.Route(ctx, "national"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("after delete: %v", err)
		}
		if err := svc.DeleteRoute(ctx, "Bad"); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("bad name: %v", err)
		}
	})
}

func newInboundService(t *testing.T) (*provisioning.InboundNumberService, *trunkStores) {
	t.Helper()
	stores := newTrunkStores("1001")
	if _, err := (&provisioning.TrunkService{Store: stores.Trunks()}).CreateTrunk(context.Background(), registering()); err != nil {
		t.Fatal(err)
	}
	return &provisioning.InboundNumberService{Store: stores.DIDs(),
		Numbers: plan{"1001": "user", "600": "group", "700": "queue", "800": "room"}}, stores
}

func TestInboundNumbers(t *testing.T) {
	ctx := context.Background()
	to := func(kind switchboard.GroupDestinationKind, number string) switchboard.GroupDestination {
		return switchboard.GroupDestination{Kind: kind, Number: number}
	}
	t.Run("Create", func(t *testing.T) {
		svc, _ := newInboundService(t)
		for _, nn := range []provisioning.NewInboundNumber{
			{Number: "+4930123456", Name: "Main line", Trunk: "sipgate", Destination: to(switchboard.DestinationNumber, "600")},
			{Number: "+4930123457", Destination: to(switchboard.DestinationNumber, "800")},
			{Number: "+4930123458", Destination: to(switchboard.DestinationVoicemail, "1001")},
			{Number: "+4930123459", Destination: to(switchboard.DestinationVoicemail, "700")}, // the queue's own mailbox
			{Number: "030123450", Destination: to(switchboard.DestinationHangup, "")},
		} {
			n, err := svc.CreateInboundNumber(ctx, nn)
			if err != nil || n.Number != nn.Number || n.Name != nn.Name || n.Trunk != nn.Trunk || n.Destination != nn.Destination || n.CreatedAt.IsZero() {
				t.Errorf("CreateInboundNumber(%+v) = %+v, %v", nn, n, err)
			}
		}
		all, _ := svc.InboundNumbers(ctx)
		if len(all) != 5 || all[0].Number != "+4930123456" {
			t.Errorf("listed %+v", all)
		}
	})
	t.Run("ErrDestinationNobodys", func(t *testing.T) {
		svc, stores := newInboundService(t)
		for _, c := range []struct {
			d   switchboard.GroupDestination
			msg string
		}{
			{to(switchboard.DestinationNumber, "1234"), "destination: number 1234 is nobody's"},
			{to(switchboard.DestinationVoicemail, "1234"), "destination: number 1234 is nobody's"},
			{to(switchboard.DestinationVoicemail, "800"), "destination: number 800 is a conference room, which has no mailbox"},
		} {
			_, err := svc.CreateInboundNumber(ctx, provisioning.NewInboundNumber{Number: "+4930123456", Destination: c.d})
			if switchboard.ErrorCode(err) != switchboard.EINVALID || switchboard.ErrorMessage(err) != c.msg {
				t.Errorf("destination %+v: %v, want %q", c.d, err, c.msg)
			}
		}
		if dids := listed(t, stores.dids.InboundNumbers); len(dids) != 0 {
			t.Errorf("stored %+v", dids)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		svc, stores := newInboundService(t)
		for _, nn := range []provisioning.NewInboundNumber{
			{Number: "+49 30", Destination: to(switchboard.DestinationHangup, "")},
			{Number: "+4930123456", Name: "a;b", Destination: to(switchboard.DestinationHangup, "")},
			{Number: "+4930123456", Trunk: "ghost", Destination: to(switchboard.DestinationHangup, "")}, // the store's word
			{Number: "+4930123456", Trunk: "Bad Trunk", Destination: to(switchboard.DestinationHangup, "")},
			{Number: "+4930123456"}, // no destination
			{Number: "+4930123456", Destination: to(switchboard.DestinationHangup, "1001")},
		} {
			if _, err := svc.CreateInboundNumber(ctx, nn); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateInboundNumber(%+v) = %v, want invalid", nn, err)
			}
		}
		if dids := listed(t, stores.dids.InboundNumbers); len(dids) != 0 {
			t.Errorf("stored %+v", dids)
		}
	})
	t.Run("Update", func(t *testing.T) {
		svc, _ := newInboundService(t)
		svc.CreateInboundNumber(ctx, provisioning.NewInboundNumber{Number: "+4930123456", Name: "Main", Destination: to(switchboard.DestinationNumber, "600")})
		name, trunk, d := "Support", "sipgate", to(switchboard.DestinationNumber, "700")
		n, err := svc.UpdateInboundNumber(ctx, "+4930123456", provisioning.InboundNumberPatch{Name: &name, Trunk: &trunk, Destination: &d})
		if err != nil || n.Name != name || n.Trunk != trunk || n.Destination != d {
			t.Errorf("UpdateInboundNumber = %+v, %v", n, err)
		}
		before := n
		nobody, ghost, bad := to(switchboard.DestinationNumber, "4321"), "ghost", "x\ny"
		for _, p := range []provisioning.InboundNumberPatch{{Destination: &nobody}, {Trunk: &ghost}, {Name: &bad}} {
			if _, err := svc.UpdateInboundNumber(ctx, "+4930123456", p); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("UpdateInboundNumber(%+v) = %v, want invalid", p, err)
			}
		}
		if after, _ := svc.InboundNumber(ctx, "+4930123456"); !reflect.DeepEqual(after, before) {
			t.Errorf("refused changes changed %+v to %+v", before, after)
		}
		if err := svc.DeleteInboundNumber(ctx, "+4930123456"); err != nil {
			t.Error(err)
		}
		if _, err := svc.InboundNumber(ctx, "+4930123456"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("after delete: %v", err)
		}
	})
	t.Run("WithoutNumbers", func(t *testing.T) {
		stores := newTrunkStores()
		svc := &provisioning.InboundNumberService{Store: stores.DIDs()}
		if _, err := svc.CreateInboundNumber(ctx, provisioning.NewInboundNumber{Number: "12", Destination: to(switchboard.DestinationNumber, "1234")}); err != nil {
			t.Errorf("without a plan to ask: %v", err)
		}
	})
}

// A user's outbound caller ID is validated as a trunk's.
func TestUserOutboundCallerID(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newService()
	u, _, err := svc.CreateUser(ctx, provisioning.NewUser{Extension: "1001", Name: "Alice", OutboundCallerID: "+4930123401"})
	if err != nil || u.OutboundCallerID != "+4930123401" {
		t.Fatalf("CreateUser = %+v, %v", u, err)
	}
	if _, _, err := svc.CreateUser(ctx, provisioning.NewUser{Extension: "1002", Name: "Bob", OutboundCallerID: "12;34"}); switchboard.ErrorCode(err) != switchboard.EINVALID ||
		!strings.Contains(err.Error(), "outbound_caller_id") {
		t.Errorf("bad caller ID: %v", err)
	}
	none, bad := "", "anonymous"
	if _, err := svc.UpdateUser(ctx, "1001", provisioning.UserPatch{OutboundCallerID: &bad}); switchboard.ErrorCode(err) != switchboard.EINVALID {
		t.Errorf("bad caller ID patch: %v", err)
	}
	if u, err := svc.UpdateUser(ctx, "1001", provisioning.UserPatch{OutboundCallerID: &none}); err != nil || u.OutboundCallerID != "" {
		t.Errorf("removing the caller ID: %+v, %v", u, err)
	}
}
