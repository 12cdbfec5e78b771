package softphone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
)

// Subscription is the phone's subscription to its account's message summary, made by
// SubscribeMWI. The NOTIFYs within it are reported as EventMWI with MWI.Subscription set.
type Subscription struct {
	p    *Phone
	id   string       // the Call-ID, which the PBX's NOTIFYs carry
	req  *sip.Request // the SUBSCRIBE, sent again within the dialog to refresh and to end it
	stop context.CancelFunc
	done chan struct{} // closed when the refreshes have stopped

	mu     sync.Mutex
	closed bool // Close was called
	over   bool // the PBX ended the subscription
}

// SubscribeMWI subscribes to the message summary (RFC 3842) of the phone's own account: a
// SUBSCRIBE to sip:USER@server with Event: message-summary for expires (zero means an hour,
// RFC 3842's default), over the phone's transport, with the phone's digest credentials. The
// phone refreshes the subscription at three quarters of the lifetime the PBX grants while ctx
// lives; once ctx ends the subscription lapses at the PBX unless Close ends it first. It
// returns an *Error with the SIP status when the PBX refuses (Asterisk answers 404 when the
// account's AOR has no mailboxes, 489 when it does not offer the event package).
func (p *Phone) SubscribeMWI(ctx context.Context, expires time.Duration) (*Subscription, error) {
	return p.subscribeMWI(ctx, ctx, expires)
}

// subscribeMWI waits for the PBX's answer within reqCtx and refreshes while ctx lives.
func (p *Phone) subscribeMWI(reqCtx, ctx context.Context, expires time.Duration) (*Subscription, error) {
	op := "subscribe to the message summary of " + p.opts.Username
	if expires < 0 {
		return nil, &Error{Op: op, Outcome: OutcomeFailed, Err: fmt.Errorf("negative expiry %v", expires)}
	}
	if expires == 0 {
		expires = time.Hour
	}
	s := &Subscription{p: p, id: uuid.NewString(), done: make(chan struct{})}
	req := sip.NewRequest(sip.SUBSCRIBE, p.uri(p.opts.Username))
	req.SetTransport(sip.NetworkToUpper(p.transport))
	callID := sip.CallIDHeader(s.id)
	req.AppendHeader(&callID)
	// NOTIFYs come to the listener, as calls do.
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: p.opts.Username, Host: p.bind, Port: p.localPort,
		UriParams: sip.NewParams(), Headers: sip.NewParams()}}
	if p.transport != "udp" {
		contact.Address.UriParams.Add("transport", p.transport)
	}
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Event", mwiEvent))
	req.AppendHeader(sip.NewHeader("Accept", mwiContentType))
	setExpires(req, expires)
	s.req = req

	loopCtx, stop := context.WithCancel(ctx)
	s.stop = stop
	// Known before the SUBSCRIBE leaves: the first NOTIFY may overtake the 200.
	p.addSubscription(s)
	res, err := s.send(reqCtx, op)
	if err != nil {
		stop()
		p.forgetSubscription(s.id)
		return nil, err
	}
	// The dialog: the PBX's tag, and its Contact as the target of the refreshes. They still go
	// to the server the phone uses, whatever address the Contact names.
	if to := res.To(); to != nil {
		if tag, ok := to.Params.Get("tag"); ok {
			req.To().Params.Add("tag", tag)
		}
	}
	if c := res.Contact(); c != nil {
		req.Recipient = *c.Address.Clone()
		req.SetDestination(net.JoinHostPort(p.host, strconv.Itoa(p.port)))
	}
	go s.refresh(loopCtx, expires, granted(res, expires))
	return s, nil
}

// send sends the SUBSCRIBE as a new transaction, answers a digest challenge and returns the
// final response, or an *Error when there is none or it is a failure.
func (s *Subscription) send(ctx context.Context, op string) (*sip.Response, error) {
	p := s.p
	s.req.RemoveHeader("Via")
	res, err := p.client.Do(ctx, s.req)
	if err == nil && (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) {
		res, err = p.client.DoDigestAuth(ctx, s.req, res, sipgo.DigestAuth{Username: p.opts.Username, Password: p.opts.Password})
	}
	switch {
	case errors.Is(err, context.Canceled):
		return nil, &Error{Op: op, Outcome: OutcomeCanceled, Err: err}
	case err != nil:
		return nil, &Error{Op: op, Outcome: OutcomeUnreachable, Detail: networkDetail(err, p.transport), Err: err}
	case !res.IsSuccess():
		e := &Error{Op: op, Outcome: OutcomeForStatus(res.StatusCode), Status: res.StatusCode, Reason: res.Reason}
		if res.StatusCode == sip.StatusNotFound {
			e.Detail = "no mailbox for this account"
		}
		return res, e
	}
	return res, nil
}

