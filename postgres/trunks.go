package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
)

// TrunkStore keeps SIP trunks in the trunks table, each with its provider's password, which is
// stored reversibly because Asterisk answers the provider's challenges with it (see
// migrations/00012_trunks.sql). Routes and inbound numbers reference trunks, so that deleting a
// trunk still in use is refused by the statement that deletes it, without a race. No error of
// this store contains a password: the database's refusals name their constraint only.
type TrunkStore struct {
	DB *DB
}

var _ switchboard.TrunkStore = (*TrunkStore)(nil)

const trunkColumns = `name, host, port, transport, auth, username, password, addresses, codecs,
	caller_id, send_pai, channel_limit, created_at, updated_at`

func scanTrunk(row pgx.Row) (switchboard.Trunk, error) {
	var t switchboard.Trunk
	var transport, auth string
	err := row.Scan(&t.Name, &t.Host, &t.Port, &transport, &auth, &t.Username, &t.Password, &t.Addresses,
		&t.Codecs, &t.CallerID, &t.SendPAI, &t.ChannelLimit, &t.CreatedAt, &t.UpdatedAt)
	t.Transport = switchboard.TrunkTransport(transport)
	t.Auth = switchboard.TrunkAuth(auth)
	if len(t.Addresses) == 0 {
		t.Addresses = nil
	}
	if len(t.Codecs) == 0 {
		t.Codecs = nil
	}
	return t, err
}

// trunkValues are the stored columns of a trunk after name, in the order of trunkColumns. Empty
// lists are written as empty arrays, never NULL, so that the checks judge them (a trunk
// without codecs is refused by trunks_codecs, not by a nameless NOT NULL).
func trunkValues(t switchboard.Trunk) []any {
	return []any{t.Host, t.Port, string(t.Transport), string(t.Auth), t.Username, t.Password,
		nonNil(t.Addresses), nonNil(t.Codecs), t.CallerID, t.SendPAI, t.ChannelLimit}
}

// nonNil returns s, or an empty slice for nil, which pgx would write as NULL.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CreateTrunk inserts a trunk; ECONFLICT when a trunk has the name.
func (s *TrunkStore) CreateTrunk(ctx context.Context, t switchboard.Trunk) (switchboard.Trunk, error) {
	created, err := scanTrunk(s.DB.pool.QueryRow(ctx, `INSERT INTO trunks
		(name, host, port, transport, auth, username, password, addresses, codecs, caller_id, send_pai, channel_limit)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING `+trunkColumns,
		append([]any{t.Name}, trunkValues(t)...)...))
	if err != nil {
		err = translate("insert trunk", err)
		if switchboard.ErrorCode(err) == switchboard.ECONFLICT {
			return switchboard.Trunk{}, switchboard.Errorf(switchboard.ECONFLICT, "trunk %s already exists", t.Name)
		}
		return switchboard.Trunk{}, err
	}
	return created, nil
}

// Trunk returns one trunk; ENOTFOUND when there is none.
func (s *TrunkStore) Trunk(ctx context.Context, name string) (switchboard.Trunk, error) {
	t, err := scanTrunk(s.DB.pool.QueryRow(ctx, `SELECT `+trunkColumns+` FROM trunks WHERE name = $1`, name))
	if err != nil {
		return switchboard.Trunk{}, trunkNotFound(translate("select trunk", err), name)
	}
	return t, nil
}

// Trunks returns every trunk ordered by name (bytewise, whatever the database's collation). A
// site has a handful of trunks, so there are no pages.
func (s *TrunkStore) Trunks(ctx context.Context) ([]switchboard.Trunk, error) {
	rows, err := s.DB.pool.Query(ctx, `SELECT `+trunkColumns+` FROM trunks ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, translate("list trunks", err)
	}
	trunks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (switchboard.Trunk, error) { return scanTrunk(r) })
	return trunks, translate("list trunks", err)
}

// UpdateTrunk locks the trunk's row, applies change and writes the result in one transaction.
// The name is the row's key and names the trunk's Asterisk objects: a change to it is refused
// (EINVALID), and nothing is written.
func (s *TrunkStore) UpdateTrunk(ctx context.Context, name string, change func(*switchboard.Trunk) error) (switchboard.Trunk, error) {
	var updated switchboard.Trunk
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		t, err := scanTrunk(tx.QueryRow(ctx, `SELECT `+trunkColumns+` FROM trunks WHERE name = $1 FOR UPDATE`, name))
		if err != nil {
			return err
		}
		if err := change(&t); err != nil {
			return err
		}
		if t.Name != name {
			return switchboard.Errorf(switchboard.EINVALID, "the name of trunk %s cannot change", name)
		}
		updated, err = scanTrunk(tx.QueryRow(ctx, `UPDATE trunks SET host = $2, port = $3, transport = $4, auth = $5,
			username = $6, password = $7, addresses = $8, codecs = $9, caller_id = $10, send_pai = $11,
			channel_limit = $12, updated_at = now() WHERE name = $1 RETURNING `+trunkColumns,
			append([]any{name}, trunkValues(t)...)...))
		return err
	})
	if err != nil {
		return switchboard.Trunk{}, trunkNotFound(translate("update trunk", err), name)
	}
	return updated, nil
}

// DeleteTrunk deletes a trunk; ENOTFOUND when there is none, ECONFLICT naming a route that uses
// it or an inbound number received on it only.
func (s *TrunkStore) DeleteTrunk(ctx context.Context, name string) error {
	tag, err := s.DB.pool.Exec(ctx, `DELETE FROM trunks WHERE name = $1`, name)
	if err != nil {
		switch violatedConstraint(err) {
		case "route_trunks_trunk_name_fkey":
			return s.inUse(ctx, name, `SELECT route_name FROM route_trunks WHERE trunk_name = $1
				ORDER BY route_name COLLATE "C" LIMIT 1`, "trunk %s is used by route %s")
		case "inbound_numbers_trunk_fkey":
			return s.inUse(ctx, name, `SELECT number FROM inbound_numbers WHERE trunk = $1
				ORDER BY number COLLATE "C" LIMIT 1`, "trunk %s receives inbound number %s")
		}
		return translate("delete trunk", err)
	}
	if tag.RowsAffected() == 0 {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no trunk named %s", name)
	}
	return nil
}

// inUse is the conflict of deleting a trunk that a foreign key keeps: the message names what
// uses it, found by query (the first by name), or names nothing when that is gone meanwhile or
// the database does not answer, rather than something wrong.
func (s *TrunkStore) inUse(ctx context.Context, name, query, format string) error {
	var holder string
	if err := s.DB.pool.QueryRow(ctx, query, name).Scan(&holder); err != nil {
		return switchboard.Errorf(switchboard.ECONFLICT, "trunk %s is in use", name)
	}
	return switchboard.Errorf(switchboard.ECONFLICT, format, name, holder)
}

// trunkNotFound gives a not-found error a message that names the trunk.
func trunkNotFound(err error, name string) error {
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no trunk named %s", name)
	}
	return err
}
