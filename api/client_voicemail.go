package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// MessageQuery selects messages of a mailbox: Folder ("" for all), after a message id, at most
// Limit (0: the server's default).
type MessageQuery struct {
	Folder string
	After  string
	Limit  int
}

func messagesPath(ext string) string {
	return "/api/v1/users/" + url.PathEscape(ext) + "/voicemail/messages"
}

// Messages lists the messages in ext's mailbox, newest first.
func (c *Client) Messages(ctx context.Context, ext string, q MessageQuery) (MessageList, error) {
	v := url.Values{}
	if q.Folder != "" {
		v.Set("folder", q.Folder)
	}
	if q.After != "" {
		v.Set("after", q.After)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var l MessageList
	return l, c.do(ctx, "GET", messagesPath(ext)+"?"+v.Encode(), nil, &l)
}

// Message returns one message of ext's mailbox.
func (c *Client) Message(ctx context.Context, ext, id string) (VoicemailMessage, error) {
	var m VoicemailMessage
	return m, c.do(ctx, "GET", messagesPath(ext)+"/"+url.PathEscape(id), nil, &m)
}

// MessageAudio downloads a message's recording (a WAV file).
func (c *Client) MessageAudio(ctx context.Context, ext, id string) ([]byte, error) {
	resp, err := c.send(ctx, "GET", messagesPath(ext)+"/"+url.PathEscape(id)+"/audio", nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "audio/wav" {
		return nil, fmt.Errorf("message audio: Content-Type %q, want audio/wav", ct)
	}
	return io.ReadAll(resp.Body)
}

// MessageAudioRange downloads part of a recording with an HTTP Range header ("bytes=0-43").
func (c *Client) MessageAudioRange(ctx context.Context, ext, id, byteRange string) ([]byte, error) {
	resp, err := c.send(ctx, "GET", messagesPath(ext)+"/"+url.PathEscape(id)+"/audio", nil, http.Header{"Range": {byteRange}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent {
		return nil, fmt.Errorf("message audio range %s: HTTP %d, want 206", byteRange, resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

// PatchMessage files a message in a folder or marks it heard.
func (c *Client) PatchMessage(ctx context.Context, ext, id string, req PatchMessageRequest) (VoicemailMessage, error) {
	var m VoicemailMessage
	return m, c.do(ctx, "PATCH", messagesPath(ext)+"/"+url.PathEscape(id), req, &m)
}

// DeleteMessage deletes a message.
func (c *Client) DeleteMessage(ctx context.Context, ext, id string) error {
	return c.do(ctx, "DELETE", messagesPath(ext)+"/"+url.PathEscape(id), nil, nil)
}

func greetingPath(ext, greeting string) string {
	return "/api/v1/users/" + url.PathEscape(ext) + "/voicemail/greetings/" + url.PathEscape(greeting)
}

// Greetings lists the greetings ext's mailbox has.
func (c *Client) Greetings(ctx context.Context, ext string) (GreetingList, error) {
	var l GreetingList
	return l, c.do(ctx, "GET", "/api/v1/users/"+url.PathEscape(ext)+"/voicemail/greetings", nil, &l)
}

// SetGreeting uploads a greeting (unavailable, busy or name): a WAV or MP3 file.
func (c *Client) SetGreeting(ctx context.Context, ext, greeting string, audio []byte) (Greeting, error) {
	resp, err := c.sendRaw(ctx, "PUT", greetingPath(ext, greeting), audio, "application/octet-stream")
	if err != nil {
		return Greeting{}, err
	}
	defer resp.Body.Close()
	var g Greeting
	return g, json.NewDecoder(resp.Body).Decode(&g)
}

// GreetingAudio downloads a greeting (a WAV file).
func (c *Client) GreetingAudio(ctx context.Context, ext, greeting string) ([]byte, error) {
	resp, err := c.send(ctx, "GET", greetingPath(ext, greeting), nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// DeleteGreeting removes a greeting; callers then hear Asterisk's own.
func (c *Client) DeleteGreeting(ctx context.Context, ext, greeting string) error {
	return c.do(ctx, "DELETE", greetingPath(ext, greeting), nil, nil)
}
