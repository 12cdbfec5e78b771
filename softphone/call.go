package softphone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// CallOptions tune Call.
type CallOptions struct {
	MediaOptions
	// RingTimeout gives up (CANCEL) when the call is not answered this long after the INVITE;
	// zero means 60 s.
	RingTimeout time.Duration
	// ResponseTimeout declares the server unreachable when not a single response to the
	// INVITE arrives within it; zero means 5 s.
	ResponseTimeout time.Duration
}

var errRingTimeout = errors.New("ring timeout")

// Call dials ext, runs the call as opts say and hangs up. It always returns a Report, answered
// or not; the error is an *Error when the call was not answered (busy, not found, wrong
// password…) and a plain error when something failed locally. Canceling ctx before the answer
// cancels the call; after the answer it hangs up normally.
func (p *Phone) Call(ctx context.Context, ext string, opts CallOptions) (*Report, error) {
	d, med, rep, err := p.dial(ctx, ext, opts)
	if err != nil {
		return rep, err
	}
	defer d.Close()
	err = p.talk(ctx, d.Context(), med, opts.MediaOptions, opts.Record, rep, d.Hangup, clientReferrer(d))
	rep.setExitCode(err)
	return rep, err
}

// dial places a call and returns once it is answered: the dialog (which the caller closes),
// its media, and the report so far. When it is not answered, the report says why and the
// dialog is closed already.
func (p *Phone) dial(ctx context.Context, ext string, opts CallOptions) (*diago.DialogClientSession, *diago.DialogMedia, *Report, error) {
	op := "call " + ext
	rep := &Report{Direction: "outgoing", Peer: ext, Transport: p.transport}
	var d *diago.DialogClientSession
	fail := func(err error) (*diago.DialogClientSession, *diago.DialogMedia, *Report, error) {
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Op: op, Outcome: OutcomeFailed, Err: err}
			err = e
		}
		rep.Outcome, rep.SIPStatus, rep.SIPReason, rep.Error = e.Outcome, e.Status, e.Reason, err.Error()
		rep.ExitCode = rep.exitCode()
		if d != nil {
			d.Close()
		}
		return nil, nil, rep, err
	}
	if ext == "" || strings.ContainsAny(ext, "@:;<> \t\r\n") {
		return fail(fmt.Errorf("bad extension %q", ext))
	}
	if err := opts.validate(); err != nil {
		return fail(err)
	}
	ringTimeout, responseTimeout := opts.RingTimeout, opts.ResponseTimeout
	if ringTimeout <= 0 {
		ringTimeout = 60 * time.Second
	}
	if responseTimeout <= 0 {
		responseTimeout = 5 * time.Second
	}

	d, err := p.dg.NewDialog(p.uri(ext), diago.NewDialogOptions{Transport: p.transport})
	if err != nil {
		d = nil
		return fail(err)
	}

	// The INVITE's context is canceled with a cause: the ring timeout, or, when the server has
	// not answered at all, sipgo's "force" cause that skips waiting for a provisional response
	// before giving up (CANCEL needs one; without it sipgo would wait out Timer B, 32 s).
	inviteCtx, cancelInvite := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelInvite(nil)
	var responded, provisional, noResponse, ringTimedOut atomic.Bool
	stopParent := context.AfterFunc(ctx, func() {
		if responded.Load() {
			cancelInvite(context.Canceled)
		} else {
			cancelInvite(sipgo.WaitAnswerForceCancelErr)
		}
	})
	defer stopParent()
	ringTimer := time.AfterFunc(ringTimeout, func() {
		ringTimedOut.Store(true)
		if responded.Load() {
			cancelInvite(errRingTimeout)
		} else {
			cancelInvite(sipgo.WaitAnswerForceCancelErr)
		}
	})
	defer ringTimer.Stop()
	responseTimer := time.AfterFunc(responseTimeout, func() {
		if !responded.Load() {
			noResponse.Store(true)
			cancelInvite(sipgo.WaitAnswerForceCancelErr)
		}
	})
	defer responseTimer.Stop()

	var mu sync.Mutex // guards rep's timing fields, written from sipgo's goroutine
	start := time.Now()
	med, err := d.Invite(inviteCtx, diago.InviteClientOptions{
		Username: p.opts.Username,
		Password: p.opts.Password,
		OnResponse: func(res *sip.Response) error {
			responded.Store(true)
			since := Millis(time.Since(start))
			mu.Lock()
			defer mu.Unlock()
			rep.CallID = callID(d.InviteRequest)
			switch {
			case res.IsProvisional():
				provisional.Store(true)
				if rep.FirstProvisional == 0 {
					rep.FirstProvisional = since
				}
				if (res.StatusCode == 180 || res.StatusCode == 183) && rep.Ringing == 0 {
					rep.Ringing = since
				}
				p.emit(Event{Kind: EventProgress, CallID: rep.CallID, Peer: ext, Status: res.StatusCode, Detail: res.Reason})
			case res.IsSuccess():
				rep.Setup = since
			}
			return nil
		},
	})
	mu.Lock()
	rep.CallID = callID(d.InviteRequest)
	mu.Unlock()
	if err != nil {
		return fail(p.inviteError(ctx, op, err, ringTimeout, responseTimeout, noResponse.Load(), ringTimedOut.Load(), provisional.Load()))
	}
	ringTimer.Stop()
	responseTimer.Stop()
	if err := d.Ack(ctx); err != nil {
		med.Close()
		return fail(&Error{Op: op, Outcome: OutcomeFailed, Err: fmt.Errorf("ack: %w", err)})
	}
	rep.Outcome, rep.SIPStatus, rep.SIPReason = OutcomeAnswered, d.InviteResponse.StatusCode, d.InviteResponse.Reason
	p.emit(Event{Kind: EventAnswered, CallID: rep.CallID, Peer: ext, Status: rep.SIPStatus, Detail: fmt.Sprintf("after %v", time.Duration(rep.Setup).Round(time.Microsecond))})
	return d, med, rep, nil
}

