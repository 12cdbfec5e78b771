package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
)

// InboundNumberStore keeps inbound numbers (DIDs) in the inbound_numbers table (see
// migrations/00012_trunks.sql). A number received on one trunk only references it, so that a
// trunk that does not exist is found by the statement that stores the number, and the trunk
// cannot be deleted while the number names it. That the destination is somebody's number is
// the application's to check: the table checks only that it is one of the plan's digits.
type InboundNumberStore struct {
	DB *DB
}

var _ switchboard.InboundNumberStore = (*InboundNumberStore)(nil)

// inboundNumberColumns read "any trunk" (NULL, so that it references no trunk) as "".
const inboundNumberColumns = `number, name, coalesce(trunk, ''), destination_kind, destination_number,
	created_at, updated_at`

func scanInboundNumber(row pgx.Row) (switchboard.InboundNumber, error) {
	var n switchboard.InboundNumber
	var kind string
	err := row.Scan(&n.Number, &n.Name, &n.Trunk, &kind, &n.Destination.Number, &n.CreatedAt, &n.UpdatedAt)
	n.Destination.Kind = switchboard.GroupDestinationKind(kind)
	return n, err
}

// inboundNumberValues are the stored columns of an inbound number after number, in the order
// of inboundNumberColumns; the statements store an empty trunk as NULL.
func inboundNumberValues(n switchboard.InboundNumber) []any {
	return []any{n.Name, n.Trunk, string(n.Destination.Kind), n.Destination.Number}
}

// CreateInboundNumber inserts an inbound number; ECONFLICT when the number exists, EINVALID
// when its trunk does not.
func (s *InboundNumberStore) CreateInboundNumber(ctx context.Context, n switchboard.InboundNumber) (switchboard.InboundNumber, error) {
	created, err := scanInboundNumber(s.DB.pool.QueryRow(ctx, `INSERT INTO inbound_numbers
		(number, name, trunk, destination_kind, destination_number)
		VALUES ($1, $2, NULLIF($3, ''), $4, $5) RETURNING `+inboundNumberColumns,
		append([]any{n.Number}, inboundNumberValues(n)...)...))
	if err != nil {
		if violatedConstraint(err) == "inbound_numbers_trunk_fkey" {
			return switchboard.InboundNumber{}, switchboard.Errorf(switchboard.EINVALID, "trunk %s does not exist", n.Trunk)
		}
		err = translate("insert inbound number", err)
		if switchboard.ErrorCode(err) == switchboard.ECONFLICT {
			return switchboard.InboundNumber{}, switchboard.Errorf(switchboard.ECONFLICT, "inbound number %s already exists", n.Number)
		}
		return switchboard.InboundNumber{}, err
	}
	return created, nil
}

// InboundNumber returns one inbound number; ENOTFOUND when there is none.
func (s *InboundNumberStore) InboundNumber(ctx context.Context, number string) (switchboard.InboundNumber, error) {
	n, err := scanInboundNumber(s.DB.pool.QueryRow(ctx, `SELECT `+inboundNumberColumns+`
		FROM inbound_numbers WHERE number = $1`, number))
	if err != nil {
		return switchboard.InboundNumber{}, inboundNumberNotFound(translate("select inbound number", err), number)
	}
	return n, nil
}

// InboundNumbers returns every inbound number ordered by number (bytewise: "+" before digits,
// whatever the database's collation). A site has few, so there are no pages.
func (s *InboundNumberStore) InboundNumbers(ctx context.Context) ([]switchboard.InboundNumber, error) {
	rows, err := s.DB.pool.Query(ctx, `SELECT `+inboundNumberColumns+` FROM inbound_numbers ORDER BY number COLLATE "C"`)
	if err != nil {
		return nil, translate("list inbound numbers", err)
	}
	numbers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (switchboard.InboundNumber, error) {
		return scanInboundNumber(r)
	})
	return numbers, translate("list inbound numbers", err)
}

// UpdateInboundNumber locks the number's row, applies change and writes the result in one
// transaction. The number is the row's key: a change to it is refused (EINVALID), and nothing
// is written.
func (s *InboundNumberStore) UpdateInboundNumber(ctx context.Context, number string, change func(*switchboard.InboundNumber) error) (switchboard.InboundNumber, error) {
	var updated switchboard.InboundNumber
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		n, err := scanInboundNumber(tx.QueryRow(ctx, `SELECT `+inboundNumberColumns+`
			FROM inbound_numbers WHERE number = $1 FOR UPDATE`, number))
		if err != nil {
			return err
		}
		if err := change(&n); err != nil {
			return err
		}
		if n.Number != number {
			return switchboard.Errorf(switchboard.EINVALID, "the number of inbound number %s cannot change", number)
		}
		updated, err = scanInboundNumber(tx.QueryRow(ctx, `UPDATE inbound_numbers SET name = $2, trunk = NULLIF($3, ''),
			destination_kind = $4, destination_number = $5, updated_at = now()
			WHERE number = $1 RETURNING `+inboundNumberColumns,
			append([]any{number}, inboundNumberValues(n)...)...))
		if violatedConstraint(err) == "inbound_numbers_trunk_fkey" {
			return switchboard.Errorf(switchboard.EINVALID, "trunk %s does not exist", n.Trunk)
		}
		return err
	})
	if err != nil {
		return switchboard.InboundNumber{}, inboundNumberNotFound(translate("update inbound number", err), number)
	}
	return updated, nil
}

// DeleteInboundNumber deletes an inbound number; ENOTFOUND when there is none.
func (s *InboundNumberStore) DeleteInboundNumber(ctx context.Context, number string) error {
	tag, err := s.DB.pool.Exec(ctx, `DELETE FROM inbound_numbers WHERE number = $1`, number)
	if err != nil {
		return translate("delete inbound number", err)
	}
	if tag.RowsAffected() == 0 {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no inbound number %s", number)
	}
	return nil
}

// inboundNumberNotFound gives a not-found error a message that names the number.
func inboundNumberNotFound(err error, number string) error {
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no inbound number %s", number)
	}
	return err
}
