package softphone

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
)

// Transfer is what a phone does to transfer an answered call, as a person presses the transfer
// key: blind (REFER to a number), or attended (a consultation call to the number first, then a
// REFER with Replaces that joins the other party into it).
type Transfer struct {
	After    time.Duration // talk this long first
	To       string        // the number the other party is transferred to
	Attended bool          // consult To first, then transfer into that call
	// Consult is how long the consultation call talks before the transfer; ConsultMedia what it
	// plays and listens for.
	Consult      time.Duration
	ConsultMedia MediaOptions
}

// TransferReport says how a transfer went.
type TransferReport struct {
	To       string `json:"to"`
	Attended bool   `json:"attended"`
	// Status is the final status the PBX reported for the transfer (the NOTIFY's sipfrag):
	// 200 when the other party reached the target; 0 when none came.
	Status  int     `json:"status"`
	Error   string  `json:"error,omitempty"`
	Consult *Report `json:"consult,omitempty"` // attended: the consultation call
}

// referrer sends a REFER on a call and reports the NOTIFYs that follow.
type referrer func(ctx context.Context, referTo sip.Uri, headers []sip.Header, onNotify func(status int)) error

func clientReferrer(d *diago.DialogClientSession) referrer {
	return func(ctx context.Context, to sip.Uri, headers []sip.Header, onNotify func(int)) error {
		return d.ReferOptions(ctx, to, diago.ReferClientOptions{Headers: headers, OnNotify: onNotify})
	}
}

func serverReferrer(d *diago.DialogServerSession) referrer {
	return func(ctx context.Context, to sip.Uri, headers []sip.Header, onNotify func(int)) error {
		return d.ReferOptions(ctx, to, diago.ReferServerOptions{Headers: headers, OnNotify: onNotify})
	}
}

// transfer carries out t on a call (refer sends its REFERs) and writes rep.Transfer. It returns
// when the PBX has reported the transfer's end, it failed, or ctx ended.
func (p *Phone) transfer(ctx context.Context, t *Transfer, refer referrer, rep *Report) {
	tr := &TransferReport{To: t.To, Attended: t.Attended}
	rep.Transfer = tr
	select {
	case <-time.After(t.After):
	case <-ctx.Done():
		tr.Error = "the call ended before the transfer"
		return
	}
	var headers []sip.Header
	if t.Attended {
		consultCtx, endConsult := context.WithCancel(context.WithoutCancel(ctx))
		defer endConsult()
		d, med, crep, err := p.dial(consultCtx, t.To, CallOptions{MediaOptions: t.ConsultMedia})
		tr.Consult = crep
		if err != nil {
			tr.Error = "consultation call: " + err.Error()
			return
		}
		consultOver := make(chan struct{})
		go func() {
			defer close(consultOver)
			defer d.Close()
			crep.setExitCode(p.talk(consultCtx, d.Context(), med, t.ConsultMedia, "", crep, d.Hangup, nil))
		}()
		defer func() { endConsult(); <-consultOver }()
		select {
		case <-time.After(t.Consult):
		case <-ctx.Done():
			tr.Error = "the call ended during the consultation"
			return
		case <-consultOver:
			tr.Error = "the consultation call ended before the transfer"
			return
		}
		// Replaces names the consultation dialog as the PBX knows it (RFC 3891): its Call-ID,
		// the PBX's tag (to-tag) and ours (from-tag).
		replaces := fmt.Sprintf("%s;to-tag=%s;from-tag=%s", d.InviteRequest.CallID().Value(),
			tag(d.InviteResponse.To()), tag(d.InviteRequest.From()))
		target := p.uri(t.To)
		headers = append(headers, sip.NewHeader("Refer-To",
			fmt.Sprintf("<sip:%s@%s:%d?Replaces=%s>", t.To, target.Host, target.Port, url.QueryEscape(replaces))))
	}
	final := make(chan int, 1)
	onNotify := func(status int) {
		if status >= 200 {
			select {
			case final <- status:
			default:
			}
		}
	}
	p.emit(Event{Kind: EventProgress, CallID: rep.CallID, Peer: rep.Peer, Detail: "transferring to " + t.To})
	if err := refer(ctx, p.uri(t.To), headers, onNotify); err != nil {
		tr.Error = "REFER: " + err.Error()
		return
	}
	select {
	case tr.Status = <-final:
	case <-time.After(30 * time.Second):
		tr.Error = "no final NOTIFY within 30 s"
	case <-ctx.Done():
		// The PBX may end the call before its last NOTIFY reaches us: a NOTIFY already here
		// still counts.
		select {
		case tr.Status = <-final:
		default:
			tr.Error = "the call ended before the transfer was confirmed"
		}
	}
}

func tag(h interface{ Value() string }) string {
	switch h := h.(type) {
	case *sip.ToHeader:
		t, _ := h.Params.Get("tag")
		return t
	case *sip.FromHeader:
		t, _ := h.Params.Get("tag")
		return t
	}
	return ""
}
