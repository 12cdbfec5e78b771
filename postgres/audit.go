package postgres

import (
	"context"
	"strconv"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
)

// AuditStore keeps the audit trail in the audit_log table (see migrations/00014_audit.sql).
type AuditStore struct {
	DB *DB
}

var _ switchboard.AuditLog = (*AuditStore)(nil)

const auditColumns = `id, at, actor, method, path, status, change, request_id`

// Record inserts e; its ID is the table's, and At is now when zero.
func (s *AuditStore) Record(ctx context.Context, e switchboard.AuditEntry) error {
	var at, change any // NULL: now, and no body
	if !e.At.IsZero() {
		at = e.At
	}
	if e.Change != nil {
		change = e.Change
	}
	_, err := s.DB.pool.Exec(ctx, `INSERT INTO audit_log (at, actor, method, path, status, change, request_id)
		VALUES (coalesce($1, now()), $2, $3, $4, $5, $6, $7)`,
		at, e.Actor, e.Method, e.Path, e.Status, change, e.RequestID)
	return translate("record audit entry", err)
}

// Entries returns a page of entries, newest first (by ID, the order they were recorded in),
// older than f.Before when it is set and with a path starting with f.Path when that is.
func (s *AuditStore) Entries(ctx context.Context, f switchboard.AuditFilter) (switchboard.AuditPage, error) {
	if err := f.Validate(); err != nil {
		return switchboard.AuditPage{}, err
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log WHERE true`
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Before > 0 {
		q += ` AND id < ` + arg(f.Before)
	}
	if f.Path != "" {
		// A range of the index on path, compared byte by byte (the column's collation is C).
		q += ` AND path >= ` + arg(f.Path)
		if end := prefixEnd(f.Path); end != "" {
			q += ` AND path < ` + arg(end)
		}
	}
	q += ` ORDER BY id DESC LIMIT ` + arg(f.Limit+1)
	rows, err := s.DB.pool.Query(ctx, q, args...)
	if err != nil {
		return switchboard.AuditPage{}, translate("list audit entries", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (switchboard.AuditEntry, error) {
		var e switchboard.AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Method, &e.Path, &e.Status, &e.Change, &e.RequestID)
		return e, err
	})
	if err != nil {
		return switchboard.AuditPage{}, translate("list audit entries", err)
	}
	page := switchboard.AuditPage{Entries: entries}
	if len(entries) > f.Limit {
		page.Entries = entries[:f.Limit]
		page.Next = entries[f.Limit-1].ID
	}
	return page, nil
}

// prefixEnd returns the least string greater, byte by byte, than every string that starts
// with prefix: its last code point one higher, after dropping any U+10FFFF at its end (UTF-8
// keeps the order of code points). It is "" when there is none, for an empty prefix or one of
// U+10FFFF only. prefix is valid UTF-8 (AuditFilter.Validate).
func prefixEnd(prefix string) string {
	runes := []rune(prefix)
	for i := len(runes) - 1; i >= 0; i-- {
		switch runes[i] {
		case utf8.MaxRune:
			continue
		case 0xD7FF: // the surrogates that follow are no code points of UTF-8
			runes[i] = 0xE000
		default:
			runes[i]++
		}
		return string(runes[:i+1])
	}
	return ""
}
