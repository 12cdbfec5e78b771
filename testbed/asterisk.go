package testbed

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/realtime"
)

// The ARI user declared in the repository's asterisk/ari.conf. Private instances keep it, so
// tests prove that the repository's own configuration works.
const (
	RepoARIUsername = "switchboard"
	RepoARIPassword = "switchboard-dev"
)

// Asterisk is a running Asterisk 22 instance of the test bed.
type Asterisk struct {
	Name        string
	Root        string // the chroot: "/" for this Asterisk
	Dir         string // its instance directory, on the host
	ConfigDir   string // where the control plane writes generated config (etc/switchboard)
	SpoolDir    string // its spool, on the host (voicemail lives in SpoolDir/voicemail)
	LogFile     string // its "messages" log
	ARIURL      string // http://127.0.0.1:PORT (without /ari)
	ARIUsername string
	ARIPassword string
	SIPPort     int
	SIPHost     string // the address SIP (UDP and TCP) and RTP listen on: 127.0.0.1 unless AsteriskOptions say

	script string
	proc   *exec.Cmd
	exited chan struct{}
}

// SharedAsterisk returns the instance scripts/test started for the whole run. Tests must not
// restart it or write its configuration; StartAsterisk gives them one of their own.
func SharedAsterisk(tb testing.TB) *Asterisk {
	tb.Helper()
	name := Getenv(tb, EnvAsteriskName)
	a := newAsterisk(tb, name)
	a.ARIURL = Getenv(tb, EnvARIURL)
	a.ARIUsername = Getenv(tb, EnvARIUsername)
	a.ARIPassword = Getenv(tb, EnvARIPassword)
	fmt.Sscan(Getenv(tb, EnvSIPPort), &a.SIPPort)
	a.SIPHost = "127.0.0.1"
	return a
}

func newAsterisk(tb testing.TB, name string) *Asterisk {
	tb.Helper()
	root := Getenv(tb, EnvAsteriskRoot)
	dir := filepath.Join(root, "srv", "switchboard", name)
	return &Asterisk{
		Name:      name,
		Root:      root,
		Dir:       dir,
		ConfigDir: filepath.Join(dir, "etc", "switchboard"),
		SpoolDir:  filepath.Join(dir, "spool"),
		LogFile:   filepath.Join(dir, "log", "messages.log"),
		script:    filepath.Join(Repo(tb), "scripts", "asterisk-instance"),
	}
}

// StartAsterisk starts a private Asterisk instance with the repository's configuration on free
// ports and waits until it is fully booted. It dies with the test process, even on SIGKILL.
func StartAsterisk(tb testing.TB) *Asterisk {
	tb.Helper()
	return StartAsteriskWith(tb, AsteriskOptions{})
}

// AsteriskOptions say how a private instance differs from the one StartAsterisk starts.
type AsteriskOptions struct {
	// SIPBind is the loopback address SIP listens on and the instance advertises for media
	// (default 127.0.0.1). Another address of 127.0.0.0/8, such as 127.0.0.2, gives the
	// instance an address of its own: a PBX under test can then tell its calls from its
	// phones' by address, as it tells a provider's (see StartCarrier).
	SIPBind string
}

// StartAsteriskWith is StartAsterisk with options.
func StartAsteriskWith(tb testing.TB, opts AsteriskOptions) *Asterisk {
	tb.Helper()
	if opts.SIPBind == "" {
		opts.SIPBind = "127.0.0.1"
	}
	if ip := net.ParseIP(opts.SIPBind); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		tb.Fatalf("testbed: SIPBind %q is not an IPv4 loopback address", opts.SIPBind)
	}
	a := newAsterisk(tb, RunName("ast"))
	a.SIPHost = opts.SIPBind
	a.SIPPort = freePortOn(tb, opts.SIPBind)
	ariPort := FreePort(tb)
	a.ARIURL = fmt.Sprintf("http://127.0.0.1:%d", ariPort)
	a.ARIUsername = RepoARIUsername
	a.ARIPassword = RepoARIPassword
	create := exec.Command(a.script, "create", a.Name)
	create.Env = append(os.Environ(),
		"ASTERISK_ROOT="+a.Root,
		"SIP_BIND="+opts.SIPBind, "MEDIA_ADDRESS="+opts.SIPBind,
		fmt.Sprintf("SIP_PORT=%d", a.SIPPort),
		fmt.Sprintf("ARI_PORT=%d", ariPort),
		"RTP_START=20000", "RTP_END=40000",
	)
	if out, err := create.CombinedOutput(); err != nil {
		tb.Fatalf("testbed: create Asterisk %s: %v\n%s", a.Name, err, out)
	}
	tb.Cleanup(func() {
		a.Stop(tb)
		os.RemoveAll(a.Dir)
	})
	a.Start(tb)
	return a
}

