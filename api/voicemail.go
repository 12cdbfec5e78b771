package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// VoicemailMessage is a message in a user's mailbox as the API shows it.
type VoicemailMessage struct {
	ID           string    `json:"id"`
	Folder       string    `json:"folder"`
	Heard        bool      `json:"heard"`
	CallerName   string    `json:"caller_name,omitempty"`
	CallerNumber string    `json:"caller_number,omitempty"`
	ReceivedAt   time.Time `json:"received_at"`
	DurationMS   int64     `json:"duration_ms"`
	Size         int64     `json:"size"`
	AudioURL     string    `json:"audio_url"`
}

// MessageList is a page of messages, newest first; Next is the "after" of the next page.
type MessageList struct {
	Messages []VoicemailMessage `json:"messages"`
	Next     string             `json:"next,omitempty"`
}

// PatchMessageRequest files a message in a folder, or marks it heard (true: new to old) or
// unheard (false: old to new). Exactly one of them.
type PatchMessageRequest struct {
	Folder *string `json:"folder,omitempty"`
	Heard  *bool   `json:"heard,omitempty"`
}

// toMessage shows m; owner is the path of its mailbox's owner (/api/v1/users/1002).
func toMessage(owner string) func(switchboard.VoicemailMessage) VoicemailMessage {
	return func(m switchboard.VoicemailMessage) VoicemailMessage { return showMessage(owner, m) }
}

func showMessage(owner string, m switchboard.VoicemailMessage) VoicemailMessage {
	return VoicemailMessage{ID: m.ID, Folder: string(m.Folder), Heard: m.Folder != switchboard.FolderNew,
		CallerName: m.CallerName, CallerNumber: m.CallerNumber, ReceivedAt: m.ReceivedAt,
		DurationMS: m.Duration.Milliseconds(), Size: m.Size,
		AudioURL: owner + "/voicemail/messages/" + m.ID + "/audio"}
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Voicemail != nil, "voicemail messages") {
		return
	}
	q := switchboard.MessageQuery{Folder: switchboard.Folder(r.URL.Query().Get("folder")),
		After: r.URL.Query().Get("after"), Limit: 100}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "limit must be a number"))
			return
		}
		q.Limit = n
	}
	page, err := s.Voicemail.Messages(r.Context(), mailboxOf(r), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, MessageList{Messages: showAll(page.Messages, toMessage(ownerPath(r))), Next: page.Next})
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Voicemail != nil, "voicemail messages") {
		return
	}
	m, err := s.Voicemail.Message(r.Context(), mailboxOf(r), chi.URLParam(r, "id"))
	s.writeMessage(w, r, m, err)
}

// writeMessage answers with a message, or the error that stood in the way.
func (s *Server) writeMessage(w http.ResponseWriter, r *http.Request, m switchboard.VoicemailMessage, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, showMessage(ownerPath(r), m))
}

// messageAudio streams a message's recording.
func (s *Server) messageAudio(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Voicemail != nil, "voicemail messages") {
		return
	}
	id := chi.URLParam(r, "id")
	a, err := s.Voicemail.Audio(r.Context(), mailboxOf(r), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serveWAV(w, r, id, a)
}

// serveWAV streams a recording named name (a message id, a greeting: never a path) as
// audio/wav; http.ServeContent answers Range requests and conditional ones, and sets
// Content-Length. It closes a.
func serveWAV(w http.ResponseWriter, r *http.Request, name string, a switchboard.AudioFile) {
	defer a.Close()
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.wav"`)
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", a.Modified, a.ReadSeekCloser)
}

func (s *Server) patchMessage(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Voicemail != nil, "voicemail messages") {
		return
	}
	var req PatchMessageRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.Voicemail.UpdateMessage(r.Context(), mailboxOf(r), chi.URLParam(r, "id"),
		provisioning.MessagePatch{Folder: fromString[switchboard.Folder](req.Folder), Heard: req.Heard})
	s.writeMessage(w, r, m, err)
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Voicemail != nil, "voicemail messages") {
		return
	}
	s.writeDone(w, r, s.Voicemail.DeleteMessage(r.Context(), mailboxOf(r), chi.URLParam(r, "id")))
}

// ownerPath is the API path of the request's mailbox's owner: /api/v1/users/1002,
// /api/v1/groups/600 or /api/v1/queues/700.
func ownerPath(r *http.Request) string {
	if ext := chi.URLParam(r, "ext"); ext != "" {
		return "/api/v1/users/" + ext
	}
	kind := "queues"
	if rc := chi.RouteContext(r.Context()); rc != nil && strings.HasPrefix(rc.RoutePattern(), "/api/v1/groups/") {
		kind = "groups"
	}
	return "/api/v1/" + kind + "/" + chi.URLParam(r, "number")
}

// mailboxOf names the mailbox of a request: a user's extension, or a ring group's or call
// queue's number (its own mailbox).
func mailboxOf(r *http.Request) string {
	if ext := chi.URLParam(r, "ext"); ext != "" {
		return ext
	}
	return chi.URLParam(r, "number")
}
