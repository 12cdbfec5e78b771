package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// User is a user as the API shows it. Credentials never leave the server; Password is set
// only in the response that generated it.
type User struct {
	Extension   string    `json:"extension"`
	Name        string    `json:"name"`
	Voicemail   Voicemail `json:"voicemail"`
	RingTimeout int       `json:"ring_timeout"`
	Password    string    `json:"password,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Voicemail is a user's mailbox settings.
type Voicemail struct {
	Enabled bool   `json:"enabled"`
	PIN     string `json:"pin,omitempty"`
}

// CreateUserRequest is the body of POST /api/v1/users.
type CreateUserRequest struct {
	Extension   string           `json:"extension"`
	Name        string           `json:"name"`
	Password    string           `json:"password,omitempty"`
	Voicemail   *VoicemailChange `json:"voicemail,omitempty"`
	RingTimeout *int             `json:"ring_timeout,omitempty"`
}

// PatchUserRequest is the body of PATCH /api/v1/users/{ext}: absent fields stay as they are.
type PatchUserRequest struct {
	Name        *string          `json:"name,omitempty"`
	Password    *string          `json:"password,omitempty"`
	Voicemail   *VoicemailChange `json:"voicemail,omitempty"`
	RingTimeout *int             `json:"ring_timeout,omitempty"`
}

// VoicemailChange sets voicemail fields; absent fields keep their value (or default).
type VoicemailChange struct {
	Enabled *bool   `json:"enabled,omitempty"`
	PIN     *string `json:"pin,omitempty"`
}

// PasswordRequest is the optional body of POST /api/v1/users/{ext}/password.
type PasswordRequest struct {
	Password string `json:"password,omitempty"`
}

// PasswordResponse answers a password reset; Password is set only when it was generated.
type PasswordResponse struct {
	Extension string `json:"extension"`
	Password  string `json:"password,omitempty"`
}

// UserList is a page of users; Next is the "after" of the next page, absent on the last.
type UserList struct {
	Users []User `json:"users"`
	Next  string `json:"next,omitempty"`
}

// Presence is a user's phone state.
type Presence struct {
	Extension     string `json:"extension"`
	State         string `json:"state"`
	EndpointState string `json:"endpoint_state"`
	DeviceState   string `json:"device_state,omitempty"`
	Channels      int    `json:"channels"`
}

func toUser(u switchboard.User) User {
	return User{
		Extension: u.Extension, Name: u.Name, RingTimeout: u.RingTimeout,
		Voicemail: Voicemail{Enabled: u.Voicemail.Enabled, PIN: u.Voicemail.PIN},
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var req CreateUserRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	nu := provisioning.NewUser{Extension: req.Extension, Name: req.Name, Password: req.Password,
		RingTimeout: provisioning.DefaultRingTimeout}
	if req.RingTimeout != nil {
		// An explicit value is checked as given: 0 is out of range, not "the default".
		if err := provisioning.ValidateRingTimeout(*req.RingTimeout); err != nil {
			s.writeError(w, r, err)
			return
		}
		nu.RingTimeout = *req.RingTimeout
	}
	if req.Voicemail != nil {
		vm := switchboard.Mailbox{Enabled: true}
		if req.Voicemail.Enabled != nil {
			vm.Enabled = *req.Voicemail.Enabled
		}
		if req.Voicemail.PIN != nil {
			vm.PIN = *req.Voicemail.PIN
		}
		nu.Voicemail = &vm
	}
	u, password, err := s.Users.CreateUser(r.Context(), nu)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toUser(u)
	out.Password = password
	w.Header().Set("Location", "/api/v1/users/"+u.Extension)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "limit must be a number"))
			return
		}
		limit = n
	}
	page, err := s.Users.Users(r.Context(), r.URL.Query().Get("after"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := UserList{Users: make([]User, 0, len(page.Users)), Next: page.Next}
	for _, u := range page.Users {
		out.Users = append(out.Users, toUser(u))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.Users.User(r.Context(), chi.URLParam(r, "ext"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUser(u))
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) {
	var req PatchUserRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	p := provisioning.UserPatch{Name: req.Name, Password: req.Password, RingTimeout: req.RingTimeout}
	if req.Voicemail != nil {
		p.Voicemail = &provisioning.VoicemailPatch{Enabled: req.Voicemail.Enabled, PIN: req.Voicemail.PIN}
	}
	u, err := s.Users.UpdateUser(r.Context(), chi.URLParam(r, "ext"), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUser(u))
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	if err := s.Users.DeleteUser(r.Context(), chi.URLParam(r, "ext")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	var req PasswordRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	ext := chi.URLParam(r, "ext")
	password, err := s.Users.ResetPassword(r.Context(), ext, req.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, PasswordResponse{Extension: ext, Password: password})
}

func (s *Server) presence(w http.ResponseWriter, r *http.Request) {
	p, err := s.Users.UserPresence(r.Context(), chi.URLParam(r, "ext"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Presence{Extension: p.Extension, State: string(p.State),
		EndpointState: p.EndpointState, DeviceState: p.DeviceState, Channels: p.Channels})
}
