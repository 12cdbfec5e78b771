package softphone

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// MWI is a message summary (RFC 3842): whether messages wait in the account's mailbox and how
// many voice messages it holds. The PBX sends one when the mailbox changes, unsolicited after
// the phone registers (the endpoint's mailboxes=) or within a subscription (SubscribeMWI).
type MWI struct {
	Waiting   bool   `json:"waiting"`    // Messages-Waiting: yes
	New       int    `json:"new"`        // new voice messages
	Old       int    `json:"old"`        // old (heard) voice messages
	UrgentNew int    `json:"urgent_new"` // of the new ones, how many are urgent
	UrgentOld int    `json:"urgent_old"` // of the old ones, how many are urgent
	Account   string `json:"account,omitempty"`
	// Subscription is true when the summary came within a subscription the phone made (its
	// Call-ID is the SUBSCRIBE's), false when it came unsolicited. The Subscription-State
	// header cannot tell: Asterisk puts one in its unsolicited NOTIFYs too.
	Subscription bool `json:"subscription"`
}

// String says what a person's phone shows, e.g. "messages waiting, 1 new, 0 old".
func (m MWI) String() string {
	s := "no messages waiting"
	if m.Waiting {
		s = "messages waiting"
	}
	if m.New == 0 && m.Old == 0 && m.UrgentNew == 0 && m.UrgentOld == 0 {
		return s
	}
	s += ", " + strconv.Itoa(m.New) + " new"
	if m.UrgentNew > 0 {
		s += " (" + strconv.Itoa(m.UrgentNew) + " urgent)"
	}
	s += ", " + strconv.Itoa(m.Old) + " old"
	if m.UrgentOld > 0 {
		s += " (" + strconv.Itoa(m.UrgentOld) + " urgent)"
	}
	return s
}

// The event package and body type of RFC 3842.
const (
	mwiEvent       = "message-summary"
	mwiContentType = "application/simple-message-summary"
)

// The message-context-class names of RFC 3842 besides voice, whose counts the summary skips.
var otherMessageClasses = map[string]bool{
	"fax-message": true, "pager-message": true, "multimedia-message": true, "text-message": true, "none": true,
}

// ParseMessageSummary parses an application/simple-message-summary body (RFC 3842 section 5):
// a Messages-Waiting line (yes or no), an optional Message-Account and summary lines such as
// "Voice-Message: 2/8 (0/2)", new/old with the urgent counts in brackets. Header names and
// values are case-insensitive and lines may end in CRLF or LF. It fails on a body without a
// valid Messages-Waiting line or with a summary line that does not parse; other lines and the
// message headers after the first blank line are ignored.
func ParseMessageSummary(body []byte) (MWI, error) {
	var m MWI
	seenStatus, started := false, false
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			if started {
				break // what follows are the optional headers of single messages
			}
			continue
		}
		started = true
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return MWI{}, fmt.Errorf("message summary: line %q is not a header", line)
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		switch {
		case name == "messages-waiting":
			if seenStatus {
				return MWI{}, errors.New("message summary: Messages-Waiting twice")
			}
			seenStatus = true
			switch strings.ToLower(value) {
			case "yes":
				m.Waiting = true
			case "no":
			default:
				return MWI{}, fmt.Errorf("message summary: Messages-Waiting %q (want yes or no)", value)
			}
		case name == "message-account":
			m.Account = value
		case name == "voice-message":
			var err error
			if m.New, m.Old, m.UrgentNew, m.UrgentOld, err = parseMessageCounts(value); err != nil {
				return MWI{}, fmt.Errorf("message summary: Voice-Message: %w", err)
			}
		case otherMessageClasses[name]:
			if _, _, _, _, err := parseMessageCounts(value); err != nil {
				return MWI{}, fmt.Errorf("message summary: %s: %w", name, err)
			}
		}
	}
	if !seenStatus {
		return MWI{}, errors.New("message summary: no Messages-Waiting line")
	}
	return m, nil
}

// parseMessageCounts parses "new/old" with an optional "(urgent-new/urgent-old)".
func parseMessageCounts(v string) (newMsgs, oldMsgs, urgentNew, urgentOld int, err error) {
	counts, urgent, hasUrgent := strings.Cut(v, "(")
	if newMsgs, oldMsgs, err = parseCountPair(counts); err != nil {
		return 0, 0, 0, 0, err
	}
	if hasUrgent {
		inner, closed := strings.CutSuffix(strings.TrimSpace(urgent), ")")
		if !closed {
			return 0, 0, 0, 0, fmt.Errorf("%q: unclosed bracket", v)
		}
		if urgentNew, urgentOld, err = parseCountPair(inner); err != nil {
			return 0, 0, 0, 0, err
		}
	}
	return newMsgs, oldMsgs, urgentNew, urgentOld, nil
}

func parseCountPair(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want new/old", strings.TrimSpace(s))
	}
	x, errA := strconv.ParseUint(strings.TrimSpace(a), 10, 31)
	y, errB := strconv.ParseUint(strings.TrimSpace(b), 10, 31)
	if errA != nil || errB != nil {
		return 0, 0, fmt.Errorf("%q: counts must be numbers", strings.TrimSpace(s))
	}
	return int(x), int(y), nil
}

// LastMWI returns the last message summary the phone received, and false when none came yet.
func (p *Phone) LastMWI() (MWI, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastMWI == nil {
		return MWI{}, false
	}
	return *p.lastMWI, true
}

// serveMessageSummary is diago's server middleware: it takes the NOTIFYs of the
// message-summary package and passes every other request on to diago.
func (p *Phone) serveMessageSummary(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if req.Method != sip.NOTIFY || !isMessageSummary(req) {
			next(req, tx)
			return
		}
		p.handleMessageSummary(req, tx)
	}
}

func isMessageSummary(req *sip.Request) bool {
	h := req.GetHeader("Event")
	if h == nil {
		h = req.GetHeader("o") // the compact form
	}
	if h == nil {
		return false
	}
	pkg, _, _ := strings.Cut(h.Value(), ";")
	return strings.EqualFold(strings.TrimSpace(pkg), mwiEvent)
}

// handleMessageSummary answers a message-summary NOTIFY with 200, whether it belongs to a
// subscription of the phone or not (unsolicited MWI comes out of any dialog), and reports it.
// A body that does not parse is reported as a warning: the PBX must not retry it.
func (p *Phone) handleMessageSummary(req *sip.Request, tx sip.ServerTransaction) {
	id := callID(req)
	if err := tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)); err != nil {
		p.emit(Event{Kind: EventWarning, CallID: id, Peer: p.opts.Username, Detail: "answer message summary: " + err.Error()})
	}
	sub := p.subscription(id)
	if sub != nil {
		if h := req.GetHeader("Subscription-State"); h != nil {
			state, params, _ := strings.Cut(h.Value(), ";")
			if strings.EqualFold(strings.TrimSpace(state), "terminated") {
				sub.ended(strings.TrimSpace(params))
			}
		}
	}
	if len(strings.TrimSpace(string(req.Body()))) == 0 {
		return // a NOTIFY without state: pending, or the end of a subscription
	}
	m, err := ParseMessageSummary(req.Body())
	if err != nil {
		p.emit(Event{Kind: EventWarning, CallID: id, Peer: p.opts.Username, Detail: err.Error()})
		return
	}
	m.Subscription = sub != nil
	last := m // the event's copy is the listener's
	p.mu.Lock()
	p.lastMWI = &last
	p.mu.Unlock()
	p.emit(Event{Kind: EventMWI, CallID: id, Peer: p.opts.Username, MWI: &m})
}
