package provisioning_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

func TestValidateRoomPIN(t *testing.T) {
	tests := []struct {
		pin string
		ok  bool
	}{
		{"", true}, // no PIN: anyone may join
		{"1234", true},
		{"0000000000", true},
		{"123", false},
		{"12345678901", false},
		{"12a4", false},
		{"1234#", false}, // # ends the digits a caller keys in
		{"12*4", false},
		{"１２３４", false}, // fullwidth digits are not keypad digits
		{"1234\n", false},
		{" 1234", false},
	}
	for _, tt := range tests {
		checkValid(t, "ValidateRoomPIN", tt.pin, provisioning.ValidateRoomPIN("pin", tt.pin), tt.ok)
	}
}

func TestValidateRoom(t *testing.T) {
	ok := func() switchboard.Room {
		return switchboard.Room{Number: "800", Name: "Sales Weekly", PIN: "1234", ModeratorPIN: "98765",
			MaxParticipants: switchboard.DefaultRoomParticipants}
	}
	tests := []struct {
		name   string
		change func(*switchboard.Room)
		ok     bool
		msg    string // part of the message, for the rows that fail
	}{
		{"OK", func(*switchboard.Room) {}, true, ""},
		{"NoPINs", func(r *switchboard.Room) { r.PIN, r.ModeratorPIN = "", "" }, true, ""},
		// A moderator PIN alone: callers press # to join as participants.
		{"ModeratorPINOnly", func(r *switchboard.Room) { r.PIN = "" }, true, ""},
		{"SmallestRoom", func(r *switchboard.Room) { r.MaxParticipants = 2 }, true, ""},
		{"LargestRoom", func(r *switchboard.Room) { r.MaxParticipants = 100 }, true, ""},
		{"NumberTooShort", func(r *switchboard.Room) { r.Number = "8" }, false, "room number"},
		{"NumberTooLong", func(r *switchboard.Room) { r.Number = "1234567" }, false, "room number"},
		{"NumberPattern", func(r *switchboard.Room) { r.Number = "_X." }, false, "room number"},
		{"FeatureCode", func(r *switchboard.Room) { r.Number = "*97" }, false, "room number"},
		{"NameEmpty", func(r *switchboard.Room) { r.Name = "" }, false, "name"},
		{"NameSection", func(r *switchboard.Room) { r.Name = "Sales\n[evil]" }, false, "name"},
		{"NameComment", func(r *switchboard.Room) { r.Name = "Sales;x" }, false, "name"},
		{"PINLetters", func(r *switchboard.Room) { r.PIN = "abcd" }, false, "pin must be"},
		{"ModeratorPINShort", func(r *switchboard.Room) { r.ModeratorPIN = "12" }, false, "moderator_pin must be"},
		// Everyone who knows the PIN would be a moderator.
		{"SamePINs", func(r *switchboard.Room) { r.ModeratorPIN = r.PIN }, false, "must differ"},
		{"OneParticipant", func(r *switchboard.Room) { r.MaxParticipants = 1 }, false, "max_participants"},
		{"ZeroParticipants", func(r *switchboard.Room) { r.MaxParticipants = 0 }, false, "max_participants"},
		{"Crowd", func(r *switchboard.Room) { r.MaxParticipants = 101 }, false, "max_participants"},
		{"Negative", func(r *switchboard.Room) { r.MaxParticipants = -5 }, false, "max_participants"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok()
			tt.change(&r)
			err := provisioning.ValidateRoom(&r)
			checkValid(t, "ValidateRoom", r, err, tt.ok)
			if !tt.ok && err != nil && !strings.Contains(switchboard.ErrorMessage(err), tt.msg) {
				t.Errorf("message %q does not mention %q", switchboard.ErrorMessage(err), tt.msg)
			}
		})
	}
}

func TestValidateParticipantID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"0b0e7d4e-3c1f-4a55-9d6e-6a1f5c0b2e11", true},
		{"", false},
		{"0b0e7d4e3c1f4a559d6e6a1f5c0b2e11", false},              // the short form is not what call control makes
		{"{0b0e7d4e-3c1f-4a55-9d6e-6a1f5c0b2e11}", false},        // nor braces
		{"urn:uuid:0b0e7d4e-3c1f-4a55-9d6e-6a1f5c0b2e11", false}, // nor a URN
		{"0b0e7d4e-3c1f-4a55-9d6e-6a1f5c0b2e1/", false},          // a path
		{"PJSIP/1001-00000001", false},                           // a channel, not a call
		{"0b0e7d4e-3c1f-4a55-9d6e-6a1f5c0b2e11\n", false},
	}
	for _, tt := range tests {
		checkValid(t, "ValidateParticipantID", tt.id, provisioning.ValidateParticipantID(tt.id), tt.ok)
	}
}

// FuzzRoomValidation shows that whatever validation accepts, and so the store keeps and call
// control compares callers' digits with, is plain: keypad digits in the PINs, a number of the
// plan, a valid name, distinct PINs, a size within the limits. What it rejects is never stored.
func FuzzRoomValidation(f *testing.F) {
	f.Add("800", "Sales Weekly", "1234", "98765", 20)
	f.Add("80", "R&D (Lab 2)", "", "0000", 2)
	f.Add("800", "a\n[evil]", "12;4", "1234", 1)
	f.Add("800\n", "x", "1234#", "1234", 101)
	f.Add("١٢٣", "Sales", "١٢٣٤", "", 0)
	f.Fuzz(func(t *testing.T, number, name, pin, moderatorPIN string, max int) {
		ctx := context.Background()
		svc := &provisioning.RoomService{Store: inmem.NewRoomStore(nil)}
		created, err := svc.CreateRoom(ctx, provisioning.NewRoom{Number: number, Name: name, PIN: pin,
			ModeratorPIN: moderatorPIN, MaxParticipants: max})
		stored, _ := svc.Store.Rooms(ctx)
		if err != nil {
			if switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Fatalf("CreateRoom: %v, want invalid or nothing", err)
			}
			if len(stored) != 0 {
				t.Fatalf("a rejected room was stored: %+v", stored)
			}
			return
		}
		if len(stored) != 1 || stored[0] != created {
			t.Fatalf("stored %+v, created %+v", stored, created)
		}
		digits := func(s string, min, max int) bool {
			return len(s) >= min && len(s) <= max && strings.Trim(s, "0123456789") == ""
		}
		r := created
		switch {
		case !digits(r.Number, 2, 6):
			t.Fatalf("number %q accepted", r.Number)
		case provisioning.ValidateName(r.Name) != nil:
			t.Fatalf("name %q accepted", r.Name)
		case r.PIN != "" && !digits(r.PIN, 4, 10):
			t.Fatalf("pin %q accepted", r.PIN)
		case r.ModeratorPIN != "" && !digits(r.ModeratorPIN, 4, 10):
			t.Fatalf("moderator pin %q accepted", r.ModeratorPIN)
		case r.ModeratorPIN != "" && r.ModeratorPIN == r.PIN:
			t.Fatalf("equal pins %q accepted", r.PIN)
		case r.MaxParticipants < switchboard.MinRoomParticipants || r.MaxParticipants > switchboard.MaxRoomParticipants:
			t.Fatalf("max participants %d accepted", r.MaxParticipants)
		case r.Number != number || r.Name != name || r.PIN != pin || r.ModeratorPIN != moderatorPIN:
			t.Fatalf("accepted input was changed: %+v", r)
		}
	})
}
