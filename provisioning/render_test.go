package provisioning_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var globals = provisioning.DialplanGlobals{App: "switchboard", AGIURL: "agi://127.0.0.1:4573"}

func goldenUsers() []switchboard.User {
	mk := func(ext, name, pw string, vm bool, pin string, ring int) switchboard.User {
		return switchboard.User{
			Extension: ext, Name: name, RingTimeout: ring,
			Voicemail:   switchboard.Mailbox{Enabled: vm, PIN: pin},
			Credentials: provisioning.NewCredentials(ext, pw),
			Calls:       switchboard.DefaultCallSettings(),
			CreatedAt:   time.Unix(0, 0), UpdatedAt: time.Unix(0, 0),
		}
	}
	desk := mk("20", "Front Desk (Lab 2)", "front-desk-password", false, "", 30)
	desk.Calls.MaxDevices = 10
	alice := mk("1001", "Alice Smith", "alice-password-1", true, "4321", 20)
	jose := mk("1002", "José Müller-Ørsted", "jose-password-22", true, "987654", 5)
	jose.Calls.DND, jose.Calls.MaxDevices = true, 1
	sean := mk("1003", "Seán O'Brien", "sean-password-333", true, "0000", 120)
	sean.Calls.Forwards = switchboard.Forwards{
		Unconditional: switchboard.Forward{Enabled: false, Destination: "1001"}, // off: not in the line
		Busy:          switchboard.Forward{Enabled: true, Destination: "1002"},
		NoAnswer:      switchboard.Forward{Enabled: true, Destination: "9999"}, // nobody has it: the dialplan looks
	}
	return []switchboard.User{desk, alice, jose, sean}
}

func TestRenderGolden(t *testing.T) {
	for _, f := range provisioning.RenderConfig(goldenUsers(), globals, 42) {
		t.Run(f.Name, func(t *testing.T) {
			golden := filepath.Join("testdata", f.Name+".golden")
			if *update {
				if err := os.WriteFile(golden, f.Content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./provisioning -run Golden -update)", err)
			}
			if string(f.Content) != string(want) {
				t.Errorf("%s differs from %s:\n%s", f.Name, golden, f.Content)
			}
			if _, err := parseAsteriskConf(string(f.Content)); err != nil {
				t.Errorf("golden %s does not parse: %v", f.Name, err)
			}
		})
	}
}

func TestRenderEmpty(t *testing.T) {
	// With no users the files must still be valid and contain no section Asterisk would read as
	// a user.
	for _, f := range provisioning.RenderConfig(nil, globals, 0) {
		secs, err := parseAsteriskConf(string(f.Content))
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		for _, s := range secs {
			if len(s.Vars) > 0 && s.Name != "globals" {
				t.Errorf("%s: section %s has entries with no users", f.Name, s.Name)
			}
		}
	}
}

func TestParseAsteriskConfCatchesInjection(t *testing.T) {
	// The checker must itself be able to fail: feed it what an unvalidated name would produce.
	for _, text := range []string{
		"[a]\nk = v\n[evil]\n",
		"[a]\nk = v\n#include /etc/passwd\n",
		"[a]\nk = \"x\";--\n",
	} {
		secs, err := parseAsteriskConf(text)
		if err == nil && len(secs) == 1 {
			t.Errorf("injection in %q not detected: %+v", text, secs)
		}
	}
}

