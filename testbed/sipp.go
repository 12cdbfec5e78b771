package testbed

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

//go:embed sipp/*.xml
var sippScenarios embed.FS

// SIPp describes one run of SIPp, the SIP test tool nobody here wrote.
type SIPp struct {
	Scenario  string // a file name in testbed/sipp (e.g. "register.xml") or an absolute path
	Server    string // host:port of Asterisk
	Transport string // "udp" (default) or "tcp"
	Service   string // the user part (-s): the extension to register or call
	Username  string // digest credentials (-au/-ap)
	Password  string
	Keys      map[string]string // -key NAME VALUE (substituted in message text)
	Template  map[string]string // {{NAME}} in the scenario file is replaced by VALUE (attributes SIPp does not substitute)
	Calls     int               // -m (default 1)
	Rate      float64           // -r calls per second (default 10)
	Timeout   time.Duration     // -timeout (default 15 s)
	Extra     []string          // further arguments
	LocalPort int               // SIP port SIPp listens on (default: a free one)
}

// SIPpResult is what a SIPp run left behind.
type SIPpResult struct {
	ExitCode int    // 0: all calls succeeded, 1: at least one failed, other: SIPp error
	Output   string // stdout and stderr
	ErrorLog string // the -trace_err file
}

// RunSIPp runs SIPp to completion. It fails the test only when SIPp cannot be run at all; the
// caller asserts on the exit code.
func RunSIPp(tb testing.TB, ctx context.Context, s SIPp) SIPpResult {
	tb.Helper()
	bin, err := exec.LookPath("sipp")
	Need(tb, err == nil, "sipp not installed (Debian package sip-tester)")
	dir := tb.TempDir()
	scenario := s.Scenario
	if !filepath.IsAbs(scenario) {
		b, err := sippScenarios.ReadFile("sipp/" + scenario)
		if err != nil {
			tb.Fatalf("testbed: unknown SIPp scenario %s", scenario)
		}
		for k, v := range s.Template {
			b = bytes.ReplaceAll(b, []byte("{{"+k+"}}"), []byte(v))
		}
		scenario = filepath.Join(dir, s.Scenario)
		if err := os.WriteFile(scenario, b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	calls, rate, timeout := s.Calls, s.Rate, s.Timeout
	if calls == 0 {
		calls = 1
	}
	if rate == 0 {
		rate = 10
	}
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	transport := "u1"
	if s.Transport == "tcp" {
		transport = "t1"
	}
	errLog := filepath.Join(dir, "errors.log")
	localPort := s.LocalPort
	if localPort == 0 {
		localPort = FreePort(tb)
	}
	args := []string{
		"-sf", scenario, "-i", "127.0.0.1", "-p", strconv.Itoa(localPort), "-mi", "127.0.0.1",
		"-t", transport, "-m", strconv.Itoa(calls), "-r", strconv.FormatFloat(rate, 'f', -1, 64),
		"-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-timeout_error",
		"-trace_err", "-error_file", errLog, "-nostdin",
	}
	if s.Service != "" {
		args = append(args, "-s", s.Service)
	}
	if s.Username != "" {
		args = append(args, "-au", s.Username, "-ap", s.Password)
	}
	for k, v := range s.Keys {
		args = append(args, "-key", k, v)
	}
	if _, ok := s.Keys["contact_port"]; !ok {
		args = append(args, "-key", "contact_port", strconv.Itoa(localPort))
	}
	args = append(args, s.Extra...)
	args = append(args, s.Server)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	res := SIPpResult{Output: string(out)}
	if b, err := os.ReadFile(errLog); err == nil {
		res.ErrorLog = string(b)
	}
	if err != nil {
		exit, ok := err.(*exec.ExitError)
		if !ok {
			tb.Fatalf("testbed: run sipp: %v", err)
		}
		res.ExitCode = exit.ExitCode()
	}
	return res
}

// Register registers (expires > 0) or unregisters (expires 0) an extension with SIPp and
// returns SIPp's exit code: 0 when the registrar answered 200 after the digest round trip.
func Register(tb testing.TB, ctx context.Context, server, transport, ext, password string, expires int) SIPpResult {
	tb.Helper()
	return RunSIPp(tb, ctx, SIPp{
		Scenario: "register.xml", Server: server, Transport: transport,
		Service: ext, Username: ext, Password: password,
		Keys: map[string]string{"expires": strconv.Itoa(expires)},
	})
}

// CalleeOptions say how a SIPp callee answers (see sipp/callee.xml).
type CalleeOptions struct {
	Server      string // Asterisk host:port
	Ext         string // the account registered with this SIPp's address as contact
	Password    string
	Mode        string        // answer (default), hangup, busy, decline, ring, ring-elsewhere
	AnswerAfter time.Duration // ringing time before the 200 (answer, hangup)
	HangupAfter time.Duration // hangup: call length before the callee's BYE
	EchoRTP     bool          // send received RTP back (-rtp_echo): the caller hears itself
}

// SIPpCallee is one SIPp process acting as a phone: it registers (sipp/phone.xml), answers
// Asterisk's qualify requests and takes calls as CalleeOptions say (sipp/callee.xml as the
// out-of-call scenario). UDP only.
type SIPpCallee struct {
	Port   int
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartSIPpCallee starts a SIPp callee and returns once SIPp runs; wait for the registrations
// on Asterisk's side. It is stopped when the test ends.
func StartSIPpCallee(tb testing.TB, o CalleeOptions) *SIPpCallee {
	tb.Helper()
	bin, err := exec.LookPath("sipp")
	Need(tb, err == nil, "sipp not installed (Debian package sip-tester)")
	tmpl := map[string]string{"mode_jump": "", "ring_jump": "", "hangup_jump": "", "reject_code": "486 Busy Here", "cancel_check": "", "cancel_reference": "",
		"answer_ms": strconv.Itoa(int(o.AnswerAfter.Milliseconds())), "hold_ms": strconv.Itoa(int(o.HangupAfter.Milliseconds()))}
	switch o.Mode {
	case "", "answer":
	case "hangup":
		tmpl["hangup_jump"] = `<nop next="hangup" />`
	case "busy":
		tmpl["mode_jump"] = `<nop next="reject" />`
	case "decline":
		tmpl["mode_jump"], tmpl["reject_code"] = `<nop next="reject" />`, "603 Decline"
	case "ring":
		tmpl["ring_jump"] = `<nop next="cancelled" />`
	case "ring-elsewhere":
		tmpl["ring_jump"] = `<nop next="cancelled" />`
		tmpl["cancel_check"] = `<action><ereg regexp="Reason: SIP;cause=200;text=.Call completed elsewhere." search_in="msg" check_it="true" assign_to="reason" /></action>`
		tmpl["cancel_reference"] = `<Reference variables="reason" />`
	default:
		tb.Fatalf("testbed: unknown callee mode %q", o.Mode)
	}
	c := &SIPpCallee{Port: FreePort(tb), dir: tb.TempDir(), exited: make(chan struct{})}
	callee, _ := sippScenarios.ReadFile("sipp/callee.xml")
	for k, v := range tmpl {
		callee = bytes.ReplaceAll(callee, []byte("{{"+k+"}}"), []byte(v))
	}
	phone, _ := sippScenarios.ReadFile("sipp/phone.xml")
	for name, content := range map[string][]byte{"callee.xml": callee, "phone.xml": phone} {
		if err := os.WriteFile(filepath.Join(c.dir, name), content, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	args := []string{"-sf", "phone.xml", "-oocsf", "callee.xml", "-aa", "-s", o.Ext, "-au", o.Ext, "-ap", o.Password,
		"-m", "1", "-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-p", strconv.Itoa(c.Port), "-t", "u1", "-nostdin", "-trace_err", "-error_file", "errors.log",
		"-trace_msg", "-message_file", "messages.log"}
	if o.EchoRTP {
		args = append(args, "-rtp_echo")
	}
	c.cmd = exec.Command(bin, append(args, o.Server)...)
	c.cmd.Dir = c.dir
	logf, err := os.Create(filepath.Join(c.dir, "output.log"))
	if err != nil {
		tb.Fatal(err)
	}
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		tb.Fatalf("testbed: start SIPp callee: %v", err)
	}
	go func() { c.cmd.Wait(); logf.Close(); close(c.exited) }()
	tb.Cleanup(c.Stop)
	return c
}

// Stop stops the callee.
func (c *SIPpCallee) Stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	c.cmd.Process.Kill()
	<-c.exited
}

// Messages returns every SIP message the callee sent and received so far.
func (c *SIPpCallee) Messages() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "messages.log"))
	return string(b)
}

// Errors returns SIPp's log of unexpected messages.
func (c *SIPpCallee) Errors() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "errors.log"))
	return string(b)
}
