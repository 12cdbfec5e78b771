package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

// offlinePresence answers every presence question with "offline": users show needs one.
type offlinePresence struct{}

func (offlinePresence) Presence(_ context.Context, ext string) (switchboard.Presence, error) {
	return switchboard.Presence{Extension: ext, State: switchboard.Offline, EndpointState: "offline"}, nil
}

// noConfig stands in for the configuration applier: the CLI tests look at the store only.
type noConfig struct{}

func (noConfig) Trigger() {}

// The users CLI's --email against the real API handler over an in-memory store: add sets the
// address, show prints it, set changes it, keeps it when not given and removes it with
// --email "", and an address the server refuses changes nothing.
func TestUsersCLIEmail(t *testing.T) {
	ctx := context.Background()
	store := inmem.NewUserStore()
	cli := adminCLI(t, api.Server{
		Users: &provisioning.Service{Store: store, Config: noConfig{}, Presence: offlinePresence{}},
	}, users)
	stored := func() string {
		t.Helper()
		u, err := store.User(ctx, "1001")
		if err != nil {
			t.Fatal(err)
		}
		return u.Email
	}

	out, errOut, code := cli("add", "1001", "--name", "Alice", "--email", "alice@example.com")
	if code != 0 || !strings.Contains(out, "created 1001 (Alice)") || stored() != "alice@example.com" {
		t.Fatalf("users add --email: exit %d, stored %q\n%s%s", code, stored(), out, errOut)
	}
	if out, _, code := cli("show", "1001"); code != 0 || !strings.Contains(out, "email:        alice@example.com\n") {
		t.Errorf("users show (exit %d):\n%s", code, out)
	}
	out, _, code = cli("show", "1001", "--json")
	var u api.User
	if code != 0 || json.Unmarshal([]byte(out), &u) != nil || u.Email != "alice@example.com" {
		t.Errorf("users show --json (exit %d):\n%s", code, out)
	}

	// set changes the address; a set without --email keeps it.
	if out, errOut, code := cli("set", "1001", "--email", "alice.smith@localhost"); code != 0 || stored() != "alice.smith@localhost" {
		t.Errorf("users set --email: exit %d, stored %q\n%s%s", code, stored(), out, errOut)
	}
	if _, errOut, code := cli("set", "1001", "--dnd", "on"); code != 0 || stored() != "alice.smith@localhost" {
		t.Errorf("users set --dnd: exit %d, stored %q, %s", code, stored(), errOut)
	}

	// What the server refuses is reported (exit 1, "invalid") and changes nothing.
	for _, bad := range []string{"a@b.c\r\nBcc: x@y.z", "Alice <a@b.c>", "a@b.c, d@e.f", "a@b"} {
		if _, errOut, code := cli("set", "1001", "--email", bad); code != 1 || !strings.Contains(errOut, "email") ||
			!strings.Contains(errOut, "(invalid)") || stored() != "alice.smith@localhost" {
			t.Errorf("users set --email %q: exit %d, stored %q, %q", bad, code, stored(), errOut)
		}
	}
	if _, errOut, code := cli("add", "1002", "--name", "Bob", "--email", "bob@b"); code != 1 || !strings.Contains(errOut, "(invalid)") {
		t.Errorf("users add with a bad address: exit %d, %q", code, errOut)
	}
	if _, err := store.User(ctx, "1002"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("a user with a refused address was created: %v", err)
	}

	// --email "" removes the address; show then says there is none.
	if out, errOut, code := cli("set", "1001", "--email", ""); code != 0 || stored() != "" {
		t.Errorf(`users set --email "": exit %d, stored %q`+"\n%s%s", code, stored(), out, errOut)
	}
	if out, _, code := cli("show", "1001"); code != 0 || !strings.Contains(out, "email:        none\n") {
		t.Errorf("users show without an address (exit %d):\n%s", code, out)
	}
	// A user added without --email has none.
	if _, errOut, code := cli("add", "1003", "--name", "Carol"); code != 0 {
		t.Fatalf("users add: exit %d, %s", code, errOut)
	}
	if u, _ := store.User(ctx, "1003"); u.Email != "" {
		t.Errorf("users add without --email stored %q", u.Email)
	}
}
