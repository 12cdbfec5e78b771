//go:build integration

package postgres_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/postgres"
	"github.com/switchboard-pbx/switchboard/testbed"
)

func TestAuditStore(t *testing.T) {
	ctx := context.Background()
	store := &postgres.AuditStore{DB: MustOpenDB(t, testbed.NewDatabase(t))}
	record := func(t *testing.T, e switchboard.AuditEntry) {
		t.Helper()
		if e.Method == "" {
			e.Method, e.Status, e.Actor = "POST", 201, "admin-token"
		}
		if err := store.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// paths lists the paths of a page, and its cursor.
	paths := func(t *testing.T, f switchboard.AuditFilter) ([]string, int64) {
		t.Helper()
		page, err := store.Entries(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range page.Entries {
			out = append(out, e.Path)
		}
		return out, page.Next
	}

	t.Run("RecordAndRead", func(t *testing.T) {
		start := time.Now()
		change := map[string]any{"extension": "1001", "password": "[redacted]", "ring_timeout": float64(25),
			"voicemail": map[string]any{"enabled": true, "pin": "[redacted]"}, "members": []any{"1002", "1003"}, "email": nil}
		record(t, switchboard.AuditEntry{Actor: "admin-token", Method: "PATCH", Path: "/api/v1/users/1001", Status: 400,
			Change: change, RequestID: "host/abc-000001"})
		page, err := store.Entries(ctx, switchboard.AuditFilter{Limit: 10})
		if err != nil || len(page.Entries) != 1 || page.Next != 0 {
			t.Fatalf("%+v, %v", page, err)
		}
		e := page.Entries[0]
		if e.ID < 1 || e.Actor != "admin-token" || e.Method != "PATCH" || e.Path != "/api/v1/users/1001" || e.Status != 400 ||
			e.RequestID != "host/abc-000001" || !reflect.DeepEqual(e.Change, change) {
			t.Errorf("read %+v", e)
		}
		if e.At.Before(start.Add(-time.Minute)) || e.At.After(time.Now().Add(time.Minute)) {
			t.Errorf("at %v: not now (%v)", e.At, start)
		}
		// No body is NULL, read as nil; a time given is kept.
		at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		record(t, switchboard.AuditEntry{Method: "DELETE", Path: "/api/v1/users/1001", Status: 204, At: at})
		page, _ = store.Entries(ctx, switchboard.AuditFilter{Limit: 1})
		if e := page.Entries[0]; e.Change != nil || !e.At.Equal(at) || e.Actor != "" || page.Next == 0 {
			t.Errorf("read %+v, next %d", e, page.Next)
		}
	})

	t.Run("PagesNewestFirst", func(t *testing.T) {
		for _, p := range []string{"/api/v1/rooms/600", "/api/v1/rooms/601", "/api/v1/rooms/602", "/api/v1/rooms/603", "/api/v1/rooms/604"} {
			record(t, switchboard.AuditEntry{Path: p})
		}
		var all []string
		f := switchboard.AuditFilter{Limit: 2, Path: "/api/v1/rooms/"}
		for {
			got, next := paths(t, f)
			all = append(all, got...)
			if next == 0 {
				break
			}
			f.Before = next
		}
		want := []string{"/api/v1/rooms/604", "/api/v1/rooms/603", "/api/v1/rooms/602", "/api/v1/rooms/601", "/api/v1/rooms/600"}
		if !reflect.DeepEqual(all, want) {
			t.Errorf("pages %q, want %q", all, want)
		}
	})

	// A prefix is text, byte by byte: not a pattern, and its end is exact (the next code point).
	t.Run("PathPrefix", func(t *testing.T) {
		for _, p := range []string{"/api/v1/x/a_b", "/api/v1/x/aXb", "/api/v1/x/a%", "/api/v1/x/é1", "/api/v1/x/ê", "/api/v1/x/é",
			"/api/v1/x/\U0010FFFF", "/api/v1/x/\U0010FFFFz", "/api/v1/x0"} {
			record(t, switchboard.AuditEntry{Path: p})
		}
		for _, c := range []struct {
			prefix string
			want   []string
		}{
			{"/api/v1/x/a_", []string{"/api/v1/x/a_b"}},
			{"/api/v1/x/a%", []string{"/api/v1/x/a%"}},
			{"/api/v1/x/é", []string{"/api/v1/x/é", "/api/v1/x/é1"}},
			{"/api/v1/x/\U0010FFFF", []string{"/api/v1/x/\U0010FFFFz", "/api/v1/x/\U0010FFFF"}},
			{"/api/v1/x/", []string{"/api/v1/x/\U0010FFFFz", "/api/v1/x/\U0010FFFF", "/api/v1/x/é", "/api/v1/x/ê",
				"/api/v1/x/é1", "/api/v1/x/a%", "/api/v1/x/aXb", "/api/v1/x/a_b"}},
			{"/nothing", nil},
		} {
			if got, _ := paths(t, switchboard.AuditFilter{Limit: 100, Path: c.prefix}); !reflect.DeepEqual(got, c.want) {
				t.Errorf("prefix %q: %q, want %q", c.prefix, got, c.want)
			}
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, f := range []switchboard.AuditFilter{{Limit: 0}, {Limit: 1001}, {Limit: 1, Before: -1}, {Limit: 1, Path: "/\xff"}} {
			if _, err := store.Entries(ctx, f); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("%+v: %v", f, err)
			}
		}
		// What the API never records, the table refuses too.
		if err := store.Record(ctx, switchboard.AuditEntry{Method: "GET", Path: "/api/v1/users", Status: 200}); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("a GET recorded: %v", err)
		}
	})
}
