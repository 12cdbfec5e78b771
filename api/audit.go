package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/switchboard-pbx/switchboard"
)

// The audit trail: every request that may change something (POST, PUT, PATCH, DELETE) is
// recorded with who made it, its path, the status it was answered with and its body with the
// secrets redacted, whatever the outcome. Responses are never recorded: the passwords and PINs
// the server generates are shown once, to whoever asked for them.

// TokenActor names the admin bearer token as the actor of the requests it authenticates.
const TokenActor = "admin-token"

// Redacted stands in the audit trail for the value of every secret of a request body.
const Redacted = "[redacted]"

// auditTimeout bounds the recording of one entry: the request waits for it.
const auditTimeout = 3 * time.Second

// maxAuditDepth is the deepest nesting of a body recorded as it is; a deeper one is recorded
// by its size, as a body that is not a JSON object is. No request of the API nests nearly as
// deep.
const maxAuditDepth = 32

// The bounds of the texts of an entry, as migrations/00014_audit.sql checks them.
const (
	maxAuditPath        = 2048
	maxAuditRequestID   = 200
	maxAuditContentType = 100
)

// AuditEntry is one entry of the audit trail as the API shows it.
type AuditEntry struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Actor is who made the request: TokenActor, or "" when it was refused before anyone was
	// named (a missing or wrong token).
	Actor  string `json:"actor"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
	// Change is the request body with every secret Redacted, or {"content_type", "bytes"}
	// for a body that is not a JSON object (or of a request nobody was named for); null for
	// no body.
	Change    map[string]any `json:"change"`
	RequestID string         `json:"request_id"`
}

// AuditList is a page of the audit trail, newest first.
type AuditList struct {
	Entries []AuditEntry `json:"entries"`
	Next    string       `json:"next,omitempty"`
}

func toAuditEntry(e switchboard.AuditEntry) AuditEntry {
	return AuditEntry{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Method: e.Method, Path: e.Path, Status: e.Status,
		Change: e.Change, RequestID: e.RequestID}
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	if !s.available(w, r, s.Audit != nil, "audit entries") {
		return
	}
	q := r.URL.Query()
	f := switchboard.AuditFilter{Limit: 100, Path: q.Get("path")}
	var err error
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil {
			s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "limit must be a number"))
			return
		}
	}
	if v := q.Get("before"); v != "" {
		if f.Before, err = strconv.ParseInt(v, 10, 64); err != nil || f.Before < 1 {
			s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "before must be the next cursor of a page"))
			return
		}
	}
	if f.Path != "" && (!strings.HasPrefix(f.Path, "/") || len(f.Path) > maxAuditPath) {
		s.writeError(w, r, switchboard.Errorf(switchboard.EINVALID, "path must start with / and be at most %d bytes", maxAuditPath))
		return
	}
	if err := f.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.Audit.Entries(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	l := AuditList{Entries: showAll(page.Entries, toAuditEntry)}
	if page.Next > 0 {
		l.Next = strconv.FormatInt(page.Next, 10)
	}
	writeJSON(w, http.StatusOK, l)
}

type actorKey struct{}

// actor is who made a request. The audit middleware puts an unnamed one in the request's
// context before authentication runs and reads it once the request is answered: the values
// of a context flow inwards only, so authentication names the actor in place.
type actor struct{ name string }

// setActor names who made r and returns r with the name in its context. authenticate names the
// bearer token (TokenActor); a session of an admin with an account of their own would name the
// admin here, and the audit trail would follow.
func setActor(r *http.Request, name string) *http.Request {
	if a, ok := r.Context().Value(actorKey{}).(*actor); ok {
		a.name = name
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), actorKey{}, &actor{name: name}))
}

// actorOf returns who made r; "" when nobody was named (the request was refused first).
func actorOf(r *http.Request) string {
	if a, ok := r.Context().Value(actorKey{}).(*actor); ok {
		return a.name
	}
	return ""
}

// audit records every request that may change something, once it is answered (see
// recordAudit). It reads a body once and gives the handler the same bytes: one of a binary
// type (audio/*, application/octet-stream: a greeting, up to MaxGreetingBytes) streams
// through and is only counted; any other is read ahead up to MaxBodyBytes, which is all a
// handler of JSON accepts, and the rest, if any, streams through after it. Without an
// AuditLog it does nothing.
func (s *Server) audit(next http.Handler) http.Handler {
	if s.Audit == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			next.ServeHTTP(w, r)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), actorKey{}, &actor{}))
		body := readAhead(r)
		if r.Body != nil {
			r.Body = body
		}
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		answered := false
		defer func() {
			status := ww.Status()
			if status == 0 && !answered {
				status = http.StatusInternalServerError // a panic, which Recoverer answers so
			} else if status == 0 {
				status = http.StatusOK
			}
			s.recordAudit(r, status, body)
		}()
		next.ServeHTTP(ww, r)
		answered = true
	})
}

// recordAudit stores the entry of r, answered with status. A failure to store it fails
// nothing: the change is made, and the log says which entry is missing (never its body).
func (s *Server) recordAudit(r *http.Request, status int, body *auditBody) {
	actor := actorOf(r)
	var change map[string]any
	if actor != "" {
		change = body.change()
	} else {
		// Anyone can send a request with a wrong token: their bodies are not kept.
		change = body.size()
	}
	e := switchboard.AuditEntry{Actor: actor, Method: r.Method, Path: auditPath(r.URL), Status: status,
		Change: change, RequestID: auditText(middleware.GetReqID(r.Context()), maxAuditRequestID)}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), auditTimeout)
	defer cancel()
	if err := s.Audit.Record(ctx, e); err != nil {
		s.Logger.Error("audit entry not recorded", "method", e.Method, "path", e.Path, "status", e.Status,
			"actor", e.Actor, "request_id", e.RequestID, "error", err)
	}
}

// auditBody is the body a handler reads: the bytes read ahead, then the rest of the request's
// body. It counts what the handler read, for a body that is only counted.
type auditBody struct {
	io.Reader
	body        io.ReadCloser // the request's own
	contentType string
	length      int64  // the Content-Length; -1 when unknown
	ahead       []byte // read ahead
	whole       bool   // ahead is the whole body
	read        int64
}

func (b *auditBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	b.read += int64(n)
	return n, err
}

func (b *auditBody) Close() error { return b.body.Close() }

// readAhead prepares the body of r for the handler and the audit trail (see audit).
func readAhead(r *http.Request) *auditBody {
	b := &auditBody{Reader: r.Body, body: r.Body, contentType: mediaType(r.Header.Get("Content-Type")), length: r.ContentLength}
	if r.Body == nil || r.Body == http.NoBody {
		b.Reader, b.body, b.whole = bytes.NewReader(nil), http.NoBody, true
		return b
	}
	if binaryType(b.contentType) {
		return b
	}
	ahead, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	b.ahead = ahead
	switch {
	case err != nil: // the handler fails as reading failed, after the same bytes
		b.Reader = io.MultiReader(bytes.NewReader(ahead), failedReader{err})
	case len(ahead) > MaxBodyBytes:
		b.Reader = io.MultiReader(bytes.NewReader(ahead), r.Body)
	default:
		b.Reader, b.whole = bytes.NewReader(ahead), true
	}
	return b
}

type failedReader struct{ err error }

func (f failedReader) Read([]byte) (int, error) { return 0, f.err }

// change returns what the audit trail keeps of the body: the JSON object it holds with every
// secret redacted, or its size; nil for none.
func (b *auditBody) change() map[string]any {
	if b.whole && len(b.ahead) == 0 {
		return nil
	}
	if b.whole {
		if m, ok := redactedObject(b.ahead); ok {
			return m
		}
	}
	return b.size()
}

// size describes the body by its content type and length only; nil for none. The length is
// the Content-Length, or what was read of the body when it was sent without one.
func (b *auditBody) size() map[string]any {
	n := b.length
	switch {
	case b.whole:
		n = int64(len(b.ahead))
	case n < 0:
		n = max(b.read, int64(len(b.ahead)))
	}
	if n == 0 {
		return nil
	}
	return map[string]any{"content_type": b.contentType, "bytes": n}
}

// mediaType is the media type of a Content-Type ("application/json"), or what of it fits in an
// entry when it does not parse.
func mediaType(contentType string) string {
	if t, _, err := mime.ParseMediaType(contentType); err == nil {
		return t
	}
	return auditText(contentType, maxAuditContentType)
}

// binaryType reports whether a body of the media type t is a recording (or any other binary
// file), never a JSON object: such a body is streamed to the handler and only counted.
func binaryType(t string) bool {
	for _, prefix := range []string{"audio/", "video/", "image/", "multipart/"} {
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return t == "application/octet-stream"
}

// redactedObject parses body as exactly one JSON object and returns it with the value of every
// secret key, at any depth, replaced by Redacted (see secretKey); ok is false for a body that
// is anything else.
func redactedObject(body []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, false
	}
	redacted, ok := redact(v, 0)
	if !ok {
		return nil, false
	}
	return redacted.(map[string]any), true
}

// redact returns v with the secrets redacted; ok is false when v nests deeper than
// maxAuditDepth. Texts lose their NUL characters, which PostgreSQL's jsonb cannot hold, and a
// number that no float64 holds is kept as its text, which jsonb may not hold as a number.
func redact(v any, depth int) (_ any, ok bool) {
	if depth > maxAuditDepth {
		return nil, false
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			k = withoutNUL(k)
			if secretKey(k) {
				out[k] = Redacted
				continue
			}
			if out[k], ok = redact(x, depth+1); !ok {
				return nil, false
			}
		}
		return out, true
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			if out[i], ok = redact(x, depth+1); !ok {
				return nil, false
			}
		}
		return out, true
	case string:
		return withoutNUL(v), true
	case json.Number:
		if _, err := v.Float64(); err != nil {
			return string(v), true
		}
	}
	return v, true
}

// secretKeys are the names of secrets, and secretSuffixes the endings of them, as folded by
// foldKey.
var (
	secretKeys     = []string{foldKey("password"), foldKey("pin"), foldKey("secret"), foldKey("token")}
	secretSuffixes = []string{foldKey("_password"), foldKey("_pin"), foldKey("_secret"), foldKey("_token")}
)

// secretKey reports whether a key of a body names a secret: password, pin, secret or token, or
// a name ending in _password, _pin, _secret or _token (moderator_pin), in any case. The
// handlers' JSON decoding takes "PIN" for "pin" and even "paſſword" for "password", so the audit trail does too.
func secretKey(k string) bool {
	k = foldKey(k)
	for _, s := range secretKeys {
		if k == s {
			return true
		}
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// foldKey folds k as encoding/json matches the keys of an object to the fields of a struct
// (bytes.EqualFold): each letter becomes the least of the letters it matches, so that
// "ſecret" folds as "secret" does.
func foldKey(k string) string {
	return strings.Map(func(r rune) rune {
		for {
			next := unicode.SimpleFold(r)
			if next <= r {
				return next
			}
			r = next
		}
	}, k)
}

func withoutNUL(s string) string { return strings.ReplaceAll(s, "\x00", "\uFFFD") }

// auditPath is the URL path of an entry, never the query string: as it was decoded, or as it
// was sent when decoded it would not be text (invalid UTF-8, control characters).
func auditPath(u *url.URL) string {
	p := u.Path
	if !utf8.ValidString(p) || strings.ContainsFunc(p, unicode.IsControl) {
		p = u.EscapedPath()
	}
	return auditText(p, maxAuditPath)
}

// auditText makes s text that PostgreSQL takes (valid UTF-8 without NUL) of at most n bytes.
func auditText(s string, n int) string {
	s = withoutNUL(strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
