// Package api is Switchboard's REST admin API (chi): users, presence, voicemail messages and
// greetings, calls, conference rooms, ring groups, call queues, trunks, outbound routes and
// inbound numbers as JSON, with bearer-token auth, an audit trail of every change,
// size-limited bodies that reject unknown fields, one error shape, health and readiness
// checks, Prometheus metrics and an OpenAPI 3 description of itself.
package api

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 64 << 10

// MinTokenLength is the shortest admin token the server accepts.
const MinTokenLength = 16

//go:embed openapi.json
var openAPI []byte

// Check is one readiness dependency (PostgreSQL, ARI).
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Server serves the admin API.
type Server struct {
	Users *provisioning.Service
	Calls CallService // nil until call control is wired
	// Rooms manages conference rooms; nil: the room routes answer 503.
	Rooms *provisioning.RoomService
	// Groups manages ring groups; nil: the group routes answer 503.
	Groups *provisioning.GroupService
	// Queues manages call queues and their agents' logins; nil: the queue routes answer 503.
	Queues *provisioning.QueueService
	// Voicemail manages the messages in users' mailboxes; nil: those routes answer 503.
	Voicemail *provisioning.VoicemailService
	// Trunks manages trunks and tells their status; nil: the trunk routes answer 503.
	Trunks *provisioning.TrunkService
	// Routes manages outbound routes; nil: the route routes answer 503.
	Routes *provisioning.RouteService
	// InboundNumbers manages inbound numbers (DIDs); nil: their routes answer 503.
	InboundNumbers *provisioning.InboundNumberService
	// Audit keeps the audit trail of every change asked of the API (see audit.go); nil:
	// nothing is recorded and /api/v1/audit answers 503.
	Audit switchboard.AuditLog

	Token    string
	Ready    []Check
	Logger   *slog.Logger
	Registry *prometheus.Registry
	// Metrics says who may read /metrics on the API's listener: MetricsOpen (anyone who reaches
	// it, the default), MetricsToken (the admin token, as /api/v1) or MetricsElsewhere (not
	// here: MetricsHandler is served on a listener of its own).
	Metrics MetricsAccess

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewServer checks the configuration and returns a server. The token must be at least
// MinTokenLength characters: an admin API guarded by a guessable token is not guarded.
func NewServer(s Server) (*Server, error) {
	if len(s.Token) < MinTokenLength {
		return nil, fmt.Errorf("admin token must be at least %d characters", MinTokenLength)
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_http_requests_total", Help: "API requests by route and status.",
	}, []string{"method", "route", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "switchboard_http_request_duration_seconds", Help: "API request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"method", "route"})
	s.Registry.MustRegister(s.requests, s.latency)
	return &s, nil
}

// Handler returns the HTTP handler with every route.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, s.observe, middleware.Recoverer)
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", s.readyz)
	switch s.Metrics {
	case MetricsOpen:
		r.Method("GET", "/metrics", s.MetricsHandler())
	case MetricsToken:
		r.With(s.authenticate).Method("GET", "/metrics", s.MetricsHandler())
	}
	r.Get("/api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
	r.Route("/api/v1", func(r chi.Router) {
		// The audit trail comes first, to record the requests authentication refuses too.
		r.Use(s.audit, s.authenticate)
		r.Post("/users", s.createUser)
		r.Get("/users", s.listUsers)
		r.Get("/users/{ext}", s.getUser)
		r.Patch("/users/{ext}", s.patchUser)
		r.Delete("/users/{ext}", s.deleteUser)
		r.Post("/users/{ext}/password", s.resetPassword)
		r.Get("/users/{ext}/presence", s.presence)
		r.Post("/users/{ext}/voicemail/pin", s.resetPIN)
		r.Get("/users/{ext}/voicemail/greetings", s.listGreetings)
		r.Get("/users/{ext}/voicemail/greetings/{greeting}", s.getGreeting)
		r.Put("/users/{ext}/voicemail/greetings/{greeting}", s.putGreeting)
		r.Delete("/users/{ext}/voicemail/greetings/{greeting}", s.deleteGreeting)
		r.Get("/users/{ext}/voicemail/messages", s.listMessages)
		r.Get("/users/{ext}/voicemail/messages/{id}", s.getMessage)
		r.Get("/users/{ext}/voicemail/messages/{id}/audio", s.messageAudio)
		r.Patch("/users/{ext}/voicemail/messages/{id}", s.patchMessage)
		r.Delete("/users/{ext}/voicemail/messages/{id}", s.deleteMessage)
		// A ring group's or call queue's own mailbox, by its number.
		for _, owner := range []string{"/groups/{number}", "/queues/{number}"} {
			r.Get(owner+"/voicemail/greetings", s.listGreetings)
			r.Get(owner+"/voicemail/greetings/{greeting}", s.getGreeting)
			r.Put(owner+"/voicemail/greetings/{greeting}", s.putGreeting)
			r.Delete(owner+"/voicemail/greetings/{greeting}", s.deleteGreeting)
			r.Get(owner+"/voicemail/messages", s.listMessages)
			r.Get(owner+"/voicemail/messages/{id}", s.getMessage)
			r.Get(owner+"/voicemail/messages/{id}/audio", s.messageAudio)
			r.Patch(owner+"/voicemail/messages/{id}", s.patchMessage)
			r.Delete(owner+"/voicemail/messages/{id}", s.deleteMessage)
		}
		r.Get("/calls", s.listCalls)
		r.Get("/calls/{id}", s.getCall)
		r.Delete("/calls/{id}", s.hangupCall)
		r.Post("/rooms", s.createRoom)
		r.Get("/rooms", s.listRooms)
		r.Get("/rooms/{number}", s.getRoom)
		r.Patch("/rooms/{number}", s.patchRoom)
		r.Delete("/rooms/{number}", s.deleteRoom)
		r.Get("/rooms/{number}/participants", s.roomParticipants)
		r.Post("/rooms/{number}/participants/{id}/mute", s.roomAction(muteParticipant(true)))
		r.Post("/rooms/{number}/participants/{id}/unmute", s.roomAction(muteParticipant(false)))
		r.Delete("/rooms/{number}/participants/{id}", s.roomAction(kickParticipant))
		r.Post("/rooms/{number}/lock", s.roomAction(lockRoom(true)))
		r.Post("/rooms/{number}/unlock", s.roomAction(lockRoom(false)))
		r.Post("/groups", s.createGroup)
		r.Get("/groups", s.listGroups)
		r.Get("/groups/{number}", s.getGroup)
		r.Patch("/groups/{number}", s.patchGroup)
		r.Delete("/groups/{number}", s.deleteGroup)
		r.Post("/queues", s.createQueue)
		r.Get("/queues", s.listQueues)
		r.Get("/queues/{number}", s.getQueue)
		r.Patch("/queues/{number}", s.patchQueue)
		r.Delete("/queues/{number}", s.deleteQueue)
		r.Post("/queues/{number}/agents/{ext}/login", s.agentLogin(true))
		r.Post("/queues/{number}/agents/{ext}/logout", s.agentLogin(false))
		r.Post("/trunks", s.createTrunk)
		r.Get("/trunks", s.listTrunks)
		r.Get("/trunks/{name}", s.getTrunk)
		r.Patch("/trunks/{name}", s.patchTrunk)
		r.Delete("/trunks/{name}", s.deleteTrunk)
		r.Post("/routes", s.createRoute)
		r.Get("/routes", s.listRoutes)
		r.Get("/routes/{name}", s.getRoute)
		r.Patch("/routes/{name}", s.patchRoute)
		r.Delete("/routes/{name}", s.deleteRoute)
		r.Post("/inbound-numbers", s.createInboundNumber)
		r.Get("/inbound-numbers", s.listInboundNumbers)
		r.Get("/inbound-numbers/{number}", s.getInboundNumber)
		r.Patch("/inbound-numbers/{number}", s.patchInboundNumber)
		r.Delete("/inbound-numbers/{number}", s.deleteInboundNumber)
		r.Get("/audit", s.listAudit)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, switchboard.Errorf(switchboard.ENOTFOUND, "no route for %s %s", r.Method, r.URL.Path))
	})
	router := r
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allowedMethods(router, r.URL.Path))
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: switchboard.EINVALID,
			Message: fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path)}})
	})
	return r
}

