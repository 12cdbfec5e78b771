package api_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

// groupsAPI is the API with users, rooms and groups in one plan of numbers; users 1001, 1002
// and 1003 and room 800 exist.
type groupsAPI struct {
	*testAPI
	rooms  *inmem.RoomStore
	groups *inmem.GroupStore
}

func newGroupsAPI(t *testing.T) *groupsAPI {
	t.Helper()
	users := inmem.NewUserStore()
	ta := &groupsAPI{testAPI: &testAPI{t: t, store: users, trig: &triggers{}},
		rooms: inmem.NewRoomStore(users), groups: inmem.NewGroupStore(users)}
	s, err := api.NewServer(api.Server{
		Users:  &provisioning.Service{Store: users, Config: ta.trig, Presence: fakePresence{}},
		Rooms:  &provisioning.RoomService{Store: ta.rooms},
		Groups: &provisioning.GroupService{Store: ta.groups},
		Token:  token,
	})
	if err != nil {
		t.Fatal(err)
	}
	ta.srv = httptest.NewServer(s.Handler())
	t.Cleanup(ta.srv.Close)
	for _, ext := range []string{"1001", "1002", "1003"} {
		if r := ta.do("POST", "/api/v1/users", `{"extension":"`+ext+`","name":"User `+ext+`"}`); r.Status != 201 {
			t.Fatalf("user %s: %d %s", ext, r.Status, r.Body)
		}
	}
	if r := ta.do("POST", "/api/v1/rooms", `{"number":"800","name":"Sales"}`); r.Status != 201 {
		t.Fatalf("room 800: %d %s", r.Status, r.Body)
	}
	return ta
}

func (r response) group(t *testing.T) api.Group {
	t.Helper()
	var g api.Group
	if err := json.Unmarshal(r.Body, &g); err != nil {
		t.Fatalf("%s: %v", r.Body, err)
	}
	return g
}

