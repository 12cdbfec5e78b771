//go:build integration

package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/postgres"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// trunkPassword is the password of trunk(); no error may ever contain it.
const trunkPassword = "s3cret-Pass!word"

func trunk(name string) switchboard.Trunk {
	return switchboard.Trunk{Name: name, Host: "sip.example.com", Port: switchboard.DefaultTrunkPort,
		Transport: switchboard.TransportUDP, Auth: switchboard.AuthRegister, Username: "acct-" + name,
		Password: trunkPassword, Codecs: []string{"ulaw", "alaw"}}
}

func route(name string, position int, trunks ...string) switchboard.OutboundRoute {
	return switchboard.OutboundRoute{Name: name, Position: position, Trunks: trunks,
		Patterns: []switchboard.DialPattern{{Prefix: "0", Match: "NXXXXX."}}}
}

func did(number, trunk string) switchboard.InboundNumber {
	return switchboard.InboundNumber{Number: number, Name: "Line " + number, Trunk: trunk,
		Destination: switchboard.GroupDestination{Kind: switchboard.DestinationHangup}}
}

// mustCreateTrunks creates trunks with the given names.
func mustCreateTrunks(tb testing.TB, trunks *postgres.TrunkStore, names ...string) {
	tb.Helper()
	for _, name := range names {
		if _, err := trunks.CreateTrunk(context.Background(), trunk(name)); err != nil {
			tb.Fatal(err)
		}
	}
}

