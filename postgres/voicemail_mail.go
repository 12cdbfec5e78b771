package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/switchboard-pbx/switchboard/voicemail"
)

// MailOutbox keeps the voicemail letters to send in the voicemail_mail table.
type MailOutbox struct {
	DB *DB
}

var (
	_ voicemail.Outbox = (*MailOutbox)(nil)
	_ voicemail.Owners = (*MailOutbox)(nil)
)

// Add records a message to mail; false when it was recorded before.
func (o *MailOutbox) Add(ctx context.Context, j voicemail.MailJob) (bool, error) {
	tag, err := o.DB.pool.Exec(ctx, `INSERT INTO voicemail_mail (mailbox, message_id, recipient)
		VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, j.Mailbox, j.MessageID, j.To)
	if err != nil {
		return false, translate("queue voicemail mail", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Claim takes up to limit due letters, each held for lease.
func (o *MailOutbox) Claim(ctx context.Context, limit int, lease time.Duration) ([]voicemail.MailJob, error) {
	rows, err := o.DB.pool.Query(ctx, `UPDATE voicemail_mail SET next_attempt = now() + $2 * interval '1 millisecond'
		WHERE (mailbox, message_id) IN (
			SELECT mailbox, message_id FROM voicemail_mail
			WHERE state = 'pending' AND next_attempt <= now()
			ORDER BY next_attempt LIMIT $1 FOR UPDATE SKIP LOCKED)
		RETURNING mailbox, message_id, recipient, attempts`, limit, lease.Milliseconds())
	if err != nil {
		return nil, translate("claim voicemail mail", err)
	}
	defer rows.Close()
	var out []voicemail.MailJob
	for rows.Next() {
		var j voicemail.MailJob
		if err := rows.Scan(&j.Mailbox, &j.MessageID, &j.To, &j.Attempts); err != nil {
			return nil, translate("claim voicemail mail", err)
		}
		out = append(out, j)
	}
	return out, translate("claim voicemail mail", rows.Err())
}

// Sent marks a letter sent.
func (o *MailOutbox) Sent(ctx context.Context, j voicemail.MailJob) error {
	return o.finish(ctx, j, "sent", "")
}

// Failed gives a letter up.
func (o *MailOutbox) Failed(ctx context.Context, j voicemail.MailJob, reason string) error {
	return o.finish(ctx, j, "failed", reason)
}

func (o *MailOutbox) finish(ctx context.Context, j voicemail.MailJob, state, reason string) error {
	_, err := o.DB.pool.Exec(ctx, `UPDATE voicemail_mail SET state = $3, last_error = $4,
		attempts = attempts + 1, done_at = now() WHERE mailbox = $1 AND message_id = $2`,
		j.Mailbox, j.MessageID, state, truncate(reason, 1000))
	return translate("finish voicemail mail", err)
}

// Retry schedules another attempt.
func (o *MailOutbox) Retry(ctx context.Context, j voicemail.MailJob, at time.Time, reason string) error {
	_, err := o.DB.pool.Exec(ctx, `UPDATE voicemail_mail SET next_attempt = $3, last_error = $4,
		attempts = attempts + 1 WHERE mailbox = $1 AND message_id = $2 AND state = 'pending'`,
		j.Mailbox, j.MessageID, at, truncate(reason, 1000))
	return translate("reschedule voicemail mail", err)
}

// Prune forgets the letters finished before then.
func (o *MailOutbox) Prune(ctx context.Context, before time.Time) error {
	_, err := o.DB.pool.Exec(ctx, `DELETE FROM voicemail_mail WHERE state <> 'pending' AND done_at < $1`, before)
	return translate("prune voicemail mail", err)
}

// Email returns the address ext's messages are mailed to; "" for none (or no such user, or
// voicemail off).
func (o *MailOutbox) Email(ctx context.Context, ext string) (string, error) {
	var email string
	err := o.DB.pool.QueryRow(ctx, `SELECT coalesce((SELECT email FROM users
		WHERE extension = $1 AND voicemail_enabled), '')`, ext).Scan(&email)
	return email, translate("read the e-mail address of "+ext, err)
}

// WithEmail returns every user with voicemail and an address.
func (o *MailOutbox) WithEmail(ctx context.Context) (map[string]string, error) {
	rows, err := o.DB.pool.Query(ctx, `SELECT extension, email FROM users WHERE email <> '' AND voicemail_enabled`)
	if err != nil {
		return nil, translate("list e-mail addresses", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var ext, email string
		if err := rows.Scan(&ext, &email); err != nil {
			return nil, translate("list e-mail addresses", err)
		}
		out[ext] = email
	}
	return out, translate("list e-mail addresses", rows.Err())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