func TestGroupLifecycle(t *testing.T) {
	ta := newGroupsAPI(t)
	t.Run("Create", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/groups", `{"number":"600","name":"Support","members":["1003","1001"],"strategy":"hunt",
			"ring_seconds":10,"timeout":45,"no_answer":{"kind":"voicemail","number":"1002"}}`)
		if r.Status != 201 || r.Header.Get("Location") != "/api/v1/groups/600" {
			t.Fatalf("status %d, Location %q: %s", r.Status, r.Header.Get("Location"), r.Body)
		}
		g := r.group(t)
		if g.Number != "600" || g.Name != "Support" || strings.Join(g.Members, ",") != "1003,1001" || g.Strategy != "hunt" ||
			g.RingSeconds != 10 || g.Timeout != 45 || g.NoAnswer != (api.GroupDestination{Kind: "voicemail", Number: "1002"}) {
			t.Errorf("created %+v", g)
		}
	})
	t.Run("Defaults", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/groups", `{"number":"60","name":"Everyone","members":["1001","1002","1003"]}`)
		g := r.group(t)
		if r.Status != 201 || g.Strategy != "ring_all" || g.RingSeconds != switchboard.DefaultGroupRingSeconds ||
			g.Timeout != switchboard.DefaultGroupTimeout || !strings.Contains(string(r.Body), `"no_answer":{"kind":"hangup"}`) {
			t.Errorf("status %d, group %s", r.Status, r.Body)
		}
	})
	t.Run("ListInReadingOrder", func(t *testing.T) {
		ta.do("POST", "/api/v1/groups", `{"number":"7000","name":"Board","members":["1002"],"no_answer":{"kind":"number","number":"800"}}`)
		var l api.GroupList
		json.Unmarshal(ta.do("GET", "/api/v1/groups", "").Body, &l)
		var got []string
		for _, g := range l.Groups {
			got = append(got, g.Number)
		}
		if strings.Join(got, ",") != "60,600,7000" {
			t.Errorf("groups %v", got)
		}
	})
	t.Run("Get", func(t *testing.T) {
		r := ta.do("GET", "/api/v1/groups/600", "")
		if g := r.group(t); r.Status != 200 || g.Name != "Support" || strings.Join(g.Members, ",") != "1003,1001" {
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
	})
	t.Run("Patch", func(t *testing.T) {
		r := ta.do("PATCH", "/api/v1/groups/600", `{"members":["1002","1003","1001"],"strategy":"ring_all","no_answer":{"kind":"hangup"}}`)
		g := r.group(t)
		if r.Status != 200 || strings.Join(g.Members, ",") != "1002,1003,1001" || g.Strategy != "ring_all" ||
			g.NoAnswer.Kind != "hangup" || g.Name != "Support" || g.RingSeconds != 10 {
			t.Errorf("status %d, group %+v", r.Status, g)
		}
	})
	t.Run("DeletingAUserLeavesTheGroup", func(t *testing.T) {
		if r := ta.do("DELETE", "/api/v1/users/1003", ""); r.Status != 204 {
			t.Fatalf("delete user: %d %s", r.Status, r.Body)
		}
		if g := ta.do("GET", "/api/v1/groups/600", "").group(t); strings.Join(g.Members, ",") != "1002,1001" {
			t.Errorf("members after user 1003 was deleted: %v", g.Members)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if r := ta.do("DELETE", "/api/v1/groups/600", ""); r.Status != 204 {
			t.Errorf("delete: %d %s", r.Status, r.Body)
		}
		if r := ta.do("GET", "/api/v1/groups/600", ""); r.Status != 404 || r.errorCode() != "not_found" {
			t.Errorf("after delete: %d %s", r.Status, r.Body)
		}
		if r := ta.do("DELETE", "/api/v1/groups/600", ""); r.Status != 404 {
			t.Errorf("second delete: %d %s", r.Status, r.Body)
		}
		// Its number is free again, for a user too.
		if r := ta.do("POST", "/api/v1/users", `{"extension":"600","name":"Was Support"}`); r.Status != 201 {
			t.Errorf("user on a deleted group's number: %d %s", r.Status, r.Body)
		}
	})
	t.Run("UnknownMethod", func(t *testing.T) {
		if r := ta.do("PUT", "/api/v1/groups/60", `{}`); r.Status != 405 || r.Header.Get("Allow") != "GET, PATCH, DELETE" {
			t.Errorf("PUT: %d Allow=%q", r.Status, r.Header.Get("Allow"))
		}
	})
}

// Users, rooms and groups share numbers: each is refused another's, with 409.
func TestGroupNumberClash(t *testing.T) {
	ta := newGroupsAPI(t)
	ta.do("POST", "/api/v1/groups", `{"number":"600","name":"Support","members":["1001"]}`)
	for _, c := range []struct{ name, path, body, msg string }{
		{"GroupOnAUser", "/api/v1/groups", `{"number":"1001","name":"Clash","members":["1002"]}`, "number 1001 is in use"},
		{"GroupOnARoom", "/api/v1/groups", `{"number":"800","name":"Clash","members":["1002"]}`, "number 800 is in use"},
		{"GroupOnAGroup", "/api/v1/groups", `{"number":"600","name":"Clash","members":["1002"]}`, "number 600 is in use"},
		{"UserOnAGroup", "/api/v1/users", `{"extension":"600","name":"Clash"}`, "number 600 is in use by a ring group"},
		{"RoomOnAGroup", "/api/v1/rooms", `{"number":"600","name":"Clash"}`, "number 600 is in use"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := ta.do("POST", c.path, c.body); r.Status != 409 || r.errorCode() != "conflict" || !strings.Contains(string(r.Body), c.msg) {
				t.Errorf("%d %s, want 409 %q", r.Status, r.Body, c.msg)
			}
		})
	}
	if groups, _ := ta.groups.Groups(context.Background()); len(groups) != 1 || groups[0].Name != "Support" {
		t.Errorf("groups after the clashes: %+v", groups)
	}
	if rooms, _ := ta.rooms.Rooms(context.Background()); len(rooms) != 1 || rooms[0].Name != "Sales" {
		t.Errorf("rooms after the clashes: %+v", rooms)
	}
	if _, err := ta.store.User(context.Background(), "600"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("a clashing user was stored: %v", err)
	}
}

func TestGroupBadInputChangesNothing(t *testing.T) {
	ta := newGroupsAPI(t)
	ta.do("POST", "/api/v1/groups", `{"number":"600","name":"Support","members":["1001","1002"]}`)
	before, _ := ta.groups.Group(context.Background(), "600")
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"InvalidJSON", "POST", "/api/v1/groups", `{"number":"601",`, 400},
		{"EmptyBody", "POST", "/api/v1/groups", ``, 400},
		{"TwoObjects", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"]}{"number":"602"}`, 400},
		{"UnknownField", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"music":true}`, 400},
		{"UnknownDestinationField", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"no_answer":{"kind":"hangup","after":5}}`, 400},
		{"WrongType", "POST", "/api/v1/groups", `{"number":601,"name":"B","members":["1001"]}`, 400},
		{"MembersNotAList", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":"1001,1002"}`, 400},
		{"MemberNumber", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":[1001]}`, 400},
		{"Oversize", "POST", "/api/v1/groups", `{"number":"601","name":"` + strings.Repeat("x", api.MaxBodyBytes) + `","members":["1001"]}`, 413},
		{"NumberTooShort", "POST", "/api/v1/groups", `{"number":"6","name":"B","members":["1001"]}`, 400},
		{"NumberPattern", "POST", "/api/v1/groups", `{"number":"_X.","name":"B","members":["1001"]}`, 400},
		{"NameSection", "POST", "/api/v1/groups", `{"number":"601","name":"B\n[evil]","members":["1001"]}`, 400},
		{"NoMembers", "POST", "/api/v1/groups", `{"number":"601","name":"B"}`, 400},
		{"EmptyMembers", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":[]}`, 400},
		{"MemberTwice", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001","1001"]}`, 400},
		{"MemberIsTheGroup", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001","601"]}`, 400},
		{"MemberDialString", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001&PJSIP/1002"]}`, 400},
		{"MemberNotAUser", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001","1234"]}`, 400},
		{"MemberIsARoom", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["800"]}`, 400},
		{"StrategyUnknown", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"strategy":"random"}`, 400},
		// Explicit "" and 0 are out of range, not "the default".
		{"StrategyEmpty", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"strategy":""}`, 400},
		{"RingZero", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"ring_seconds":0}`, 400},
		{"RingTooLong", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"ring_seconds":121}`, 400},
		{"TimeoutZero", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"timeout":0}`, 400},
		{"TimeoutTooLong", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"timeout":601}`, 400},
		{"DestinationEmpty", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"no_answer":{}}`, 400},
		{"DestinationKind", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"no_answer":{"kind":"queue"}}`, 400},
		{"HangupWithNumber", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"no_answer":{"kind":"hangup","number":"1001"}}`, 400},
		{"VoicemailWithoutNumber", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"no_answer":{"kind":"voicemail"}}`, 400},
		{"NumberIsTheGroup", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"no_answer":{"kind":"number","number":"601"}}`, 400},
		{"NumberFeatureCode", "POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001"],"no_answer":{"kind":"number","number":"*97"}}`, 400},
		{"PatchNumber", "PATCH", "/api/v1/groups/600", `{"number":"601"}`, 400},
		{"PatchName", "PATCH", "/api/v1/groups/600", `{"name":"Support\n#include x"}`, 400},
		{"PatchNoMembers", "PATCH", "/api/v1/groups/600", `{"members":[]}`, 400},
		{"PatchMemberNotAUser", "PATCH", "/api/v1/groups/600", `{"name":"Changed","members":["1002","1999"]}`, 400},
		{"PatchStrategyEmpty", "PATCH", "/api/v1/groups/600", `{"strategy":""}`, 400},
		{"PatchRingZero", "PATCH", "/api/v1/groups/600", `{"ring_seconds":0}`, 400},
		{"PatchDestinationToItself", "PATCH", "/api/v1/groups/600", `{"no_answer":{"kind":"number","number":"600"}}`, 400},
		{"PatchInvalidJSON", "PATCH", "/api/v1/groups/600", `{"name":`, 400},
		{"PatchEmptyBody", "PATCH", "/api/v1/groups/600", ``, 400},
		{"BadPathNumber", "GET", "/api/v1/groups/60a", ``, 400},
		{"BadPathNumberPatch", "PATCH", "/api/v1/groups/6", `{"name":"X"}`, 400},
		{"BadPathNumberDelete", "DELETE", "/api/v1/groups/1234567", ``, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ta.do(tt.method, tt.path, tt.body)
			if r.Status != tt.status || r.errorCode() != "invalid" {
				t.Errorf("status %d code %q, want %d invalid: %s", r.Status, r.errorCode(), tt.status, r.Body)
			}
		})
	}
	groups, _ := ta.groups.Groups(context.Background())
	if len(groups) != 1 || !reflect.DeepEqual(groups[0], before) {
		t.Errorf("bad input changed the groups: %+v", groups)
	}
	t.Run("MessageNamesTheMember", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/groups", `{"number":"601","name":"B","members":["1001","1234"]}`)
		if !strings.Contains(string(r.Body), "member 1234 is not a user") {
			t.Errorf("%d %s", r.Status, r.Body)
		}
	})
}

// Without a group service the group routes answer 503, and the rest of the API works.
func TestGroupsUnavailable(t *testing.T) {
	ta := newTestAPI(t)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/groups", ""},
		{"POST", "/api/v1/groups", `{"number":"600","name":"Support","members":["1001"]}`},
		{"GET", "/api/v1/groups/600", ""},
		{"PATCH", "/api/v1/groups/600", `{"name":"X"}`},
		{"DELETE", "/api/v1/groups/600", ""},
	} {
		if r := ta.do(c.method, c.path, c.body); r.Status != 503 || r.errorCode() != "unavailable" ||
			!strings.Contains(string(r.Body), "ring groups are not available") {
			t.Errorf("%s %s without groups: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	if r := ta.do("GET", "/api/v1/users", ""); r.Status != 200 {
		t.Errorf("users without groups: %d %s", r.Status, r.Body)
	}
}

func TestGroupsAuth(t *testing.T) {
	ta := newGroupsAPI(t)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/groups", ""},
		{"POST", "/api/v1/groups", `{"number":"600","name":"Support","members":["1001"]}`},
		{"GET", "/api/v1/groups/600", ""},
		{"PATCH", "/api/v1/groups/600", `{"name":"X"}`},
		{"DELETE", "/api/v1/groups/600", ""},
	} {
		for _, auth := range []string{"Bearer wrong-token-0123456789", ""} {
			if r := ta.do(c.method, c.path, c.body, "Authorization", auth); r.Status != 401 || r.errorCode() != "unauthorized" {
				t.Errorf("%s %s with Authorization %q: %d %s", c.method, c.path, auth, r.Status, r.Body)
			}
		}
	}
	if groups, _ := ta.groups.Groups(context.Background()); len(groups) != 0 {
		t.Error("an unauthenticated POST created a group")
	}
}

func TestGroupsDatabaseDown(t *testing.T) {
	ta := newGroupsAPI(t)
	ta.do("POST", "/api/v1/groups", `{"number":"600","name":"Support","members":["1001"]}`)
	ta.store.SetDown(true) // the groups live in the same database
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/groups", ""},
		{"GET", "/api/v1/groups/600", ""},
		{"POST", "/api/v1/groups", `{"number":"601","name":"Board","members":["1001"]}`},
		{"PATCH", "/api/v1/groups/600", `{"name":"X"}`},
		{"DELETE", "/api/v1/groups/600", ""},
	} {
		if r := ta.do(c.method, c.path, c.body); r.Status != 503 || r.errorCode() != "unavailable" {
			t.Errorf("%s %s with the database down: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	ta.store.SetDown(false)
	if r := ta.do("GET", "/api/v1/groups/600", ""); r.Status != 200 || r.group(t).Name != "Support" {
		t.Errorf("after recovery: %d %s", r.Status, r.Body)
	}
}

// showsPIN reports whether a response body has a "pin" field anywhere (pin_set is not one).
func showsPIN(body []byte) bool { return strings.Contains(string(body), `"pin":`) }

// A group's own mailbox: its PIN is shown in the response that generated it and never again,
// and its unanswered calls may go to it only while it is on.
func TestGroupMailbox(t *testing.T) {
	ctx := context.Background()
	ta := newGroupsAPI(t)
	var pin string
	t.Run("CreateShowsGeneratedPINOnce", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/groups", `{"number":"600","name":"Support","members":["1001","1002"],
			"voicemail":{"enabled":true},"no_answer":{"kind":"voicemail","number":"600"}}`)
		g := r.group(t)
		if r.Status != 201 || !g.Voicemail.Enabled || !g.Voicemail.PINSet || len(g.Voicemail.PIN) != 6 ||
			strings.Trim(g.Voicemail.PIN, "0123456789") != "" || g.NoAnswer != (api.GroupDestination{Kind: "voicemail", Number: "600"}) {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		pin = g.Voicemail.PIN
		if stored, _ := ta.groups.Group(ctx, "600"); stored.Mailbox != (switchboard.Mailbox{Enabled: true, PIN: pin}) {
			t.Errorf("stored mailbox %+v, shown PIN %s", stored.Mailbox, pin)
		}
	})
	t.Run("GetHidesPIN", func(t *testing.T) {
		r := ta.do("GET", "/api/v1/groups/600", "")
		if g := r.group(t); r.Status != 200 || g.Voicemail != (api.Voicemail{Enabled: true, PINSet: true}) || showsPIN(r.Body) {
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
		if r := ta.do("GET", "/api/v1/groups", ""); r.Status != 200 || showsPIN(r.Body) || !strings.Contains(string(r.Body), `"pin_set":true`) {
			t.Errorf("list: %d %s", r.Status, r.Body)
		}
	})
	t.Run("CreateWithPINShowsNone", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/groups", `{"number":"601","name":"Sales","members":["1003"],"voicemail":{"pin":"0042"}}`)
		if g := r.group(t); r.Status != 201 || g.Voicemail != (api.Voicemail{Enabled: true, PINSet: true}) || showsPIN(r.Body) {
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
		if stored, _ := ta.groups.Group(ctx, "601"); stored.Mailbox.PIN != "0042" {
			t.Errorf("stored mailbox %+v", stored.Mailbox)
		}
	})
	t.Run("NoneByDefault", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/groups", `{"number":"602","name":"Board","members":["1003"]}`)
		if r.Status != 201 || !strings.Contains(string(r.Body), `"voicemail":{"enabled":false,"pin_set":false}`) {
			t.Errorf("status %d: %s", r.Status, r.Body)
		}
	})
	t.Run("ErrVoicemailToItselfWithoutMailbox", func(t *testing.T) {
		for _, body := range []string{
			`{"number":"603","name":"X","members":["1001"],"no_answer":{"kind":"voicemail","number":"603"}}`,
			`{"number":"603","name":"X","members":["1001"],"voicemail":{"enabled":false},"no_answer":{"kind":"voicemail","number":"603"}}`,
		} {
			r := ta.do("POST", "/api/v1/groups", body)
			if r.Status != 400 || r.errorCode() != "invalid" ||
				!strings.Contains(string(r.Body), "no_answer: voicemail to the group's own number needs its own mailbox (voicemail.enabled)") {
				t.Errorf("%s: %d %s", body, r.Status, r.Body)
			}
		}
		r := ta.do("PATCH", "/api/v1/groups/602", `{"no_answer":{"kind":"voicemail","number":"602"}}`)
		if r.Status != 400 || !strings.Contains(string(r.Body), "needs its own mailbox") {
			t.Errorf("PATCH to its own mailbox, which is off: %d %s", r.Status, r.Body)
		}
		// Turning it off while the calls go there is refused alike.
		if r := ta.do("PATCH", "/api/v1/groups/600", `{"voicemail":{"enabled":false}}`); r.Status != 400 ||
			!strings.Contains(string(r.Body), "needs its own mailbox") {
			t.Errorf("PATCH off while no_answer goes to it: %d %s", r.Status, r.Body)
		}
	})
	t.Run("ErrBadPINStoresNothing", func(t *testing.T) {
		before, _ := ta.groups.Groups(ctx)
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/api/v1/groups", `{"number":"603","name":"X","members":["1001"],"voicemail":{"enabled":true,"pin":"12a4"}}`},
			{"POST", "/api/v1/groups", `{"number":"603","name":"X","members":["1001"],"voicemail":{"enabled":true,"pin":"123"}}`},
			{"POST", "/api/v1/groups", `{"number":"603","name":"X","members":["1001"],"voicemail":{"enabled":true,"pin":"1234\n"}}`},
			{"POST", "/api/v1/groups", `{"number":"603","name":"X","members":["1001"],"voicemail":{"enabled":true,"greeting":"x"}}`},
			{"PATCH", "/api/v1/groups/600", `{"name":"Changed","voicemail":{"pin":"12345678901"}}`},
			{"PATCH", "/api/v1/groups/601", `{"voicemail":{"pin":""}}`}, // on, so it needs one
		} {
			if r := ta.do(c.method, c.path, c.body); r.Status != 400 || r.errorCode() != "invalid" {
				t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, r.Status, r.Body)
			}
		}
		if after, _ := ta.groups.Groups(ctx); !reflect.DeepEqual(after, before) {
			t.Errorf("bad PINs changed the groups: %+v, was %+v", after, before)
		}
	})
	t.Run("PatchOffKeepsPIN", func(t *testing.T) {
		r := ta.do("PATCH", "/api/v1/groups/600", `{"voicemail":{"enabled":false},"no_answer":{"kind":"hangup"}}`)
		if g := r.group(t); r.Status != 200 || g.Voicemail != (api.Voicemail{PINSet: true}) || showsPIN(r.Body) {
			t.Errorf("off: %d %s", r.Status, r.Body)
		}
		// On again it has the PIN it kept, so none is generated and none is shown.
		r = ta.do("PATCH", "/api/v1/groups/600", `{"voicemail":{"enabled":true},"no_answer":{"kind":"voicemail","number":"600"}}`)
		if g := r.group(t); r.Status != 200 || g.Voicemail != (api.Voicemail{Enabled: true, PINSet: true}) || showsPIN(r.Body) {
			t.Errorf("on again: %d %s", r.Status, r.Body)
		}
		if stored, _ := ta.groups.Group(ctx, "600"); stored.Mailbox.PIN != pin {
			t.Errorf("PIN %q after off and on, want the one kept (%s)", stored.Mailbox.PIN, pin)
		}
	})
	t.Run("PatchOnShowsGeneratedPINOnce", func(t *testing.T) {
		r := ta.do("PATCH", "/api/v1/groups/602", `{"voicemail":{"enabled":true},"no_answer":{"kind":"voicemail","number":"602"}}`)
		g := r.group(t)
		if r.Status != 200 || !g.Voicemail.Enabled || len(g.Voicemail.PIN) != 6 {
			t.Fatalf("on: %d %s", r.Status, r.Body)
		}
		if stored, _ := ta.groups.Group(ctx, "602"); stored.Mailbox.PIN != g.Voicemail.PIN {
			t.Errorf("stored PIN %q, shown %q", stored.Mailbox.PIN, g.Voicemail.PIN)
		}
		if r := ta.do("GET", "/api/v1/groups/602", ""); showsPIN(r.Body) {
			t.Errorf("GET after the PATCH: %s", r.Body)
		}
		// A PIN the admin gives is theirs: it is not shown back.
		if r := ta.do("PATCH", "/api/v1/groups/602", `{"voicemail":{"pin":"97531"}}`); r.Status != 200 || showsPIN(r.Body) {
			t.Errorf("new PIN: %d %s", r.Status, r.Body)
		}
	})
}
