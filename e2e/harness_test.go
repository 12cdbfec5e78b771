//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/testbed"
)

var switchboardBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchboard-e2e-")
	if err != nil {
		panic(err)
	}
	switchboardBin = filepath.Join(dir, "switchboard")
	build := exec.Command("go", "build", "-o", switchboardBin, "../cmd/switchboard")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build switchboard:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Stack is a complete PBX for one test: a private Asterisk, a fresh database and a running
// `switchboard serve`.
type Stack struct {
	Asterisk *testbed.Asterisk
	// ARIProxy, with StackOptions.ProxyARI, carries every ARI connection of serve: cutting it
	// cuts the event websocket and the REST requests.
	ARIProxy *testbed.TCPProxy
	DSN      string
	APIURL   string
	Token    string
	AGIPort  int
	API      *api.Client

	apiPort int
	agiURL  string
	env     []string
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
}

// StackOptions change how a stack is built.
type StackOptions struct {
	DSN      string   // database to use (default: a new one in the shared cluster)
	AGIURL   string   // how Asterisk reaches FastAGI (default: the server's own address)
	ProxyARI bool     // connect serve to ARI through a TCP proxy the test can cut
	Env      []string // more of serve's environment (NAME=value), e.g. the SMTP relay
}

// StartStack starts Asterisk and switchboard serve and waits until /readyz answers 200.
func StartStack(t *testing.T, o StackOptions) *Stack {
	t.Helper()
	s := &Stack{Asterisk: testbed.StartAsterisk(t), DSN: o.DSN, Token: "e2e-admin-token-0123456789", agiURL: o.AGIURL, env: o.Env}
	if o.ProxyARI {
		s.ARIProxy = testbed.StartTCPProxy(t, strings.TrimPrefix(s.Asterisk.ARIURL, "http://"))
	}
	if s.DSN == "" {
		s.DSN = testbed.NewDatabase(t)
	}
	s.apiPort, s.AGIPort = testbed.FreePort(t), testbed.FreePort(t)
	s.APIURL = fmt.Sprintf("http://127.0.0.1:%d", s.apiPort)
	s.API = &api.Client{BaseURL: s.APIURL, Token: s.Token, HTTP: &http.Client{Timeout: 30 * time.Second}}
	s.logPath = filepath.Join(t.TempDir(), "switchboard.log")
	s.StartServe(t)
	t.Cleanup(func() {
		s.StopServe(t)
		if t.Failed() {
			b, _ := os.ReadFile(s.logPath)
			t.Logf("switchboard serve log:\n%s", tail(string(b), 60))
		}
	})
	s.WaitReady(t)
	return s
}

// SIPServer is Asterisk's SIP address.
func (s *Stack) SIPServer() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Asterisk.SIPPort))
}

// StartServe starts `switchboard serve` (again).
func (s *Stack) StartServe(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	ariURL := s.Asterisk.ARIURL
	if s.ARIProxy != nil {
		ariURL = "http://" + s.ARIProxy.Addr()
	}
	cmd := exec.Command(switchboardBin, "serve")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+s.DSN,
		"ARI_URL="+ariURL,
		"ARI_USERNAME="+s.Asterisk.ARIUsername,
		"ARI_PASSWORD="+s.Asterisk.ARIPassword,
		"ARI_APP=switchboard",
		"SWITCHBOARD_ADMIN_TOKEN="+s.Token,
		fmt.Sprintf("SWITCHBOARD_LISTEN=127.0.0.1:%d", s.apiPort),
		"ASTERISK_CONFIG_DIR="+s.Asterisk.ConfigDir,
		"ASTERISK_SPOOL_DIR="+s.Asterisk.SpoolDir,
		fmt.Sprintf("AGI_LISTEN=127.0.0.1:%d", s.AGIPort),
		"LOG_LEVEL=debug",
	)
	if s.agiURL != "" {
		cmd.Env = append(cmd.Env, "AGI_URL="+s.agiURL)
	}
	cmd.Env = append(cmd.Env, s.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(s.exited) }()
}

// StopServe stops switchboard serve gracefully (SIGTERM).
func (s *Stack) StopServe(t *testing.T) { t.Helper(); s.signal(t, syscall.SIGTERM) }

// KillServe kills switchboard serve at once (SIGKILL), as a crash would.
func (s *Stack) KillServe(t *testing.T) { t.Helper(); s.signal(t, syscall.SIGKILL) }

func (s *Stack) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// WaitReady polls /readyz until it answers 200.
func (s *Stack) WaitReady(t *testing.T) {
	t.Helper()
	eventually(t, 30*time.Second, "switchboard ready", func() error {
		resp, err := http.Get(s.APIURL + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("/readyz answered %d", resp.StatusCode)
		}
		return nil
	})
}

// Log returns switchboard serve's log so far.
func (s *Stack) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// eventually polls f until it succeeds or the deadline passes: the way end-to-end tests wait
// for asynchronous effects (a reload, a registration), never a fixed sleep.
func eventually(t testing.TB, within time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	delay := 10 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		time.Sleep(delay)
		delay = min(2*delay, 250*time.Millisecond)
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func tail(s string, n int) string {
	lines := 0
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			lines++
			if lines > n {
				return s[i+1:]
			}
		}
	}
	return s
}
