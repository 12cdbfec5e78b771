package ari_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/ari"
)

// simAsterisk is a small model of what call control relies on in Asterisk: channels with a
// state, bridges, early-bridged answers (a leg answering in a two-party bridge answers its
// peer), hangup handlers that end the peer, and the events the app would receive. Tests drive
// the phones' side (a caller dials, a callee answers or hangs up) and look at the result.
type simAsterisk struct {
	mu         sync.Mutex
	onEvent    func(v5.Event)
	onConnect  []func(context.Context)
	reconnects int
	channels   map[string]*simChannel
	bridges    map[string][]string
	endpoints  map[string]ari.Endpoint
	contacts   map[string][]string // dial strings of the registered phones, by extension
	globals    map[string]string
	stamps     map[string]time.Time
	ops        []string
	seq        int
	// down makes every request fail as if Asterisk were unreachable.
	down bool
	// connected is what the app's Connected reports.
	connected bool
	// quiet drops events instead of delivering them (the websocket is cut).
	quiet bool
}

type simChannel struct {
	ari.Channel
	entered    bool // in Stasis: created channels enter a moment after the request returns
	dialed     bool
	subscribed bool
	peerOnEnd  string // the hangup handler: the channel to end when this one hangs up
	onlyIfUp   bool
	vars       map[string]string
	muted      bool
}

func newSim() *simAsterisk {
	return &simAsterisk{channels: map[string]*simChannel{}, bridges: map[string][]string{},
		endpoints: map[string]ari.Endpoint{}, contacts: map[string][]string{}, globals: map[string]string{}, stamps: map[string]time.Time{}, connected: true}
}

var errDown = switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk unavailable")

func (f *simAsterisk) emit(e v5.Event) {
	f.mu.Lock()
	quiet, deliver := f.quiet, f.onEvent
	f.mu.Unlock()
	if quiet || deliver == nil {
		return
	}
	deliver(e)
}

// The simulated Asterisk is also the app's event source.
func (f *simAsterisk) App() string { return "switchboard" }

func (f *simAsterisk) OnEvent(h func(v5.Event)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onEvent = h
}

func (f *simAsterisk) OnConnect(h func(context.Context)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onConnect = append(f.onConnect, h)
}

func (f *simAsterisk) Connected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connected
}

func (f *simAsterisk) Reconnect() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reconnects++
}

func (f *simAsterisk) FilterEvents(context.Context) error { return nil }

// disconnect cuts the event stream: events happen but are not delivered.
func (f *simAsterisk) disconnect() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connected, f.quiet = false, true
}

// connect (re)connects the event stream and runs the app's hooks, as the client does.
func (f *simAsterisk) connect(ctx context.Context) {
	f.mu.Lock()
	f.connected, f.quiet = true, false
	hooks := f.onConnect
	f.mu.Unlock()
	for _, h := range hooks {
		h(ctx)
	}
}

func chanData(c *simChannel) v5.ChannelData {
	return v5.ChannelData{ID: c.ID, Name: c.Name, State: c.State}
}

// record notes an operation; it returns errDown while Asterisk is down.
func (f *simAsterisk) record(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	f.ops = append(f.ops, op)
	return nil
}

// opsSince returns the operations recorded from index i on.
func (f *simAsterisk) opsSince(i int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ops[i:])
}

func (f *simAsterisk) opCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ops)
}

// dial makes a phone of ext call dialled: its channel enters the app.
func (f *simAsterisk) dial(ext, dialled string) string {
	f.mu.Lock()
	f.seq++
	c := &simChannel{Channel: ari.Channel{ID: fmt.Sprintf("caller-%d", f.seq), Name: fmt.Sprintf("PJSIP/%s-%08x", ext, f.seq),
		State: "Ring", App: "Stasis", AppData: "switchboard,call," + dialled, Created: time.Now()}, entered: true}
	f.channels[c.ID] = c
	f.mu.Unlock()
	f.emit(&v5.StasisStart{Channel: chanData(c), Args: []string{"call", dialled}})
	return c.ID
}

