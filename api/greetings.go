package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-pbx/switchboard"
)

// MaxGreetingBytes bounds a greeting upload: a minute of 48 kHz 16-bit stereo WAV fits.
const MaxGreetingBytes = 12 << 20

// Greeting is a mailbox's greeting as the API shows it.
type Greeting struct {
	Greeting   string    `json:"greeting"`
	DurationMS int64     `json:"duration_ms"`
	Size       int64     `json:"size"`
	UpdatedAt  time.Time `json:"updated_at"`
	AudioURL   string    `json:"audio_url"`
}

// GreetingList is the greetings a mailbox has (those it lacks are Asterisk's own).
type GreetingList struct {
	Greetings []Greeting `json:"greetings"`
}

// toGreeting shows g; owner is the path of its mailbox's owner (/api/v1/users/1002).
func toGreeting(owner string) func(switchboard.GreetingInfo) Greeting {
	return func(g switchboard.GreetingInfo) Greeting {
		return Greeting{Greeting: string(g.Greeting), DurationMS: g.Duration.Milliseconds(), Size: g.Size,
			UpdatedAt: g.Modified.UTC(), AudioURL: owner + "/voicemail/greetings/" + string(g.Greeting)}
	}
}

func (s *Server) listGreetings(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Voicemail != nil, "voicemail greetings") {
		return
	}
	gs, err := s.Voicemail.Greetings(r.Context(), mailboxOf(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, GreetingList{Greetings: showAll(gs, toGreeting(ownerPath(r)))})
}

func (s *Server) getGreeting(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Voicemail != nil, "voicemail greetings") {
		return
	}
	g, ok := s.greetingOf(w, r)
	if !ok {
		return
	}
	a, err := s.Voicemail.GreetingAudio(r.Context(), mailboxOf(r), g)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serveWAV(w, r, string(g), a)
}

// greetingOf reads the greeting a request names; when it is none, it answers 400 and ok is
// false.
func (s *Server) greetingOf(w http.ResponseWriter, r *http.Request) (g switchboard.Greeting, ok bool) {
	g = switchboard.Greeting(chi.URLParam(r, "greeting"))
	if !g.Valid() {
		s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "greeting must be one of %v", switchboard.Greetings))
		return "", false
	}
	return g, true
}

// putGreeting takes the recording as the request body (WAV or MP3, any Content-Type), at most
// MaxGreetingBytes.
func (s *Server) putGreeting(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Voicemail != nil, "voicemail greetings") {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxGreetingBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.writeError(w, r, fmt.Errorf("%w: %w", switchboard.Errorf(switchboard.EINVALID, "a greeting upload may be at most %d bytes", MaxGreetingBytes), err))
		return
	}
	if err != nil {
		s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "read the upload: %v", err))
		return
	}
	g, err := s.Voicemail.SetGreeting(r.Context(), mailboxOf(r), switchboard.Greeting(chi.URLParam(r, "greeting")), body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toGreeting(ownerPath(r))(g))
}

func (s *Server) deleteGreeting(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Voicemail != nil, "voicemail greetings") {
		return
	}
	g, ok := s.greetingOf(w, r)
	if !ok {
		return
	}
	s.writeDone(w, r, s.Voicemail.DeleteGreeting(r.Context(), mailboxOf(r), g))
}
