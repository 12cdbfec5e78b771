//go:build integration

package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// Every change made through the API (and so the CLI) leaves an audit entry: who, when, what,
// with every secret redacted; reads leave none.
func TestAuditTrail(t *testing.T) {
	s := StartStack(t, StackOptions{})
	const userPW, pin, trunkPW = "audit-user-password-1", "48213", "audit-trunk-secret-9"
	changes := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/users", map[string]any{"extension": "1001", "name": "Alice", "password": userPW,
			"voicemail": map[string]any{"enabled": true, "pin": pin}}},
		{"PATCH", "/api/v1/users/1001", map[string]any{"name": "Alice Example"}},
		{"POST", "/api/v1/users/1001/password", map[string]any{"password": userPW + "x"}},
		{"POST", "/api/v1/trunks", map[string]any{"name": "carrier", "host": "192.0.2.10", "auth": "register",
			"username": "acct", "password": trunkPW}},
		{"POST", "/api/v1/users", map[string]any{"extension": "1001", "name": "Clash"}}, // refused: 409
		{"DELETE", "/api/v1/trunks/carrier", nil},
	}
	for _, c := range changes {
		apiDo(t, s, c.method, c.path, c.body)
	}
	mustAPI(t, s, "GET", "/api/v1/users", nil)
	b := mustAPI(t, s, "GET", "/api/v1/audit?limit=50", nil)
	for _, secret := range []string{userPW, pin, trunkPW} {
		if strings.Contains(string(b), secret) {
			t.Fatalf("the audit trail holds a secret (%s…): %s", secret[:3], b)
		}
	}
	var list struct {
		Entries []struct {
			Actor, Method, Path string
			Status              int
			Change              map[string]any
		}
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Entries) != len(changes) {
		t.Fatalf("%d entries for %d changes (reads must leave none): %s", len(list.Entries), len(changes), b)
	}
	for i, c := range changes {
		e := list.Entries[len(changes)-1-i] // newest first
		if e.Method != c.method || e.Path != c.path || e.Actor == "" {
			t.Errorf("entry %d: %+v, want %s %s by the token", i, e, c.method, c.path)
		}
	}
	if st := list.Entries[1].Status; st != 409 {
		t.Errorf("the refused create is recorded with status %d, want 409", st)
	}
	first := list.Entries[len(list.Entries)-1]
	if first.Change["password"] != "[redacted]" || first.Change["name"] != "Alice" {
		t.Errorf("the first change is recorded as %v, want its name and a redacted password", first.Change)
	}
}
