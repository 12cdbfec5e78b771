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

// The rooms CLI against the real API handler over in-memory stores and fake call control:
// what each command sends, prints and exits with.
func TestRoomsCLI(t *testing.T) {
	users := inmem.NewUserStore()
	store, live := inmem.NewRoomStore(users), inmem.NewRoomControl()
	cli := adminCLI(t, api.Server{
		Users: &provisioning.Service{Store: users},
		Rooms: &provisioning.RoomService{Store: store, Live: live},
	}, rooms)
	ctx := context.Background()
	const call = "0b0e7d4e-3c1f-4a55-9d6e-6a1f5c0b2e11"

	out, errOut, code := cli("add", "800", "--name", "Sales Weekly", "--pin", "1234", "--moderator-pin", "98765", "--max", "8", "--no-music")
	if code != 0 || !strings.Contains(out, "created room 800 (Sales Weekly)") || !strings.Contains(out, "moderator PIN: 98765") {
		t.Fatalf("rooms add: exit %d\n%s%s", code, out, errOut)
	}
	if r, _ := store.Room(ctx, "800"); r.MaxParticipants != 8 || r.MusicWhenAlone || !r.AnnounceJoins {
		t.Errorf("stored %+v", r)
	}
	if _, errOut, code := cli("add", "800", "--name", "Again"); code != 1 || !strings.Contains(errOut, "number 800 is in use (conflict)") {
		t.Errorf("duplicate add: exit %d, %q", code, errOut)
	}
	if _, errOut, code := cli("add", "801", "--name", "Board", "--pin", "12ab"); code != 1 || !strings.Contains(errOut, "(invalid)") {
		t.Errorf("bad PIN: exit %d, %q", code, errOut)
	}
	// An explicit --max 0 is sent as given and refused, not taken for the default.
	if _, errOut, code := cli("add", "801", "--name", "Board", "--max", "0"); code != 1 || !strings.Contains(errOut, "max_participants") {
		t.Errorf("--max 0: exit %d, %q", code, errOut)
	}
	if out, _, code := cli("list"); code != 0 || !strings.Contains(out, "800") || !strings.Contains(out, "Sales Weekly") {
		t.Errorf("rooms list (exit %d):\n%s", code, out)
	}

	// set changes only what is given; --pin "" removes the PIN.
	if out, errOut, code := cli("set", "800", "--pin", "", "--announce", "off"); code != 0 || !strings.Contains(out, "PIN:           none") {
		t.Errorf("rooms set: exit %d\n%s%s", code, out, errOut)
	}
	if r, _ := store.Room(ctx, "800"); r.PIN != "" || r.AnnounceJoins || r.Name != "Sales Weekly" || r.ModeratorPIN != "98765" {
		t.Errorf("after set: %+v", r)
	}
	if _, _, code := cli("set", "800", "--music", "maybe"); code != 2 {
		t.Errorf("--music maybe: exit %d, want 2", code)
	}

	live.Join("800", switchboard.Participant{ID: call, Caller: "1001", Channel: "PJSIP/1001-1", JoinedAt: time.Now()})
	out, _, code = cli("show", "800")
	if code != 0 || !strings.Contains(out, call) || !strings.Contains(out, "in the room:   1") {
		t.Errorf("rooms show (exit %d):\n%s", code, out)
	}
	out, _, code = cli("show", "800", "--json")
	var d api.RoomDetail
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil || d.Live == nil || d.Live.Participants[0].ID != call {
		t.Errorf("rooms show --json (exit %d):\n%s", code, out)
	}
	for _, step := range []struct {
		args  []string
		out   string
		check func(switchboard.RoomState) bool
	}{
		{[]string{"mute", "800", call}, "muted " + call + " in room 800", func(st switchboard.RoomState) bool { return st.Participants[0].Muted }},
		{[]string{"unmute", "800", call}, "unmuted", func(st switchboard.RoomState) bool { return !st.Participants[0].Muted }},
		{[]string{"lock", "800"}, "locked room 800", func(st switchboard.RoomState) bool { return st.Locked }},
		{[]string{"unlock", "800"}, "unlocked room 800", func(st switchboard.RoomState) bool { return !st.Locked }},
		{[]string{"kick", "800", call}, "removed " + call, func(st switchboard.RoomState) bool { return len(st.Participants) == 0 }},
	} {
		out, errOut, code := cli(step.args...)
		st, _ := live.RoomState(ctx, "800")
		if code != 0 || !strings.Contains(out, step.out) || !step.check(st) {
			t.Errorf("rooms %v: exit %d, state %+v\n%s%s", step.args, code, st, out, errOut)
		}
	}
	if _, errOut, code := cli("kick", "800", call); code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("kick of someone gone: exit %d, %q", code, errOut)
	}
	if _, _, code := cli("mute", "800"); code != 2 {
		t.Errorf("mute without an ID: exit %d, want 2", code)
	}
	if out, _, code := cli("rm", "800"); code != 0 || !strings.Contains(out, "deleted room 800") {
		t.Errorf("rooms rm (exit %d): %s", code, out)
	}
	if _, errOut, code := cli("show", "800"); code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("show after rm: exit %d, %q", code, errOut)
	}
	if _, _, code := cli("frobnicate"); code != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", code)
	}
	if _, _, code := cli(); code != 2 {
		t.Errorf("no subcommand: exit %d, want 2", code)
	}
}
