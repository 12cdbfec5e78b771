package provisioning

import (
	"github.com/switchboard-pbx/switchboard"
)

// Limits of a call queue's times, in seconds. An agent's phones ring as long as a user's may
// ring at most; a caller waits at least long enough to hear where they are in line, and at
// most an hour, after which nobody believes the call will be answered.
const (
	MinQueueRingSeconds = MinRingTimeout
	MaxQueueRingSeconds = MaxRingTimeout
	MinQueueMaxWait     = 10
	MaxQueueMaxWait     = 3600
)

// ValidateQueueNumber accepts what ValidateExtension does: a queue's number is dialled like a
// user's extension and lives in the same plan.
func ValidateQueueNumber(number string) error {
	if ValidateExtension(number) != nil {
		return switchboard.Errorf(switchboard.EINVALID, "queue number must be 2 to 6 digits")
	}
	return nil
}

// ValidateQueueAgents accepts 1 to MaxQueueAgents extensions, each listed once and none the
// queue's own number (number). Whether each is a user is the store's to say: only it can tell
// without a race with the user's deletion.
func ValidateQueueAgents(number string, agents []string) error {
	return validateExtensionList("agent", "queue", number, agents, switchboard.MaxQueueAgents)
}

// ValidateQueueStrategy accepts the strategies call control knows.
func ValidateQueueStrategy(s switchboard.QueueStrategy) error {
	switch s {
	case switchboard.QueueRingAll, switchboard.QueueRoundRobin, switchboard.QueueLeastRecent, switchboard.QueueFewestCalls:
		return nil
	}
	return switchboard.Errorf(switchboard.EINVALID, "strategy must be %s, %s, %s or %s", switchboard.QueueRingAll,
		switchboard.QueueRoundRobin, switchboard.QueueLeastRecent, switchboard.QueueFewestCalls)
}

// ValidateQueueRingSeconds accepts MinQueueRingSeconds to MaxQueueRingSeconds.
func ValidateQueueRingSeconds(seconds int) error {
	return validateRange("ring_seconds", seconds, MinQueueRingSeconds, MaxQueueRingSeconds)
}

// ValidateQueueMaxWait accepts MinQueueMaxWait to MaxQueueMaxWait.
func ValidateQueueMaxWait(seconds int) error {
	return validateRange("max_wait", seconds, MinQueueMaxWait, MaxQueueMaxWait)
}

// ValidateQueueDestination checks where the callers of queue number, whose own mailbox is own,
// go after the maximum wait, by the rules of a group's destination (see
// ValidateGroupDestination): voicemail to the queue's own number needs its own mailbox on, and
// sending its callers to its own number would keep them waiting forever.
func ValidateQueueDestination(number string, d switchboard.GroupDestination, own switchboard.Mailbox) error {
	return validateDestination("queue", number, d, own)
}

// ValidateQueue checks every field of a queue as stored. Logins are not checked: any agent
// may be logged in or out.
func ValidateQueue(q *switchboard.Queue) error {
	if err := ValidateQueueNumber(q.Number); err != nil {
		return err
	}
	if err := ValidateName(q.Name); err != nil {
		return err
	}
	if err := ValidateQueueAgents(q.Number, agentExtensions(q.Agents)); err != nil {
		return err
	}
	if err := ValidateQueueStrategy(q.Strategy); err != nil {
		return err
	}
	if err := ValidateQueueRingSeconds(q.RingSeconds); err != nil {
		return err
	}
	if err := ValidateQueueMaxWait(q.MaxWait); err != nil {
		return err
	}
	if err := ValidateSharedMailbox(q.Mailbox); err != nil {
		return err
	}
	return ValidateQueueDestination(q.Number, q.NoAnswer, q.Mailbox)
}

// agentExtensions returns the extensions of agents, in order.
func agentExtensions(agents []switchboard.QueueAgent) []string {
	exts := make([]string, 0, len(agents))
	for _, a := range agents {
		exts = append(exts, a.Extension)
	}
	return exts
}
