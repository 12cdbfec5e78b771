package softphone_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-pbx/switchboard/softphone"
)

// openFakePhone opens extension 1002 (password "secret") against the fake PBX; its events go
// to the channel returned (dropped when it is full).
func openFakePhone(t *testing.T, f *fakePBX) (*softphone.Phone, <-chan softphone.Event) {
	t.Helper()
	events := make(chan softphone.Event, 64)
	ph, err := softphone.Open(context.Background(), softphone.Options{
		Server: f.addr(), Username: "1002", Password: "secret",
		OnEvent: func(e softphone.Event) {
			select {
			case events <- e:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ph.Close() })
	return ph, events
}

// nextEvent returns the next event of kind, skipping others, failing after 5 s without one.
func nextEvent(t *testing.T, events <-chan softphone.Event, kind softphone.EventKind) softphone.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind == kind {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event within 5 s", kind)
		}
	}
}

// noEvent fails when an event of kind is waiting in the channel.
func noEvent(t *testing.T, events <-chan softphone.Event, kind softphone.EventKind) {
	t.Helper()
	for {
		select {
		case e := <-events:
			if e.Kind == kind {
				t.Errorf("unexpected event: %s", e)
			}
		default:
			return
		}
	}
}

// digestResponse is RFC 2617's response without qop, which is what the challenge asks for.
func digestResponse(user, realm, password, method, uri, nonce string) string {
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	return h(h(user+":"+realm+":"+password) + ":" + nonce + ":" + h(method+":"+uri))
}

// authParams returns the parameters of a Digest Authorization header.
func authParams(value string) map[string]string {
	params := map[string]string{}
	for _, kv := range strings.Split(strings.TrimPrefix(value, "Digest "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		params[k] = strings.Trim(v, `"`)
	}
	return params
}

type subscribed struct {
	sub *softphone.Subscription
	err error
}

func subscribe(ph *softphone.Phone, expires time.Duration) <-chan subscribed {
	done := make(chan subscribed, 1)
	go func() {
		sub, err := ph.SubscribeMWI(context.Background(), expires)
		done <- subscribed{sub, err}
	}()
	return done
}

func result[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no result within 5 s")
		panic("unreachable")
	}
}

