package ari

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"
	"github.com/google/uuid"

	"github.com/switchboard-pbx/switchboard"
)

// App is the Stasis application: every call to a provisioned extension enters it (see
// asterisk/extensions.conf) and it decides what happens. Each call runs in its own goroutine;
// events reach it through an unbounded mailbox, so a slow call never delays another.
type App struct {
	Asterisk Asterisk
	Users    UserDirectory
	Recorder *Recorder
	Logger   *slog.Logger
	Metrics  *Metrics
	// RingGrace is how long past the callee's ring timeout call control waits for Asterisk's
	// own dial timeout before hanging up the callee itself (default 3 s).
	RingGrace time.Duration

	once     sync.Once
	mu       sync.Mutex
	calls    map[string]*call // by call ID
	channels map[string]*call // by caller and callee channel ID
	ctx      context.Context
	wg       sync.WaitGroup
}

func (a *App) init() {
	a.once.Do(func() {
		a.calls = map[string]*call{}
		a.channels = map[string]*call{}
		if a.Logger == nil {
			a.Logger = slog.New(slog.DiscardHandler)
		}
		if a.Metrics == nil {
			a.Metrics = NewMetrics(nil)
		}
		if a.RingGrace == 0 {
			a.RingGrace = 3 * time.Second
		}
		if a.ctx == nil {
			a.ctx = context.Background()
		}
	})
}

// Start binds the application to a client: events go to HandleEvent and every (re)connection
// reconciles with what Asterisk holds. Calls stop being handled when ctx ends.
func (a *App) Start(ctx context.Context, c *Client) {
	a.ctx = ctx
	a.init()
	c.OnEvent(a.HandleEvent)
	c.OnConnect(func(ctx context.Context) {
		if err := c.FilterEvents(ctx); err != nil {
			a.Logger.Warn("set ARI event filter (all events will be sent)", "error", err)
		}
		if err := a.Reconcile(ctx); err != nil {
			a.Logger.Warn("reconcile after connect", "error", err)
		}
	})
}

// Wait waits until every call goroutine has finished.
func (a *App) Wait() { a.wg.Wait() }

// HandleEvent routes one ARI event: a new call starts a goroutine; anything about a known
// channel goes to its call's mailbox; the rest is ignored.
func (a *App) HandleEvent(e v5.Event) {
	a.init()
	if st, ok := e.(*v5.StasisStart); ok && len(st.Args) >= 2 && st.Args[0] == "call" {
		a.startCall(st)
		return
	}
	id := eventChannel(e)
	if id == "" {
		return
	}
	a.mu.Lock()
	c := a.channels[id]
	a.mu.Unlock()
	if c != nil {
		c.mailbox.push(e)
	}
}

// eventChannel returns the channel an event is about.
func eventChannel(e v5.Event) string {
	switch e := e.(type) {
	case *v5.StasisStart:
		return e.Channel.ID
	case *v5.StasisEnd:
		return e.Channel.ID
	case *v5.ChannelStateChange:
		return e.Channel.ID
	case *v5.ChannelDestroyed:
		return e.Channel.ID
	case *v5.ChannelHangupRequest:
		return e.Channel.ID
	case *v5.Dial:
		return e.Peer.ID
	case *v5.ChannelLeftBridge:
		return e.Channel.ID
	}
	return ""
}

func (a *App) startCall(st *v5.StasisStart) {
	c := &call{
		app:        a,
		id:         uuid.NewString(),
		callee:     st.Args[1],
		callerCh:   st.Channel.ID,
		callerName: st.Channel.Name,
		caller:     endpointOf(st.Channel.Name),
		started:    time.Now(),
		mailbox:    newMailbox(),
		cancelled:  make(chan struct{}),
	}
	if c.caller == "" {
		c.caller = st.Channel.Caller.Number
	}
	c.log = a.Logger.With("call_id", c.id, "caller", c.caller, "callee", c.callee, "caller_channel", c.callerCh)
	a.mu.Lock()
	a.calls[c.id] = c
	a.channels[c.callerCh] = c
	a.mu.Unlock()
	a.Metrics.active.Inc()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer a.forget(c)
		c.run(a.ctx)
	}()
}

// endpointOf returns the endpoint of a channel name: "PJSIP/1001-0000002a" → "1001".
func endpointOf(name string) string {
	rest, ok := strings.CutPrefix(name, "PJSIP/")
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		return rest[:i]
	}
	return rest
}

func (a *App) track(c *call, channelID string) {
	a.mu.Lock()
	a.channels[channelID] = c
	a.mu.Unlock()
}

func (a *App) forget(c *call) {
	a.mu.Lock()
	delete(a.calls, c.id)
	delete(a.channels, c.callerCh)
	if c.calleeCh != "" {
		delete(a.channels, c.calleeCh)
	}
	a.mu.Unlock()
	a.Metrics.active.Dec()
}

// ActiveCalls returns the records of the calls in progress.
func (a *App) ActiveCalls() []CallRecord {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]CallRecord, 0, len(a.calls))
	for _, c := range a.calls {
		out = append(out, c.snapshot())
	}
	return out
}

// Hangup ends a call in progress (DELETE /api/v1/calls/{id}); ENOTFOUND when no such call is
// in progress.
func (a *App) Hangup(ctx context.Context, id string) error {
	a.init()
	a.mu.Lock()
	c := a.calls[id]
	a.mu.Unlock()
	if c == nil {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no call %s in progress", id)
	}
	c.adminHangup()
	return nil
}

