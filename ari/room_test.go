package ari_test

import (
	"context"
	"testing"

	"github.com/switchboard-pbx/switchboard"
)

// joinRoom dials a room from ext, enters keys, and waits until the caller is in the room.
func (h *harness) joinRoom(ext, number, keys string) string {
	h.t.Helper()
	caller := h.ast.dial(ext, number)
	h.ast.press(caller, keys)
	eventually(h.t, ext+" in room "+number, func() bool { return h.ast.inBridge("sbroom-"+number, caller) })
	h.waitRecord(caller, "answered", func(r switchboard.CallRecord) bool { return r.Outcome == switchboard.Answered })
	return caller
}

func (h *harness) roomState(number string) switchboard.RoomState {
	h.t.Helper()
	st, err := h.app.RoomState(context.Background(), number)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *harness) participantOf(number, channel string) switchboard.Participant {
	h.t.Helper()
	for _, p := range h.roomState(number).Participants {
		if p.Channel == channel {
			return p
		}
	}
	h.t.Fatalf("%s is not in room %s: %+v", channel, number, h.roomState(number))
	return switchboard.Participant{}
}

func TestRoomWrongPINThreeTimes(t *testing.T) {
	h := newHarness(t)
	caller := h.ast.dial("1001", "800")
	h.ast.press(caller, "1111#2222#3333#")
	h.waitRecord(caller, "failed, wrong PIN", ended(switchboard.Failed, switchboard.ReasonWrongPIN))
	if h.ast.has(caller) {
		t.Error("the caller was not hung up")
	}
	ops := h.ast.opsSince(0)
	if n := count(ops, "play "+caller); n != 4 { // three prompts, then "invalid PIN"
		t.Errorf("%d prompts played, want 4: %v", n, ops)
	}
	if index(ops, "add sbroom-800") >= 0 {
		t.Errorf("a caller with a wrong PIN joined the room: %v", ops)
	}
}

func TestRoomSecondTryAndModerator(t *testing.T) {
	h := newHarness(t)
	// A wrong PIN first, then the right one: they are in.
	a := h.joinRoom("1001", "800", "55#1234#")
	if p := h.participantOf("800", a); p.Moderator || p.Caller != "1001" {
		t.Errorf("participant %+v: want 1001, not a moderator", p)
	}
	m := h.joinRoom("1002", "800", "9999#")
	if p := h.participantOf("800", m); !p.Moderator {
		t.Errorf("participant %+v: want a moderator", p)
	}
	// The moderator mutes everyone else (4), then unmutes them (4 again).
	h.ast.press(m, "4")
	eventually(t, "1001 muted by the moderator", func() bool { return h.ast.isMuted(a) && h.participantOf("800", a).Muted })
	if h.ast.isMuted(m) {
		t.Error("the moderator muted themselves")
	}
	h.ast.press(m, "4")
	eventually(t, "1001 unmuted", func() bool { return !h.ast.isMuted(a) })
	// Anyone mutes themselves with 1.
	h.ast.press(a, "1")
	eventually(t, "1001 muted by themselves", func() bool { return h.ast.isMuted(a) })
}

