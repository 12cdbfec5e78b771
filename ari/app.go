package ari

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"
	"github.com/google/uuid"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/records"
)

// App is the Stasis application: every call to a provisioned extension enters it (see
// asterisk/extensions.conf) and it decides what happens. Each call runs in its own goroutine;
// events reach it through an unbounded mailbox, so a slow call never delays another.
//
// What the App owns lives in Asterisk, not in its memory: bridges and callee legs are named
// after the call (BridgePrefix+ID, ID+LegMark), so that after a restart or a lost connection
// NumberPlan tells what has a number: "room", "queue", "group", "user", or "" for nothing.
type NumberPlan interface {
	NumberKind(ctx context.Context, number string) (string, error)
}

// Reconcile rebuilds every call from what Asterisk holds. Stopping the App leaves every call to
// Asterisk exactly as it is.
type App struct {
	Asterisk Asterisk
	// AppName is the Stasis application's name (default "switchboard"): reconciliation takes
	// over only channels in this application.
	AppName string
	Users   switchboard.UserDirectory
	// Rooms and Groups tell which numbers are conference rooms and ring groups (nil: none).
	Rooms  switchboard.RoomDirectory
	Groups switchboard.GroupDirectory
	Queues switchboard.QueueDirectory
	// Numbers, when set, says what a number no user has is (one question instead of asking
	// the rooms, queues and groups in turn).
	Numbers NumberPlan
	// Outside knows the trunks, outbound routes and inbound numbers (nil: calls neither leave
	// nor enter).
	Outside OutsideWorld
	Records *records.Writer
	Logger  *slog.Logger
	Metrics *Metrics
	// RingGrace is how long past the callee's ring timeout call control waits for Asterisk's
	// own dial timeout before hanging up the callee itself (default 3 s).
	RingGrace time.Duration
	// Reconnect, when set, is asked for when Asterisk stops answering in the middle of a call:
	// the new connection's reconciliation then takes the call over from what Asterisk holds.
	Reconnect func()
	// Connected, when set, reports whether events are flowing; call control takes no decision
	// on a timer while they are not (the answer it waits for may be in the lost events).
	Connected func() bool

	once     sync.Once
	mu       sync.Mutex
	calls    map[string]*call // by call ID
	channels map[string]*call // by every channel a call owns (caller, legs)
	rooms    map[string]*room // by number: the rooms people have been in
	queues   map[string]*queueState
	ctx      context.Context
	wg       sync.WaitGroup
}

func (a *App) init() {
	a.once.Do(func() {
		a.calls = map[string]*call{}
		a.channels = map[string]*call{}
		a.rooms = map[string]*room{}
		a.queues = map[string]*queueState{}
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
		if a.Connected == nil {
			a.Connected = func() bool { return true }
		}
	})
}

// EventSource is the connection call control listens on: *Client, or a fake in tests.
type EventSource interface {
	App() string
	OnEvent(func(v5.Event))
	OnConnect(func(ctx context.Context))
	Connected() bool
	Reconnect()
	FilterEvents(ctx context.Context) error
}

var _ EventSource = (*Client)(nil)

// Start binds the application to its event source: events go to HandleEvent, every
// (re)connection renews the control plane's lease and reconciles with what Asterisk holds.
// When ctx ends, calls stop being driven and are left to Asterisk as they are.
func (a *App) Start(ctx context.Context, src EventSource) {
	a.ctx = ctx
	a.AppName = src.App()
	a.Reconnect = src.Reconnect
	a.Connected = src.Connected
	a.init()
	src.OnEvent(a.HandleEvent)
	lease := &Lease{Asterisk: a.Asterisk, Connected: src.Connected, Logger: a.Logger}
	src.OnConnect(func(ctx context.Context) {
		if err := src.FilterEvents(ctx); err != nil {
			a.Logger.Warn("set ARI event filter (all events will be sent)", "error", err)
		}
		if err := lease.Renew(ctx); err != nil {
			a.Logger.Warn("renew lease", "error", err)
		}
		if err := a.Reconcile(ctx); err != nil {
			a.Logger.Warn("reconcile after connect", "error", err)
		}
	})
	a.wg.Go(func() { lease.Run(ctx) })
}

// Wait waits until every call goroutine has returned.
func (a *App) Wait() { a.wg.Wait() }

