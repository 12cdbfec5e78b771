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
	"github.com/switchboard-pbx/switchboard/ari"
	"github.com/switchboard-pbx/switchboard/fastagi"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

type users map[string]provisioning.User

func (u users) User(_ context.Context, ext string) (provisioning.User, error) {
	if x, ok := u[ext]; ok {
		return x, nil
	}
	return provisioning.User{}, switchboard.Errorf(switchboard.ENOTFOUND, "no user")
}

type calls struct {
	mu sync.Mutex
	r  map[string]ari.CallRecord
}

func (c *calls) SaveCall(_ context.Context, r ari.CallRecord) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r[r.ID] = r
	return nil
}
func (c *calls) Call(context.Context, string) (ari.CallRecord, error) { return ari.CallRecord{}, nil }
func (c *calls) CallByChannel(_ context.Context, ch string) (ari.CallRecord, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.r {
		if r.CallerChannel == ch {
			return r, nil
		}
	}
	return ari.CallRecord{}, switchboard.Errorf(switchboard.ENOTFOUND, "none")
}
func (c *calls) Calls(context.Context, ari.CallFilter) (ari.CallPage, error) {
	return ari.CallPage{}, nil
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
	store := &calls{r: map[string]ari.CallRecord{}}
	rec := &ari.Recorder{Store: store}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rec.Run(ctx)
	srv := &fastagi.Server{Recorder: rec, Users: users{
		"1002": {Extension: "1002", Voicemail: provisioning.Voicemail{Enabled: true, PIN: "1234"}},
		"1003": {Extension: "1003"},
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ctx, l)
	for _, ext := range []string{"1002", "1003"} {
		rec.Save(ari.CallRecord{ID: "call-" + ext, Caller: "1001", Callee: ext, CallerChannel: "chan-" + ext, StartedAt: time.Now()})
	}
	tests := []struct {
		ext, action string
		outcome     ari.Outcome
	}{
		{"1002", "voicemail", ari.Voicemail},
		{"1003", "announce", ari.Missed}, // voicemail disabled
	}
	for _, tt := range tests {
		cmds := session(t, l.Addr().String(), "voicemail", "chan-"+tt.ext, tt.ext, "busy")
		if len(cmds) != 1 || cmds[0] != "SET VARIABLE SB_VM_ACTION "+tt.action {
			t.Errorf("%s: commands %q, want SET VARIABLE SB_VM_ACTION %s", tt.ext, cmds, tt.action)
		}
	}
	session(t, l.Addr().String(), "voicemail-done", "chan-1002", "1002", "SUCCESS")
	deadline := time.Now().Add(10 * time.Second)
	for {
		<-rec.Idle()
		store.mu.Lock()
		r2, r3 := store.r["call-1002"], store.r["call-1003"]
		store.mu.Unlock()
		if r2.Outcome == ari.Voicemail && !r2.EndedAt.IsZero() && r3.Outcome == ari.Missed && r3.Reason == ari.ReasonVoicemailOff {
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
}
