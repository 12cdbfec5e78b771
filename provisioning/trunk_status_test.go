package provisioning

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

type fakeProbe struct {
	regs        map[string]string
	endpoints   map[string]string
	reregisters []string
}

func (f *fakeProbe) Reregister(_ context.Context, name string) error {
	f.reregisters = append(f.reregisters, name)
	return nil
}

func (f *fakeProbe) Registrations(context.Context) (map[string]string, error) { return f.regs, nil }
func (f *fakeProbe) Endpoint(_ context.Context, name string) (string, int, error) {
	s, ok := f.endpoints[name]
	if !ok {
		return "", 0, switchboard.Errorf(switchboard.ENOTFOUND, "no endpoint")
	}
	return s, 1, nil
}

type listTrunks struct {
	switchboard.TrunkStore
	list []switchboard.Trunk
}

func (l listTrunks) Trunks(context.Context) ([]switchboard.Trunk, error) { return l.list, nil }

func TestTrunkMonitor(t *testing.T) {
	probe := &fakeProbe{regs: map[string]string{"trunk-a": "Unregistered"},
		endpoints: map[string]string{"trunk-a": "unknown", "trunk-b": "online"}}
	m := &TrunkMonitor{Store: listTrunks{list: []switchboard.Trunk{
		{Name: "a", Auth: switchboard.AuthRegister}, {Name: "b", Auth: switchboard.AuthIP}, {Name: "c", Auth: switchboard.AuthIP}}},
		Probe: probe}
	clock := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	m.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	ctx := context.Background()
	check := func(name string, want switchboard.RegistrationState) switchboard.TrunkStatus {
		t.Helper()
		st := m.TrunkStatus(name)
		if st.State != want {
			t.Fatalf("trunk %s: %s, want %s", name, st.State, want)
		}
		return st
	}
	check("a", switchboard.UnknownState) // never looked at
	m.Poll(ctx)
	check("a", switchboard.Registering)
	check("b", switchboard.Reachable)
	check("c", switchboard.NotMonitored) // Asterisk does not hold it
	probe.regs["trunk-a"], probe.endpoints["trunk-a"] = "Registered", "online"
	m.Poll(ctx)
	since := check("a", switchboard.Registered).Since
	m.Poll(ctx)
	if st := check("a", switchboard.Registered); !st.Since.Equal(since) {
		t.Fatalf("since moved while the state stayed: %v then %v", since, st.Since)
	}
	probe.endpoints["trunk-a"] = "offline" // the provider stopped answering, still registered
	m.Poll(ctx)
	if st := check("a", switchboard.Unreachable); !st.Since.After(since) {
		t.Fatal("since did not move with the state")
	}
	// The provider is back, and may have forgotten us: the trunk registers again at once.
	probe.endpoints["trunk-a"] = "online"
	m.Poll(ctx)
	check("a", switchboard.Registering)
	if len(probe.reregisters) != 1 || probe.reregisters[0] != "trunk-a" {
		t.Fatalf("registrations started again: %v, want trunk-a once", probe.reregisters)
	}
	m.Poll(ctx)
	check("a", switchboard.Registered)
	probe.regs["trunk-a"] = "Rejected"
	m.Poll(ctx)
	check("a", switchboard.Rejected)
	if len(probe.reregisters) != 1 {
		t.Fatalf("a rejected registration was pushed again: %v", probe.reregisters)
	}
}
