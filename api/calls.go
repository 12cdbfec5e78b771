package api

import (
	"cmp"
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// CallService lists call records and ends calls in progress (the call control service).
type CallService interface {
	Calls(ctx context.Context, f switchboard.CallFilter) (switchboard.CallPage, error)
	Call(ctx context.Context, id string) (switchboard.CallRecord, error)
	HangupCall(ctx context.Context, id string) error
}

// Call is a call record as the API shows it.
type Call struct {
	ID      string `json:"id"`
	Caller  string `json:"caller"`
	Callee  string `json:"callee"`
	Active  bool   `json:"active"`
	Outcome string `json:"outcome,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// ForwardedTo are the users the call was forwarded to, in order: the last one rang or
	// took it in their mailbox.
	ForwardedTo []string `json:"forwarded_to,omitempty"`
	// TransferredFrom is the call a transfer made this one from.
	TransferredFrom string `json:"transferred_from,omitempty"`
	// AnsweredBy is the extension whose phone answered: the callee, a member of a ring group,
	// the user a forward reached.
	AnsweredBy string `json:"answered_by,omitempty"`
	// Direction is internal, or outbound or inbound for a call through Trunk, whose party in
	// the outside world is External (the number sent, or the caller's number as the provider
	// gave it).
	Direction  string     `json:"direction"`
	Trunk      string     `json:"trunk,omitempty"`
	External   string     `json:"external,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
}

// CallList is a page of calls, newest first.
type CallList struct {
	Calls []Call `json:"calls"`
	Next  string `json:"next,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func toCall(r switchboard.CallRecord) Call {
	return Call{ID: r.ID, Caller: r.Caller, Callee: r.Callee, Active: r.Active(), Outcome: string(r.Outcome),
		Reason: r.Reason, ForwardedTo: r.ForwardedTo, TransferredFrom: r.TransferredFrom, AnsweredBy: r.AnsweredBy,
		Direction: string(cmp.Or(r.Direction, switchboard.Internal)), Trunk: r.Trunk, External: r.External,
		StartedAt: r.StartedAt.UTC(), AnsweredAt: optTime(r.AnsweredAt), EndedAt: optTime(r.EndedAt)}
}

func (s *Server) callService(w http.ResponseWriter, r *http.Request) bool {
	if s.Calls == nil {
		s.writeError(w, r, switchboard.Errorf(switchboard.EUNAVAILABLE, "call control is not running"))
		return false
	}
	return true
}

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) {
	if !s.callService(w, r) {
		return
	}
	q := r.URL.Query()
	f := switchboard.CallFilter{User: q.Get("user"), Before: q.Get("before"), Limit: 100}
	var err error
	if v := q.Get("active"); v != "" {
		if f.Active, err = strconv.ParseBool(v); err != nil {
			s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "active must be true or false"))
			return
		}
	}
	if f.User != "" {
		if err := provisioning.ValidateExtension(f.User); err != nil {
			s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "user must be an extension"))
			return
		}
	}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := q.Get(name); v != "" {
			if *dst, err = time.Parse(time.RFC3339, v); err != nil {
				s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "%s must be an RFC 3339 time, e.g. 2026-11-25T09:00:00Z", name))
				return
			}
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil {
			s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "limit must be a number"))
			return
		}
	}
	if f.Before != "" && !isUUID(f.Before) {
		s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "before must be a call ID"))
		return
	}
	page, err := s.Calls.Calls(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, CallList{Calls: showAll(page.Calls, toCall), Next: page.Next})
}

func (s *Server) getCall(w http.ResponseWriter, r *http.Request) {
	if !s.callService(w, r) {
		return
	}
	id := chi.URLParam(r, "id")
	if !isUUID(id) {
		s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "call ID must be a UUID"))
		return
	}
	c, err := s.Calls.Call(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toCall(c))
}

func (s *Server) hangupCall(w http.ResponseWriter, r *http.Request) {
	if !s.callService(w, r) {
		return
	}
	id := chi.URLParam(r, "id")
	if !isUUID(id) {
		s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "call ID must be a UUID"))
		return
	}
	s.writeDone(w, r, s.Calls.HangupCall(r.Context(), id))
}

// isUUID accepts the canonical 36-character form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}
