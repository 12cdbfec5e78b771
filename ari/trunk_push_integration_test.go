//go:build integration

package ari

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// memTrunks is a TrunkStore of a fixed list.
type memTrunks struct {
	switchboard.TrunkStore
	list []switchboard.Trunk
}

func (m *memTrunks) Trunks(context.Context) ([]switchboard.Trunk, error) { return m.list, nil }

// TestPushTrunks: a trunk's objects pushed into a real Asterisk give it a registration and an
// identify; a changed host replaces the identify's match rather than adding to it, and the
// registration's server; a deleted trunk leaves nothing behind.
func TestPushTrunks(t *testing.T) {
	ast := testbed.StartAsterisk(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := NewClient(Config{URL: ast.ARIURL, Username: ast.ARIUsername, Password: ast.ARIPassword, App: "trunk-test"})
	if err != nil {
		t.Fatal(err)
	}
	tr := switchboard.Trunk{Name: "carrier", Host: "127.0.0.2", Port: 5999, Transport: switchboard.TransportUDP,
		Auth: switchboard.AuthRegister, Username: "sb-ok", Password: "secret-password-1", Codecs: []string{"ulaw", "alaw"},
		Addresses: []string{"192.0.2.0/24"}}
	store := &memTrunks{list: []switchboard.Trunk{tr}}
	s := &provisioning.TrunkSyncer{Store: store, Asterisk: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := s.SyncTrunks(ctx); err != nil {
		t.Fatal(err)
	}
	regs := ast.MustCLI(t, "pjsip show registrations")
	if !strings.Contains(regs, "trunk-carrier") || !strings.Contains(regs, "sip:127.0.0.2:5999") {
		t.Fatalf("no registration pushed:\n%s", regs)
	}
	ident := ast.MustCLI(t, "pjsip show identify trunk-carrier")
	if !strings.Contains(ident, "127.0.0.2/32") || !strings.Contains(ident, "192.0.2.0/24") {
		t.Fatalf("identify lacks the provider's addresses:\n%s", ident)
	}
	ep := ast.MustCLI(t, "pjsip show endpoint trunk-carrier")
	for _, want := range []string{"identify_by", "outbound_auth", "switchboard-trunk-in"} {
		if !strings.Contains(ep, want) {
			t.Fatalf("endpoint lacks %s:\n%s", want, ep)
		}
	}
	if strings.Contains(ep, "realm") && strings.Contains(ep, ": switchboard\n") {
		t.Fatalf("the trunk took the users' template:\n%s", ep)
	}

	// The provider moves.
	store.list[0].Host, store.list[0].Addresses = "127.0.0.3", nil
	if err := s.SyncTrunks(ctx); err != nil {
		t.Fatal(err)
	}
	ident = ast.MustCLI(t, "pjsip show identify trunk-carrier")
	if strings.Contains(ident, "127.0.0.2") || strings.Contains(ident, "192.0.2.0") || !strings.Contains(ident, "127.0.0.3/32") {
		t.Fatalf("identify after the move:\n%s", ident)
	}
	regs = ast.MustCLI(t, "pjsip show registrations")
	if strings.Contains(regs, "127.0.0.2") || !strings.Contains(regs, "sip:127.0.0.3:5999") {
		t.Fatalf("registration after the move:\n%s", regs)
	}
	if aor := ast.MustCLI(t, "pjsip show endpoint trunk-carrier"); !strings.Contains(aor, "127.0.0.3:5999") {
		t.Fatalf("endpoint's AOR after the move:\n%s", aor)
	}
	if aors := ast.MustCLI(t, "pjsip show aors"); strings.Contains(aors, "127.0.0.2") {
		t.Fatalf("the old AOR is left after the move:\n%s", aors)
	}

	store.list = nil
	if err := s.SyncTrunks(ctx); err != nil {
		t.Fatal(err)
	}
	if regs := ast.MustCLI(t, "pjsip show registrations"); strings.Contains(regs, "trunk-carrier") {
		t.Fatalf("registration left after the delete:\n%s", regs)
	}
	if eps := ast.MustCLI(t, "pjsip show endpoints"); strings.Contains(eps, "trunk-carrier") {
		t.Fatalf("endpoint left after the delete:\n%s", eps)
	}
}
