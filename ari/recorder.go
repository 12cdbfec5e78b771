package ari

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// Recorder writes call records in the background, in order, retrying while the database is
// unreachable: call setup never waits for PostgreSQL, and a database outage loses no record.
// It also remembers the latest record of calls that are still in progress, so that later steps
// (the FastAGI voicemail helpers) amend the same record.
type Recorder struct {
	Store  CallStore
	Logger *slog.Logger

	once   sync.Once
	mu     sync.Mutex
	queue  []CallRecord
	ready  chan struct{}
	live   map[string]CallRecord // by caller channel, while not ended
	idle   chan struct{}         // closed when the queue is empty and nothing is being written
	onSave func(CallRecord)      // tests: called after each successful write
}

func (r *Recorder) init() {
	r.once.Do(func() {
		r.ready = make(chan struct{}, 1)
		r.live = map[string]CallRecord{}
		r.idle = make(chan struct{})
		close(r.idle)
		if r.Logger == nil {
			r.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

// Save queues a snapshot of a record for writing.
func (r *Recorder) Save(rec CallRecord) {
	r.init()
	r.mu.Lock()
	if len(r.queue) == 0 {
		r.idle = make(chan struct{})
	}
	r.queue = append(r.queue, rec)
	if rec.Active() {
		r.live[rec.CallerChannel] = rec
	} else {
		delete(r.live, rec.CallerChannel)
	}
	r.mu.Unlock()
	select {
	case r.ready <- struct{}{}:
	default:
	}
}

// Amend changes the record of the call whose caller channel is channelID: the one in memory, or
// the stored one after a restart. ENOTFOUND when there is none (a call that never entered the
// Stasis app, e.g. one placed while the control plane was down).
func (r *Recorder) Amend(ctx context.Context, channelID string, change func(*CallRecord)) error {
	r.init()
	r.mu.Lock()
	rec, ok := r.live[channelID]
	r.mu.Unlock()
	if !ok {
		var err error
		if rec, err = r.Store.CallByChannel(ctx, channelID); err != nil {
			return fmt.Errorf("amend call of channel %s: %w", channelID, err)
		}
	}
	change(&rec)
	r.Save(rec)
	return nil
}

// Idle returns a channel closed once every queued record has been written.
func (r *Recorder) Idle() <-chan struct{} {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.idle
}

// Run writes queued records until ctx ends; then it tries for a few more seconds to write
// what is left.
func (r *Recorder) Run(ctx context.Context) {
	r.init()
	for {
		r.mu.Lock()
		if len(r.queue) == 0 {
			select {
			case <-r.idle:
			default:
				close(r.idle)
			}
			r.mu.Unlock()
			select {
			case <-ctx.Done():
				r.flush()
				return
			case <-r.ready:
			}
			continue
		}
		rec := r.queue[0]
		r.mu.Unlock()
		if !r.write(ctx, rec) {
			r.flush()
			return
		}
		r.mu.Lock()
		r.queue[0] = CallRecord{}
		r.queue = r.queue[1:]
		r.mu.Unlock()
	}
}

// write stores one record, retrying with backoff while the database is unavailable. It
// returns false when ctx ended first.
func (r *Recorder) write(ctx context.Context, rec CallRecord) bool {
	backoff := 100 * time.Millisecond
	for {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := r.Store.SaveCall(wctx, rec)
		cancel()
		if err == nil {
			if r.onSave != nil {
				r.onSave(rec)
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if code := switchboard.ErrorCode(err); code != switchboard.EUNAVAILABLE {
			r.Logger.Error("call record dropped", "call_id", rec.ID, "error", err)
			return true // retrying will not help a record the database refuses
		}
		r.Logger.Warn("call record not saved yet", "call_id", rec.ID, "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// flush makes a last attempt to write what is queued when the process stops.
func (r *Recorder) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r.mu.Lock()
	queue := r.queue
	r.queue = nil
	r.mu.Unlock()
	for _, rec := range queue {
		if err := r.Store.SaveCall(ctx, rec); err != nil {
			r.Logger.Error("call record lost at shutdown", "call_id", rec.ID, "error", err)
		}
	}
}