// Reconcile brings call control in line with what Asterisk holds after a (re)connection: it
// ends bridges of ours that lost a party, hangs up callee legs nobody drives any more, and
// hands callers that were mid-setup back to the dialplan, which dials the callee itself. Calls
// whose two parties are still bridged are left alone: they keep their audio, and the hangup
// handlers set on both legs end the call when either party hangs up.
func (a *App) Reconcile(ctx context.Context) error {
	a.init()
	st, err := a.Asterisk.AppState(ctx)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	bridged := map[string]bool{}
	for _, b := range st.Bridges {
		if len(b.Channels) >= 2 {
			for _, ch := range b.Channels {
				bridged[ch] = true
			}
			a.adopt(ctx, b)
			continue
		}
		a.Logger.Info("reconcile: ending a bridge that lost a party", "bridge", b.ID, "channels", b.Channels)
		for _, ch := range b.Channels {
			a.Asterisk.Hangup(ctx, ch, "normal")
		}
		a.Asterisk.DestroyBridge(ctx, b.ID)
	}
	for _, ch := range st.Channels {
		a.mu.Lock()
		owned := a.channels[ch.ID] != nil
		a.mu.Unlock()
		if owned || bridged[ch.ID] {
			continue
		}
		if strings.HasSuffix(ch.ID, calleeSuffix) {
			a.Logger.Info("reconcile: hanging up an orphaned callee leg", "channel", ch.ID, "name", ch.Name)
			a.Asterisk.Hangup(ctx, ch.ID, "normal")
			continue
		}
		a.Logger.Info("reconcile: handing an orphaned caller back to the dialplan", "channel", ch.ID, "name", ch.Name)
		if err := a.Asterisk.SetVariable(ctx, ch.ID, "SB_NEXT", "dial"); err == nil {
			a.Asterisk.Continue(ctx, ch.ID)
		}
	}
	return a.closeStaleRecords(ctx)
}

// adopt watches a call that was bridged before a restart, so that its end is recorded and its
// other leg hung up even if the hangup handlers already fired on one side.
func (a *App) adopt(ctx context.Context, b BridgeState) {
	if a.Recorder == nil {
		return
	}
	a.mu.Lock()
	for _, ch := range b.Channels {
		if a.channels[ch] != nil {
			a.mu.Unlock()
			return // already ours
		}
	}
	a.mu.Unlock()
	var rec CallRecord
	found := false
	for _, ch := range b.Channels {
		if r, err := a.Recorder.Store.CallByChannel(ctx, ch); err == nil && r.Active() {
			rec, found = r, true
			break
		}
	}
	if !found {
		return
	}
	c := &call{
		app: a, id: rec.ID, caller: rec.Caller, callee: rec.Callee, callerCh: rec.CallerChannel,
		calleeCh: rec.CalleeChannel, bridge: b.ID, started: rec.StartedAt, answered: rec.AnsweredAt,
		outcome: rec.Outcome, reason: rec.Reason, mailbox: newMailbox(), cancelled: make(chan struct{}),
		ringed: closedChan,
	}
	c.log = a.Logger.With("call_id", c.id, "caller", c.caller, "callee", c.callee, "caller_channel", c.callerCh)
	c.log.Info("reconcile: adopted a bridged call", "bridge", b.ID)
	a.mu.Lock()
	a.calls[c.id] = c
	a.channels[c.callerCh] = c
	a.channels[c.calleeCh] = c
	a.mu.Unlock()
	a.Metrics.active.Inc()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer a.forget(c)
		defer a.Asterisk.DestroyBridge(context.WithoutCancel(a.ctx), b.ID)
		// A leg may have left while nobody listened: check before waiting for events.
		for _, ch := range []string{c.callerCh, c.calleeCh} {
			if ok, err := a.Asterisk.ChannelExists(a.ctx, ch); err == nil && !ok {
				c.mailbox.push(&v5.ChannelDestroyed{Channel: v5.ChannelData{ID: ch}})
			}
		}
		c.waitBridged(a.ctx)
	}()
}

// closeStaleRecords ends the records of calls that ended while nobody was watching (the control
// plane was down as the caller hung up in voicemail, or as a bridged call ended).
func (a *App) closeStaleRecords(ctx context.Context) error {
	if a.Recorder == nil {
		return nil
	}
	page, err := a.Recorder.Store.Calls(ctx, CallFilter{Active: true, Limit: 1000})
	if err != nil {
		return fmt.Errorf("reconcile records: %w", err)
	}
	for _, r := range page.Calls {
		a.mu.Lock()
		owned := a.calls[r.ID] != nil
		a.mu.Unlock()
		if owned {
			continue
		}
		exists, err := a.Asterisk.ChannelExists(ctx, r.CallerChannel)
		if err != nil || exists {
			continue
		}
		a.Logger.Info("reconcile: closing the record of a call that ended meanwhile", "call_id", r.ID)
		a.Recorder.Amend(ctx, r.CallerChannel, func(r *CallRecord) {
			if r.EndedAt.IsZero() {
				r.EndedAt = time.Now()
			}
			if r.Outcome == "" {
				r.Outcome = Failed
			}
		})
	}
	return nil
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// mailbox is an unbounded FIFO of events for one call.
type mailbox struct {
	mu    sync.Mutex
	items []v5.Event
	ready chan struct{}
}

func newMailbox() *mailbox { return &mailbox{ready: make(chan struct{}, 1)} }

func (m *mailbox) push(e v5.Event) {
	m.mu.Lock()
	m.items = append(m.items, e)
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default:
	}
}

// next returns the next event, or nil when the mailbox is empty.
func (m *mailbox) next() v5.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.items) == 0 {
		return nil
	}
	e := m.items[0]
	m.items[0] = nil
	m.items = m.items[1:]
	return e
}
