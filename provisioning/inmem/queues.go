package inmem

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// QueueStore keeps call queues in a map, in the plan of numbers of a UserStore (and of the
// rooms and groups sharing it): no two of a user, a room, a group and a queue have one number,
// as in PostgreSQL. Agents must be users of that store, a deleted user leaves every queue, and
// logins are kept as the PostgreSQL store keeps them (new agents start logged out, agents who
// stay keep theirs). It shares the user store's lock and its SetDown.
type QueueStore struct {
	users  *UserStore
	queues map[string]switchboard.Queue
}

var (
	_ switchboard.QueueStore     = (*QueueStore)(nil)
	_ switchboard.QueueDirectory = (*QueueStore)(nil)
)

// NewQueueStore returns an empty queue store sharing its numbers with users (and their rooms
// and groups); with users nil it shares them with an empty user store of its own.
func NewQueueStore(users *UserStore) *QueueStore {
	if users == nil {
		users = NewUserStore()
	}
	s := &QueueStore{users: users, queues: map[string]switchboard.Queue{}}
	users.mu.Lock()
	users.queues = s
	users.mu.Unlock()
	return s
}

// numbers returns the queues by number; nil for a user store without queues. The caller holds
// the user store's lock.
func (s *QueueStore) numbers() map[string]switchboard.Queue {
	if s == nil {
		return nil
	}
	return s.queues
}

// dropAgent takes ext out of every queue, as deleting their user does in PostgreSQL. The
// caller holds the user store's lock.
func (s *QueueStore) dropAgent(ext string) {
	if s == nil {
		return
	}
	for number, q := range s.queues {
		if i := slices.IndexFunc(q.Agents, func(a switchboard.QueueAgent) bool { return a.Extension == ext }); i >= 0 {
			q.Agents = slices.Delete(slices.Clone(q.Agents), i, i+1)
			if len(q.Agents) == 0 {
				q.Agents = nil
			}
			s.queues[number] = q
		}
	}
}

// checkAgents refuses an agent who is not a user, or one listed twice, as PostgreSQL's keys
// do. The caller holds the user store's lock.
func (s *QueueStore) checkAgents(agents []switchboard.QueueAgent) error {
	seen := map[string]bool{}
	for _, a := range agents {
		if _, ok := s.users.users[a.Extension]; !ok {
			return switchboard.Errorf(switchboard.EINVALID, "agent %s is not a user", a.Extension)
		}
		if seen[a.Extension] {
			return switchboard.Errorf(switchboard.EINVALID, "agent %s is listed twice", a.Extension)
		}
		seen[a.Extension] = true
	}
	return nil
}

// withLogins returns agents with the logins of those among before; the others logged out.
func withLogins(agents, before []switchboard.QueueAgent) []switchboard.QueueAgent {
	out := make([]switchboard.QueueAgent, 0, len(agents))
	for _, a := range agents {
		i := slices.IndexFunc(before, func(b switchboard.QueueAgent) bool { return b.Extension == a.Extension })
		out = append(out, switchboard.QueueAgent{Extension: a.Extension, LoggedIn: i >= 0 && before[i].LoggedIn})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// CreateQueue stores a new queue, its agents logged out.
func (s *QueueStore) CreateQueue(_ context.Context, q switchboard.Queue) (switchboard.Queue, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return switchboard.Queue{}, err
	}
	if s.users.numberHolder(q.Number) != "" {
		return switchboard.Queue{}, switchboard.Errorf(switchboard.ECONFLICT, "number %s is in use", q.Number)
	}
	if err := s.checkAgents(q.Agents); err != nil {
		return switchboard.Queue{}, err
	}
	q.Agents = withLogins(q.Agents, nil)
	q.CreatedAt = time.Now().UTC()
	q.UpdatedAt = q.CreatedAt
	s.queues[q.Number] = q
	return cloneQueue(q), nil
}

// cloneQueue returns a queue whose agents the caller may change without changing the store's.
func cloneQueue(q switchboard.Queue) switchboard.Queue {
	q.Agents = slices.Clone(q.Agents)
	return q
}

// Queue returns one queue.
func (s *QueueStore) Queue(_ context.Context, number string) (switchboard.Queue, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return switchboard.Queue{}, err
	}
	q, err := lookupNumber(s.queues, "queue", number)
	if err != nil {
		return switchboard.Queue{}, err
	}
	return cloneQueue(q), nil
}