func allowedMethods(routes chi.Routes, path string) string {
	var allowed []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if routes.Match(chi.NewRouteContext(), m, path) {
			allowed = append(allowed, m)
		}
	}
	return strings.Join(allowed, ", ")
}

// authenticate requires "Authorization: Bearer <token>", compared in constant time, and names
// the token as the actor of the request (see setActor).
func (s *Server) authenticate(next http.Handler) http.Handler {
	want := []byte("Bearer " + s.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
			s.writeError(w, r, switchboard.Errorf(switchboard.EUNAUTHORIZED, "missing or wrong bearer token"))
			return
		}
		next.ServeHTTP(w, setActor(r, TokenActor))
	})
}

// observe records metrics per route pattern (never per raw path: extensions would explode the
// label space).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		s.requests.WithLabelValues(r.Method, route, fmt.Sprint(ww.Status())).Inc()
		s.latency.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
	})
}

// MetricsAccess says who may read /metrics (see Server.Metrics).
type MetricsAccess string

// The ways of serving /metrics.
const (
	MetricsOpen      MetricsAccess = ""
	MetricsToken     MetricsAccess = "token"
	MetricsElsewhere MetricsAccess = "listener"
)

// MetricsHandler serves the Prometheus metrics.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
}

// readyz says ready or not, and which dependency is not, without the error itself (an address,
// a driver's message): that goes to the log, for whoever runs the server.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status, checks := http.StatusOK, map[string]string{}
	for _, c := range s.Ready {
		if err := c.Check(ctx); err != nil {
			status, checks[c.Name] = http.StatusServiceUnavailable, "unavailable"
			s.Logger.Warn("not ready", "check", c.Name, "error", err)
		} else {
			checks[c.Name] = "ok"
		}
	}
	body := map[string]any{"status": "ready", "checks": checks}
	if status != http.StatusOK {
		body["status"] = "unavailable"
	}
	writeJSON(w, status, body)
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

