package ari_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/ari"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// fakeAsterisk is the seam the call flow talks to: it records every operation and answers
// as configured. Events are fed by the test through App.HandleEvent.
type fakeAst struct {
	mu        sync.Mutex
	ops       chan string
	endpoints map[string]ari.Endpoint
	failOn    map[string]error // operation name → error
	state     ari.AppState
	rings     []string
	bridges   []string
}

func newFakeAst() *fakeAst {
	return &fakeAst{ops: make(chan string, 1000), endpoints: map[string]ari.Endpoint{}, failOn: map[string]error{}}
}

func (f *fakeAst) op(name, detail string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch name {
	case "ring":
		// Ringing and the bridge run concurrently with the rest of the setup: recorded, not
		// sequenced.
		f.rings = append(f.rings, detail)
	case "bridge":
		f.bridges = append(f.bridges, detail)
	default:
		f.ops <- name + " " + detail
	}
	return f.failOn[name]
}

// bridge returns the bridge created for the call, waiting for it.
func (f *fakeAst) bridge(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		n := len(f.bridges)
		var b string
		if n > 0 {
			b = f.bridges[n-1]
		}
		f.mu.Unlock()
		if n > 0 {
			return b
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("no bridge created")
	return ""
}

func (f *fakeAst) rang(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rings {
		if r == id {
			return true
		}
	}
	return false
}

func (f *fakeAst) Endpoint(_ context.Context, ext string) (ari.Endpoint, error) {
	f.op("endpoint", ext)
	f.mu.Lock()
	defer f.mu.Unlock()
	ep, ok := f.endpoints[ext]
	if !ok {
		return ari.Endpoint{}, switchboard.Errorf(switchboard.ENOTFOUND, "no endpoint")
	}
	return ep, nil
}
func (f *fakeAst) Originate(_ context.Context, r ari.OriginateRequest) error {
	return f.op("originate", fmt.Sprintf("%s %s %s %s %s %s", r.ID, r.Endpoint, r.AppArgs, r.Originator, r.Timeout, r.CallerID))
}
func (f *fakeAst) Ring(_ context.Context, id string) error   { return f.op("ring", id) }
func (f *fakeAst) Answer(_ context.Context, id string) error { return f.op("answer", id) }
func (f *fakeAst) Hangup(_ context.Context, id, reason string) error {
	return f.op("hangup", id+" "+reason)
}
func (f *fakeAst) SetVariable(_ context.Context, id, name, value string) error {
	return f.op("set", id+" "+name+"="+value)
}
func (f *fakeAst) Continue(_ context.Context, id string) error { return f.op("continue", id) }
func (f *fakeAst) CreateBridge(_ context.Context, id string) error {
	return f.op("bridge", id)
}
func (f *fakeAst) AddToBridge(_ context.Context, id string, chans ...string) error {
	return f.op("add", strings.Join(chans, ","))
}
func (f *fakeAst) DestroyBridge(_ context.Context, id string) error { return f.op("destroy", id) }
func (f *fakeAst) SubscribeEndpoints(context.Context) error         { return nil }
func (f *fakeAst) ChannelExists(_ context.Context, id string) (bool, error) {
	return false, f.op("exists", id)
}
func (f *fakeAst) AppState(context.Context) (ari.AppState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state, nil
}

// expect waits for the next operation and checks it starts with want.
func (f *fakeAst) expect(t *testing.T, want string) string {
	t.Helper()
	select {
	case got := <-f.ops:
		if !strings.HasPrefix(got, want) {
			t.Fatalf("operation %q, want %q", got, want)
		}
		return got
	case <-time.After(10 * time.Second):
		t.Fatalf("no operation, want %q", want)
	}
	return ""
}

// expectSet waits until the operations include all of want (in any order) and none of them is
// missing after the others arrived.
func (f *fakeAst) expectAll(t *testing.T, want ...string) {
	t.Helper()
	missing := map[string]bool{}
	for _, w := range want {
		missing[w] = true
	}
	deadline := time.After(10 * time.Second)
	for len(missing) > 0 {
		select {
		case got := <-f.ops:
			for w := range missing {
				if strings.HasPrefix(got, w) {
					delete(missing, w)
					break
				}
			}
		case <-deadline:
			t.Fatalf("operations never came: %v", missing)
		}
	}
}

func (f *fakeAst) noMore(t *testing.T) {
	t.Helper()
	select {
	case got := <-f.ops:
		t.Fatalf("unexpected operation %q", got)
	default:
	}
}

type directory map[string]provisioning.User

func (d directory) User(_ context.Context, ext string) (provisioning.User, error) {
	u, ok := d[ext]
	if !ok {
		return u, switchboard.Errorf(switchboard.ENOTFOUND, "no user")
	}
	return u, nil
}

type memCalls struct {
	mu      sync.Mutex
	records map[string]ari.CallRecord
}

func (m *memCalls) SaveCall(_ context.Context, r ari.CallRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records[r.ID] = r
	return nil
}
func (m *memCalls) Call(_ context.Context, id string) (ari.CallRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[id]
	if !ok {
		return r, switchboard.Errorf(switchboard.ENOTFOUND, "no call")
	}
	return r, nil
}
func (m *memCalls) CallByChannel(_ context.Context, ch string) (ari.CallRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.records {
		if r.CallerChannel == ch {
			return r, nil
		}
	}
	return ari.CallRecord{}, switchboard.Errorf(switchboard.ENOTFOUND, "no call")
}
func (m *memCalls) Calls(context.Context, ari.CallFilter) (ari.CallPage, error) {
	return ari.CallPage{}, nil
}

// only returns the one record stored.
func (m *memCalls) only(t *testing.T) ari.CallRecord {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.records) != 1 {
		t.Fatalf("%d records, want 1", len(m.records))
	}
	for _, r := range m.records {
		return r
	}
	return ari.CallRecord{}
}