// granted returns the lifetime the PBX granted, or the one asked for when it does not say.
func granted(res *sip.Response, asked time.Duration) time.Duration {
	if h := res.GetHeader("Expires"); h != nil {
		if sec, err := strconv.Atoi(h.Value()); err == nil && sec > 0 {
			return time.Duration(sec) * time.Second
		}
	}
	return asked
}

func setExpires(req *sip.Request, d time.Duration) {
	req.RemoveHeader("Expires")
	// Rounded up: a fraction of a second must not become 0, which ends the subscription.
	h := sip.ExpiresHeader(uint32((d + time.Second - 1) / time.Second))
	req.AppendHeader(&h)
}

// refresh renews the subscription at three quarters of each granted lifetime until ctx ends,
// the phone closes or a refresh fails; a failure is reported as a warning.
func (s *Subscription) refresh(ctx context.Context, asked, lifetime time.Duration) {
	defer close(s.done)
	for {
		t := time.NewTimer(lifetime * 3 / 4)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.p.closed:
			t.Stop()
			return
		}
		s.req.CSeq().SeqNo++
		res, err := s.send(ctx, "refresh the message-summary subscription of "+s.p.opts.Username)
		if err != nil {
			if ctx.Err() == nil {
				s.p.forgetSubscription(s.id)
				s.p.emit(Event{Kind: EventWarning, CallID: s.id, Peer: s.p.opts.Username, Detail: err.Error()})
			}
			return
		}
		lifetime = granted(res, asked)
	}
}

// ended records that the PBX ended the subscription (a NOTIFY with Subscription-State:
// terminated); unless the phone asked for it, that is worth a warning.
func (s *Subscription) ended(reason string) {
	s.mu.Lock()
	asked := s.closed
	s.over = true
	s.mu.Unlock()
	s.stop()
	s.p.forgetSubscription(s.id)
	if !asked {
		detail := "the PBX ended the message-summary subscription"
		if reason != "" {
			detail += " (" + reason + ")"
		}
		s.p.emit(Event{Kind: EventWarning, CallID: s.id, Peer: s.p.opts.Username, Detail: detail})
	}
}

// Close ends the subscription: it stops the refreshes and sends SUBSCRIBE with Expires: 0,
// unless the PBX has ended the subscription already. The PBX's last NOTIFY may follow; it is
// still reported as part of the subscription. Closing twice does nothing.
func (s *Subscription) Close(ctx context.Context) error {
	s.stop()
	<-s.done
	s.mu.Lock()
	done := s.closed || s.over
	s.closed = true
	s.mu.Unlock()
	if done {
		return nil
	}
	s.req.CSeq().SeqNo++
	setExpires(s.req, 0)
	res, err := s.send(ctx, "unsubscribe from the message summary of "+s.p.opts.Username)
	if err != nil {
		s.p.forgetSubscription(s.id) // no last NOTIFY is coming
		if res != nil && res.StatusCode == sip.StatusCallTransactionDoesNotExists {
			return nil // the PBX had forgotten it
		}
		return err
	}
	return nil
}

func (p *Phone) addSubscription(s *Subscription) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.subs == nil {
		p.subs = make(map[string]*Subscription)
	}
	p.subs[s.id] = s
}

// subscription returns the subscription with the Call-ID, or nil.
func (p *Phone) subscription(id string) *Subscription {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.subs[id]
}

// forgetSubscription stops matching NOTIFYs to the subscription. A closed one stays known
// until its last NOTIFY (terminated) arrives, so that this one counts as part of it.
func (p *Phone) forgetSubscription(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.subs, id)
}

// newClient makes the client of the requests the phone sends itself, once the listener is up.
// Over UDP it sends from the listening socket, as diago does, so that the PBX sees one address.
func (p *Phone) newClient(bind string) error {
	ports := p.ua.TransportLayer().ListenPorts(p.transport)
	if len(ports) == 0 {
		return errors.New("no " + p.transport + " listener")
	}
	p.bind, p.localPort = bind, ports[0]
	opts := []sipgo.ClientOption{sipgo.WithClientNAT(), sipgo.WithClientLogger(p.log)}
	if p.transport == "udp" {
		opts = append(opts, sipgo.WithClientConnectionAddr(net.JoinHostPort(bind, strconv.Itoa(p.localPort))))
	}
	var err error
	p.client, err = sipgo.NewClient(p.ua, opts...)
	return err
}
