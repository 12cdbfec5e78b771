package inmem

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// The stores of trunks, outbound routes and inbound numbers, with the rules of PostgreSQL's
// tables (see postgres/trunks.go, routes.go and inbound_numbers.go): unique names and numbers
// (ECONFLICT), ENOTFOUND for what is not there, a route's trunks and users and an inbound
// number's trunk must exist (EINVALID), a trunk a route or an inbound number uses cannot be
// deleted (ECONFLICT), a deleted user leaves every route, and the key of a row cannot change
// (EINVALID). Lists come in PostgreSQL's order.
//
// Two things differ on purpose. Lists are kept as they are given, an empty one staying empty
// rather than becoming nil. And a store keeps the values it is given as they are, slices
// included, returning copies only: a caller that hands the store its own caller's slices shows
// in the store when that caller changes them, which tests of the services above rely on (a
// database would hide the mistake).
//
// The three stores share one UserStore's lock and SetDown (one database): the user store's
// SetDown fails them too.

// TrunkStore keeps trunks in a map, ordered by name (bytewise). The RouteStore and
// InboundNumberStore made over it reference its trunks.
type TrunkStore struct {
	users   *UserStore
	trunks  map[string]switchboard.Trunk
	routes  *RouteStore         // the routes over these trunks, if any
	numbers *InboundNumberStore // the inbound numbers over these trunks, if any
}

var _ switchboard.TrunkStore = (*TrunkStore)(nil)

// NewTrunkStore returns an empty trunk store in the database of users, whose users routes may
// name; with users nil it has an empty user store of its own.
func NewTrunkStore(users *UserStore) *TrunkStore {
	if users == nil {
		users = NewUserStore()
	}
	return &TrunkStore{users: users, trunks: map[string]switchboard.Trunk{}}
}

func cloneTrunk(t switchboard.Trunk) switchboard.Trunk {
	t.Addresses = slices.Clone(t.Addresses)
	t.Codecs = slices.Clone(t.Codecs)
	return t
}

// CreateTrunk stores a new trunk; ECONFLICT when a trunk has its name.
func (s *TrunkStore) CreateTrunk(_ context.Context, t switchboard.Trunk) (switchboard.Trunk, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return switchboard.Trunk{}, err
	}
	if _, ok := s.trunks[t.Name]; ok {
		return switchboard.Trunk{}, switchboard.Errorf(switchboard.ECONFLICT, "trunk %s exists already", t.Name)
	}
	t.CreatedAt = time.Now().UTC()
	t.UpdatedAt = t.CreatedAt
	s.trunks[t.Name] = t
	return cloneTrunk(t), nil
}

// lookup returns a trunk, or ENOTFOUND; the caller holds the lock.
func (s *TrunkStore) lookup(name string) (switchboard.Trunk, error) {
	t, ok := s.trunks[name]
	if !ok {
		return switchboard.Trunk{}, switchboard.Errorf(switchboard.ENOTFOUND, "no trunk named %s", name)
	}
	return t, nil
}

// Trunk returns one trunk.
func (s *TrunkStore) Trunk(_ context.Context, name string) (switchboard.Trunk, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return switchboard.Trunk{}, err
	}
	t, err := s.lookup(name)
	if err != nil {
		return switchboard.Trunk{}, err
	}
	return cloneTrunk(t), nil
}

// Trunks returns every trunk, ordered by name; never nil.
func (s *TrunkStore) Trunks(context.Context) ([]switchboard.Trunk, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return nil, err
	}
	all := make([]switchboard.Trunk, 0, len(s.trunks))
	for _, name := range slices.Sorted(maps.Keys(s.trunks)) {
		all = append(all, cloneTrunk(s.trunks[name]))
	}
	return all, nil
}

// UpdateTrunk applies change to a copy of the trunk and stores the result; a change of the
// name is refused (EINVALID), and nothing is stored when change fails.
func (s *TrunkStore) UpdateTrunk(_ context.Context, name string, change func(*switchboard.Trunk) error) (switchboard.Trunk, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return switchboard.Trunk{}, err
	}
	t, err := s.lookup(name)
	if err != nil {
		return switchboard.Trunk{}, err
	}
	t = cloneTrunk(t)
	if err := change(&t); err != nil {
		return switchboard.Trunk{}, err
	}
	if t.Name != name {
		return switchboard.Trunk{}, switchboard.Errorf(switchboard.EINVALID, "the name of trunk %s cannot change", name)
	}
	t.UpdatedAt = time.Now().UTC()
	s.trunks[name] = t
	return cloneTrunk(t), nil
}

