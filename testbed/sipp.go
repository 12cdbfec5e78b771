package testbed

import (
	"context"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	Keys      map[string]string // -key NAME VALUE
	Calls     int               // -m (default 1)
	Rate      float64           // -r calls per second (default 10)
	Timeout   time.Duration     // -timeout (default 15 s)
	Extra     []string          // further arguments
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
	args := []string{
		"-sf", scenario, "-i", "127.0.0.1", "-p", strconv.Itoa(FreePort(tb)),
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
