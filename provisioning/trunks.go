package provisioning

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard-pbx/switchboard"
)

// NewTrunk is what an admin submits to create a trunk. Zero values mean "use the default":
// port 5060, udp, register, codecs ulaw and alaw, no addresses besides the host, the caller's
// extension as caller ID, no P-Asserted-Identity and no channel limit.
type NewTrunk struct {
	Name      string
	Host      string
	Port      int                        // 0: switchboard.DefaultTrunkPort
	Transport switchboard.TrunkTransport // "": udp
	Auth      switchboard.TrunkAuth      // "": register
	Username  string
	Password  string
	Addresses []string
	Codecs    []string // nil: DefaultTrunkCodecs
	CallerID  string
	SendPAI   bool
	// ChannelLimit is how many calls the trunk carries at once; 0: no limit.
	ChannelLimit int
}

// TrunkPatch changes some fields of a trunk; nil fields are left alone. Addresses and Codecs,
// when set, replace the whole list. Changing Auth to ip drops the account (username and
// password) unless the patch sets them, which is then refused: a trunk known by its address
// has none.
type TrunkPatch struct {
	Host         *string
	Port         *int
	Transport    *switchboard.TrunkTransport
	Auth         *switchboard.TrunkAuth
	Username     *string
	Password     *string
	Addresses    *[]string
	Codecs       *[]string
	CallerID     *string
	SendPAI      *bool
	ChannelLimit *int
}

// TrunkService is what admins do with trunks, validated here and kept in the store. Asterisk
// holds trunks as PJSIP objects (endpoint, AOR, auth, registration, identify): when Sync is
// set, it is told after every trunk created, changed or deleted. An error from it is returned
// (wrapped) although the change itself is stored: the caller learns that Asterisk may lag
// behind, not that nothing happened.
type TrunkService struct {
	Store switchboard.TrunkStore
	// Routes, when set, names the routes that use a trunk about to be deleted, before the
	// store refuses it (nil: the store's word only).
	Routes switchboard.RouteStore
	// Sync, when set, is told after each change to a trunk (nil: nothing is told).
	Sync TrunkSync
	// Status, when set, says what each trunk's provider makes of us (nil: unknown).
	Status TrunkStatuses
}

var _ TrunkStatuses = (*TrunkService)(nil)

// CreateTrunk validates and stores a new trunk; ECONFLICT when one has its name. A trunk
// stored that Asterisk could not be told about is returned with the error.
func (s *TrunkService) CreateTrunk(ctx context.Context, nt NewTrunk) (switchboard.Trunk, error) {
	t := switchboard.Trunk{Name: nt.Name, Host: nt.Host, Port: nt.Port, Transport: nt.Transport, Auth: nt.Auth,
		Username: nt.Username, Password: nt.Password, Addresses: slices.Clone(nt.Addresses),
		Codecs: slices.Clone(nt.Codecs), CallerID: nt.CallerID, SendPAI: nt.SendPAI, ChannelLimit: nt.ChannelLimit}
	if t.Port == 0 {
		t.Port = switchboard.DefaultTrunkPort
	}
	if t.Transport == "" {
		t.Transport = DefaultTrunkTransport
	}
	if t.Auth == "" {
		t.Auth = DefaultTrunkAuth
	}
	if t.Codecs == nil {
		t.Codecs = DefaultTrunkCodecs()
	}
	if t.Addresses == nil {
		t.Addresses = []string{}
	}
	if err := ValidateTrunk(t); err != nil {
		return switchboard.Trunk{}, err
	}
	created, err := s.Store.CreateTrunk(ctx, t)
	if err != nil {
		return switchboard.Trunk{}, fmt.Errorf("create trunk %s: %w", nt.Name, err)
	}
	return created, s.syncTrunks(ctx, nt.Name, "created")
}

// syncTrunks tells Sync, when set, that trunk name was created, changed or deleted (done); its
// error says that the change is stored all the same.
func (s *TrunkService) syncTrunks(ctx context.Context, name, done string) error {
	if s.Sync == nil {
		return nil
	}
	if err := s.Sync.SyncTrunks(ctx); err != nil {
		return fmt.Errorf("trunk %s %s, but Asterisk is not synced yet: %w", name, done, err)
	}
	return nil
}

// Trunk returns one trunk.
func (s *TrunkService) Trunk(ctx context.Context, name string) (switchboard.Trunk, error) {
	if err := ValidateTrunkName(name); err != nil {
		return switchboard.Trunk{}, err
	}
	return s.Store.Trunk(ctx, name)
}

// Trunks returns every trunk, ordered by name.
func (s *TrunkService) Trunks(ctx context.Context) ([]switchboard.Trunk, error) {
	return s.Store.Trunks(ctx)
}

