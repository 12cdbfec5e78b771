//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/softphone"
)

// openPhone opens a softphone for ext on the stack's Asterisk.
func openPhone(t *testing.T, s *Stack, ext, password, transport string) *softphone.Phone {
	t.Helper()
	return openPhoneAt(t, s.SIPServer(), ext, password, transport, nil)
}

// openPhoneAt opens a softphone for ext on a SIP server; onEvent, when not nil, hears what the
// phone does.
func openPhoneAt(t *testing.T, server, ext, password, transport string, onEvent func(softphone.Event)) *softphone.Phone {
	t.Helper()
	p, err := softphone.Open(context.Background(), softphone.Options{
		Server: server, Username: ext, Password: password, Transport: transport, OnEvent: onEvent})
	if err != nil {
		t.Fatalf("open softphone %s: %v", ext, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// answerer is a phone taking calls in the background.
type answerer struct {
	ext     string
	invites atomic.Int32 // INVITEs received: one per call, or a phone rang twice
	cancel  context.CancelFunc
	done    chan struct{}
	reports []*softphone.Report
	err     error
}

// startAnswering registers ext and answers calls as opts say until the test ends or Stop; it
// returns once Asterisk sees the phone reachable.
func startAnswering(t *testing.T, s *Stack, ext, password, transport string, opts softphone.AnswerOptions) *answerer {
	t.Helper()
	waitEndpoint(t, s, ext)
	ctx, cancel := context.WithCancel(context.Background())
	a := &answerer{ext: ext, cancel: cancel, done: make(chan struct{})}
	p := openPhoneAt(t, s.SIPServer(), ext, password, transport, func(e softphone.Event) {
		if e.Kind == softphone.EventIncoming {
			a.invites.Add(1)
		}
	})
	go func() {
		defer close(a.done)
		a.reports, a.err = p.Answer(ctx, opts)
	}()
	t.Cleanup(func() { a.Stop(t) })
	waitReachable(t, s, ext)
	return a
}

// waitReachable waits until Asterisk has a reachable contact for ext (registered and
// answering qualify), asking Asterisk itself: it works while the control plane is down.
func waitReachable(t *testing.T, s *Stack, ext string) {
	t.Helper()
	eventually(t, 20*time.Second, ext+" reachable", func() error {
		out := s.Asterisk.MustCLI(t, "pjsip show contacts")
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "Contact:  "+ext+"/") && strings.Contains(line, "Avail") {
				return nil
			}
		}
		return fmt.Errorf("no reachable contact for %s", ext)
	})
}

// Wait waits until the answerer returns (it took opts.Calls calls) and returns its reports.
func (a *answerer) Wait(t *testing.T) []*softphone.Report {
	t.Helper()
	select {
	case <-a.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("phone %s never finished answering", a.ext)
	}
	if a.err != nil {
		t.Fatalf("phone %s: %v", a.ext, a.err)
	}
	return a.reports
}

// Stop unregisters the phone and waits for it.
func (a *answerer) Stop(t *testing.T) {
	a.cancel()
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		t.Errorf("phone %s did not stop", a.ext)
	}
}

func waitPresence(t *testing.T, s *Stack, ext, want string) {
	t.Helper()
	eventually(t, 20*time.Second, ext+" "+want, func() error {
		p, err := s.API.Presence(ctxT(t, 10*time.Second), ext)
		if err != nil {
			return err
		}
		if p.State != want {
			return fmt.Errorf("state %s (endpoint %s, device %s)", p.State, p.EndpointState, p.DeviceState)
		}
		return nil
	})
}

// waitNoChannels waits until Asterisk has no channel and no Switchboard bridge left: nothing
// orphaned.
func waitNoChannels(t *testing.T, s *Stack) {
	t.Helper()
	eventually(t, 20*time.Second, "no channels or bridges left", func() error {
		ch := s.Asterisk.MustCLI(t, "core show channels count")
		if !strings.Contains(ch, "0 active channels") {
			return fmt.Errorf("channels: %s", strings.TrimSpace(ch))
		}
		if br := s.Asterisk.MustCLI(t, "bridge show all"); strings.Contains(br, "sb-") {
			return fmt.Errorf("bridges:\n%s", br)
		}
		return nil
	})
}

// waitCall waits until the call record with the given callee started after since has ended,
// and returns it.
func waitCall(t *testing.T, s *Stack, callee string, since time.Time) api.Call {
	t.Helper()
	var found api.Call
	eventually(t, 30*time.Second, "call record to "+callee, func() error {
		l, err := s.API.Calls(ctxT(t, 10*time.Second), api.CallQuery{User: callee, From: since.Add(-time.Second), Limit: 10})
		if err != nil {
			return err
		}
		for _, c := range l.Calls {
			if c.Callee == callee && !c.Active {
				found = c
				return nil
			}
		}
		return fmt.Errorf("no ended call to %s yet: %+v", callee, l.Calls)
	})
	return found
}

// call places a call from a new phone and returns its report.
func call(t *testing.T, s *Stack, from, password, transport, to string, opts softphone.CallOptions) *softphone.Report {
	t.Helper()
	p := openPhone(t, s, from, password, transport)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := p.Call(ctx, to, opts)
	if r == nil {
		t.Fatalf("call %s → %s: no report: %v", from, to, err)
	}
	return r
}
