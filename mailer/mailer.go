// Package mailer sends mail over SMTP, through a relay reached with STARTTLS, implicit TLS or in
// clear text. It opens one connection per mail: voicemail mail is rare, and a fresh connection
// has no stale state to recover from. Its errors speak the switchboard vocabulary, so that a
// caller knows whether to try again: EUNAVAILABLE (the relay cannot take the mail now) or
// EINVALID (the mail was refused for good; see Permanent).
package mailer

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"

	"github.com/switchboard-pbx/switchboard"
)

// The values of Config.TLS.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which the relay must offer
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, port 465)
	TLSNone     = "none"     // clear text: only for a relay on a trusted network
)

// DefaultTimeout bounds each step of the SMTP conversation when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config says how to reach the relay. The password is used for SMTP AUTH only and never
// appears in an error or a log line.
type Config struct {
	Host     string
	Port     int
	Username string // empty: no SMTP AUTH
	Password string
	From     string        // the sender, a bare address such as voicemail@example.com
	TLS      string        // TLSStartTLS, TLSImplicit or TLSNone
	CAFile   string        // PEM roots to trust instead of the system's, for a private relay
	Timeout  time.Duration // per step (connect, each command, the message); 0: DefaultTimeout
	Logger   *slog.Logger  // nil: no logging
}

// Mail is one message: a UTF-8 text body and any number of attachments.
type Mail struct {
	To          string // one recipient, e.g. "ann@example.com" or "Ann <ann@example.com>"
	Subject     string
	Text        string
	Attachments []Attachment
}

// Attachment is a file sent with a Mail, base64-encoded on the wire.
type Attachment struct {
	Name        string // the file name the recipient sees
	ContentType string // e.g. "audio/wav"; empty: application/octet-stream
	Data        []byte
}

// Sender sends mail through one relay. It is safe for concurrent use.
type Sender struct {
	cfg Config
	tls *tls.Config
	log *slog.Logger
}

// New checks cfg and returns a Sender. It reads CAFile but does not contact the relay.
func New(cfg Config) (*Sender, error) {
	var problems []string
	if cfg.Host == "" {
		problems = append(problems, "Host is empty")
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		problems = append(problems, fmt.Sprintf("Port %d is not 1-65535", cfg.Port))
	}
	if a, err := mail.ParseAddress(cfg.From); err != nil || a.Address != cfg.From {
		problems = append(problems, fmt.Sprintf("From %q is not a bare address such as voicemail@example.com", cfg.From))
	}
	if cfg.TLS != TLSStartTLS && cfg.TLS != TLSImplicit && cfg.TLS != TLSNone {
		problems = append(problems, fmt.Sprintf("TLS %q is not starttls, tls or none", cfg.TLS))
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		problems = append(problems, "Username and Password go together")
	}
	if cfg.Timeout < 0 {
		problems = append(problems, "Timeout is negative")
	} else if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	s := &Sender{cfg: cfg, log: cfg.Logger, tls: &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.CAFile != "" {
		s.tls.RootCAs = x509.NewCertPool()
		if pem, err := os.ReadFile(cfg.CAFile); err != nil {
			problems = append(problems, fmt.Sprintf("CAFile: %v", err))
		} else if !s.tls.RootCAs.AppendCertsFromPEM(pem) {
			problems = append(problems, fmt.Sprintf("CAFile %s holds no PEM certificate", cfg.CAFile))
		}
	}
	if len(problems) > 0 {
		return nil, switchboard.Errorf(switchboard.EINVALID, "mail settings: %s", strings.Join(problems, "; "))
	}
	return s, nil
}

// Permanent reports whether err says that sending the same mail again cannot succeed: the mail
// itself is malformed, or the relay refused it for good (a 5xx reply to the mail).
func Permanent(err error) bool { return switchboard.ErrorCode(err) == switchboard.EINVALID }

// Send delivers m over a connection of its own. Cancelling ctx abandons the conversation at
// once, whatever step it is at. A nil error means the relay accepted the mail.
func (s *Sender) Send(ctx context.Context, m Mail) error {
	msg, err := s.message(m)
	if err != nil {
		return fmt.Errorf("send mail: %w", err)
	}
	op := "send mail to " + m.To
	c := &conn{ctx: ctx}
	if s.cfg.TLS == TLSImplicit {
		c.tls = s.tls
	}
	defer c.close()
	// Implicit TLS is conn's business; STARTTLS is go-mail's, and mandatory: a relay that
	// does not offer it is an error, never a silent downgrade to clear text.
	policy := gomail.NoTLS
	if s.cfg.TLS == TLSStartTLS {
		policy = gomail.TLSMandatory
	}
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithDialContextFunc(c.dial), gomail.WithTLSPolicy(policy), gomail.WithTLSConfig(s.tls),
		gomail.WithoutRset()}
	if s.cfg.Username != "" {
		// PLAIN and LOGIN refuse to run on an unencrypted connection to another host.
		opts = append(opts, gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
				gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("%s: %w", op, switchboard.Errorf(switchboard.EINTERNAL, "mail client: %v", err))
	}
	start := time.Now()
	session, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return translate(ctx, op, false, err)
	}
	if err := client.SendWithSMTPClient(session, msg); err != nil {
		return translate(ctx, op, true, err)
	}
	// The relay has the mail: a failed QUIT changes nothing, and retrying would send it twice.
	client.CloseWithSMTPClient(session)
	s.log.Info("mail sent", "to", m.To, "attachments", len(m.Attachments), "elapsed", time.Since(start))
	return nil
}