func (f *simAsterisk) Endpoint(_ context.Context, ext string) (ari.Endpoint, error) {
	if err := f.record("endpoint " + ext); err != nil {
		return ari.Endpoint{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ep, ok := f.endpoints[ext]
	if !ok {
		return ari.Endpoint{}, switchboard.Errorf(switchboard.ENOTFOUND, "no endpoint")
	}
	return ep, nil
}

func (f *simAsterisk) CreateChannel(_ context.Context, r ari.ChannelRequest) (ari.Channel, error) {
	if err := f.record("create " + r.ID + " " + r.Endpoint); err != nil {
		return ari.Channel{}, err
	}
	f.mu.Lock()
	f.seq++
	// PJSIP/1002/sip:... makes a channel named PJSIP/1002-<seq>, as Asterisk names them.
	endpoint := strings.Join(strings.SplitN(r.Endpoint, "/", 3)[:2], "/")
	c := &simChannel{Channel: ari.Channel{ID: r.ID, Name: fmt.Sprintf("%s-%08x", endpoint, f.seq), State: "Down",
		App: "Stasis", AppData: "switchboard," + r.AppArgs, Created: time.Now()}}
	if h := r.Variables["CHANNEL(hangup_handler_push)"]; h != "" {
		c.peerOnEnd, c.onlyIfUp = handlerArgs(h)
	}
	f.channels[r.ID] = c
	f.mu.Unlock()
	// As in Asterisk, the channel enters Stasis on a thread of its own, after the answer.
	go func() {
		time.Sleep(time.Millisecond)
		f.mu.Lock()
		c.entered = true
		data := chanData(c)
		f.mu.Unlock()
		f.emit(&v5.StasisStart{Channel: data, Args: strings.Split(r.AppArgs, ",")})
	}()
	return c.Channel, nil
}

// handlerArgs reads "switchboard-hangup-peer,s,1(PJSIP/1001-1,answered)".
func handlerArgs(h string) (peer string, onlyIfUp bool) {
	args := strings.TrimSuffix(h[strings.IndexByte(h, '(')+1:], ")")
	peer, cond, _ := strings.Cut(args, ",")
	return peer, cond == "answered"
}

func (f *simAsterisk) Dial(_ context.Context, id, caller string, timeout time.Duration) error {
	if err := f.record("dial " + id); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.channels[id]
	if c == nil {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no channel")
	}
	if !c.entered {
		return switchboard.Errorf(switchboard.EINVALID, "channel not in Stasis application (422)")
	}
	c.dialed = true
	return nil
}

func (f *simAsterisk) Answer(_ context.Context, id string) error {
	if err := f.record("answer " + id); err != nil {
		return err
	}
	f.setState(id, "Up")
	return nil
}

func (f *simAsterisk) Hangup(_ context.Context, id, reason string) error {
	if err := f.record("hangup " + id + " " + reason); err != nil {
		return err
	}
	if !f.end(id, 16) {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no channel %s", id)
	}
	return nil
}

func (f *simAsterisk) Ring(_ context.Context, id string) error { return f.record("ring " + id) }

func (f *simAsterisk) TransferProgress(_ context.Context, id, state string) error {
	return f.record("progress " + id + " " + state)
}

func (f *simAsterisk) ChannelVariable(_ context.Context, id, name string) (string, error) {
	if err := f.record("get " + id + " " + name); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.channels[id] == nil {
		return "", switchboard.Errorf(switchboard.ENOTFOUND, "no channel %s", id)
	}
	if ext, ok := strings.CutPrefix(name, "PJSIP_DIAL_CONTACTS("); ok {
		return strings.Join(f.contacts[strings.TrimSuffix(ext, ")")], "&"), nil
	}
	return f.channels[id].vars[name], nil
}

func (f *simAsterisk) SetVariable(_ context.Context, id, name, value string) error {
	if err := f.record("set " + id + " " + name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.channels[id]; c != nil && name == "CHANNEL(hangup_handler_push)" {
		c.peerOnEnd, c.onlyIfUp = handlerArgs(value)
	}
	if c := f.channels[id]; c != nil && name == "CHANNEL(hangup_handler_wipe)" {
		c.peerOnEnd, c.onlyIfUp = "", false
	}
	if c := f.channels[id]; c != nil {
		if c.vars == nil {
			c.vars = map[string]string{}
		}
		c.vars[name] = value
	}
	return nil
}

func (f *simAsterisk) ContinueAt(_ context.Context, id, context, exten, label string) error {
	if err := f.record("continue " + id + " " + exten + " " + label); err != nil {
		return err
	}
	f.mu.Lock()
	c := f.channels[id]
	if c == nil || !c.InStasis() {
		f.mu.Unlock()
		return switchboard.Errorf(switchboard.ENOTFOUND, "no channel in Stasis")
	}
	c.App, c.AppData = "VoiceMail", "1002@default"
	f.leaveBridge(id)
	f.mu.Unlock()
	f.emit(&v5.StasisEnd{Channel: chanData(c)})
	return nil
}

func (f *simAsterisk) CreateBridge(_ context.Context, id string) error {
	if err := f.record("bridge " + id); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.bridges[id]; ok {
		return switchboard.Errorf(switchboard.ECONFLICT, "bridge exists")
	}
	f.bridges[id] = nil
	return nil
}

func (f *simAsterisk) AddToBridge(_ context.Context, id string, chans ...string) error {
	if err := f.record("add " + id + " " + strings.Join(chans, ",")); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.bridges[id]; !ok {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no bridge")
	}
	for _, ch := range chans {
		if f.channels[ch] == nil || !f.channels[ch].entered {
			return switchboard.Errorf(switchboard.EINVALID, "channel %s not in Stasis application (422)", ch)
		}
		f.leaveBridge(ch)
		f.bridges[id] = append(f.bridges[id], ch)
	}
	return nil
}

func (f *simAsterisk) DestroyBridge(_ context.Context, id string) error {
	if err := f.record("destroy " + id); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.bridges, id)
	return nil
}

func (f *simAsterisk) Subscribe(_ context.Context, id string) error {
	if err := f.record("subscribe " + id); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.channels[id]; c != nil {
		c.subscribed = true
	}
	return nil
}

func (f *simAsterisk) Snapshot(context.Context) (ari.Snapshot, error) {
	if err := f.record("snapshot"); err != nil {
		return ari.Snapshot{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var s ari.Snapshot
	for _, c := range f.channels {
		s.Channels = append(s.Channels, c.Channel)
	}
	for id, chans := range f.bridges {
		if strings.HasPrefix(id, ari.BridgePrefix) { // as the client lists them
			s.Bridges = append(s.Bridges, ari.Bridge{ID: id, Channels: slices.Clone(chans)})
		}
	}
	return s, nil
}

func (f *simAsterisk) SetGlobal(_ context.Context, name, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	f.globals[name] = value
	return nil
}

func (f *simAsterisk) TakeEndStamp(_ context.Context, id string) (time.Time, error) {
	if err := f.record("stamp " + id); err != nil {
		return time.Time{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.stamps[id]
	delete(f.stamps, id)
	return t, nil
}

// leaveBridge takes a channel out of any bridge (f.mu held).
func (f *simAsterisk) leaveBridge(id string) {
	for b, chans := range f.bridges {
		if i := slices.Index(chans, id); i >= 0 {
			f.bridges[b] = slices.Delete(chans, i, i+1)
		}
	}
}

// bridgeOf returns the bridge a channel is in (f.mu held).
func (f *simAsterisk) bridgeOf(id string) string {
	for b, chans := range f.bridges {
		if slices.Contains(chans, id) {
			return b
		}
	}
	return ""
}

// setState changes a channel's state and, as a two-party bridge does, passes an answer on to
// the unanswered peer.
func (f *simAsterisk) setState(id, state string) {
	f.mu.Lock()
	c := f.channels[id]
	if c == nil || c.State == state {
		f.mu.Unlock()
		return
	}
	c.State = state
	var peer *simChannel
	if b := f.bridgeOf(id); b != "" && state == "Up" && len(f.bridges[b]) == 2 {
		for _, other := range f.bridges[b] {
			if other != id && f.channels[other] != nil && f.channels[other].State != "Up" {
				peer = f.channels[other]
			}
		}
	}
	f.mu.Unlock()
	f.emit(&v5.ChannelStateChange{Channel: chanData(c)})
	if peer != nil {
		f.setState(peer.ID, "Up")
	}
}

// ring makes a dialed leg's phone ring.
func (f *simAsterisk) ring(t *testing.T, id string) {
	t.Helper()
	f.waitDialed(t, id)
	f.setState(id, "Ringing")
}

// answer makes a dialed leg's phone answer.
func (f *simAsterisk) answer(t *testing.T, id string) {
	t.Helper()
	f.waitDialed(t, id)
	f.setState(id, "Up")
}

func (f *simAsterisk) waitDialed(t *testing.T, id string) {
	t.Helper()
	eventually(t, "leg "+id+" dialed", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		c := f.channels[id]
		return c != nil && c.dialed
	})
}

// end hangs a channel up with a Q.850 cause, running its hangup handler; it reports whether
// the channel existed.
func (f *simAsterisk) end(id string, cause int) bool {
	f.mu.Lock()
	c := f.channels[id]
	if c == nil {
		f.mu.Unlock()
		return false
	}
	delete(f.channels, id)
	f.leaveBridge(id)
	var peers []string
	if c.peerOnEnd != "" && (!c.onlyIfUp || c.State == "Up") {
		for _, name := range strings.Split(c.peerOnEnd, "&") {
			for _, other := range f.channels {
				if other.Name == name {
					peers = append(peers, other.ID)
				}
			}
		}
	}
	stasis := c.InStasis()
	f.mu.Unlock()
	f.emit(&v5.ChannelHangupRequest{Channel: chanData(c), Cause: cause})
	if stasis {
		f.emit(&v5.StasisEnd{Channel: chanData(c)})
	}
	f.emit(&v5.ChannelDestroyed{Channel: chanData(c), Cause: cause})
	for _, peer := range peers {
		f.end(peer, 16)
	}
	return true
}

// setEndpoint sets an endpoint's state; an online one has one phone registered.
func (f *simAsterisk) setEndpoint(ext string, ep ari.Endpoint) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.endpoints[ext] = ep
	f.contacts[ext] = nil
	if ep.State == "online" {
		f.contacts[ext] = []string{"PJSIP/" + ext + "/sip:" + ext + "@127.0.0.1:5070"}
	}
}

// setPhones registers n phones for ext.
func (f *simAsterisk) setPhones(ext string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.endpoints[ext] = ari.Endpoint{State: "online"}
	f.contacts[ext] = nil
	for i := range n {
		f.contacts[ext] = append(f.contacts[ext], fmt.Sprintf("PJSIP/%s/sip:%s@127.0.0.1:%d", ext, ext, 5070+i))
	}
}

func (f *simAsterisk) setStamp(channel string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stamps[channel] = at
}

func (f *simAsterisk) addChannel(c ari.Channel) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channels[c.ID] = &simChannel{Channel: c, entered: true}
}

func (f *simAsterisk) global(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.globals[name]
}

func (f *simAsterisk) hasHandler(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.channels[id]
	return c != nil && c.peerOnEnd != ""
}

// has reports whether a channel exists.
func (f *simAsterisk) has(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.channels[id] != nil
}

func (f *simAsterisk) state(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.channels[id]; c != nil {
		return c.State
	}
	return ""
}

func (f *simAsterisk) bridgeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bridges)
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
