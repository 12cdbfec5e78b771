package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// probe sends REGISTERs with digest authentication from one SIP stack, to learn whether
// Asterisk accepts a user's credentials right now. It answers Asterisk's OPTIONS and NOTIFY
// for the contacts it leaves behind.
type probe struct {
	ua     *sipgo.UserAgent
	client *sipgo.Client
	port   int
	server string
	stop   context.CancelFunc
}

func newProbe(ctx context.Context, server string) (*probe, error) {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("sbbench"), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		return nil, err
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		ua.Close()
		return nil, err
	}
	ok := func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	srv.OnOptions(ok)
	srv.OnNotify(ok)
	sctx, stop := context.WithCancel(ctx)
	p := &probe{ua: ua, port: freeUDPPort(), server: server, stop: stop}
	ready := make(chan struct{})
	go srv.ListenAndServe(context.WithValue(sctx, sipgo.ListenReadyCtxKey, sipgo.ListenReadyCtxValue(ready)),
		"udp", fmt.Sprintf("127.0.0.1:%d", p.port))
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		p.close()
		return nil, fmt.Errorf("probe: no SIP listener on port %d", p.port)
	}
	if p.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(p.port)); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *probe) close() {
	p.stop()
	p.ua.Close()
}

// register sends one REGISTER for ext with password and returns Asterisk's final status.
func (p *probe) register(ctx context.Context, ext, password string) (int, error) {
	host := strings.Split(p.server, ":")[0]
	var recipient sip.Uri
	if err := sip.ParseUri("sip:"+ext+"@"+p.server, &recipient); err != nil {
		return 0, err
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	req.AppendHeader(sip.NewHeader("Contact", fmt.Sprintf("<sip:%s@127.0.0.1:%d>", ext, p.port)))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	from := &sip.FromHeader{Address: sip.Uri{User: ext, Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{User: ext, Host: host}})
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := p.client.Do(rctx, req)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode == 401 || resp.StatusCode == 407 {
		if resp, err = p.client.DoDigestAuth(rctx, req, resp, sipgo.DigestAuth{Username: ext, Password: password}); err != nil {
			return 0, err
		}
	}
	return resp.StatusCode, nil
}

// untilRefused registers ext with password every 5 ms until Asterisk refuses it, and returns
// the milliseconds since start.
func (p *probe) untilRefused(ctx context.Context, ext, password string, start time.Time) (float64, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, err := p.register(ctx, ext, password)
		if err == nil && status >= 400 {
			return msOf(time.Since(start)), nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, fmt.Errorf("user %s: old password still accepted after 30 s (last: %d %v)", ext, status, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// untilStatus registers ext every 5 ms until Asterisk answers want, for at most timeout, and
// returns the milliseconds since start.
func (p *probe) untilStatus(ctx context.Context, ext, password string, want int, start time.Time, timeout time.Duration) (float64, error) {
	deadline := time.Now().Add(timeout)
	for {
		status, err := p.register(ctx, ext, password)
		if err == nil && status == want {
			return msOf(time.Since(start)), nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, fmt.Errorf("user %s: no %d within %s (last: %d %v)", ext, want, timeout, status, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