// message checks m and renders it. Line breaks and NULs in header values are refused rather
// than escaped: they are never legitimate there, and a caller passing them has a bug.
func (s *Sender) message(m Mail) (*gomail.Msg, error) {
	bad := func(format string, args ...any) error {
		return switchboard.Errorf(switchboard.EINVALID, format, args...)
	}
	if strings.ContainsAny(m.To, "\r\n\x00") || strings.ContainsAny(m.Subject, "\r\n\x00") {
		return nil, bad("recipient and subject must not contain line breaks or NUL")
	}
	if !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Text) {
		return nil, bad("subject and text must be UTF-8")
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return nil, bad("sender %q: %v", s.cfg.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, bad("recipient %q is not an address", m.To)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	for i, a := range m.Attachments {
		// go-mail replaces the other characters that are unsafe in a file name with "_".
		if a.Name == "" || strings.ContainsAny(a.Name, "\r\n\x00") || !utf8.ValidString(a.Name) {
			return nil, bad("attachment %d: name %q is empty, not UTF-8, or holds a line break or NUL", i, a.Name)
		}
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if _, _, err := mime.ParseMediaType(ct); err != nil || strings.ContainsAny(ct, "\r\n\x00") {
			return nil, bad("attachment %s: content type %q is malformed", a.Name, a.ContentType)
		}
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(ct)))
	}
	return msg, nil
}

// conn is the connection of one Send. Opening it here (go-mail only watches the context while
// dialling) lets a cancelled context close it at any step, and lets Send close it whatever
// go-mail left open on a failed handshake.
type conn struct {
	ctx  context.Context
	tls  *tls.Config // implicit TLS; nil: plain TCP (perhaps upgraded by STARTTLS later)
	nc   net.Conn
	stop func() bool
}

func (c *conn) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if c.tls != nil {
		tc := tls.Client(nc, c.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		nc = tc // a *tls.Conn, so that go-mail knows the connection is encrypted
	}
	c.nc, c.stop = nc, context.AfterFunc(c.ctx, func() { nc.Close() })
	return nc, nil
}

func (c *conn) close() {
	if c.nc != nil {
		c.stop()
		c.nc.Close()
	}
}

// translate turns a go-mail, SMTP or network error into the switchboard vocabulary: the one
// place that reads SMTP reply codes. Only a 5xx reply to the mail itself (sender, recipient,
// message) is permanent. Everything that goes wrong before, while connecting, securing or
// logging in, is the relay's or the configuration's state, which can change: EUNAVAILABLE. So
// is 530 (RFC 3207, 4954: STARTTLS or a login is required first), whatever step it answers.
func translate(ctx context.Context, op string, delivering bool, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("%s: %w (%v)", op, ctx.Err(), err)
	}
	code := 0
	var se *gomail.SendError
	var te *textproto.Error
	if errors.As(err, &se) {
		code = se.ErrorCode()
	} else if errors.As(err, &te) {
		code = te.Code
	}
	switch {
	case delivering && code >= 500 && code != 530:
		return fmt.Errorf("%s: %w: %w", op, switchboard.Errorf(switchboard.EINVALID, "the mail server refused the mail"), err)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w: %w (%v)", op, switchboard.Errorf(switchboard.EUNAVAILABLE, "the mail server timed out"), ctx.Err(), err)
	case code >= 400:
		return fmt.Errorf("%s: %w: %w", op, switchboard.Errorf(switchboard.EUNAVAILABLE, "the mail server refused for now"), err)
	}
	return fmt.Errorf("%s: %w: %w", op, switchboard.Errorf(switchboard.EUNAVAILABLE, "the mail server is unavailable"), err)
}
