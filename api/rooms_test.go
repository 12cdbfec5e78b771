package api_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

const (
	aliceCall = "0b0e7d4e-3c1f-4a55-9d6e-6a1f5c0b2e11"
	bobCall   = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
)

// roomsAPI is the API with users and rooms in one plan of numbers and fake call control.
type roomsAPI struct {
	*testAPI
	rooms *inmem.RoomStore
	live  *inmem.RoomControl
}

func newRoomsAPI(t *testing.T) *roomsAPI {
	t.Helper()
	users := inmem.NewUserStore()
	ta := &roomsAPI{testAPI: &testAPI{t: t, store: users, trig: &triggers{}},
		rooms: inmem.NewRoomStore(users), live: inmem.NewRoomControl()}
	s, err := api.NewServer(api.Server{
		Users: &provisioning.Service{Store: users, Config: ta.trig, Presence: fakePresence{}},
		Rooms: &provisioning.RoomService{Store: ta.rooms, Live: ta.live},
		Token: token,
	})
	if err != nil {
		t.Fatal(err)
	}
	ta.srv = httptest.NewServer(s.Handler())
	t.Cleanup(ta.srv.Close)
	return ta
}

func TestRoomLifecycle(t *testing.T) {
	ta := newRoomsAPI(t)
	t.Run("Create", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/rooms", `{"number":"800","name":"Sales Weekly","pin":"1234","moderator_pin":"98765","max_participants":8,"announce_joins":false}`)
		if r.Status != 201 || r.Header.Get("Location") != "/api/v1/rooms/800" {
			t.Fatalf("status %d, Location %q: %s", r.Status, r.Header.Get("Location"), r.Body)
		}
		var room api.Room
		json.Unmarshal(r.Body, &room)
		if room.Number != "800" || room.PIN != "1234" || room.ModeratorPIN != "98765" || room.MaxParticipants != 8 ||
			room.AnnounceJoins || !room.MusicWhenAlone {
			t.Errorf("created %+v", room)
		}
	})
	t.Run("Defaults", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/rooms", `{"number":"80","name":"Everyone"}`)
		var room api.Room
		json.Unmarshal(r.Body, &room)
		if r.Status != 201 || room.PIN != "" || room.MaxParticipants != switchboard.DefaultRoomParticipants ||
			!room.AnnounceJoins || !room.MusicWhenAlone || strings.Contains(string(r.Body), `"pin"`) {
			t.Errorf("status %d, room %s", r.Status, r.Body)
		}
	})
	t.Run("ListInReadingOrder", func(t *testing.T) {
		ta.do("POST", "/api/v1/rooms", `{"number":"7000","name":"Board"}`)
		var l api.RoomList
		json.Unmarshal(ta.do("GET", "/api/v1/rooms", "").Body, &l)
		var got []string
		for _, room := range l.Rooms {
			got = append(got, room.Number)
		}
		if strings.Join(got, ",") != "80,800,7000" {
			t.Errorf("rooms %v", got)
		}
	})
	t.Run("GetWithLiveState", func(t *testing.T) {
		ta.live.Join("800", switchboard.Participant{ID: aliceCall, Caller: "1001", Channel: "PJSIP/1001-00000001",
			JoinedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Moderator: true})
		r := ta.do("GET", "/api/v1/rooms/800", "")
		var d api.RoomDetail
		json.Unmarshal(r.Body, &d)
		if r.Status != 200 || d.Name != "Sales Weekly" || d.Live == nil || len(d.Live.Participants) != 1 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		if p := d.Live.Participants[0]; p.ID != aliceCall || p.Caller != "1001" || !p.Moderator || p.Muted {
			t.Errorf("participant %+v", p)
		}
		// A room nobody is in has an empty list, not null.
		if r := ta.do("GET", "/api/v1/rooms/80", ""); !strings.Contains(string(r.Body), `"live":{"locked":false,"participants":[]}`) {
			t.Errorf("empty room: %s", r.Body)
		}
	})
	t.Run("Patch", func(t *testing.T) {
		r := ta.do("PATCH", "/api/v1/rooms/800", `{"name":"Sales","pin":"","music_when_alone":false}`)
		var room api.Room
		json.Unmarshal(r.Body, &room)
		if r.Status != 200 || room.Name != "Sales" || room.PIN != "" || room.ModeratorPIN != "98765" || room.MusicWhenAlone {
			t.Errorf("status %d, room %+v", r.Status, room)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if r := ta.do("DELETE", "/api/v1/rooms/800", ""); r.Status != 204 {
			t.Errorf("delete: %d %s", r.Status, r.Body)
		}
		if r := ta.do("GET", "/api/v1/rooms/800", ""); r.Status != 404 || r.errorCode() != "not_found" {
			t.Errorf("after delete: %d %s", r.Status, r.Body)
		}
		if st, _ := ta.live.RoomState(context.Background(), "800"); len(st.Participants) != 1 {
			t.Errorf("deleting the room cut its participant: %+v", st)
		}
		// Its number is free again, for a user too.
		if r := ta.do("POST", "/api/v1/users", `{"extension":"800","name":"Was Sales"}`); r.Status != 201 {
			t.Errorf("user on a deleted room's number: %d %s", r.Status, r.Body)
		}
	})
	t.Run("UnknownMethod", func(t *testing.T) {
		if r := ta.do("PUT", "/api/v1/rooms/80", `{}`); r.Status != 405 || r.Header.Get("Allow") != "GET, PATCH, DELETE" {
			t.Errorf("PUT: %d Allow=%q", r.Status, r.Header.Get("Allow"))
		}
	})
}