// mustConnect opens a connection of its own to the test's database, to go behind the stores.
func mustConnect(tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// isError reports whether err has the code and message.
func isError(err error, code, msg string) bool {
	return switchboard.ErrorCode(err) == code && switchboard.ErrorMessage(err) == msg
}

func TestTrunkStore(t *testing.T) {
	ctx := context.Background()
	dsn := testbed.NewDatabase(t)
	db := MustOpenDB(t, dsn)
	store := &postgres.TrunkStore{DB: db}

	t.Run("CreateAndGet", func(t *testing.T) {
		want := trunk("carrier-1")
		want.Port, want.Transport = 5080, switchboard.TransportTCP
		want.Addresses = []string{"192.0.2.0/24", "198.51.100.7"}
		want.Codecs = []string{"g722", "alaw", "ulaw", "gsm"} // preference order, not alphabetical
		want.CallerID, want.SendPAI, want.ChannelLimit = "+4930123456", true, 30
		created, err := store.CreateTrunk(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		if created.CreatedAt.IsZero() || created.UpdatedAt.IsZero() {
			t.Error("timestamps not set")
		}
		got, err := store.Trunk(ctx, "carrier-1")
		if err != nil {
			t.Fatal(err)
		}
		got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Trunk = %+v, want %+v", got, want)
		}
		// A trunk that knows us by our address has no account, and no addresses is none.
		ip := switchboard.Trunk{Name: "ip-trunk", Host: "203.0.113.9", Port: 5060, Transport: switchboard.TransportUDP,
			Auth: switchboard.AuthIP, Codecs: []string{"ulaw"}}
		if _, err := store.CreateTrunk(ctx, ip); err != nil {
			t.Fatal(err)
		}
		got, err = store.Trunk(ctx, "ip-trunk")
		got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
		if err != nil || !reflect.DeepEqual(got, ip) {
			t.Errorf("Trunk = %+v, %v; want %+v", got, err, ip)
		}
	})
	t.Run("ErrDuplicateName", func(t *testing.T) {
		_, err := store.CreateTrunk(ctx, trunk("carrier-1"))
		if !isError(err, switchboard.ECONFLICT, "trunk carrier-1 already exists") {
			t.Errorf("duplicate: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := store.Trunk(ctx, "nope"); !isError(err, switchboard.ENOTFOUND, "no trunk named nope") {
			t.Errorf("Trunk(nope): %v", err)
		}
		if err := store.DeleteTrunk(ctx, "nope"); !isError(err, switchboard.ENOTFOUND, "no trunk named nope") {
			t.Errorf("DeleteTrunk(nope): %v", err)
		}
		_, err := store.UpdateTrunk(ctx, "nope", func(*switchboard.Trunk) error { return nil })
		if !isError(err, switchboard.ENOTFOUND, "no trunk named nope") {
			t.Errorf("UpdateTrunk(nope): %v", err)
		}
	})
	t.Run("DatabaseRejectsWhatValidationWould", func(t *testing.T) {
		// Defence in depth: a caller that skipped validation still cannot store a trunk that
		// would render into broken (or extra) Asterisk configuration.
		for _, change := range []func(*switchboard.Trunk){
			func(tr *switchboard.Trunk) { tr.Name = "" },
			func(tr *switchboard.Trunk) { tr.Name = "Upper" },
			func(tr *switchboard.Trunk) { tr.Name = "-first" },
			func(tr *switchboard.Trunk) { tr.Name = strings.Repeat("a", 33) },
			func(tr *switchboard.Trunk) { tr.Host = "" },
			func(tr *switchboard.Trunk) { tr.Host = "sip.example.com;transport=tcp" },
			func(tr *switchboard.Trunk) { tr.Host = "sip.example.com\n[evil]" },
			func(tr *switchboard.Trunk) { tr.Host = "sip.example.com." }, // not last
			func(tr *switchboard.Trunk) { tr.Host = "sip-" },
			func(tr *switchboard.Trunk) { tr.Host = "2001:db8::1" }, // no IPv6 for now
			func(tr *switchboard.Trunk) { tr.Host = strings.Repeat("a", 254) },
			func(tr *switchboard.Trunk) { tr.Port = 0 },
			func(tr *switchboard.Trunk) { tr.Port = 65536 },
			func(tr *switchboard.Trunk) { tr.Transport = "tls" },
			func(tr *switchboard.Trunk) { tr.Auth = "" },
			func(tr *switchboard.Trunk) { tr.Username = "" }, // registering needs an account
			func(tr *switchboard.Trunk) { tr.Username = "a b" },
			func(tr *switchboard.Trunk) { tr.Password = "short" },
			func(tr *switchboard.Trunk) { tr.Password = trunkPassword + ";x" },
			func(tr *switchboard.Trunk) { tr.Password = trunkPassword + "\n" },
			func(tr *switchboard.Trunk) { tr.Auth = switchboard.AuthIP }, // keeps an account it never uses
			func(tr *switchboard.Trunk) { tr.Addresses = []string{"10.0.0.1", "10.0.0.1"} },
			func(tr *switchboard.Trunk) { tr.Addresses = []string{"10.0.0.256"} },
			func(tr *switchboard.Trunk) { tr.Addresses = []string{"10.0.0.0/33"} },
			func(tr *switchboard.Trunk) { tr.Addresses = []string{"010.0.0.1"} }, // netip refuses it too
			func(tr *switchboard.Trunk) { tr.Addresses = []string{"example.com"} },
			func(tr *switchboard.Trunk) { tr.Addresses = []string{"2001:db8::/32"} },
			func(tr *switchboard.Trunk) {
				for i := range 17 {
					tr.Addresses = append(tr.Addresses, fmt.Sprintf("10.0.0.%d", i))
				}
			},
			func(tr *switchboard.Trunk) { tr.Codecs = nil },
			func(tr *switchboard.Trunk) { tr.Codecs = []string{"opus"} },
			func(tr *switchboard.Trunk) { tr.Codecs = []string{"ulaw", "ulaw"} },
			func(tr *switchboard.Trunk) { tr.Codecs = []string{"ulaw", "alaw", "g722", "gsm", "ulaw"} },
			func(tr *switchboard.Trunk) { tr.CallerID = "1" },
			func(tr *switchboard.Trunk) { tr.CallerID = "+49 30 123" },
			func(tr *switchboard.Trunk) { tr.ChannelLimit = -1 },
			func(tr *switchboard.Trunk) { tr.ChannelLimit = switchboard.MaxTrunkChannels + 1 },
		} {
			tr := trunk("bad")
			change(&tr)
			_, err := store.CreateTrunk(ctx, tr)
			if switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateTrunk(%+v): %v, want invalid", tr, err)
			}
			if err != nil && strings.Contains(err.Error(), trunkPassword) {
				t.Errorf("the error tells the password: %v", err)
			}
		}
		if all, _ := store.Trunks(ctx); len(all) != 2 {
			t.Errorf("a rejected trunk was stored: %+v", all)
		}
	})
	t.Run("CheckRejectsBehindTheStore", func(t *testing.T) {
		conn := mustConnect(t, dsn)
		for _, stmt := range []string{
			`INSERT INTO trunks (name, host, auth) VALUES ('evil', 'sip.example.com;transport=tcp', 'ip')`,
			`UPDATE trunks SET host = 'a;b' WHERE name = 'ip-trunk'`,
			`UPDATE trunks SET codecs = '{ulaw,NULL}' WHERE name = 'ip-trunk'`,
			`UPDATE trunks SET addresses = '{NULL}' WHERE name = 'ip-trunk'`,
			`UPDATE trunks SET password = 'secret-but-ip' WHERE name = 'ip-trunk'`,
		} {
			if _, err := conn.Exec(ctx, stmt); err == nil {
				t.Errorf("%s: done, want refused", stmt)
			}
		}
		if tr, _ := store.Trunk(ctx, "ip-trunk"); tr.Host != "203.0.113.9" || tr.Password != "" {
			t.Errorf("a refused change was stored: %+v", tr)
		}
	})
	t.Run("Update", func(t *testing.T) {
		before, _ := store.Trunk(ctx, "carrier-1")
		tr, err := store.UpdateTrunk(ctx, "carrier-1", func(tr *switchboard.Trunk) error {
			if tr.Password != trunkPassword {
				t.Errorf("change sees password %q", tr.Password)
			}
			tr.Host, tr.Addresses, tr.Codecs, tr.ChannelLimit = "10.1.2.3", nil, []string{"alaw"}, 0
			return nil
		})
		if err != nil || tr.Host != "10.1.2.3" || tr.Addresses != nil || fmt.Sprint(tr.Codecs) != "[alaw]" ||
			tr.ChannelLimit != 0 || tr.Password != trunkPassword || !tr.UpdatedAt.After(before.UpdatedAt) {
			t.Errorf("UpdateTrunk = %+v, %v", tr, err)
		}
		// An error from the change function aborts the transaction and comes back unchanged.
		_, err = store.UpdateTrunk(ctx, "carrier-1", func(tr *switchboard.Trunk) error {
			tr.Host = "changed.example.com"
			return switchboard.Errorf(switchboard.EINVALID, "no")
		})
		if !isError(err, switchboard.EINVALID, "no") {
			t.Errorf("change error: %v", err)
		}
		// The name is the key (and names Asterisk's objects): it cannot change.
		_, err = store.UpdateTrunk(ctx, "carrier-1", func(tr *switchboard.Trunk) error {
			tr.Name, tr.Host = "carrier-2", "changed.example.com"
			return nil
		})
		if !isError(err, switchboard.EINVALID, "the name of trunk carrier-1 cannot change") {
			t.Errorf("renaming: %v", err)
		}
		// A change the database refuses leaves the trunk as it was.
		_, err = store.UpdateTrunk(ctx, "carrier-1", func(tr *switchboard.Trunk) error {
			tr.Host, tr.Password = "changed.example.com", "bad"
			return nil
		})
		if switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("bad password: %v", err)
		}
		if tr, _ := store.Trunk(ctx, "carrier-1"); tr.Host != "10.1.2.3" {
			t.Errorf("aborted updates stored %+v", tr)
		}
		if _, err := store.Trunk(ctx, "carrier-2"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("an update renamed the trunk: %v", err)
		}
	})
	t.Run("InNameOrder", func(t *testing.T) {
		mustCreateTrunks(t, store, "b", "a-2", "a", "a2", "0")
		trunks, err := store.Trunks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tr := range trunks {
			got = append(got, tr.Name)
		}
		if want := "[0 a a-2 a2 b carrier-1 ip-trunk]"; fmt.Sprint(got) != want {
			t.Errorf("Trunks = %v, want %s", got, want)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := store.DeleteTrunk(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Trunk(ctx, "b"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("deleted trunk still there: %v", err)
		}
	})
}

// A trunk is not deleted while a route uses it or an inbound number is received on it only; the
// conflict names what keeps it, and it goes once nothing does.
func TestTrunkInUse(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, testbed.NewDatabase(t))
	trunks, routes, numbers := &postgres.TrunkStore{DB: db}, &postgres.RouteStore{DB: db}, &postgres.InboundNumberStore{DB: db}
	mustCreateTrunks(t, trunks, "primary", "backup", "inbound")
	for _, r := range []switchboard.OutboundRoute{route("national", 10, "primary", "backup"), route("mobile", 20, "backup")} {
		if _, err := routes.CreateRoute(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := numbers.CreateInboundNumber(ctx, did("+4930123456", "inbound")); err != nil {
		t.Fatal(err)
	}

	t.Run("ErrUsedByARoute", func(t *testing.T) {
		if err := trunks.DeleteTrunk(ctx, "primary"); !isError(err, switchboard.ECONFLICT, "trunk primary is used by route national") {
			t.Errorf("DeleteTrunk(primary): %v", err)
		}
		// Of several routes, the first by name.
		if err := trunks.DeleteTrunk(ctx, "backup"); !isError(err, switchboard.ECONFLICT, "trunk backup is used by route mobile") {
			t.Errorf("DeleteTrunk(backup): %v", err)
		}
	})
	t.Run("ErrReceivesAnInboundNumber", func(t *testing.T) {
		err := trunks.DeleteTrunk(ctx, "inbound")
		if !isError(err, switchboard.ECONFLICT, "trunk inbound receives inbound number +4930123456") {
			t.Errorf("DeleteTrunk(inbound): %v", err)
		}
	})
	t.Run("NothingWasDeleted", func(t *testing.T) {
		if all, _ := trunks.Trunks(ctx); len(all) != 3 {
			t.Errorf("trunks %+v", all)
		}
		if r, _ := routes.Route(ctx, "national"); fmt.Sprint(r.Trunks) != "[primary backup]" {
			t.Errorf("route national: %+v", r)
		}
	})
	t.Run("DeletedOnceFree", func(t *testing.T) {
		if _, err := routes.UpdateRoute(ctx, "national", func(r *switchboard.OutboundRoute) error {
			r.Trunks = []string{"backup"}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := trunks.DeleteTrunk(ctx, "primary"); err != nil {
			t.Errorf("DeleteTrunk(primary) after the route left it: %v", err)
		}
		if _, err := numbers.UpdateInboundNumber(ctx, "+4930123456", func(n *switchboard.InboundNumber) error {
			n.Trunk = ""
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := trunks.DeleteTrunk(ctx, "inbound"); err != nil {
			t.Errorf("DeleteTrunk(inbound) after the number left it: %v", err)
		}
		if err := routes.DeleteRoute(ctx, "national"); err != nil {
			t.Fatal(err)
		}
		if err := routes.DeleteRoute(ctx, "mobile"); err != nil {
			t.Fatal(err)
		}
		if err := trunks.DeleteTrunk(ctx, "backup"); err != nil {
			t.Errorf("DeleteTrunk(backup) after its routes went: %v", err)
		}
	})
}

func TestRouteStore(t *testing.T) {
	ctx := context.Background()
	dsn := testbed.NewDatabase(t)
	db := MustOpenDB(t, dsn)
	users, trunks, store := &postgres.UserStore{DB: db}, &postgres.TrunkStore{DB: db}, &postgres.RouteStore{DB: db}
	mustCreateUsers(t, users, "1001", "1002", "1003", "201")
	mustCreateTrunks(t, trunks, "a", "b", "c")

	t.Run("CreateAndGet", func(t *testing.T) {
		want := switchboard.OutboundRoute{Name: "national", Position: 30, CallerID: "+4930123456",
			Patterns: []switchboard.DialPattern{ // in order, as given
				{Prefix: "9", Match: "0[1-9]XXXXX."},
				{Prefix: "", Match: "+49X.", Prepend: "00"},
				{Prefix: "*#", Match: "NZX", Prepend: "+1"},
			},
			Trunks: []string{"c", "a", "b"},         // failover order, not by name
			Users:  []string{"201", "1001", "1003"}, // read in the order of extensions
		}
		created, err := store.CreateRoute(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		if created.CreatedAt.IsZero() || created.UpdatedAt.IsZero() {
			t.Error("timestamps not set")
		}
		got, err := store.Route(ctx, "national")
		if err != nil {
			t.Fatal(err)
		}
		got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Route = %+v, want %+v", got, want)
		}
		// An emergency route for everyone.
		want = switchboard.OutboundRoute{Name: "emergency", Position: 1, Emergency: true,
			Patterns: []switchboard.DialPattern{{Match: "112"}, {Match: "110"}}, Trunks: []string{"a"}}
		if _, err := store.CreateRoute(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err = store.Route(ctx, "emergency")
		got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Route = %+v, %v; want %+v", got, err, want)
		}
	})
	t.Run("PositionZeroGoesLast", func(t *testing.T) {
		r, err := store.CreateRoute(ctx, route("after", 0, "a"))
		if err != nil || r.Position != 40 {
			t.Errorf("CreateRoute(position 0) = %+v, %v; want position 40", r, err)
		}
		r, err = store.CreateRoute(ctx, route("after-that", 0, "a"))
		if err != nil || r.Position != 50 {
			t.Errorf("CreateRoute(position 0) = %+v, %v; want position 50", r, err)
		}
	})
	t.Run("ErrDuplicateName", func(t *testing.T) {
		_, err := store.CreateRoute(ctx, route("national", 5, "a"))
		if !isError(err, switchboard.ECONFLICT, "route national already exists") {
			t.Errorf("duplicate: %v", err)
		}
	})
	t.Run("ErrMissingOrRepeated", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			change func(*switchboard.OutboundRoute)
			msg    string
		}{
			{"ErrTrunkMissing", func(r *switchboard.OutboundRoute) { r.Trunks = []string{"a", "nope", "b"} },
				"trunk nope does not exist"},
			{"ErrTrunkTwice", func(r *switchboard.OutboundRoute) { r.Trunks = []string{"a", "b", "a"} },
				"trunk a is listed twice"},
			{"ErrUserMissing", func(r *switchboard.OutboundRoute) { r.Users = []string{"1001", "1999"} },
				"user 1999 does not exist"},
			{"ErrUserTwice", func(r *switchboard.OutboundRoute) { r.Users = []string{"1001", "1002", "1001"} },
				"user 1001 is listed twice"},
			{"ErrPatternTwice", func(r *switchboard.OutboundRoute) {
				r.Patterns = append(r.Patterns, switchboard.DialPattern{Prefix: "0", Match: "NXXXXX.", Prepend: "49"})
			}, "pattern 0 + NXXXXX. is listed twice"},
			{"ErrPatternWithoutPrefixTwice", func(r *switchboard.OutboundRoute) {
				r.Patterns = []switchboard.DialPattern{{Match: "112"}, {Match: "112", Prepend: "0"}}
			}, "pattern 112 is listed twice"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := route("refused", 5, "a")
				tt.change(&r)
				if _, err := store.CreateRoute(ctx, r); !isError(err, switchboard.EINVALID, tt.msg) {
					t.Errorf("CreateRoute: %v, want invalid %q", err, tt.msg)
				}
				// Nothing of the route is left.
				if _, err := store.Route(ctx, "refused"); !isError(err, switchboard.ENOTFOUND, "no route named refused") {
					t.Errorf("the route was stored: %v", err)
				}
				// The same in an update, which leaves the route as it was.
				before, _ := store.Route(ctx, "after")
				_, err := store.UpdateRoute(ctx, "after", func(r *switchboard.OutboundRoute) error {
					r.CallerID = "0301234"
					tt.change(r)
					return nil
				})
				if !isError(err, switchboard.EINVALID, tt.msg) {
					t.Errorf("UpdateRoute: %v, want invalid %q", err, tt.msg)
				}
				if got, _ := store.Route(ctx, "after"); !reflect.DeepEqual(got, before) {
					t.Errorf("an aborted update stored %+v", got)
				}
			})
		}
	})
	t.Run("DatabaseRejectsWhatValidationWould", func(t *testing.T) {
		for _, change := range []func(*switchboard.OutboundRoute){
			func(r *switchboard.OutboundRoute) { r.Name = "Bad" },
			func(r *switchboard.OutboundRoute) { r.Name = "" },
			func(r *switchboard.OutboundRoute) { r.Position = -1 },
			func(r *switchboard.OutboundRoute) { r.Position = 100001 },
			func(r *switchboard.OutboundRoute) { r.CallerID = "49;30" },
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Prefix = "9a" },
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Prefix = "123456789" },
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Match = "nxxxx" }, // upper-cased by validation, not here
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Match = "" },
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Match = "." },
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Match = "X.X" },
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Match = "0[a-z]X" },
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Match = "0[]X" },
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Match = "0X!" },
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Match = "0X,n" },
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Match = strings.Repeat("X", 33) },
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Prepend = "+" + strings.Repeat("0", 9) },
			func(r *switchboard.OutboundRoute) { r.Patterns[0].Prepend = "0)" },
		} {
			r := route("bad", 5, "a")
			change(&r)
			if _, err := store.CreateRoute(ctx, r); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateRoute(%+v): %v, want invalid", r, err)
			}
		}
		if all, _ := store.Routes(ctx); len(all) != 4 {
			t.Errorf("a rejected route was stored: %+v", all)
		}
		conn := mustConnect(t, dsn)
		if _, err := conn.Exec(ctx, `INSERT INTO route_patterns (route_name, position, prefix, match, prepend)
			VALUES ('national', 9, '', '1X;dial', '')`); err == nil {
			t.Error("a pattern with ';' behind the store: stored, want refused")
		}
	})
	t.Run("InOrderTheyAreTried", func(t *testing.T) {
		for _, r := range []switchboard.OutboundRoute{route("b-same", 30, "b"), route("a-same", 30, "b")} {
			if _, err := store.CreateRoute(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		routes, err := store.Routes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range routes {
			got = append(got, fmt.Sprint(r.Name, ":", r.Position))
		}
		if want := "[emergency:1 a-same:30 b-same:30 national:30 after:40 after-that:50]"; fmt.Sprint(got) != want {
			t.Errorf("Routes = %v, want %s", got, want)
		}
	})
	t.Run("Update", func(t *testing.T) {
		before, _ := store.Route(ctx, "national")
		r, err := store.UpdateRoute(ctx, "national", func(r *switchboard.OutboundRoute) error {
			r.Position, r.Emergency, r.CallerID = 0, true, ""
			r.Patterns = []switchboard.DialPattern{{Prefix: "0", Match: "Z."}}
			r.Trunks, r.Users = []string{"b", "c"}, nil
			return nil
		})
		want := switchboard.OutboundRoute{Name: "national", Position: 0, Emergency: true,
			Patterns: []switchboard.DialPattern{{Prefix: "0", Match: "Z."}}, Trunks: []string{"b", "c"},
			CreatedAt: before.CreatedAt, UpdatedAt: r.UpdatedAt}
		if err != nil || !reflect.DeepEqual(r, want) || !r.UpdatedAt.After(before.UpdatedAt) {
			t.Errorf("UpdateRoute = %+v, %v; want %+v", r, err, want)
		}
		// A change of the patterns alone leaves trunks and users as they are.
		r, err = store.UpdateRoute(ctx, "national", func(r *switchboard.OutboundRoute) error {
			r.Users = []string{"1002"}
			return nil
		})
		if err != nil || fmt.Sprint(r.Trunks, r.Users, len(r.Patterns)) != "[b c] [1002] 1" {
			t.Errorf("UpdateRoute(users) = %+v, %v", r, err)
		}
		// An error from the change function aborts the transaction and comes back unchanged.
		_, err = store.UpdateRoute(ctx, "national", func(r *switchboard.OutboundRoute) error {
			r.Trunks = []string{"a"}
			return switchboard.Errorf(switchboard.EINVALID, "no")
		})
		if !isError(err, switchboard.EINVALID, "no") {
			t.Errorf("change error: %v", err)
		}
		_, err = store.UpdateRoute(ctx, "national", func(r *switchboard.OutboundRoute) error {
			r.Name, r.Trunks = "international", []string{"a"}
			return nil
		})
		if !isError(err, switchboard.EINVALID, "the name of route national cannot change") {
			t.Errorf("renaming: %v", err)
		}
		if r, _ := store.Route(ctx, "national"); fmt.Sprint(r.Trunks) != "[b c]" {
			t.Errorf("aborted updates stored %+v", r)
		}
		if _, err := store.Route(ctx, "international"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("an update renamed the route: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := store.Route(ctx, "nope"); !isError(err, switchboard.ENOTFOUND, "no route named nope") {
			t.Errorf("Route(nope): %v", err)
		}
		if err := store.DeleteRoute(ctx, "nope"); !isError(err, switchboard.ENOTFOUND, "no route named nope") {
			t.Errorf("DeleteRoute(nope): %v", err)
		}
		_, err := store.UpdateRoute(ctx, "nope", func(*switchboard.OutboundRoute) error { return nil })
		if !isError(err, switchboard.ENOTFOUND, "no route named nope") {
			t.Errorf("UpdateRoute(nope): %v", err)
		}
	})
	t.Run("DeletingAUserDropsThemFromEveryRoute", func(t *testing.T) {
		for _, name := range []string{"national", "after"} {
			if _, err := store.UpdateRoute(ctx, name, func(r *switchboard.OutboundRoute) error {
				r.Users = []string{"1001", "1002"}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := users.DeleteUser(ctx, "1002"); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"national", "after"} {
			if r, _ := store.Route(ctx, name); fmt.Sprint(r.Users) != "[1001]" {
				t.Errorf("users of %s after the user was deleted: %v", name, r.Users)
			}
		}
		// A re-created user is a new user: they are on no route's list until put there.
		mustCreateUsers(t, users, "1002")
		if r, _ := store.Route(ctx, "after"); fmt.Sprint(r.Users) != "[1001]" {
			t.Errorf("a re-created user came back onto a route: %v", r.Users)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := store.DeleteRoute(ctx, "national"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Route(ctx, "national"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("deleted route still there: %v", err)
		}
		// Its patterns, trunks and users went with it.
		conn := mustConnect(t, dsn)
		var n int
		if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM route_patterns WHERE route_name = 'national')
			+ (SELECT count(*) FROM route_trunks WHERE route_name = 'national')
			+ (SELECT count(*) FROM route_users WHERE route_name = 'national')`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d rows of a deleted route left, %v", n, err)
		}
		if err := trunks.DeleteTrunk(ctx, "c"); err != nil {
			t.Errorf("the trunk only the deleted route used: %v", err)
		}
	})
}

func TestInboundNumberStore(t *testing.T) {
	ctx := context.Background()
	dsn := testbed.NewDatabase(t)
	db := MustOpenDB(t, dsn)
	trunks, store := &postgres.TrunkStore{DB: db}, &postgres.InboundNumberStore{DB: db}
	mustCreateTrunks(t, trunks, "carrier")

	t.Run("CreateAndGet", func(t *testing.T) {
		want := did("+4930123456", "carrier")
		want.Name = "Main line"
		want.Destination = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "600"}
		created, err := store.CreateInboundNumber(ctx, want)
		if err != nil {
			t.Fatal(err)
		}
		if created.CreatedAt.IsZero() || created.UpdatedAt.IsZero() {
			t.Error("timestamps not set")
		}
		got, err := store.InboundNumber(ctx, "+4930123456")
		got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("InboundNumber = %+v, %v; want %+v", got, err, want)
		}
		// From any trunk, to a mailbox, without a name.
		want = switchboard.InboundNumber{Number: "0301234567",
			Destination: switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "1001"}}
		if _, err := store.CreateInboundNumber(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err = store.InboundNumber(ctx, "0301234567")
		got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("InboundNumber = %+v, %v; want %+v", got, err, want)
		}
	})
	t.Run("ErrDuplicateNumber", func(t *testing.T) {
		_, err := store.CreateInboundNumber(ctx, did("+4930123456", ""))
		if !isError(err, switchboard.ECONFLICT, "inbound number +4930123456 already exists") {
			t.Errorf("duplicate: %v", err)
		}
	})
	t.Run("ErrTrunkMissing", func(t *testing.T) {
		_, err := store.CreateInboundNumber(ctx, did("0309999", "nope"))
		if !isError(err, switchboard.EINVALID, "trunk nope does not exist") {
			t.Errorf("CreateInboundNumber with a missing trunk: %v", err)
		}
		_, err = store.UpdateInboundNumber(ctx, "0301234567", func(n *switchboard.InboundNumber) error {
			n.Trunk = "nope"
			return nil
		})
		if !isError(err, switchboard.EINVALID, "trunk nope does not exist") {
			t.Errorf("UpdateInboundNumber with a missing trunk: %v", err)
		}
		if n, _ := store.InboundNumber(ctx, "0301234567"); n.Trunk != "" {
			t.Errorf("a missing trunk was stored: %+v", n)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := store.InboundNumber(ctx, "0800"); !isError(err, switchboard.ENOTFOUND, "no inbound number 0800") {
			t.Errorf("InboundNumber(0800): %v", err)
		}
		if err := store.DeleteInboundNumber(ctx, "0800"); !isError(err, switchboard.ENOTFOUND, "no inbound number 0800") {
			t.Errorf("DeleteInboundNumber(0800): %v", err)
		}
		_, err := store.UpdateInboundNumber(ctx, "0800", func(*switchboard.InboundNumber) error { return nil })
		if !isError(err, switchboard.ENOTFOUND, "no inbound number 0800") {
			t.Errorf("UpdateInboundNumber(0800): %v", err)
		}
	})
	t.Run("DatabaseRejectsWhatValidationWould", func(t *testing.T) {
		for _, change := range []func(*switchboard.InboundNumber){
			func(n *switchboard.InboundNumber) { n.Number = "1" },
			func(n *switchboard.InboundNumber) { n.Number = "030 123" },
			func(n *switchboard.InboundNumber) { n.Number = "++49301" },
			func(n *switchboard.InboundNumber) { n.Number = strings.Repeat("1", 21) },
			func(n *switchboard.InboundNumber) { n.Name = "Main;line" },
			func(n *switchboard.InboundNumber) { n.Name = "Main\n[evil]" },
			func(n *switchboard.InboundNumber) { n.Name = strings.Repeat("n", 65) },
			func(n *switchboard.InboundNumber) { n.Destination.Kind = "queue" },
			func(n *switchboard.InboundNumber) { n.Destination.Number = "1001" }, // hanging up goes nowhere
			func(n *switchboard.InboundNumber) {
				n.Destination = switchboard.GroupDestination{Kind: switchboard.DestinationNumber}
			},
			func(n *switchboard.InboundNumber) {
				n.Destination = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "*97"}
			},
			func(n *switchboard.InboundNumber) {
				n.Destination = switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "1234567"}
			},
		} {
			n := did("0305555", "")
			change(&n)
			if _, err := store.CreateInboundNumber(ctx, n); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateInboundNumber(%+v): %v, want invalid", n, err)
			}
		}
		if all, _ := store.InboundNumbers(ctx); len(all) != 2 {
			t.Errorf("a rejected number was stored: %+v", all)
		}
		conn := mustConnect(t, dsn)
		if _, err := conn.Exec(ctx, `UPDATE inbound_numbers SET destination_number = '1;2' WHERE number = '0301234567'`); err == nil {
			t.Error("a destination with ';' behind the store: stored, want refused")
		}
	})
	t.Run("InNumberOrder", func(t *testing.T) {
		for _, number := range []string{"112233", "+12025550100", "0300"} {
			if _, err := store.CreateInboundNumber(ctx, did(number, "")); err != nil {
				t.Fatal(err)
			}
		}
		numbers, err := store.InboundNumbers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range numbers {
			got = append(got, n.Number)
		}
		if want := "[+12025550100 +4930123456 0300 0301234567 112233]"; fmt.Sprint(got) != want {
			t.Errorf("InboundNumbers = %v, want %s", got, want)
		}
	})
	t.Run("Update", func(t *testing.T) {
		before, _ := store.InboundNumber(ctx, "0301234567")
		n, err := store.UpdateInboundNumber(ctx, "0301234567", func(n *switchboard.InboundNumber) error {
			n.Name, n.Trunk = "Support", "carrier"
			n.Destination = switchboard.GroupDestination{Kind: switchboard.DestinationHangup}
			return nil
		})
		if err != nil || n.Name != "Support" || n.Trunk != "carrier" || n.Destination.Kind != switchboard.DestinationHangup ||
			!n.UpdatedAt.After(before.UpdatedAt) {
			t.Errorf("UpdateInboundNumber = %+v, %v", n, err)
		}
		_, err = store.UpdateInboundNumber(ctx, "0301234567", func(n *switchboard.InboundNumber) error {
			n.Number, n.Name = "0301234568", "Moved"
			return nil
		})
		if !isError(err, switchboard.EINVALID, "the number of inbound number 0301234567 cannot change") {
			t.Errorf("renumbering: %v", err)
		}
		_, err = store.UpdateInboundNumber(ctx, "0301234567", func(n *switchboard.InboundNumber) error {
			n.Name = "Changed"
			return switchboard.Errorf(switchboard.EINVALID, "no")
		})
		if !isError(err, switchboard.EINVALID, "no") {
			t.Errorf("change error: %v", err)
		}
		if n, _ := store.InboundNumber(ctx, "0301234567"); n.Name != "Support" {
			t.Errorf("aborted updates stored %+v", n)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := store.DeleteInboundNumber(ctx, "0301234567"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.InboundNumber(ctx, "0301234567"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("deleted number still there: %v", err)
		}
	})
}

// A user's outbound caller ID is stored with them, read back as written, and refused by the
// database unless it is a number.
func TestUserOutboundCallerID(t *testing.T) {
	ctx := context.Background()
	dsn := testbed.NewDatabase(t)
	store := &postgres.UserStore{DB: MustOpenDB(t, dsn)}
	u := user("1001", "Caller")
	u.OutboundCallerID = "+4930123456"
	if _, err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got, err := store.User(ctx, "1001"); err != nil || got.OutboundCallerID != "+4930123456" {
		t.Errorf("User = %+v, %v", got, err)
	}
	got, err := store.UpdateUser(ctx, "1001", func(u *switchboard.User) error {
		u.OutboundCallerID = "0301234"
		return nil
	})
	if err != nil || got.OutboundCallerID != "0301234" {
		t.Errorf("UpdateUser = %+v, %v", got, err)
	}
	for _, bad := range []string{"1", "030 1234", "0301234;x", strings.Repeat("1", 21)} {
		_, err := store.UpdateUser(ctx, "1001", func(u *switchboard.User) error {
			u.OutboundCallerID = bad
			return nil
		})
		if switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("outbound caller ID %q: %v, want invalid", bad, err)
		}
	}
	conn := mustConnect(t, dsn)
	if _, err := conn.Exec(ctx, `UPDATE users SET outbound_caller_id = 'anonymous' WHERE extension = '1001'`); err == nil {
		t.Error("a caller ID that is no number behind the store: stored, want refused")
	}
	if got, _ := store.User(ctx, "1001"); got.OutboundCallerID != "0301234" {
		t.Errorf("a refused caller ID was stored: %+v", got)
	}
	// A user created without one has none.
	if _, err := store.CreateUser(ctx, user("1002", "Plain")); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.User(ctx, "1002"); got.OutboundCallerID != "" {
		t.Errorf("default outbound caller ID %q", got.OutboundCallerID)
	}
}

// Call records say whether a call crossed a trunk, which one and who was outside; the latest
// of each given wins, and a record that never said is an internal call's.
func TestCallDirection(t *testing.T) {
	ctx := context.Background()
	dsn := testbed.NewDatabase(t)
	store := &postgres.CallStore{DB: MustOpenDB(t, dsn)}
	base := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)

	t.Run("InternalByDefault", func(t *testing.T) {
		id := uuid.NewString()
		if err := store.ApplyCallChange(ctx, switchboard.CallChange{ID: id, Caller: "1001", Callee: "1002",
			CallerChannel: "chan-internal", StartedAt: base}); err != nil {
			t.Fatal(err)
		}
		got, err := store.Call(ctx, id)
		if err != nil || got.Direction != switchboard.Internal || got.Trunk != "" || got.External != "" {
			t.Errorf("Call = %+v, %v; want internal, no trunk, no outside number", got, err)
		}
	})
	t.Run("LatestGivenWins", func(t *testing.T) {
		id := uuid.NewString()
		steps := []switchboard.CallChange{
			{ID: id, Caller: "1001", Callee: "004930123456", CallerChannel: "chan-out", StartedAt: base,
				Direction: switchboard.Outbound, Trunk: "primary", External: "+4930123456"},
			// The first trunk failed: the call goes on through the next one.
			{ID: id, Trunk: "backup"},
			// A writer that knows none of these leaves them as they are.
			{ID: id, Outcome: switchboard.Answered, AnsweredAt: base.Add(time.Second)},
			{ID: id, EndedAt: base.Add(time.Minute)},
		}
		for _, ch := range steps {
			if err := store.ApplyCallChange(ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
		got, err := store.Call(ctx, id)
		if err != nil || got.Direction != switchboard.Outbound || got.Trunk != "backup" || got.External != "+4930123456" {
			t.Errorf("Call = %+v, %v", got, err)
		}
		// The same rules as the in-memory fake's: one definition (CallChange.Apply).
		var applied switchboard.CallRecord
		for _, ch := range steps {
			applied = ch.Apply(applied)
		}
		if applied.Direction != got.Direction || applied.Trunk != got.Trunk || applied.External != got.External {
			t.Errorf("CallChange.Apply disagrees with the store: %+v, store %+v", applied, got)
		}
		page, err := store.Calls(ctx, switchboard.CallFilter{Limit: 10})
		if err != nil || len(page.Calls) != 2 {
			t.Fatalf("Calls = %+v, %v", page, err)
		}
		for _, c := range page.Calls { // both started at base: in no order of theirs
			if c.ID == id && c.Trunk != "backup" || c.ID != id && c.Direction != switchboard.Internal {
				t.Errorf("listed %+v", c)
			}
		}
		if r, err := store.CallByChannel(ctx, "chan-out"); err != nil || r.External != "+4930123456" {
			t.Errorf("CallByChannel = %+v, %v", r, err)
		}
	})
	t.Run("Inbound", func(t *testing.T) {
		id := uuid.NewString()
		err := store.ApplyCallChange(ctx, switchboard.CallChange{ID: id, Caller: "+4917012345", Callee: "600",
			CallerChannel: "chan-in", StartedAt: base.Add(time.Hour), Direction: switchboard.Inbound,
			Trunk: "primary", External: "+4917012345"})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := store.Call(ctx, id); err != nil || got.Direction != switchboard.Inbound || got.Trunk != "primary" {
			t.Errorf("Call = %+v, %v", got, err)
		}
	})
	t.Run("ErrUnknownDirection", func(t *testing.T) {
		err := store.ApplyCallChange(ctx, switchboard.CallChange{ID: uuid.NewString(), Caller: "1001", Callee: "1002",
			CallerChannel: "chan-bad", StartedAt: base, Direction: "sideways"})
		if switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("direction sideways: %v, want invalid", err)
		}
		conn := mustConnect(t, dsn)
		if _, err := conn.Exec(ctx, `UPDATE calls SET direction = '' WHERE caller_channel = 'chan-internal'`); err == nil {
			t.Error("an empty direction behind the store: stored, want refused")
		}
	})
}