// talk runs the media of an answered call until it ends, hangs up when the other side did not,
// and completes rep. refer, when not nil, sends the call's REFERs (opts.Transfer).
func (p *Phone) talk(ctx context.Context, dialog context.Context, med *diago.DialogMedia, opts MediaOptions, record string, rep *Report, hangup func(context.Context) error, refer referrer) error {
	answered := time.Now()
	s := &session{p: p, opts: opts, med: med, rep: rep, record: record}
	if err := s.start(); err != nil {
		med.Close()
		hangupNow(hangup)
		return err
	}
	// A transfer ends the call when it is done: the talk's context is cut then.
	talkCtx, stopTalk := context.WithCancel(ctx)
	defer stopTalk()
	var transferring sync.WaitGroup
	if opts.Transfer != nil && refer != nil {
		transferring.Go(func() {
			p.transfer(talkCtx, opts.Transfer, refer, rep)
			stopTalk()
		})
	}
	remoteEnded := s.wait(talkCtx, dialog.Done())
	stopTalk()
	transferring.Wait()
	rep.Talk = Millis(time.Since(answered))
	var hangupErr error
	if remoteEnded {
		rep.EndedBy = "remote"
	} else {
		rep.EndedBy = "local"
		hangupErr = hangupNow(hangup)
	}
	med.Close()
	err := s.finish()
	if remoteEnded {
		err = nil // a stream cut by the other side's hang-up is the normal end of a call
	}
	p.emit(Event{Kind: EventHangup, CallID: rep.CallID, Peer: rep.Peer, Detail: "by " + rep.EndedBy + fmt.Sprintf(" after %v", time.Duration(rep.Talk).Round(time.Millisecond))})
	if hangupErr != nil {
		p.emit(Event{Kind: EventWarning, CallID: rep.CallID, Peer: rep.Peer, Detail: "hang up: " + hangupErr.Error()})
	}
	return err
}

// hangupNow sends BYE and waits a few seconds for the answer; the call is over either way.
func hangupNow(hangup func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hangup(ctx)
}

// inviteError translates what diago's Invite returned.
func (p *Phone) inviteError(ctx context.Context, op string, err error, ringTimeout, responseTimeout time.Duration, noResponse, ringTimedOut, provisional bool) error {
	var resp *sipgo.ErrDialogResponse
	var respValue sipgo.ErrDialogResponse
	var res *sip.Response
	switch {
	case errors.As(err, &resp):
		res = resp.Res
	case errors.As(err, &respValue):
		res = respValue.Res
	}
	server := net.JoinHostPort(p.host, strconv.Itoa(p.port))
	switch {
	case res != nil && res.StatusCode == sip.StatusForbidden && provisional:
		// The server accepted the credentials (it said 100 Trying) and then refused the call:
		// Asterisk turns a callee's 603 Decline into 403 Forbidden for the caller.
		return &Error{Op: op, Outcome: OutcomeRejected, Status: res.StatusCode, Reason: res.Reason, Err: err}
	case res != nil:
		return &Error{Op: op, Outcome: OutcomeForStatus(res.StatusCode), Status: res.StatusCode, Reason: res.Reason, Err: err}
	case noResponse:
		return &Error{Op: op, Outcome: OutcomeUnreachable, Detail: fmt.Sprintf("no response from %s over %s within %v", server, p.transport, responseTimeout), Err: err}
	case ringTimedOut:
		return &Error{Op: op, Outcome: OutcomeNoAnswer, Detail: fmt.Sprintf("not answered within %v", ringTimeout), Err: err}
	case ctx.Err() != nil:
		return &Error{Op: op, Outcome: OutcomeCanceled, Err: ctx.Err()}
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.As(err, &netErr) || errors.Is(err, sip.ErrTransactionTimeout) || strings.Contains(err.Error(), "connection refused") {
		return &Error{Op: op, Outcome: OutcomeUnreachable, Detail: server + ": " + networkDetail(err, p.transport), Err: err}
	}
	return &Error{Op: op, Outcome: OutcomeFailed, Err: err}
}
