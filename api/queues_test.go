package api_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

// queuesAPI is the API with users, rooms, groups and queues in one plan of numbers and fake
// call control; users 1001, 1002 and 1003, room 800 and group 600 exist.
type queuesAPI struct {
	*testAPI
	queues *inmem.QueueStore
	live   *inmem.QueueControl
}

func newQueuesAPI(t *testing.T) *queuesAPI {
	t.Helper()
	users := inmem.NewUserStore()
	ta := &queuesAPI{testAPI: &testAPI{t: t, store: users, trig: &triggers{}},
		queues: inmem.NewQueueStore(users), live: inmem.NewQueueControl()}
	s, err := api.NewServer(api.Server{
		Users:  &provisioning.Service{Store: users, Config: ta.trig, Presence: fakePresence{}},
		Rooms:  &provisioning.RoomService{Store: inmem.NewRoomStore(users)},
		Groups: &provisioning.GroupService{Store: inmem.NewGroupStore(users)},
		Queues: &provisioning.QueueService{Store: ta.queues, Live: ta.live},
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
	for path, body := range map[string]string{
		"/api/v1/rooms":  `{"number":"800","name":"Sales"}`,
		"/api/v1/groups": `{"number":"600","name":"Support","members":["1001"]}`,
	} {
		if r := ta.do("POST", path, body); r.Status != 201 {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
		}
	}
	return ta
}

func (r response) queue(t *testing.T) api.QueueDetail {
	t.Helper()
	var q api.QueueDetail
	if err := json.Unmarshal(r.Body, &q); err != nil {
		t.Fatalf("%s: %v", r.Body, err)
	}
	return q
}

// agentsOf shows a queue's agents as "1002+,1003": + marks those logged in.
func agentsOf(q api.Queue) string {
	var out []string
	for _, a := range q.Agents {
		out = append(out, a.Extension+map[bool]string{true: "+"}[a.LoggedIn])
	}
	return strings.Join(out, ",")
}

func TestQueueLifecycle(t *testing.T) {
	ta := newQueuesAPI(t)
	t.Run("Create", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/queues", `{"number":"700","name":"Orders","agents":["1003","1001"],"strategy":"round_robin",
			"ring_seconds":10,"max_wait":120,"no_answer":{"kind":"voicemail","number":"1002"}}`)
		if r.Status != 201 || r.Header.Get("Location") != "/api/v1/queues/700" {
			t.Fatalf("status %d, Location %q: %s", r.Status, r.Header.Get("Location"), r.Body)
		}
		q := r.queue(t).Queue
		if q.Number != "700" || q.Name != "Orders" || agentsOf(q) != "1003,1001" || q.Strategy != "round_robin" ||
			q.RingSeconds != 10 || q.MaxWait != 120 || q.NoAnswer != (api.GroupDestination{Kind: "voicemail", Number: "1002"}) {
			t.Errorf("created %+v", q)
		}
		if !strings.Contains(string(r.Body), `"agents":[{"extension":"1003","logged_in":false},{"extension":"1001","logged_in":false}]`) {
			t.Errorf("agents as JSON: %s", r.Body)
		}
	})
	t.Run("Defaults", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/queues", `{"number":"70","name":"Everyone","agents":["1001","1002","1003"]}`)
		q := r.queue(t)
		if r.Status != 201 || q.Strategy != "ring_all" || q.RingSeconds != switchboard.DefaultQueueRingSeconds ||
			q.MaxWait != switchboard.DefaultQueueMaxWait || !strings.Contains(string(r.Body), `"no_answer":{"kind":"hangup"}`) {
			t.Errorf("status %d, queue %s", r.Status, r.Body)
		}
	})
	t.Run("ListInReadingOrder", func(t *testing.T) {
		ta.do("POST", "/api/v1/queues", `{"number":"7000","name":"Board","agents":["1002"],"no_answer":{"kind":"number","number":"600"}}`)
		var l api.QueueList
		json.Unmarshal(ta.do("GET", "/api/v1/queues", "").Body, &l)
		var got []string
		for _, q := range l.Queues {
			got = append(got, q.Number)
		}
		if strings.Join(got, ",") != "70,700,7000" {
			t.Errorf("queues %v", got)
		}
	})
	t.Run("LoginAndLogout", func(t *testing.T) {
		for _, step := range []struct{ action, want string }{
			{"/agents/1001/login", "1003,1001+"},
			{"/agents/1003/login", "1003+,1001+"},
			{"/agents/1001/logout", "1003+,1001"},
			{"/agents/1001/logout", "1003+,1001"}, // logging out twice is logged out
		} {
			if r := ta.do("POST", "/api/v1/queues/700"+step.action, ""); r.Status != 204 {
				t.Errorf("%s: %d %s", step.action, r.Status, r.Body)
			}
			if q := ta.do("GET", "/api/v1/queues/700", "").queue(t); agentsOf(q.Queue) != step.want {
				t.Errorf("after %s: %s, want %s", step.action, agentsOf(q.Queue), step.want)
			}
		}
		for _, path := range []string{"/api/v1/queues/700/agents/1002/login", "/api/v1/queues/701/agents/1001/login"} {
			if r := ta.do("POST", path, ""); r.Status != 404 || r.errorCode() != "not_found" {
				t.Errorf("%s: %d %s", path, r.Status, r.Body)
			}
		}
		if r := ta.do("POST", "/api/v1/queues/700/agents/1002/login", ""); !strings.Contains(string(r.Body), "1002 is not an agent of queue 700") {
			t.Errorf("message: %s", r.Body)
		}
	})
	t.Run("GetWithLiveState", func(t *testing.T) {
		since, last := time.Now().Add(-42*time.Second), time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
		ta.live.SetState(switchboard.QueueState{Number: "700", Answered: 5, Abandoned: 2, TimedOut: 1,
			Callers: []switchboard.QueuedCaller{{ID: aliceCall, Caller: "1002", Since: since, Ringing: []string{"1003"}},
				{ID: bobCall, Caller: "0301234567", Since: time.Now()}},
			Agents: []switchboard.AgentState{
				{Extension: "1003", LoggedIn: true, State: switchboard.AgentRinging, Calls: 5, LastCall: last},
				{Extension: "1001", State: switchboard.AgentLoggedOut}}})
		r := ta.do("GET", "/api/v1/queues/700", "")
		d := r.queue(t)
		if r.Status != 200 || d.Name != "Orders" || d.Live == nil || len(d.Live.Callers) != 2 || len(d.Live.Agents) != 2 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		if c := d.Live.Callers[0]; c.ID != aliceCall || c.Caller != "1002" || c.WaitSeconds < 42 || c.WaitSeconds > 44 ||
			!c.Since.Equal(since) || strings.Join(c.Ringing, ",") != "1003" {
			t.Errorf("first caller %+v", c)
		}
		// Nobody rings for the second caller yet: an empty list, not null.
		if !strings.Contains(string(r.Body), `"wait_seconds":0,"ringing":[]`) {
			t.Errorf("second caller: %s", r.Body)
		}
		if a := d.Live.Agents[0]; a.State != "ringing" || !a.LoggedIn || a.Calls != 5 || a.LastCall == nil || !a.LastCall.Equal(last) {
			t.Errorf("first agent %+v", a)
		}
		if !strings.Contains(string(r.Body), `"state":"logged_out","calls":0,"last_call":null`) {
			t.Errorf("an agent without a queue call yet: %s", r.Body)
		}
		if l := d.Live; l.Answered != 5 || l.Abandoned != 2 || l.TimedOut != 1 {
			t.Errorf("counts %+v", l)
		}
		// A queue call control says nothing of has empty lists, not null.
		if r := ta.do("GET", "/api/v1/queues/70", ""); !strings.Contains(string(r.Body),
			`"live":{"callers":[],"agents":[],"answered":0,"abandoned":0,"timed_out":0}`) {
			t.Errorf("empty queue: %s", r.Body)
		}
	})
	t.Run("PatchKeepsLogins", func(t *testing.T) {
		r := ta.do("PATCH", "/api/v1/queues/700", `{"agents":["1002","1003","1001"],"strategy":"fewest_calls","max_wait":3600,"no_answer":{"kind":"hangup"}}`)
		q := r.queue(t)
		if r.Status != 200 || agentsOf(q.Queue) != "1002,1003+,1001" || q.Strategy != "fewest_calls" || q.MaxWait != 3600 ||
			q.NoAnswer.Kind != "hangup" || q.Name != "Orders" || q.RingSeconds != 10 {
			t.Errorf("status %d, queue %+v", r.Status, q)
		}
		if strings.Contains(string(r.Body), `"live"`) {
			t.Errorf("PATCH answers the queue, not its live state: %s", r.Body)
		}
	})
	t.Run("DeletingAUserLeavesTheQueue", func(t *testing.T) {
		if r := ta.do("DELETE", "/api/v1/users/1003", ""); r.Status != 204 {
			t.Fatalf("delete user: %d %s", r.Status, r.Body)
		}
		if q := ta.do("GET", "/api/v1/queues/700", "").queue(t); agentsOf(q.Queue) != "1002,1001" {
			t.Errorf("agents after user 1003 was deleted: %s", agentsOf(q.Queue))
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if r := ta.do("DELETE", "/api/v1/queues/700", ""); r.Status != 204 {
			t.Errorf("delete: %d %s", r.Status, r.Body)
		}
		if r := ta.do("GET", "/api/v1/queues/700", ""); r.Status != 404 || r.errorCode() != "not_found" {
			t.Errorf("after delete: %d %s", r.Status, r.Body)
		}
		if r := ta.do("DELETE", "/api/v1/queues/700", ""); r.Status != 404 {
			t.Errorf("second delete: %d %s", r.Status, r.Body)
		}
		// Calls in progress are call control's: deleting the queue does not touch them.
		if st, _ := ta.live.QueueState(context.Background(), "700"); len(st.Callers) != 2 {
			t.Errorf("deleting the queue cut its callers: %+v", st)
		}
		// Its number is free again, for a user too.
		if r := ta.do("POST", "/api/v1/users", `{"extension":"700","name":"Was Orders"}`); r.Status != 201 {
			t.Errorf("user on a deleted queue's number: %d %s", r.Status, r.Body)
		}
	})
	t.Run("UnknownMethod", func(t *testing.T) {
		if r := ta.do("PUT", "/api/v1/queues/70", `{}`); r.Status != 405 || r.Header.Get("Allow") != "GET, PATCH, DELETE" {
			t.Errorf("PUT: %d Allow=%q", r.Status, r.Header.Get("Allow"))
		}
		if r := ta.do("GET", "/api/v1/queues/70/agents/1001/login", ""); r.Status != 405 || r.Header.Get("Allow") != "POST" {
			t.Errorf("GET login: %d Allow=%q", r.Status, r.Header.Get("Allow"))
		}
	})
}

// Users, rooms, groups and queues share numbers: each is refused another's, with 409.
func TestQueueNumberClash(t *testing.T) {
	ta := newQueuesAPI(t)
	ta.do("POST", "/api/v1/queues", `{"number":"700","name":"Orders","agents":["1001"]}`)
	for _, c := range []struct{ name, path, body, msg string }{
		{"QueueOnAUser", "/api/v1/queues", `{"number":"1001","name":"Clash","agents":["1002"]}`, "number 1001 is in use"},
		{"QueueOnARoom", "/api/v1/queues", `{"number":"800","name":"Clash","agents":["1002"]}`, "number 800 is in use"},
		{"QueueOnAGroup", "/api/v1/queues", `{"number":"600","name":"Clash","agents":["1002"]}`, "number 600 is in use"},
		{"QueueOnAQueue", "/api/v1/queues", `{"number":"700","name":"Clash","agents":["1002"]}`, "number 700 is in use"},
		{"UserOnAQueue", "/api/v1/users", `{"extension":"700","name":"Clash"}`, "number 700 is in use by a call queue"},
		{"RoomOnAQueue", "/api/v1/rooms", `{"number":"700","name":"Clash"}`, "number 700 is in use"},
		{"GroupOnAQueue", "/api/v1/groups", `{"number":"700","name":"Clash","members":["1001"]}`, "number 700 is in use"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := ta.do("POST", c.path, c.body); r.Status != 409 || r.errorCode() != "conflict" || !strings.Contains(string(r.Body), c.msg) {
				t.Errorf("%d %s, want 409 %q", r.Status, r.Body, c.msg)
			}
		})
	}
	if queues, _ := ta.queues.Queues(context.Background()); len(queues) != 1 || queues[0].Name != "Orders" {
		t.Errorf("queues after the clashes: %+v", queues)
	}
	if _, err := ta.store.User(context.Background(), "700"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("a clashing user was stored: %v", err)
	}
}

func TestQueueBadInputChangesNothing(t *testing.T) {
	ta := newQueuesAPI(t)
	ta.do("POST", "/api/v1/queues", `{"number":"700","name":"Orders","agents":["1001","1002"]}`)
	ta.do("POST", "/api/v1/queues/700/agents/1002/login", "")
	before, _ := ta.queues.Queue(context.Background(), "700")
	q := func(extra string) string { return `{"number":"701","name":"B","agents":["1001"]` + extra + `}` }
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"InvalidJSON", "POST", "/api/v1/queues", `{"number":"701",`, 400},
		{"EmptyBody", "POST", "/api/v1/queues", ``, 400},
		{"TwoObjects", "POST", "/api/v1/queues", q("") + `{"number":"702"}`, 400},
		{"UnknownField", "POST", "/api/v1/queues", q(`,"music":"jazz"`), 400},
		// Logins are the agents' own: they cannot be given with the list.
		{"AgentsAsObjects", "POST", "/api/v1/queues", `{"number":"701","name":"B","agents":[{"extension":"1001","logged_in":true}]}`, 400},
		{"UnknownDestinationField", "POST", "/api/v1/queues", q(`,"no_answer":{"kind":"hangup","after":5}`), 400},
		{"WrongType", "POST", "/api/v1/queues", `{"number":701,"name":"B","agents":["1001"]}`, 400},
		{"AgentsNotAList", "POST", "/api/v1/queues", `{"number":"701","name":"B","agents":"1001,1002"}`, 400},
		{"AgentNumber", "POST", "/api/v1/queues", `{"number":"701","name":"B","agents":[1001]}`, 400},
		{"Oversize", "POST", "/api/v1/queues", `{"number":"701","name":"` + strings.Repeat("x", api.MaxBodyBytes) + `","agents":["1001"]}`, 413},
		{"NumberTooShort", "POST", "/api/v1/queues", `{"number":"7","name":"B","agents":["1001"]}`, 400},
		{"NumberFeatureCode", "POST", "/api/v1/queues", `{"number":"*45","name":"B","agents":["1001"]}`, 400},
		{"NameSection", "POST", "/api/v1/queues", `{"number":"701","name":"B\n[evil]","agents":["1001"]}`, 400},
		{"NoAgents", "POST", "/api/v1/queues", `{"number":"701","name":"B"}`, 400},
		{"EmptyAgents", "POST", "/api/v1/queues", `{"number":"701","name":"B","agents":[]}`, 400},
		{"AgentTwice", "POST", "/api/v1/queues", `{"number":"701","name":"B","agents":["1001","1001"]}`, 400},
		{"AgentIsTheQueue", "POST", "/api/v1/queues", `{"number":"701","name":"B","agents":["1001","701"]}`, 400},
		{"AgentDialString", "POST", "/api/v1/queues", `{"number":"701","name":"B","agents":["1001&PJSIP/1002"]}`, 400},
		{"AgentNotAUser", "POST", "/api/v1/queues", `{"number":"701","name":"B","agents":["1001","1234"]}`, 400},
		{"AgentIsARoom", "POST", "/api/v1/queues", `{"number":"701","name":"B","agents":["800"]}`, 400},
		{"AgentIsAGroup", "POST", "/api/v1/queues", `{"number":"701","name":"B","agents":["600"]}`, 400},
		{"StrategyOfAGroup", "POST", "/api/v1/queues", q(`,"strategy":"hunt"`), 400},
		// Explicit "" and 0 are out of range, not "the default".
		{"StrategyEmpty", "POST", "/api/v1/queues", q(`,"strategy":""`), 400},
		{"RingZero", "POST", "/api/v1/queues", q(`,"ring_seconds":0`), 400},
		{"RingTooLong", "POST", "/api/v1/queues", q(`,"ring_seconds":121`), 400},
		{"MaxWaitZero", "POST", "/api/v1/queues", q(`,"max_wait":0`), 400},
		{"MaxWaitTooShort", "POST", "/api/v1/queues", q(`,"max_wait":9`), 400},
		{"MaxWaitTooLong", "POST", "/api/v1/queues", q(`,"max_wait":3601`), 400},
		{"MaxWaitFraction", "POST", "/api/v1/queues", q(`,"max_wait":30.5`), 400},
		{"DestinationEmpty", "POST", "/api/v1/queues", q(`,"no_answer":{}`), 400},
		{"DestinationKind", "POST", "/api/v1/queues", q(`,"no_answer":{"kind":"queue"}`), 400},
		{"HangupWithNumber", "POST", "/api/v1/queues", q(`,"no_answer":{"kind":"hangup","number":"1001"}`), 400},
		{"VoicemailOfTheQueue", "POST", "/api/v1/queues", q(`,"no_answer":{"kind":"voicemail","number":"701"}`), 400},
		{"NumberIsTheQueue", "POST", "/api/v1/queues", q(`,"no_answer":{"kind":"number","number":"701"}`), 400},
		{"PatchNumber", "PATCH", "/api/v1/queues/700", `{"number":"701"}`, 400},
		{"PatchName", "PATCH", "/api/v1/queues/700", `{"name":"Orders\n#include x"}`, 400},
		{"PatchNoAgents", "PATCH", "/api/v1/queues/700", `{"agents":[]}`, 400},
		{"PatchAgentNotAUser", "PATCH", "/api/v1/queues/700", `{"name":"Changed","agents":["1002","1999"]}`, 400},
		{"PatchLogins", "PATCH", "/api/v1/queues/700", `{"agents":[{"extension":"1001","logged_in":true}]}`, 400},
		{"PatchStrategyEmpty", "PATCH", "/api/v1/queues/700", `{"strategy":""}`, 400},
		{"PatchMaxWaitZero", "PATCH", "/api/v1/queues/700", `{"max_wait":0}`, 400},
		{"PatchDestinationToItself", "PATCH", "/api/v1/queues/700", `{"no_answer":{"kind":"number","number":"700"}}`, 400},
		{"PatchInvalidJSON", "PATCH", "/api/v1/queues/700", `{"name":`, 400},
		{"PatchEmptyBody", "PATCH", "/api/v1/queues/700", ``, 400},
		{"BadPathNumber", "GET", "/api/v1/queues/70a", ``, 400},
		{"BadPathNumberPatch", "PATCH", "/api/v1/queues/7", `{"name":"X"}`, 400},
		{"BadPathNumberDelete", "DELETE", "/api/v1/queues/1234567", ``, 400},
		{"BadPathNumberLogin", "POST", "/api/v1/queues/7/agents/1001/login", ``, 400},
		{"BadAgentLogin", "POST", "/api/v1/queues/700/agents/1001;x/login", ``, 400},
		{"BadAgentLogout", "POST", "/api/v1/queues/700/agents/%2A45/logout", ``, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ta.do(tt.method, tt.path, tt.body)
			if r.Status != tt.status || r.errorCode() != "invalid" {
				t.Errorf("status %d code %q, want %d invalid: %s", r.Status, r.errorCode(), tt.status, r.Body)
			}
		})
	}
	queues, _ := ta.queues.Queues(context.Background())
	if len(queues) != 1 || !reflect.DeepEqual(queues[0], before) {
		t.Errorf("bad input changed the queues: %+v", queues)
	}
	t.Run("MessageNamesTheAgent", func(t *testing.T) {
		r := ta.do("POST", "/api/v1/queues", `{"number":"701","name":"B","agents":["1001","1234"]}`)
		if !strings.Contains(string(r.Body), "agent 1234 is not a user") {
			t.Errorf("%d %s", r.Status, r.Body)
		}
	})
}

// Without a queue service the queue routes answer 503, and the rest of the API works; without
// call control, or with it down, a queue is shown with "live" null.
func TestQueuesUnavailable(t *testing.T) {
	ta := newTestAPI(t)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/queues", ""},
		{"POST", "/api/v1/queues", `{"number":"700","name":"Orders","agents":["1001"]}`},
		{"GET", "/api/v1/queues/700", ""},
		{"PATCH", "/api/v1/queues/700", `{"name":"X"}`},
		{"DELETE", "/api/v1/queues/700", ""},
		{"POST", "/api/v1/queues/700/agents/1001/login", ""},
		{"POST", "/api/v1/queues/700/agents/1001/logout", ""},
	} {
		if r := ta.do(c.method, c.path, c.body); r.Status != 503 || r.errorCode() != "unavailable" ||
			!strings.Contains(string(r.Body), "call queues are not available") {
			t.Errorf("%s %s without queues: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	if r := ta.do("GET", "/api/v1/users", ""); r.Status != 200 {
		t.Errorf("users without queues: %d %s", r.Status, r.Body)
	}

	live := newQueuesAPI(t)
	live.do("POST", "/api/v1/queues", `{"number":"700","name":"Orders","agents":["1001"]}`)
	live.live.SetDown(true)
	if r := live.do("GET", "/api/v1/queues/700", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"live":null`) {
		t.Errorf("queue with call control down: %d %s", r.Status, r.Body)
	}
	// Logins are the store's: they work while call control is down.
	if r := live.do("POST", "/api/v1/queues/700/agents/1001/login", ""); r.Status != 204 {
		t.Errorf("login with call control down: %d %s", r.Status, r.Body)
	}

	users := inmem.NewUserStore()
	users.CreateUser(context.Background(), switchboard.User{Extension: "1001", Name: "Alice"})
	s, _ := api.NewServer(api.Server{Queues: &provisioning.QueueService{Store: inmem.NewQueueStore(users)}, Token: token})
	idle := &testAPI{t: t, srv: httptest.NewServer(s.Handler())}
	defer idle.srv.Close()
	idle.do("POST", "/api/v1/queues", `{"number":"700","name":"Orders","agents":["1001"]}`)
	if r := idle.do("GET", "/api/v1/queues/700", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"live":null`) {
		t.Errorf("queue without call control: %d %s", r.Status, r.Body)
	}
}

func TestQueuesAuth(t *testing.T) {
	ta := newQueuesAPI(t)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/queues", ""},
		{"POST", "/api/v1/queues", `{"number":"700","name":"Orders","agents":["1001"]}`},
		{"GET", "/api/v1/queues/700", ""},
		{"PATCH", "/api/v1/queues/700", `{"name":"X"}`},
		{"DELETE", "/api/v1/queues/700", ""},
		{"POST", "/api/v1/queues/700/agents/1001/login", ""},
		{"POST", "/api/v1/queues/700/agents/1001/logout", ""},
	} {
		for _, auth := range []string{"Bearer wrong-token-0123456789", ""} {
			if r := ta.do(c.method, c.path, c.body, "Authorization", auth); r.Status != 401 || r.errorCode() != "unauthorized" {
				t.Errorf("%s %s with Authorization %q: %d %s", c.method, c.path, auth, r.Status, r.Body)
			}
		}
	}
	if queues, _ := ta.queues.Queues(context.Background()); len(queues) != 0 {
		t.Error("an unauthenticated POST created a queue")
	}
}

func TestQueuesDatabaseDown(t *testing.T) {
	ta := newQueuesAPI(t)
	ta.do("POST", "/api/v1/queues", `{"number":"700","name":"Orders","agents":["1001"]}`)
	ta.store.SetDown(true) // the queues live in the same database
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/queues", ""},
		{"GET", "/api/v1/queues/700", ""},
		{"POST", "/api/v1/queues", `{"number":"701","name":"Board","agents":["1001"]}`},
		{"PATCH", "/api/v1/queues/700", `{"name":"X"}`},
		{"DELETE", "/api/v1/queues/700", ""},
		{"POST", "/api/v1/queues/700/agents/1001/login", ""},
	} {
		if r := ta.do(c.method, c.path, c.body); r.Status != 503 || r.errorCode() != "unavailable" {
			t.Errorf("%s %s with the database down: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	ta.store.SetDown(false)
	if r := ta.do("GET", "/api/v1/queues/700", ""); r.Status != 200 || r.queue(t).Name != "Orders" {
		t.Errorf("after recovery: %d %s", r.Status, r.Body)
	}
}

// A queue's own mailbox, as a group's (see TestGroupMailbox): the PIN generated is shown once,
// voicemail to the queue's own number needs the mailbox on, and a bad PIN stores nothing.
func TestQueueMailbox(t *testing.T) {
	ctx := context.Background()
	ta := newQueuesAPI(t)
	r := ta.do("POST", "/api/v1/queues", `{"number":"700","name":"Orders","agents":["1001"],
		"voicemail":{"enabled":true},"no_answer":{"kind":"voicemail","number":"700"}}`)
	q := r.queue(t)
	if r.Status != 201 || !q.Voicemail.Enabled || !q.Voicemail.PINSet || len(q.Voicemail.PIN) != 6 ||
		q.NoAnswer != (api.GroupDestination{Kind: "voicemail", Number: "700"}) {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if stored, _ := ta.queues.Queue(ctx, "700"); stored.Mailbox != (switchboard.Mailbox{Enabled: true, PIN: q.Voicemail.PIN}) {
		t.Errorf("stored mailbox %+v, shown PIN %s", stored.Mailbox, q.Voicemail.PIN)
	}
	for _, path := range []string{"/api/v1/queues/700", "/api/v1/queues"} {
		if r := ta.do("GET", path, ""); r.Status != 200 || showsPIN(r.Body) || !strings.Contains(string(r.Body), `"pin_set":true`) {
			t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
		}
	}
	before, _ := ta.queues.Queues(ctx)
	for _, c := range []struct{ method, path, body, msg string }{
		{"POST", "/api/v1/queues", `{"number":"701","name":"X","agents":["1001"],"no_answer":{"kind":"voicemail","number":"701"}}`,
			"no_answer: voicemail to the queue's own number needs its own mailbox (voicemail.enabled)"},
		{"POST", "/api/v1/queues", `{"number":"701","name":"X","agents":["1001"],"voicemail":{"enabled":true,"pin":"12a4"}}`,
			"voicemail PIN must be 4 to 10 digits"},
		{"PATCH", "/api/v1/queues/700", `{"voicemail":{"enabled":false}}`, "needs its own mailbox"},
		{"PATCH", "/api/v1/queues/700", `{"name":"Changed","voicemail":{"pin":"1"}}`, "voicemail PIN"},
	} {
		if r := ta.do(c.method, c.path, c.body); r.Status != 400 || r.errorCode() != "invalid" || !strings.Contains(string(r.Body), c.msg) {
			t.Errorf("%s %s %s: %d %s, want 400 %q", c.method, c.path, c.body, r.Status, r.Body, c.msg)
		}
	}
	if after, _ := ta.queues.Queues(ctx); !reflect.DeepEqual(after, before) {
		t.Errorf("refused requests changed the queues: %+v, was %+v", after, before)
	}
	// Turned on by a PATCH without a PIN, a queue's mailbox shows the generated one once.
	ta.do("POST", "/api/v1/queues", `{"number":"701","name":"Billing","agents":["1002"]}`)
	r = ta.do("PATCH", "/api/v1/queues/701", `{"voicemail":{"enabled":true}}`)
	if q := r.queue(t); r.Status != 200 || !q.Voicemail.Enabled || len(q.Voicemail.PIN) != 6 {
		t.Errorf("PATCH on: %d %s", r.Status, r.Body)
	}
	if r := ta.do("GET", "/api/v1/queues/701", ""); showsPIN(r.Body) {
		t.Errorf("GET after the PATCH: %s", r.Body)
	}
}
