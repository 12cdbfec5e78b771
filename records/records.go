// Package records writes call records in the background for the parts of Switchboard that learn
// a call's history as it happens: call control over ARI and the dialplan's FastAGI helpers.
// Neither waits for PostgreSQL, an outage loses nothing, and each writes only the facts it owns
// (switchboard.CallChange), so that neither overwrites what the other recorded.
package records

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sethvargo/go-retry"

	"github.com/switchboard-pbx/switchboard"
)

// Writer queues call changes and writes them in order, retrying while the database is
// unavailable. It also knows which call each caller channel of a call in progress belongs to,
// so that the dialplan helpers can name the call by the channel they run on.
type Writer struct {
	Store  switchboard.CallStore
	Logger *slog.Logger

	once   sync.Once
	mu     sync.Mutex
	queue  []switchboard.CallChange
	ready  chan struct{}
	byChan map[string]string // caller channel → call ID, while the call is in progress here
	chanOf map[string]string // call ID → caller channel, the other way round
	idle   chan struct{}     // closed exactly when the queue is empty (see Run): nothing left to write
}

func (w *Writer) init() {
	w.once.Do(func() {
		w.ready = make(chan struct{}, 1)
		w.byChan = map[string]string{}
		w.chanOf = map[string]string{}
		w.idle = make(chan struct{})
		close(w.idle)
		if w.Logger == nil {
			w.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

// Record queues a change for writing.
func (w *Writer) Record(ch switchboard.CallChange) {
	w.init()
	w.mu.Lock()
	if len(w.queue) == 0 {
		w.idle = make(chan struct{})
	}
	w.queue = append(w.queue, ch)
	if ch.CallerChannel != "" {
		w.byChan[ch.CallerChannel] = ch.ID
		w.chanOf[ch.ID] = ch.CallerChannel
	}
	w.mu.Unlock()
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

// CallOfChannel returns the ID of the call whose caller channel is channelID: from memory while
// the call is in progress here, else from the store (a call started before a restart).
// ENOTFOUND when there is none, e.g. a call placed while the control plane was down.
func (w *Writer) CallOfChannel(ctx context.Context, channelID string) (string, error) {
	w.init()
	w.mu.Lock()
	id, ok := w.byChan[channelID]
	w.mu.Unlock()
	if ok {
		return id, nil
	}
	r, err := w.Store.CallByChannel(ctx, channelID)
	if err != nil {
		return "", fmt.Errorf("call of channel %s: %w", channelID, err)
	}
	return r.ID, nil
}

// forget drops the channel of an ended call (w.mu held).
func (w *Writer) forget(id string) {
	if c, ok := w.chanOf[id]; ok {
		delete(w.byChan, c)
		delete(w.chanOf, id)
	}
}

// Idle returns a channel closed once every queued change has been written.
func (w *Writer) Idle() <-chan struct{} {
	w.init()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.idle
}

// Run writes queued changes until ctx ends; then it tries for a few more seconds to write
// what is left.
func (w *Writer) Run(ctx context.Context) {
	w.init()
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.mu.Unlock()
			select {
			case <-ctx.Done():
				w.flush()
				return
			case <-w.ready:
			}
			continue
		}
		ch := w.queue[0]
		w.mu.Unlock()
		if !w.write(ctx, ch) {
			w.flush()
			return
		}
		w.mu.Lock()
		w.queue[0] = switchboard.CallChange{}
		w.queue = w.queue[1:]
		if len(w.queue) == 0 {
			// In the same critical section as the removal: a change recorded after it finds the
			// queue empty and makes a new channel, one recorded before it is written first.
			close(w.idle)
		}
		if !ch.EndedAt.IsZero() {
			// Written: from now on the store answers for this call.
			w.forget(ch.ID)
		}
		w.mu.Unlock()
	}
}

// write stores one change, retrying with backoff (100 ms doubling to 5 s) while the database is
// unavailable. It returns false when ctx ended first.
func (w *Writer) write(ctx context.Context, ch switchboard.CallChange) bool {
	b := retry.WithCappedDuration(5*time.Second, retry.NewExponential(100*time.Millisecond))
	err := retry.Do(ctx, b, func(ctx context.Context) error {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		err := w.Store.ApplyCallChange(wctx, ch)
		if switchboard.ErrorCode(err) == switchboard.EUNAVAILABLE && ctx.Err() == nil {
			w.Logger.Warn("call record not saved yet", "call_id", ch.ID, "error", err)
			return retry.RetryableError(err)
		}
		return err
	})
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return false
	default:
		// Retrying will not help a change the database refuses.
		w.Logger.Error("call record change dropped", "call_id", ch.ID, "error", err)
	}
	return true
}

// flush makes a last attempt to write what is queued when the process stops.
func (w *Writer) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	w.mu.Lock()
	queue, idle := w.queue, w.idle
	w.queue = nil
	w.mu.Unlock()
	for _, ch := range queue {
		if err := w.Store.ApplyCallChange(ctx, ch); err != nil {
			w.Logger.Error("call record change lost at shutdown", "call_id", ch.ID, "error", err)
		}
	}
	if len(queue) > 0 {
		close(idle) // nothing more will be tried
	}
}
