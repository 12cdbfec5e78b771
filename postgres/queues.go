package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
)

// QueueStore keeps call queues in the queues table and their agents, in order and with their
// logins, in queue_agents. Numbers are shared with users, rooms and groups through the numbers
// table (see migrations/00008_queues.sql), and agents reference users, so that a clash of
// numbers, an agent who is not a user and an agent's user deleted meanwhile are all found by
// the statements that store the queue, without a race. The queue's own mailbox is two columns
// of its row, as a group's is (see migrations/00011_shared_mailboxes.sql).
type QueueStore struct {
	DB *DB
}

var (
	_ switchboard.QueueStore     = (*QueueStore)(nil)
	_ switchboard.QueueDirectory = (*QueueStore)(nil)
)

// queueColumns end with the agents' extensions and logins, in order, so that one query reads a
// whole queue.
const queueColumns = `number, name, strategy, ring_seconds, max_wait, no_answer_kind, no_answer_number,
	voicemail_enabled, voicemail_pin, created_at, updated_at,
	ARRAY(SELECT a.extension FROM queue_agents a WHERE a.queue_number = queues.number ORDER BY a.position),
	ARRAY(SELECT a.logged_in FROM queue_agents a WHERE a.queue_number = queues.number ORDER BY a.position)`

func scanQueue(row pgx.Row) (switchboard.Queue, error) {
	var q switchboard.Queue
	var strategy, kind string
	var exts []string
	var logins []bool
	err := row.Scan(&q.Number, &q.Name, &strategy, &q.RingSeconds, &q.MaxWait, &kind, &q.NoAnswer.Number,
		&q.Mailbox.Enabled, &q.Mailbox.PIN, &q.CreatedAt, &q.UpdatedAt, &exts, &logins)
	q.Strategy = switchboard.QueueStrategy(strategy)
	q.NoAnswer.Kind = switchboard.GroupDestinationKind(kind)
	for i, ext := range exts {
		q.Agents = append(q.Agents, switchboard.QueueAgent{Extension: ext, LoggedIn: i < len(logins) && logins[i]})
	}
	return q, err
}

// queueValues are the stored columns of a queue after number, in the order of queueColumns.
func queueValues(q switchboard.Queue) []any {
	return []any{q.Name, string(q.Strategy), q.RingSeconds, q.MaxWait, string(q.NoAnswer.Kind), q.NoAnswer.Number,
		q.Mailbox.Enabled, q.Mailbox.PIN}
}

// CreateQueue inserts a queue and its agents, all logged out (an agent takes calls once they
// log in), in one transaction; ECONFLICT when a user, a room, a group or a queue has the
// number, EINVALID when an agent is not a user.
func (s *QueueStore) CreateQueue(ctx context.Context, q switchboard.Queue) (switchboard.Queue, error) {
	var created switchboard.Queue
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO queues
			(number, name, strategy, ring_seconds, max_wait, no_answer_kind, no_answer_number,
			voicemail_enabled, voicemail_pin)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, append([]any{q.Number}, queueValues(q)...)...)
		if err != nil {
			err = translate("insert queue", err)
			if switchboard.ErrorCode(err) == switchboard.ECONFLICT {
				return switchboard.Errorf(switchboard.ECONFLICT, "number %s is in use", q.Number)
			}
			return err
		}
		if err := writeAgents(ctx, tx, q.Number, q.Agents, nil); err != nil {
			return err
		}
		created, err = scanQueue(tx.QueryRow(ctx, `SELECT `+queueColumns+` FROM queues WHERE number = $1`, q.Number))
		return err
	})
	if err != nil {
		return switchboard.Queue{}, translate("create queue", err)
	}
	return created, nil
}

// writeAgents stores the agents of a queue, in order, in place of those it had. An agent's
// login is taken from logins (the agents the queue had), never from the list: logins are
// SetLoggedIn's, so an agent who stays keeps theirs and a new agent starts logged out. The
// agents are inserted one statement each, in one round trip, so that the statement a foreign
// key refuses names the agent who is not a user.
func writeAgents(ctx context.Context, tx pgx.Tx, number string, agents []switchboard.QueueAgent, logins map[string]bool) error {
	if _, err := tx.Exec(ctx, `DELETE FROM queue_agents WHERE queue_number = $1`, number); err != nil {
		return translate("clear queue agents", err)
	}
	if len(agents) == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for i, a := range agents {
		batch.Queue(`INSERT INTO queue_agents (queue_number, position, extension, logged_in) VALUES ($1, $2, $3, $4)`,
			number, i, a.Extension, logins[a.Extension])
	}
	results := tx.SendBatch(ctx, batch)
	for _, a := range agents {
		if _, err := results.Exec(); err != nil {
			results.Close()
			if violatedConstraint(err) == "queue_agents_extension_fkey" {
				return switchboard.Errorf(switchboard.EINVALID, "agent %s is not a user", a.Extension)
			}
			if violatedConstraint(err) == "queue_agents_pkey" {
				return switchboard.Errorf(switchboard.EINVALID, "agent %s is listed twice", a.Extension)
			}
			return translate("insert queue agent "+a.Extension, err)
		}
	}
	return translate("insert queue agents", results.Close())
}

