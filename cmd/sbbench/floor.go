package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard/ari"
)

// floor is the smallest ARI program that does call control's job for a call, the floor of
// what any ARI call control can cost on this Asterisk: one Stasis application; the caller
// comes in, the callee is originated and put in a mixing bridge with the caller before it is
// dialled (so that its ringing and its answer reach the caller through the bridge, as with
// call control), and either party's end ends the other. No database, no call records, no
// presence, no routing, no hang-up handlers. It uses the same ARI client as call control
// (connection, event stream and event filter), so that the difference between the two is
// what call control does, not how it talks to Asterisk.
//
// The dialplan sends floorPrefix<extension> to it (see siteDialplan).
type floor struct {
	client *ari.Client
	ctx    context.Context

	mu      sync.Mutex
	peer    map[string]string        // channel → the other party's channel
	bridge  map[string]string        // channel → the call's bridge
	entered map[string]chan struct{} // callee channels not yet in the application

	calls, failures atomic.Int64
}

const floorApp = "sbbench-floor"

// startFloor connects the floor application; it runs until ctx ends.
func startFloor(ctx context.Context) (*floor, error) {
	client, err := ari.NewClient(ari.Config{URL: os.Getenv("ARI_URL"), Username: "switchboard",
		Password: os.Getenv("ARI_PASSWORD"), App: floorApp, Logger: slog.Default()})
	if err != nil {
		return nil, fmt.Errorf("floor application: %w", err)
	}
	f := &floor{client: client, ctx: ctx, peer: map[string]string{}, bridge: map[string]string{},
		entered: map[string]chan struct{}{}}
	ready := make(chan error, 1)
	client.OnConnect(func(ctx context.Context) {
		select {
		case ready <- client.FilterEvents(ctx):
		default:
		}
	})
	client.OnEvent(f.event)
	go client.Run(ctx)
	select {
	case err := <-ready:
		if err != nil {
			return nil, fmt.Errorf("floor application: %w", err)
		}
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("floor application: no ARI event connection within 10 s")
	}
	return f, nil
}

// event runs on the client's dispatcher: it never blocks.
func (f *floor) event(e v5.Event) {
	switch e := e.(type) {
	case *v5.StasisStart:
		id := e.Channel.ID
		if len(e.Args) == 1 && e.Args[0] == "callee" {
			f.mu.Lock()
			if c, ok := f.entered[id]; ok {
				close(c)
				delete(f.entered, id)
			}
			f.mu.Unlock()
			return
		}
		if len(e.Args) != 1 {
			return
		}
		go f.call(id, e.Args[0])
	case *v5.StasisEnd:
		f.end(e.Channel.ID)
	}
}

// call connects caller to the extension.
func (f *floor) call(caller, ext string) {
	f.calls.Add(1)
	ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
	defer cancel()
	callee, bridge := caller+"-floor", "floor-"+caller
	entered := make(chan struct{})
	f.mu.Lock()
	f.peer[caller], f.peer[callee] = callee, caller
	f.bridge[caller], f.bridge[callee] = bridge, bridge
	f.entered[callee] = entered
	f.mu.Unlock()

	made := make(chan error, 1)
	go func() { made <- f.client.CreateBridge(ctx, bridge) }()
	_, err := f.client.CreateChannel(ctx, ari.ChannelRequest{ID: callee, Endpoint: "PJSIP/" + ext,
		AppArgs: "callee", Originator: caller})
	if bridgeErr := <-made; err == nil {
		err = bridgeErr
	}
	if err == nil {
		select {
		case <-entered:
		case <-ctx.Done():
			err = fmt.Errorf("callee %s never entered the application", callee)
		}
	}
	if err == nil {
		err = f.client.AddToBridge(ctx, bridge, caller, callee)
	}
	if err == nil {
		err = f.client.Dial(ctx, callee, caller, 20*time.Second)
	}
	if err != nil {
		f.failures.Add(1)
		slog.Warn("floor call failed", "caller_channel", caller, "error", err)
		f.client.Hangup(ctx, caller, "normal")
	}
}

// end hangs up the other party of a channel that left and, with the second, the bridge.
func (f *floor) end(id string) {
	f.mu.Lock()
	other, bridge := f.peer[id], f.bridge[id]
	delete(f.peer, id)
	delete(f.bridge, id)
	delete(f.entered, id)
	_, otherIn := f.peer[other] // the other party has not left yet
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	go func() {
		defer cancel()
		if otherIn {
			f.client.Hangup(ctx, other, "normal")
			return
		}
		if bridge != "" {
			f.client.DestroyBridge(ctx, bridge)
		}
	}()
}
