package api

import (
	"cmp"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// Queue is a call queue as the API shows it. Voicemail is the queue's own mailbox, shown as a
// group's is.
type Queue struct {
	Number   string `json:"number"`
	Name     string `json:"name"`
	Strategy string `json:"strategy"`
	// Agents are users who may take the queue's calls, in order, and whether they are logged in.
	Agents      []QueueAgent `json:"agents"`
	RingSeconds int          `json:"ring_seconds"`
	MaxWait     int          `json:"max_wait"`
	// NoAnswer is where a caller goes after waiting max_wait seconds.
	NoAnswer  GroupDestination `json:"no_answer"`
	Voicemail Voicemail        `json:"voicemail"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// QueueAgent is a user who may take a queue's calls.
type QueueAgent struct {
	Extension string `json:"extension"`
	LoggedIn  bool   `json:"logged_in"`
}

// QueueDetail is a queue and what goes on in it now; Live is null while call control cannot
// say (Asterisk unreachable, call control not running).
type QueueDetail struct {
	Queue
	Live *QueueState `json:"live"`
}

// QueueState is what goes on in a queue now; the counts are since the control plane started.
type QueueState struct {
	Callers   []QueuedCaller `json:"callers"` // in the order they are served
	Agents    []AgentState   `json:"agents"`  // in the queue's order
	Answered  int            `json:"answered"`
	Abandoned int            `json:"abandoned"`
	TimedOut  int            `json:"timed_out"`
}

// QueuedCaller is one caller waiting. WaitSeconds is how long they have waited when the
// response was made, so that a client needs no clock in step with the server's.
type QueuedCaller struct {
	ID          string    `json:"id"` // the ID of their call
	Caller      string    `json:"caller"`
	Since       time.Time `json:"since"`
	WaitSeconds int       `json:"wait_seconds"`
	Ringing     []string  `json:"ringing"` // the agents whose phones ring for them now
}

// AgentState is one agent of a queue now. LastCall is null until their first queue call ends.
type AgentState struct {
	Extension string     `json:"extension"`
	LoggedIn  bool       `json:"logged_in"`
	State     string     `json:"state"`
	Calls     int        `json:"calls"`
	LastCall  *time.Time `json:"last_call"`
}

// QueueList is every queue, shorter numbers first.
type QueueList struct {
	Queues []Queue `json:"queues"`
}

// CreateQueueRequest is the body of POST /api/v1/queues; absent fields take their defaults
// (ring_all, 15 seconds of ringing, 300 seconds of waiting at most, then hang up, no mailbox of
// its own). Agents are extensions; they start logged out. Voicemail is the queue's own mailbox,
// as a group's is (see CreateGroupRequest).
type CreateQueueRequest struct {
	Number      string            `json:"number"`
	Name        string            `json:"name"`
	Agents      []string          `json:"agents"`
	Strategy    *string           `json:"strategy,omitempty"`
	RingSeconds *int              `json:"ring_seconds,omitempty"`
	MaxWait     *int              `json:"max_wait,omitempty"`
	NoAnswer    *GroupDestination `json:"no_answer,omitempty"`
	Voicemail   *VoicemailChange  `json:"voicemail,omitempty"`
}

// PatchQueueRequest is the body of PATCH /api/v1/queues/{number}: absent fields stay as they
// are; agents, when present, replaces the whole list (agents who stay keep their logins).
// Voicemail changes the queue's own mailbox as a group's is changed (see PatchGroupRequest).
type PatchQueueRequest struct {
	Name        *string           `json:"name,omitempty"`
	Agents      *[]string         `json:"agents,omitempty"`
	Strategy    *string           `json:"strategy,omitempty"`
	RingSeconds *int              `json:"ring_seconds,omitempty"`
	MaxWait     *int              `json:"max_wait,omitempty"`
	NoAnswer    *GroupDestination `json:"no_answer,omitempty"`
	Voicemail   *VoicemailChange  `json:"voicemail,omitempty"`
}

func toQueue(q switchboard.Queue) Queue {
	agents := make([]QueueAgent, 0, len(q.Agents)) // [] rather than null for a queue left without agents
	for _, a := range q.Agents {
		agents = append(agents, QueueAgent{Extension: a.Extension, LoggedIn: a.LoggedIn})
	}
	return Queue{Number: q.Number, Name: q.Name, Strategy: string(q.Strategy), Agents: agents,
		RingSeconds: q.RingSeconds, MaxWait: q.MaxWait,
		NoAnswer:  GroupDestination{Kind: string(q.NoAnswer.Kind), Number: q.NoAnswer.Number},
		Voicemail: toVoicemail(q.Mailbox),
		CreatedAt: q.CreatedAt.UTC(), UpdatedAt: q.UpdatedAt.UTC()}
}

// toQueueState shows st as of now: each caller's wait is counted from when they came in.
func toQueueState(st switchboard.QueueState, now time.Time) QueueState {
	out := QueueState{Callers: make([]QueuedCaller, 0, len(st.Callers)), Agents: make([]AgentState, 0, len(st.Agents)),
		Answered: st.Answered, Abandoned: st.Abandoned, TimedOut: st.TimedOut}
	for _, c := range st.Callers {
		wait := max(int(now.Sub(c.Since)/time.Second), 0)
		out.Callers = append(out.Callers, QueuedCaller{ID: c.ID, Caller: c.Caller, Since: c.Since.UTC(),
			WaitSeconds: wait, Ringing: append([]string{}, c.Ringing...)})
	}
	for _, a := range st.Agents {
		as := AgentState{Extension: a.Extension, LoggedIn: a.LoggedIn, State: a.State, Calls: a.Calls}
		if !a.LastCall.IsZero() {
			last := a.LastCall.UTC()
			as.LastCall = &last
		}
		out.Agents = append(out.Agents, as)
	}
	return out
}

// queueService answers 503 when the server has no queue service.
func (s *Server) queueService(w http.ResponseWriter, r *http.Request) bool {
	return s.available(w, r, s.Queues != nil, "call queues")
}

func (s *Server) createQueue(w http.ResponseWriter, r *http.Request) {
	if !s.queueService(w, r) {
		return
	}
	var req CreateQueueRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	nq := provisioning.NewQueue{Number: req.Number, Name: req.Name, Agents: req.Agents,
		NoAnswer: fromDestination(req.NoAnswer), Mailbox: sharedMailbox(req.Voicemail)}
	// Settings given are checked as given (see setGiven); cmp.Or keeps the first refusal.
	if err := cmp.Or(
		setGiven(fromString[switchboard.QueueStrategy](req.Strategy), provisioning.ValidateQueueStrategy, &nq.Strategy),
		setGiven(req.RingSeconds, provisioning.ValidateQueueRingSeconds, &nq.RingSeconds),
		setGiven(req.MaxWait, provisioning.ValidateQueueMaxWait, &nq.MaxWait),
	); err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := s.Queues.CreateQueue(r.Context(), nq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toQueue(q)
	out.Voicemail.PIN = generatedPIN(q.Mailbox, nq.Mailbox) // shown once
	w.Header().Set("Location", "/api/v1/queues/"+q.Number)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listQueues(w http.ResponseWriter, r *http.Request) {
	if !s.queueService(w, r) {
		return
	}
	queues, err := s.Queues.Queues(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, QueueList{Queues: showAll(queues, toQueue)})
}

// getQueue shows the queue with its live state. A queue is managed while call control is
// away, so its absence makes "live" null rather than the request fail.
func (s *Server) getQueue(w http.ResponseWriter, r *http.Request) {
	if !s.queueService(w, r) {
		return
	}
	number := chi.URLParam(r, "number")
	q, err := s.Queues.Queue(r.Context(), number)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	live, ok := liveState(s, w, r, "queue", number, s.Queues.QueueState,
		func(st switchboard.QueueState) QueueState { return toQueueState(st, time.Now()) })
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, QueueDetail{Queue: toQueue(q), Live: live})
}

func (s *Server) patchQueue(w http.ResponseWriter, r *http.Request) {
	if !s.queueService(w, r) {
		return
	}
	var req PatchQueueRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	number := chi.URLParam(r, "number")
	mailbox := voicemailPatch(req.Voicemail)
	q, err := s.Queues.UpdateQueue(r.Context(), number, provisioning.QueuePatch{
		Name: req.Name, Agents: req.Agents, Strategy: fromString[switchboard.QueueStrategy](req.Strategy), RingSeconds: req.RingSeconds,
		MaxWait: req.MaxWait, NoAnswer: fromDestination(req.NoAnswer), Mailbox: mailbox})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toQueue(q)
	out.Voicemail.PIN = generatedBy(mailbox) // shown once
	writeJSON(w, http.StatusOK, out)
}

// deleteQueue deletes a queue. Callers waiting in it and its agents' calls go on: call control
// has what it needs of the queue.
func (s *Server) deleteQueue(w http.ResponseWriter, r *http.Request) {
	if !s.queueService(w, r) {
		return
	}
	s.writeDone(w, r, s.Queues.DeleteQueue(r.Context(), chi.URLParam(r, "number")))
}

// agentLogin is the handler of POST .../agents/{ext}/login (in) and .../logout.
func (s *Server) agentLogin(in bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.queueService(w, r) {
			return
		}
		s.writeDone(w, r, s.Queues.SetLoggedIn(r.Context(), chi.URLParam(r, "number"), chi.URLParam(r, "ext"), in))
	}
}
