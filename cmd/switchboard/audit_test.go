package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

// memoryAudit is an audit trail in memory, newest last.
type memoryAudit struct {
	mu      sync.Mutex
	entries []switchboard.AuditEntry
}

func (m *memoryAudit) Record(_ context.Context, e switchboard.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ID, e.At = int64(len(m.entries)+1), time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	m.entries = append(m.entries, e)
	return nil
}

func (m *memoryAudit) Entries(_ context.Context, f switchboard.AuditFilter) (switchboard.AuditPage, error) {
	if err := f.Validate(); err != nil {
		return switchboard.AuditPage{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var page switchboard.AuditPage
	for i := len(m.entries) - 1; i >= 0; i-- {
		if e := m.entries[i]; (f.Before == 0 || e.ID < f.Before) && strings.HasPrefix(e.Path, f.Path) {
			if len(page.Entries) == f.Limit {
				page.Next = page.Entries[f.Limit-1].ID
				break
			}
			page.Entries = append(page.Entries, e)
		}
	}
	return page, nil
}

// Changes made with the CLI are in the trail it lists, newest first, without their secrets.
func TestAuditCLI(t *testing.T) {
	cli := adminCLI(t, api.Server{
		Users: &provisioning.Service{Store: inmem.NewUserStore(), Config: noConfig{}, Presence: offlinePresence{}},
		Audit: &memoryAudit{},
	}, func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		if args[0] == "users" {
			return users(ctx, args[1:], stdout, stderr)
		}
		return audit(ctx, args[1:], stdout, stderr)
	})
	for _, args := range [][]string{
		{"users", "add", "1001", "--name", "Alice", "--password", "Sup3r-secret-pass"},
		{"users", "add", "1002", "--name", "Bob"},
		{"users", "rm", "1002"},
	} {
		if out, errOut, code := cli(args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}

	out, errOut, code := cli("audit", "--limit", "2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.Contains(lines[1], "admin-token") || !strings.Contains(lines[1], "204     DELETE /api/v1/users/1002  -") ||
		!strings.Contains(lines[2], `201     POST /api/v1/users         {"extension":"1002","name":"Bob","voicemail":{"enabled":true}}`) ||
		lines[3] != "older entries: switchboard audit --before 2" {
		t.Fatalf("audit --limit 2: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = cli("audit", "--before", "2", "--json")
	var l api.AuditList
	if err := json.Unmarshal([]byte(out), &l); err != nil || code != 0 || len(l.Entries) != 1 ||
		l.Entries[0].Change["password"] != api.Redacted || strings.Contains(out, "Sup3r-secret-pass") {
		t.Errorf("audit --before 2 --json: exit %d, %v\n%s", code, err, out)
	}
	if out, _, code := cli("audit", "--path", "/api/v1/users/1002"); code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("audit --path: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"audit", "--limit", "0"}, {"audit", "extra"}} {
		if _, errOut, code := cli(args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, %q", args, code, errOut)
		}
	}
	if _, errOut, code := cli("audit", "--path", "users"); code != 1 || !strings.Contains(errOut, "(invalid)") {
		t.Errorf("audit --path users: exit %d, %q", code, errOut)
	}
}