// DeleteTrunk removes a trunk; ECONFLICT naming the first route (by name) that uses it, or
// else the first inbound number (by number) received on it only.
func (s *TrunkStore) DeleteTrunk(_ context.Context, name string) error {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return err
	}
	if _, err := s.lookup(name); err != nil {
		return err
	}
	if route := s.routes.usingTrunk(name); route != "" {
		return switchboard.Errorf(switchboard.ECONFLICT, "trunk %s is used by route %s", name, route)
	}
	if number := s.numbers.usingTrunk(name); number != "" {
		return switchboard.Errorf(switchboard.ECONFLICT, "trunk %s receives inbound number %s", name, number)
	}
	delete(s.trunks, name)
	return nil
}

// RouteStore keeps outbound routes in a map, over a TrunkStore whose trunks they use and
// whose user store's users they allow.
type RouteStore struct {
	trunks *TrunkStore
	routes map[string]switchboard.OutboundRoute
}

var _ switchboard.RouteStore = (*RouteStore)(nil)

// NewRouteStore returns an empty route store over trunks; with trunks nil it has an empty
// trunk store (and user store) of its own.
func NewRouteStore(trunks *TrunkStore) *RouteStore {
	if trunks == nil {
		trunks = NewTrunkStore(nil)
	}
	s := &RouteStore{trunks: trunks, routes: map[string]switchboard.OutboundRoute{}}
	trunks.users.mu.Lock()
	trunks.routes = s
	trunks.users.routes = s
	trunks.users.mu.Unlock()
	return s
}

// usingTrunk returns the first route by name that uses trunk, or ""; nil for a trunk store
// without routes. The caller holds the lock.
func (s *RouteStore) usingTrunk(trunk string) string {
	if s == nil {
		return ""
	}
	for _, name := range slices.Sorted(maps.Keys(s.routes)) {
		if slices.Contains(s.routes[name].Trunks, trunk) {
			return name
		}
	}
	return ""
}

// dropUser takes ext out of every route, as deleting their user does in PostgreSQL. The caller
// holds the lock.
func (s *RouteStore) dropUser(ext string) {
	if s == nil {
		return
	}
	for name, r := range s.routes {
		if i := slices.Index(r.Users, ext); i >= 0 {
			r.Users = slices.Delete(slices.Clone(r.Users), i, i+1)
			s.routes[name] = r
		}
	}
}

// check refuses a route whose trunks or users do not exist, or that lists a pattern, a trunk
// or a user twice, as the tables' keys do. The caller holds the lock.
func (s *RouteStore) check(r switchboard.OutboundRoute) error {
	for i, p := range r.Patterns {
		if slices.ContainsFunc(r.Patterns[:i], func(q switchboard.DialPattern) bool { return q.Prefix == p.Prefix && q.Match == p.Match }) {
			name := p.Match
			if p.Prefix != "" {
				name = p.Prefix + " + " + p.Match
			}
			return switchboard.Errorf(switchboard.EINVALID, "pattern %s is listed twice", name)
		}
	}
	for i, t := range r.Trunks {
		if _, ok := s.trunks.trunks[t]; !ok {
			return switchboard.Errorf(switchboard.EINVALID, "trunk %s does not exist", t)
		}
		if slices.Contains(r.Trunks[:i], t) {
			return switchboard.Errorf(switchboard.EINVALID, "trunk %s is listed twice", t)
		}
	}
	for i, u := range r.Users {
		if _, ok := s.trunks.users.users[u]; !ok {
			return switchboard.Errorf(switchboard.EINVALID, "user %s does not exist", u)
		}
		if slices.Contains(r.Users[:i], u) {
			return switchboard.Errorf(switchboard.EINVALID, "user %s is listed twice", u)
		}
	}
	return nil
}

// cloneRoute returns a copy of a stored route, its users in the order of extensions as
// PostgreSQL reads them.
func cloneRoute(r switchboard.OutboundRoute) switchboard.OutboundRoute {
	r.Patterns = slices.Clone(r.Patterns)
	r.Trunks = slices.Clone(r.Trunks)
	r.Users = slices.Clone(r.Users)
	slices.SortFunc(r.Users, byNumber)
	return r
}

