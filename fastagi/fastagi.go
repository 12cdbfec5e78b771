// Package fastagi serves the FastAGI helpers the dialplan runs on the voicemail path
// (github.com/CyCoreSystems/agi), the way Wazo does: decisions read from PostgreSQL at call
// time and outcomes recorded as they happen.
//
//	AGI(agi://host:port/voicemail,EXT,REASON)   sets SB_VM_ACTION: voicemail, or announce when
//	                                            the user has no mailbox (disabled or deleted)
//
// The end of a call that went to voicemail is recorded by call control, which keeps watching
// the caller's channel after handing it to the dialplan.
//
// When the server is unreachable AGI() fails, SB_VM_ACTION keeps its default and callers
// still reach VoiceMail(): the helpers only add, never gate.
package fastagi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/CyCoreSystems/agi"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/records"
)

// Server answers FastAGI requests.
type Server struct {
	Users   switchboard.UserDirectory
	Records *records.Writer
	Logger  *slog.Logger
	// Timeout bounds one session (default 10 s): a stuck channel never holds a connection.
	Timeout time.Duration
}

// Serve accepts sessions on l until ctx ends.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Timeout == 0 {
		s.Timeout = 10 * time.Second
	}
	go func() { <-ctx.Done(); l.Close() }()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept FastAGI: %w", err)
		}
		wg.Go(func() { s.session(ctx, conn) })
	}
}

func (s *Server) session(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(s.Timeout))
	a := agi.NewConn(conn)
	script := strings.Trim(a.Variables["agi_network_script"], "/")
	channel := a.Variables["agi_uniqueid"]
	args := []string{a.Variables["agi_arg_1"], a.Variables["agi_arg_2"]}
	log := s.Logger.With("script", script, "caller_channel", channel, "args", args)
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	var err error
	switch script {
	case "voicemail":
		err = s.voicemail(ctx, a, channel, args[0], args[1])
	default:
		err = fmt.Errorf("unknown FastAGI script %q", script)
	}
	if err != nil {
		log.Warn("FastAGI session", "error", err)
		return
	}
	log.Debug("FastAGI session done")
}

// voicemail decides whether the caller may leave a message and records the outcome.
func (s *Server) voicemail(ctx context.Context, a *agi.AGI, channel, ext, reason string) error {
	action, outcome := "voicemail", switchboard.Voicemail
	u, err := s.Users.User(ctx, ext)
	switch {
	case switchboard.ErrorCode(err) == switchboard.ENOTFOUND || (err == nil && !u.Voicemail.Enabled):
		action, outcome = "announce", switchboard.Missed
	case err != nil:
		// Unknown state: let the dialplan's default (VoiceMail) stand.
		return fmt.Errorf("look up %s: %w", ext, err)
	}
	if err := a.Set("SB_VM_ACTION", action); err != nil {
		return fmt.Errorf("set SB_VM_ACTION: %w", err)
	}
	change := switchboard.CallChange{Outcome: outcome}
	if outcome == switchboard.Missed {
		change.Reason = switchboard.ReasonVoicemailOff
	}
	s.record(ctx, channel, change)
	return nil
}

// record notes what voicemail made of the call whose caller channel is channel.
func (s *Server) record(ctx context.Context, channel string, change switchboard.CallChange) {
	if s.Records == nil || channel == "" {
		return
	}
	id, err := s.Records.CallOfChannel(ctx, channel)
	if err != nil {
		// Calls placed while call control was away have no record; nothing to amend.
		s.Logger.Debug("no call record to amend", "caller_channel", channel, "error", err)
		return
	}
	change.ID = id
	s.Records.Record(change)
}
