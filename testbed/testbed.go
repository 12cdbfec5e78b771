// Package testbed gives integration and end-to-end tests the real services they run against:
// PostgreSQL, Asterisk 22 (from the cached Debian sid chroot) and the SIP tools (SIPp, baresip).
//
// `make test` (scripts/test) installs the tools, starts a throw-away PostgreSQL cluster and a
// shared Asterisk instance on free loopback ports, and describes them to the tests through the
// SWITCHBOARD_TEST_* environment variables read here. Tests that must own a service (restart it,
// stop it, write its configuration) start a private instance with StartAsterisk or
// StartPostgres; those die with the test process.
//
// When a service is missing, a test fails if CI=true and is skipped with a loud message
// otherwise: nothing is silently skipped in CI.
package testbed

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Environment variables set by scripts/test.
const (
	EnvDSN          = "SWITCHBOARD_TEST_DSN"           // admin DSN of the shared PostgreSQL cluster
	EnvAsteriskRoot = "SWITCHBOARD_TEST_ASTERISK_ROOT" // the sid chroot with Asterisk 22
	EnvAsteriskName = "SWITCHBOARD_TEST_ASTERISK"      // name of the shared Asterisk instance
	EnvARIURL       = "SWITCHBOARD_TEST_ARI_URL"       // e.g. http://127.0.0.1:28088
	EnvARIUsername  = "SWITCHBOARD_TEST_ARI_USERNAME"
	EnvARIPassword  = "SWITCHBOARD_TEST_ARI_PASSWORD"
	EnvSIPPort      = "SWITCHBOARD_TEST_SIP_PORT" // UDP and TCP, on 127.0.0.1
	EnvRun          = "SWITCHBOARD_TEST_RUN"      // prefix for everything this run creates
	EnvStateDir     = "SWITCHBOARD_TEST_STATE"    // a directory this run may write to
)

// InCI reports whether the tests run in CI, where a missing prerequisite is a failure.
func InCI() bool { return os.Getenv("CI") == "true" }

// Need fails the test in CI and skips it loudly elsewhere when a prerequisite is missing.
func Need(tb testing.TB, ok bool, format string, args ...any) {
	tb.Helper()
	if ok {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		tb.Fatalf("test bed prerequisite missing (CI=true, so this fails): %s", msg)
	}
	tb.Skipf("SKIPPED, test bed prerequisite missing: %s (run `make test` to get the full bed)", msg)
}

// Getenv returns a test bed variable, failing (CI) or skipping the test when it is unset.
func Getenv(tb testing.TB, name string) string {
	tb.Helper()
	v := os.Getenv(name)
	Need(tb, v != "", "%s is not set", name)
	return v
}

// Repo returns the repository root (the directory holding go.mod).
func Repo(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testbed: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// RunName returns a name unique to this test run for instances and databases, so that the
// teardown in scripts/test finds everything a run created, even after a crash.
func RunName(prefix string) string {
	run := os.Getenv(EnvRun)
	if run == "" {
		run = "local"
	}
	return fmt.Sprintf("%s-%s-%06d", run, prefix, rand.IntN(1_000_000))
}

// StateDir returns a directory for this test that other users (postgres) can traverse.
func StateDir(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvStateDir)
	if base == "" {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, "sbt-")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// FreePort returns a port on 127.0.0.1 that is free for both TCP and UDP at the time of the call.
func FreePort(tb testing.TB) int {
	tb.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port
	}
	tb.Fatal("testbed: no port free for both TCP and UDP")
	return 0
}
