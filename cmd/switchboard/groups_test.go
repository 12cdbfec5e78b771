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

// The groups CLI against the real API handler over in-memory stores: what each command sends,
// prints and exits with.
func TestGroupsCLI(t *testing.T) {
	ctx := context.Background()
	users := inmem.NewUserStore()
	store := inmem.NewGroupStore(users)
	for _, ext := range []string{"1001", "1002", "1003"} {
		users.CreateUser(ctx, switchboard.User{Extension: ext, Name: "User " + ext})
	}
	cli := adminCLI(t, api.Server{
		Users:  &provisioning.Service{Store: users},
		Groups: &provisioning.GroupService{Store: store},
	}, groups)

	out, errOut, code := cli("add", "600", "--name", "Support", "--members", "1003, 1001", "--strategy", "hunt",
		"--ring-seconds", "10", "--no-answer", "voicemail:1002")
	if code != 0 || !strings.Contains(out, "created group 600 (Support)") || !strings.Contains(out, "members:       1003,1001") ||
		!strings.Contains(out, "no answer:     voicemail of 1002") {
		t.Fatalf("groups add: exit %d\n%s%s", code, out, errOut)
	}
	if g, _ := store.Group(ctx, "600"); g.Strategy != switchboard.Hunt || g.RingSeconds != 10 ||
		g.Timeout != switchboard.DefaultGroupTimeout || strings.Join(g.Members, ",") != "1003,1001" {
		t.Errorf("stored %+v", g)
	}
	// Flags may come before the number; the defaults fill in the rest.
	if out, errOut, code := cli("add", "--name", "Everyone", "--members", "1001,1002,1003", "60"); code != 0 ||
		!strings.Contains(out, "strategy:      ring_all") || !strings.Contains(out, "no answer:     hang up") {
		t.Errorf("groups add with defaults: exit %d\n%s%s", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"add", "600", "--name", "Again", "--members", "1001"}, "number 600 is in use (conflict)"},
		{[]string{"add", "1001", "--name", "Alice", "--members", "1002"}, "number 1001 is in use (conflict)"},
		{[]string{"add", "601", "--name", "Ghosts", "--members", "1001,1234"}, "member 1234 is not a user (invalid)"},
		{[]string{"add", "601", "--name", "Nobody"}, "members must list"},
		// An explicit --ring-seconds 0 is sent as given and refused, not taken for the default.
		{[]string{"add", "601", "--name", "B", "--members", "1001", "--ring-seconds", "0"}, "ring_seconds"},
		{[]string{"add", "601", "--name", "B", "--members", "1001", "--strategy", "random"}, "strategy"},
		{[]string{"add", "601", "--name", "B", "--members", "1001", "--no-answer", "number:601"}, "its own number"},
	} {
		if _, errOut, code := cli(c.args...); code != 1 || !strings.Contains(errOut, c.err) {
			t.Errorf("groups %v: exit %d, %q, want %q", c.args, code, errOut, c.err)
		}
	}
	if _, errOut, code := cli("add", "601", "--name", "B", "--members", "1001", "--no-answer", "mailbox"); code != 2 ||
		!strings.Contains(errOut, "--no-answer must be") {
		t.Errorf("--no-answer mailbox: exit %d, %q, want 2", code, errOut)
	}
	if all, _ := store.Groups(ctx); len(all) != 2 {
		t.Errorf("refused adds stored groups: %+v", all)
	}

	if out, _, code := cli("list"); code != 0 || !strings.Contains(out, "600") || !strings.Contains(out, "Support") ||
		!strings.Contains(out, "1003,1001") || !strings.Contains(out, "voicemail of 1002") {
		t.Errorf("groups list (exit %d):\n%s", code, out)
	}
	out, _, code = cli("list", "--json")
	var list []api.Group
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 || list[0].Number != "60" {
		t.Errorf("groups list --json (exit %d):\n%s", code, out)
	}

	// set changes only what is given; --members replaces the list.
	if out, errOut, code := cli("set", "600", "--members", "1002,1003,1001", "--no-answer", "number:60", "--timeout", "90"); code != 0 ||
		!strings.Contains(out, "members:       1002,1003,1001") || !strings.Contains(out, "number 60") {
		t.Errorf("groups set: exit %d\n%s%s", code, out, errOut)
	}
	if g, _ := store.Group(ctx, "600"); g.Name != "Support" || g.Strategy != switchboard.Hunt || g.Timeout != 90 ||
		g.NoAnswer != (switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "60"}) {
		t.Errorf("after set: %+v", g)
	}
	if _, errOut, code := cli("set", "600", "--members", ""); code != 1 || !strings.Contains(errOut, "members must list") {
		t.Errorf("set --members \"\": exit %d, %q", code, errOut)
	}

	out, _, code = cli("show", "600")
	if code != 0 || !strings.Contains(out, "name:          Support") || !strings.Contains(out, "timeout:       90 seconds in all") {
		t.Errorf("groups show (exit %d):\n%s", code, out)
	}
	out, _, code = cli("show", "600", "--json")
	var g api.Group
	if code != 0 || json.Unmarshal([]byte(out), &g) != nil || strings.Join(g.Members, ",") != "1002,1003,1001" {
		t.Errorf("groups show --json (exit %d):\n%s", code, out)
	}
	if out, _, code := cli("rm", "600"); code != 0 || !strings.Contains(out, "deleted group 600") {
		t.Errorf("groups rm (exit %d): %s", code, out)
	}
	if _, errOut, code := cli("show", "600"); code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("show after rm: exit %d, %q", code, errOut)
	}
	if _, _, code := cli("show"); code != 2 {
		t.Errorf("show without a number: exit %d, want 2", code)
	}
	if _, _, code := cli("frobnicate"); code != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", code)
	}
	if _, _, code := cli(); code != 2 {
		t.Errorf("no subcommand: exit %d, want 2", code)
	}
}

