// Package postgres stores Switchboard's users, conference rooms, ring groups, call queues and
// call records in PostgreSQL with pgx. It is the only package that knows SQL; its errors are
// translated into the switchboard vocabulary in one function, translate.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/migrations"
)

// DB is a pool of connections to Switchboard's database.
type DB struct {
	pool *pgxpool.Pool
}

// Open connects to the database at dsn. It does not wait for the server: while PostgreSQL is
// down, calls fail fast with EUNAVAILABLE and succeed again once it is back.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 3*time.Second {
		cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	}
	cfg.MaxConns = 20
	cfg.HealthCheckPeriod = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return &DB{pool: pool}, nil
}

// Close closes every connection.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return translate("ping database", db.pool.Ping(ctx))
}

// Migrate applies every pending migration from the migrations package.
func (db *DB) Migrate(ctx context.Context, logger *slog.Logger) error {
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return translate("migrate database", err)
	}
	for _, r := range results {
		logger.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// violatedConstraint returns the constraint a PostgreSQL error names ("" for any other error),
// so that a store can say which rule a conflict broke: a number taken by a user (users_pkey)
// or by any user, room, group or queue (numbers_pkey), a member of a group or an agent of a
// queue who is not a user (group_members_extension_fkey, queue_agents_extension_fkey).
func violatedConstraint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName
	}
	return ""
}

// translate turns a pgx error into the switchboard vocabulary. It is the only place that
// knows PostgreSQL error codes.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *switchboard.Error
	if errors.As(err, &se) {
		return err // already ours (e.g. returned by an update callback)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, switchboard.Errorf(switchboard.ENOTFOUND, "not found"))
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%s: %w", op, switchboard.Errorf(switchboard.ECONFLICT, "already exists"))
		case "23514", "23502", "22001", "23503": // check_violation, not_null_violation, string_data_right_truncation, foreign_key_violation
			return fmt.Errorf("%s: %w", op, switchboard.Errorf(switchboard.EINVALID, "rejected by the database: %s", pgErr.ConstraintName))
		case "57P01", "57P02", "57P03", "53300": // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
			return fmt.Errorf("%s: %w: %w", op, switchboard.Errorf(switchboard.EUNAVAILABLE, "database unavailable"), err)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", op, err)
	}
	// No answer from the server at all: refused, reset, timed out, pool closed.
	return fmt.Errorf("%s: %w: %w", op, switchboard.Errorf(switchboard.EUNAVAILABLE, "database unavailable"), err)
}
