package main

import (
	"context"

	"github.com/switchboard-pbx/switchboard/ami"
	"github.com/switchboard-pbx/switchboard/ari"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// trunkProbe tells the trunk monitor what Asterisk knows: registrations over AMI, an
// endpoint's reachability and channels over ARI.
type trunkProbe struct {
	ami *ami.Client
	ari *ari.Client
}

var _ provisioning.TrunkProbe = trunkProbe{}

func (p trunkProbe) Registrations(ctx context.Context) (map[string]string, error) {
	regs, err := p.ami.OutboundRegistrations(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(regs))
	for _, r := range regs {
		out[r.ObjectName] = string(r.Status)
	}
	return out, nil
}

func (p trunkProbe) Endpoint(ctx context.Context, name string) (string, int, error) {
	ep, err := p.ari.Endpoint(ctx, name)
	return ep.State, len(ep.Channels), err
}

func (p trunkProbe) Reregister(ctx context.Context, registration string) error {
	_, err := p.ami.Action(ctx, "PJSIPRegister", ami.Header{Key: "Registration", Value: registration})
	return err
}
