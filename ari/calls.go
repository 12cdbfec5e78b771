package ari

import (
	"context"
	"slices"

	"github.com/switchboard-pbx/switchboard"
)

// Calls is the call history and the calls in progress, as the API shows them: records from
// the store, overlaid with the fresher state call control holds in memory.
type Calls struct {
	App      *App
	Store    switchboard.CallStore
	Asterisk Asterisk
}

// Calls lists records newest first.
func (s *Calls) Calls(ctx context.Context, f switchboard.CallFilter) (switchboard.CallPage, error) {
	if f.Limit < 1 || f.Limit > 1000 {
		return switchboard.CallPage{}, switchboard.Errorf(switchboard.EINVALID, "limit must be 1 to 1000")
	}
	page, err := s.Store.Calls(ctx, f)
	if err != nil || !f.Active || f.Before != "" {
		return page, err
	}
	// Records are written in the background: a call that just started may not be stored yet.
	have := map[string]int{}
	for i, r := range page.Calls {
		have[r.ID] = i
	}
	for _, r := range s.App.ActiveCalls() {
		if f.User != "" && r.Caller != f.User && r.Callee != f.User {
			continue
		}
		if i, ok := have[r.ID]; ok {
			page.Calls[i] = r
		} else {
			page.Calls = append(page.Calls, r)
		}
	}
	slices.SortFunc(page.Calls, func(a, b switchboard.CallRecord) int { return b.StartedAt.Compare(a.StartedAt) })
	return page, nil
}

// Call returns one record.
func (s *Calls) Call(ctx context.Context, id string) (switchboard.CallRecord, error) {
	for _, r := range s.App.ActiveCalls() {
		if r.ID == id {
			return r, nil
		}
	}
	return s.Store.Call(ctx, id)
}

// HangupCall ends a call in progress: one call control drives, or one in voicemail (its caller
// channel is hung up). ENOTFOUND when the call is not in progress.
func (s *Calls) HangupCall(ctx context.Context, id string) error {
	err := s.App.Hangup(ctx, id)
	if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		return err
	}
	r, err := s.Store.Call(ctx, id)
	if err != nil {
		return err
	}
	if !r.Active() {
		return switchboard.Errorf(switchboard.ENOTFOUND, "call %s is not in progress", id)
	}
	if err := s.Asterisk.Hangup(ctx, r.CallerChannel, "normal"); err != nil {
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			return switchboard.Errorf(switchboard.ENOTFOUND, "call %s is not in progress", id)
		}
		return err
	}
	return nil
}
