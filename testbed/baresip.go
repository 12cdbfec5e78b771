package testbed

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Baresip is a running baresip, a real softphone nobody here wrote. It registers one account,
// answers OPTIONS (so Asterisk sees it online), optionally auto-answers calls while sending a
// sine tone, and takes commands over its TCP control socket (ctrl_tcp).
type Baresip struct {
	Ext     string
	SIPPort int
	Dir     string // its config directory; its log is Dir/log

	cmd     *exec.Cmd
	ctrl    net.Conn
	ctrlMu  sync.Mutex
	exited  chan struct{}
	stopped bool
}

// BaresipOptions configure a baresip instance.
type BaresipOptions struct {
	Server     string // Asterisk host:port
	Transport  string // udp (default) or tcp
	Ext        string
	Password   string
	AutoAnswer bool
	ToneHz     int // the audio it sends (default 1000 Hz)
}

// StartBaresip starts baresip and returns once it runs; it does not wait for registration
// (poll Asterisk or the presence API for that). It is stopped (and unregisters) when the test
// ends, and killed if the test process dies.
func StartBaresip(tb testing.TB, o BaresipOptions) *Baresip {
	tb.Helper()
	bin, err := exec.LookPath("baresip")
	Need(tb, err == nil, "baresip not installed (Debian package baresip)")
	if o.Transport == "" {
		o.Transport = "udp"
	}
	if o.ToneHz == 0 {
		o.ToneHz = 1000
	}
	b := &Baresip{Ext: o.Ext, SIPPort: FreePort(tb), Dir: tb.TempDir(), exited: make(chan struct{})}
	ctrlPort := FreePort(tb)
	config := strings.Join([]string{
		"poll_method epoll",
		fmt.Sprintf("sip_listen 127.0.0.1:%d", b.SIPPort),
		"sip_trans_def " + o.Transport,
		"module_path /usr/lib/baresip/modules",
		"module g711.so",
		"module ausine.so",
		"module aufile.so",
		"module_app account.so",
		"module_app ctrl_tcp.so",
		fmt.Sprintf("ctrl_tcp_listen 127.0.0.1:%d", ctrlPort),
		fmt.Sprintf("audio_source ausine,%d", o.ToneHz),
		"audio_player aufile," + filepath.Join(b.Dir, "received.wav"),
		"audio_alert aufile,/dev/null",
		"rtp_ports 30000-39999",
		"",
	}, "\n")
	answer := "manual"
	if o.AutoAnswer {
		answer = "auto"
	}
	account := fmt.Sprintf("<sip:%s@%s;transport=%s>;auth_pass=%s;regint=300;answermode=%s;audio_codecs=PCMU,PCMA\n",
		o.Ext, o.Server, o.Transport, o.Password, answer)
	for name, content := range map[string]string{"config": config, "accounts": account} {
		if err := os.WriteFile(filepath.Join(b.Dir, name), []byte(content), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	logf, err := os.Create(filepath.Join(b.Dir, "log"))
	if err != nil {
		tb.Fatal(err)
	}
	b.cmd = exec.Command(bin, "-f", b.Dir)
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		tb.Fatalf("testbed: start baresip: %v", err)
	}
	go func() { b.cmd.Wait(); logf.Close(); close(b.exited) }()
	tb.Cleanup(func() { b.Stop(tb) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.ctrl, err = net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ctrlPort))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("testbed: baresip control socket never opened: %v\n%s", err, b.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	go b.drainControl()
	return b
}

// drainControl reads (and discards) responses and events on the control socket so that
// baresip never blocks writing them.
func (b *Baresip) drainControl() {
	r := bufio.NewReader(b.ctrl)
	buf := make([]byte, 4096)
	for {
		if _, err := r.Read(buf); err != nil {
			return
		}
	}
}

// Command sends one command over the control socket, e.g. Command("dial", "sip:1002@host").
func (b *Baresip) Command(tb testing.TB, command, params string) {
	tb.Helper()
	msg, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": "t"})
	b.ctrlMu.Lock()
	defer b.ctrlMu.Unlock()
	if _, err := fmt.Fprintf(b.ctrl, "%d:%s,", len(msg), msg); err != nil {
		tb.Fatalf("testbed: baresip command %s: %v", command, err)
	}
}

// Log returns what baresip printed so far.
func (b *Baresip) Log() string {
	out, _ := os.ReadFile(filepath.Join(b.Dir, "log"))
	return string(out)
}

// Stop asks baresip to quit (SIGINT: it unregisters first) and waits for it.
func (b *Baresip) Stop(tb testing.TB) {
	tb.Helper()
	if b.stopped {
		return
	}
	b.stopped = true
	b.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-b.exited
	}
	if b.ctrl != nil {
		b.ctrl.Close()
	}
}
