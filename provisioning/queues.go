package provisioning

import (
	"context"
	"fmt"

	"github.com/switchboard-pbx/switchboard"
)

// NewQueue is what an admin submits to create a call queue. Zero values mean "use the
// default": ring_all, DefaultQueueRingSeconds, DefaultQueueMaxWait, hang up after the maximum
// wait, no mailbox of its own. Its agents start logged out.
type NewQueue struct {
	Number      string
	Name        string
	Agents      []string                      // extensions of users, in order
	Strategy    switchboard.QueueStrategy     // "": switchboard.QueueRingAll
	RingSeconds int                           // 0: switchboard.DefaultQueueRingSeconds
	MaxWait     int                           // 0: switchboard.DefaultQueueMaxWait
	NoAnswer    *switchboard.GroupDestination // nil: hang up
	// Mailbox is the queue's own (nil: none); one that is on without a PIN gets a generated one.
	Mailbox *switchboard.Mailbox
}

// QueuePatch changes some fields of a queue; nil fields are left alone. Agents, when set,
// replaces the whole list (and so its order): agents who stay keep their logins, new ones start
// logged out.
type QueuePatch struct {
	Name        *string
	Agents      *[]string
	Strategy    *switchboard.QueueStrategy
	RingSeconds *int
	MaxWait     *int
	NoAnswer    *switchboard.GroupDestination
	// Mailbox changes the queue's own mailbox as a group's is changed (see GroupPatch.Mailbox).
	Mailbox *VoicemailPatch
}

// QueueService is what admins and agents do with call queues: the queues and their agents'
// logins, validated here and kept in the store, and what goes on in them now, which call
// control (Live) knows. Queues need no configuration in Asterisk (call control holds the
// callers and rings the agents' phones itself), so a change applies to the queue's next step
// without a configuration pass.
//
// A queue's own mailbox is the exception, as a group's is: when Mailboxes is set, it is synced
// after every queue created, changed or deleted. An error from it is returned (wrapped) although
// the change itself is stored. Logins change no mailbox and are not synced.
type QueueService struct {
	Store switchboard.QueueStore
	// Live is call control; nil while it is not running, and then what goes on in queues is
	// EUNAVAILABLE while the queues themselves, and logins, can still be managed.
	Live switchboard.QueueControl
	// Mailboxes, when set, is told after each change to a queue (nil: nothing is told).
	Mailboxes MailboxSync
}

var _ switchboard.QueueDirectory = (*QueueService)(nil)

// CreateQueue validates and stores a new queue; ECONFLICT when a user, a room, a group or a
// queue has its number, EINVALID when an agent is not a user. A queue stored whose mailboxes
// could not be synced is returned with the error.
func (s *QueueService) CreateQueue(ctx context.Context, nq NewQueue) (switchboard.Queue, error) {
	q := switchboard.Queue{Number: nq.Number, Name: nq.Name, Agents: toAgents(nq.Agents, nil),
		Strategy: nq.Strategy, RingSeconds: nq.RingSeconds, MaxWait: nq.MaxWait,
		NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationHangup}}
	if q.Strategy == "" {
		q.Strategy = switchboard.QueueRingAll
	}
	if q.RingSeconds == 0 {
		q.RingSeconds = switchboard.DefaultQueueRingSeconds
	}
	if q.MaxWait == 0 {
		q.MaxWait = switchboard.DefaultQueueMaxWait
	}
	if nq.NoAnswer != nil {
		q.NoAnswer = *nq.NoAnswer
	}
	if nq.Mailbox != nil {
		q.Mailbox = newSharedMailbox(*nq.Mailbox)
	}
	if err := ValidateQueue(&q); err != nil {
		return switchboard.Queue{}, err
	}
	created, err := s.Store.CreateQueue(ctx, q)
	if err != nil {
		return switchboard.Queue{}, fmt.Errorf("create queue %s: %w", nq.Number, err)
	}
	return created, syncMailboxes(ctx, s.Mailboxes, "queue", nq.Number, "created")
}

// toAgents makes agents of extensions, with the logins of those among before (the agents a
// queue had): logged out for the others.
func toAgents(exts []string, before []switchboard.QueueAgent) []switchboard.QueueAgent {
	logins := make(map[string]bool, len(before))
	for _, a := range before {
		logins[a.Extension] = a.LoggedIn
	}
	var agents []switchboard.QueueAgent
	for _, ext := range exts {
		agents = append(agents, switchboard.QueueAgent{Extension: ext, LoggedIn: logins[ext]})
	}
	return agents
}

// Queue returns one queue with its agents' logins as they are now.
func (s *QueueService) Queue(ctx context.Context, number string) (switchboard.Queue, error) {
	if err := ValidateQueueNumber(number); err != nil {
		return switchboard.Queue{}, err
	}
	return s.Store.Queue(ctx, number)
}

