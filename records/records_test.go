package records_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/records"
	"github.com/switchboard-pbx/switchboard/records/inmem"
)

// flakyStore is unavailable for its first failures writes, like a database that restarts.
type flakyStore struct {
	inmem.CallStore
	failures atomic.Int32
}

func (s *flakyStore) ApplyCallChange(ctx context.Context, ch switchboard.CallChange) error {
	if s.failures.Add(-1) >= 0 {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "database unavailable")
	}
	return s.CallStore.ApplyCallChange(ctx, ch)
}

func TestWriterKeepsOrderThroughAnOutage(t *testing.T) {
	store := &flakyStore{}
	store.failures.Store(3)
	w := &records.Writer{Store: store}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	start := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	w.Record(switchboard.CallChange{ID: "a", Caller: "1001", Callee: "1002", CallerChannel: "ch-a", StartedAt: start})
	w.Record(switchboard.CallChange{ID: "a", Outcome: switchboard.Answered, AnsweredAt: start.Add(time.Second)})
	w.Record(switchboard.CallChange{ID: "a", EndedAt: start.Add(time.Minute)})
	select {
	case <-waitIdle(w):
	case <-time.After(10 * time.Second):
		t.Fatal("changes not written within 10 s of the database coming back")
	}
	r, err := store.Call(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != switchboard.Answered || !r.EndedAt.Equal(start.Add(time.Minute)) || !r.AnsweredAt.Equal(start.Add(time.Second)) {
		t.Errorf("record %+v: a change was lost or applied out of order", r)
	}
}

// waitIdle returns a channel closed once the writer has written everything queued so far.
func waitIdle(w *records.Writer) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for {
			idle := w.Idle()
			<-idle
			if w.Idle() == idle {
				close(done)
				return
			}
		}
	}()
	return done
}

func TestCallOfChannel(t *testing.T) {
	store := &inmem.CallStore{}
	w := &records.Writer{Store: store}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	// A call of this process, not written yet: known from memory.
	w.Record(switchboard.CallChange{ID: "live", Caller: "1001", Callee: "1002", CallerChannel: "ch-live", StartedAt: start})
	if id, err := w.CallOfChannel(ctx, "ch-live"); err != nil || id != "live" {
		t.Errorf("CallOfChannel(ch-live) = %q, %v; want live", id, err)
	}
	// A call recorded before a restart: known from the store.
	store.ApplyCallChange(ctx, switchboard.CallChange{ID: "old", Caller: "1001", Callee: "1003", CallerChannel: "ch-old", StartedAt: start})
	if id, err := w.CallOfChannel(ctx, "ch-old"); err != nil || id != "old" {
		t.Errorf("CallOfChannel(ch-old) = %q, %v; want old", id, err)
	}
	if _, err := w.CallOfChannel(ctx, "ch-none"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("unknown channel: %v, want not found", err)
	}
}

// A change recorded while the writer is between writing the last queued change and noticing
// the queue is empty must not leave anyone who asked Idle before it waiting forever.
func TestIdleIsAlwaysClosedEventually(t *testing.T) {
	w := &records.Writer{Store: &inmem.CallStore{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	start := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for i := range 2000 {
		id := fmt.Sprint("call-", i)
		w.Record(switchboard.CallChange{ID: id, Caller: "1001", Callee: "1002", CallerChannel: "ch-" + id, StartedAt: start})
		idle := w.Idle()
		w.Record(switchboard.CallChange{ID: id, EndedAt: start.Add(time.Second)})
		select {
		case <-idle:
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: Idle's channel never closed", i)
		}
	}
}
