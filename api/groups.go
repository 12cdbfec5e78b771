package api

import (
	"cmp"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// Group is a ring group as the API shows it. Voicemail is the group's own mailbox, as a user's
// is shown: its PIN only in the response that generated it.
type Group struct {
	Number string `json:"number"`
	Name   string `json:"name"`
	// Members are users' extensions, in hunting order.
	Members     []string         `json:"members"`
	Strategy    string           `json:"strategy"`
	RingSeconds int              `json:"ring_seconds"`
	Timeout     int              `json:"timeout"`
	NoAnswer    GroupDestination `json:"no_answer"`
	Voicemail   Voicemail        `json:"voicemail"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
}

// GroupDestination is where a group's calls go when no member answers: kind hangup (no
// number), voicemail (number: the user whose mailbox takes them, or the group's own number for
// its own mailbox) or number (another number).
type GroupDestination struct {
	Kind   string `json:"kind"`
	Number string `json:"number,omitempty"`
}

// GroupList is every group, shorter numbers first.
type GroupList struct {
	Groups []Group `json:"groups"`
}

// CreateGroupRequest is the body of POST /api/v1/groups; absent fields take their defaults
// (ring_all, 15 seconds a member, 60 seconds in all, hang up when nobody answers, no mailbox of
// its own). Voicemail, when present, gives the group its own mailbox: enabled unless it says
// otherwise, with a generated PIN (shown once) unless it gives one.
type CreateGroupRequest struct {
	Number      string            `json:"number"`
	Name        string            `json:"name"`
	Members     []string          `json:"members"`
	Strategy    *string           `json:"strategy,omitempty"`
	RingSeconds *int              `json:"ring_seconds,omitempty"`
	Timeout     *int              `json:"timeout,omitempty"`
	NoAnswer    *GroupDestination `json:"no_answer,omitempty"`
	Voicemail   *VoicemailChange  `json:"voicemail,omitempty"`
}

// PatchGroupRequest is the body of PATCH /api/v1/groups/{number}: absent fields stay as they
// are; members, when present, replaces the whole list. Voicemail changes the group's own
// mailbox as a user's is changed: turning it on without a PIN, when it has none, generates one
// (shown once); turning it off keeps the PIN.
type PatchGroupRequest struct {
	Name        *string           `json:"name,omitempty"`
	Members     *[]string         `json:"members,omitempty"`
	Strategy    *string           `json:"strategy,omitempty"`
	RingSeconds *int              `json:"ring_seconds,omitempty"`
	Timeout     *int              `json:"timeout,omitempty"`
	NoAnswer    *GroupDestination `json:"no_answer,omitempty"`
	Voicemail   *VoicemailChange  `json:"voicemail,omitempty"`
}

func toGroup(g switchboard.Group) Group {
	members := append([]string{}, g.Members...) // [] rather than null for a group left without members
	return Group{Number: g.Number, Name: g.Name, Members: members, Strategy: string(g.Strategy),
		RingSeconds: g.RingSeconds, Timeout: g.Timeout,
		NoAnswer:  GroupDestination{Kind: string(g.NoAnswer.Kind), Number: g.NoAnswer.Number},
		Voicemail: toVoicemail(g.Mailbox),
		CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC()}
}

// toVoicemail shows the own mailbox of a group or a queue without its PIN.
func toVoicemail(m switchboard.Mailbox) Voicemail {
	return Voicemail{Enabled: m.Enabled, PINSet: m.PIN != ""}
}

// sharedMailbox is the own mailbox a create request asks for (nil: none): enabled unless it
// says otherwise, with the PIN it gives ("" to have one generated).
func sharedMailbox(v *VoicemailChange) *switchboard.Mailbox {
	if v == nil {
		return nil
	}
	m := &switchboard.Mailbox{Enabled: true}
	if v.Enabled != nil {
		m.Enabled = *v.Enabled
	}
	if v.PIN != nil {
		m.PIN = *v.PIN
	}
	return m
}

// generatedPIN is the PIN of m, the own mailbox of a group or a queue as created with asked,
// when the server generated it (and so the response shows it, once): "" otherwise.
func generatedPIN(m switchboard.Mailbox, asked *switchboard.Mailbox) string {
	if m.Enabled && asked != nil && asked.PIN == "" {
		return m.PIN
	}
	return ""
}

// voicemailPatch is the change a patch request makes to a mailbox (a user's, a group's or a
// queue's own).
func voicemailPatch(v *VoicemailChange) *provisioning.VoicemailPatch {
	if v == nil {
		return nil
	}
	return &provisioning.VoicemailPatch{Enabled: v.Enabled, PIN: v.PIN}
}

// generatedBy is the PIN an update generated (p.Generated), which its response shows once.
func generatedBy(p *provisioning.VoicemailPatch) string {
	if p == nil {
		return ""
	}
	return p.Generated
}

func fromDestination(d *GroupDestination) *switchboard.GroupDestination {
	if d == nil {
		return nil
	}
	return &switchboard.GroupDestination{Kind: switchboard.GroupDestinationKind(d.Kind), Number: d.Number}
}

// groupService answers 503 when the server has no group service.
func (s *Server) groupService(w http.ResponseWriter, r *http.Request) bool {
	return s.available(w, r, s.Groups != nil, "ring groups")
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	if !s.groupService(w, r) {
		return
	}
	var req CreateGroupRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	ng := provisioning.NewGroup{Number: req.Number, Name: req.Name, Members: req.Members,
		NoAnswer: fromDestination(req.NoAnswer), Mailbox: sharedMailbox(req.Voicemail)}
	// Settings given are checked as given (see setGiven); cmp.Or keeps the first refusal.
	if err := cmp.Or(
		setGiven(fromString[switchboard.GroupStrategy](req.Strategy), provisioning.ValidateGroupStrategy, &ng.Strategy),
		setGiven(req.RingSeconds, provisioning.ValidateGroupRingSeconds, &ng.RingSeconds),
		setGiven(req.Timeout, provisioning.ValidateGroupTimeout, &ng.Timeout),
	); err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.Groups.CreateGroup(r.Context(), ng)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toGroup(g)
	out.Voicemail.PIN = generatedPIN(g.Mailbox, ng.Mailbox) // shown once
	w.Header().Set("Location", "/api/v1/groups/"+g.Number)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	if !s.groupService(w, r) {
		return
	}
	groups, err := s.Groups.Groups(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, GroupList{Groups: showAll(groups, toGroup)})
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	if !s.groupService(w, r) {
		return
	}
	g, err := s.Groups.Group(r.Context(), chi.URLParam(r, "number"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toGroup(g))
}

func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request) {
	if !s.groupService(w, r) {
		return
	}
	var req PatchGroupRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	number := chi.URLParam(r, "number")
	mailbox := voicemailPatch(req.Voicemail)
	g, err := s.Groups.UpdateGroup(r.Context(), number, provisioning.GroupPatch{
		Name: req.Name, Members: req.Members, Strategy: fromString[switchboard.GroupStrategy](req.Strategy), RingSeconds: req.RingSeconds,
		Timeout: req.Timeout, NoAnswer: fromDestination(req.NoAnswer), Mailbox: mailbox})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toGroup(g)
	out.Voicemail.PIN = generatedBy(mailbox) // shown once
	writeJSON(w, http.StatusOK, out)
}

// deleteGroup deletes a group. Calls ringing its members now go on: call control has what it
// needs of the group.
func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	if !s.groupService(w, r) {
		return
	}
	s.writeDone(w, r, s.Groups.DeleteGroup(r.Context(), chi.URLParam(r, "number")))
}