func header(req *sip.Request, name string) string {
	if h := req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// TestSubscribeMWI plays the PBX's part of RFC 3842 by hand: the digest challenge, the
// subscription's NOTIFYs and unsolicited ones, a body that does not parse, and the end.
func TestSubscribeMWI(t *testing.T) {
	pbx := startFakePBX(t)
	ph, events := openFakePhone(t, pbx)
	done := subscribe(ph, time.Minute)

	first := pbx.readRequest(sip.SUBSCRIBE)
	if first.Recipient.User != "1002" || header(first, "Event") != "message-summary" ||
		header(first, "Accept") != "application/simple-message-summary" || header(first, "Expires") != "60" {
		t.Errorf("SUBSCRIBE:\n%s", first)
	}
	if c := first.Contact(); c == nil || c.Address.Port != pbx.phone.(*net.UDPAddr).Port {
		t.Errorf("Contact %v does not name the phone's listener %v", c, pbx.phone)
	}
	pbx.respond(first, 401, "Unauthorized", sip.NewHeader("WWW-Authenticate", `Digest realm="asterisk",nonce="n0nce",algorithm=MD5`))
	req := pbx.readRequest(sip.SUBSCRIBE)
	auth := authParams(header(req, "Authorization"))
	if want := digestResponse("1002", "asterisk", "secret", "SUBSCRIBE", auth["uri"], "n0nce"); auth["username"] != "1002" || auth["response"] != want {
		t.Errorf("Authorization %v, want response %s", auth, want)
	}
	if req.CallID().Value() != first.CallID().Value() || req.CSeq().SeqNo <= first.CSeq().SeqNo {
		t.Errorf("the authenticated SUBSCRIBE must keep the Call-ID and raise the CSeq:\n%s", req)
	}
	expires := sip.ExpiresHeader(60)
	pbx.respond(req, 200, "OK", &expires)
	res := result(t, done)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if _, ok := ph.LastMWI(); ok {
		t.Error("LastMWI before any NOTIFY")
	}

	t.Run("InSubscription", func(t *testing.T) {
		ans := pbx.notify(req, "message-summary", "active;expires=60", "Messages-Waiting: yes\r\nMessage-Account: sip:1002@127.0.0.1\r\nVoice-Message: 1/0 (0/0)\r\n")
		if ans.StatusCode != 200 {
			t.Errorf("NOTIFY answered %d", ans.StatusCode)
		}
		e := nextEvent(t, events, softphone.EventMWI)
		want := softphone.MWI{Waiting: true, New: 1, Account: "sip:1002@127.0.0.1", Subscription: true}
		if e.MWI == nil || *e.MWI != want || e.CallID != req.CallID().Value() {
			t.Errorf("event %+v (mwi %+v), want %+v", e, e.MWI, want)
		}
		if last, ok := ph.LastMWI(); !ok || last != want {
			t.Errorf("LastMWI %+v, %v", last, ok)
		}
	})
	t.Run("Unsolicited", func(t *testing.T) {
		ans := pbx.notify(nil, "message-summary", "active", "Messages-Waiting: no\r\nVoice-Message: 0/1\r\n")
		if ans.StatusCode != 200 {
			t.Errorf("NOTIFY answered %d", ans.StatusCode)
		}
		if e := nextEvent(t, events, softphone.EventMWI); e.MWI == nil || *e.MWI != (softphone.MWI{Old: 1}) {
			t.Errorf("event %+v (mwi %+v)", e, e.MWI)
		}
	})
	t.Run("BadBody", func(t *testing.T) {
		if ans := pbx.notify(nil, "message-summary", "active", "hello"); ans.StatusCode != 200 {
			t.Errorf("NOTIFY answered %d", ans.StatusCode)
		}
		if e := nextEvent(t, events, softphone.EventWarning); !strings.Contains(e.Detail, "message summary") {
			t.Errorf("warning %q", e.Detail)
		}
	})
	t.Run("OtherEventPackage", func(t *testing.T) {
		// Diago's: it refuses a NOTIFY that belongs to none of its calls.
		if ans := pbx.notify(nil, "refer", "active", "SIP/2.0 200 OK"); ans.StatusCode < 400 {
			t.Errorf("NOTIFY for refer answered %d, want diago's refusal", ans.StatusCode)
		}
		noEvent(t, events, softphone.EventMWI)
	})
	t.Run("Close", func(t *testing.T) {
		closed := make(chan error, 1)
		go func() { closed <- res.sub.Close(context.Background()) }()
		bye := pbx.readRequest(sip.SUBSCRIBE)
		if header(bye, "Expires") != "0" || bye.CallID().Value() != req.CallID().Value() ||
			bye.CSeq().SeqNo <= req.CSeq().SeqNo || bye.Recipient.User != "" {
			t.Errorf("unsubscribe must be Expires: 0 within the dialog, to the PBX's Contact:\n%s", bye)
		}
		if tag, _ := bye.To().Params.Get("tag"); tag != "pbx-tag" {
			t.Errorf("unsubscribe To tag %q", tag)
		}
		pbx.respond(bye, 200, "OK")
		if err := result(t, closed); err != nil {
			t.Fatal(err)
		}
		// The PBX's last NOTIFY still belongs to the subscription and warns of nothing.
		pbx.notify(req, "message-summary", "terminated;reason=timeout", "Messages-Waiting: no\r\n")
		if e := nextEvent(t, events, softphone.EventMWI); e.MWI == nil || !e.MWI.Subscription {
			t.Errorf("last NOTIFY: %+v", e.MWI)
		}
		noEvent(t, events, softphone.EventWarning)
		if err := res.sub.Close(context.Background()); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

func TestSubscribeMWIRefreshes(t *testing.T) {
	pbx := startFakePBX(t)
	ph, _ := openFakePhone(t, pbx)
	done := subscribe(ph, time.Minute)
	req := pbx.readRequest(sip.SUBSCRIBE)
	// A short lifetime: the phone must renew it, at three quarters.
	granted := sip.ExpiresHeader(1)
	pbx.respond(req, 200, "OK", &granted)
	res := result(t, done)
	if res.err != nil {
		t.Fatal(res.err)
	}
	refresh := pbx.readRequest(sip.SUBSCRIBE)
	tag, _ := refresh.To().Params.Get("tag")
	if header(refresh, "Expires") != "60" || refresh.CallID().Value() != req.CallID().Value() ||
		refresh.CSeq().SeqNo != req.CSeq().SeqNo+1 || tag != "pbx-tag" {
		t.Errorf("refresh must ask for 60 s again within the dialog:\n%s", refresh)
	}
	long := sip.ExpiresHeader(60)
	pbx.respond(refresh, 200, "OK", &long)

	closed := make(chan error, 1)
	go func() { closed <- res.sub.Close(context.Background()) }()
	pbx.respond(pbx.readRequest(sip.SUBSCRIBE), 200, "OK")
	if err := result(t, closed); err != nil {
		t.Fatal(err)
	}
}

func TestSubscribeMWIRefused(t *testing.T) {
	for _, tc := range []struct {
		status  int
		reason  string
		outcome softphone.Outcome
	}{
		{404, "Not Found", softphone.OutcomeNotFound}, // Asterisk: the AOR has no mailboxes
		{489, "Bad Event", softphone.OutcomeRejected},
		{403, "Forbidden", softphone.OutcomeAuthFailed},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			pbx := startFakePBX(t)
			ph, _ := openFakePhone(t, pbx)
			done := subscribe(ph, time.Minute)
			pbx.respond(pbx.readRequest(sip.SUBSCRIBE), tc.status, tc.reason)
			res := result(t, done)
			var e *softphone.Error
			if !errors.As(res.err, &e) || e.Status != tc.status || e.Outcome != tc.outcome || res.sub != nil {
				t.Fatalf("got %v, %v; want an *Error with SIP %d, %s", res.sub, res.err, tc.status, tc.outcome)
			}
			t.Log(res.err)
		})
	}
}