type harness struct {
	t      *testing.T
	ast    *fakeAst
	app    *ari.App
	calls  *memCalls
	rec    *ari.Recorder
	cancel context.CancelFunc
}

func newHarness(t *testing.T) *harness {
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, ast: newFakeAst(), calls: &memCalls{records: map[string]ari.CallRecord{}}, cancel: cancel}
	h.rec = &ari.Recorder{Store: h.calls}
	go h.rec.Run(ctx)
	h.app = &ari.App{Asterisk: h.ast, Recorder: h.rec, RingGrace: 200 * time.Millisecond,
		Users: directory{
			"1001": {Extension: "1001", Name: "Alice", RingTimeout: 20},
			"1002": {Extension: "1002", Name: "Bob", RingTimeout: 20, Voicemail: provisioning.Voicemail{Enabled: true, PIN: "1234"}},
			"1003": {Extension: "1003", Name: "Carol", RingTimeout: 5},
		}}
	h.app.Start(ctx, mustClient(t))
	t.Cleanup(func() { cancel(); h.app.Wait() })
	return h
}

func mustClient(t testing.TB) *ari.Client {
	c, err := ari.NewClient(ari.Config{URL: "http://127.0.0.1:1", App: "switchboard"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recordWhere waits until the only record satisfies cond (records are written in the
// background, after the operations the tests observe) and returns it; after 10 s it returns
// the record as it is, for the test to report.
func (h *harness) recordWhere(cond func(ari.CallRecord) bool) ari.CallRecord {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		<-h.rec.Idle()
		h.calls.mu.Lock()
		n := len(h.calls.records)
		h.calls.mu.Unlock()
		if n > 0 {
			if r := h.calls.only(h.t); cond(r) || time.Now().After(deadline) {
				return r
			}
		} else if time.Now().After(deadline) {
			h.t.Fatal("no record written")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func channel(id, name, state string) v5.ChannelData {
	return v5.ChannelData{ID: id, Name: name, State: state}
}

// placeCall makes 1001 call ext and returns the caller channel ID.
func (h *harness) placeCall(ext string) string {
	h.app.HandleEvent(&v5.StasisStart{Args: []string{"call", ext}, Channel: channel("c1", "PJSIP/1001-00000001", "Ring")})
	return "c1"
}

// answer simulates the callee answering: its state goes Up and it enters the app.
func (h *harness) answer(callee string) {
	h.app.HandleEvent(&v5.ChannelStateChange{Channel: channel(callee, "PJSIP/1002-00000002", "Up")})
	h.app.HandleEvent(&v5.StasisStart{Args: []string{"callee"}, Channel: channel(callee, "PJSIP/1002-00000002", "Up")})
}

// ringing drives the call to the ringing state and returns the callee channel ID.
func (h *harness) ringing() string {
	h.t.Helper()
	h.ast.endpoints["1002"] = ari.Endpoint{State: "online"}
	h.placeCall("1002")
	h.ast.expect(h.t, "endpoint 1002")
	created := h.ast.expect(h.t, "originate ")
	callee := strings.Fields(created)[1]
	if !strings.HasSuffix(callee, "-callee") || !strings.Contains(created, "PJSIP/1002 callee,") ||
		!strings.Contains(created, " c1 20s ") || !strings.HasSuffix(created, `"Alice" <1001>`) {
		h.t.Fatalf("originate = %q", created)
	}
	h.app.HandleEvent(&v5.ChannelStateChange{Channel: channel(callee, "PJSIP/1002-00000002", "Ringing")})
	return callee
}

func TestCallAnsweredAndBridged(t *testing.T) {
	for _, who := range []string{"CallerHangsUp", "CalleeHangsUp"} {
		t.Run(who, func(t *testing.T) {
			h := newHarness(t)
			callee := h.ringing()
			h.answer(callee)
			h.ast.expect(t, "answer c1")
			if !h.ast.rang("c1") {
				t.Error("the caller was answered before it was sent ringing")
			}
			h.ast.expect(t, "add "+callee+",c1")
			bridge := h.ast.bridge(t)
			h.ast.expectAll(t, "set c1 CHANNEL(hangup_handler_push)=switchboard-hangup-peer,s,1(PJSIP/1002-00000002)",
				"set "+callee+" CHANNEL(hangup_handler_push)=switchboard-hangup-peer,s,1(PJSIP/1001-00000001)")
			left, other := "c1", callee
			if who == "CalleeHangsUp" {
				left, other = callee, "c1"
			}
			h.app.HandleEvent(&v5.ChannelHangupRequest{Channel: channel(left, "", "Up")})
			h.ast.expect(t, "hangup "+other)
			h.ast.expect(t, "destroy "+bridge)
			r := h.recordWhere(func(r ari.CallRecord) bool { return !r.EndedAt.IsZero() })
			if r.Outcome != ari.Answered || r.AnsweredAt.IsZero() || r.EndedAt.IsZero() || r.Bridge != bridge {
				t.Errorf("record %+v", r)
			}
		})
	}
}

func TestBridgeIDsAreNeverReused(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		h := newHarness(t)
		callee := h.ringing()
		h.answer(callee)
		h.ast.expect(t, "answer c1")
		bridge := h.ast.bridge(t)
		if seen[bridge] {
			t.Fatalf("bridge ID %s used twice", bridge)
		}
		seen[bridge] = true
	}
}

func TestUnansweredCallsGoToVoicemail(t *testing.T) {
	tests := []struct {
		name   string
		event  func(callee string) v5.Event
		next   string
		reason string
	}{
		{"NoAnswer", func(c string) v5.Event { return &v5.ChannelDestroyed{Cause: 19, Channel: channel(c, "", "Ringing")} },
			"voicemail-unavailable", ari.ReasonNoAnswer},
		{"Busy", func(c string) v5.Event { return &v5.ChannelDestroyed{Cause: 17, Channel: channel(c, "", "Ringing")} },
			"voicemail-busy", ari.ReasonBusy},
		{"Declined", func(c string) v5.Event { return &v5.ChannelDestroyed{Cause: 21, Channel: channel(c, "", "Ringing")} },
			"voicemail-unavailable", ari.ReasonDeclined},
		{"DialBusy", func(c string) v5.Event { return &v5.Dial{Dialstatus: "BUSY", Peer: channel(c, "", "Ringing")} },
			"voicemail-busy", ari.ReasonBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			callee := h.ringing()
			h.app.HandleEvent(tt.event(callee))
			if tt.name == "DialBusy" {
				h.ast.expect(t, "hangup "+callee)
			}
			h.ast.expect(t, "set c1 SB_NEXT="+tt.next)
			h.ast.expect(t, "continue c1")
			r := h.recordWhere(func(r ari.CallRecord) bool { return r.Outcome != "" })
			if r.Outcome != ari.Voicemail || r.Reason != tt.reason || !r.EndedAt.IsZero() {
				t.Errorf("record %+v: want voicemail/%s, still open for the voicemail helpers", r, tt.reason)
			}
		})
	}
}

func TestOwnRingTimerBacksUpAsterisk(t *testing.T) {
	h := newHarness(t)
	h.ast.endpoints["1003"] = ari.Endpoint{State: "online"}
	h.placeCall("1003")
	h.ast.expect(t, "endpoint 1003")
	created := h.ast.expect(t, "originate ")
	callee := strings.Fields(created)[1]
	if !strings.Contains(created, " c1 5s ") {
		t.Fatalf("originate = %q, want a 5 s timeout", created)
	}
	// Asterisk never reports the end of the dial: after 5 s + grace call control hangs up itself.
	h.ast.expect(t, "hangup "+callee)
	h.ast.expect(t, "set c1 SB_NEXT=voicemail-unavailable")
	h.ast.expect(t, "continue c1")
	if r := h.recordWhere(func(r ari.CallRecord) bool { return r.Outcome != "" }); r.Outcome != ari.Missed || r.Reason != ari.ReasonNoAnswer {
		t.Errorf("record %+v: 1003 has no voicemail, want missed", r)
	}
}

func TestOfflineAndBusyCalleesGoStraightToVoicemail(t *testing.T) {
	for _, tt := range []struct {
		name string
		ep   *ari.Endpoint
		next string
	}{
		{"Offline", &ari.Endpoint{State: "offline"}, "voicemail-unavailable"},
		{"NotLoadedYet", nil, "voicemail-unavailable"},
		{"InACall", &ari.Endpoint{State: "online", Channels: []string{"x"}}, "voicemail-busy"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.ep != nil {
				h.ast.endpoints["1002"] = *tt.ep
			}
			h.placeCall("1002")
			h.ast.expect(t, "endpoint 1002")
			h.ast.expect(t, "set c1 SB_NEXT="+tt.next)
			h.ast.expect(t, "continue c1")
			h.ast.noMore(t)
		})
	}
}

func TestUnknownExtensionRingsNobody(t *testing.T) {
	h := newHarness(t)
	h.placeCall("4040")
	h.ast.expect(t, "hangup c1 unallocated")
	if r := h.recordWhere(func(r ari.CallRecord) bool { return r.Outcome != "" }); r.Outcome != ari.Failed || r.Reason != ari.ReasonUnknownExtension {
		t.Errorf("record %+v", r)
	}
	h.ast.noMore(t) // no endpoint lookup, no channel created
}

func TestCallerHangsUpWhileRinging(t *testing.T) {
	h := newHarness(t)
	callee := h.ringing()
	h.app.HandleEvent(&v5.ChannelHangupRequest{Cause: 16, Channel: channel("c1", "", "Ring")})
	h.ast.expect(t, "hangup "+callee)
	if r := h.recordWhere(func(r ari.CallRecord) bool { return !r.EndedAt.IsZero() }); r.Outcome != ari.Cancelled || r.EndedAt.IsZero() {
		t.Errorf("record %+v", r)
	}
	h.ast.expect(t, "destroy sb-") // the bridge made while it rang
	// Later events about the call change nothing.
	h.app.HandleEvent(&v5.ChannelDestroyed{Cause: 16, Channel: channel(callee, "", "Ringing")})
	h.app.Wait()
	h.ast.noMore(t)
}

// The callee answers at the very instant the dial times out: it is gone before it can be
// bridged. The caller, never answered, still gets voicemail; no bridge is left behind.
func TestAnswerAtTheTimeoutInstant(t *testing.T) {
	h := newHarness(t)
	callee := h.ringing()
	h.app.HandleEvent(&v5.ChannelStateChange{Channel: channel(callee, "", "Up")})
	h.ast.expect(t, "answer c1")
	bridge := h.ast.bridge(t)
	h.app.HandleEvent(&v5.ChannelDestroyed{Cause: 19, Channel: channel(callee, "", "Up")})
	h.ast.expect(t, "hangup "+callee)
	h.ast.expect(t, "set c1 SB_NEXT=voicemail-unavailable")
	h.ast.expect(t, "continue c1")
	h.ast.expect(t, "destroy "+bridge)
}

// Both parties hang up at once: each leg is hung up at most once more, the bridge is destroyed
// once, and the call ends once.
func TestBothHangUpAtOnce(t *testing.T) {
	h := newHarness(t)
	callee := h.ringing()
	h.answer(callee)
	h.ast.expect(t, "answer c1")
	h.ast.expect(t, "add "+callee+",c1")
	bridge := h.ast.bridge(t)
	h.ast.expectAll(t, "set c1", "set "+callee)
	h.app.HandleEvent(&v5.ChannelHangupRequest{Channel: channel("c1", "", "Up")})
	h.app.HandleEvent(&v5.ChannelHangupRequest{Channel: channel(callee, "", "Up")})
	h.app.HandleEvent(&v5.ChannelDestroyed{Channel: channel("c1", "", "Up")})
	h.app.HandleEvent(&v5.ChannelDestroyed{Channel: channel(callee, "", "Up")})
	h.ast.expect(t, "hangup "+callee)
	h.ast.expect(t, "destroy "+bridge)
	if r := h.recordWhere(func(r ari.CallRecord) bool { return !r.EndedAt.IsZero() }); r.Outcome != ari.Answered || r.EndedAt.IsZero() {
		t.Errorf("record %+v", r)
	}
	h.app.Wait()
	h.ast.noMore(t)
	if n := len(h.app.ActiveCalls()); n != 0 {
		t.Errorf("%d calls still active", n)
	}
}

func TestAdminHangup(t *testing.T) {
	h := newHarness(t)
	callee := h.ringing()
	h.answer(callee)
	h.ast.expect(t, "answer c1")
	h.ast.expect(t, "add "+callee+",c1")
	h.ast.expectAll(t, "set c1", "set "+callee)
	active := h.app.ActiveCalls()
	if len(active) != 1 || active[0].Outcome != ari.Answered {
		t.Fatalf("active calls %+v", active)
	}
	if err := h.app.Hangup(context.Background(), active[0].ID); err != nil {
		t.Fatal(err)
	}
	h.ast.expectAll(t, "hangup c1", "hangup "+callee, "destroy sb-")
	h.app.Wait() // the call leaves the table once its goroutine ends, just after the destroy
	if err := h.app.Hangup(context.Background(), active[0].ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("second hangup: %v, want not_found", err)
	}
}

func TestReconcileAfterReconnect(t *testing.T) {
	h := newHarness(t)
	h.ast.state = ari.AppState{
		Channels: []ari.ChannelState{
			{ID: "a1", Name: "PJSIP/1001-1", State: "Up"},            // bridged with b1: keep
			{ID: "x-callee", Name: "PJSIP/1002-2", State: "Ringing"}, // callee leg nobody drives
			{ID: "c9", Name: "PJSIP/1003-3", State: "Ring"},          // caller mid-setup
		},
		Bridges: []ari.BridgeState{
			{ID: "sb-ok", Channels: []string{"a1", "b1"}},
			{ID: "sb-half", Channels: []string{"z1"}},
		},
	}
	if err := h.app.Reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.ast.expectAll(t, "hangup z1", "destroy sb-half", "hangup x-callee", "set c9 SB_NEXT=dial", "continue c9")
	h.ast.noMore(t)
}