// FuzzRenderConfig shows that whatever validation accepts renders into configuration whose
// parsed sections and keys are exactly the expected ones: no input can add a section, a
// directive, a key or a voicemail field, or change another user's entries.
func FuzzRenderConfig(f *testing.F) {
	f.Add("1001", "Alice Smith", "4321", true, 20, "1002", "Bob", false, 3, "1002")
	f.Add("20", "José (Lab)", "000000", false, 5, "99", "O'Brien & Co", true, 10, "")
	f.Add("1001", "a\n[evil]", "1234", true, 30, "1002", "#include x", false, 1, "1002),x")
	f.Add("1001", "x;y", "1234,5", true, 30, "1002", `"q"`, true, 0, "1002\n[evil]")
	f.Fuzz(func(t *testing.T, ext, name, pin string, vm bool, ring int, ext2, name2 string, dnd bool, devices int, forward string) {
		u1 := switchboard.User{Extension: ext, Name: name, RingTimeout: ring,
			Voicemail:   switchboard.Mailbox{Enabled: vm, PIN: pin},
			Credentials: provisioning.NewCredentials(ext, "fuzz-password-1"),
			Calls: switchboard.CallSettings{CallWaiting: true, DND: dnd, MaxDevices: devices, Forwards: switchboard.Forwards{
				Unconditional: switchboard.Forward{Enabled: forward != "", Destination: forward},
				NoAnswer:      switchboard.Forward{Enabled: forward != "", Destination: forward}}}}
		u2 := switchboard.User{Extension: ext2, Name: name2, RingTimeout: 20,
			Voicemail:   switchboard.Mailbox{Enabled: true, PIN: "1234"},
			Credentials: provisioning.NewCredentials(ext2, "fuzz-password-2"),
			Calls:       switchboard.DefaultCallSettings()}
		if provisioning.ValidateUser(&u1) != nil || provisioning.ValidateUser(&u2) != nil || ext == ext2 {
			return
		}
		users := []switchboard.User{u1, u2}
		if provisioning.Less(ext2, ext) {
			users = []switchboard.User{u2, u1}
		}
		for _, file := range provisioning.RenderConfig(users, globals, 7) {
			secs, err := parseAsteriskConf(string(file.Content))
			if err != nil {
				t.Fatalf("%s does not parse: %v\n%s", file.Name, err, file.Content)
			}
			var want []confSection
			switch file.Name {
			case provisioning.PJSIPFile:
				for _, u := range users {
					want = append(want, expectedSections(u)...)
				}
			case provisioning.DialplanFile:
				want = []confSection{{Name: "globals", Options: "+", Vars: []confVar{
					{"SWITCHBOARD_APP", globals.App}, {"SWITCHBOARD_AGI", globals.AGIURL},
					{"SWITCHBOARD_CONFIG_VERSION", "7"}}}}
			}
			if !reflect.DeepEqual(normalize(secs), normalize(want)) {
				t.Fatalf("%s: parsed\n%+v\nwant\n%+v\nfrom\n%s", file.Name, secs, want, file.Content)
			}
		}
		// What goes to the realtime tables and to pushes is as plain: digits, or the name.
		for _, u := range users {
			l := provisioning.LineOf(u)
			for _, f := range []string{l.Always, l.Busy, l.NoAnswer} {
				if f != "" && (provisioning.ValidateExtension(f) != nil || f == u.Extension) {
					t.Fatalf("line of %s forwards to %q", u.Extension, f)
				}
			}
			for _, o := range provisioning.PJSIPObjectsOf(u) {
				for _, f := range o.Fields {
					if strings.ContainsAny(f.Value, "\r\n;[]\\") {
						t.Fatalf("%s %s field %s = %q", o.Type, o.ID, f.Name, f.Value)
					}
				}
			}
		}
	})
}

// expectedSections is what a user must contribute to pjsip.conf, and nothing else.
func expectedSections(u switchboard.User) []confSection {
	e := u.Extension
	endpoint := confSection{Name: e, Options: "switchboard-endpoint", Vars: []confVar{
		{"auth", e}, {"aors", e}, {"callerid", `"` + u.Name + `" <` + e + `>`}}}
	aor := confSection{Name: e, Options: "switchboard-aor", Vars: []confVar{{"max_contacts", strconv.Itoa(u.Calls.MaxDevices)}}}
	if u.Voicemail.Enabled {
		endpoint.Vars = append(endpoint.Vars, confVar{"mailboxes", e + "@default"})
		aor.Vars = append(aor.Vars, confVar{"mailboxes", e + "@default"})
	}
	return []confSection{
		{Name: e, Options: "switchboard-auth", Vars: []confVar{{"username", e},
			{"password_digest", "MD5:" + u.Credentials.MD5},
			{"password_digest", "SHA-256:" + u.Credentials.SHA256}}},
		aor,
		endpoint,
	}
}

func normalize(s []confSection) []confSection {
	out := make([]confSection, len(s))
	for i, x := range s {
		if len(x.Vars) == 0 {
			x.Vars = nil
		}
		out[i] = x
	}
	return out
}

// TestRealtimeRowsGolden: the rows the realtime tables get for the golden users (a forward that
// is off stays out; one to a number nobody has stays in: the dialplan checks at the time).
func TestRealtimeRowsGolden(t *testing.T) {
	var b strings.Builder
	b.WriteString("switchboard_lines: extension ring_timeout voicemail dnd forward_always forward_busy forward_no_answer\n")
	for _, u := range goldenUsers() {
		l := provisioning.LineOf(u)
		fmt.Fprintf(&b, "%s %d %t %t %q %q %q\n", l.Extension, l.RingTimeout, l.Voicemail, l.DND, l.Always, l.Busy, l.NoAnswer)
	}
	b.WriteString("voicemail: mailbox password fullname\n")
	for _, u := range goldenUsers() {
		if m, ok := provisioning.VoicemailBoxOf(u); ok {
			fmt.Fprintf(&b, "%s %s %q\n", m.Mailbox, m.PIN, m.FullName)
		}
	}
	golden := filepath.Join("testdata", "realtime.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./provisioning -run Golden -update)", err)
	}
	if b.String() != string(want) {
		t.Errorf("realtime rows differ from %s:\n%s", golden, b.String())
	}
}
