package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
)

// UserStore keeps users in the users table.
type UserStore struct {
	DB *DB
}

var _ switchboard.UserStore = (*UserStore)(nil)

const userColumns = `extension, name, email, outbound_caller_id, digest_md5, digest_sha256, voicemail_enabled, voicemail_pin,
	ring_timeout, call_waiting, dnd, max_devices, forward_unconditional_on, forward_unconditional,
	forward_busy_on, forward_busy, forward_no_answer_on, forward_no_answer, created_at, updated_at`

func scanUser(row pgx.Row) (switchboard.User, error) {
	var u switchboard.User
	f := &u.Calls.Forwards
	err := row.Scan(&u.Extension, &u.Name, &u.Email, &u.OutboundCallerID, &u.Credentials.MD5, &u.Credentials.SHA256,
		&u.Voicemail.Enabled, &u.Voicemail.PIN, &u.RingTimeout, &u.Calls.CallWaiting, &u.Calls.DND,
		&u.Calls.MaxDevices, &f.Unconditional.Enabled, &f.Unconditional.Destination, &f.Busy.Enabled,
		&f.Busy.Destination, &f.NoAnswer.Enabled, &f.NoAnswer.Destination, &u.CreatedAt, &u.UpdatedAt)
	return u, err
}

// userValues are the stored columns of a user after extension, in the order of userColumns.
func userValues(u switchboard.User) []any {
	f := u.Calls.Forwards
	return []any{u.Name, u.Email, u.OutboundCallerID, u.Credentials.MD5, u.Credentials.SHA256, u.Voicemail.Enabled, u.Voicemail.PIN,
		u.RingTimeout, u.Calls.CallWaiting, u.Calls.DND, u.Calls.MaxDevices, f.Unconditional.Enabled,
		f.Unconditional.Destination, f.Busy.Enabled, f.Busy.Destination, f.NoAnswer.Enabled, f.NoAnswer.Destination}
}

// CreateUser inserts a user; ECONFLICT when a user, a conference room, a ring group or a call
// queue has the extension.
func (s *UserStore) CreateUser(ctx context.Context, u switchboard.User) (switchboard.User, error) {
	row := s.DB.pool.QueryRow(ctx, `INSERT INTO users
		(extension, name, email, outbound_caller_id, digest_md5, digest_sha256, voicemail_enabled, voicemail_pin,
		 ring_timeout, call_waiting, dnd, max_devices, forward_unconditional_on, forward_unconditional,
		 forward_busy_on, forward_busy, forward_no_answer_on, forward_no_answer)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING `+userColumns,
		append([]any{u.Extension}, userValues(u)...)...)
	created, err := scanUser(row)
	if err != nil {
		constraint := violatedConstraint(err)
		err = translate("insert user", err)
		if switchboard.ErrorCode(err) == switchboard.ECONFLICT {
			if constraint == "numbers_pkey" {
				// Not a user: another kind of number has it (a room, a group or a queue).
				if by := s.DB.numberTakenBy(ctx, u.Extension); by != "" {
					return switchboard.User{}, switchboard.Errorf(switchboard.ECONFLICT, "number %s is in use by %s", u.Extension, by)
				}
				return switchboard.User{}, switchboard.Errorf(switchboard.ECONFLICT, "number %s is in use", u.Extension)
			}
			return switchboard.User{}, switchboard.Errorf(switchboard.ECONFLICT, "extension %s already exists", u.Extension)
		}
		return switchboard.User{}, err
	}
	return created, nil
}

// numberKinds name the kinds of the numbers table in messages.
var numberKinds = map[string]string{"user": "a user", "room": "a conference room", "group": "a ring group",
	"queue": "a call queue"}

// numberTakenBy says what has a number ("a ring group"), for the message of a clash the
// numbers table found; "" when it cannot say (the number was freed since, or the database
// does not answer), and the message then names no kind rather than a wrong one.
func (db *DB) numberTakenBy(ctx context.Context, number string) string {
	var kind string
	if err := db.pool.QueryRow(ctx, `SELECT kind FROM numbers WHERE number = $1`, number).Scan(&kind); err != nil {
		return ""
	}
	return numberKinds[kind]
}

// NumberKind says what has a number in the one number plan: "user", "room", "group", "queue",
// or "" when nothing has it.
func (db *DB) NumberKind(ctx context.Context, number string) (string, error) {
	var kind string
	err := db.pool.QueryRow(ctx, `SELECT coalesce((SELECT kind FROM numbers WHERE number = $1), '')`, number).Scan(&kind)
	return kind, translate("look up number "+number, err)
}

