package provisioning

import "context"

// PresenceState is what a caller would find: the phone is registered and idle, not
// registered, ringing, or in a call.
type PresenceState string

// Presence states reported by the API.
const (
	Online  PresenceState = "online"
	Offline PresenceState = "offline"
	Ringing PresenceState = "ringing"
	Busy    PresenceState = "busy"
)

// Presence is a user's phone state as Asterisk sees it.
type Presence struct {
	Extension     string
	State         PresenceState
	EndpointState string // Asterisk's endpoint state: online, offline, unknown
	DeviceState   string // Asterisk's device state: NOT_INUSE, INUSE, RINGING, UNAVAILABLE...
	Channels      int    // channels the endpoint has open
}

// PresenceSource asks Asterisk for an extension's state.
type PresenceSource interface {
	Presence(ctx context.Context, ext string) (Presence, error)
}

// PresenceFromStates combines Asterisk's endpoint and device states into one PresenceState.
func PresenceFromStates(endpointState, deviceState string) PresenceState {
	switch deviceState {
	case "RINGING", "RINGINUSE":
		return Ringing
	case "INUSE", "BUSY", "ONHOLD":
		return Busy
	}
	if endpointState != "online" {
		return Offline
	}
	switch deviceState {
	case "UNAVAILABLE", "INVALID":
		return Offline
	}
	return Online
}
