// Package migrations embeds Switchboard's PostgreSQL schema as goose migrations
// (NNNNN_name.sql, applied in order by `switchboard migrate` and at `switchboard serve` start).
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
