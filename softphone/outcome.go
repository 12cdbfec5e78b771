package softphone

import (
	"context"
	"errors"
	"fmt"
)

// Outcome says how a call or a registration ended, in words that people and scripts share.
type Outcome string

// The outcomes. Every outcome but OutcomeAnswered and OutcomeRegistered is a failure with its
// own exit code.
const (
	OutcomeAnswered    Outcome = "answered"    // the call was answered (by a person or voicemail)
	OutcomeRegistered  Outcome = "registered"  // the registrar accepted the phone
	OutcomeAuthFailed  Outcome = "auth_failed" // 401/403/407 after the digest round trip
	OutcomeNotFound    Outcome = "not_found"   // 404/484/604: no such extension
	OutcomeBusy        Outcome = "busy"        // 486/600
	OutcomeNoAnswer    Outcome = "no_answer"   // 408/480/487, or the ring timeout ran out
	OutcomeUnreachable Outcome = "unreachable" // no SIP response at all, or no connection
	OutcomeRejected    Outcome = "rejected"    // any other final failure (488, 503, 603, …)
	OutcomeCanceled    Outcome = "canceled"    // the caller gave up (interrupt) before an answer
	OutcomeFailed      Outcome = "failed"      // a local problem: bad input, I/O, a bug
)

// ExitCode is the process exit status of cmd/softphone. The codes are part of its interface:
// scripts and tests branch on them.
type ExitCode int

// The exit codes, one per outcome a person or a script acts on differently.
const (
	ExitOK          ExitCode = 0   // registered, or the call was answered and all checks passed
	ExitFailure     ExitCode = 1   // a local problem (bad file, internal error)
	ExitUsage       ExitCode = 2   // bad flags, arguments or environment
	ExitAuthFailed  ExitCode = 3   // wrong user name or password
	ExitNotFound    ExitCode = 4   // the extension does not exist
	ExitBusy        ExitCode = 5   // the callee is busy
	ExitNoAnswer    ExitCode = 6   // nobody answered in time
	ExitUnreachable ExitCode = 7   // the server did not answer at all or refused the connection
	ExitRejected    ExitCode = 8   // the call failed with another SIP status
	ExitToneMissing ExitCode = 9   // --expect-tone: the tone was not in the received audio
	ExitInterrupted ExitCode = 130 // interrupted (Ctrl-C) before the call was answered
)

// OutcomeForStatus classifies a final SIP response status.
func OutcomeForStatus(status int) Outcome {
	switch {
	case status >= 200 && status < 300:
		return OutcomeAnswered
	case status == 401 || status == 403 || status == 407:
		return OutcomeAuthFailed
	case status == 404 || status == 484 || status == 604:
		return OutcomeNotFound
	case status == 486 || status == 600:
		return OutcomeBusy
	case status == 408 || status == 480 || status == 487:
		return OutcomeNoAnswer
	default:
		return OutcomeRejected
	}
}

// ExitCode returns the exit code of a command that ended with outcome o.
func (o Outcome) ExitCode() ExitCode {
	switch o {
	case OutcomeAnswered, OutcomeRegistered:
		return ExitOK
	case OutcomeAuthFailed:
		return ExitAuthFailed
	case OutcomeNotFound:
		return ExitNotFound
	case OutcomeBusy:
		return ExitBusy
	case OutcomeNoAnswer:
		return ExitNoAnswer
	case OutcomeUnreachable:
		return ExitUnreachable
	case OutcomeRejected:
		return ExitRejected
	case OutcomeCanceled:
		return ExitInterrupted
	default:
		return ExitFailure
	}
}

// ExitCodeForStatus returns the exit code for a call that ended with a final SIP status.
func ExitCodeForStatus(status int) ExitCode { return OutcomeForStatus(status).ExitCode() }

// describe says what an outcome means to the person at the phone.
func (o Outcome) describe() string {
	switch o {
	case OutcomeAnswered:
		return "answered"
	case OutcomeRegistered:
		return "registered"
	case OutcomeAuthFailed:
		return "wrong user name or password"
	case OutcomeNotFound:
		return "no such extension"
	case OutcomeBusy:
		return "busy"
	case OutcomeNoAnswer:
		return "no answer"
	case OutcomeUnreachable:
		return "server unreachable"
	case OutcomeRejected:
		return "call rejected"
	case OutcomeCanceled:
		return "canceled"
	default:
		return "failed"
	}
}

// Error is what Register, Call and Answer return when they fail. It names the operation, the
// outcome and, when the server answered, the SIP status.
type Error struct {
	Op      string  // e.g. "call 1002", "register 1001"
	Outcome Outcome // never OutcomeAnswered or OutcomeRegistered
	Status  int     // final SIP status; 0 when there was none
	Reason  string  // its reason phrase
	Detail  string  // more for people, e.g. "no response within 5s"
	Err     error   // the underlying error, if any
}

// Error returns one line for a person, e.g.
// "call 1002: busy (SIP 486 Busy Here)".
func (e *Error) Error() string {
	msg := e.Op + ": " + e.Outcome.describe()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Status != 0 {
		msg += fmt.Sprintf(" (SIP %d %s)", e.Status, e.Reason)
	} else if e.Err != nil && e.Detail == "" {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode returns the exit code for the error.
func (e *Error) ExitCode() ExitCode { return e.Outcome.ExitCode() }

// ExitCodeFor returns the exit code of a command that ended with err: ExitOK for nil, the
// outcome's code for an *Error, ExitInterrupted for a canceled context and ExitFailure otherwise.
func ExitCodeFor(err error) ExitCode {
	if err == nil {
		return ExitOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.ExitCode()
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	return ExitFailure
}
