package provisioning_test

import (
	"fmt"
	"strings"
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
