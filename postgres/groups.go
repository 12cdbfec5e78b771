package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
)

// GroupStore keeps ring groups in the groups table and their members, in order, in
// group_members. Numbers are shared with users, rooms and queues through the numbers table (see
// migrations/00007_groups.sql), and members reference users, so that a clash of numbers, a
// member who is not a user and a member's user deleted meanwhile are all found by the
// statements that store the group, without a race. The group's own mailbox is two columns of
// its row (see migrations/00011_shared_mailboxes.sql), whose checks repeat the validation.
type GroupStore struct {
	DB *DB
}

var (
	_ switchboard.GroupStore     = (*GroupStore)(nil)
	_ switchboard.GroupDirectory = (*GroupStore)(nil)
)

// groupColumns end with the members, in hunting order, so that one query reads a whole group.
const groupColumns = `number, name, strategy, ring_seconds, timeout, no_answer_kind, no_answer_number,
	voicemail_enabled, voicemail_pin, created_at, updated_at,
	ARRAY(SELECT m.extension FROM group_members m WHERE m.group_number = groups.number ORDER BY m.position)`

func scanGroup(row pgx.Row) (switchboard.Group, error) {
	var g switchboard.Group
	var strategy, kind string
	err := row.Scan(&g.Number, &g.Name, &strategy, &g.RingSeconds, &g.Timeout, &kind, &g.NoAnswer.Number,
		&g.Mailbox.Enabled, &g.Mailbox.PIN, &g.CreatedAt, &g.UpdatedAt, &g.Members)
	g.Strategy = switchboard.GroupStrategy(strategy)
	g.NoAnswer.Kind = switchboard.GroupDestinationKind(kind)
	if len(g.Members) == 0 {
		g.Members = nil
	}
	return g, err
}

// groupValues are the stored columns of a group after number, in the order of groupColumns.
func groupValues(g switchboard.Group) []any {
	return []any{g.Name, string(g.Strategy), g.RingSeconds, g.Timeout, string(g.NoAnswer.Kind), g.NoAnswer.Number,
		g.Mailbox.Enabled, g.Mailbox.PIN}
}

// CreateGroup inserts a group and its members in one transaction; ECONFLICT when a user, a
// room, a group or a queue has the number, EINVALID when a member is not a user.
func (s *GroupStore) CreateGroup(ctx context.Context, g switchboard.Group) (switchboard.Group, error) {
	var created switchboard.Group
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO groups
			(number, name, strategy, ring_seconds, timeout, no_answer_kind, no_answer_number,
			voicemail_enabled, voicemail_pin)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, append([]any{g.Number}, groupValues(g)...)...)
		if err != nil {
			err = translate("insert group", err)
			if switchboard.ErrorCode(err) == switchboard.ECONFLICT {
				return switchboard.Errorf(switchboard.ECONFLICT, "number %s is in use", g.Number)
			}
			return err
		}
		if err := writeMembers(ctx, tx, g.Number, g.Members); err != nil {
			return err
		}
		created, err = scanGroup(tx.QueryRow(ctx, `SELECT `+groupColumns+` FROM groups WHERE number = $1`, g.Number))
		return err
	})
	if err != nil {
		return switchboard.Group{}, translate("create group", err)
	}
	return created, nil
}

// writeMembers stores the members of a group, in order, in place of those it had. They are
// inserted one statement each, in one round trip, so that the statement a foreign key refuses
// names the member who is not a user.
func writeMembers(ctx context.Context, tx pgx.Tx, number string, members []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM group_members WHERE group_number = $1`, number); err != nil {
		return translate("clear group members", err)
	}
	if len(members) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for i, ext := range members {
		batch.Queue(`INSERT INTO group_members (group_number, position, extension) VALUES ($1, $2, $3)`, number, i, ext)
	}
	results := tx.SendBatch(ctx, batch)
	for _, ext := range members {
		if _, err := results.Exec(); err != nil {
			results.Close()
			if violatedConstraint(err) == "group_members_extension_fkey" {
				return switchboard.Errorf(switchboard.EINVALID, "member %s is not a user", ext)
			}
			if violatedConstraint(err) == "group_members_pkey" {
				return switchboard.Errorf(switchboard.EINVALID, "member %s is listed twice", ext)
			}
			return translate("insert group member "+ext, err)
		}
	}
	return translate("insert group members", results.Close())
}

// Group returns one group with its members; ENOTFOUND when there is none.
func (s *GroupStore) Group(ctx context.Context, number string) (switchboard.Group, error) {
	g, err := scanGroup(s.DB.pool.QueryRow(ctx, `SELECT `+groupColumns+` FROM groups WHERE number = $1`, number))
	if err != nil {
		return switchboard.Group{}, groupNotFound(translate("select group", err), number)
	}
	return g, nil
}

// Groups returns every group ordered by (length, number). An office has a handful of groups,
// so there are no pages.
func (s *GroupStore) Groups(ctx context.Context) ([]switchboard.Group, error) {
	rows, err := s.DB.pool.Query(ctx, `SELECT `+groupColumns+` FROM groups ORDER BY char_length(number), number`)
	if err != nil {
		return nil, translate("list groups", err)
	}
	groups, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (switchboard.Group, error) { return scanGroup(r) })
	return groups, translate("list groups", err)
}

// UpdateGroup locks the group's row, applies change and writes the result in one transaction;
// the members are written again only when change gave other ones. The number is the row's key
// and is never written: a change to it is ignored.
func (s *GroupStore) UpdateGroup(ctx context.Context, number string, change func(*switchboard.Group) error) (switchboard.Group, error) {
	var updated switchboard.Group
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		g, err := scanGroup(tx.QueryRow(ctx, `SELECT `+groupColumns+` FROM groups WHERE number = $1 FOR UPDATE`, number))
		if err != nil {
			return err
		}
		members := slices.Clone(g.Members)
		if err := change(&g); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE groups SET name = $2, strategy = $3, ring_seconds = $4, timeout = $5,
			no_answer_kind = $6, no_answer_number = $7, voicemail_enabled = $8, voicemail_pin = $9,
			updated_at = now() WHERE number = $1`,
			append([]any{number}, groupValues(g)...)...); err != nil {
			return err
		}
		if !slices.Equal(members, g.Members) {
			if err := writeMembers(ctx, tx, number, g.Members); err != nil {
				return err
			}
		}
		updated, err = scanGroup(tx.QueryRow(ctx, `SELECT `+groupColumns+` FROM groups WHERE number = $1`, number))
		return err
	})
	if err != nil {
		return switchboard.Group{}, groupNotFound(translate("update group", err), number)
	}
	return updated, nil
}

// DeleteGroup deletes a group and its members, freeing its number; ENOTFOUND when there is none.
func (s *GroupStore) DeleteGroup(ctx context.Context, number string) error {
	tag, err := s.DB.pool.Exec(ctx, `DELETE FROM groups WHERE number = $1`, number)
	if err != nil {
		return translate("delete group", err)
	}
	if tag.RowsAffected() == 0 {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no group with number %s", number)
	}
	return nil
}

// groupNotFound gives a not-found error a message that names the group's number.
func groupNotFound(err error, number string) error {
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no group with number %s", number)
	}
	return err
}
