package api

import (
	"context"
	"net/http"

	"github.com/switchboard-pbx/switchboard"
)

// What the handlers of users, calls, rooms, groups and queues answer alike.

// showAll shows each of items as the API does; never nil, so that an empty list is [] in JSON.
func showAll[T, V any](items []T, show func(T) V) []V {
	out := make([]V, 0, len(items))
	for _, item := range items {
		out = append(out, show(item))
	}
	return out
}

// setGiven checks an optional setting of a create request and sets *dst to it; an absent
// one (nil) leaves *dst alone, for the service to take its default. An explicit value is
// checked as given: "" and 0 are out of range, not "the default".
func setGiven[T any](given *T, validate func(T) error, dst *T) error {
	if given == nil {
		return nil
	}
	if err := validate(*given); err != nil {
		return err
	}
	*dst = *given
	return nil
}

// liveState returns what call control says of a room or a queue (what) now, shown by show.
// A room or queue is managed while call control is away, so its absence gives nil (and a
// warning in the log) rather than failing the request; any other error is written, and ok is
// false.
func liveState[T, V any](s *Server, w http.ResponseWriter, r *http.Request, what, number string,
	state func(context.Context, string) (T, error), show func(T) V) (live *V, ok bool) {
	st, err := state(r.Context(), number)
	switch switchboard.ErrorCode(err) {
	case "":
		v := show(st)
		return &v, true
	case switchboard.EUNAVAILABLE:
		s.Logger.Warn(what+" shown without its live state", what, number, "error", err)
		return nil, true
	}
	s.writeError(w, r, err)
	return nil, false
}

// writeDone answers 204 No Content for an action without a result (a deletion, a mute), or
// the error it failed with.
func (s *Server) writeDone(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// available reports whether the server has the optional service of what ("ring groups"): ok
// says whether it was given. Without it, it answers 503.
func (s *Server) available(w http.ResponseWriter, r *http.Request, ok bool, what string) bool {
	if !ok {
		s.writeError(w, r, switchboard.Errorf(switchboard.EUNAVAILABLE, "%s are not available", what))
	}
	return ok
}

// fromString converts an optional string of a request to the domain's type of it (a
// strategy); absent (nil) stays absent.
func fromString[T ~string](s *string) *T {
	if s == nil {
		return nil
	}
	v := T(*s)
	return &v
}
