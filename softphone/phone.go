package softphone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/diago"
	diagomedia "github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-pbx/switchboard/media"
)

// Options describe the account a Phone uses and where it listens.
type Options struct {
	Server    string     // host:port of the PBX, registrar and proxy alike; the port defaults to 5060
	Username  string     // the extension; also the digest user name and the From user
	Password  string     // the digest password
	Transport string     // "udp" (default) or "tcp"
	BindHost  string     // address for SIP and RTP; default 127.0.0.1
	LocalPort int        // SIP port to listen on; 0 picks a free one
	Codec     media.G711 // the one audio codec offered and accepted (PCMU by default)

	// Logger receives sipgo's and diago's logs; nil discards them.
	Logger *slog.Logger
	// OnEvent, when set, is told what happens (registered, incoming call, answered, hung up…).
	// It is called from the phone's goroutines, possibly concurrently, and must not block.
	OnEvent func(Event)
}

// EventKind names something that happened on a Phone.
type EventKind string

// The event kinds.
const (
	EventRegistered   EventKind = "registered"
	EventUnregistered EventKind = "unregistered"
	EventIncoming     EventKind = "incoming"  // an INVITE arrived
	EventProgress     EventKind = "progress"  // a provisional response (100, 180, 183) arrived
	EventAnswered     EventKind = "answered"  // the call was answered, media flows
	EventRejected     EventKind = "rejected"  // an incoming call was refused on purpose
	EventDTMF         EventKind = "dtmf"      // DTMF digits were sent
	EventHangup       EventKind = "hangup"    // the call ended
	EventToneHeard    EventKind = "tone"      // the expected tone was detected
	EventWarning      EventKind = "warning"   // something went wrong that did not end the call
	EventRegFailed    EventKind = "reg_error" // a registration refresh failed
	EventMWI          EventKind = "mwi"       // a message summary (RFC 3842) arrived; Event.MWI holds it
)

// Event is one line of what a Phone does, for people watching it.
type Event struct {
	Time   time.Time `json:"time"`
	Kind   EventKind `json:"event"`
	CallID string    `json:"call_id,omitempty"`
	Peer   string    `json:"peer,omitempty"`
	Status int       `json:"sip_status,omitempty"`
	Detail string    `json:"detail,omitempty"`
	MWI    *MWI      `json:"mwi,omitempty"` // EventMWI only
}