// A group's own mailbox from the CLI: --voicemail and --pin on add and set, the generated PIN
// printed once, show never printing it.
func TestGroupsCLIMailbox(t *testing.T) {
	ctx := context.Background()
	users := inmem.NewUserStore()
	store := inmem.NewGroupStore(users)
	users.CreateUser(ctx, switchboard.User{Extension: "1001", Name: "User 1001"})
	cli := adminCLI(t, api.Server{
		Users:  &provisioning.Service{Store: users},
		Groups: &provisioning.GroupService{Store: store},
	}, groups)

	out, errOut, code := cli("add", "600", "--name", "Support", "--members", "1001", "--voicemail", "on", "--no-answer", "voicemail:600")
	g, _ := store.Group(ctx, "600")
	if code != 0 || !g.Mailbox.Enabled || len(g.Mailbox.PIN) != 6 ||
		!strings.Contains(out, "voicemail PIN: "+g.Mailbox.PIN+" (shown once)\n") ||
		!strings.Contains(out, "voicemail:     on (PIN set)\n") || !strings.Contains(out, "no answer:     voicemail of 600 (its own mailbox)") {
		t.Fatalf("groups add --voicemail on: exit %d, stored %+v\n%s%s", code, g.Mailbox, out, errOut)
	}
	if out, _, code := cli("show", "600"); code != 0 || !strings.Contains(out, "voicemail:     on (PIN set)\n") ||
		strings.Contains(out, g.Mailbox.PIN) {
		t.Errorf("groups show (exit %d):\n%s", code, out)
	}
	// A PIN given is not printed back.
	if out, errOut, code := cli("add", "601", "--name", "Sales", "--members", "1001", "--voicemail", "on", "--pin", "4321"); code != 0 ||
		strings.Contains(out, "voicemail PIN") || !strings.Contains(out, "voicemail:     on (PIN set)") {
		t.Errorf("groups add --pin: exit %d\n%s%s", code, out, errOut)
	}
	if g, _ := store.Group(ctx, "601"); g.Mailbox != (switchboard.Mailbox{Enabled: true, PIN: "4321"}) {
		t.Errorf("stored %+v", g.Mailbox)
	}
	if out, _, code := cli("add", "602", "--name", "Board", "--members", "1001"); code != 0 || !strings.Contains(out, "voicemail:     off\n") {
		t.Errorf("groups add without a mailbox: exit %d\n%s", code, out)
	}
	// Turned on by set without a PIN: the generated one is printed, once.
	out, errOut, code = cli("set", "602", "--voicemail", "on")
	if g, _ := store.Group(ctx, "602"); code != 0 || !strings.Contains(out, "voicemail PIN: "+g.Mailbox.PIN+" (shown once)") {
		t.Errorf("groups set --voicemail on: exit %d, stored %+v\n%s%s", code, g.Mailbox, out, errOut)
	}
	// Off keeps the PIN; on again prints none (it has the one it kept).
	if out, errOut, code := cli("set", "600", "--voicemail", "off", "--no-answer", "hangup"); code != 0 || !strings.Contains(out, "voicemail:     off\n") {
		t.Errorf("groups set --voicemail off: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, code := cli("set", "600", "--voicemail", "on"); code != 0 || strings.Contains(out, "voicemail PIN") {
		t.Errorf("groups set --voicemail on again: exit %d\n%s", code, out)
	}
	if after, _ := store.Group(ctx, "600"); after.Mailbox != g.Mailbox {
		t.Errorf("PIN after off and on: %+v, was %+v", after.Mailbox, g.Mailbox)
	}
	if out, _, code := cli("set", "601", "--pin", "97531"); code != 0 || strings.Contains(out, "97531") {
		t.Errorf("groups set --pin: exit %d\n%s", code, out)
	}
	if g, _ := store.Group(ctx, "601"); g.Mailbox.PIN != "97531" {
		t.Errorf("stored %+v after set --pin", g.Mailbox)
	}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"add", "603", "--name", "B", "--members", "1001", "--no-answer", "voicemail:603"},
			"no_answer: voicemail to the group's own number needs its own mailbox (voicemail.enabled) (invalid)"},
		{[]string{"add", "603", "--name", "B", "--members", "1001", "--voicemail", "on", "--pin", "12a"}, "voicemail PIN must be 4 to 10 digits"},
		// An explicit --pin "" is sent as given: a mailbox that is on needs one.
		{[]string{"set", "601", "--pin", ""}, "voicemail PIN"},
	} {
		if _, errOut, code := cli(c.args...); code != 1 || !strings.Contains(errOut, c.err) {
			t.Errorf("groups %v: exit %d, %q, want %q", c.args, code, errOut, c.err)
		}
	}
	if _, errOut, code := cli("add", "603", "--name", "B", "--members", "1001", "--voicemail", "yes"); code != 2 ||
		!strings.Contains(errOut, "--voicemail must be on or off") {
		t.Errorf("--voicemail yes: exit %d, %q, want 2", code, errOut)
	}
	if _, err := store.Group(ctx, "603"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("a refused group was stored: %v", err)
	}
	// --json has the generated PIN in the response's own field.
	out, _, code = cli("add", "604", "--name", "Lab", "--members", "1001", "--voicemail", "on", "--json")
	var created api.Group
	if code != 0 || json.Unmarshal([]byte(out), &created) != nil || len(created.Voicemail.PIN) != 6 || !created.Voicemail.Enabled {
		t.Errorf("groups add --json (exit %d):\n%s", code, out)
	}
}
