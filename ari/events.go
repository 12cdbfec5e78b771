package ari

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	v5 "github.com/CyCoreSystems/ari/v5"
	"golang.org/x/net/websocket"
)

// OnEvent sets the function that receives every event of the application, in order, on one
// goroutine. It must be set before Run.
func (c *Client) OnEvent(f func(v5.Event)) { c.onEvent = f }

// Reconnect drops the current event connection; Run connects again at once. Used when
// Asterisk stops answering while the socket still looks open.
func (c *Client) Reconnect() {
	select {
	case c.reconnectCh <- struct{}{}:
	default:
	}
}

// Run keeps the application's event stream connected until ctx ends: it dials with a deadline
// (never blocking forever), reconnects with backoff (100 ms doubling to 2 s, so a restarted
// Asterisk is back within seconds), runs the OnConnect hooks on every connection and hands
// every decodable event to OnEvent through an unbounded queue.
func (c *Client) Run(ctx context.Context) {
	queue := newEventQueue()
	go func() {
		for {
			item, ok := queue.pop(ctx)
			switch {
			case !ok:
				return
			case item.connected:
				c.mu.Lock()
				hooks := c.onConnect
				c.mu.Unlock()
				for _, f := range hooks {
					f(ctx)
				}
			case c.onEvent != nil:
				c.onEvent(item.event)
			}
		}
	}()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		ws, err := c.dialEvents(ctx)
		if err != nil {
			c.logger.Warn("ARI event connection failed", "error", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		c.profiles.reset() // Asterisk may have restarted with other templates
		c.connected.Store(true)
		c.logger.Info("ARI connected", "app", c.cfg.App, "url", c.base.String())
		// Hooks run before events of this connection are dispatched: they reconcile state
		// with what Asterisk holds now.
		queue.push(queued{connected: true})
		err = c.readEvents(ctx, ws, queue)
		c.connected.Store(false)
		ws.Close()
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errReplaced) {
			// Another process connected with the same application name and now gets the calls.
			// Taking it back at once would make two control planes fight; wait, then retry.
			c.logger.Error("ARI application taken over by another connection: is a second switchboard running against this Asterisk?", "app", c.cfg.App)
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Second):
			}
			continue
		}
		c.logger.Warn("ARI event connection lost", "error", err)
	}
}

var errReplaced = errors.New("application replaced by another connection")

// queued is an event, or the news that the stream (re)connected: it travels through the queue
// so that OnConnect hooks run in order with events, on the dispatching goroutine.
type queued struct {
	event     v5.Event
	connected bool
}

func (c *Client) dialEvents(ctx context.Context) (*websocket.Conn, error) {
	wsURL := *c.base
	wsURL.Scheme = map[string]string{"http": "ws", "https": "wss"}[c.base.Scheme]
	wsURL.Path += "/events"
	wsURL.RawQuery = url.Values{"app": {c.cfg.App}, "subscribeAll": {"false"}}.Encode()
	cfg, err := websocket.NewConfig(wsURL.String(), "http://localhost/")
	if err != nil {
		return nil, fmt.Errorf("websocket config: %w", err)
	}
	cfg.Header.Set("Authorization", "Basic "+basicAuth(c.cfg.Username, c.cfg.Password))
	cfg.Dialer = &net.Dialer{Timeout: c.cfg.DialTimeout}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	ws, err := cfg.DialContext(dctx)
	if err != nil {
		return nil, fmt.Errorf("connect ARI events %s: %w", c.base.Host, err)
	}
	return ws, nil
}

// readEvents reads until the connection fails, ctx ends, Reconnect is called or Asterisk stops
// answering the heartbeat.
func (c *Client) readEvents(ctx context.Context, ws *websocket.Conn, queue *eventQueue) error {
	errc := make(chan error, 1)
	go func() {
		for {
			var data []byte
			if err := websocket.Message.Receive(ws, &data); err != nil {
				errc <- err
				return
			}
			if e, ok := c.decode(data); ok {
				if _, replaced := e.(*v5.ApplicationReplaced); replaced {
					errc <- errReplaced
					return
				}
				queue.push(queued{event: e})
			}
		}
	}()
	tick := time.NewTicker(c.heartbeat)
	defer tick.Stop()
	for {
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-c.reconnectCh:
			return errors.New("reconnect requested")
		case <-tick.C:
			// A socket can stay open while Asterisk hangs; a REST ping proves it answers.
			pctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
			err := c.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("heartbeat: %w", err)
			}
		}
	}
}

