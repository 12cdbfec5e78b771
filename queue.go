package switchboard

import (
	"context"
	"time"
)

// Queue is a call queue: a number in the extension plan where callers wait, with music and
// their position announced, until an agent takes their call, first come first served. Agents
// are users who log in to take the queue's calls (*45 from the phone, or the API).
type Queue struct {
	Number   string
	Name     string
	Strategy QueueStrategy
	// Agents are the users who may log in, in order (round robin starts from the first).
	Agents []QueueAgent
	// RingSeconds is how long an agent's phones ring before the queue tries again.
	RingSeconds int
	// MaxWait is how long a caller waits at most; then NoAnswer takes the call.
	MaxWait  int
	NoAnswer GroupDestination
	// Mailbox is the queue's own, as a group's (see Group.Mailbox).
	Mailbox   Mailbox
	CreatedAt time.Time
	UpdatedAt time.Time
}

// QueueAgent is a user who may take a queue's calls, and whether they are logged in now.
type QueueAgent struct {
	Extension string
	LoggedIn  bool
}

// QueueStrategy is how a queue picks the agent for the caller at the head of the line.
type QueueStrategy string

// The strategies.
const (
	QueueRingAll     QueueStrategy = "ring_all"     // every available agent at once
	QueueRoundRobin  QueueStrategy = "round_robin"  // the next available agent after the last one rung
	QueueLeastRecent QueueStrategy = "least_recent" // the agent whose last queue call ended longest ago
	QueueFewestCalls QueueStrategy = "fewest_calls" // the agent who took the fewest calls of the queue
)

// Limits of a queue.
const (
	MaxQueueAgents          = 50
	DefaultQueueRingSeconds = 15
	DefaultQueueMaxWait     = 300
)

// QueueStore keeps queues and their agents' logins. Numbers are unique across users, rooms,
// groups and queues (ECONFLICT); agents must be users (EINVALID), and a deleted user leaves
// every queue.
type QueueStore interface {
	CreateQueue(ctx context.Context, q Queue) (Queue, error)
	Queue(ctx context.Context, number string) (Queue, error)
	// Queues returns every queue, ordered by number (shorter numbers first).
	Queues(ctx context.Context) ([]Queue, error)
	// UpdateQueue applies change inside one transaction; logins of agents who stay are kept.
	UpdateQueue(ctx context.Context, number string, change func(*Queue) error) (Queue, error)
	DeleteQueue(ctx context.Context, number string) error
	// SetLoggedIn logs an agent in or out of one queue; ENOTFOUND when they are not its agent.
	SetLoggedIn(ctx context.Context, number, ext string, in bool) error
	// AgentQueues returns the queues ext is an agent of.
	AgentQueues(ctx context.Context, ext string) ([]Queue, error)
}

// QueueDirectory tells whether a number is a queue, with its agents' logins as they are now.
type QueueDirectory interface {
	Queue(ctx context.Context, number string) (Queue, error)
}

// QueueState is what goes on in a queue now, as call control sees it.
type QueueState struct {
	Number  string
	Callers []QueuedCaller // in the order they are served
	Agents  []AgentState   // in the queue's order
	// Since the control plane started: calls answered by an agent, callers who hung up while
	// waiting, callers sent to the no-answer destination after the maximum wait.
	Answered  int
	Abandoned int
	TimedOut  int
}

// QueuedCaller is one caller waiting.
type QueuedCaller struct {
	ID      string // the call's ID
	Caller  string
	Since   time.Time
	Ringing []string // the agents whose phones ring for this caller now
}

// AgentState is one agent of a queue now.
type AgentState struct {
	Extension string
	LoggedIn  bool
	// State is "available", "ringing", "in_call" (a call of this queue, or another one),
	// "offline" (no phone registered) or "logged_out".
	State    string
	Calls    int       // queue calls answered since the control plane started
	LastCall time.Time // when their last queue call ended (zero: none yet)
}

// The agent states.
const (
	AgentAvailable = "available"
	AgentRinging   = "ringing"
	AgentInCall    = "in_call"
	AgentOffline   = "offline"
	AgentLoggedOut = "logged_out"
)

// QueueControl is the live side of queues.
type QueueControl interface {
	QueueState(ctx context.Context, number string) (QueueState, error)
}