// String returns the event as one line, e.g. "incoming call from 1001".
func (e Event) String() string {
	var b strings.Builder
	switch e.Kind {
	case EventIncoming:
		b.WriteString("incoming call from " + e.Peer)
	case EventProgress:
		fmt.Fprintf(&b, "%s: %d", e.Peer, e.Status)
	case EventMWI:
		b.WriteString(string(e.Kind))
		if e.MWI != nil {
			b.WriteString(": " + e.MWI.String())
		}
	default:
		b.WriteString(string(e.Kind))
		if e.Peer != "" {
			b.WriteString(" " + e.Peer)
		}
		if e.Status != 0 {
			fmt.Fprintf(&b, " (SIP %d)", e.Status)
		}
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// Phone is a SIP user agent for one account. It listens for requests from the PBX from Open to
// Close. Its methods may be called concurrently, but one Answer at a time.
type Phone struct {
	opts      Options
	host      string
	port      int
	transport string
	log       *slog.Logger

	ua        *sipgo.UserAgent
	dg        *diago.Diago
	client    *sipgo.Client // for the requests diago does not send (SUBSCRIBE)
	bind      string        // the address the phone listens on
	localPort int           // and its SIP port
	cancel    context.CancelFunc
	closed    <-chan struct{} // closed by Close

	mu       sync.Mutex
	incoming func(*diago.DialogServerSession) // the current handler of incoming calls
	handlers inflight                         // handleInvite calls running
	lastMWI  *MWI                             // the last message summary that arrived
	subs     map[string]*Subscription         // the phone's message-summary subscriptions by Call-ID
}

// Open validates opts, starts listening for SIP on the bind address and returns the Phone.
// The listener stops when ctx ends or Close is called.
func Open(ctx context.Context, opts Options) (*Phone, error) {
	p := &Phone{opts: opts, log: opts.Logger}
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Username == "" {
		return nil, errors.New("open phone: user name missing")
	}
	if strings.ContainsAny(opts.Username, "@:;<> \t\r\n") {
		return nil, fmt.Errorf("open phone: bad user name %q", opts.Username)
	}
	host, port, err := splitServer(opts.Server)
	if err != nil {
		return nil, fmt.Errorf("open phone: %w", err)
	}
	p.host, p.port = host, port
	switch p.transport = strings.ToLower(opts.Transport); p.transport {
	case "":
		p.transport = "udp"
	case "udp", "tcp":
	default:
		return nil, fmt.Errorf("open phone: transport %q not supported (want udp or tcp)", opts.Transport)
	}
	bind := opts.BindHost
	if bind == "" {
		bind = "127.0.0.1"
	}
	if ip := net.ParseIP(bind); ip == nil || ip.IsUnspecified() {
		return nil, fmt.Errorf("open phone: bind address %q must be one IP address", bind)
	}
	if opts.LocalPort < 0 || opts.LocalPort > 65535 {
		return nil, fmt.Errorf("open phone: bad local port %d", opts.LocalPort)
	}

	p.ua, err = sipgo.NewUA(sipgo.WithUserAgent(opts.Username), sipgo.WithUserAgentHostname(host))
	if err != nil {
		return nil, fmt.Errorf("open phone: %w", err)
	}
	codec := diagomedia.CodecAudioUlaw
	if opts.Codec == media.PCMA {
		codec = diagomedia.CodecAudioAlaw
	}
	p.dg = diago.NewDiago(p.ua,
		diago.WithLogger(p.log),
		diago.WithTransport(diago.Transport{Transport: p.transport, BindHost: bind, BindPort: opts.LocalPort}),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []diagomedia.Codec{codec, diagomedia.CodecTelephoneEvent8000}}),
		// Diago takes every NOTIFY for the progress of a REFER on one of its calls and refuses
		// the rest; message summaries, in a subscription or unsolicited, are the phone's.
		diago.WithServerRequestMiddleware(p.serveMessageSummary),
	)
	serveCtx, cancel := context.WithCancel(ctx)
	p.cancel, p.closed = cancel, serveCtx.Done()
	if err := p.dg.ServeBackground(serveCtx, p.handleInvite); err != nil {
		cancel()
		p.ua.Close()
		return nil, fmt.Errorf("open phone: listen on %s/%s: %w", net.JoinHostPort(bind, strconv.Itoa(opts.LocalPort)), p.transport, err)
	}
	if err := p.waitListener(serveCtx, bind); err != nil {
		cancel()
		p.ua.Close()
		return nil, fmt.Errorf("open phone: %w", err)
	}
	if err := p.newClient(bind); err != nil {
		cancel()
		p.ua.Close()
		return nil, fmt.Errorf("open phone: %w", err)
	}
	return p, nil
}

