package api

import (
	"net/http"

	"github.com/switchboard-pbx/switchboard"
)

// CallService lists and ends calls (implemented by call control).
type CallService interface{}

func (s *Server) callsUnavailable(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, switchboard.Errorf(switchboard.EUNAVAILABLE, "call control is not running"))
}

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request)  { s.callsUnavailable(w, r) }
func (s *Server) getCall(w http.ResponseWriter, r *http.Request)    { s.callsUnavailable(w, r) }
func (s *Server) hangupCall(w http.ResponseWriter, r *http.Request) { s.callsUnavailable(w, r) }