// CreateRoute stores a new route; ECONFLICT when a route has its name, EINVALID for a trunk
// or a user that does not exist. Position 0 places the route after the last one (the highest
// position plus 10, at most 100000; 10 for the first), as in PostgreSQL.
func (s *RouteStore) CreateRoute(_ context.Context, r switchboard.OutboundRoute) (switchboard.OutboundRoute, error) {
	s.trunks.users.mu.Lock()
	defer s.trunks.users.mu.Unlock()
	if err := s.trunks.users.check(); err != nil {
		return switchboard.OutboundRoute{}, err
	}
	if _, ok := s.routes[r.Name]; ok {
		return switchboard.OutboundRoute{}, switchboard.Errorf(switchboard.ECONFLICT, "route %s exists already", r.Name)
	}
	if err := s.check(r); err != nil {
		return switchboard.OutboundRoute{}, err
	}
	if r.Position == 0 {
		last := 0
		for _, other := range s.routes {
			last = max(last, other.Position)
		}
		r.Position = min(last+10, 100000)
	}
	r.CreatedAt = time.Now().UTC()
	r.UpdatedAt = r.CreatedAt
	s.routes[r.Name] = r
	return cloneRoute(r), nil
}

// lookup returns a route, or ENOTFOUND; the caller holds the lock.
func (s *RouteStore) lookup(name string) (switchboard.OutboundRoute, error) {
	r, ok := s.routes[name]
	if !ok {
		return switchboard.OutboundRoute{}, switchboard.Errorf(switchboard.ENOTFOUND, "no route named %s", name)
	}
	return r, nil
}

// Route returns one route.
func (s *RouteStore) Route(_ context.Context, name string) (switchboard.OutboundRoute, error) {
	s.trunks.users.mu.Lock()
	defer s.trunks.users.mu.Unlock()
	if err := s.trunks.users.check(); err != nil {
		return switchboard.OutboundRoute{}, err
	}
	r, err := s.lookup(name)
	if err != nil {
		return switchboard.OutboundRoute{}, err
	}
	return cloneRoute(r), nil
}

// Routes returns every route in the order they are tried: by position, then by name; never
// nil.
func (s *RouteStore) Routes(context.Context) ([]switchboard.OutboundRoute, error) {
	s.trunks.users.mu.Lock()
	defer s.trunks.users.mu.Unlock()
	if err := s.trunks.users.check(); err != nil {
		return nil, err
	}
	all := make([]switchboard.OutboundRoute, 0, len(s.routes))
	for _, r := range s.routes {
		all = append(all, cloneRoute(r))
	}
	slices.SortFunc(all, func(a, b switchboard.OutboundRoute) int {
		return cmp.Or(cmp.Compare(a.Position, b.Position), strings.Compare(a.Name, b.Name))
	})
	return all, nil
}

// UpdateRoute applies change to a copy of the route and stores the result, checked as on
// create; a change of the name is refused (EINVALID), and nothing is stored when change or the
// check fails. Position 0 is stored as it is.
func (s *RouteStore) UpdateRoute(_ context.Context, name string, change func(*switchboard.OutboundRoute) error) (switchboard.OutboundRoute, error) {
	s.trunks.users.mu.Lock()
	defer s.trunks.users.mu.Unlock()
	if err := s.trunks.users.check(); err != nil {
		return switchboard.OutboundRoute{}, err
	}
	r, err := s.lookup(name)
	if err != nil {
		return switchboard.OutboundRoute{}, err
	}
	r = cloneRoute(r)
	if err := change(&r); err != nil {
		return switchboard.OutboundRoute{}, err
	}
	if r.Name != name {
		return switchboard.OutboundRoute{}, switchboard.Errorf(switchboard.EINVALID, "the name of route %s cannot change", name)
	}
	if err := s.check(r); err != nil {
		return switchboard.OutboundRoute{}, err
	}
	r.UpdatedAt = time.Now().UTC()
	s.routes[name] = r
	return cloneRoute(r), nil
}

// DeleteRoute removes a route.
func (s *RouteStore) DeleteRoute(_ context.Context, name string) error {
	s.trunks.users.mu.Lock()
	defer s.trunks.users.mu.Unlock()
	if err := s.trunks.users.check(); err != nil {
		return err
	}
	if _, err := s.lookup(name); err != nil {
		return err
	}
	delete(s.routes, name)
	return nil
}

// InboundNumberStore keeps inbound numbers in a map, ordered by number (bytewise: "+" before
// digits), over a TrunkStore whose trunks they may be received on.
type InboundNumberStore struct {
	trunks  *TrunkStore
	numbers map[string]switchboard.InboundNumber
}

var _ switchboard.InboundNumberStore = (*InboundNumberStore)(nil)

// NewInboundNumberStore returns an empty inbound number store over trunks; with trunks nil it
// has an empty trunk store (and user store) of its own.
func NewInboundNumberStore(trunks *TrunkStore) *InboundNumberStore {
	if trunks == nil {
		trunks = NewTrunkStore(nil)
	}
	s := &InboundNumberStore{trunks: trunks, numbers: map[string]switchboard.InboundNumber{}}
	trunks.users.mu.Lock()
	trunks.numbers = s
	trunks.users.mu.Unlock()
	return s
}