// decode turns a websocket message into an event. v5.DecodeEvent returns a nil event for types
// it does not know (Asterisk 22 has several it predates); those are counted and dropped here so
// that nothing downstream ever sees a nil event.
func (c *Client) decode(data []byte) (v5.Event, bool) {
	if bytes.Contains(data, []byte(`"ChannelTransfer"`)) {
		var t ChannelTransfer
		if err := json.Unmarshal(data, &t); err == nil && t.Type == "ChannelTransfer" {
			return &t, true
		}
	}
	e, err := v5.DecodeEvent(data)
	if err != nil || e == nil {
		var typ struct {
			Type string `json:"type"`
		}
		json.Unmarshal(data, &typ)
		c.unknown.Add(1)
		c.logger.Debug("ARI event dropped", "type", typ.Type, "error", err)
		return nil, false
	}
	return e, true
}

// eventQueue is an unbounded FIFO: the websocket reader never blocks and never drops an event,
// however slow the consumer is for a while.
type eventQueue struct {
	mu    sync.Mutex
	items []queued
	ready chan struct{}
}

func newEventQueue() *eventQueue { return &eventQueue{ready: make(chan struct{}, 1)} }

func (q *eventQueue) push(e queued) {
	q.mu.Lock()
	q.items = append(q.items, e)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *eventQueue) pop(ctx context.Context) (queued, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			e := q.items[0]
			q.items[0] = queued{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return e, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return queued{}, false
		case <-q.ready:
		}
	}
}

// eventTypes are the only events call control reads; Asterisk is asked (PUT
// /applications/{app}/eventFilter) to send nothing else, which spares it the JSON of every
// ChannelVarset, ChannelDialplan, caller ID and bridge event of every call.
var eventTypes = []string{
	"StasisStart", "StasisEnd", "ChannelStateChange", "ChannelDestroyed", "ChannelHangupRequest",
	"Dial", "ChannelTransfer", "ApplicationReplaced",
	// Conference rooms: the digits of PINs and moderators' keys, and the end of prompts.
	"ChannelDtmfReceived", "PlaybackFinished",
}

// FilterEvents restricts the application's events to those call control reads.
func (c *Client) FilterEvents(ctx context.Context) error {
	var allowed []map[string]string
	for _, t := range eventTypes {
		allowed = append(allowed, map[string]string{"type": t})
	}
	body, _ := json.Marshal(map[string]any{"allowed": allowed, "disallowed": []any{}})
	req, err := http.NewRequestWithContext(ctx, "PUT", c.base.String()+"/applications/"+pathID(c.cfg.App)+"/eventFilter", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	resp, err := c.http.Do(req)
	if err != nil {
		return translate("set event filter", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return translate("set event filter", &statusError{code: resp.StatusCode, err: fmt.Errorf("HTTP %d", resp.StatusCode)})
	}
	return nil
}

// ChannelTransfer is ARI's event for a REFER on a channel whose transfers the application
// handles (PJSIP_TRANSFER_HANDLING(ari-only), set on every channel of a call); ari/v5 predates
// it. A blind transfer names the number to send the other party to; an attended one (REFER
// with Replaces) names the channel of the consultation call and its peer.
type ChannelTransfer struct {
	v5.EventData
	State   string `json:"state"`
	ReferTo struct {
		Requested struct {
			Destination string `json:"destination"`
			ProtocolID  string `json:"protocol_id"`
		} `json:"requested_destination"`
		Destination *v5.ChannelData `json:"destination_channel"`
		Connected   *v5.ChannelData `json:"connected_channel"`
	} `json:"refer_to"`
	ReferredBy struct {
		Source    v5.ChannelData  `json:"source_channel"`
		Connected *v5.ChannelData `json:"connected_channel"`
	} `json:"referred_by"`
}

// Keys is part of v5.Event.
func (e *ChannelTransfer) Keys() v5.Keys {
	return v5.Keys{e.Key(v5.ChannelKey, e.ReferredBy.Source.ID)}
}
