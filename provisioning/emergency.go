package provisioning

import (
	"context"
	"strings"

	"github.com/switchboard-pbx/switchboard"
)

// EmergencyNumber is a number the fallback dialplan dials by itself while call control is
// away: what is dialled, and the dial strings of its route's trunks in failover order, joined
// by & (asterisk/extensions.conf tries them one after the other).
type EmergencyNumber struct {
	Number string
	Dial   string
}

// EmergencyNumbers returns the fallback's emergency numbers: every pattern of an emergency
// route that is a fixed number (emergency numbers are: 112, 911, 9112), with its route's
// trunks; patterns with letters stay with call control. The first route that has a number wins,
// as routing's order says. Every part is validated (ValidateRoute), so no character of them can
// break the dialplan.
func EmergencyNumbers(routes []switchboard.OutboundRoute) []EmergencyNumber {
	var out []EmergencyNumber
	seen := map[string]bool{}
	for _, r := range routes {
		if !r.Emergency {
			continue
		}
		for _, p := range r.Patterns {
			if strings.Trim(p.Match, "+0123456789") != "" || strings.Trim(p.Prefix, "0123456789") != "" {
				continue
			}
			number := p.Prefix + p.Match
			if seen[number] {
				continue
			}
			seen[number] = true
			dials := make([]string, len(r.Trunks))
			for i, t := range r.Trunks {
				dials[i] = "PJSIP/" + p.Prepend + p.Match + "@" + TrunkEndpoint(t)
			}
			out = append(out, EmergencyNumber{Number: number, Dial: strings.Join(dials, "&")})
		}
	}
	return out
}

// EmergencyTable is where the fallback dialplan finds emergency numbers (the realtime database).
type EmergencyTable interface {
	SetEmergency(ctx context.Context, numbers []EmergencyNumber) error
}

// EmergencySync writes the emergency numbers of the routes into the realtime database: at start
// and after every change of a route.
type EmergencySync struct {
	Routes switchboard.RouteStore
	Table  EmergencyTable
}

// Sync writes them.
func (s *EmergencySync) Sync(ctx context.Context) error {
	routes, err := s.Routes.Routes(ctx)
	if err != nil {
		return err
	}
	return s.Table.SetEmergency(ctx, EmergencyNumbers(routes))
}