// Queues returns every queue, shorter numbers first.
func (s *QueueService) Queues(ctx context.Context) ([]switchboard.Queue, error) {
	return s.Store.Queues(ctx)
}

// UpdateQueue changes the given fields of a queue. The queue as changed is validated whole,
// so a queue whose agents have all been deleted as users takes no other change until it is
// given agents again. Callers waiting stay in line; call control reads the queue again for
// its next step. A change stored whose mailboxes could not be synced returns the queue with the
// error.
func (s *QueueService) UpdateQueue(ctx context.Context, number string, p QueuePatch) (switchboard.Queue, error) {
	if err := ValidateQueueNumber(number); err != nil {
		return switchboard.Queue{}, err
	}
	q, err := s.Store.UpdateQueue(ctx, number, func(q *switchboard.Queue) error {
		if p.Name != nil {
			q.Name = *p.Name
		}
		if p.Agents != nil {
			q.Agents = toAgents(*p.Agents, q.Agents)
		}
		if p.Strategy != nil {
			q.Strategy = *p.Strategy
		}
		if p.RingSeconds != nil {
			q.RingSeconds = *p.RingSeconds
		}
		if p.MaxWait != nil {
			q.MaxWait = *p.MaxWait
		}
		if p.NoAnswer != nil {
			q.NoAnswer = *p.NoAnswer
		}
		p.Mailbox.apply(&q.Mailbox)
		return ValidateQueue(q)
	})
	if err != nil {
		return switchboard.Queue{}, fmt.Errorf("update queue %s: %w", number, err)
	}
	return q, syncMailboxes(ctx, s.Mailboxes, "queue", number, "changed")
}

// DeleteQueue removes a queue and frees its number. Calls in progress are not cut off: call
// control keeps the callers waiting and the agents' calls going with the queue it read; the
// next call to the number finds nobody has it. An error from Mailboxes comes after the queue is
// gone.
func (s *QueueService) DeleteQueue(ctx context.Context, number string) error {
	if err := ValidateQueueNumber(number); err != nil {
		return err
	}
	if err := s.Store.DeleteQueue(ctx, number); err != nil {
		return fmt.Errorf("delete queue %s: %w", number, err)
	}
	return syncMailboxes(ctx, s.Mailboxes, "queue", number, "deleted")
}

// QueueState returns who waits in a queue now and what its agents do. The store is asked
// first, so that a queue nobody has is ENOTFOUND whether call control runs or not.
func (s *QueueService) QueueState(ctx context.Context, number string) (switchboard.QueueState, error) {
	if _, err := s.Queue(ctx, number); err != nil {
		return switchboard.QueueState{}, err
	}
	if s.Live == nil {
		return switchboard.QueueState{}, switchboard.Errorf(switchboard.EUNAVAILABLE, "call control is not running")
	}
	st, err := s.Live.QueueState(ctx, number)
	if err != nil {
		return switchboard.QueueState{}, fmt.Errorf("state of queue %s: %w", number, err)
	}
	return st, nil
}

// SetLoggedIn logs agent ext in to queue number (in) or out of it; ENOTFOUND when there is no
// such queue or ext is not its agent. Logging out does not end the agent's queue call in
// progress: it keeps the next ones from ringing their phones.
func (s *QueueService) SetLoggedIn(ctx context.Context, number, ext string, in bool) error {
	if err := ValidateQueueNumber(number); err != nil {
		return err
	}
	if err := ValidateExtension(ext); err != nil {
		return err
	}
	if err := s.Store.SetLoggedIn(ctx, number, ext, in); err != nil {
		return fmt.Errorf("%s agent %s of queue %s: %w", logVerb(in), ext, number, err)
	}
	return nil
}

func logVerb(in bool) string {
	if in {
		return "log in"
	}
	return "log out"
}

// ToggleAgent is *45 for agent ext: logged in to any of their queues, they are logged out of
// all of them; logged in to none, they are logged in to all. It returns whether they are logged
// in now; ENOTFOUND when ext is an agent of no queue. The queues are changed one after the
// other: one deleted meanwhile, or that dropped ext meanwhile, is passed over.
func (s *QueueService) ToggleAgent(ctx context.Context, ext string) (bool, error) {
	if err := ValidateExtension(ext); err != nil {
		return false, err
	}
	queues, err := s.Store.AgentQueues(ctx, ext)
	if err != nil {
		return false, fmt.Errorf("queues of agent %s: %w", ext, err)
	}
	if len(queues) == 0 {
		return false, switchboard.Errorf(switchboard.ENOTFOUND, "%s is not an agent of any queue", ext)
	}
	in := true
	for _, q := range queues {
		for _, a := range q.Agents {
			if a.Extension == ext && a.LoggedIn {
				in = false
			}
		}
	}
	for _, q := range queues {
		err := s.Store.SetLoggedIn(ctx, q.Number, ext, in)
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("%s agent %s of queue %s: %w", logVerb(in), ext, q.Number, err)
		}
	}
	return in, nil
}