// Users and rooms share numbers: each is refused the other's, with 409.
func TestRoomNumberClash(t *testing.T) {
	ta := newRoomsAPI(t)
	ta.do("POST", "/api/v1/users", `{"extension":"1001","name":"Alice"}`)
	ta.do("POST", "/api/v1/rooms", `{"number":"800","name":"Sales"}`)
	if r := ta.do("POST", "/api/v1/rooms", `{"number":"1001","name":"Clash"}`); r.Status != 409 || r.errorCode() != "conflict" ||
		!strings.Contains(string(r.Body), "number 1001 is in use") {
		t.Errorf("room on a user's extension: %d %s", r.Status, r.Body)
	}
	if r := ta.do("POST", "/api/v1/users", `{"extension":"800","name":"Clash"}`); r.Status != 409 || r.errorCode() != "conflict" {
		t.Errorf("user on a room's number: %d %s", r.Status, r.Body)
	}
	if r := ta.do("POST", "/api/v1/rooms", `{"number":"800","name":"Again"}`); r.Status != 409 {
		t.Errorf("room on a room's number: %d %s", r.Status, r.Body)
	}
	if rooms, _ := ta.rooms.Rooms(context.Background()); len(rooms) != 1 || rooms[0].Name != "Sales" {
		t.Errorf("rooms after the clashes: %+v", rooms)
	}
	if _, err := ta.store.User(context.Background(), "800"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("a clashing user was stored: %v", err)
	}
}

