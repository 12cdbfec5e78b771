package ari

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// v5's REST client uses a zero http.Client, hence http.DefaultTransport, with no timeout and
// no way to configure one. http.Transport.RegisterProtocol lets a scheme be served by another
// RoundTripper: each Client gets its own scheme ("switchboard-ari-N") whose requests are sent
// over a transport of ours with a per-request timeout. Nothing else in the process is affected.

var schemeSeq atomic.Int64

// newTransport is the HTTP transport of every ARI request of a Client.
func newTransport(timeout time.Duration) *http.Transport {
	return &http.Transport{
		DialContext: (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		// Bounded, so that a burst of calls queues here instead of exceeding Asterisk's HTTP
		// session limit (asterisk/http.conf); idle connections go before Asterisk's 15-second
		// keep-alive closes them under a request.
		MaxConnsPerHost:       64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       10 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
}

// timeoutURL registers a timeout transport for base over inner and returns the URL to give v5.
func timeoutURL(base *url.URL, timeout time.Duration, inner http.RoundTripper) string {
	scheme := fmt.Sprintf("switchboard-ari-%d", schemeSeq.Add(1))
	tt := &timeoutTransport{scheme: base.Scheme, timeout: timeout, inner: inner}
	http.DefaultTransport.(*http.Transport).RegisterProtocol(scheme, tt)
	u := *base
	u.Scheme = scheme
	return u.String()
}

// timeoutTransport sends a request with its real scheme and a deadline that lasts until the
// response body is closed.
type timeoutTransport struct {
	scheme  string
	timeout time.Duration
	inner   http.RoundTripper
}

func (t *timeoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	out := req.Clone(ctx)
	out.URL.Scheme = t.scheme
	resp, err := t.inner.RoundTrip(out)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// countingTransport counts the requests it sends (the switchboard_ari_requests_total metric:
// what call control costs Asterisk per call).
type countingTransport struct {
	inner http.RoundTripper
	n     *atomic.Int64
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.inner.RoundTrip(req)
}
