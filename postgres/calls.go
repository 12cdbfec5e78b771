package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/ari"
)

// CallStore keeps call records in the calls table.
type CallStore struct {
	DB *DB
}

var _ ari.CallStore = (*CallStore)(nil)

const callColumns = `id, caller, callee, outcome, reason, caller_channel, callee_channel, bridge,
	started_at, answered_at, ended_at`

func scanCall(row pgx.Row) (ari.CallRecord, error) {
	var r ari.CallRecord
	var outcome string
	var answered, ended *time.Time
	err := row.Scan(&r.ID, &r.Caller, &r.Callee, &outcome, &r.Reason, &r.CallerChannel,
		&r.CalleeChannel, &r.Bridge, &r.StartedAt, &answered, &ended)
	r.Outcome = ari.Outcome(outcome)
	if answered != nil {
		r.AnsweredAt = *answered
	}
	if ended != nil {
		r.EndedAt = *ended
	}
	return r, err
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// SaveCall inserts a record or replaces the one with the same ID.
func (s *CallStore) SaveCall(ctx context.Context, r ari.CallRecord) error {
	_, err := s.DB.pool.Exec(ctx, `INSERT INTO calls (`+callColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (id) DO UPDATE SET outcome = $4, reason = $5, callee_channel = $7, bridge = $8,
			answered_at = $10, ended_at = $11`,
		r.ID, r.Caller, r.Callee, string(r.Outcome), r.Reason, r.CallerChannel, r.CalleeChannel,
		r.Bridge, r.StartedAt, nullTime(r.AnsweredAt), nullTime(r.EndedAt))
	return translate("save call "+r.ID, err)
}

// Call returns one record.
func (s *CallStore) Call(ctx context.Context, id string) (ari.CallRecord, error) {
	r, err := scanCall(s.DB.pool.QueryRow(ctx, `SELECT `+callColumns+` FROM calls WHERE id::text = $1`, id))
	if err != nil {
		err = translate("select call", err)
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			return r, switchboard.Errorf(switchboard.ENOTFOUND, "no call %s", id)
		}
	}
	return r, err
}

// CallByChannel returns the newest record of the caller channel.
func (s *CallStore) CallByChannel(ctx context.Context, channelID string) (ari.CallRecord, error) {
	r, err := scanCall(s.DB.pool.QueryRow(ctx, `SELECT `+callColumns+` FROM calls
		WHERE caller_channel = $1 ORDER BY started_at DESC LIMIT 1`, channelID))
	return r, translate("select call by channel", err)
}

// Calls lists records newest first; the cursor is the ID of the last record of the previous page.
func (s *CallStore) Calls(ctx context.Context, f ari.CallFilter) (ari.CallPage, error) {
	q := `SELECT ` + callColumns + ` FROM calls WHERE true`
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.User != "" {
		p := arg(f.User)
		q += ` AND (caller = ` + p + ` OR callee = ` + p + `)`
	}
	if !f.From.IsZero() {
		q += ` AND started_at >= ` + arg(f.From)
	}
	if !f.To.IsZero() {
		q += ` AND started_at < ` + arg(f.To)
	}
	if f.Active {
		q += ` AND ended_at IS NULL`
	}
	if f.Before != "" {
		p := arg(f.Before)
		q += ` AND (started_at, id) < (SELECT started_at, id FROM calls WHERE id::text = ` + p + `)`
	}
	q += ` ORDER BY started_at DESC, id DESC LIMIT ` + arg(f.Limit+1)
	rows, err := s.DB.pool.Query(ctx, q, args...)
	if err != nil {
		return ari.CallPage{}, translate("list calls", err)
	}
	calls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ari.CallRecord, error) { return scanCall(r) })
	if err != nil {
		return ari.CallPage{}, translate("list calls", err)
	}
	page := ari.CallPage{Calls: calls}
	if len(calls) > f.Limit {
		page.Calls = calls[:f.Limit]
		page.Next = calls[f.Limit-1].ID
	}
	return page, nil
}
