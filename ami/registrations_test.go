package ami_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/ami"
)

// crlf writes an answer as Asterisk sends it: every line ends in CR LF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// Answers of Asterisk 22.10 as /rawman sent them, shortened (fewer fields per event) and with
// the password of the AuthDetail event replaced.
var (
	registrationsAnswer = crlf(`Response: Success
EventList: start
Message: Following are Events for each Outbound registration

Event: OutboundRegistrationDetail
ObjectType: registration
ObjectName: trunk-acme
MaxRetries: 1000
ClientUri: sip:acme-user@127.0.0.2:25071
ServerUri: sip:127.0.0.2:25071
RetryInterval: 5
Expiration: 20
Transport: transport-udp
ContactUser: acme-user
Endpoint: 
OutboundAuth: trunk-acme
Status: Registered
NextReg: 0

Event: AuthDetail
ObjectType: auth
ObjectName: trunk-acme
Username: acme-user
AuthType: userpass
Password: not-the-real-one

Event: OutboundRegistrationDetail
ObjectType: registration
ObjectName: trunk-down
ClientUri: sip:down@127.0.0.2:5999
ServerUri: sip:127.0.0.2:5999
Expiration: 3600
Endpoint: trunk-down
Status: Rejected
NextReg: 17

Event: OutboundRegistrationDetailComplete
EventList: Complete
ListItems: 2
Registered: 1
NotRegistered: 1

`)
	noRegistrationsAnswer = crlf(`Response: Success
EventList: start
Message: Following are Events for each Outbound registration

Event: OutboundRegistrationDetailComplete
EventList: Complete
ListItems: 0
Registered: 0
NotRegistered: 0

`)
	endpointAnswer = crlf(`Response: Success
EventList: start
Message: Following are Events for each object associated with the Endpoint

Event: EndpointDetail
ObjectType: endpoint
ObjectName: trunk-acme
Aors: trunk-acme
Context: switchboard-trunk-in
DeviceState: Not in use
ActiveChannels: 0

Event: AorDetail
ObjectType: aor
ObjectName: trunk-acme
Contacts: trunk-acme/sip:127.0.0.2:25071
QualifyFrequency: 5
TotalContacts: 2
EndpointName: trunk-acme

Event: ContactStatusDetail
AOR: trunk-acme
URI: sip:127.0.0.2:25071
RegExpire: 0
Status: Reachable
RoundtripUsec: 1878
EndpointName: trunk-acme
ID: trunk-acme@@0cf6480a4c01aa116c441c02efb2f973

Event: ContactStatusDetail
AOR: trunk-acme
URI: sip:127.0.0.3:5060
Status: Unreachable
RoundtripUsec: N/A
EndpointName: trunk-acme

Event: EndpointDetailComplete
EventList: Complete
ListItems: 4

`)
	// res_pjsip ends this message with a "\n" of its own, as app_voicemail does some.
	noEndpointAnswer = "Response: Error\r\nMessage: Unable to retrieve endpoint nosuch\n\r\n\r\n"
)

// MustListClient starts a fake rawman that answers action with body.
func MustListClient(tb testing.TB, answers map[string]string) *ami.Client {
	tb.Helper()
	c, fake := MustClient(tb)
	fake.mu.Lock()
	fake.answers = answers
	fake.mu.Unlock()
	return c
}

func TestOutboundRegistrations(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		c := MustListClient(t, map[string]string{"pjsipshowregistrationsoutbound": registrationsAnswer})
		regs, err := c.OutboundRegistrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []ami.OutboundRegistration{
			{ObjectName: "trunk-acme", Status: ami.RegistrationRegistered, ServerURI: "sip:127.0.0.2:25071",
				ClientURI: "sip:acme-user@127.0.0.2:25071", Expiration: 20 * time.Second},
			{ObjectName: "trunk-down", Status: ami.RegistrationRejected, ServerURI: "sip:127.0.0.2:5999",
				ClientURI: "sip:down@127.0.0.2:5999", Endpoint: "trunk-down", Expiration: time.Hour, NextReg: 17 * time.Second},
		}
		if !reflect.DeepEqual(regs, want) {
			t.Errorf("got  %+v\nwant %+v", regs, want)
		}
	})
	t.Run("None", func(t *testing.T) {
		c := MustListClient(t, map[string]string{"pjsipshowregistrationsoutbound": noRegistrationsAnswer})
		regs, err := c.OutboundRegistrations(ctx)
		if err != nil || len(regs) != 0 {
			t.Errorf("got %v, %v; want none", regs, err)
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		// The answer stops before the closing event: the list would silently be short.
		cut := registrationsAnswer[:strings.Index(registrationsAnswer, "Event: OutboundRegistrationDetailComplete")]
		c := MustListClient(t, map[string]string{"pjsipshowregistrationsoutbound": cut})
		if regs, err := c.OutboundRegistrations(ctx); err == nil || !strings.Contains(err.Error(), "before the list is complete") {
			t.Errorf("got %v, %v; want an error", regs, err)
		}
	})
	t.Run("ErrMissingEvents", func(t *testing.T) {
		// Two registrations announced, one sent.
		second := strings.Index(registrationsAnswer, "Event: OutboundRegistrationDetail\r\nObjectType: registration\r\nObjectName: trunk-down")
		end := strings.Index(registrationsAnswer, "Event: OutboundRegistrationDetailComplete")
		short := registrationsAnswer[:second] + registrationsAnswer[end:]
		c := MustListClient(t, map[string]string{"pjsipshowregistrationsoutbound": short})
		if _, err := c.OutboundRegistrations(ctx); err == nil || !strings.Contains(err.Error(), "announces 2 registrations") {
			t.Errorf("got %v, want an error", err)
		}
	})
	t.Run("ErrModuleNotLoaded", func(t *testing.T) {
		// Without res_pjsip_outbound_registration Asterisk does not know the action.
		c, _ := MustClient(t)
		_, err := c.OutboundRegistrations(ctx)
		if err == nil || !strings.Contains(err.Error(), "Invalid/unknown command") {
			t.Errorf("got %v, want Asterisk's message", err)
		}
	})
	t.Run("ErrNoList", func(t *testing.T) {
		c := MustListClient(t, map[string]string{"pjsipshowregistrationsoutbound": "Response: Success\r\nMessage: done\r\n\r\n"})
		if _, err := c.OutboundRegistrations(ctx); err == nil || !strings.Contains(err.Error(), "no list") {
			t.Errorf("got %v, want an error", err)
		}
	})
	t.Run("ErrPermission", func(t *testing.T) {
		c, fake := MustClient(t)
		fake.mu.Lock()
		fake.deny = true
		fake.mu.Unlock()
		_, err := c.OutboundRegistrations(ctx)
		if err == nil || !strings.Contains(err.Error(), "manager.conf write") {
			t.Errorf("got %v, want the permission named", err)
		}
	})
}

