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
)

// fakeCalls serves fixed call records, as call control would.
type fakeCalls struct{ records []switchboard.CallRecord }

func (f fakeCalls) Calls(context.Context, switchboard.CallFilter) (switchboard.CallPage, error) {
	return switchboard.CallPage{Calls: f.records}, nil
}

func (f fakeCalls) Call(_ context.Context, id string) (switchboard.CallRecord, error) {
	for _, r := range f.records {
		if r.ID == id {
			return r, nil
		}
	}
	return switchboard.CallRecord{}, switchboard.Errorf(switchboard.ENOTFOUND, "no call %s", id)
}

func (fakeCalls) HangupCall(context.Context, string) error { return nil }

// A call shows whose phone answered it (a member of a ring group, here), and a call nobody
// answered shows no one.
func TestCallAnsweredBy(t *testing.T) {
	start := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	calls := fakeCalls{records: []switchboard.CallRecord{
		{ID: aliceCall, Caller: "1001", Callee: "600", Outcome: switchboard.Answered, AnsweredBy: "1003",
			StartedAt: start, AnsweredAt: start.Add(4 * time.Second), EndedAt: start.Add(time.Minute)},
		{ID: bobCall, Caller: "1002", Callee: "600", Outcome: switchboard.Missed, Reason: switchboard.ReasonNoAnswer,
			StartedAt: start, EndedAt: start.Add(time.Minute)},
	}}
	s, err := api.NewServer(api.Server{Calls: calls, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	ta := &testAPI{t: t, srv: httptest.NewServer(s.Handler())}
	defer ta.srv.Close()
	r := ta.do("GET", "/api/v1/calls/"+aliceCall, "")
	var c api.Call
	if json.Unmarshal(r.Body, &c); r.Status != 200 || c.AnsweredBy != "1003" {
		t.Errorf("answered call: %d %s", r.Status, r.Body)
	}
	if r := ta.do("GET", "/api/v1/calls/"+bobCall, ""); r.Status != 200 || strings.Contains(string(r.Body), "answered_by") {
		t.Errorf("missed call: %d %s", r.Status, r.Body)
	}
	if r := ta.do("GET", "/api/v1/calls", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"answered_by":"1003"`) {
		t.Errorf("list: %d %s", r.Status, r.Body)
	}
}
