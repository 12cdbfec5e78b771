//go:build integration

package softphone_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/softphone"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// The accounts of the message-waiting tests besides 7001, the caller. Asterisk tells 7101 of
// its mailbox unasked (the endpoint's mailboxes, as provisioning configures every user with
// voicemail) and 7102 only when it subscribes (the AOR's mailboxes).
const mwiEndpointsConf = `
[7101](switchboard-endpoint)
auth = 7101
aors = 7101
mailboxes = 7101@default
[7101](switchboard-auth)
username = 7101
password = secret-7101
[7101](switchboard-aor)

[7102](switchboard-endpoint)
auth = 7102
aors = 7102
[7102](switchboard-auth)
username = 7102
password = secret-7102
[7102](switchboard-aor)
mailboxes = 7102@default
`

func startMWIPBX(t *testing.T) *pbx {
	t.Helper()
	ast := testbed.StartAsterisk(t)
	ast.WriteConfig(t, "pjsip.conf", endpointsConf+mwiEndpointsConf, "res_pjsip.so")
	line := func(ext string) switchboard.User {
		return switchboard.User{Extension: ext, Name: "Test " + ext, RingTimeout: 15,
			Voicemail: switchboard.Mailbox{Enabled: true, PIN: pin}, Calls: switchboard.DefaultCallSettings()}
	}
	ast.WriteUsers(t, []switchboard.User{line("7001"), line("7101"), line("7102")})
	return &pbx{Asterisk: ast, server: net.JoinHostPort("127.0.0.1", strconv.Itoa(ast.SIPPort))}
}

// nextMWI waits for the next message summary that satisfies ok.
func nextMWI(t *testing.T, ctx context.Context, events <-chan softphone.Event, ok func(softphone.MWI) bool) softphone.MWI {
	t.Helper()
	for {
		e := waitEvent(t, ctx, events, softphone.EventMWI)
		if ok(*e.MWI) {
			return *e.MWI
		}
	}
}

// TestMessageWaiting proves RFC 3842 against Asterisk: a registered phone hears of its mailbox
// unasked, out of any dialog; a phone that subscribes hears within its subscription, and a
// message left by voice lights its lamp.
func TestMessageWaiting(t *testing.T) {
	ast := startMWIPBX(t)

	t.Run("Unsolicited", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		events := make(chan softphone.Event, 64)
		ph := ast.phone(t, "7101", "udp", events)
		regCtx, stopReg := context.WithCancel(ctx)
		regDone := make(chan error, 1)
		go func() { regDone <- ph.Register(regCtx, softphone.RegisterOptions{}) }()
		// Asterisk sends the NOTIFY as the contact is added, which may be before the phone has
		// the 200 to its REGISTER: wait for both, in either order.
		var m *softphone.MWI
		for registered := false; m == nil || !registered; {
			select {
			case e := <-events:
				switch {
				case e.Kind == softphone.EventRegistered:
					registered = true
				case e.Kind == softphone.EventMWI && m == nil:
					m = e.MWI
				}
			case <-ctx.Done():
				t.Fatalf("registered and a first summary: %v", ctx.Err())
			}
		}
		if m.Subscription || m.Waiting || m.New != 0 {
			t.Errorf("first summary %+v, want an unsolicited empty mailbox", m)
		}
		// The AOR has no mailboxes: Asterisk refuses the subscription.
		sub, err := ph.SubscribeMWI(ctx, time.Minute)
		var e *softphone.Error
		if !errors.As(err, &e) || e.Status != 404 || e.Outcome != softphone.OutcomeNotFound {
			t.Errorf("subscribe: %v, %v; want SIP 404", sub, err)
		}
		stopReg()
		if err := <-regDone; err != nil {
			t.Errorf("register: %v", err)
		}
	})

	t.Run("SubscribedTCP", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		events := make(chan softphone.Event, 64)
		ph := ast.phone(t, "7102", "tcp", events)
		sub, err := ph.SubscribeMWI(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if m := nextMWI(t, ctx, events, func(softphone.MWI) bool { return true }); !m.Subscription || m.Waiting {
			t.Errorf("first summary %+v, want an empty mailbox within the subscription", m)
		}
		if err := sub.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})

	t.Run("MessageLightsTheLamp", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		events := make(chan softphone.Event, 64)
		owner := ast.phone(t, "7102", "udp", events)
		sub, err := owner.SubscribeMWI(ctx, 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if m := nextMWI(t, ctx, events, func(softphone.MWI) bool { return true }); !m.Subscription || m.Waiting {
			t.Errorf("first summary %+v, want an empty mailbox within the subscription", m)
		}
		// 7102 is not registered: the call goes to voicemail. The greeting takes about 12 s,
		// the tone after it is the message.
		caller := ast.phone(t, "7001", "udp", nil)
		rep, err := caller.Call(ctx, "7102", softphone.CallOptions{MediaOptions: softphone.MediaOptions{
			Tone: 1000, Duration: 18 * time.Second,
		}})
		logReport(t, "caller", rep)
		if err != nil {
			t.Fatalf("call to voicemail: %v", err)
		}
		m := nextMWI(t, ctx, events, func(m softphone.MWI) bool { return m.Waiting })
		if !m.Subscription || m.New != 1 || m.Old != 0 {
			t.Errorf("summary after the message %+v, want 1 new within the subscription", m)
		}
		if last, ok := owner.LastMWI(); !ok || last != m {
			t.Errorf("LastMWI %+v, %v; want %+v", last, ok, m)
		}
		if err := sub.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
}