func TestRoomLimitLockKick(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.joinRoom("1001", "800", "1234#")
	b := h.joinRoom("1002", "800", "1234#")
	// Music while one is alone, none once there are two; a tone when the second joined.
	ops := h.ast.opsSince(0)
	if on, off := index(ops, "moh-on sbroom-800"), index(ops, "moh-off sbroom-800"); on < 0 || off < on {
		t.Errorf("music on %d, off %d: %v", on, off, ops)
	}
	if index(ops, "play-bridge sbroom-800 sound:confbridge-join") < 0 {
		t.Errorf("no join tone: %v", ops)
	}

	// Locked: a participant is refused, a moderator is not.
	if err := h.app.LockRoom(ctx, "800", true); err != nil {
		t.Fatal(err)
	}
	if !h.roomState("800").Locked || h.ast.global("SB_ROOM_LOCKED_800") != "1" {
		t.Fatalf("room not locked: %+v", h.roomState("800"))
	}
	refused := h.ast.dial("1003", "800")
	h.ast.press(refused, "1234#")
	h.waitRecord(refused, "missed, locked", ended(switchboard.Missed, switchboard.ReasonRoomLocked))
	m := h.joinRoom("1004", "800", "9999#")

	// Full (three): the next one is refused, moderator or not.
	full := h.ast.dial("1005", "800")
	h.ast.press(full, "9999#")
	h.waitRecord(full, "missed, full", ended(switchboard.Missed, switchboard.ReasonRoomFull))

	// Muted by an admin.
	pa := h.participantOf("800", a)
	if err := h.app.MuteParticipant(ctx, "800", pa.ID, true); err != nil {
		t.Fatal(err)
	}
	if !h.ast.isMuted(a) || !h.participantOf("800", a).Muted {
		t.Error("1001 not muted")
	}
	if err := h.app.MuteParticipant(ctx, "800", "nobody", true); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("mute of nobody: %v, want ENOTFOUND", err)
	}

	// Kicked: told, hung up, recorded.
	if err := h.app.KickParticipant(ctx, "800", h.participantOf("800", b).ID); err != nil {
		t.Fatal(err)
	}
	h.waitRecord(b, "ended, kicked", func(r switchboard.CallRecord) bool {
		return !r.Active() && r.Outcome == switchboard.Answered && r.Reason == switchboard.ReasonKicked
	})
	if n := len(h.roomState("800").Participants); n != 2 {
		t.Errorf("%d participants after the kick, want 2", n)
	}

	// The last one out ends the room: bridge gone, unlocked.
	h.ast.end(a, 16)
	h.ast.end(m, 16)
	eventually(t, "room 800 ended", func() bool {
		st := h.roomState("800")
		return len(st.Participants) == 0 && !st.Locked && h.ast.global("SB_ROOM_LOCKED_800") == ""
	})
	h.waitRecord(a, "ended", func(r switchboard.CallRecord) bool { return !r.Active() && r.Reason == "" })
	if index(h.ast.opsSince(0), "destroy sbroom-800") < 0 {
		t.Error("the room's bridge was not destroyed")
	}
	if err := h.app.LockRoom(ctx, "800", true); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
		t.Errorf("locking an empty room: %v, want ECONFLICT", err)
	}
}

func TestRoomSurvivesRestart(t *testing.T) {
	h := newHarness(t)
	a := h.joinRoom("1001", "800", "9999#")
	b := h.joinRoom("1002", "800", "1234#")
	h.app.MuteParticipant(context.Background(), "800", h.participantOf("800", b).ID, true)
	before := h.participantOf("800", a)
	h.restart()
	eventually(t, "both taken back", func() bool { return len(h.roomState("800").Participants) == 2 })
	after := h.participantOf("800", a)
	if !after.Moderator || !after.JoinedAt.Equal(before.JoinedAt) {
		t.Errorf("after the restart %+v, before %+v", after, before)
	}
	if !h.participantOf("800", b).Muted {
		t.Error("1002's mute was forgotten")
	}
	// Nobody was asked for a PIN again, and the conversation never left the bridge.
	for _, ch := range []string{a, b} {
		if !h.ast.inBridge("sbroom-800", ch) {
			t.Errorf("%s left the room's bridge", ch)
		}
	}
	h.ast.end(b, 16)
	h.waitRecord(b, "ended", func(r switchboard.CallRecord) bool { return !r.Active() })
	if n := len(h.roomState("800").Participants); n != 1 {
		t.Errorf("%d participants, want 1", n)
	}
}

func TestOpenRoom(t *testing.T) {
	h := newHarness(t)
	a := h.joinRoom("1001", "801", "")
	if index(h.ast.opsSince(0), "play "+a) >= 0 {
		t.Error("a room without PINs asked for one")
	}
	// A number nobody has is still refused.
	x := h.ast.dial("1001", "899")
	h.waitRecord(x, "failed", ended(switchboard.Failed, switchboard.ReasonUnknownExtension))
}