// HandleEvent routes one ARI event: a caller entering the app starts a call; anything about a
// channel a call owns goes to its mailbox; a leg nobody owns is hung up; the rest is ignored.
func (a *App) HandleEvent(e v5.Event) {
	a.init()
	if a.ctx.Err() != nil {
		return // stopped: calls are Asterisk's now
	}
	if st, ok := e.(*v5.StasisStart); ok {
		a.stasisStart(st)
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

func (a *App) stasisStart(st *v5.StasisStart) {
	a.mu.Lock()
	owner := a.channels[st.Channel.ID]
	a.mu.Unlock()
	purpose := ""
	if len(st.Args) > 0 {
		purpose = st.Args[0]
	}
	switch {
	case owner != nil && purpose == "callee":
		owner.mailbox.push(st)
	case owner != nil:
		// A channel already driven by a call entered again (or the event came twice).
		a.Logger.Debug("StasisStart for a channel already owned: ignored", "channel", st.Channel.ID, "call_id", owner.id)
	case purpose == "call" && len(st.Args) >= 2:
		number := ""
		if st.Channel.Caller != nil {
			number = st.Channel.Caller.Number
		}
		a.startCall(Channel{ID: st.Channel.ID, Name: st.Channel.Name, State: st.Channel.State},
			st.Args[1], number, time.Now())
	case purpose == "inbound" && len(st.Args) >= 2:
		var number, name string
		if st.Channel.Caller != nil {
			number, name = st.Channel.Caller.Number, st.Channel.Caller.Name
		}
		a.startInbound(Channel{ID: st.Channel.ID, Name: st.Channel.Name, State: st.Channel.State},
			st.Args[1], number, name, time.Now())
	default:
		// A leg answered after its call ended, an originate that completed after its request
		// timed out, a channel sent here with arguments call control does not know: nobody
		// will ever drive it, so it must not sit in Stasis.
		a.Logger.Info("hanging up a channel nobody owns", "channel", st.Channel.ID, "name", st.Channel.Name, "args", st.Args)
		a.wg.Go(func() { a.Asterisk.Hangup(context.WithoutCancel(a.ctx), st.Channel.ID, "normal") })
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
	case *ChannelTransfer:
		return e.ReferredBy.Source.ID
	case *v5.ChannelDtmfReceived:
		return e.Channel.ID
	case *v5.PlaybackFinished:
		// Only playbacks to a channel concern a call (a room's tones go to its bridge).
		id, _ := strings.CutPrefix(e.Playback.TargetURI, "channel:")
		if id == e.Playback.TargetURI {
			return ""
		}
		return id
	}
	return ""
}

// startCall begins driving a caller that entered the app: from the lookup of what was dialled.
func (a *App) startCall(caller Channel, dialled, callerNumber string, started time.Time) {
	c := a.newCall(uuid.NewString(), caller, dialled, started)
	if c.caller == "" {
		c.caller = callerNumber
	}
	c.setRecord(switchboard.CallChange{ID: c.id, Caller: c.caller, Callee: c.callee,
		CallerChannel: c.callerCh, StartedAt: started})
	c.log.Info("call started")
	a.run(c, c.lookup)
}

// startInbound begins driving a call from a trunk: what the provider sent is sanitised before
// anything logs or stores it, and the call is routed by the inbound number it is for. Only
// the trunk's endpoint (identified by the provider's address, never by a name in a header)
// says which trunk it came from.
func (a *App) startInbound(caller Channel, did, callerNumber, callerName string, started time.Time) {
	in := &inboundCall{trunk: provisioning.TrunkName(endpointOf(caller.Name)),
		callerNumber: SanitizeNumber(callerNumber), callerName: SanitizeName(callerName)}
	if provisioning.ValidateDIDNumber(did) == nil {
		in.number = did
	}
	c := a.newCall(uuid.NewString(), caller, in.number, started)
	c.inbound = in
	c.caller = in.callerNumber
	c.mu.Lock()
	c.rec.Caller = in.callerNumber
	c.mu.Unlock()
	c.log = a.Logger.With("call_id", c.id, "caller", c.caller, "callee", in.number, "trunk", in.trunk, "caller_channel", c.callerCh)
	c.log.Info("inbound call started")
	a.run(c, c.lookupInbound)
}

// newCall makes a call and registers it with its caller channel.
func (a *App) newCall(id string, caller Channel, dialled string, started time.Time) *call {
	c := &call{
		app:        a,
		id:         id,
		callee:     dialled,
		callerCh:   caller.ID,
		callerName: caller.Name,
		callerUp:   caller.State == "Up",
		caller:     endpointOf(caller.Name),
		mailbox:    newMailbox(),
		stop:       make(chan struct{}),
		hangup:     make(chan struct{}),
		done:       make(chan struct{}),
		rec:        switchboard.CallRecord{ID: id, CallerChannel: caller.ID, StartedAt: started},
	}
	c.rec.Caller, c.rec.Callee = c.caller, dialled
	c.log = a.Logger.With("call_id", c.id, "caller", c.caller, "callee", c.callee, "caller_channel", c.callerCh)
	a.mu.Lock()
	a.calls[c.id] = c
	a.channels[c.callerCh] = c
	a.mu.Unlock()
	a.Metrics.active.Inc()
	return c
}

// run drives c from the given step until it ends or is stopped.
func (a *App) run(c *call, from step) {
	a.wg.Go(func() {
		defer close(c.done)
		defer a.forget(c)
		for s := from; s != nil; {
			s = s(a.ctx)
		}
	})
}

// own registers a channel (a callee leg) as c's: its events go to c's mailbox.
func (a *App) own(c *call, channelID string) {
	a.mu.Lock()
	a.channels[channelID] = c
	a.mu.Unlock()
}

// disown forgets a channel of c: a StasisStart for it later is hung up.
func (a *App) disown(c *call, channelID string) {
	a.mu.Lock()
	if a.channels[channelID] == c {
		delete(a.channels, channelID)
	}
	a.mu.Unlock()
}

// forget drops a call that ended or was stopped (a stopped call leaves its queue's line too:
// reconciliation puts it back).
func (a *App) forget(c *call) {
	c.dropFromLine()
	a.mu.Lock()
	if a.calls[c.id] == c {
		delete(a.calls, c.id)
	}
	for ch, owner := range a.channelsOf(c) {
		if owner == c {
			delete(a.channels, ch)
		}
	}
	a.mu.Unlock()
	a.Metrics.active.Dec()
}

// channelsOf returns the channel entries that point at c (a.mu held).
func (a *App) channelsOf(c *call) map[string]*call {
	out := map[string]*call{}
	for _, ch := range append([]string{c.callerCh}, c.ownedLegs()...) {
		if a.channels[ch] == c {
			out[ch] = c
		}
	}
	return out
}

// driving reports whether a call with this ID is being driven now.
func (a *App) driving(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[id] != nil
}

// ActiveCalls returns the records of the calls in progress.
func (a *App) ActiveCalls() []switchboard.CallRecord {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]switchboard.CallRecord, 0, len(a.calls))
	for _, c := range a.calls {
		out = append(out, c.record())
	}
	return out
}

