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
	Email       string    `json:"email,omitempty"` // where new voicemail messages are mailed; absent for none
	Voicemail   Voicemail `json:"voicemail"`
	RingTimeout int       `json:"ring_timeout"`
	CallWaiting bool      `json:"call_waiting"`
	DND         bool      `json:"dnd"`
	MaxDevices  int       `json:"max_devices"`
	Forwards    Forwards  `json:"forwards"`
	Password    string    `json:"password,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// OutboundCallerID is sent to the outside world on the user's calls through a trunk
	// (unless their route sends its own); absent for none (the trunk's is sent).
	OutboundCallerID string `json:"outbound_caller_id,omitempty"`
}

// Forwards are where a user's calls go instead of ringing them.
type Forwards struct {
	Unconditional Forward `json:"unconditional"`
	Busy          Forward `json:"busy"`
	NoAnswer      Forward `json:"no_answer"`
}

// Forward sends calls to another number while enabled.
type Forward struct {
	Enabled     bool   `json:"enabled"`
	Destination string `json:"destination"`
}

// ForwardsChange sets forwards; absent ones keep their value.
type ForwardsChange struct {
	Unconditional *ForwardChange `json:"unconditional,omitempty"`
	Busy          *ForwardChange `json:"busy,omitempty"`
	NoAnswer      *ForwardChange `json:"no_answer,omitempty"`
}

// ForwardChange sets a forward's fields; absent fields keep their value.
type ForwardChange struct {
	Enabled     *bool   `json:"enabled,omitempty"`
	Destination *string `json:"destination,omitempty"`
}

// Voicemail is a user's mailbox settings. The PIN is shown only when the server generated it
// (in the response that did); PINSet says whether the mailbox has one.
type Voicemail struct {
	Enabled bool   `json:"enabled"`
	PIN     string `json:"pin,omitempty"`
	PINSet  bool   `json:"pin_set"`
}

// CreateUserRequest is the body of POST /api/v1/users.
type CreateUserRequest struct {
	Extension   string           `json:"extension"`
	Name        string           `json:"name"`
	Email       *string          `json:"email,omitempty"` // absent or "": no address
	Password    string           `json:"password,omitempty"`
	Voicemail   *VoicemailChange `json:"voicemail,omitempty"`
	RingTimeout *int             `json:"ring_timeout,omitempty"`
	CallSettingsChange
	// OutboundCallerID is absent or "" for none.
	OutboundCallerID string `json:"outbound_caller_id,omitempty"`
}

// CallSettingsChange sets call settings; absent fields keep their value (or default).
type CallSettingsChange struct {
	CallWaiting *bool           `json:"call_waiting,omitempty"`
	DND         *bool           `json:"dnd,omitempty"`
	MaxDevices  *int            `json:"max_devices,omitempty"`
	Forwards    *ForwardsChange `json:"forwards,omitempty"`
}

// PatchUserRequest is the body of PATCH /api/v1/users/{ext}: absent fields stay as they are.
type PatchUserRequest struct {
	Name        *string          `json:"name,omitempty"`
	Email       *string          `json:"email,omitempty"` // "" removes the address
	Password    *string          `json:"password,omitempty"`
	Voicemail   *VoicemailChange `json:"voicemail,omitempty"`
	RingTimeout *int             `json:"ring_timeout,omitempty"`
	CallSettingsChange
	// OutboundCallerID "" removes the user's own.
	OutboundCallerID *string `json:"outbound_caller_id,omitempty"`
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

// PINRequest is the optional body of POST /api/v1/users/{ext}/voicemail/pin.
type PINRequest struct {
	PIN string `json:"pin,omitempty"`
}

// PINResponse answers a PIN reset; PIN is set only when it was generated.
type PINResponse struct {
	Extension string `json:"extension"`
	PIN       string `json:"pin,omitempty"`
}

// UserList is a page of users; Next is the "after" of the next page, absent on the last.
type UserList struct {
	Users []User `json:"users"`
	Next  string `json:"next,omitempty"`
}

// Presence is a user's phone state.
type Presence struct {
	Extension     string   `json:"extension"`
	State         string   `json:"state"`
	EndpointState string   `json:"endpoint_state"`
	DeviceState   string   `json:"device_state,omitempty"`
	Channels      int      `json:"channels"`
	Devices       []Device `json:"devices"`
}

// Device is one registered phone.
type Device struct {
	Contact   string `json:"contact"`
	UserAgent string `json:"user_agent,omitempty"`
	Status    string `json:"status,omitempty"`
}

func toUser(u switchboard.User) User {
	f := u.Calls.Forwards
	return User{
		Extension: u.Extension, Name: u.Name, Email: u.Email, OutboundCallerID: u.OutboundCallerID, RingTimeout: u.RingTimeout,
		Voicemail:   Voicemail{Enabled: u.Voicemail.Enabled, PINSet: u.Voicemail.PIN != ""},
		CallWaiting: u.Calls.CallWaiting, DND: u.Calls.DND, MaxDevices: u.Calls.MaxDevices,
		Forwards: Forwards{
			Unconditional: Forward{Enabled: f.Unconditional.Enabled, Destination: f.Unconditional.Destination},
			Busy:          Forward{Enabled: f.Busy.Enabled, Destination: f.Busy.Destination},
			NoAnswer:      Forward{Enabled: f.NoAnswer.Enabled, Destination: f.NoAnswer.Destination},
		},
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
}

// patch is the call settings a request changes, or nil when it changes none.
func (c CallSettingsChange) patch() *provisioning.CallSettingsPatch {
	if c.CallWaiting == nil && c.DND == nil && c.MaxDevices == nil && c.Forwards == nil {
		return nil
	}
	p := &provisioning.CallSettingsPatch{CallWaiting: c.CallWaiting, DND: c.DND, MaxDevices: c.MaxDevices}
	if f := c.Forwards; f != nil {
		p.Unconditional, p.Busy, p.NoAnswer = f.Unconditional.patch(), f.Busy.patch(), f.NoAnswer.patch()
	}
	return p
}

func (f *ForwardChange) patch() *provisioning.ForwardPatch {
	if f == nil {
		return nil
	}
	return &provisioning.ForwardPatch{Enabled: f.Enabled, Destination: f.Destination}
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var req CreateUserRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	nu := provisioning.NewUser{Extension: req.Extension, Name: req.Name, Password: req.Password,
		OutboundCallerID: req.OutboundCallerID, RingTimeout: provisioning.DefaultRingTimeout}
	if req.Email != nil {
		nu.Email = *req.Email
	}
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
	nu.Calls = req.CallSettingsChange.patch()
	u, password, err := s.Users.CreateUser(r.Context(), nu)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toUser(u)
	out.Password = password
	if u.Voicemail.Enabled && (nu.Voicemail == nil || nu.Voicemail.PIN == "") {
		out.Voicemail.PIN = u.Voicemail.PIN // generated: shown once
	}
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
	writeJSON(w, http.StatusOK, UserList{Users: showAll(page.Users, toUser), Next: page.Next})
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
	p := provisioning.UserPatch{Name: req.Name, Email: req.Email, Password: req.Password,
		OutboundCallerID: req.OutboundCallerID, RingTimeout: req.RingTimeout, Calls: req.CallSettingsChange.patch()}
	p.Voicemail = voicemailPatch(req.Voicemail)
	u, err := s.Users.UpdateUser(r.Context(), chi.URLParam(r, "ext"), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toUser(u)
	out.Voicemail.PIN = generatedBy(p.Voicemail) // shown once
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	s.writeDone(w, r, s.Users.DeleteUser(r.Context(), chi.URLParam(r, "ext")))
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

func (s *Server) resetPIN(w http.ResponseWriter, r *http.Request) {
	var req PINRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	ext := chi.URLParam(r, "ext")
	pin, err := s.Users.ResetPIN(r.Context(), ext, req.PIN)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, PINResponse{Extension: ext, PIN: pin})
}

func (s *Server) presence(w http.ResponseWriter, r *http.Request) {
	p, err := s.Users.UserPresence(r.Context(), chi.URLParam(r, "ext"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := Presence{Extension: p.Extension, State: string(p.State), EndpointState: p.EndpointState,
		DeviceState: p.DeviceState, Channels: p.Channels, Devices: []Device{}}
	for _, d := range p.Devices {
		out.Devices = append(out.Devices, Device{Contact: d.Contact, UserAgent: d.UserAgent, Status: d.Status})
	}
	writeJSON(w, http.StatusOK, out)
}
