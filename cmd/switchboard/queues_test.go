package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

// The queues CLI against the real API handler over in-memory stores and fake call control:
// what each command sends, prints and exits with.
func TestQueuesCLI(t *testing.T) {
	ctx := context.Background()
	users := inmem.NewUserStore()
	store, live := inmem.NewQueueStore(users), inmem.NewQueueControl()
	for _, ext := range []string{"1001", "1002", "1003"} {
		users.CreateUser(ctx, switchboard.User{Extension: ext, Name: "User " + ext})
	}
	cli := adminCLI(t, api.Server{
		Users:  &provisioning.Service{Store: users},
		Queues: &provisioning.QueueService{Store: store, Live: live},
	}, queues)

	out, errOut, code := cli("add", "700", "--name", "Orders", "--agents", "1003, 1001", "--strategy", "round_robin",
		"--ring-seconds", "10", "--max-wait", "120", "--no-answer", "voicemail:1002")
	if code != 0 || !strings.Contains(out, "created queue 700 (Orders)") || !strings.Contains(out, "agents:        1003,1001") ||
		!strings.Contains(out, "max wait:      120 seconds") || !strings.Contains(out, "no answer:     voicemail of 1002") {
		t.Fatalf("queues add: exit %d\n%s%s", code, out, errOut)
	}
	if q, _ := store.Queue(ctx, "700"); q.Strategy != switchboard.QueueRoundRobin || q.RingSeconds != 10 || q.MaxWait != 120 ||
		len(q.Agents) != 2 || q.Agents[0].Extension != "1003" {
		t.Errorf("stored %+v", q)
	}
	// Flags may come before the number; the defaults fill in the rest.
	if out, errOut, code := cli("add", "--name", "Everyone", "--agents", "1001,1002,1003", "70"); code != 0 ||
		!strings.Contains(out, "strategy:      ring_all") || !strings.Contains(out, "max wait:      300 seconds") ||
		!strings.Contains(out, "no answer:     hang up") {
		t.Errorf("queues add with defaults: exit %d\n%s%s", code, out, errOut)
	}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"add", "700", "--name", "Again", "--agents", "1001"}, "number 700 is in use (conflict)"},
		{[]string{"add", "1001", "--name", "Alice", "--agents", "1002"}, "number 1001 is in use (conflict)"},
		{[]string{"add", "701", "--name", "Ghosts", "--agents", "1001,1234"}, "agent 1234 is not a user (invalid)"},
		{[]string{"add", "701", "--name", "Nobody"}, "agents must list"},
		// An explicit --max-wait 0 is sent as given and refused, not taken for the default.
		{[]string{"add", "701", "--name", "B", "--agents", "1001", "--max-wait", "0"}, "max_wait"},
		{[]string{"add", "701", "--name", "B", "--agents", "1001", "--strategy", "hunt"}, "strategy"},
		{[]string{"add", "701", "--name", "B", "--agents", "1001", "--no-answer", "number:701"}, "its own number"},
		{[]string{"login", "700", "1002"}, "1002 is not an agent of queue 700 (not_found)"},
		{[]string{"logout", "701", "1001"}, "no queue with number 701 (not_found)"},
	} {
		if _, errOut, code := cli(c.args...); code != 1 || !strings.Contains(errOut, c.err) {
			t.Errorf("queues %v: exit %d, %q, want %q", c.args, code, errOut, c.err)
		}
	}
	if _, errOut, code := cli("add", "701", "--name", "B", "--agents", "1001", "--no-answer", "mailbox"); code != 2 ||
		!strings.Contains(errOut, "--no-answer must be") {
		t.Errorf("--no-answer mailbox: exit %d, %q, want 2", code, errOut)
	}
	if all, _ := store.Queues(ctx); len(all) != 2 {
		t.Errorf("refused adds stored queues: %+v", all)
	}

	if out, errOut, code := cli("login", "700", "1001"); code != 0 || out != "1001 is logged in to queue 700\n" {
		t.Errorf("queues login: exit %d, %q%s", code, out, errOut)
	}
	if out, _, code := cli("logout", "70", "1002"); code != 0 || out != "1002 is logged out of queue 70\n" {
		t.Errorf("queues logout: exit %d, %q", code, out)
	}
	if _, _, code := cli("login", "700"); code != 2 {
		t.Errorf("login without an extension: exit %d, want 2", code)
	}

	if out, _, code := cli("list"); code != 0 || !strings.Contains(out, "Orders") || !strings.Contains(out, "1003,1001*") ||
		!strings.Contains(out, "voicemail of 1002") || !strings.Contains(out, "120 s") {
		t.Errorf("queues list (exit %d):\n%s", code, out)
	}
	out, _, code = cli("list", "--json")
	var list []api.Queue
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 || list[0].Number != "70" {
		t.Errorf("queues list --json (exit %d):\n%s", code, out)
	}

	// set changes only what is given; --agents replaces the list and keeps the logins.
	if out, errOut, code := cli("set", "700", "--agents", "1002,1001", "--no-answer", "number:70", "--max-wait", "3600"); code != 0 ||
		!strings.Contains(out, "agents:        1002,1001*") || !strings.Contains(out, "number 70") {
		t.Errorf("queues set: exit %d\n%s%s", code, out, errOut)
	}
	if q, _ := store.Queue(ctx, "700"); q.Name != "Orders" || q.Strategy != switchboard.QueueRoundRobin || q.MaxWait != 3600 ||
		q.NoAnswer != (switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "70"}) {
		t.Errorf("after set: %+v", q)
	}
	if _, errOut, code := cli("set", "700", "--agents", ""); code != 1 || !strings.Contains(errOut, "agents must list") {
		t.Errorf("set --agents \"\": exit %d, %q", code, errOut)
	}

	live.SetState(switchboard.QueueState{Number: "700", Answered: 4, Abandoned: 1,
		Callers: []switchboard.QueuedCaller{{ID: "0b0e7d4e-3c1f-4a55-9d6e-6a1f5c0b2e11", Caller: "1003",
			Since: time.Now().Add(-90 * time.Second), Ringing: []string{"1001"}}},
		Agents: []switchboard.AgentState{{Extension: "1002", State: switchboard.AgentLoggedOut},
			{Extension: "1001", LoggedIn: true, State: switchboard.AgentRinging, Calls: 4,
				LastCall: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)}}})
	out, _, code = cli("show", "700")
	for _, want := range []string{"name:          Orders", "max wait:      3600 seconds", "waiting:       1",
		"answered:      4, abandoned: 1, timed out: 0", "0b0e7d4e-3c1f-4a55-9d6e-6a1f5c0b2e11", "logged_out",
		"ringing", "2026-12-01 09:30:00Z"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("queues show (exit %d) lacks %q:\n%s", code, want, out)
		}
	}
	out, _, code = cli("show", "700", "--json")
	var q api.QueueDetail
	if code != 0 || json.Unmarshal([]byte(out), &q) != nil || q.Live == nil || len(q.Live.Callers) != 1 ||
		q.Live.Callers[0].WaitSeconds < 90 || len(q.Agents) != 2 {
		t.Errorf("queues show --json (exit %d):\n%s", code, out)
	}
	live.SetDown(true)
	if out, _, code := cli("show", "700"); code != 0 || !strings.Contains(out, "live:          unknown") {
		t.Errorf("queues show with call control down (exit %d):\n%s", code, out)
	}

	if out, _, code := cli("rm", "700"); code != 0 || !strings.Contains(out, "deleted queue 700") {
		t.Errorf("queues rm (exit %d): %s", code, out)
	}
	if _, errOut, code := cli("show", "700"); code != 1 || !strings.Contains(errOut, "not_found") {
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

// A queue's own mailbox from the CLI, as a group's (see TestGroupsCLIMailbox).
func TestQueuesCLIMailbox(t *testing.T) {
	ctx := context.Background()
	users := inmem.NewUserStore()
	store := inmem.NewQueueStore(users)
	users.CreateUser(ctx, switchboard.User{Extension: "1001", Name: "User 1001"})
	cli := adminCLI(t, api.Server{
		Users:  &provisioning.Service{Store: users},
		Queues: &provisioning.QueueService{Store: store, Live: inmem.NewQueueControl()},
	}, queues)

	out, errOut, code := cli("add", "700", "--name", "Orders", "--agents", "1001", "--voicemail", "on", "--no-answer", "voicemail:700")
	q, _ := store.Queue(ctx, "700")
	if code != 0 || !q.Mailbox.Enabled || len(q.Mailbox.PIN) != 6 ||
		!strings.Contains(out, "voicemail PIN: "+q.Mailbox.PIN+" (shown once)\n") || !strings.Contains(out, "voicemail:     on (PIN set)\n") {
		t.Fatalf("queues add --voicemail on: exit %d, stored %+v\n%s%s", code, q.Mailbox, out, errOut)
	}
	if out, _, code := cli("show", "700"); code != 0 || !strings.Contains(out, "voicemail:     on (PIN set)\n") ||
		strings.Contains(out, q.Mailbox.PIN) {
		t.Errorf("queues show (exit %d):\n%s", code, out)
	}
	if out, errOut, code := cli("set", "700", "--voicemail", "off", "--no-answer", "hangup"); code != 0 || !strings.Contains(out, "voicemail:     off\n") {
		t.Errorf("queues set --voicemail off: exit %d\n%s%s", code, out, errOut)
	}
	if after, _ := store.Queue(ctx, "700"); after.Mailbox != (switchboard.Mailbox{PIN: q.Mailbox.PIN}) {
		t.Errorf("after off: %+v, want the PIN kept", after.Mailbox)
	}
	if _, errOut, code := cli("add", "701", "--name", "B", "--agents", "1001", "--no-answer", "voicemail:701"); code != 1 ||
		!strings.Contains(errOut, "voicemail to the queue's own number needs its own mailbox") {
		t.Errorf("voicemail to itself without a mailbox: exit %d, %q", code, errOut)
	}
	if _, errOut, code := cli("set", "700", "--voicemail", "maybe"); code != 2 || !strings.Contains(errOut, "--voicemail must be on or off") {
		t.Errorf("--voicemail maybe: exit %d, %q", code, errOut)
	}
}
