// Package fastagi serves the FastAGI helpers the dialplan runs on the voicemail path
// (github.com/CyCoreSystems/agi), the way Wazo does: decisions read from PostgreSQL at call
// time and outcomes recorded as they happen.
//
//	AGI(agi://host:port/voicemail,EXT,REASON)   sets SB_VM_ACTION: voicemail, or announce when
//	                                            the user has no mailbox (disabled or deleted)
//	AGI(agi://host:port/feature,ENDPOINT,FEATURE,VALUE)   a feature code (*72, *78...): changes
//	                                            the caller's own settings, sets SB_FEATURE_PROMPT;
//	                                            queue-toggle (*45) logs the caller in to or out
//	                                            of their call queues
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
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/records"
)

// Server answers FastAGI requests.
type Server struct {
	Users switchboard.UserDirectory
	// Features changes call settings for the feature codes; nil refuses them.
	Features FeatureService
	// Queues logs agents in to and out of their call queues for *45; nil refuses it.
	Queues  QueueAgents
	Records *records.Writer
	// Shared, when set, tells the mailboxes of ring groups and call queues (nil: users' only).
	Shared SharedMailboxes
	// Mail, when set, is told of every caller about to leave a message (it mails new messages).
	Mail   MailboxWatcher
	Logger *slog.Logger
	// Timeout bounds one session (default 10 s): a stuck channel never holds a connection.
	Timeout time.Duration
}

// SharedMailboxes tells whether a number that is no user's is a group's or queue's own
// mailbox (provisioning.SharedMailboxes).
type SharedMailboxes interface {
	Has(ctx context.Context, number string) (bool, error)
}

// MailboxWatcher looks out for the message a caller is about to leave (voicemail.Notifier).
type MailboxWatcher interface {
	Watch(mailbox string)
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
	case "feature":
		err = s.feature(ctx, a, args[0], args[1], a.Variables["agi_arg_3"])
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
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND && s.Shared != nil {
		// Not a user's: a ring group's or call queue's own mailbox, if it has one.
		var shared bool
		if shared, err = s.Shared.Has(ctx, ext); err == nil && !shared {
			err = switchboard.Errorf(switchboard.ENOTFOUND, "no mailbox %s", ext)
		}
		u = switchboard.User{Extension: ext, Voicemail: switchboard.Mailbox{Enabled: true}}
	}
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
	} else if s.Mail != nil {
		s.Mail.Watch(ext)
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

// FeatureService changes a user's call settings (provisioning.Service).
type FeatureService interface {
	SetCallSettings(ctx context.Context, ext string, p provisioning.CallSettingsPatch) (switchboard.User, error)
}

// feature carries out a feature code for endpoint, the authenticated caller (the dialplan
// passes ${CHANNEL(endpoint)}, never a caller ID): only their own settings change. It sets
// SB_FEATURE_PROMPT to what confirms it, or to "invalid" for a number that cannot be a forward's.
func (s *Server) feature(ctx context.Context, a *agi.AGI, endpoint, feature, value string) error {
	if feature == "queue-toggle" {
		return s.queueToggle(ctx, a, endpoint)
	}
	if s.Features == nil {
		return errors.New("feature codes are not served")
	}
	var p provisioning.CallSettingsPatch
	on, off := true, false
	prompt := ""
	forward := func(name string) *provisioning.ForwardPatch {
		if value == "" {
			prompt = name + "&de-activated"
			return &provisioning.ForwardPatch{Enabled: &off}
		}
		prompt = name + "&activated"
		return &provisioning.ForwardPatch{Enabled: &on, Destination: &value}
	}
	switch feature {
	case "forward-unconditional":
		p.Unconditional = forward("call-fwd-unconditional")
	case "forward-busy":
		p.Busy = forward("call-fwd-on-busy")
	case "forward-no-answer":
		p.NoAnswer = forward("call-fwd-no-ans")
	case "dnd", "call-waiting":
		state := map[string]*bool{"on": &on, "off": &off}[value]
		if state == nil {
			return fmt.Errorf("feature %s: value %q is not on or off", feature, value)
		}
		prompt = "do-not-disturb"
		if feature == "dnd" {
			p.DND = state
		} else {
			prompt, p.CallWaiting = "call-waiting", state
		}
		prompt += map[bool]string{true: "&activated", false: "&de-activated"}[*state]
	default:
		return fmt.Errorf("unknown feature %q", feature)
	}
	if _, err := s.Features.SetCallSettings(ctx, endpoint, p); err != nil {
		if switchboard.ErrorCode(err) != switchboard.EINVALID {
			return fmt.Errorf("feature %s of %s: %w", feature, endpoint, err)
		}
		s.Logger.Info("feature code refused", "endpoint", endpoint, "feature", feature, "error", switchboard.ErrorMessage(err))
		prompt = "invalid"
	} else {
		s.Logger.Info("feature code", "endpoint", endpoint, "feature", feature, "value", value)
	}
	if err := a.Set("SB_FEATURE_PROMPT", prompt); err != nil {
		return fmt.Errorf("set SB_FEATURE_PROMPT: %w", err)
	}
	return nil
}

// QueueAgents logs a user in to or out of every call queue they are an agent of
// (provisioning.QueueService).
type QueueAgents interface {
	// ToggleAgent logs ext out of all their queues when they are logged in to any, else in to
	// all of them, and says whether they are logged in now; ENOTFOUND when ext is no agent.
	ToggleAgent(ctx context.Context, ext string) (bool, error)
}

// queueToggle is *45 for endpoint, the authenticated caller (never a caller ID, as for the
// other features): only their own logins change. It sets SB_FEATURE_PROMPT to the core sound
// that says they are logged in or out, or to the one that says the feature is not available
// on their line when they are an agent of no queue.
func (s *Server) queueToggle(ctx context.Context, a *agi.AGI, endpoint string) error {
	if s.Queues == nil {
		return errors.New("queue logins are not served")
	}
	prompt := "agent-loggedoff"
	in, err := s.Queues.ToggleAgent(ctx, endpoint)
	switch code := switchboard.ErrorCode(err); {
	case err == nil:
		if in {
			prompt = "agent-loginok"
		}
		s.Logger.Info("feature code", "endpoint", endpoint, "feature", "queue-toggle", "logged_in", in)
	case code == switchboard.ENOTFOUND || code == switchboard.EINVALID:
		s.Logger.Info("feature code refused", "endpoint", endpoint, "feature", "queue-toggle", "error", switchboard.ErrorMessage(err))
		prompt = "feature-not-avail-line"
	default:
		return fmt.Errorf("feature queue-toggle of %s: %w", endpoint, err)
	}
	if err := a.Set("SB_FEATURE_PROMPT", prompt); err != nil {
		return fmt.Errorf("set SB_FEATURE_PROMPT: %w", err)
	}
	return nil
}
