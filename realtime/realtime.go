// Package realtime writes the tables Asterisk's realtime layer reads per call (through
// res_config_sqlite3): each user's line in the dial plan (switchboard_lines, read by
// asterisk/extensions.conf when call control is away) and their mailbox (voicemail, read by
// app_voicemail), and the shared mailboxes of ring groups and call queues (voicemail too,
// listed in switchboard_shared_mailboxes). The database is a generated file beside the generated configuration, so
// Asterisk starts from it like from the others and keeps it while the control plane is away;
// a change is in effect once committed, with no module reload.
//
// Asterisk reads while this package writes: every write is one short transaction in SQLite's
// default rollback-journal mode, and both sides wait for each other's locks (busy timeouts).
// Writes are not synced to disk (synchronous=OFF): the database is derived from PostgreSQL and
// only an operating-system crash can lose or damage it, after which Open finds the damage
// (quick_check) and starts it afresh, and the control plane rewrites every row.
package realtime

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

var _ provisioning.Realtime = (*DB)(nil)

// The schema. Columns are what Asterisk looks up: app_voicemail's realtime mailbox fields, and
// the fields asterisk/extensions.conf reads with REALTIME_HASH.
const schema = `
CREATE TABLE IF NOT EXISTS switchboard_lines (
	extension TEXT PRIMARY KEY,
	ring_timeout INTEGER NOT NULL,
	voicemail INTEGER NOT NULL,
	dnd INTEGER NOT NULL,
	forward_always TEXT NOT NULL DEFAULT '',
	forward_busy TEXT NOT NULL DEFAULT '',
	forward_no_answer TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS voicemail (
	uniqueid INTEGER PRIMARY KEY,
	context TEXT NOT NULL,
	mailbox TEXT NOT NULL,
	password TEXT NOT NULL,
	fullname TEXT NOT NULL DEFAULT '',
	UNIQUE (context, mailbox)
);
CREATE TABLE IF NOT EXISTS switchboard_shared_mailboxes (
	mailbox TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS switchboard_emergency (
	number TEXT PRIMARY KEY,
	dial TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS switchboard_version (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	version INTEGER NOT NULL
);
`

// mailboxContext is the voicemail context of every user's mailbox (asterisk/extensions.conf
// leaves messages at EXTENSION@default).
const mailboxContext = "default"

// DB is the realtime database, open for writing.
type DB struct {
	db *sql.DB
	// Statements prepared once (parsing them took more than writing at 100 changes a second).
	line, box, noBox, noLine, version *sql.Stmt
}

// Open opens (creating it if needed) the database at path and its tables.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(delete)")
	q.Add("_pragma", "synchronous(off)")
	q.Add("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	if err := startAfreshIfDamaged(ctx, dsn, path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open realtime database %s: %w", path, err)
	}
	// One connection: writes are serialised anyway, and the pragmas apply to it.
	db.SetMaxOpenConns(1)
	// The tables hold voicemail PINs: the control plane and Asterisk (its group) only. SQLite
	// gives its journal the database's mode. A file someone else owns keeps the mode they gave.
	if err := os.Chmod(path, provisioning.GeneratedFileMode); err != nil && !errors.Is(err, os.ErrPermission) {
		db.Close()
		return nil, fmt.Errorf("realtime database %s: %w", path, err)
	}
	if err := dropForeignTables(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("check realtime tables in %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create realtime tables in %s: %w", path, err)
	}
	d := &DB{db: db}
	for _, st := range []struct {
		to  **sql.Stmt
		sql string
	}{
		{&d.line, `INSERT INTO switchboard_lines
			(extension, ring_timeout, voicemail, dnd, forward_always, forward_busy, forward_no_answer)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (extension) DO UPDATE SET ring_timeout = excluded.ring_timeout,
			voicemail = excluded.voicemail, dnd = excluded.dnd, forward_always = excluded.forward_always,
			forward_busy = excluded.forward_busy, forward_no_answer = excluded.forward_no_answer`},
		{&d.box, `INSERT INTO voicemail (context, mailbox, password, fullname)
			VALUES (?, ?, ?, ?) ON CONFLICT (context, mailbox) DO UPDATE SET
			password = excluded.password, fullname = excluded.fullname`},
		{&d.noBox, `DELETE FROM voicemail WHERE context = ? AND mailbox = ?`},
		{&d.noLine, `DELETE FROM switchboard_lines WHERE extension = ?`},
		{&d.version, `INSERT INTO switchboard_version (id, version) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version`},
	} {
		if *st.to, err = db.PrepareContext(ctx, st.sql); err != nil {
			db.Close()
			return nil, fmt.Errorf("prepare realtime statements in %s: %w", path, err)
		}
	}
	return d, nil
}

// startAfreshIfDamaged empties a database file that fails SQLite's quick check (an operating
// system crash while writes were not synced): in place, so that an Asterisk that has it open
// reads the new content. The control plane then rewrites every row (version 0).
func startAfreshIfDamaged(ctx context.Context, dsn, path string) error {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open realtime database %s: %w", path, err)
	}
	var result string
	err = db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&result)
	db.Close()
	if err == nil && result == "ok" {
		return nil
	}
	if terr := os.Truncate(path, 0); terr != nil {
		return fmt.Errorf("realtime database %s is damaged (%v) and could not be emptied: %w", path, err, terr)
	}
	return nil
}