// User returns one user; ENOTFOUND when there is none.
func (s *UserStore) User(ctx context.Context, ext string) (switchboard.User, error) {
	u, err := scanUser(s.DB.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE extension = $1`, ext))
	if err != nil {
		return switchboard.User{}, notFound(translate("select user", err), ext)
	}
	return u, nil
}

// Users returns a page of users ordered by (length, extension).
func (s *UserStore) Users(ctx context.Context, after string, limit int) (switchboard.UserPage, error) {
	rows, err := s.DB.pool.Query(ctx, `SELECT `+userColumns+` FROM users
		WHERE (char_length(extension), extension) > (char_length($1), $1)
		ORDER BY char_length(extension), extension LIMIT $2`, after, limit+1)
	if err != nil {
		return switchboard.UserPage{}, translate("list users", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (switchboard.User, error) { return scanUser(r) })
	if err != nil {
		return switchboard.UserPage{}, translate("list users", err)
	}
	page := switchboard.UserPage{Users: users}
	if len(users) > limit {
		page.Users = users[:limit]
		page.Next = users[limit-1].Extension
	}
	return page, nil
}

// AllUsers returns every user ordered by (length, extension).
func (s *UserStore) AllUsers(ctx context.Context) ([]switchboard.User, error) {
	rows, err := s.DB.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY char_length(extension), extension`)
	if err != nil {
		return nil, translate("list all users", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (switchboard.User, error) { return scanUser(r) })
	return users, translate("list all users", err)
}

// UpdateUser locks the user's row, applies change and writes the result in one transaction.
func (s *UserStore) UpdateUser(ctx context.Context, ext string, change func(*switchboard.User) error) (switchboard.User, error) {
	var updated switchboard.User
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE extension = $1 FOR UPDATE`, ext))
		if err != nil {
			return err
		}
		if err := change(&u); err != nil {
			return err
		}
		updated, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET name = $2, email = $3, outbound_caller_id = $4,
			digest_md5 = $5, digest_sha256 = $6, voicemail_enabled = $7, voicemail_pin = $8,
			ring_timeout = $9, call_waiting = $10, dnd = $11, max_devices = $12,
			forward_unconditional_on = $13, forward_unconditional = $14, forward_busy_on = $15,
			forward_busy = $16, forward_no_answer_on = $17, forward_no_answer = $18,
			updated_at = now() WHERE extension = $1 RETURNING `+userColumns,
			append([]any{ext}, userValues(u)...)...))
		return err
	})
	if err != nil {
		return switchboard.User{}, notFound(translate("update user", err), ext)
	}
	return updated, nil
}

// DeleteUser deletes a user; ENOTFOUND when there is none.
func (s *UserStore) DeleteUser(ctx context.Context, ext string) error {
	tag, err := s.DB.pool.Exec(ctx, `DELETE FROM users WHERE extension = $1`, ext)
	if err != nil {
		return translate("delete user", err)
	}
	if tag.RowsAffected() == 0 {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no user with extension %s", ext)
	}
	return nil
}

// notFound gives a not-found error a message that names the extension.
func notFound(err error, ext string) error {
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return fmt.Errorf("%w", switchboard.Errorf(switchboard.ENOTFOUND, "no user with extension %s", ext))
	}
	return err
}

// ChangesSince returns the users whose configuration version is after version, the extensions
// deleted after it, and the newest version, from one snapshot (versions are committed in order:
// see migrations/00005_config_versions.sql).
func (s *UserStore) ChangesSince(ctx context.Context, version int64) (switchboard.UserChanges, error) {
	var c switchboard.UserChanges
	err := pgx.BeginTxFunc(ctx, s.DB.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+userColumns+` FROM users WHERE config_version > $1
			ORDER BY char_length(extension), extension`, version)
		if err != nil {
			return err
		}
		if c.Users, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (switchboard.User, error) { return scanUser(r) }); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT extension FROM deleted_users WHERE config_version > $1
			ORDER BY extension`, version)
		if err != nil {
			return err
		}
		if c.Deleted, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT greatest(
			(SELECT coalesce(max(config_version), 0) FROM users),
			(SELECT coalesce(max(config_version), 0) FROM deleted_users))`).Scan(&c.Version)
	})
	return c, translate("read configuration changes", err)
}