func TestRoomBadInputChangesNothing(t *testing.T) {
	ta := newRoomsAPI(t)
	ta.do("POST", "/api/v1/rooms", `{"number":"800","name":"Sales","pin":"1234"}`)
	before, _ := ta.rooms.Room(context.Background(), "800")
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"InvalidJSON", "POST", "/api/v1/rooms", `{"number":"801",`, 400},
		{"EmptyBody", "POST", "/api/v1/rooms", ``, 400},
		{"TwoObjects", "POST", "/api/v1/rooms", `{"number":"801","name":"B"}{"number":"802","name":"C"}`, 400},
		{"UnknownField", "POST", "/api/v1/rooms", `{"number":"801","name":"B","record":true}`, 400},
		{"WrongType", "POST", "/api/v1/rooms", `{"number":801,"name":"B"}`, 400},
		{"Oversize", "POST", "/api/v1/rooms", `{"number":"801","name":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, 413},
		{"NumberTooShort", "POST", "/api/v1/rooms", `{"number":"8","name":"B"}`, 400},
		{"NumberPattern", "POST", "/api/v1/rooms", `{"number":"_X.","name":"B"}`, 400},
		{"NameSection", "POST", "/api/v1/rooms", `{"number":"801","name":"B\n[evil]"}`, 400},
		{"NameComment", "POST", "/api/v1/rooms", `{"number":"801","name":"B;c"}`, 400},
		{"PINLetters", "POST", "/api/v1/rooms", `{"number":"801","name":"B","pin":"12ab"}`, 400},
		{"PINHash", "POST", "/api/v1/rooms", `{"number":"801","name":"B","pin":"1234#"}`, 400},
		{"ModeratorPINShort", "POST", "/api/v1/rooms", `{"number":"801","name":"B","moderator_pin":"12"}`, 400},
		{"SamePINs", "POST", "/api/v1/rooms", `{"number":"801","name":"B","pin":"1234","moderator_pin":"1234"}`, 400},
		// An explicit 0 is out of range, not "the default".
		{"MaxZero", "POST", "/api/v1/rooms", `{"number":"801","name":"B","max_participants":0}`, 400},
		{"MaxOne", "POST", "/api/v1/rooms", `{"number":"801","name":"B","max_participants":1}`, 400},
		{"MaxCrowd", "POST", "/api/v1/rooms", `{"number":"801","name":"B","max_participants":101}`, 400},
		{"AnnounceNotBool", "POST", "/api/v1/rooms", `{"number":"801","name":"B","announce_joins":"yes"}`, 400},
		{"PatchNumber", "PATCH", "/api/v1/rooms/800", `{"number":"801"}`, 400},
		{"PatchName", "PATCH", "/api/v1/rooms/800", `{"name":"Sales\n#include x"}`, 400},
		{"PatchModeratorPINIsPIN", "PATCH", "/api/v1/rooms/800", `{"moderator_pin":"1234"}`, 400},
		{"PatchMax", "PATCH", "/api/v1/rooms/800", `{"max_participants":0}`, 400},
		{"PatchInvalidJSON", "PATCH", "/api/v1/rooms/800", `{"name":`, 400},
		{"BadPathNumber", "GET", "/api/v1/rooms/80a", ``, 400},
		{"BadParticipantID", "POST", "/api/v1/rooms/800/participants/PJSIP%2F1001-1/mute", ``, 400},
		{"BadParticipantIDKick", "DELETE", "/api/v1/rooms/800/participants/x", ``, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ta.do(tt.method, tt.path, tt.body)
			if r.Status != tt.status || r.errorCode() != "invalid" {
				t.Errorf("status %d code %q, want %d invalid: %s", r.Status, r.errorCode(), tt.status, r.Body)
			}
		})
	}
	rooms, _ := ta.rooms.Rooms(context.Background())
	if len(rooms) != 1 || rooms[0] != before {
		t.Errorf("bad input changed the rooms: %+v", rooms)
	}
}

func TestRoomsLive(t *testing.T) {
	ta := newRoomsAPI(t)
	ta.do("POST", "/api/v1/rooms", `{"number":"800","name":"Sales"}`)
	ta.live.Join("800", switchboard.Participant{ID: aliceCall, Caller: "1001", Channel: "PJSIP/1001-1", JoinedAt: time.Now()})
	ta.live.Join("800", switchboard.Participant{ID: bobCall, Caller: "1002", Channel: "PJSIP/1002-1", JoinedAt: time.Now()})
	state := func() api.RoomState {
		t.Helper()
		r := ta.do("GET", "/api/v1/rooms/800/participants", "")
		if r.Status != 200 {
			t.Fatalf("participants: %d %s", r.Status, r.Body)
		}
		var st api.RoomState
		json.Unmarshal(r.Body, &st)
		return st
	}
	for _, step := range []struct {
		method, path string
		check        func(api.RoomState) bool
	}{
		{"POST", "/participants/" + bobCall + "/mute", func(st api.RoomState) bool { return st.Participants[1].Muted && !st.Participants[0].Muted }},
		{"POST", "/participants/" + bobCall + "/unmute", func(st api.RoomState) bool { return !st.Participants[1].Muted }},
		{"POST", "/lock", func(st api.RoomState) bool { return st.Locked }},
		{"POST", "/unlock", func(st api.RoomState) bool { return !st.Locked }},
		{"DELETE", "/participants/" + bobCall, func(st api.RoomState) bool {
			return len(st.Participants) == 1 && st.Participants[0].ID == aliceCall
		}},
	} {
		if r := ta.do(step.method, "/api/v1/rooms/800"+step.path, ""); r.Status != 204 {
			t.Errorf("%s %s: %d %s", step.method, step.path, r.Status, r.Body)
		}
		if st := state(); !step.check(st) {
			t.Errorf("after %s %s: %+v", step.method, step.path, st)
		}
	}
	t.Run("ErrParticipantGone", func(t *testing.T) {
		if r := ta.do("POST", "/api/v1/rooms/800/participants/"+bobCall+"/mute", ""); r.Status != 404 || r.errorCode() != "not_found" {
			t.Errorf("mute of someone who left: %d %s", r.Status, r.Body)
		}
	})
	t.Run("ErrNoSuchRoom", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/rooms/801/participants"},
			{"POST", "/api/v1/rooms/801/lock"},
			{"DELETE", "/api/v1/rooms/801/participants/" + aliceCall},
		} {
			if r := ta.do(c.method, c.path, ""); r.Status != 404 {
				t.Errorf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
			}
		}
	})
	t.Run("CallControlDown", func(t *testing.T) {
		ta.live.SetDown(true)
		defer ta.live.SetDown(false)
		// The room is still shown, without what goes on in it.
		r := ta.do("GET", "/api/v1/rooms/800", "")
		if r.Status != 200 || !strings.Contains(string(r.Body), `"live":null`) {
			t.Errorf("room with call control down: %d %s", r.Status, r.Body)
		}
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/rooms/800/participants"},
			{"POST", "/api/v1/rooms/800/lock"},
			{"POST", "/api/v1/rooms/800/participants/" + aliceCall + "/mute"},
		} {
			if r := ta.do(c.method, c.path, ""); r.Status != 503 || r.errorCode() != "unavailable" {
				t.Errorf("%s %s with call control down: %d %s", c.method, c.path, r.Status, r.Body)
			}
		}
	})
}

// Without a room service (or without call control) the room routes answer 503, and the rest
// of the API works.
func TestRoomsUnavailable(t *testing.T) {
	ta := newTestAPI(t)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/rooms", ""},
		{"POST", "/api/v1/rooms", `{"number":"800","name":"Sales"}`},
		{"GET", "/api/v1/rooms/800", ""},
		{"POST", "/api/v1/rooms/800/lock", ""},
	} {
		if r := ta.do(c.method, c.path, c.body); r.Status != 503 || r.errorCode() != "unavailable" {
			t.Errorf("%s %s without rooms: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	rooms := inmem.NewRoomStore(nil)
	s, _ := api.NewServer(api.Server{Rooms: &provisioning.RoomService{Store: rooms}, Token: token})
	idle := &testAPI{t: t, srv: httptest.NewServer(s.Handler())}
	defer idle.srv.Close()
	idle.do("POST", "/api/v1/rooms", `{"number":"800","name":"Sales"}`)
	if r := idle.do("GET", "/api/v1/rooms/800", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"live":null`) {
		t.Errorf("room without call control: %d %s", r.Status, r.Body)
	}
	if r := idle.do("POST", "/api/v1/rooms/800/lock", ""); r.Status != 503 || !strings.Contains(string(r.Body), "call control is not running") {
		t.Errorf("lock without call control: %d %s", r.Status, r.Body)
	}
}

