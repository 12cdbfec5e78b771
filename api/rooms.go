package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// Room is a conference room as the API shows it. The PINs are shown, like users' voicemail
// PINs: admins choose them and tell them to the people who join; absent when the room has none.
type Room struct {
	Number          string    `json:"number"`
	Name            string    `json:"name"`
	PIN             string    `json:"pin,omitempty"`
	ModeratorPIN    string    `json:"moderator_pin,omitempty"`
	MaxParticipants int       `json:"max_participants"`
	AnnounceJoins   bool      `json:"announce_joins"`
	MusicWhenAlone  bool      `json:"music_when_alone"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// RoomDetail is a room and what goes on in it now; Live is null while call control cannot
// say (Asterisk unreachable, call control not running).
type RoomDetail struct {
	Room
	Live *RoomState `json:"live"`
}

// RoomState is what goes on in a room now.
type RoomState struct {
	Locked       bool          `json:"locked"`
	Participants []Participant `json:"participants"` // in the order they joined
}

// Participant is one caller in a room.
type Participant struct {
	ID        string    `json:"id"` // the ID of their call
	Caller    string    `json:"caller"`
	Channel   string    `json:"channel"`
	JoinedAt  time.Time `json:"joined_at"`
	Muted     bool      `json:"muted"`
	Moderator bool      `json:"moderator"`
}

// RoomList is every room, shorter numbers first.
type RoomList struct {
	Rooms []Room `json:"rooms"`
}

// CreateRoomRequest is the body of POST /api/v1/rooms; absent fields take their defaults (no
// PINs, 20 participants, join tones and music when alone on).
type CreateRoomRequest struct {
	Number          string `json:"number"`
	Name            string `json:"name"`
	PIN             string `json:"pin,omitempty"`
	ModeratorPIN    string `json:"moderator_pin,omitempty"`
	MaxParticipants *int   `json:"max_participants,omitempty"`
	AnnounceJoins   *bool  `json:"announce_joins,omitempty"`
	MusicWhenAlone  *bool  `json:"music_when_alone,omitempty"`
}

// PatchRoomRequest is the body of PATCH /api/v1/rooms/{number}: absent fields stay as they
// are; an empty PIN removes it.
type PatchRoomRequest struct {
	Name            *string `json:"name,omitempty"`
	PIN             *string `json:"pin,omitempty"`
	ModeratorPIN    *string `json:"moderator_pin,omitempty"`
	MaxParticipants *int    `json:"max_participants,omitempty"`
	AnnounceJoins   *bool   `json:"announce_joins,omitempty"`
	MusicWhenAlone  *bool   `json:"music_when_alone,omitempty"`
}

func toRoom(r switchboard.Room) Room {
	return Room{Number: r.Number, Name: r.Name, PIN: r.PIN, ModeratorPIN: r.ModeratorPIN,
		MaxParticipants: r.MaxParticipants, AnnounceJoins: r.AnnounceJoins, MusicWhenAlone: r.MusicWhenAlone,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func toRoomState(st switchboard.RoomState) RoomState {
	out := RoomState{Locked: st.Locked, Participants: make([]Participant, 0, len(st.Participants))}
	for _, p := range st.Participants {
		out.Participants = append(out.Participants, Participant{ID: p.ID, Caller: p.Caller, Channel: p.Channel,
			JoinedAt: p.JoinedAt.UTC(), Muted: p.Muted, Moderator: p.Moderator})
	}
	return out
}

// roomService answers 503 when the server has no room service.
func (s *Server) roomService(w http.ResponseWriter, r *http.Request) bool {
	return s.available(w, r, s.Rooms != nil, "conference rooms")
}

func (s *Server) createRoom(w http.ResponseWriter, r *http.Request) {
	if !s.roomService(w, r) {
		return
	}
	var req CreateRoomRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	nr := provisioning.NewRoom{Number: req.Number, Name: req.Name, PIN: req.PIN, ModeratorPIN: req.ModeratorPIN,
		AnnounceJoins: req.AnnounceJoins, MusicWhenAlone: req.MusicWhenAlone}
	if err := setGiven(req.MaxParticipants, provisioning.ValidateMaxParticipants, &nr.MaxParticipants); err != nil {
		s.writeError(w, r, err)
		return
	}
	room, err := s.Rooms.CreateRoom(r.Context(), nr)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/rooms/"+room.Number)
	writeJSON(w, http.StatusCreated, toRoom(room))
}

func (s *Server) listRooms(w http.ResponseWriter, r *http.Request) {
	if !s.roomService(w, r) {
		return
	}
	rooms, err := s.Rooms.Rooms(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, RoomList{Rooms: showAll(rooms, toRoom)})
}

// getRoom shows the room with its live state. A room is managed while call control is away,
// so its absence makes "live" null rather than the request fail.
func (s *Server) getRoom(w http.ResponseWriter, r *http.Request) {
	if !s.roomService(w, r) {
		return
	}
	number := chi.URLParam(r, "number")
	room, err := s.Rooms.Room(r.Context(), number)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	live, ok := liveState(s, w, r, "room", number, s.Rooms.RoomState, toRoomState)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, RoomDetail{Room: toRoom(room), Live: live})
}

func (s *Server) patchRoom(w http.ResponseWriter, r *http.Request) {
	if !s.roomService(w, r) {
		return
	}
	var req PatchRoomRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	room, err := s.Rooms.UpdateRoom(r.Context(), chi.URLParam(r, "number"), provisioning.RoomPatch{
		Name: req.Name, PIN: req.PIN, ModeratorPIN: req.ModeratorPIN, MaxParticipants: req.MaxParticipants,
		AnnounceJoins: req.AnnounceJoins, MusicWhenAlone: req.MusicWhenAlone})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRoom(room))
}

func (s *Server) deleteRoom(w http.ResponseWriter, r *http.Request) {
	if !s.roomService(w, r) {
		return
	}
	s.writeDone(w, r, s.Rooms.DeleteRoom(r.Context(), chi.URLParam(r, "number")))
}

func (s *Server) roomParticipants(w http.ResponseWriter, r *http.Request) {
	if !s.roomService(w, r) {
		return
	}
	st, err := s.Rooms.RoomState(r.Context(), chi.URLParam(r, "number"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRoomState(st))
}

// roomAction is a handler of a live action without a body: mute, unmute, kick, lock, unlock.
func (s *Server) roomAction(action func(s *provisioning.RoomService, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.roomService(w, r) {
			return
		}
		s.writeDone(w, r, action(s.Rooms, r))
	}
}

func muteParticipant(muted bool) func(*provisioning.RoomService, *http.Request) error {
	return func(s *provisioning.RoomService, r *http.Request) error {
		return s.MuteParticipant(r.Context(), chi.URLParam(r, "number"), chi.URLParam(r, "id"), muted)
	}
}

func kickParticipant(s *provisioning.RoomService, r *http.Request) error {
	return s.KickParticipant(r.Context(), chi.URLParam(r, "number"), chi.URLParam(r, "id"))
}

func lockRoom(locked bool) func(*provisioning.RoomService, *http.Request) error {
	return func(s *provisioning.RoomService, r *http.Request) error {
		return s.LockRoom(r.Context(), chi.URLParam(r, "number"), locked)
	}
}
