// Package inmem is an in-memory switchboard.CallStore for unit tests: it applies changes by the
// same rules as the PostgreSQL store (switchboard.CallChange.Apply).
package inmem

import (
	"context"
	"slices"
	"sync"

	"github.com/switchboard-pbx/switchboard"
)

// CallStore keeps call records in memory. The zero value is ready to use.
type CallStore struct {
	mu    sync.Mutex
	calls map[string]switchboard.CallRecord
	// Fail, when set, is returned by every method (an unreachable database).
	Fail error
}

var _ switchboard.CallStore = (*CallStore)(nil)

// ApplyCallChange stores one change.
func (s *CallStore) ApplyCallChange(_ context.Context, ch switchboard.CallChange) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	if s.calls == nil {
		s.calls = map[string]switchboard.CallRecord{}
	}
	r, ok := s.calls[ch.ID]
	if !ok && ch.StartedAt.IsZero() {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no call %s to update", ch.ID)
	}
	s.calls[ch.ID] = ch.Apply(r)
	return nil
}

// Call returns one record.
func (s *CallStore) Call(_ context.Context, id string) (switchboard.CallRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return switchboard.CallRecord{}, s.Fail
	}
	r, ok := s.calls[id]
	if !ok {
		return r, switchboard.Errorf(switchboard.ENOTFOUND, "no call %s", id)
	}
	return r, nil
}

// CallByChannel returns the newest record of a caller channel.
func (s *CallStore) CallByChannel(_ context.Context, channelID string) (switchboard.CallRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return switchboard.CallRecord{}, s.Fail
	}
	var found switchboard.CallRecord
	for _, r := range s.calls {
		if r.CallerChannel == channelID && (found.ID == "" || r.StartedAt.After(found.StartedAt)) {
			found = r
		}
	}
	if found.ID == "" {
		return found, switchboard.Errorf(switchboard.ENOTFOUND, "no call of channel %s", channelID)
	}
	return found, nil
}

// Calls lists records newest first (filters: User, Active, Limit).
func (s *CallStore) Calls(_ context.Context, f switchboard.CallFilter) (switchboard.CallPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return switchboard.CallPage{}, s.Fail
	}
	var out []switchboard.CallRecord
	for _, r := range s.calls {
		if f.Active && !r.Active() {
			continue
		}
		if f.User != "" && r.Caller != f.User && r.Callee != f.User {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b switchboard.CallRecord) int { return b.StartedAt.Compare(a.StartedAt) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return switchboard.CallPage{Calls: out}, nil
}

// All returns every record, for assertions.
func (s *CallStore) All() []switchboard.CallRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []switchboard.CallRecord
	for _, r := range s.calls {
		out = append(out, r)
	}
	return out
}
