package provisioning

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard"
)

// recordingAsterisk notes what a TrunkSyncer asks of Asterisk.
type recordingAsterisk struct{ ops []string }

func (r *recordingAsterisk) PutObject(_ context.Context, o ConfigObject) error {
	r.ops = append(r.ops, "put "+o.Type+" "+o.ID)
	return nil
}

func (r *recordingAsterisk) DeleteObject(_ context.Context, _, typ, id string) error {
	r.ops = append(r.ops, "delete "+typ+" "+id)
	return nil
}

func (r *recordingAsterisk) take() []string {
	ops := r.ops
	r.ops = nil
	return ops
}

func TestTrunkSyncer(t *testing.T) {
	ast := &recordingAsterisk{}
	store := &listTrunks{list: []switchboard.Trunk{{Name: "a", Host: "192.0.2.1", Port: 5060, Transport: "udp",
		Auth: switchboard.AuthRegister, Username: "u", Password: "secret-password", Codecs: []string{"ulaw"}}}}
	changes := 0
	s := &TrunkSyncer{Store: store, Asterisk: ast, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnChange: func() { changes++ }}
	ctx := context.Background()
	if err := s.SyncTrunks(ctx); err != nil {
		t.Fatal(err)
	}
	first := ast.take()
	aor := TrunkObjects(store.list[0])[1].ID
	want := []string{"put auth trunk-a", "put aor " + aor, "put endpoint trunk-a",
		"delete registration trunk-a", "put registration trunk-a", "delete identify trunk-a", "put identify trunk-a"}
	if !slices.Equal(first, want) {
		t.Fatalf("first pass:\n%v\nwant\n%v", first, want)
	}
	if err := s.SyncTrunks(ctx); err != nil {
		t.Fatal(err)
	}
	if ops := ast.take(); len(ops) != 0 {
		t.Fatalf("a pass with nothing changed pushed %v", ops)
	}
	// The password changes: the auth, and the registration starts again with it.
	store.list[0].Password = "another-password"
	s.SyncTrunks(ctx)
	if ops := ast.take(); !slices.Equal(ops, []string{"put auth trunk-a", "delete registration trunk-a", "put registration trunk-a"}) {
		t.Fatalf("after a new password: %v", ops)
	}
	// The provider moves: a new AOR, the endpoint naming it, the old AOR removed.
	store.list[0].Port = 5080
	s.SyncTrunks(ctx)
	ops := strings.Join(ast.take(), "\n")
	for _, w := range []string{"put aor trunk-a-", "put endpoint trunk-a", "put registration trunk-a", "delete aor " + aor} {
		if !strings.Contains(ops, w) {
			t.Fatalf("after the move, no %q in:\n%s", w, ops)
		}
	}
	// Asterisk restarted: everything again.
	s.Reconnected()
	s.SyncTrunks(ctx)
	if ops := ast.take(); len(ops) != len(want) {
		t.Fatalf("after a reconnect: %v", ops)
	}
	store.list = nil
	s.SyncTrunks(ctx)
	ops = strings.Join(ast.take(), "\n")
	for _, w := range []string{"delete registration trunk-a", "delete identify trunk-a", "delete endpoint trunk-a",
		"delete auth trunk-a", "delete aor trunk-a-"} {
		if !strings.Contains(ops, w) {
			t.Fatalf("after the delete, no %q in:\n%s", w, ops)
		}
	}
	if changes != 6 {
		t.Errorf("OnChange called %d times, want once per pass (6)", changes)
	}
}

// A trunk's objects are its own: nothing of the phones' templates, and a trunk known by its
// address has no auth and no registration.
func TestTrunkObjects(t *testing.T) {
	ip := TrunkObjects(switchboard.Trunk{Name: "b", Host: "sip.example.net", Port: 5060, Transport: "tcp",
		Auth: switchboard.AuthIP, Addresses: []string{"198.51.100.0/24"}, Codecs: []string{"alaw", "ulaw"}, SendPAI: true})
	var types []string
	fields := map[string]string{}
	for _, o := range ip {
		types = append(types, o.Type)
		for _, f := range o.Fields {
			fields[o.Type+"."+f.Name] += f.Value + ";"
		}
	}
	if !slices.Equal(types, []string{"aor", "endpoint", "identify"}) {
		t.Fatalf("objects of an IP trunk: %v", types)
	}
	for k, want := range map[string]string{
		"aor.contact":          "sip:sip.example.net:5060;transport=tcp;",
		"endpoint.transport":   "transport-tcp;",
		"endpoint.allow":       "alaw,ulaw;",
		"endpoint.identify_by": "ip;",
		"endpoint.send_pai":    "yes;",
		"endpoint.context":     TrunkContext + ";",
		"identify.match":       "sip.example.net;198.51.100.0/24;",
	} {
		if fields[k] != want {
			t.Errorf("%s = %q, want %q", k, fields[k], want)
		}
	}
	if TrunkName("trunk-b") != "b" || TrunkName("1001") != "" {
		t.Error("TrunkName does not invert TrunkEndpoint")
	}
}
