package provisioning

import (
	"context"
	"fmt"
	"sync"

	"github.com/switchboard-pbx/switchboard"
)

// SharedMailboxRealtime is where app_voicemail finds the shared mailboxes (package realtime).
type SharedMailboxRealtime interface {
	SetSharedMailboxes(ctx context.Context, boxes []VoicemailBox) error
}

// SharedMailboxes keeps the mailboxes of ring groups and call queues that have their own
// (Group.Mailbox, Queue.Mailbox) where app_voicemail finds them, equal to PostgreSQL: Sync
// rewrites them all (there are few), after every change of a group or a queue and at start.
type SharedMailboxes struct {
	Groups   switchboard.GroupStore
	Queues   switchboard.QueueStore
	Realtime SharedMailboxRealtime

	mu sync.Mutex // one Sync at a time: the last one wins with the last state
}

var _ MailboxSync = (*SharedMailboxes)(nil)

// Sync writes every shared mailbox.
func (m *SharedMailboxes) Sync(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	groups, err := m.Groups.Groups(ctx)
	if err != nil {
		return fmt.Errorf("list groups for their mailboxes: %w", err)
	}
	queues, err := m.Queues.Queues(ctx)
	if err != nil {
		return fmt.Errorf("list queues for their mailboxes: %w", err)
	}
	var boxes []VoicemailBox
	for _, g := range groups {
		if g.Mailbox.Enabled {
			boxes = append(boxes, VoicemailBox{Mailbox: g.Number, PIN: g.Mailbox.PIN, FullName: g.Name})
		}
	}
	for _, q := range queues {
		if q.Mailbox.Enabled {
			boxes = append(boxes, VoicemailBox{Mailbox: q.Number, PIN: q.Mailbox.PIN, FullName: q.Name})
		}
	}
	return m.Realtime.SetSharedMailboxes(ctx, boxes)
}

// Has reports whether number is a group's or a queue's own mailbox.
func (m *SharedMailboxes) Has(ctx context.Context, number string) (bool, error) {
	g, err := m.Groups.Group(ctx, number)
	switch {
	case err == nil:
		return g.Mailbox.Enabled, nil
	case switchboard.ErrorCode(err) != switchboard.ENOTFOUND:
		return false, err
	}
	q, err := m.Queues.Queue(ctx, number)
	switch {
	case err == nil:
		return q.Mailbox.Enabled, nil
	case switchboard.ErrorCode(err) != switchboard.ENOTFOUND:
		return false, err
	}
	return false, nil
}