// UpdateTrunk changes the given fields of a trunk, validated whole. A change stored that
// Asterisk could not be told about returns the trunk with the error.
func (s *TrunkService) UpdateTrunk(ctx context.Context, name string, p TrunkPatch) (switchboard.Trunk, error) {
	if err := ValidateTrunkName(name); err != nil {
		return switchboard.Trunk{}, err
	}
	t, err := s.Store.UpdateTrunk(ctx, name, func(t *switchboard.Trunk) error {
		assign(&t.Host, p.Host)
		assign(&t.Port, p.Port)
		assign(&t.Transport, p.Transport)
		if p.Auth != nil && *p.Auth == switchboard.AuthIP && t.Auth != switchboard.AuthIP {
			t.Username, t.Password = "", ""
		}
		assign(&t.Auth, p.Auth)
		assign(&t.Username, p.Username)
		assign(&t.Password, p.Password)
		if p.Addresses != nil {
			t.Addresses = slices.Clone(*p.Addresses)
		}
		if p.Codecs != nil {
			t.Codecs = slices.Clone(*p.Codecs)
		}
		assign(&t.CallerID, p.CallerID)
		assign(&t.SendPAI, p.SendPAI)
		assign(&t.ChannelLimit, p.ChannelLimit)
		return ValidateTrunk(*t)
	})
	if err != nil {
		return switchboard.Trunk{}, fmt.Errorf("update trunk %s: %w", name, err)
	}
	return t, s.syncTrunks(ctx, name, "changed")
}

