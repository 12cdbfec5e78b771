package provisioning

import (
	"context"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// Outside is what call control asks about the outside world: the outbound routes (for every
// call: an emergency number goes out before the extension plan is consulted), a trunk, an
// inbound number. Routes are kept in memory, so that a call inside the building asks the store
// nothing more than before: read again after every change made through this process (Changed)
// and at least every RoutesTTL (changes made by another process).
type Outside struct {
	Trunks    switchboard.TrunkStore
	Routes    switchboard.RouteStore
	Numbers   switchboard.InboundNumberStore
	RoutesTTL time.Duration // default 5 s

	mu     sync.Mutex
	routes []switchboard.OutboundRoute
	read   time.Time
}

// OutboundRoutes returns the routes in the order they are tried. When the store cannot be read,
// the routes read last are returned with the error (stale routes beat no emergency calls).
func (o *Outside) OutboundRoutes(ctx context.Context) ([]switchboard.OutboundRoute, error) {
	ttl := o.RoutesTTL
	if ttl == 0 {
		ttl = 5 * time.Second
	}
	o.mu.Lock()
	routes, fresh := o.routes, !o.read.IsZero() && time.Since(o.read) < ttl
	o.mu.Unlock()
	if fresh {
		return routes, nil
	}
	read, err := o.Routes.Routes(ctx)
	if err != nil {
		return routes, err
	}
	o.mu.Lock()
	o.routes, o.read = read, time.Now()
	o.mu.Unlock()
	return read, nil
}

// Changed makes the next call read the routes again.
func (o *Outside) Changed() {
	o.mu.Lock()
	o.read = time.Time{}
	o.mu.Unlock()
}

// Trunk returns a trunk.
func (o *Outside) Trunk(ctx context.Context, name string) (switchboard.Trunk, error) {
	return o.Trunks.Trunk(ctx, name)
}

// InboundNumber returns an inbound number.
func (o *Outside) InboundNumber(ctx context.Context, number string) (switchboard.InboundNumber, error) {
	return o.Numbers.InboundNumber(ctx, number)
}
