package provisioning

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// TrunkProbe is how the monitor asks Asterisk about trunks.
type TrunkProbe interface {
	// Registrations returns the status Asterisk reports of each outbound registration, by its
	// name: Registered, Unregistered, Rejected, Stopped...
	Registrations(ctx context.Context) (map[string]string, error)
	// Endpoint returns the state of a PJSIP endpoint (online when its provider answers its
	// qualify requests, offline when not) and how many channels it has; ENOTFOUND when
	// Asterisk holds no such endpoint.
	Endpoint(ctx context.Context, name string) (state string, channels int, err error)
	// Reregister makes an outbound registration register again now.
	Reregister(ctx context.Context, registration string) error
}

// TrunkMonitor watches what each trunk's provider makes of us, every Interval, and remembers
// since when each trunk has been in its state. A trunk that registers is registered while
// Asterisk says so and the provider answers; unreachable when the provider stops answering
// (qualify) or never answered; rejected when it refused us. A trunk known by its address only
// is reachable or unreachable.
//
// A provider that answers again after it did not may have lost our registration (a restart)
// while Asterisk still counts us registered until the next refresh, minutes away: the monitor
// has the trunk register again at once.
type TrunkMonitor struct {
	Store    switchboard.TrunkStore
	Probe    TrunkProbe
	Interval time.Duration // default 2 s
	Logger   *slog.Logger
	Now      func() time.Time // default time.Now

	mu       sync.Mutex
	statuses map[string]switchboard.TrunkStatus
	kick     chan struct{}
	once     sync.Once
}

var _ TrunkStatuses = (*TrunkMonitor)(nil)

func (m *TrunkMonitor) init() {
	m.once.Do(func() {
		m.statuses = map[string]switchboard.TrunkStatus{}
		m.kick = make(chan struct{}, 1)
		if m.Interval == 0 {
			m.Interval = 2 * time.Second
		}
		if m.Now == nil {
			m.Now = time.Now
		}
	})
}

// TrunkStatus returns the state last seen of a trunk (UnknownState before the first look).
func (m *TrunkMonitor) TrunkStatus(name string) switchboard.TrunkStatus {
	m.init()
	m.mu.Lock()
	defer m.mu.Unlock()
	if st, ok := m.statuses[name]; ok {
		return st
	}
	return switchboard.TrunkStatus{Name: name, State: switchboard.UnknownState}
}

// Check makes the monitor look again at once (a trunk changed).
func (m *TrunkMonitor) Check() {
	m.init()
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Run looks at every trunk until ctx ends.
func (m *TrunkMonitor) Run(ctx context.Context) {
	m.init()
	t := time.NewTicker(m.Interval)
	defer t.Stop()
	for {
		m.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.kick:
		}
	}
}

// Poll looks at every trunk once.
func (m *TrunkMonitor) Poll(ctx context.Context) {
	m.init()
	trunks, err := m.Store.Trunks(ctx)
	if err != nil {
		return // the store is away: what was seen stays
	}
	// Asterisk is asked about registrations only when a trunk registers (most sites have a
	// trunk or two; a PBX without any asks nothing).
	var regs map[string]string
	var regErr error
	if slices.ContainsFunc(trunks, func(t switchboard.Trunk) bool { return t.Auth == switchboard.AuthRegister }) {
		regs, regErr = m.Probe.Registrations(ctx)
	}
	m.mu.Lock()
	before := m.statuses
	m.mu.Unlock()
	now := m.Now()
	seen := map[string]switchboard.TrunkStatus{}
	for _, t := range trunks {
		st := switchboard.TrunkStatus{Name: t.Name}
		state, channels, err := m.Probe.Endpoint(ctx, TrunkEndpoint(t.Name))
		st.Channels = channels
		switch {
		case switchboard.ErrorCode(err) == switchboard.ENOTFOUND:
			st.State = switchboard.NotMonitored
		case err != nil || (t.Auth == switchboard.AuthRegister && regErr != nil):
			st.State = switchboard.UnknownState
		default:
			st.State, st.Detail = trunkState(t, state, regs)
		}
		if t.Auth == switchboard.AuthRegister && before[t.Name].State == switchboard.Unreachable && state == "online" {
			if err := m.Probe.Reregister(ctx, TrunkEndpoint(t.Name)); err == nil {
				st.State, st.Detail = switchboard.Registering, "the provider answers again"
			} else if m.Logger != nil {
				m.Logger.Warn("trunk: registering again failed", "trunk", t.Name, "error", err)
			}
		}
		seen[t.Name] = st
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, st := range seen {
		old, ok := m.statuses[name]
		if ok && old.State == st.State {
			st.Since = old.Since
		} else {
			st.Since = now
			if m.Logger != nil {
				m.Logger.Info("trunk state", "trunk", name, "state", st.State, "detail", st.Detail)
			}
		}
		seen[name] = st
	}
	m.statuses = seen
}

// trunkState combines the endpoint's state (its provider answering qualify requests) and the
// registration's status.
func trunkState(t switchboard.Trunk, endpoint string, regs map[string]string) (switchboard.RegistrationState, string) {
	if t.Auth != switchboard.AuthRegister {
		if endpoint == "online" {
			return switchboard.Reachable, ""
		}
		return switchboard.Unreachable, "the provider does not answer"
	}
	reg, ok := regs[TrunkEndpoint(t.Name)]
	switch {
	case !ok:
		return switchboard.NotMonitored, ""
	case endpoint == "offline":
		return switchboard.Unreachable, "the provider does not answer"
	case reg == "Registered":
		return switchboard.Registered, ""
	case reg == "Rejected":
		return switchboard.Rejected, "the provider refused the registration"
	}
	return switchboard.Registering, ""
}
