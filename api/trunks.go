package api

import (
	"cmp"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// Trunk is a trunk as the API shows it. The password is write-only: no response holds it,
// PasswordSet says whether the trunk has one.
type Trunk struct {
	Name         string      `json:"name"`
	Host         string      `json:"host"`
	Port         int         `json:"port"`
	Transport    string      `json:"transport"`
	Auth         string      `json:"auth"`
	Username     string      `json:"username"`
	PasswordSet  bool        `json:"password_set"`
	Addresses    []string    `json:"addresses"`
	Codecs       []string    `json:"codecs"`
	CallerID     string      `json:"caller_id"`
	SendPAI      bool        `json:"send_pai"`
	ChannelLimit int         `json:"channel_limit"`
	Status       TrunkStatus `json:"status"`
	CreatedAt    time.Time   `json:"created_at"`
	UpdatedAt    time.Time   `json:"updated_at"`
}

// TrunkStatus is what a trunk's provider makes of us now, as last seen: state unknown when
// nobody watches Asterisk.
type TrunkStatus struct {
	State    string     `json:"state"`
	Since    *time.Time `json:"since,omitempty"`
	Detail   string     `json:"detail,omitempty"`
	Channels int        `json:"channels"`
}

// TrunkList is every trunk, ordered by name.
type TrunkList struct {
	Trunks []Trunk `json:"trunks"`
}

// CreateTrunkRequest is the body of POST /api/v1/trunks; absent fields take their defaults
// (port 5060, udp, register, codecs ulaw and alaw, no other addresses, no caller ID of its
// own, no P-Asserted-Identity, no channel limit). A trunk that registers needs a username and
// a password; one known by its address (auth ip) has neither.
type CreateTrunkRequest struct {
	Name         string    `json:"name"`
	Host         string    `json:"host"`
	Port         *int      `json:"port,omitempty"`
	Transport    *string   `json:"transport,omitempty"`
	Auth         *string   `json:"auth,omitempty"`
	Username     string    `json:"username,omitempty"`
	Password     string    `json:"password,omitempty"`
	Addresses    []string  `json:"addresses,omitempty"`
	Codecs       *[]string `json:"codecs,omitempty"` // absent: the default; [] is refused
	CallerID     string    `json:"caller_id,omitempty"`
	SendPAI      bool      `json:"send_pai,omitempty"`
	ChannelLimit int       `json:"channel_limit,omitempty"`
}

// PatchTrunkRequest is the body of PATCH /api/v1/trunks/{name}: absent fields stay as they
// are; addresses and codecs, when present, replace the whole list. Changing auth to ip drops
// the account.
type PatchTrunkRequest struct {
	Host         *string   `json:"host,omitempty"`
	Port         *int      `json:"port,omitempty"`
	Transport    *string   `json:"transport,omitempty"`
	Auth         *string   `json:"auth,omitempty"`
	Username     *string   `json:"username,omitempty"`
	Password     *string   `json:"password,omitempty"`
	Addresses    *[]string `json:"addresses,omitempty"`
	Codecs       *[]string `json:"codecs,omitempty"`
	CallerID     *string   `json:"caller_id,omitempty"`
	SendPAI      *bool     `json:"send_pai,omitempty"`
	ChannelLimit *int      `json:"channel_limit,omitempty"`
}

// showTrunk is t as the API shows it, with its status now: never its password.
func (s *Server) showTrunk(t switchboard.Trunk) Trunk {
	st := s.Trunks.TrunkStatus(t.Name)
	return Trunk{Name: t.Name, Host: t.Host, Port: t.Port, Transport: string(t.Transport), Auth: string(t.Auth),
		Username: t.Username, PasswordSet: t.Password != "",
		Addresses: append([]string{}, t.Addresses...), Codecs: append([]string{}, t.Codecs...),
		CallerID: t.CallerID, SendPAI: t.SendPAI, ChannelLimit: t.ChannelLimit,
		Status:    TrunkStatus{State: string(st.State), Since: optTime(st.Since), Detail: st.Detail, Channels: st.Channels},
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

// trunkService answers 503 when the server has no trunk service.
func (s *Server) trunkService(w http.ResponseWriter, r *http.Request) bool {
	return s.available(w, r, s.Trunks != nil, "trunks")
}

func (s *Server) createTrunk(w http.ResponseWriter, r *http.Request) {
	if !s.trunkService(w, r) {
		return
	}
	var req CreateTrunkRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	nt := provisioning.NewTrunk{Name: req.Name, Host: req.Host, Username: req.Username, Password: req.Password,
		Addresses: req.Addresses, CallerID: req.CallerID, SendPAI: req.SendPAI, ChannelLimit: req.ChannelLimit}
	if req.Codecs != nil {
		nt.Codecs = *req.Codecs // [] is none at all, not the default
	}
	// Settings given are checked as given (see setGiven); cmp.Or keeps the first refusal.
	if err := cmp.Or(
		setGiven(req.Port, provisioning.ValidateTrunkPort, &nt.Port),
		setGiven(fromString[switchboard.TrunkTransport](req.Transport), provisioning.ValidateTrunkTransport, &nt.Transport),
		setGiven(fromString[switchboard.TrunkAuth](req.Auth), provisioning.ValidateTrunkAuth, &nt.Auth),
	); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.Trunks.CreateTrunk(r.Context(), nt)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/trunks/"+t.Name)
	writeJSON(w, http.StatusCreated, s.showTrunk(t))
}

func (s *Server) listTrunks(w http.ResponseWriter, r *http.Request) {
	if !s.trunkService(w, r) {
		return
	}
	trunks, err := s.Trunks.Trunks(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, TrunkList{Trunks: showAll(trunks, s.showTrunk)})
}

func (s *Server) getTrunk(w http.ResponseWriter, r *http.Request) {
	if !s.trunkService(w, r) {
		return
	}
	t, err := s.Trunks.Trunk(r.Context(), chi.URLParam(r, "name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.showTrunk(t))
}

func (s *Server) patchTrunk(w http.ResponseWriter, r *http.Request) {
	if !s.trunkService(w, r) {
		return
	}
	var req PatchTrunkRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.Trunks.UpdateTrunk(r.Context(), chi.URLParam(r, "name"), provisioning.TrunkPatch{
		Host: req.Host, Port: req.Port, Transport: fromString[switchboard.TrunkTransport](req.Transport),
		Auth: fromString[switchboard.TrunkAuth](req.Auth), Username: req.Username, Password: req.Password,
		Addresses: req.Addresses, Codecs: req.Codecs, CallerID: req.CallerID, SendPAI: req.SendPAI, ChannelLimit: req.ChannelLimit})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.showTrunk(t))
}

// deleteTrunk deletes a trunk no route uses (409 otherwise). Calls on it now go on.
func (s *Server) deleteTrunk(w http.ResponseWriter, r *http.Request) {
	if !s.trunkService(w, r) {
		return
	}
	s.writeDone(w, r, s.Trunks.DeleteTrunk(r.Context(), chi.URLParam(r, "name")))
}

// OutboundRoute is an outbound route as the API shows it.
type OutboundRoute struct {
	Name      string        `json:"name"`
	Position  int           `json:"position"`
	Patterns  []DialPattern `json:"patterns"`
	Trunks    []string      `json:"trunks"`
	Emergency bool          `json:"emergency"`
	// Users may use the route; empty: everyone.
	Users     []string  `json:"users"`
	CallerID  string    `json:"caller_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DialPattern is one way of dialling a route's numbers: prefix (dialled first, stripped),
// match (Asterisk's pattern letters) and prepend (sent before the number).
type DialPattern struct {
	Prefix  string `json:"prefix"`
	Match   string `json:"match"`
	Prepend string `json:"prepend"`
}

// RouteList is every route, in the order they are tried.
type RouteList struct {
	Routes []OutboundRoute `json:"routes"`
}

// CreateRouteRequest is the body of POST /api/v1/routes. Position absent or 0 puts the route
// after the last one; users absent or empty lets everyone use it.
type CreateRouteRequest struct {
	Name      string        `json:"name"`
	Position  int           `json:"position,omitempty"`
	Patterns  []DialPattern `json:"patterns"`
	Trunks    []string      `json:"trunks"`
	Emergency bool          `json:"emergency,omitempty"`
	Users     []string      `json:"users,omitempty"`
	CallerID  string        `json:"caller_id,omitempty"`
}

// PatchRouteRequest is the body of PATCH /api/v1/routes/{name}: absent fields stay as they
// are; a list present replaces the whole list. Position 0 is the first place.
type PatchRouteRequest struct {
	Position  *int           `json:"position,omitempty"`
	Patterns  *[]DialPattern `json:"patterns,omitempty"`
	Trunks    *[]string      `json:"trunks,omitempty"`
	Emergency *bool          `json:"emergency,omitempty"`
	Users     *[]string      `json:"users,omitempty"`
	CallerID  *string        `json:"caller_id,omitempty"`
}

func toRoute(r switchboard.OutboundRoute) OutboundRoute {
	patterns := make([]DialPattern, 0, len(r.Patterns))
	for _, p := range r.Patterns {
		patterns = append(patterns, DialPattern{Prefix: p.Prefix, Match: p.Match, Prepend: p.Prepend})
	}
	return OutboundRoute{Name: r.Name, Position: r.Position, Patterns: patterns, Trunks: append([]string{}, r.Trunks...),
		Emergency: r.Emergency, Users: append([]string{}, r.Users...), CallerID: r.CallerID,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func fromPatterns(patterns []DialPattern) []switchboard.DialPattern {
	if patterns == nil {
		return nil
	}
	out := make([]switchboard.DialPattern, 0, len(patterns))
	for _, p := range patterns {
		out = append(out, switchboard.DialPattern{Prefix: p.Prefix, Match: p.Match, Prepend: p.Prepend})
	}
	return out
}

// routeService answers 503 when the server has no route service.
func (s *Server) routeService(w http.ResponseWriter, r *http.Request) bool {
	return s.available(w, r, s.Routes != nil, "outbound routes")
}

func (s *Server) createRoute(w http.ResponseWriter, r *http.Request) {
	if !s.routeService(w, r) {
		return
	}
	var req CreateRouteRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	route, err := s.Routes.CreateRoute(r.Context(), provisioning.NewRoute{Name: req.Name, Position: req.Position,
		Patterns: fromPatterns(req.Patterns), Trunks: req.Trunks, Emergency: req.Emergency, Users: req.Users, CallerID: req.CallerID})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/routes/"+route.Name)
	writeJSON(w, http.StatusCreated, toRoute(route))
}

func (s *Server) listRoutes(w http.ResponseWriter, r *http.Request) {
	if !s.routeService(w, r) {
		return
	}
	routes, err := s.Routes.Routes(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, RouteList{Routes: showAll(routes, toRoute)})
}

func (s *Server) getRoute(w http.ResponseWriter, r *http.Request) {
	if !s.routeService(w, r) {
		return
	}
	route, err := s.Routes.Route(r.Context(), chi.URLParam(r, "name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRoute(route))
}

func (s *Server) patchRoute(w http.ResponseWriter, r *http.Request) {
	if !s.routeService(w, r) {
		return
	}
	var req PatchRouteRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := provisioning.RoutePatch{Position: req.Position, Trunks: req.Trunks, Emergency: req.Emergency, Users: req.Users, CallerID: req.CallerID}
	if req.Patterns != nil {
		patterns := fromPatterns(*req.Patterns)
		p.Patterns = &patterns
	}
	route, err := s.Routes.UpdateRoute(r.Context(), chi.URLParam(r, "name"), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRoute(route))
}

func (s *Server) deleteRoute(w http.ResponseWriter, r *http.Request) {
	if !s.routeService(w, r) {
		return
	}
	s.writeDone(w, r, s.Routes.DeleteRoute(r.Context(), chi.URLParam(r, "name")))
}

// InboundNumber is an inbound number (DID) as the API shows it: destination is where its
// calls go, as a group's no_answer says (hangup, voicemail of a number, or a number).
type InboundNumber struct {
	Number      string           `json:"number"`
	Name        string           `json:"name"`
	Trunk       string           `json:"trunk"`
	Destination GroupDestination `json:"destination"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
}

// InboundNumberList is every inbound number, ordered by number.
type InboundNumberList struct {
	InboundNumbers []InboundNumber `json:"inbound_numbers"`
}

// CreateInboundNumberRequest is the body of POST /api/v1/inbound-numbers. Trunk absent or ""
// accepts the number from any trunk.
type CreateInboundNumberRequest struct {
	Number      string            `json:"number"`
	Name        string            `json:"name,omitempty"`
	Trunk       string            `json:"trunk,omitempty"`
	Destination *GroupDestination `json:"destination"`
}

// PatchInboundNumberRequest is the body of PATCH /api/v1/inbound-numbers/{number}: absent
// fields stay as they are.
type PatchInboundNumberRequest struct {
	Name        *string           `json:"name,omitempty"`
	Trunk       *string           `json:"trunk,omitempty"`
	Destination *GroupDestination `json:"destination,omitempty"`
}

func toInboundNumber(n switchboard.InboundNumber) InboundNumber {
	return InboundNumber{Number: n.Number, Name: n.Name, Trunk: n.Trunk,
		Destination: GroupDestination{Kind: string(n.Destination.Kind), Number: n.Destination.Number},
		CreatedAt:   n.CreatedAt.UTC(), UpdatedAt: n.UpdatedAt.UTC()}
}

// inboundNumberParam is the number of the path: + as it is or escaped (%2B), as clients that
// escape every + in a path send it.
func inboundNumberParam(r *http.Request) string {
	number := chi.URLParam(r, "number")
	if unescaped, err := url.PathUnescape(number); err == nil {
		return unescaped
	}
	return number
}

// inboundService answers 503 when the server has no inbound number service.
func (s *Server) inboundService(w http.ResponseWriter, r *http.Request) bool {
	return s.available(w, r, s.InboundNumbers != nil, "inbound numbers")
}

func (s *Server) createInboundNumber(w http.ResponseWriter, r *http.Request) {
	if !s.inboundService(w, r) {
		return
	}
	var req CreateInboundNumberRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	nn := provisioning.NewInboundNumber{Number: req.Number, Name: req.Name, Trunk: req.Trunk}
	if d := fromDestination(req.Destination); d != nil {
		nn.Destination = *d
	}
	n, err := s.InboundNumbers.CreateInboundNumber(r.Context(), nn)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/inbound-numbers/"+url.PathEscape(n.Number))
	writeJSON(w, http.StatusCreated, toInboundNumber(n))
}

func (s *Server) listInboundNumbers(w http.ResponseWriter, r *http.Request) {
	if !s.inboundService(w, r) {
		return
	}
	numbers, err := s.InboundNumbers.InboundNumbers(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, InboundNumberList{InboundNumbers: showAll(numbers, toInboundNumber)})
}

func (s *Server) getInboundNumber(w http.ResponseWriter, r *http.Request) {
	if !s.inboundService(w, r) {
		return
	}
	n, err := s.InboundNumbers.InboundNumber(r.Context(), inboundNumberParam(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toInboundNumber(n))
}

func (s *Server) patchInboundNumber(w http.ResponseWriter, r *http.Request) {
	if !s.inboundService(w, r) {
		return
	}
	var req PatchInboundNumberRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.InboundNumbers.UpdateInboundNumber(r.Context(), inboundNumberParam(r), provisioning.InboundNumberPatch{
		Name: req.Name, Trunk: req.Trunk, Destination: fromDestination(req.Destination)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toInboundNumber(n))
}

func (s *Server) deleteInboundNumber(w http.ResponseWriter, r *http.Request) {
	if !s.inboundService(w, r) {
		return
	}
	s.writeDone(w, r, s.InboundNumbers.DeleteInboundNumber(r.Context(), inboundNumberParam(r)))
}
