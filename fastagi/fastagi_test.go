package fastagi_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/fastagi"
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
	}}
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
