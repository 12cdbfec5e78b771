package api

import (
	"cmp"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// Group is a ring group as the API shows it.
type Group struct {
	Number string `json:"number"`
	Name   string `json:"name"`
	// Members are users' extensions, in hunting order.
	Members     []string         `json:"members"`
	Strategy    string           `json:"strategy"`
	RingSeconds int              `json:"ring_seconds"`
	Timeout     int              `json:"timeout"`
	NoAnswer    GroupDestination `json:"no_answer"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
}

// GroupDestination is where a group's calls go when no member answers: kind hangup (no
// number), voicemail (number: the user whose mailbox takes them) or number (another number).
type GroupDestination struct {
	Kind   string `json:"kind"`
	Number string `json:"number,omitempty"`
}

// GroupList is every group, shorter numbers first.
type GroupList struct {
	Groups []Group `json:"groups"`
}

// CreateGroupRequest is the body of POST /api/v1/groups; absent fields take their defaults
// (ring_all, 15 seconds a member, 60 seconds in all, hang up when nobody answers).
type CreateGroupRequest struct {
	Number      string            `json:"number"`
	Name        string            `json:"name"`
	Members     []string          `json:"members"`
	Strategy    *string           `json:"strategy,omitempty"`
	RingSeconds *int              `json:"ring_seconds,omitempty"`
	Timeout     *int              `json:"timeout,omitempty"`
	NoAnswer    *GroupDestination `json:"no_answer,omitempty"`
}

// PatchGroupRequest is the body of PATCH /api/v1/groups/{number}: absent fields stay as they
// are; members, when present, replaces the whole list.
type PatchGroupRequest struct {
	Name        *string           `json:"name,omitempty"`
	Members     *[]string         `json:"members,omitempty"`
	Strategy    *string           `json:"strategy,omitempty"`
	RingSeconds *int              `json:"ring_seconds,omitempty"`
	Timeout     *int              `json:"timeout,omitempty"`
	NoAnswer    *GroupDestination `json:"no_answer,omitempty"`
}

func toGroup(g switchboard.Group) Group {
	members := append([]string{}, g.Members...) // [] rather than null for a group left without members
	return Group{Number: g.Number, Name: g.Name, Members: members, Strategy: string(g.Strategy),
		RingSeconds: g.RingSeconds, Timeout: g.Timeout,
		NoAnswer:  GroupDestination{Kind: string(g.NoAnswer.Kind), Number: g.NoAnswer.Number},
		CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC()}
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
		NoAnswer: fromDestination(req.NoAnswer)}
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
	w.Header().Set("Location", "/api/v1/groups/"+g.Number)
	writeJSON(w, http.StatusCreated, toGroup(g))
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
	g, err := s.Groups.UpdateGroup(r.Context(), chi.URLParam(r, "number"), provisioning.GroupPatch{
		Name: req.Name, Members: req.Members, Strategy: fromString[switchboard.GroupStrategy](req.Strategy), RingSeconds: req.RingSeconds,
		Timeout: req.Timeout, NoAnswer: fromDestination(req.NoAnswer)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toGroup(g))
}

// deleteGroup deletes a group. Calls ringing its members now go on: call control has what it
// needs of the group.
func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) {
	if !s.groupService(w, r) {
		return
	}
	s.writeDone(w, r, s.Groups.DeleteGroup(r.Context(), chi.URLParam(r, "number")))
}
