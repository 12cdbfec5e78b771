package api

import (
	"net/http"
	"strconv"
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

func toMessage(m switchboard.VoicemailMessage) VoicemailMessage {
	return VoicemailMessage{ID: m.ID, Folder: string(m.Folder), Heard: m.Folder != switchboard.FolderNew,
		CallerName: m.CallerName, CallerNumber: m.CallerNumber, ReceivedAt: m.ReceivedAt,
		DurationMS: m.Duration.Milliseconds(), Size: m.Size,
		AudioURL: "/api/v1/users/" + m.Mailbox + "/voicemail/messages/" + m.ID + "/audio"}
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
	page, err := s.Voicemail.Messages(r.Context(), chi.URLParam(r, "ext"), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, MessageList{Messages: showAll(page.Messages, toMessage), Next: page.Next})
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Voicemail != nil, "voicemail messages") {
		return
	}
	m, err := s.Voicemail.Message(r.Context(), chi.URLParam(r, "ext"), chi.URLParam(r, "id"))
	s.writeMessage(w, r, m, err)
}

// writeMessage answers with a message, or the error that stood in the way.
func (s *Server) writeMessage(w http.ResponseWriter, r *http.Request, m switchboard.VoicemailMessage, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMessage(m))
}

// messageAudio streams a recording as audio/wav; http.ServeContent answers Range requests and
// conditional ones, and sets Content-Length.
func (s *Server) messageAudio(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Voicemail != nil, "voicemail messages") {
		return
	}
	id := chi.URLParam(r, "id")
	a, err := s.Voicemail.Audio(r.Context(), chi.URLParam(r, "ext"), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer a.Close()
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`.wav"`)
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
	m, err := s.Voicemail.UpdateMessage(r.Context(), chi.URLParam(r, "ext"), chi.URLParam(r, "id"),
		provisioning.MessagePatch{Folder: fromString[switchboard.Folder](req.Folder), Heard: req.Heard})
	s.writeMessage(w, r, m, err)
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Voicemail != nil, "voicemail messages") {
		return
	}
	s.writeDone(w, r, s.Voicemail.DeleteMessage(r.Context(), chi.URLParam(r, "ext"), chi.URLParam(r, "id")))
}