func TestRoomsAuth(t *testing.T) {
	ta := newRoomsAPI(t)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/rooms", ""},
		{"POST", "/api/v1/rooms", `{"number":"800","name":"Sales"}`},
		{"GET", "/api/v1/rooms/800", ""},
		{"PATCH", "/api/v1/rooms/800", `{"name":"X"}`},
		{"DELETE", "/api/v1/rooms/800", ""},
		{"GET", "/api/v1/rooms/800/participants", ""},
		{"POST", "/api/v1/rooms/800/participants/" + aliceCall + "/mute", ""},
		{"DELETE", "/api/v1/rooms/800/participants/" + aliceCall, ""},
		{"POST", "/api/v1/rooms/800/lock", ""},
	} {
		if r := ta.do(c.method, c.path, c.body, "Authorization", "Bearer wrong-token-0123456789"); r.Status != 401 || r.errorCode() != "unauthorized" {
			t.Errorf("%s %s with a wrong token: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	if rooms, _ := ta.rooms.Rooms(context.Background()); len(rooms) != 0 {
		t.Error("an unauthenticated POST created a room")
	}
}

func TestRoomsDatabaseDown(t *testing.T) {
	ta := newRoomsAPI(t)
	ta.do("POST", "/api/v1/rooms", `{"number":"800","name":"Sales"}`)
	ta.store.SetDown(true) // the rooms live in the same database
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/rooms", ""},
		{"GET", "/api/v1/rooms/800", ""},
		{"POST", "/api/v1/rooms", `{"number":"801","name":"Board"}`},
		{"POST", "/api/v1/rooms/800/lock", ""},
	} {
		if r := ta.do(c.method, c.path, c.body); r.Status != 503 || r.errorCode() != "unavailable" {
			t.Errorf("%s %s with the database down: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	ta.store.SetDown(false)
	if r := ta.do("GET", "/api/v1/rooms/800", ""); r.Status != 200 {
		t.Errorf("after recovery: %d", r.Status)
	}
}
