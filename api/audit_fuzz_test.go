package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzRedactedObject: whatever a body holds, what the audit trail keeps of it has no secret
// left at any depth, no NUL (which jsonb refuses), and is JSON again; and every key that the
// handlers' decoding takes for a secret field is one the trail redacts.
func FuzzRedactedObject(f *testing.F) {
	for _, seed := range []string{
		`{"password":"x","voicemail":{"pin":"1234"}}`,
		`{"a":[{"Secret":"s"},{"moderator_pin":"p"}],"PassWord":"y","api_token":"t"}`,
		`{"paſſword":"z","\u0000":"\u0000","n":1e999}`,
		`["password","x"]`,
		`{"a":1} {"b":2}`,
		`{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":1}}}}}}}}}}}}}}}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, ok := redactedObject(body)
		if !ok {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("the change is not JSON: %v", err)
		}
		if strings.Contains(string(b), `\u0000`) {
			t.Errorf("NUL kept: %s", b)
		}
		var check func(v any)
		check = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					if secretKey(k) && x != Redacted {
						t.Errorf("secret %q kept: %s", k, b)
					}
					check(x)
				}
			case []any:
				for _, x := range v {
					check(x)
				}
			}
		}
		check(any(m))
		// Each key the handlers would decode into a field named password, pin or token is
		// redacted.
		var original map[string]any
		if json.Unmarshal(body, &original) != nil {
			return
		}
		for k := range original {
			key, _ := json.Marshal(k)
			var fields struct {
				Password, PIN, Token string
				ModeratorPIN         string `json:"moderator_pin"`
			}
			if json.Unmarshal([]byte(`{`+string(key)+`:"x"}`), &fields) == nil &&
				(fields.Password != "" || fields.PIN != "" || fields.Token != "" || fields.ModeratorPIN != "") && !secretKey(k) {
				t.Errorf("key %q decodes into a secret field but is kept", k)
			}
		}
	})
}
