//go:build integration

package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/provisioning"
)

// The files that hold secrets (the generated configuration with users' digests, the realtime
// database with voicemail PINs, ARI's and AMI's password) are readable by their owner and
// group (the control plane and Asterisk) and nobody else, and are owned by whoever runs them.
func TestGeneratedFilesArePrivate(t *testing.T) {
	s := StartStack(t, StackOptions{})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	pjsip := filepath.Join(s.Asterisk.ConfigDir, provisioning.PJSIPFile)
	eventually(t, 30*time.Second, "generated files written with 1001", func() error {
		b, err := os.ReadFile(pjsip)
		if err != nil || !strings.Contains(string(b), "[1001]") {
			return fmt.Errorf("not yet: %v", err)
		}
		return nil
	})
	paths := []string{
		s.Asterisk.ConfigDir,
		filepath.Join(s.Asterisk.Dir, "etc", "ari.conf"),
		filepath.Join(s.Asterisk.Dir, "etc", "manager.conf"),
	}
	entries, err := os.ReadDir(s.Asterisk.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		paths = append(paths, filepath.Join(s.Asterisk.ConfigDir, e.Name()))
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o007 != 0 {
			t.Errorf("%s is %v: others may read it", p, fi.Mode().Perm())
		}
		if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != os.Getuid() {
			t.Errorf("%s is owned by uid %d, not by the user running the stack (%d)", p, st.Uid, os.Getuid())
		}
		t.Logf("%s %v", strings.TrimPrefix(p, s.Asterisk.Dir+"/"), fi.Mode().Perm())
	}
	// Asterisk reads them all: 1001's phone registers (digests), and its line (realtime) answers.
	registerOK(t, s, "udp", "1001", "alice-password-1")
}