// Queue returns one queue with its agents and their logins; ENOTFOUND when there is none.
func (s *QueueStore) Queue(ctx context.Context, number string) (switchboard.Queue, error) {
	q, err := scanQueue(s.DB.pool.QueryRow(ctx, `SELECT `+queueColumns+` FROM queues WHERE number = $1`, number))
	if err != nil {
		return switchboard.Queue{}, queueNotFound(translate("select queue", err), number)
	}
	return q, nil
}

// Queues returns every queue ordered by (length, number). An office has a handful of queues,
// so there are no pages.
func (s *QueueStore) Queues(ctx context.Context) ([]switchboard.Queue, error) {
	return s.queues(ctx, "list queues", `SELECT `+queueColumns+` FROM queues ORDER BY char_length(number), number`)
}

// AgentQueues returns the queues ext is an agent of, ordered as Queues; none when ext is no
// agent (or no user).
func (s *QueueStore) AgentQueues(ctx context.Context, ext string) ([]switchboard.Queue, error) {
	return s.queues(ctx, "list queues of agent "+ext, `SELECT `+queueColumns+` FROM queues
		WHERE number IN (SELECT queue_number FROM queue_agents WHERE extension = $1)
		ORDER BY char_length(number), number`, ext)
}

func (s *QueueStore) queues(ctx context.Context, op, query string, args ...any) ([]switchboard.Queue, error) {
	rows, err := s.DB.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, translate(op, err)
	}
	queues, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (switchboard.Queue, error) { return scanQueue(r) })
	return queues, translate(op, err)
}

// UpdateQueue locks the queue's row, applies change and writes the result in one transaction;
// the agents are written again only when change gave other ones, and then keep their logins
// (see writeAgents). The number is the row's key and is never written: a change to it is
// ignored.
//
// The agents are read after the lock is held, in a statement of their own: SetLoggedIn holds a
// share lock on the row while it changes a login, so the logins read here are the latest ones
// and none is lost to the rewrite.
func (s *QueueStore) UpdateQueue(ctx context.Context, number string, change func(*switchboard.Queue) error) (switchboard.Queue, error) {
	var updated switchboard.Queue
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT FROM queues WHERE number = $1 FOR UPDATE`, number); err != nil {
			return err
		}
		q, err := scanQueue(tx.QueryRow(ctx, `SELECT `+queueColumns+` FROM queues WHERE number = $1`, number))
		if err != nil {
			return err
		}
		before := slices.Clone(q.Agents)
		logins := make(map[string]bool, len(before))
		for _, a := range before {
			logins[a.Extension] = a.LoggedIn
		}
		if err := change(&q); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE queues SET name = $2, strategy = $3, ring_seconds = $4, max_wait = $5,
			no_answer_kind = $6, no_answer_number = $7, voicemail_enabled = $8, voicemail_pin = $9,
			updated_at = now() WHERE number = $1`,
			append([]any{number}, queueValues(q)...)...); err != nil {
			return err
		}
		if !sameAgents(before, q.Agents) {
			if err := writeAgents(ctx, tx, number, q.Agents, logins); err != nil {
				return err
			}
		}
		updated, err = scanQueue(tx.QueryRow(ctx, `SELECT `+queueColumns+` FROM queues WHERE number = $1`, number))
		return err
	})
	if err != nil {
		return switchboard.Queue{}, queueNotFound(translate("update queue", err), number)
	}
	return updated, nil
}

// sameAgents tells whether two lists name the same agents in the same order, whatever their
// logins.
func sameAgents(a, b []switchboard.QueueAgent) bool {
	return slices.EqualFunc(a, b, func(x, y switchboard.QueueAgent) bool { return x.Extension == y.Extension })
}

// SetLoggedIn logs agent ext in to queue number (in) or out of it. ENOTFOUND names what is
// missing: the queue, or ext among its agents. It holds a share lock on the queue's row while it
// changes the login, so that an UpdateQueue rewriting the agents waits for it (and keeps the
// login) or goes first (and this finds the agents as they are then).
func (s *QueueStore) SetLoggedIn(ctx context.Context, number, ext string, in bool) error {
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `SELECT FROM queues WHERE number = $1 FOR SHARE`, number)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return switchboard.Errorf(switchboard.ENOTFOUND, "no queue with number %s", number)
		}
		tag, err = tx.Exec(ctx, `UPDATE queue_agents SET logged_in = $3 WHERE queue_number = $1 AND extension = $2`,
			number, ext, in)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return switchboard.Errorf(switchboard.ENOTFOUND, "%s is not an agent of queue %s", ext, number)
		}
		return nil
	})
	return translate("set login of agent "+ext+" in queue "+number, err)
}

// DeleteQueue deletes a queue and its agents, freeing its number; ENOTFOUND when there is none.
func (s *QueueStore) DeleteQueue(ctx context.Context, number string) error {
	tag, err := s.DB.pool.Exec(ctx, `DELETE FROM queues WHERE number = $1`, number)
	if err != nil {
		return translate("delete queue", err)
	}
	if tag.RowsAffected() == 0 {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no queue with number %s", number)
	}
	return nil
}

// queueNotFound gives a not-found error a message that names the queue's number.
func queueNotFound(err error, number string) error {
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no queue with number %s", number)
	}
	return err
}
