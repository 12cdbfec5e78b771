package fastagi_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/fastagi"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/records"
	"github.com/switchboard-pbx/switchboard/records/inmem"
)

type users map[string]switchboard.User

func (u users) User(_ context.Context, ext string) (switchboard.User, error) {
	if x, ok := u[ext]; ok {
		return x, nil
	}
	return switchboard.User{}, switchboard.Errorf(switchboard.ENOTFOUND, "no user")
}

// session plays Asterisk's side of one FastAGI session and returns the commands it received.
func session(t *testing.T, addr, script, channel string, args ...string) []string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "agi_network: yes\nagi_network_script: %s\nagi_uniqueid: %s\n", script, channel)
	for i, a := range args {
		fmt.Fprintf(conn, "agi_arg_%d: %s\n", i+1, a)
	}
	fmt.Fprint(conn, "\n")
	var cmds []string
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return cmds // the server hung up: the session is over
		}
		cmds = append(cmds, strings.TrimSpace(line))
		fmt.Fprint(conn, "200 result=1\n")
	}
}

func TestVoicemailDecision(t *testing.T) {
	store := &inmem.CallStore{}
	rec := &records.Writer{Store: store}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rec.Run(ctx)
	srv := &fastagi.Server{Records: rec, Users: users{
		"1002": {Extension: "1002", Voicemail: switchboard.Mailbox{Enabled: true, PIN: "1234"}},
		"1003": {Extension: "1003"},
	}, Shared: shared{"600": true, "601": false}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ctx, l)
	started := time.Now().Add(-time.Minute)
	for _, ext := range []string{"1002", "1003"} {
		rec.Record(switchboard.CallChange{ID: "call-" + ext, Caller: "1001", Callee: ext, CallerChannel: "chan-" + ext,
			StartedAt: started, Outcome: switchboard.Voicemail, Reason: switchboard.ReasonBusy})
	}
	// Call control saw 1003's caller hang up before the helper ran: the helper's outcome must not
	// bring the call back to life or lose its end.
	ended := time.Now().Truncate(time.Millisecond)
	rec.Record(switchboard.CallChange{ID: "call-1003", EndedAt: ended})
	tests := []struct {
		ext, action string
	}{
		{"1002", "voicemail"},
		{"1003", "announce"}, // voicemail disabled
		{"600", "voicemail"}, // a group's own mailbox
		{"601", "announce"},  // a group without one
		{"1009", "announce"}, // nobody's number
	}
	for _, tt := range tests {
		cmds := session(t, l.Addr().String(), "voicemail", "chan-"+tt.ext, tt.ext, "busy")
		if len(cmds) != 1 || cmds[0] != "SET VARIABLE SB_VM_ACTION "+tt.action {
			t.Errorf("%s: commands %q, want SET VARIABLE SB_VM_ACTION %s", tt.ext, cmds, tt.action)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		<-rec.Idle()
		r2, _ := store.Call(ctx, "call-1002")
		r3, _ := store.Call(ctx, "call-1003")
		if r2.Outcome == switchboard.Voicemail && r3.Outcome == switchboard.Missed {
			if r2.Reason != switchboard.ReasonBusy || !r2.Active() {
				t.Errorf("voicemail call: %+v, want reason busy, still in progress", r2)
			}
			if r3.Reason != switchboard.ReasonVoicemailOff || !r3.EndedAt.Equal(ended) || !r3.StartedAt.Equal(started) {
				t.Errorf("missed call: %+v, want reason voicemail_disabled, start and end kept", r3)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("records: %+v / %+v", r2, r3)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// An unknown script is refused without a command; a call never recorded is ignored.
	if cmds := session(t, l.Addr().String(), "rm-rf", "chan-x"); len(cmds) != 0 {
		t.Errorf("unknown script ran commands %q", cmds)
	}
	if cmds := session(t, l.Addr().String(), "voicemail", "chan-unknown", "1002", "busy"); len(cmds) != 1 {
		t.Errorf("call without a record: commands %q, want the decision all the same", cmds)
	}
}

// shared is the groups and queues with (true) or without their own mailbox.
type shared map[string]bool

func (s shared) Has(_ context.Context, number string) (bool, error) { return s[number], nil }

// features is a FeatureService that applies patches to one user in memory, with the same
// validation as the provisioning service.
type features struct {
	mu sync.Mutex
	u  switchboard.User
}

func (f *features) SetCallSettings(_ context.Context, ext string, p provisioning.CallSettingsPatch) (switchboard.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ext != f.u.Extension {
		return switchboard.User{}, switchboard.Errorf(switchboard.ENOTFOUND, "no user %s", ext)
	}
	c := f.u.Calls
	p.Apply(&c)
	if err := provisioning.ValidateCallSettings(ext, c); err != nil {
		return switchboard.User{}, err
	}
	f.u.Calls = c
	return f.u, nil
}

func TestFeatureCodes(t *testing.T) {
	f := &features{u: switchboard.User{Extension: "1002", Calls: switchboard.DefaultCallSettings()}}
	srv := &fastagi.Server{Features: f, Users: users{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx, l)
	tests := []struct {
		feature, value string
		prompt         string
		check          func(c switchboard.CallSettings) bool
	}{
		{"forward-unconditional", "1003", "call-fwd-unconditional&activated",
			func(c switchboard.CallSettings) bool {
				return c.Forwards.Unconditional == switchboard.Forward{Enabled: true, Destination: "1003"}
			}},
		{"forward-unconditional", "", "call-fwd-unconditional&de-activated",
			func(c switchboard.CallSettings) bool { return !c.Forwards.Unconditional.Enabled }},
		{"forward-busy", "1004", "call-fwd-on-busy&activated", func(c switchboard.CallSettings) bool { return c.Forwards.Busy.Active() }},
		{"forward-no-answer", "1005", "call-fwd-no-ans&activated", func(c switchboard.CallSettings) bool { return c.Forwards.NoAnswer.Active() }},
		{"dnd", "on", "do-not-disturb&activated", func(c switchboard.CallSettings) bool { return c.DND }},
		{"dnd", "off", "do-not-disturb&de-activated", func(c switchboard.CallSettings) bool { return !c.DND }},
		{"call-waiting", "off", "call-waiting&de-activated", func(c switchboard.CallSettings) bool { return !c.CallWaiting }},
		{"call-waiting", "on", "call-waiting&activated", func(c switchboard.CallSettings) bool { return c.CallWaiting }},
		// Forward to oneself, or to what is not a number: refused, nothing changes.
		{"forward-no-answer", "1002", "invalid", func(c switchboard.CallSettings) bool { return c.Forwards.NoAnswer.Destination == "1005" }},
		{"forward-busy", "12#34", "invalid", func(c switchboard.CallSettings) bool { return c.Forwards.Busy.Destination == "1004" }},
	}
	for _, tt := range tests {
		cmds := session(t, l.Addr().String(), "feature", "chan-1", "1002", tt.feature, tt.value)
		if len(cmds) != 1 || cmds[0] != "SET VARIABLE SB_FEATURE_PROMPT "+tt.prompt {
			t.Errorf("%s %q: commands %q, want the prompt %s", tt.feature, tt.value, cmds, tt.prompt)
		}
		f.mu.Lock()
		ok := tt.check(f.u.Calls)
		f.mu.Unlock()
		if !ok {
			t.Errorf("%s %q: settings %+v", tt.feature, tt.value, f.u.Calls)
		}
	}
	// Another user's line cannot be changed by naming it: the endpoint is the caller's own, and
	// one without a user gets no prompt but the dialplan's "not available".
	if cmds := session(t, l.Addr().String(), "feature", "chan-2", "9999", "dnd", "on"); len(cmds) != 0 {
		t.Errorf("feature for an unknown endpoint: commands %q", cmds)
	}
}

// agents is a QueueAgents that toggles the logins of the agents it knows, in memory.
type agents struct {
	mu       sync.Mutex
	loggedIn map[string]bool
	down     bool
}

func (f *agents) ToggleAgent(_ context.Context, ext string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return false, switchboard.Errorf(switchboard.EUNAVAILABLE, "database unavailable")
	}
	in, ok := f.loggedIn[ext]
	if !ok {
		return false, switchboard.Errorf(switchboard.ENOTFOUND, "%s is not an agent of any queue", ext)
	}
	f.loggedIn[ext] = !in
	return !in, nil
}

func TestQueueToggle(t *testing.T) {
	q := &agents{loggedIn: map[string]bool{"1002": false, "1003": true}}
	// No FeatureService: *45 does not need one.
	srv := &fastagi.Server{Queues: q, Users: users{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx, l)
	tests := []struct {
		endpoint, prompt string
		loggedIn         bool
	}{
		{"1002", "agent-loginok", true},
		{"1002", "agent-loggedoff", false},
		{"1003", "agent-loggedoff", false},
		// A user who is no agent of any queue, or an endpoint without a user: not available.
		{"1004", "feature-not-avail-line", false},
	}
	for _, tt := range tests {
		cmds := session(t, l.Addr().String(), "feature", "chan-1", tt.endpoint, "queue-toggle", "")
		if len(cmds) != 1 || cmds[0] != "SET VARIABLE SB_FEATURE_PROMPT "+tt.prompt {
			t.Errorf("*45 from %s: commands %q, want the prompt %s", tt.endpoint, cmds, tt.prompt)
		}
		q.mu.Lock()
		in := q.loggedIn[tt.endpoint]
		q.mu.Unlock()
		if in != tt.loggedIn {
			t.Errorf("*45 from %s: logged in %v, want %v", tt.endpoint, in, tt.loggedIn)
		}
	}
	// Only the endpoint's own logins change: the others' stay as they were.
	q.mu.Lock()
	if q.loggedIn["1003"] || q.loggedIn["1002"] || len(q.loggedIn) != 2 {
		t.Errorf("logins %v", q.loggedIn)
	}
	q.down = true
	q.mu.Unlock()
	// Unknown state: no prompt, and the dialplan's "not available" stands.
	if cmds := session(t, l.Addr().String(), "feature", "chan-2", "1002", "queue-toggle", ""); len(cmds) != 0 {
		t.Errorf("*45 with the database down: commands %q", cmds)
	}
	// A server without queues refuses *45 the same way.
	bare := &fastagi.Server{Users: users{}}
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go bare.Serve(ctx, l2)
	if cmds := session(t, l2.Addr().String(), "feature", "chan-3", "1002", "queue-toggle", ""); len(cmds) != 0 {
		t.Errorf("*45 without queues: commands %q", cmds)
	}
}