// freePortOn returns a port free for both TCP and UDP on host at the time of the call.
func freePortOn(tb testing.TB, host string) int {
	tb.Helper()
	if host == "127.0.0.1" {
		return FreePort(tb)
	}
	for range 50 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			tb.Fatalf("testbed: listen on %s: %v", host, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port
	}
	tb.Fatalf("testbed: no port on %s free for both TCP and UDP", host)
	return 0
}

// Start runs the instance (again) and waits until it is fully booted.
func (a *Asterisk) Start(tb testing.TB) {
	tb.Helper()
	if a.proc != nil {
		tb.Fatalf("testbed: Asterisk %s is already running", a.Name)
	}
	cmd := exec.Command(a.script, "run", a.Name)
	cmd.Env = append(os.Environ(), "ASTERISK_ROOT="+a.Root)
	out, err := os.OpenFile(filepath.Join(a.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	// The instance is PID 1 of its own namespaces (see scripts/asterisk-instance) and gets
	// SIGKILL when this test process dies, so a crashed test leaves nothing running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		tb.Fatalf("testbed: start Asterisk %s: %v", a.Name, err)
	}
	a.proc, a.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(a.exited) }()
	wait := exec.Command(a.script, "wait", a.Name)
	wait.Env = append(os.Environ(), "ASTERISK_ROOT="+a.Root)
	if b, err := wait.CombinedOutput(); err != nil {
		tb.Fatalf("testbed: Asterisk %s did not boot: %v\n%s", a.Name, err, b)
	}
}

// Stop shuts the instance down (core stop now) and waits for it to exit.
func (a *Asterisk) Stop(tb testing.TB) {
	tb.Helper()
	if a.proc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.CLI(ctx, "core stop now")
	select {
	case <-a.exited:
	case <-ctx.Done():
		a.Kill(tb)
	}
	a.proc = nil
}

// Kill kills the instance at once (SIGKILL), as a crash would.
func (a *Asterisk) Kill(tb testing.TB) {
	tb.Helper()
	if a.proc == nil {
		return
	}
	a.proc.Process.Kill()
	<-a.exited
	a.proc = nil
}

// Restart stops and starts the instance.
func (a *Asterisk) Restart(tb testing.TB) {
	tb.Helper()
	a.Stop(tb)
	a.Start(tb)
}

// CLI runs one Asterisk CLI command and returns its output.
func (a *Asterisk) CLI(ctx context.Context, command string) (string, error) {
	cmd := exec.CommandContext(ctx, a.script, "cli", a.Name, command)
	cmd.Env = append(os.Environ(), "ASTERISK_ROOT="+a.Root)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("asterisk cli %q: %w: %s", command, err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// MustCLI runs one CLI command and fails the test when it cannot be run.
func (a *Asterisk) MustCLI(tb testing.TB, command string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := a.CLI(ctx, command)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// WriteConfig writes a file into the generated-config directory and reloads module, the way
// the control plane does; tests use it to declare endpoints of their own.
func (a *Asterisk) WriteConfig(tb testing.TB, file, content, module string) {
	tb.Helper()
	if err := os.MkdirAll(a.ConfigDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.ConfigDir, file), []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	a.MustCLI(tb, "module reload "+module)
}

// LogProblems returns the ERROR and WARNING lines of the instance's log.
func (a *Asterisk) LogProblems(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open(a.LogFile)
	if err != nil {
		tb.Fatalf("testbed: read Asterisk log: %v", err)
	}
	defer f.Close()
	var problems []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); strings.Contains(line, "ERROR[") || strings.Contains(line, "WARNING[") {
			problems = append(problems, line)
		}
	}
	return problems
}

// WriteUsers writes the realtime tables (the users' lines in the dial plan and their mailboxes)
// as the control plane would, for tests that run Asterisk's dialplan without it.
func (a *Asterisk) WriteUsers(tb testing.TB, users []switchboard.User) {
	tb.Helper()
	ctx := context.Background()
	db, err := realtime.Open(ctx, filepath.Join(a.ConfigDir, provisioning.RealtimeFile))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if err := db.Apply(ctx, switchboard.UserChanges{Users: users, Version: 1}, true); err != nil {
		tb.Fatal(err)
	}
}
