package provisioning

import (
	"github.com/google/uuid"

	"github.com/switchboard-pbx/switchboard"
)

// ValidateRoomNumber accepts what ValidateExtension does: a room's number is dialled like a
// user's extension and lives in the same plan.
func ValidateRoomNumber(number string) error {
	if ValidateExtension(number) != nil {
		return switchboard.Errorf(switchboard.EINVALID, "room number must be 2 to 6 digits")
	}
	return nil
}

// ValidateRoomPIN accepts an empty PIN (none is asked for) or 4 to 10 ASCII digits: callers
// key it in on a phone's keypad, and call control compares it with the digits it receives.
// field names the PIN in the message ("pin", "moderator_pin").
func ValidateRoomPIN(field, pin string) error {
	if pin != "" && ValidatePIN(pin) != nil {
		return switchboard.Errorf(switchboard.EINVALID, "%s must be empty or 4 to 10 digits", field)
	}
	return nil
}

// ValidateMaxParticipants accepts MinRoomParticipants to MaxRoomParticipants: a room for one
// is no conversation, and one mixing bridge in Asterisk is not meant for crowds.
func ValidateMaxParticipants(n int) error {
	return validateRange("max_participants", n, switchboard.MinRoomParticipants, switchboard.MaxRoomParticipants)
}

// ValidateRoom checks every field of a room as stored.
func ValidateRoom(r *switchboard.Room) error {
	if err := ValidateRoomNumber(r.Number); err != nil {
		return err
	}
	if err := ValidateName(r.Name); err != nil {
		return err
	}
	if err := ValidateRoomPIN("pin", r.PIN); err != nil {
		return err
	}
	if err := ValidateRoomPIN("moderator_pin", r.ModeratorPIN); err != nil {
		return err
	}
	// With the same PIN for both, whoever may join would join as a moderator.
	if r.ModeratorPIN != "" && r.ModeratorPIN == r.PIN {
		return switchboard.Errorf(switchboard.EINVALID, "moderator_pin must differ from pin")
	}
	return ValidateMaxParticipants(r.MaxParticipants)
}

// ValidateParticipantID accepts the canonical form of a UUID: a participant is named by the ID
// of their call, which call control makes with uuid.NewString.
func ValidateParticipantID(id string) error {
	if len(id) != 36 || uuid.Validate(id) != nil {
		return switchboard.Errorf(switchboard.EINVALID, "participant ID must be the ID of their call (a UUID)")
	}
	return nil
}