// usingTrunk returns the first inbound number received on trunk only, or ""; nil for a trunk
// store without inbound numbers. The caller holds the lock.
func (s *InboundNumberStore) usingTrunk(trunk string) string {
	if s == nil {
		return ""
	}
	for _, number := range slices.Sorted(maps.Keys(s.numbers)) {
		if s.numbers[number].Trunk == trunk {
			return number
		}
	}
	return ""
}

// check refuses an inbound number from a trunk that does not exist; the caller holds the lock.
func (s *InboundNumberStore) check(n switchboard.InboundNumber) error {
	if _, ok := s.trunks.trunks[n.Trunk]; n.Trunk != "" && !ok {
		return switchboard.Errorf(switchboard.EINVALID, "trunk %s does not exist", n.Trunk)
	}
	return nil
}

// CreateInboundNumber stores a new inbound number; ECONFLICT when the number exists, EINVALID
// when its trunk does not.
func (s *InboundNumberStore) CreateInboundNumber(_ context.Context, n switchboard.InboundNumber) (switchboard.InboundNumber, error) {
	s.trunks.users.mu.Lock()
	defer s.trunks.users.mu.Unlock()
	if err := s.trunks.users.check(); err != nil {
		return switchboard.InboundNumber{}, err
	}
	if _, ok := s.numbers[n.Number]; ok {
		return switchboard.InboundNumber{}, switchboard.Errorf(switchboard.ECONFLICT, "inbound number %s exists already", n.Number)
	}
	if err := s.check(n); err != nil {
		return switchboard.InboundNumber{}, err
	}
	n.CreatedAt = time.Now().UTC()
	n.UpdatedAt = n.CreatedAt
	s.numbers[n.Number] = n
	return n, nil
}

// lookup returns an inbound number, or ENOTFOUND; the caller holds the lock.
func (s *InboundNumberStore) lookup(number string) (switchboard.InboundNumber, error) {
	n, ok := s.numbers[number]
	if !ok {
		return switchboard.InboundNumber{}, switchboard.Errorf(switchboard.ENOTFOUND, "no inbound number %s", number)
	}
	return n, nil
}

// InboundNumber returns one inbound number.
func (s *InboundNumberStore) InboundNumber(_ context.Context, number string) (switchboard.InboundNumber, error) {
	s.trunks.users.mu.Lock()
	defer s.trunks.users.mu.Unlock()
	if err := s.trunks.users.check(); err != nil {
		return switchboard.InboundNumber{}, err
	}
	return s.lookup(number)
}

// InboundNumbers returns every inbound number, ordered by number; never nil.
func (s *InboundNumberStore) InboundNumbers(context.Context) ([]switchboard.InboundNumber, error) {
	s.trunks.users.mu.Lock()
	defer s.trunks.users.mu.Unlock()
	if err := s.trunks.users.check(); err != nil {
		return nil, err
	}
	all := make([]switchboard.InboundNumber, 0, len(s.numbers))
	for _, number := range slices.Sorted(maps.Keys(s.numbers)) {
		all = append(all, s.numbers[number])
	}
	return all, nil
}

// UpdateInboundNumber applies change to a copy of the number and stores the result; a change
// of the number is refused (EINVALID), and nothing is stored when change or the check of its
// trunk fails.
func (s *InboundNumberStore) UpdateInboundNumber(_ context.Context, number string, change func(*switchboard.InboundNumber) error) (switchboard.InboundNumber, error) {
	s.trunks.users.mu.Lock()
	defer s.trunks.users.mu.Unlock()
	if err := s.trunks.users.check(); err != nil {
		return switchboard.InboundNumber{}, err
	}
	n, err := s.lookup(number)
	if err != nil {
		return switchboard.InboundNumber{}, err
	}
	if err := change(&n); err != nil {
		return switchboard.InboundNumber{}, err
	}
	if n.Number != number {
		return switchboard.InboundNumber{}, switchboard.Errorf(switchboard.EINVALID, "the number of inbound number %s cannot change", number)
	}
	if err := s.check(n); err != nil {
		return switchboard.InboundNumber{}, err
	}
	n.UpdatedAt = time.Now().UTC()
	s.numbers[number] = n
	return n, nil
}

// DeleteInboundNumber removes an inbound number.
func (s *InboundNumberStore) DeleteInboundNumber(_ context.Context, number string) error {
	s.trunks.users.mu.Lock()
	defer s.trunks.users.mu.Unlock()
	if err := s.trunks.users.check(); err != nil {
		return err
	}
	if _, err := s.lookup(number); err != nil {
		return err
	}
	delete(s.numbers, number)
	return nil
}
