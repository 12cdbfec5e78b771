package provisioning

import (
	"github.com/switchboard-pbx/switchboard"
)

// Limits of a ring group's times, in seconds. A member rings as long as a user may ring at
// most; a group tries for up to ten minutes in all, long enough to hunt through a large group.
const (
	MinGroupRingSeconds = MinRingTimeout
	MaxGroupRingSeconds = MaxRingTimeout
	MinGroupTimeout     = 5
	MaxGroupTimeout     = 600
)

// ValidateGroupNumber accepts what ValidateExtension does: a group's number is dialled like a
// user's extension and lives in the same plan.
func ValidateGroupNumber(number string) error {
	if ValidateExtension(number) != nil {
		return switchboard.Errorf(switchboard.EINVALID, "group number must be 2 to 6 digits")
	}
	return nil
}

// ValidateGroupMembers accepts 1 to MaxGroupMembers extensions, each listed once and none the
// group's own number (number). Whether each is a user is the store's to say: only it can tell
// without a race with the user's deletion.
func ValidateGroupMembers(number string, members []string) error {
	return validateExtensionList("member", "group", number, members, switchboard.MaxGroupMembers)
}

// validateExtensionList checks who belongs to the group or queue (what) number: each of exts is
// a noun ("member", "agent") in the messages. See ValidateGroupMembers and ValidateQueueAgents.
func validateExtensionList(noun, what, number string, exts []string, most int) error {
	if len(exts) == 0 || len(exts) > most {
		return switchboard.Errorf(switchboard.EINVALID, "%ss must list 1 to %d extensions", noun, most)
	}
	seen := make(map[string]bool, len(exts))
	for _, ext := range exts {
		if ValidateExtension(ext) != nil {
			// %q: the value is the caller's and may hold anything; quoted, it cannot break the message.
			return switchboard.Errorf(switchboard.EINVALID, "%s %q must be an extension of 2 to 6 digits", noun, ext)
		}
		if ext == number {
			return switchboard.Errorf(switchboard.EINVALID, "%s %s is the %s's own number", noun, ext, what)
		}
		if seen[ext] {
			return switchboard.Errorf(switchboard.EINVALID, "%s %s is listed twice", noun, ext)
		}
		seen[ext] = true
	}
	return nil
}

// validateRange accepts lo to hi as the value v of field, a setting in seconds or a count.
func validateRange(field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return switchboard.Errorf(switchboard.EINVALID, "%s must be %d to %d", field, lo, hi)
	}
	return nil
}

// ValidateGroupStrategy accepts the strategies call control knows.
func ValidateGroupStrategy(s switchboard.GroupStrategy) error {
	switch s {
	case switchboard.RingAll, switchboard.Hunt:
		return nil
	}
	return switchboard.Errorf(switchboard.EINVALID, "strategy must be %s or %s", switchboard.RingAll, switchboard.Hunt)
}

// ValidateGroupRingSeconds accepts MinGroupRingSeconds to MaxGroupRingSeconds.
func ValidateGroupRingSeconds(seconds int) error {
	return validateRange("ring_seconds", seconds, MinGroupRingSeconds, MaxGroupRingSeconds)
}

// ValidateGroupTimeout accepts MinGroupTimeout to MaxGroupTimeout.
func ValidateGroupTimeout(seconds int) error {
	return validateRange("timeout", seconds, MinGroupTimeout, MaxGroupTimeout)
}

// ValidateGroupDestination checks where the calls of group number, whose own mailbox is own,
// go when nobody answers: hanging up needs no number; a mailbox is a user's (an extension) or
// the group's own, which must then be on; another number is one of the plan, not the group's
// own (its calls would come back to it forever). Whether anyone has the number is not checked:
// call control treats a destination nobody has as hanging up, and voicemail to another number
// than the group's as hanging up unless it is a user's.
func ValidateGroupDestination(number string, d switchboard.GroupDestination, own switchboard.Mailbox) error {
	return validateDestination("group", number, d, own)
}

// validateDestination checks the no-answer destination of the group or queue (what) number,
// whose own mailbox is own; see ValidateGroupDestination and ValidateQueueDestination.
func validateDestination(what, number string, d switchboard.GroupDestination, own switchboard.Mailbox) error {
	switch d.Kind {
	case switchboard.DestinationHangup:
		if d.Number != "" {
			return switchboard.Errorf(switchboard.EINVALID, "no_answer: hangup takes no number")
		}
	case switchboard.DestinationVoicemail:
		if ValidateExtension(d.Number) != nil {
			return switchboard.Errorf(switchboard.EINVALID, "no_answer: voicemail needs a user's extension or the %s's own number (2 to 6 digits)", what)
		}
		if d.Number == number && !own.Enabled {
			return switchboard.Errorf(switchboard.EINVALID, "no_answer: voicemail to the %s's own number needs its own mailbox (voicemail.enabled)", what)
		}
	case switchboard.DestinationNumber:
		if ValidateExtension(d.Number) != nil {
			return switchboard.Errorf(switchboard.EINVALID, "no_answer: number needs a number of 2 to 6 digits")
		}
		if d.Number == number {
			return switchboard.Errorf(switchboard.EINVALID, "no_answer: a %s cannot send its calls to its own number", what)
		}
	default:
		return switchboard.Errorf(switchboard.EINVALID, "no_answer.kind must be %s, %s or %s",
			switchboard.DestinationHangup, switchboard.DestinationVoicemail, switchboard.DestinationNumber)
	}
	return nil
}

// ValidateSharedMailbox checks the own mailbox of a group or a queue as a user's is checked: a
// mailbox that is on has a PIN of 4 to 10 digits, and one that is off may keep the PIN it had
// (which is then still a valid one).
func ValidateSharedMailbox(m switchboard.Mailbox) error {
	if m.Enabled || m.PIN != "" {
		return ValidatePIN(m.PIN)
	}
	return nil
}

// ValidateGroup checks every field of a group as stored.
func ValidateGroup(g *switchboard.Group) error {
	if err := ValidateGroupNumber(g.Number); err != nil {
		return err
	}
	if err := ValidateName(g.Name); err != nil {
		return err
	}
	if err := ValidateGroupMembers(g.Number, g.Members); err != nil {
		return err
	}
	if err := ValidateGroupStrategy(g.Strategy); err != nil {
		return err
	}
	if err := ValidateGroupRingSeconds(g.RingSeconds); err != nil {
		return err
	}
	if err := ValidateGroupTimeout(g.Timeout); err != nil {
		return err
	}
	if err := ValidateSharedMailbox(g.Mailbox); err != nil {
		return err
	}
	return ValidateGroupDestination(g.Number, g.NoAnswer, g.Mailbox)
}