// Queues returns every queue, shorter numbers first.
func (s *QueueStore) Queues(context.Context) ([]switchboard.Queue, error) {
	return s.sorted(func(switchboard.Queue) bool { return true })
}

// AgentQueues returns the queues ext is an agent of, shorter numbers first.
func (s *QueueStore) AgentQueues(_ context.Context, ext string) ([]switchboard.Queue, error) {
	return s.sorted(func(q switchboard.Queue) bool {
		return slices.ContainsFunc(q.Agents, func(a switchboard.QueueAgent) bool { return a.Extension == ext })
	})
}

func (s *QueueStore) sorted(keep func(switchboard.Queue) bool) ([]switchboard.Queue, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return nil, err
	}
	all := make([]switchboard.Queue, 0, len(s.queues))
	for _, q := range inNumberOrder(s.queues) {
		if keep(q) {
			all = append(all, cloneQueue(q))
		}
	}
	return all, nil
}

// UpdateQueue applies change atomically; a change of the number is ignored, and agents who
// stay keep their logins whatever change set, as in PostgreSQL.
func (s *QueueStore) UpdateQueue(_ context.Context, number string, change func(*switchboard.Queue) error) (switchboard.Queue, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return switchboard.Queue{}, err
	}
	before, err := lookupNumber(s.queues, "queue", number)
	if err != nil {
		return switchboard.Queue{}, err
	}
	q := cloneQueue(before)
	if err := change(&q); err != nil {
		return switchboard.Queue{}, err
	}
	if err := s.checkAgents(q.Agents); err != nil {
		return switchboard.Queue{}, err
	}
	q.Number = number
	q.Agents = withLogins(q.Agents, before.Agents)
	q.UpdatedAt = time.Now().UTC()
	s.queues[number] = q
	return cloneQueue(q), nil
}

// SetLoggedIn logs an agent in or out of one queue.
func (s *QueueStore) SetLoggedIn(_ context.Context, number, ext string, in bool) error {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return err
	}
	q, err := lookupNumber(s.queues, "queue", number)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(q.Agents, func(a switchboard.QueueAgent) bool { return a.Extension == ext })
	if i < 0 {
		return switchboard.Errorf(switchboard.ENOTFOUND, "%s is not an agent of queue %s", ext, number)
	}
	q.Agents = slices.Clone(q.Agents)
	q.Agents[i].LoggedIn = in
	s.queues[number] = q
	return nil
}

// DeleteQueue removes a queue.
func (s *QueueStore) DeleteQueue(_ context.Context, number string) error {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return err
	}
	if _, err := lookupNumber(s.queues, "queue", number); err != nil {
		return err
	}
	delete(s.queues, number)
	return nil
}

// QueueControl stands in for call control's side of queues: tests say what goes on in a queue
// with SetState, and read it back as the API does. A queue it was told nothing of is empty.
type QueueControl struct {
	mu     sync.Mutex
	states map[string]switchboard.QueueState
	down   bool
}

var _ switchboard.QueueControl = (*QueueControl)(nil)

// NewQueueControl returns call control with every queue empty.
func NewQueueControl() *QueueControl {
	return &QueueControl{states: map[string]switchboard.QueueState{}}
}

// SetState makes st what goes on in queue st.Number now.
func (c *QueueControl) SetState(st switchboard.QueueState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.states[st.Number] = cloneQueueState(st)
}

// SetDown makes every call fail with EUNAVAILABLE (true), as while Asterisk is unreachable,
// or work again (false).
func (c *QueueControl) SetDown(down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = down
}

// QueueState returns a copy of a queue's state.
func (c *QueueControl) QueueState(_ context.Context, number string) (switchboard.QueueState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return switchboard.QueueState{}, switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk unavailable")
	}
	st, ok := c.states[number]
	if !ok {
		return switchboard.QueueState{Number: number}, nil
	}
	return cloneQueueState(st), nil
}

func cloneQueueState(st switchboard.QueueState) switchboard.QueueState {
	st.Agents = slices.Clone(st.Agents)
	st.Callers = slices.Clone(st.Callers)
	for i := range st.Callers {
		st.Callers[i].Ringing = slices.Clone(st.Callers[i].Ringing)
	}
	return st
}