// waitListener waits until sipgo's transport layer knows the phone's listener. ServeBackground
// returns when the socket is bound, a moment before sipgo records its port (TCP and UDP) and
// adds a UDP socket to its connection pool; over UDP a request sent in between makes sipgo
// bind the same port again and fail with "address already in use", and over either the phone
// would not know its own port (its Contact). The condition is polled: sipgo offers no signal
// for it.
func (p *Phone) waitListener(ctx context.Context, bind string) error {
	tl := p.ua.TransportLayer()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		for _, port := range tl.ListenPorts(p.transport) {
			if p.transport != "udp" {
				return nil
			}
			if c := tl.Pool("udp").Get(net.JoinHostPort(bind, strconv.Itoa(port))); c != nil {
				c.Ref(-1) // Get took a reference
				return nil
			}
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return errors.New(p.transport + " listener did not start")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func splitServer(server string) (string, int, error) {
	if server == "" {
		return "", 0, errors.New("server address missing (want host:port)")
	}
	host, portStr, err := net.SplitHostPort(server)
	if err != nil {
		// No port: SIP's default.
		if strings.Contains(err.Error(), "missing port") {
			return server, 5060, nil
		}
		return "", 0, fmt.Errorf("bad server address %q: %w", server, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 || host == "" {
		return "", 0, fmt.Errorf("bad server address %q (want host:port)", server)
	}
	return host, port, nil
}

// Close stops listening and closes every connection. Calls still in progress end.
func (p *Phone) Close() error {
	p.cancel()
	return p.ua.Close()
}

// Username returns the phone's extension.
func (p *Phone) Username() string { return p.opts.Username }

// Transport returns "udp" or "tcp".
func (p *Phone) Transport() string { return p.transport }

func (p *Phone) emit(e Event) {
	if p.opts.OnEvent == nil {
		return
	}
	e.Time = time.Now()
	p.opts.OnEvent(e)
}

func (p *Phone) uri(user string) sip.Uri {
	u := sip.Uri{Scheme: "sip", User: user, Host: p.host, Port: p.port, UriParams: sip.NewParams(), Headers: sip.NewParams()}
	if p.transport != "udp" {
		u.UriParams.Add("transport", p.transport)
	}
	return u
}

func (p *Phone) setIncoming(h func(*diago.DialogServerSession)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.incoming = h
}

// stopIncoming refuses new calls from now on and waits for the handlers already running (the
// calls being taken, the refusals being sent) to finish.
func (p *Phone) stopIncoming() {
	p.setIncoming(nil)
	p.handlers.wait()
}

// handleInvite runs for every new incoming INVITE, in sipgo's goroutine for it. Diago hangs the
// call up (or answers 480) when it returns.
func (p *Phone) handleInvite(d *diago.DialogServerSession) {
	p.mu.Lock()
	h := p.incoming
	p.handlers.enter() // with the read of h: stopIncoming waits for whoever got the old one
	p.mu.Unlock()
	defer p.handlers.exit()
	p.emit(Event{Kind: EventIncoming, CallID: callID(d.InviteRequest), Peer: d.FromUser()})
	if h == nil {
		// Nobody is answering: refuse the call the way an unattended phone does.
		d.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
		return
	}
	h(d)
}

func callID(req *sip.Request) string {
	if req == nil {
		return ""
	}
	if id := req.CallID(); id != nil {
		return id.Value()
	}
	return ""
}

// RegisterOptions tune Register.
type RegisterOptions struct {
	// Expiry is the registration lifetime asked for; zero means 300 s. The phone refreshes it
	// at three quarters of the lifetime the registrar grants.
	Expiry time.Duration
	// ResponseTimeout declares the registrar unreachable when the first registration gets no
	// final answer within it; zero means 5 s.
	ResponseTimeout time.Duration
	// SubscribeMWI subscribes to the account's message summary (SubscribeMWI) for Expiry once
	// registered, and unsubscribes before unregistering. A refused subscription fails the
	// registration: whoever asks for it means to watch the mailbox.
	SubscribeMWI bool
}

// Register registers the phone and keeps it registered until ctx ends, then unregisters and
// returns nil. Incoming calls ring (180) and are reported as events until the caller gives up;
// when the phone goes offline, calls still ringing are refused with 480. It returns an *Error
// when the registrar refuses the phone or cannot be reached.
func (p *Phone) Register(ctx context.Context, opts RegisterOptions) error {
	online, offline := context.WithCancel(ctx)
	defer offline()
	p.setIncoming(func(d *diago.DialogServerSession) {
		d.Ringing()
		select {
		case <-d.Context().Done():
		case <-online.Done():
			// Tell the caller now rather than let the call ring out.
			d.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
		}
	})
	reg, err := p.register(ctx, opts)
	if err != nil {
		offline()
		p.stopIncoming()
		return err
	}
	err = reg.keep(ctx)
	offline()
	p.stopIncoming()
	reg.unregister()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// registration is an active registration of the phone.
type registration struct {
	p   *Phone
	tx  *diago.RegisterTransaction
	mwi *Subscription // with RegisterOptions.SubscribeMWI
}

// register sends the first REGISTER, answers the digest challenge and waits for the result.
func (p *Phone) register(ctx context.Context, opts RegisterOptions) (*registration, error) {
	expiry, timeout := opts.Expiry, opts.ResponseTimeout
	if expiry <= 0 {
		expiry = 300 * time.Second
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	op := "register " + p.opts.Username + " at " + net.JoinHostPort(p.host, strconv.Itoa(p.port))
	tx, err := p.dg.RegisterTransaction(ctx, p.uri(p.opts.Username), diago.RegisterOptions{
		Username: p.opts.Username,
		Password: p.opts.Password,
		Expiry:   expiry,
	})
	if err != nil {
		return nil, &Error{Op: op, Outcome: OutcomeFailed, Err: err}
	}
	// A registrar that does not answer at all would keep the transaction retrying for 32 s.
	regCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := tx.Register(regCtx); err != nil {
		return nil, p.registerError(ctx, op, err)
	}
	p.emit(Event{Kind: EventRegistered, Peer: p.opts.Username, Detail: "at " + net.JoinHostPort(p.host, strconv.Itoa(p.port)) + " over " + p.transport})
	reg := &registration{p: p, tx: tx}
	if opts.SubscribeMWI {
		subCtx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		// The refreshes live as long as the registration, the first answer is due in time.
		if reg.mwi, err = p.subscribeMWI(subCtx, ctx, expiry); err != nil {
			reg.unregister()
			return nil, err
		}
	}
	return reg, nil
}

func (p *Phone) registerError(ctx context.Context, op string, err error) error {
	var rr *diago.RegisterResponseError
	if errors.As(err, &rr) {
		res := rr.RegisterRes
		return &Error{Op: op, Outcome: OutcomeForStatus(res.StatusCode), Status: res.StatusCode, Reason: res.Reason, Err: err}
	}
	if ctx.Err() != nil {
		return &Error{Op: op, Outcome: OutcomeCanceled, Err: ctx.Err()}
	}
	return &Error{Op: op, Outcome: OutcomeUnreachable, Detail: networkDetail(err, p.transport), Err: err}
}

// keep refreshes the registration until ctx ends or a refresh fails.
func (r *registration) keep(ctx context.Context) error {
	err := r.tx.QualifyLoop(ctx)
	if ctx.Err() != nil {
		return nil
	}
	err = r.p.registerError(ctx, "refresh registration of "+r.p.opts.Username, err)
	r.p.emit(Event{Kind: EventRegFailed, Peer: r.p.opts.Username, Detail: err.Error()})
	return err
}

// unregister removes this phone's registration, giving the registrar a few seconds to
// confirm. Only this phone's contact goes (Expires: 0 with its own Contact): diago's
// Unregister sends "Contact: *", which would remove every phone of the account, and a person
// with a desk phone and a softphone must keep the desk phone when the softphone closes.
func (r *registration) unregister() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r.mwi != nil {
		if err := r.mwi.Close(ctx); err != nil {
			r.p.emit(Event{Kind: EventWarning, Peer: r.p.opts.Username, Detail: err.Error()})
		}
	}
	req := r.tx.Origin
	req.RemoveHeader("Expires")
	expires := sip.ExpiresHeader(0)
	req.AppendHeader(&expires)
	if err := r.tx.Qualify(ctx); err != nil {
		r.p.emit(Event{Kind: EventWarning, Peer: r.p.opts.Username, Detail: "unregister: " + err.Error()})
		return
	}
	r.p.emit(Event{Kind: EventUnregistered, Peer: r.p.opts.Username})
}

// networkDetail turns a transport error into words for people.
func networkDetail(err error, transport string) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, sip.ErrTransactionTimeout):
		return "no response over " + transport
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused over " + transport
	case strings.Contains(err.Error(), "no route to host"), strings.Contains(err.Error(), "network is unreachable"):
		return "network unreachable"
	}
	return err.Error()
}
