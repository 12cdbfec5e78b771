package ari_test

import (
	"context"
	"fmt"
	"testing"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard/ari"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// instantAst answers every request at once: what is left is call control's own work.
type instantAst struct{ originated chan string }

func (f *instantAst) Endpoint(context.Context, string) (ari.Endpoint, error) {
	return ari.Endpoint{State: "online"}, nil
}
func (f *instantAst) Originate(_ context.Context, r ari.OriginateRequest) error {
	f.originated <- r.ID
	return nil
}
func (f *instantAst) Ring(context.Context, string) error                        { return nil }
func (f *instantAst) Answer(context.Context, string) error                      { return nil }
func (f *instantAst) Hangup(context.Context, string, string) error              { return nil }
func (f *instantAst) SetVariable(context.Context, string, string, string) error { return nil }
func (f *instantAst) Continue(context.Context, string) error                    { return nil }
func (f *instantAst) CreateBridge(context.Context, string) error                { return nil }
func (f *instantAst) AddToBridge(context.Context, string, ...string) error      { return nil }
func (f *instantAst) DestroyBridge(context.Context, string) error               { return nil }
func (f *instantAst) AppState(context.Context) (ari.AppState, error)            { return ari.AppState{}, nil }
func (f *instantAst) ChannelExists(context.Context, string) (bool, error)       { return false, nil }

// BenchmarkCallSetup is the control plane's path from a caller's StasisStart to the callee leg
// being originated, with an Asterisk that answers instantly.
func BenchmarkCallSetup(b *testing.B) {
	ast := &instantAst{originated: make(chan string, 1)}
	app := &ari.App{Asterisk: ast, Users: directory{
		"1001": {Extension: "1001", Name: "Alice", RingTimeout: 20},
		"1002": {Extension: "1002", Name: "Bob", RingTimeout: 20, Voicemail: provisioning.Voicemail{Enabled: true, PIN: "1234"}},
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app.Start(ctx, mustClient(b))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprint("c", i)
		app.HandleEvent(&v5.StasisStart{Args: []string{"call", "1002"}, Channel: v5.ChannelData{ID: id, Name: "PJSIP/1001-" + id}})
		callee := <-ast.originated
		// End the call so that goroutines do not pile up.
		app.HandleEvent(&v5.ChannelHangupRequest{Channel: v5.ChannelData{ID: id}})
		_ = callee
	}
}