var statusOf = map[string]int{
	switchboard.EINVALID:      http.StatusBadRequest,
	switchboard.ENOTFOUND:     http.StatusNotFound,
	switchboard.ECONFLICT:     http.StatusConflict,
	switchboard.EUNAUTHORIZED: http.StatusUnauthorized,
	switchboard.EUNAVAILABLE:  http.StatusServiceUnavailable,
	switchboard.EINTERNAL:     http.StatusInternalServerError,
}

// writeError writes the error shape with the status of its code. Only internal errors are
// logged: the others are the caller's business and already say what went wrong.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := switchboard.ErrorCode(err)
	status := statusOf[code]
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		status = http.StatusRequestEntityTooLarge
	}
	switch code {
	case switchboard.EINTERNAL:
		s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err,
			"request_id", middleware.GetReqID(r.Context()))
	case switchboard.EUNAVAILABLE:
		s.Logger.Warn("dependency unavailable", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: switchboard.ErrorMessage(err)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// decodeJSON reads exactly one JSON object of at most MaxBodyBytes into v, rejecting unknown
// fields and trailing data. An empty body is allowed only when allowEmpty is set.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF) && allowEmpty:
			return nil
		case errors.Is(err, io.EOF):
			return switchboard.Errorf(switchboard.EINVALID, "request body is empty; a JSON object is required")
		case errors.As(err, &tooBig):
			return fmt.Errorf("%w: %w", switchboard.Errorf(switchboard.EINVALID, "request body is larger than %d bytes", MaxBodyBytes), err)
		case errors.As(err, &syntax):
			return switchboard.Errorf(switchboard.EINVALID, "invalid JSON at byte %d: %v", syntax.Offset, syntax)
		case errors.As(err, &typ):
			return switchboard.Errorf(switchboard.EINVALID, "field %q must be a %s", typ.Field, jsonType(typ.Type.Kind().String()))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return switchboard.Errorf(switchboard.EINVALID, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return switchboard.Errorf(switchboard.EINVALID, "invalid JSON: %v", err)
	}
	if dec.More() {
		return switchboard.Errorf(switchboard.EINVALID, "request body must hold exactly one JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return switchboard.Errorf(switchboard.EINVALID, "request body must hold exactly one JSON object")
	}
	return nil
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "struct", "ptr", "map":
		return "object"
	}
	return kind
}
