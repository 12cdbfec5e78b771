package switchboard

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxAuditLimit is the most audit entries one page holds.
const MaxAuditLimit = 1000

// AuditEntry is one change asked of the control plane (through the API, or the CLI, which
// goes through the API): who asked, when, what they asked for and how it ended. Refused
// requests are entries too, with the status they were refused with.
type AuditEntry struct {
	ID int64
	// At is when the request was answered; zero when recorded means now.
	At time.Time
	// Actor names who made the request: "admin-token" for the bearer token, an admin's name
	// once admins have accounts, "" when the request was refused before anyone was named.
	Actor  string
	Method string
	// Path is the URL path, never its query string.
	Path   string
	Status int
	// Change is the request body with every secret redacted, or what can be said of a body
	// that is not a JSON object (its content type and size); nil for no body.
	Change    map[string]any
	RequestID string
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Before int64  // cursor: entries older than this ID; 0 for the newest
	Limit  int    // 1 to MaxAuditLimit
	Path   string // only entries whose path starts with this; "" for all
}

// Validate checks the filter's bounds.
func (f AuditFilter) Validate() error {
	if f.Limit < 1 || f.Limit > MaxAuditLimit {
		return Errorf(EINVALID, "limit must be 1 to %d", MaxAuditLimit)
	}
	if f.Before < 0 {
		return Errorf(EINVALID, "before must be an audit entry ID")
	}
	if !utf8.ValidString(f.Path) || strings.ContainsRune(f.Path, 0) {
		return Errorf(EINVALID, "path must be text")
	}
	return nil
}

// AuditPage is one page of audit entries, newest first.
type AuditPage struct {
	Entries []AuditEntry
	Next    int64 // Before of the next page; 0 on the last
}

// AuditLog keeps the audit trail.
type AuditLog interface {
	// Record stores one entry; its ID is assigned, and so is At when zero.
	Record(ctx context.Context, e AuditEntry) error
	// Entries lists entries, newest first.
	Entries(ctx context.Context, f AuditFilter) (AuditPage, error)
}