// Hangup ends a call in progress (DELETE /api/v1/calls/{id}) in whatever phase it is: looking
// the callee up, ringing, bridged, or in voicemail. ENOTFOUND when no such call is in progress.
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

// LegMark follows the call ID in the ID of every callee leg, then the leg's number in two
// digits: "<call ID>-leg01", "<call ID>-leg02"... Fixed width matters: Asterisk finds a channel
// by an ID that is a prefix of another one's ("...-leg1" would find "...-leg12").
const LegMark = "-leg"

// maxLegs is how many legs one call can make (MaxDevices phones at each of the hops).
const maxLegs = 99

// legID is the ID of a call's n-th callee leg (1 to maxLegs).
func legID(callID string, n int) string {
	return fmt.Sprintf("%s%s%02d", callID, LegMark, n)
}

// callOfLeg returns the call ID a leg belongs to and the leg's number, or "" when channelID is
// not a callee leg's.
func callOfLeg(channelID string) (string, int) {
	i := strings.LastIndex(channelID, LegMark)
	if i <= 0 {
		return "", 0
	}
	rest := channelID[i+len(LegMark):]
	if len(rest) != 2 {
		return "", 0
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 {
		return "", 0
	}
	return channelID[:i], n
}

// bridgeID is the ID of a call's bridge.
func bridgeID(callID string) string { return BridgePrefix + callID }
