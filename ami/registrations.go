package ami

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// List sends a list action (PJSIPShowRegistrationsOutbound, PJSIPShowEndpoint...) and returns
// its response and the events Asterisk sent with it, in order, up to the one that completes
// the list ("EventList: Complete"), which is not among them. An answer that ends before that
// event is an error: the list would be short without anyone knowing. The events hold whatever
// Asterisk puts in them, passwords of auth objects included (AuthDetail): never log them.
func (c *Client) List(ctx context.Context, name string, headers ...Header) (Response, []Response, error) {
	r, events, _, err := c.list(ctx, name, headers)
	return r, events, err
}

// list is List that returns the completing event as well.
func (c *Client) list(ctx context.Context, name string, headers []Header) (r Response, events []Response, complete Response, err error) {
	blocks, err := c.send(ctx, name, headers)
	if err != nil {
		return nil, nil, nil, err
	}
	events, complete, err = listEvents(blocks)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("AMI %s: %w", name, err)
	}
	return blocks[0], events, complete, nil
}

// listEvents splits the blocks of a list action's answer after the response into its events
// and the event that completes the list, and checks that the answer holds that event and at
// least as many events as it announces.
func listEvents(blocks []Response) (events []Response, complete Response, err error) {
	if !strings.EqualFold(blocks[0].Get("EventList"), "start") {
		return nil, nil, fmt.Errorf("the answer is no list (no EventList: start)")
	}
	for i, ev := range blocks[1:] {
		if !strings.EqualFold(ev.Get("EventList"), "Complete") {
			continue
		}
		events = blocks[1 : 1+i]
		// ListItems counts the events of the list's kind: PJSIPShowEndpoint counts them all,
		// PJSIPShowRegistrationsOutbound only the registrations, not their AuthDetail events
		// (OutboundRegistrations checks those). Fewer events than that means lost ones.
		if n := listItems(ev); n > len(events) {
			return nil, nil, fmt.Errorf("the list announces %d items but holds %d events", n, len(events))
		}
		return events, ev, nil
	}
	return nil, nil, fmt.Errorf("the answer ends before the list is complete (%d events)", len(blocks)-1)
}

// listItems reads the ListItems of a completing event; 0 when it has none.
func listItems(complete Response) int {
	n, _ := strconv.Atoi(complete.Get("ListItems"))
	return n
}

// RegistrationStatus is what Asterisk makes of an outbound registration
// (res_pjsip_outbound_registration.c, sip_outbound_registration_status_str).
type RegistrationStatus string

// The statuses Asterisk 22 reports.
const (
	// RegistrationUnregistered: not registered yet (just configured, waiting for its first
	// answer), or no longer.
	RegistrationUnregistered RegistrationStatus = "Unregistered"
	// RegistrationRegistered: the registrar accepted the last REGISTER.
	RegistrationRegistered RegistrationStatus = "Registered"
	// RegistrationRejected: the last REGISTER failed, whether the registrar refused it (a
	// wrong password: 401 or 403 after the digest round trip) or never answered (32 s without
	// an answer: the provider is down). The contact's status tells them apart
	// (ContactStatuses): a provider that answers qualify requests is Reachable.
	RegistrationRejected RegistrationStatus = "Rejected"
	// RegistrationStopping and RegistrationStopped: the registration is being removed.
	RegistrationStopping RegistrationStatus = "Stopping"
	RegistrationStopped  RegistrationStatus = "Stopped"
)

// OutboundRegistration is one registration object of Asterisk (type = registration) and its
// state, from an OutboundRegistrationDetail event.
type OutboundRegistration struct {
	ObjectName string             // the object's name (its pjsip.conf section)
	Status     RegistrationStatus // "" when Asterisk holds no state for it
	ServerURI  string             // the registrar, e.g. sip:provider.example:5060
	ClientURI  string             // the address of record registered, e.g. sip:user@provider.example
	Endpoint   string             // the endpoint the registration is for, if it names one
	// Expiration is the registration lifetime asked for.
	Expiration time.Duration
	// NextReg is what PJSIP's registration client reports as the time to its next REGISTER
	// (pjsip_regc_info.next_reg). Asterisk schedules refreshes itself, so it is 0 in every
	// state seen with Asterisk 22.
	NextReg time.Duration
}