// assign sets *dst to *v when v is given (a field of a patch).
func assign[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// DeleteTrunk removes a trunk; ECONFLICT while a route (named) or an inbound number uses it.
// Calls on the trunk now are Asterisk's: they go on until they end. An error from Sync comes
// after the trunk is gone.
func (s *TrunkService) DeleteTrunk(ctx context.Context, name string) error {
	if err := ValidateTrunkName(name); err != nil {
		return err
	}
	if s.Routes != nil {
		routes, err := s.Routes.Routes(ctx)
		if err != nil {
			return fmt.Errorf("delete trunk %s: %w", name, err)
		}
		var users []string
		for _, r := range routes {
			if slices.Contains(r.Trunks, name) {
				users = append(users, r.Name)
			}
		}
		switch len(users) {
		case 0:
		case 1:
			return switchboard.Errorf(switchboard.ECONFLICT, "trunk %s is used by route %s", name, users[0])
		default:
			return switchboard.Errorf(switchboard.ECONFLICT, "trunk %s is used by routes %s", name, strings.Join(users, ", "))
		}
	}
	if err := s.Store.DeleteTrunk(ctx, name); err != nil {
		return fmt.Errorf("delete trunk %s: %w", name, err)
	}
	return s.syncTrunks(ctx, name, "deleted")
}

// TrunkStatus says what trunk name's provider makes of us now; UnknownState when the service
// has no Status to ask.
func (s *TrunkService) TrunkStatus(name string) switchboard.TrunkStatus {
	if s.Status == nil {
		return switchboard.TrunkStatus{Name: name, State: switchboard.UnknownState}
	}
	st := s.Status.TrunkStatus(name)
	if st.State == "" {
		st.State = switchboard.UnknownState
	}
	return st
}

// NewRoute is what an admin submits to create an outbound route. Position 0 puts it after the
// last route (RoutePositionStep after it; RoutePositionStep for the first).
type NewRoute struct {
	Name      string
	Position  int
	Patterns  []switchboard.DialPattern // their matches may be lower-case: they are upper-cased
	Trunks    []string                  // in failover order
	Emergency bool
	Users     []string // extensions allowed to use the route; empty: everyone
	CallerID  string
}

// RoutePatch changes some fields of a route; nil fields are left alone, and a list given
// replaces the whole list. Position 0 is the first place, not "after the last".
type RoutePatch struct {
	Position  *int
	Patterns  *[]switchboard.DialPattern
	Trunks    *[]string
	Emergency *bool
	Users     *[]string
	CallerID  *string
}

// RouteService is what admins do with outbound routes, validated here and kept in the store.
// Call control reads the routes when a user dials an outside number, so a change applies to
// the next call, without a configuration pass.
type RouteService struct {
	Store switchboard.RouteStore
	// Changed, when set, is told after every change (call control's copy of the routes is
	// read again: see Outside).
	Changed func()
}

func (s *RouteService) changed() {
	if s.Changed != nil {
		s.Changed()
	}
}

// CreateRoute validates and stores a new route; ECONFLICT when one has its name, EINVALID
// naming a trunk or a user that does not exist.
func (s *RouteService) CreateRoute(ctx context.Context, nr NewRoute) (switchboard.OutboundRoute, error) {
	r := switchboard.OutboundRoute{Name: nr.Name, Position: nr.Position, Patterns: upperPatterns(nr.Patterns),
		Trunks: slices.Clone(nr.Trunks), Emergency: nr.Emergency, Users: slices.Clone(nr.Users), CallerID: nr.CallerID}
	if r.Users == nil {
		r.Users = []string{}
	}
	if err := ValidateRoute(withPosition(r)); err != nil {
		return switchboard.OutboundRoute{}, err
	}
	if r.Position == 0 {
		// After the last one. Two routes created at once may get the same position: the
		// name orders them then.
		routes, err := s.Store.Routes(ctx)
		if err != nil {
			return switchboard.OutboundRoute{}, fmt.Errorf("create route %s: %w", nr.Name, err)
		}
		r.Position = RoutePositionStep
		for _, other := range routes {
			r.Position = max(r.Position, other.Position+RoutePositionStep)
		}
		if err := ValidateRoutePosition(r.Position); err != nil {
			return switchboard.OutboundRoute{}, switchboard.Errorf(switchboard.EINVALID,
				"no position is left after the last route (%d): give one of 0 to %d", r.Position-RoutePositionStep, MaxRoutePosition)
		}
	}
	created, err := s.Store.CreateRoute(ctx, r)
	if err != nil {
		return switchboard.OutboundRoute{}, fmt.Errorf("create route %s: %w", nr.Name, err)
	}
	s.changed()
	return created, nil
}

// withPosition is r with a position that validates, for checking a new route whose position
// is still to be chosen (0).
func withPosition(r switchboard.OutboundRoute) switchboard.OutboundRoute {
	if r.Position == 0 {
		r.Position = RoutePositionStep
	}
	return r
}

// upperPatterns copies patterns with their matches upper-cased: x, z and n are X, Z and N.
func upperPatterns(patterns []switchboard.DialPattern) []switchboard.DialPattern {
	if patterns == nil {
		return nil
	}
	out := make([]switchboard.DialPattern, len(patterns))
	for i, p := range patterns {
		p.Match = strings.ToUpper(p.Match)
		out[i] = p
	}
	return out
}

// Route returns one route.
func (s *RouteService) Route(ctx context.Context, name string) (switchboard.OutboundRoute, error) {
	if err := ValidateRouteName(name); err != nil {
		return switchboard.OutboundRoute{}, err
	}
	return s.Store.Route(ctx, name)
}

// Routes returns every route in the order they are tried.
func (s *RouteService) Routes(ctx context.Context) ([]switchboard.OutboundRoute, error) {
	return s.Store.Routes(ctx)
}

// UpdateRoute changes the given fields of a route, validated whole.
func (s *RouteService) UpdateRoute(ctx context.Context, name string, p RoutePatch) (switchboard.OutboundRoute, error) {
	if err := ValidateRouteName(name); err != nil {
		return switchboard.OutboundRoute{}, err
	}
	r, err := s.Store.UpdateRoute(ctx, name, func(r *switchboard.OutboundRoute) error {
		assign(&r.Position, p.Position)
		if p.Patterns != nil {
			r.Patterns = upperPatterns(*p.Patterns)
		}
		if p.Trunks != nil {
			r.Trunks = slices.Clone(*p.Trunks)
		}
		assign(&r.Emergency, p.Emergency)
		if p.Users != nil {
			r.Users = slices.Clone(*p.Users)
		}
		assign(&r.CallerID, p.CallerID)
		return ValidateRoute(*r)
	})
	if err != nil {
		return switchboard.OutboundRoute{}, fmt.Errorf("update route %s: %w", name, err)
	}
	s.changed()
	return r, nil
}

// DeleteRoute removes a route; the numbers it matched go to the next route that matches them,
// or nowhere.
func (s *RouteService) DeleteRoute(ctx context.Context, name string) error {
	if err := ValidateRouteName(name); err != nil {
		return err
	}
	if err := s.Store.DeleteRoute(ctx, name); err != nil {
		return fmt.Errorf("delete route %s: %w", name, err)
	}
	s.changed()
	return nil
}

// NumberPlan says what has a number of the extension plan: "user", "room", "group" or "queue";
// "" when it is nobody's.
type NumberPlan interface {
	NumberKind(ctx context.Context, number string) (string, error)
}

// NewInboundNumber is what an admin submits to create an inbound number.
type NewInboundNumber struct {
	Number      string
	Name        string
	Trunk       string // "": from any trunk
	Destination switchboard.GroupDestination
}

// InboundNumberPatch changes some fields of an inbound number; nil fields are left alone.
type InboundNumberPatch struct {
	Name        *string
	Trunk       *string // "": from any trunk
	Destination *switchboard.GroupDestination
}

// InboundNumberService is what admins do with inbound numbers (DIDs), validated here and kept
// in the store. Call control reads them when a call comes in from a trunk.
type InboundNumberService struct {
	Store switchboard.InboundNumberStore
	// Numbers, when set, says whose a destination's number is: a destination must be
	// somebody's (nil: not checked).
	Numbers NumberPlan
}

// CreateInboundNumber validates and stores a new inbound number; ECONFLICT when it exists,
// EINVALID when its trunk does not or its destination is nobody's.
func (s *InboundNumberService) CreateInboundNumber(ctx context.Context, nn NewInboundNumber) (switchboard.InboundNumber, error) {
	n := switchboard.InboundNumber{Number: nn.Number, Name: nn.Name, Trunk: nn.Trunk, Destination: nn.Destination}
	if err := ValidateInboundNumber(n); err != nil {
		return switchboard.InboundNumber{}, err
	}
	if err := s.checkDestination(ctx, n.Destination); err != nil {
		return switchboard.InboundNumber{}, err
	}
	created, err := s.Store.CreateInboundNumber(ctx, n)
	if err != nil {
		return switchboard.InboundNumber{}, fmt.Errorf("create inbound number %s: %w", nn.Number, err)
	}
	return created, nil
}

// checkDestination refuses a destination whose number is nobody's, or voicemail to a number
// without a mailbox (a conference room's). Whether a group's or queue's own mailbox is on is
// call control's to find: one that is off hangs up, as for their own unanswered calls.
func (s *InboundNumberService) checkDestination(ctx context.Context, d switchboard.GroupDestination) error {
	if s.Numbers == nil || d.Kind == switchboard.DestinationHangup {
		return nil
	}
	kind, err := s.Numbers.NumberKind(ctx, d.Number)
	if err != nil {
		return fmt.Errorf("check destination %s: %w", d.Number, err)
	}
	switch {
	case kind == "":
		return switchboard.Errorf(switchboard.EINVALID, "destination: number %s is nobody's", d.Number)
	case kind == "room" && d.Kind == switchboard.DestinationVoicemail:
		return switchboard.Errorf(switchboard.EINVALID, "destination: number %s is a conference room, which has no mailbox", d.Number)
	}
	return nil
}

// InboundNumber returns one inbound number.
func (s *InboundNumberService) InboundNumber(ctx context.Context, number string) (switchboard.InboundNumber, error) {
	if err := ValidateDIDNumber(number); err != nil {
		return switchboard.InboundNumber{}, err
	}
	return s.Store.InboundNumber(ctx, number)
}

// InboundNumbers returns every inbound number, ordered by number.
func (s *InboundNumberService) InboundNumbers(ctx context.Context) ([]switchboard.InboundNumber, error) {
	return s.Store.InboundNumbers(ctx)
}

// UpdateInboundNumber changes the given fields of an inbound number, validated whole. A
// destination given is checked to be somebody's; the one kept is not checked again (its number
// may have been deleted since: call control then refuses the call as for a number nobody has).
func (s *InboundNumberService) UpdateInboundNumber(ctx context.Context, number string, p InboundNumberPatch) (switchboard.InboundNumber, error) {
	if err := ValidateDIDNumber(number); err != nil {
		return switchboard.InboundNumber{}, err
	}
	if p.Destination != nil {
		if err := ValidateInboundDestination(*p.Destination); err != nil {
			return switchboard.InboundNumber{}, err
		}
		if err := s.checkDestination(ctx, *p.Destination); err != nil {
			return switchboard.InboundNumber{}, err
		}
	}
	n, err := s.Store.UpdateInboundNumber(ctx, number, func(n *switchboard.InboundNumber) error {
		assign(&n.Name, p.Name)
		assign(&n.Trunk, p.Trunk)
		assign(&n.Destination, p.Destination)
		return ValidateInboundNumber(*n)
	})
	if err != nil {
		return switchboard.InboundNumber{}, fmt.Errorf("update inbound number %s: %w", number, err)
	}
	return n, nil
}

// DeleteInboundNumber removes an inbound number: calls to it are refused from then on.
func (s *InboundNumberService) DeleteInboundNumber(ctx context.Context, number string) error {
	if err := ValidateDIDNumber(number); err != nil {
		return err
	}
	if err := s.Store.DeleteInboundNumber(ctx, number); err != nil {
		return fmt.Errorf("delete inbound number %s: %w", number, err)
	}
	return nil
}
