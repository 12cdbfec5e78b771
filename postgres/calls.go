package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
)

// CallStore keeps call records in the calls table.
type CallStore struct {
	DB *DB
}

var _ switchboard.CallStore = (*CallStore)(nil)

const callColumns = `id, caller, callee, outcome, reason, caller_channel, callee_channel, bridge,
	started_at, answered_at, ended_at, forwarded_to, transferred_from, answered_by, direction, trunk, external`

func scanCall(row pgx.Row) (switchboard.CallRecord, error) {
	var r switchboard.CallRecord
	var outcome, direction string
	var answered, ended *time.Time
	err := row.Scan(&r.ID, &r.Caller, &r.Callee, &outcome, &r.Reason, &r.CallerChannel,
		&r.CalleeChannel, &r.Bridge, &r.StartedAt, &answered, &ended, &r.ForwardedTo, &r.TransferredFrom,
		&r.AnsweredBy, &direction, &r.Trunk, &r.External)
	r.Direction = switchboard.Direction(direction)
	if len(r.ForwardedTo) == 0 {
		r.ForwardedTo = nil
	}
	r.Outcome = switchboard.Outcome(outcome)
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

// ApplyCallChange creates the record or updates the columns the change names, in one
// statement: the first answer and end times stored win (COALESCE keeps them), and so does the
// first extension recorded as answering; other columns (direction, trunk and external
// included) take the change's value when it has one. No writer ever replaces a column it did
// not name. A change without a start time never creates a record: ENOTFOUND when there is none
// to update.
func (s *CallStore) ApplyCallChange(ctx context.Context, ch switchboard.CallChange) error {
	// $1 id, $2 outcome, $3 reason, $4 callee channel, $5 bridge, $6 answered, $7 ended,
	// $8 forwarded to, $9 answered by, $10 direction, $11 trunk, $12 external.
	const set = `outcome = COALESCE(NULLIF($2, ''), calls.outcome),
			reason = COALESCE(NULLIF($3, ''), calls.reason),
			callee_channel = COALESCE(NULLIF($4, ''), calls.callee_channel),
			bridge = COALESCE(NULLIF($5, ''), calls.bridge),
			answered_at = COALESCE(calls.answered_at, $6),
			ended_at = COALESCE(calls.ended_at, $7),
			forwarded_to = CASE WHEN cardinality($8::text[]) > 0 THEN $8 ELSE calls.forwarded_to END,
			answered_by = CASE WHEN calls.answered_by = '' THEN $9 ELSE calls.answered_by END,
			direction = COALESCE(NULLIF($10, ''), calls.direction),
			trunk = COALESCE(NULLIF($11, ''), calls.trunk),
			external = COALESCE(NULLIF($12, ''), calls.external)`
	forwarded := ch.ForwardedTo
	if forwarded == nil {
		forwarded = []string{}
	}
	args := []any{ch.ID, string(ch.Outcome), ch.Reason, ch.CalleeChannel, ch.Bridge,
		nullTime(ch.AnsweredAt), nullTime(ch.EndedAt), forwarded, ch.AnsweredBy, string(ch.Direction), ch.Trunk, ch.External}
	if ch.StartedAt.IsZero() {
		tag, err := s.DB.pool.Exec(ctx, `UPDATE calls SET `+set+` WHERE id::text = $1`, args...)
		if err != nil {
			return translate("update call "+ch.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return switchboard.Errorf(switchboard.ENOTFOUND, "no call %s to update", ch.ID)
		}
		return nil
	}
	// A record created without a direction is an internal call's (the column's default).
	args = append(args, ch.Caller, ch.Callee, ch.CallerChannel, ch.StartedAt, ch.TransferredFrom)
	_, err := s.DB.pool.Exec(ctx, `INSERT INTO calls (`+callColumns+`)
		VALUES ($1, $13, $14, $2, $3, $15, $4, $5, $16, $6, $7, $8, $17, $9,
			COALESCE(NULLIF($10, ''), 'internal'), $11, $12)
		ON CONFLICT (id) DO UPDATE SET `+set, args...)
	return translate("save call "+ch.ID, err)
}

// Call returns one record.
func (s *CallStore) Call(ctx context.Context, id string) (switchboard.CallRecord, error) {
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
func (s *CallStore) CallByChannel(ctx context.Context, channelID string) (switchboard.CallRecord, error) {
	r, err := scanCall(s.DB.pool.QueryRow(ctx, `SELECT `+callColumns+` FROM calls
		WHERE caller_channel = $1 ORDER BY started_at DESC LIMIT 1`, channelID))
	return r, translate("select call by channel", err)
}

// Calls lists records newest first; the cursor is the ID of the last record of the previous page.
func (s *CallStore) Calls(ctx context.Context, f switchboard.CallFilter) (switchboard.CallPage, error) {
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
		return switchboard.CallPage{}, translate("list calls", err)
	}
	calls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (switchboard.CallRecord, error) { return scanCall(r) })
	if err != nil {
		return switchboard.CallPage{}, translate("list calls", err)
	}
	page := switchboard.CallPage{Calls: calls}
	if len(calls) > f.Limit {
		page.Calls = calls[:f.Limit]
		page.Next = calls[f.Limit-1].ID
	}
	return page, nil
}