// dropForeignTables drops tables that have our names but not our columns: app_voicemail,
// loading before the control plane ever wrote the database, creates a voicemail table of its
// own (uniqueid and password only). The version goes with them, so everything is rewritten.
func dropForeignTables(ctx context.Context, db *sql.DB) error {
	want := map[string][]string{
		"switchboard_lines": {"extension", "ring_timeout", "voicemail", "dnd", "forward_always", "forward_busy", "forward_no_answer"},
		"voicemail":         {"uniqueid", "context", "mailbox", "password", "fullname"},
	}
	for table, columns := range want {
		rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return err
			}
			have[name] = true
		}
		rows.Close()
		if len(have) == 0 {
			continue // no such table yet
		}
		for _, c := range columns {
			if !have[c] {
				if _, err := db.ExecContext(ctx, `DROP TABLE `+table+`; DROP TABLE IF EXISTS switchboard_version;`); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Version returns the configuration version the tables hold; 0 for new tables.
func (d *DB) Version(ctx context.Context) (int64, error) {
	var v int64
	err := d.db.QueryRowContext(ctx, `SELECT version FROM switchboard_version WHERE id = 1`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, switchboard.Errorf(switchboard.EUNAVAILABLE, "read realtime version: %v", err)
	}
	return v, nil
}

// SetEmergency makes numbers the emergency numbers the fallback dialplan dials by itself while
// call control is away (asterisk/extensions.conf), in one transaction.
func (d *DB) SetEmergency(ctx context.Context, numbers []provisioning.EmergencyNumber) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "write emergency numbers: %v", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM switchboard_emergency`); err != nil {
		return fmt.Errorf("write emergency numbers: %w", err)
	}
	for _, n := range numbers {
		if _, err := tx.ExecContext(ctx, `INSERT INTO switchboard_emergency (number, dial) VALUES (?, ?)`, n.Number, n.Dial); err != nil {
			return fmt.Errorf("write emergency number %s: %w", n.Number, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "commit emergency numbers: %v", err)
	}
	return nil
}

// SetSharedMailboxes makes boxes the shared mailboxes (ring groups' and call queues' own)
// app_voicemail finds, in one transaction: the ones not given any more are removed.
func (d *DB) SetSharedMailboxes(ctx context.Context, boxes []provisioning.VoicemailBox) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "write shared mailboxes: %v", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM voicemail WHERE context = ? AND mailbox IN
		(SELECT mailbox FROM switchboard_shared_mailboxes); DELETE FROM switchboard_shared_mailboxes;`, mailboxContext); err != nil {
		return fmt.Errorf("write shared mailboxes: %w", err)
	}
	for _, b := range boxes {
		if _, err := tx.StmtContext(ctx, d.box).ExecContext(ctx, mailboxContext, b.Mailbox, b.PIN, b.FullName); err != nil {
			return fmt.Errorf("write shared mailbox %s: %w", b.Mailbox, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO switchboard_shared_mailboxes (mailbox) VALUES (?)`, b.Mailbox); err != nil {
			return fmt.Errorf("write shared mailbox %s: %w", b.Mailbox, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "commit shared mailboxes: %v", err)
	}
	return nil
}

// Apply writes the changes and their version in one transaction; with full, the given users
// replace every row.
func (d *DB) Apply(ctx context.Context, c switchboard.UserChanges, full bool) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "write realtime tables: %v", err)
	}
	defer tx.Rollback()
	if full {
		// Every user's line and mailbox; the shared mailboxes (groups', queues') are not users'.
		if _, err := tx.ExecContext(ctx, `DELETE FROM switchboard_lines;
			DELETE FROM voicemail WHERE mailbox NOT IN (SELECT mailbox FROM switchboard_shared_mailboxes);`); err != nil {
			return fmt.Errorf("write realtime tables: %w", err)
		}
	}
	line, box := tx.StmtContext(ctx, d.line), tx.StmtContext(ctx, d.box)
	noBox, noLine := tx.StmtContext(ctx, d.noBox), tx.StmtContext(ctx, d.noLine)
	for _, u := range c.Users {
		l := provisioning.LineOf(u)
		if _, err := line.ExecContext(ctx, l.Extension, l.RingTimeout, l.Voicemail, l.DND, l.Always, l.Busy, l.NoAnswer); err != nil {
			return fmt.Errorf("write line of %s: %w", u.Extension, err)
		}
		if b, ok := provisioning.VoicemailBoxOf(u); ok {
			_, err = box.ExecContext(ctx, mailboxContext, b.Mailbox, b.PIN, b.FullName)
		} else {
			_, err = noBox.ExecContext(ctx, mailboxContext, u.Extension)
		}
		if err != nil {
			return fmt.Errorf("write mailbox of %s: %w", u.Extension, err)
		}
	}
	for _, ext := range c.Deleted {
		if _, err := noLine.ExecContext(ctx, ext); err != nil {
			return fmt.Errorf("remove line of %s: %w", ext, err)
		}
		if _, err := noBox.ExecContext(ctx, mailboxContext, ext); err != nil {
			return fmt.Errorf("remove mailbox of %s: %w", ext, err)
		}
	}
	if _, err := tx.StmtContext(ctx, d.version).ExecContext(ctx, c.Version); err != nil {
		return fmt.Errorf("write realtime version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "commit realtime tables: %v", err)
	}
	return nil
}
