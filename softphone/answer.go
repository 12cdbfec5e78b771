package softphone

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
)

// Reject says how Answer refuses calls instead of answering them, for tests of the PBX's
// busy and no-answer paths.
type Reject string

// The ways to refuse a call.
const (
	RejectNone     Reject = ""         // answer
	RejectBusy     Reject = "busy"     // 486 Busy Here
	RejectDecline  Reject = "decline"  // 603 Decline
	RejectNoAnswer Reject = "noanswer" // ring (180) until the caller gives up
)

// ParseReject accepts "", "busy", "decline" or "noanswer".
func ParseReject(s string) (Reject, error) {
	switch r := Reject(strings.ToLower(s)); r {
	case RejectNone, RejectBusy, RejectDecline, RejectNoAnswer:
		return r, nil
	}
	return "", fmt.Errorf("bad reject mode %q (want busy, decline or noanswer)", s)
}

// AnswerOptions tune Answer.
type AnswerOptions struct {
	MediaOptions
	// Calls is how many calls to take (answer or reject) before returning; zero means until
	// ctx ends. Calls beyond that number while the last ones run are refused with 486.
	Calls int
	// Reject refuses the calls instead of answering them.
	Reject Reject
	// RingFor rings (180) this long before answering; zero answers at once.
	RingFor time.Duration
	// Register tunes the registration that Answer keeps while it answers.
	Register RegisterOptions
}

// Answer registers the phone, takes incoming calls as opts say until opts.Calls calls are done
// or ctx ends, unregisters and returns a Report per call in the order the calls ended. The
// error is an *Error when the registration fails; a call that failed is reported in its Report
// only (the Report's ExitCode says how).
func (p *Phone) Answer(ctx context.Context, opts AnswerOptions) ([]*Report, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	if _, err := ParseReject(string(opts.Reject)); err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu      sync.Mutex
		claimed int
		reports []*Report
		allDone = make(chan struct{})
	)
	p.setIncoming(func(d *diago.DialogServerSession) {
		mu.Lock()
		full := opts.Calls > 0 && claimed >= opts.Calls
		if !full {
			claimed++
		}
		n := claimed
		mu.Unlock()
		if full {
			d.Respond(sip.StatusBusyHere, "Busy Here", nil)
			return
		}

		rep := p.answerCall(ctx, d, opts, recordPath(opts.Record, n))
		mu.Lock()
		reports = append(reports, rep)
		if opts.Calls > 0 && len(reports) == opts.Calls {
			close(allDone)
		}
		mu.Unlock()
	})

	reg, err := p.register(ctx, opts.Register)
	if err != nil {
		p.stopIncoming()
		return nil, err
	}
	regErr := make(chan error, 1)
	go func() { regErr <- reg.keep(ctx) }()
	select {
	case <-allDone:
	case <-ctx.Done():
	case err = <-regErr:
	}
	cancel() // ends calls in progress (they hang up) and the refreshes
	p.stopIncoming()
	if err == nil {
		err = <-regErr
	}
	reg.unregister()

	mu.Lock()
	defer mu.Unlock()
	return reports, err
}

// recordPath numbers the recording of the nth call: rec.wav, rec-2.wav, rec-3.wav…
func recordPath(path string, n int) string {
	if path == "" || n <= 1 {
		return path
	}
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), n, ext)
}

// answerCall takes one incoming call: rejects it or rings, answers and runs its media.
func (p *Phone) answerCall(ctx context.Context, d *diago.DialogServerSession, opts AnswerOptions, record string) *Report {
	rep := &Report{Direction: "incoming", Peer: d.FromUser(), CallID: callID(d.InviteRequest), Transport: p.transport}
	op := "answer call from " + rep.Peer
	done := func(outcome Outcome, status int, reason string, err error) *Report {
		rep.Outcome, rep.SIPStatus, rep.SIPReason = outcome, status, reason
		if err != nil {
			rep.Error = err.Error()
		}
		rep.ExitCode = rep.exitCode()
		return rep
	}
	// A refusal that was asked for is a success of the answering side; the report's outcome
	// says what the caller was told.
	refused := func(outcome Outcome, status int, reason string, err error) *Report {
		done(outcome, status, reason, err)
		if err == nil {
			rep.ExitCode = ExitOK
		}
		return rep
	}
	reject := func(status int, reason string, outcome Outcome) *Report {
		err := d.Respond(status, reason, nil)
		p.emit(Event{Kind: EventRejected, CallID: rep.CallID, Peer: rep.Peer, Status: status})
		return refused(outcome, status, reason, err)
	}
	switch opts.Reject {
	case RejectBusy:
		return reject(sip.StatusBusyHere, "Busy Here", OutcomeBusy)
	case RejectDecline:
		return reject(sip.StatusGlobalDecline, "Decline", OutcomeRejected)
	}

	if err := d.Ringing(); err != nil {
		return done(OutcomeFailed, 0, "", &Error{Op: op, Outcome: OutcomeFailed, Err: fmt.Errorf("send 180: %w", err)})
	}
	var ring <-chan time.Time
	if opts.Reject == RejectNoAnswer {
		ring = nil // until the caller gives up
	} else {
		t := time.NewTimer(opts.RingFor)
		defer t.Stop()
		ring = t.C
	}
	select {
	case <-ring:
	case <-d.Context().Done():
		if opts.Reject == RejectNoAnswer {
			return refused(OutcomeNoAnswer, sip.StatusRequestTerminated, "Request Terminated", nil)
		}
		return done(OutcomeNoAnswer, sip.StatusRequestTerminated, "Request Terminated", nil)
	case <-ctx.Done():
		return done(OutcomeCanceled, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
	}

	med, err := d.Answer(diago.AnswerOptions{})
	if err != nil {
		if errors.Is(err, sip.ErrTransactionCanceled) || d.Context().Err() != nil {
			return done(OutcomeNoAnswer, sip.StatusRequestTerminated, "Request Terminated", nil)
		}
		return done(OutcomeFailed, 0, "", &Error{Op: op, Outcome: OutcomeFailed, Err: fmt.Errorf("answer: %w", err)})
	}
	rep.Outcome, rep.SIPStatus, rep.SIPReason = OutcomeAnswered, sip.StatusOK, "OK"
	p.emit(Event{Kind: EventAnswered, CallID: rep.CallID, Peer: rep.Peer})
	rep.setExitCode(p.talk(ctx, d.Context(), med, opts.MediaOptions, record, rep, d.Hangup, serverReferrer(d)))
	return rep
}
