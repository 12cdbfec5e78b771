package provisioning_test

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// confSection is one [section] of an Asterisk configuration file as Asterisk's parser
// (main/config.c) reads it.
type confSection struct {
	Name    string
	Options string // what follows the name in parentheses: templates, "!", "+"
	Vars    []confVar
}

type confVar struct{ Key, Value string }

// parseAsteriskConf parses config text with the rules of Asterisk's parser that matter for
// injection: ";" starts a comment unless escaped, ";--" opens a block comment until "--;",
// a line starting with "[" opens a section, "#" starts a directive (#include, #exec...),
// and "key = value" / "key => value" split at the first "=". It reports directives and stray
// lines as errors instead of guessing.
func parseAsteriskConf(text string) ([]confSection, error) {
	var sections []confSection
	inBlockComment := false
	for n, raw := range strings.Split(text, "\n") {
		line := raw
		if inBlockComment {
			end := strings.Index(line, "--;")
			if end < 0 {
				continue
			}
			line, inBlockComment = line[end+3:], false
		}
		if i := strings.Index(line, ";--"); i >= 0 {
			if end := strings.Index(line[i+3:], "--;"); end >= 0 {
				line = line[:i] + line[i+3+end+3:]
			} else {
				line, inBlockComment = line[:i], true
			}
		}
		line = stripComment(line)
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			return nil, fmt.Errorf("line %d: directive %q", n+1, line)
		case strings.HasPrefix(line, "["):
			end := strings.Index(line, "]")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated section %q", n+1, line)
			}
			s := confSection{Name: line[1:end]}
			rest := line[end+1:]
			if rest != "" {
				if !strings.HasPrefix(rest, "(") || !strings.HasSuffix(rest, ")") {
					return nil, fmt.Errorf("line %d: junk after section: %q", n+1, rest)
				}
				s.Options = rest[1 : len(rest)-1]
			}
			sections = append(sections, s)
		default:
			eq := strings.Index(line, "=")
			if eq < 0 {
				return nil, fmt.Errorf("line %d: no '=' in %q", n+1, line)
			}
			if len(sections) == 0 {
				return nil, fmt.Errorf("line %d: variable outside a section", n+1)
			}
			key := strings.TrimSpace(line[:eq])
			value := strings.TrimSpace(strings.TrimPrefix(line[eq+1:], ">"))
			last := &sections[len(sections)-1]
			last.Vars = append(last.Vars, confVar{key, value})
		}
	}
	if inBlockComment {
		return nil, fmt.Errorf("unterminated block comment")
	}
	return sections, nil
}

// stripComment cuts a line at the first unescaped ";" and unescapes "\;".
func stripComment(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == ';':
			b.WriteByte(';')
			i++
		case line[i] == ';':
			return b.String()
		default:
			b.WriteByte(line[i])
		}
	}
	return b.String()
}

// TestManagerConf: AMI is on only for the control plane's voicemail actions over HTTP
// (package ami). Its one user, ARI's, reads no events and may write only the "user" class
// (VoicemailMove, VoicemailRemove, VoicemailRefresh); AMI's own TCP listener stays on a
// loopback address; and install-config gives the user ARI's name and password.
func TestManagerConf(t *testing.T) {
	dest := t.TempDir()
	install := exec.Command("../asterisk/install-config", dest)
	install.Env = append(os.Environ(), "ARI_USERNAME=control", "ARI_PASSWORD=site-secret-1", "ARI_PORT=28188")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("install-config: %v\n%s", err, out)
	}
	for _, tt := range []struct{ dir, user, secret string }{
		{"../asterisk", "switchboard", "switchboard-dev"}, // the repository's, for the native stack
		{dest, "control", "site-secret-1"},                // as install-config writes it
	} {
		text, err := os.ReadFile(filepath.Join(tt.dir, "manager.conf"))
		if err != nil {
			t.Fatal(err)
		}
		secs, err := parseAsteriskConf(string(text))
		if err != nil {
			t.Fatalf("%s/manager.conf: %v", tt.dir, err)
		}
		if len(secs) != 2 || secs[0].Name != "general" || secs[1].Name != tt.user {
			t.Fatalf("%s/manager.conf: sections %+v, want general and %s", tt.dir, secs, tt.user)
		}
		general, user := confMap(secs[0]), confMap(secs[1])
		if general["enabled"] != "yes" || general["webenabled"] != "yes" || !strings.HasPrefix(general["bindaddr"], "127.") {
			t.Errorf("%s/manager.conf [general]: %v", tt.dir, general)
		}
		want := map[string]string{"secret": tt.secret, "read": "", "write": "user,system", "displayconnects": "no"}
		if !maps.Equal(user, want) {
			t.Errorf("%s/manager.conf [%s]: %v, want exactly %v", tt.dir, tt.user, user, want)
		}
	}
	if text, _ := os.ReadFile(filepath.Join(dest, "manager.conf")); !strings.Contains(string(text), "\nbindaddr = 127.110.28.1\n") {
		t.Errorf("AMI's TCP listener is not on ARI port 28188's own loopback address:\n%s", text)
	}
	if text, _ := os.ReadFile(filepath.Join(dest, "ari.conf")); !strings.Contains(string(text), "\n[control]\n") ||
		!strings.Contains(string(text), "\npassword = site-secret-1\n") {
		t.Errorf("ari.conf's user is not manager.conf's:\n%s", text)
	}
}

// confMap returns a section's variables by name; a repeated name keeps its last value.
func confMap(s confSection) map[string]string {
	m := map[string]string{}
	for _, v := range s.Vars {
		m[v.Key] = v.Value
	}
	return m
}