// OutboundRegistrations returns every outbound registration Asterisk holds and its status
// (PJSIPShowRegistrationsOutbound; manager.conf write = system or reporting). Asterisk without
// res_pjsip_outbound_registration answers that the action is unknown: an error.
func (c *Client) OutboundRegistrations(ctx context.Context) ([]OutboundRegistration, error) {
	_, events, complete, err := c.list(ctx, "PJSIPShowRegistrationsOutbound", nil)
	if err != nil {
		return nil, err
	}
	regs := outboundRegistrations(events)
	// ListItems counts the registrations Asterisk holds a state for; each has its event.
	if n := listItems(complete); n > len(regs) {
		return nil, fmt.Errorf("AMI PJSIPShowRegistrationsOutbound: the list announces %d registrations but holds %d", n, len(regs))
	}
	return regs, nil
}

// outboundRegistrations reads the OutboundRegistrationDetail events of the list and skips the
// others (AuthDetail, with the password).
func outboundRegistrations(events []Response) []OutboundRegistration {
	var regs []OutboundRegistration
	for _, ev := range events {
		if !strings.EqualFold(ev.Get("Event"), "OutboundRegistrationDetail") {
			continue
		}
		regs = append(regs, OutboundRegistration{
			ObjectName: ev.Get("ObjectName"),
			Status:     RegistrationStatus(ev.Get("Status")),
			ServerURI:  ev.Get("ServerUri"),
			ClientURI:  ev.Get("ClientUri"),
			Endpoint:   ev.Get("Endpoint"),
			Expiration: seconds(ev.Get("Expiration")),
			NextReg:    seconds(ev.Get("NextReg")),
		})
	}
	return regs
}

// ContactStatus is the state of one contact of an endpoint: a phone's registered address, or
// the fixed address of a trunk's AOR (contact = sip:provider...), from a ContactStatusDetail
// event. With qualify_frequency set, Asterisk sends OPTIONS to it and Status says whether it
// answers; that is how a provider that does not answer is told from one that refuses us.
type ContactStatus struct {
	AOR    string
	URI    string
	Status string // Reachable, Unreachable, NonQualified (no qualify), Unknown, Created, Removed
	// RoundTrip is the last qualify's round-trip time; zero when there is none (N/A).
	RoundTrip time.Duration
}

// ContactStatuses returns the contacts of an endpoint and their states (PJSIPShowEndpoint;
// manager.conf write = system). PJSIPShowContacts would list every phone of the PBX and none
// of the trunks' fixed contacts, which are not sorcery objects; asking per endpoint lists
// both kinds and costs one endpoint's events. An endpoint Asterisk does not hold is ENOTFOUND.
func (c *Client) ContactStatuses(ctx context.Context, endpoint string) ([]ContactStatus, error) {
	_, events, err := c.List(ctx, "PJSIPShowEndpoint", Header{"Endpoint", endpoint})
	if err != nil {
		// res_pjsip's ami_show_endpoint: "Unable to retrieve endpoint NAME".
		if strings.Contains(err.Error(), "Unable to retrieve endpoint") {
			return nil, fmt.Errorf("AMI PJSIPShowEndpoint: %w",
				switchboard.Errorf(switchboard.ENOTFOUND, "Asterisk holds no endpoint %s", endpoint))
		}
		return nil, err
	}
	return contactStatuses(events), nil
}

// contactStatuses reads the ContactStatusDetail events of the list.
func contactStatuses(events []Response) []ContactStatus {
	var contacts []ContactStatus
	for _, ev := range events {
		if !strings.EqualFold(ev.Get("Event"), "ContactStatusDetail") {
			continue
		}
		c := ContactStatus{AOR: ev.Get("AOR"), URI: ev.Get("URI"), Status: ev.Get("Status")}
		if us, err := strconv.ParseInt(ev.Get("RoundtripUsec"), 10, 64); err == nil && us > 0 {
			c.RoundTrip = time.Duration(us) * time.Microsecond
		}
		contacts = append(contacts, c)
	}
	return contacts
}

// seconds reads a whole number of seconds; anything else is zero.
func seconds(s string) time.Duration {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