func TestContactStatuses(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		c, fake := MustClient(t)
		fake.mu.Lock()
		fake.answers = map[string]string{"pjsipshowendpoint": endpointAnswer}
		fake.mu.Unlock()
		contacts, err := c.ContactStatuses(ctx, "trunk-acme")
		if err != nil {
			t.Fatal(err)
		}
		want := []ami.ContactStatus{
			{AOR: "trunk-acme", URI: "sip:127.0.0.2:25071", Status: "Reachable", RoundTrip: 1878 * time.Microsecond},
			{AOR: "trunk-acme", URI: "sip:127.0.0.3:5060", Status: "Unreachable"}, // N/A: no round trip
		}
		if !reflect.DeepEqual(contacts, want) {
			t.Errorf("got  %+v\nwant %+v", contacts, want)
		}
		if _, _, actions := fake.seen(); actions[0]["endpoint"] != "trunk-acme" {
			t.Errorf("PJSIPShowEndpoint sent %v", actions[0])
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		c := MustListClient(t, map[string]string{"pjsipshowendpoint": noEndpointAnswer})
		_, err := c.ContactStatuses(ctx, "nosuch")
		if code := switchboard.ErrorCode(err); code != switchboard.ENOTFOUND {
			t.Errorf("code %q (%v), want not_found", code, err)
		}
	})
}

func TestList(t *testing.T) {
	ctx := context.Background()
	// Blank lines in runs, LF without CR and a trailing block without its blank line all
	// read as Asterisk meant them.
	c := MustListClient(t, map[string]string{"pjsipshowaors": "Response: Success\nEventList: start\r\n\r\n\r\n\n" +
		"Event: AorList\r\nObjectName: a\n\r\nEvent: AorList\r\nObjectName: b\r\n\r\n" +
		"Event: AorListComplete\r\nEventList: Complete\r\nListItems: 2"})
	r, events, err := c.List(ctx, "PJSIPShowAors")
	if err != nil {
		t.Fatal(err)
	}
	if r.Get("Response") != "Success" || len(events) != 2 || events[0].Get("ObjectName") != "a" || events[1].Get("ObjectName") != "b" {
		t.Errorf("got %v and %v", r, events)
	}
}

// FuzzList: whatever Asterisk (or something in its place) answers, List returns a response and
// events or an error, and never panics; events never include the completing one.
func FuzzList(f *testing.F) {
	for _, seed := range []string{registrationsAnswer, noRegistrationsAnswer, endpointAnswer, noEndpointAnswer,
		"Response: Success\r\nEventList: start\r\n\r\nEvent: X\r\nEventList: Complete\r\nListItems: -1\r\n\r\n", ":\n\n:", ""} {
		f.Add(seed)
	}
	var answer atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if strings.EqualFold(r.PostForm.Get("Action"), "Login") {
			w.Write([]byte("Response: Success\r\nMessage: Authentication accepted\r\n\r\n"))
			return
		}
		w.Write([]byte(answer.Load().(string)))
	}))
	defer srv.Close()
	c, err := ami.New(ami.Config{URL: srv.URL, Username: "switchboard", Password: "s3cret-password"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		answer.Store(body)
		r, events, err := c.List(context.Background(), "PJSIPShowRegistrationsOutbound")
		if err != nil {
			return
		}
		if r.Get("Response") == "" {
			t.Errorf("a list without a response: %q", body)
		}
		for _, ev := range events {
			if strings.EqualFold(ev.Get("EventList"), "Complete") {
				t.Errorf("the completing event is among the events: %q", body)
			}
		}
	})
}
