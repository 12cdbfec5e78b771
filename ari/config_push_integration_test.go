//go:build integration

package ari

import (
	"context"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/testbed"
)

func pushUser(ext, name, password string, vm bool) switchboard.User {
	return switchboard.User{Extension: ext, Name: name, RingTimeout: 20,
		Voicemail:   switchboard.Mailbox{Enabled: vm, PIN: "1234"},
		Credentials: provisioning.NewCredentials(ext, password),
		Calls:       switchboard.DefaultCallSettings()}
}

// identity are the fields a user's own objects set (PJSIPObjectsOf); everything else comes
// from the templates, whether an object was read from the files or pushed.
var identity = map[string]bool{"auth": true, "aors": true, "callerid": true, "mailboxes": true,
	"username": true, "password_digest": true, "md5_cred": true, "max_contacts": true, "contact": true}

// TestPushedUsersEqualFileUsers: a user pushed over ARI is the same object, field by field,
// as a user Asterisk read from the generated file (the templates' fields come from the
// probes), it registers at once, a pushed change replaces a file object's credentials, and a
// tombstone locks a deleted user out and drops their phones.
func TestPushedUsersEqualFileUsers(t *testing.T) {
	ast := testbed.StartAsterisk(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := NewClient(Config{URL: ast.ARIURL, Username: ast.ARIUsername, Password: ast.ARIPassword, App: "push-test"})
	if err != nil {
		t.Fatal(err)
	}
	server := net.JoinHostPort("127.0.0.1", strconv.Itoa(ast.SIPPort))
	registers := func(ext, password string) bool {
		return testbed.Register(t, ctx, server, "udp", ext, password, 60).ExitCode == 0
	}

	// 1001 comes from the generated file, as at Asterisk's start.
	fileUser := pushUser("1001", "File User", "file-user-password", true)
	ast.WriteConfig(t, provisioning.PJSIPFile, string(provisioning.RenderPJSIP([]switchboard.User{fileUser})), "res_pjsip.so")
	// 1002 is pushed.
	pushed := pushUser("1002", "Pushed User", "pushed-user-password", true)
	if err := c.PushPJSIP(ctx, provisioning.PJSIPObjectsOf(pushed)); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"endpoint", "aor", "auth"} {
		fromFile, err := c.dynamicObject(ctx, kind, "1001")
		if err != nil {
			t.Fatal(err)
		}
		fromPush, err := c.dynamicObject(ctx, kind, "1002")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range slices.Sorted(maps.Keys(fromFile)) {
			if identity[name] {
				continue
			}
			if f, p := strings.Join(fromFile[name], ","), strings.Join(fromPush[name], ","); f != p {
				t.Errorf("%s field %s: %q from the file, %q pushed", kind, name, f, p)
			}
		}
	}
	if !registers("1002", "pushed-user-password") {
		t.Fatal("the pushed user cannot register")
	}

	// A pushed change of the file's user: the new password works at once, the old one no more.
	changed := pushUser("1001", "File User", "new-file-user-password", false)
	if err := c.PushPJSIP(ctx, provisioning.PJSIPObjectsOf(changed)); err != nil {
		t.Fatal(err)
	}
	if registers("1001", "file-user-password") {
		t.Error("the old password still registers after the push")
	}
	if !registers("1001", "new-file-user-password") {
		t.Error("the new password does not register")
	}
	if ep, _ := c.dynamicObject(ctx, "endpoint", "1001"); strings.Join(ep["mailboxes"], "") != "" {
		t.Errorf("voicemail off, yet mailboxes = %v", ep["mailboxes"])
	}

	// A changed max_devices while a phone is registered: the AOR stays as it is (Asterisk would
	// turn the registration into a permanent contact), and the phone stays a registration.
	changed.Calls.MaxDevices = 5
	if err := c.PushPJSIP(ctx, provisioning.PJSIPObjectsOf(changed)); err != nil {
		t.Fatal(err)
	}
	if aor, _ := c.dynamicObject(ctx, "aor", "1001"); strings.Join(aor["max_contacts"], "") != "3" || len(aor["contact"]) != 1 {
		t.Errorf("AOR of a registered user after a max_devices change: %v", aor)
	}
	if contacts := ast.MustCLI(t, "pjsip show contacts"); strings.Contains(contacts, "1001@@") {
		t.Errorf("a registration became a permanent contact:\n%s", contacts)
	}

	// Deleting 1002: its registration goes, its password no longer works.
	if err := c.PushPJSIP(ctx, provisioning.PJSIPTombstone("1002")); err != nil {
		t.Fatal(err)
	}
	if err := c.DropRegistrations(ctx, "1002"); err != nil {
		t.Fatal(err)
	}
	if aor, _ := c.dynamicObject(ctx, "aor", "1002"); strings.Join(aor["contact"], "") != "" {
		t.Errorf("contacts left after the tombstone: %v\n%s", aor["contact"], ast.MustCLI(t, "pjsip show aor 1002"))
	}
	if registers("1002", "pushed-user-password") {
		t.Error("a deleted user still registers")
	}

	// 1002 again, with another max_devices: no phone is registered, so the AOR changes.
	again := pushUser("1002", "Again", "pushed-again-password", true)
	again.Calls.MaxDevices = 7
	if err := c.PushPJSIP(ctx, provisioning.PJSIPObjectsOf(again)); err != nil {
		t.Fatal(err)
	}
	if aor, _ := c.dynamicObject(ctx, "aor", "1002"); strings.Join(aor["max_contacts"], "") != "7" {
		t.Errorf("AOR of the re-created user: %v", aor)
	}
	if !registers("1002", "pushed-again-password") {
		t.Error("the re-created user cannot register")
	}

	// The version Asterisk holds: none at first, then what was set.
	if v, err := c.ConfigVersion(ctx); err != nil || v != 0 {
		t.Errorf("version before any: %d, %v", v, err)
	}
	if err := c.SetConfigVersion(ctx, 1234); err != nil {
		t.Fatal(err)
	}
	if v, err := c.ConfigVersion(ctx); err != nil || v != 1234 {
		t.Errorf("version: %d, %v", v, err)
	}
	// Nothing of this reloaded or failed in Asterisk.
	for _, line := range ast.LogProblems(t) {
		if strings.Contains(line, "sorcery") || strings.Contains(line, "config_") {
			t.Errorf("Asterisk: %s", line)
		}
	}
}
