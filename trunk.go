package switchboard

import (
	"context"
	"time"
)

// Trunk is a SIP provider: where calls to the outside world go and where calls from it come
// from. Asterisk knows it as the endpoint, AOR and (outbound) auth trunk-<Name>, with a
// registration when it authenticates by registering and an identify that accepts inbound
// calls from its addresses only.
type Trunk struct {
	Name      string // [a-z0-9-], 1-32: it names the trunk's Asterisk objects
	Host      string // the provider's address: a host name or an IP address
	Port      int    // 5060 unless the provider says otherwise
	Transport TrunkTransport
	Auth      TrunkAuth
	// Username and Password are the account at the provider (Auth register). The password is
	// kept reversibly (Asterisk answers the provider's challenges with it): it never appears
	// in API responses or logs, and only Asterisk and the control plane can read the file
	// that holds it.
	Username string
	Password string
	// Addresses are the networks (CIDR or single addresses) besides Host that inbound calls may
	// come from: the provider's signalling servers. Calls from anywhere else never reach the
	// trunk.
	Addresses []string
	Codecs    []string // in order of preference, from TrunkCodecs; ulaw, alaw by default
	// CallerID is the number sent on calls that no route or user gives one of their own (the
	// site's main number); "" sends the caller's extension.
	CallerID string
	// SendPAI adds a P-Asserted-Identity with the caller ID sent (many providers require it).
	SendPAI bool
	// ChannelLimit is how many calls (both directions) the trunk carries at once; 0: no limit.
	// A call beyond it goes to the next trunk of its route.
	ChannelLimit int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TrunkTransport is how SIP reaches the provider.
type TrunkTransport string

// The transports.
const (
	TransportUDP TrunkTransport = "udp"
	TransportTCP TrunkTransport = "tcp"
)

// TrunkAuth is how the provider knows the calls are ours.
type TrunkAuth string

// The ways of authenticating.
const (
	// AuthRegister registers with the provider by username and password, and answers its
	// challenges with them.
	AuthRegister TrunkAuth = "register"
	// AuthIP: the provider knows us by our address; no registration, no password.
	AuthIP TrunkAuth = "ip"
)

// TrunkCodecs are the codecs a trunk may offer, by their Asterisk names.
var TrunkCodecs = []string{"ulaw", "alaw", "g722", "gsm"}

// Limits of trunks.
const (
	DefaultTrunkPort = 5060
	MaxTrunkChannels = 10000
)

// TrunkStore keeps trunks. Names are unique (ECONFLICT); a trunk a route uses cannot be
// deleted (ECONFLICT, naming the route).
type TrunkStore interface {
	CreateTrunk(ctx context.Context, t Trunk) (Trunk, error)
	Trunk(ctx context.Context, name string) (Trunk, error)
	// Trunks returns every trunk, ordered by name.
	Trunks(ctx context.Context) ([]Trunk, error)
	UpdateTrunk(ctx context.Context, name string, change func(*Trunk) error) (Trunk, error)
	DeleteTrunk(ctx context.Context, name string) error
}

// RegistrationState is what a trunk's provider makes of us now.
type RegistrationState string

// The states.
const (
	Registered   RegistrationState = "registered"    // the provider accepted our registration
	Registering  RegistrationState = "registering"   // not registered yet (or again): trying
	Rejected     RegistrationState = "rejected"      // the provider refused it (wrong account or password)
	Unreachable  RegistrationState = "unreachable"   // the provider does not answer
	Reachable    RegistrationState = "reachable"     // an IP trunk whose provider answers
	UnknownState RegistrationState = "unknown"       // Asterisk could not be asked
	NotMonitored RegistrationState = "not_monitored" // Asterisk does not hold the trunk (yet)
)

// TrunkStatus is a trunk's state and since when it has been in it.
type TrunkStatus struct {
	Name   string
	State  RegistrationState
	Since  time.Time
	Detail string // what Asterisk said, sanitised (e.g. the status code of a rejection)
	// Channels are the calls on the trunk now.
	Channels int
}

// OutboundRoute sends the numbers it matches to the outside world through its trunks, in
// order: a trunk that is down, at its channel limit, or answers with a server error or not at
// all passes the call to the next one. Routes are tried in Position order; the first that
// matches the dialled number decides (an emergency route always before any other, and before
// the extension plan).
type OutboundRoute struct {
	Name     string // [a-z0-9-], 1-32
	Position int    // the order routes are tried in (lower first)
	Patterns []DialPattern
	Trunks   []string // trunk names, in failover order
	// Emergency routes can be used by every user whatever the route's Users or the user's own
	// settings, and are matched before anything else, extensions included.
	Emergency bool
	// Users are the extensions allowed to use the route; empty: everyone.
	Users []string
	// CallerID, when set, is sent on every call of the route, whoever calls.
	CallerID  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DialPattern is one way of dialling a route's numbers: Prefix, dialled first and stripped,
// then a number that matches Match (Asterisk's pattern letters: X any digit, Z 1-9, N 2-9,
// [1-5] a set, a trailing . one or more of anything, other characters themselves), sent with
// Prepend before it. "9" + "NXXXXXXXX" dials 9 0123... and sends 0123...; "" + "112" sends 112.
type DialPattern struct {
	Prefix  string
	Match   string
	Prepend string
}

// RouteStore keeps outbound routes. Names are unique (ECONFLICT); every trunk named must exist
// (EINVALID otherwise).
type RouteStore interface {
	CreateRoute(ctx context.Context, r OutboundRoute) (OutboundRoute, error)
	Route(ctx context.Context, name string) (OutboundRoute, error)
	// Routes returns every route in the order they are tried (Position, then name).
	Routes(ctx context.Context) ([]OutboundRoute, error)
	UpdateRoute(ctx context.Context, name string, change func(*OutboundRoute) error) (OutboundRoute, error)
	DeleteRoute(ctx context.Context, name string) error
}

// InboundNumber (a DID) is a number the outside world calls us on, and where such a call goes:
// a user, a ring group, a conference room or a call queue by number, or a mailbox. A number
// arriving that no InboundNumber has is refused (404).
type InboundNumber struct {
	Number string // as the provider sends it: digits, with an optional leading +
	Name   string // what it is ("Main line", "Support"), for admins
	// Trunk, when set, accepts the number only from that trunk; "" from any.
	Trunk       string
	Destination GroupDestination
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// InboundNumberStore keeps inbound numbers; numbers are unique (ECONFLICT).
type InboundNumberStore interface {
	CreateInboundNumber(ctx context.Context, n InboundNumber) (InboundNumber, error)
	InboundNumber(ctx context.Context, number string) (InboundNumber, error)
	// InboundNumbers returns every inbound number, ordered by number.
	InboundNumbers(ctx context.Context) ([]InboundNumber, error)
	UpdateInboundNumber(ctx context.Context, number string, change func(*InboundNumber) error) (InboundNumber, error)
	DeleteInboundNumber(ctx context.Context, number string) error
}

// Direction says whether a call stayed inside or crossed a trunk.
type Direction string

// The directions.
const (
	Internal Direction = "internal"
	Outbound Direction = "outbound" // a user called an outside number
	Inbound  Direction = "inbound"  // the outside world called a DID
)

// Reasons of calls through trunks.
const (
	ReasonRouteDenied   = "route_denied"   // the caller may not use the route the number matched
	ReasonNoRoute       = "no_route"       // the number matched no route
	ReasonTrunksFailed  = "trunks_failed"  // every trunk of the route was down, full or failed
	ReasonUnknownNumber = "unknown_number" // an inbound call to a number that is no DID of ours
)
