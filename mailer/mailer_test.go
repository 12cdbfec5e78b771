package mailer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/mailer"
)

func TestNew(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := mailer.Config{Host: "smtp.example.com", Port: 587, From: "voicemail@example.com", TLS: mailer.TLSStartTLS}
	for _, tt := range []struct {
		name string
		edit func(*mailer.Config)
		ok   bool
	}{
		{"OK", func(*mailer.Config) {}, true},
		{"Auth", func(c *mailer.Config) { c.Username, c.Password = "pbx", "secret" }, true},
		{"ImplicitTLS", func(c *mailer.Config) { c.TLS, c.Port = mailer.TLSImplicit, 465 }, true},
		{"NoTLS", func(c *mailer.Config) { c.TLS, c.Port = mailer.TLSNone, 25 }, true},
		{"ErrNoHost", func(c *mailer.Config) { c.Host = "" }, false},
		{"ErrPortZero", func(c *mailer.Config) { c.Port = 0 }, false},
		{"ErrPortTooLarge", func(c *mailer.Config) { c.Port = 65536 }, false},
		{"ErrEmptyTLS", func(c *mailer.Config) { c.TLS = "" }, false}, // no implied default: say which
		{"ErrTLSCase", func(c *mailer.Config) { c.TLS = "STARTTLS" }, false},
		{"ErrTLSSSL", func(c *mailer.Config) { c.TLS = "ssl" }, false},
		{"ErrNoFrom", func(c *mailer.Config) { c.From = "" }, false},
		{"ErrFromDisplayName", func(c *mailer.Config) { c.From = "Voicemail <voicemail@example.com>" }, false}, // bare only
		{"ErrFromAngle", func(c *mailer.Config) { c.From = "<voicemail@example.com>" }, false},
		{"ErrFromNoDomain", func(c *mailer.Config) { c.From = "voicemail" }, false},
		{"ErrFromTwo", func(c *mailer.Config) { c.From = "a@example.com, b@example.com" }, false},
		{"ErrFromCRLF", func(c *mailer.Config) { c.From = "a@example.com\r\nBcc: b@example.com" }, false},
		{"ErrUsernameOnly", func(c *mailer.Config) { c.Username = "pbx" }, false},
		{"ErrPasswordOnly", func(c *mailer.Config) { c.Password = "secret" }, false},
		{"ErrNegativeTimeout", func(c *mailer.Config) { c.Timeout = -time.Second }, false},
		{"ErrCAFileMissing", func(c *mailer.Config) { c.CAFile = filepath.Join(dir, "missing.pem") }, false},
		{"ErrCAFileNotPEM", func(c *mailer.Config) { c.CAFile = notPEM }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			s, err := mailer.New(cfg)
			if tt.ok && (err != nil || s == nil) {
				t.Fatalf("New: %v", err)
			}
			if !tt.ok && switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Fatalf("New: err = %v, want %s", err, switchboard.EINVALID)
			}
		})
	}
	t.Run("AllProblemsAtOnce", func(t *testing.T) {
		_, err := mailer.New(mailer.Config{Port: 70000, From: "x", TLS: "ssl"})
		for _, want := range []string{"Host", "Port", "From", "TLS"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want it to name %s", err, want)
			}
		}
	})
}

func TestSendRefusesMalformedMail(t *testing.T) {
	relay := startFakeRelay(t, nil)
	s := newFakeSender(t, relay, "", "", nil)
	ok := mailer.Mail{To: "ann@example.com", Subject: "Voicemail", Text: "Hello",
		Attachments: []mailer.Attachment{{Name: "msg.wav", ContentType: "audio/wav", Data: []byte("RIFF")}}}
	for _, tt := range []struct {
		name string
		edit func(*mailer.Mail)
	}{
		{"ToCRLF", func(m *mailer.Mail) { m.To = "ann@example.com\r\nBcc: eve@example.com" }},
		{"ToLF", func(m *mailer.Mail) { m.To = "ann@example.com\nBcc: eve@example.com" }},
		{"ToCR", func(m *mailer.Mail) { m.To = "ann@example.com\rBcc: eve@example.com" }},
		{"ToNUL", func(m *mailer.Mail) { m.To = "ann@example.com\x00" }},
		{"ToNotAnAddress", func(m *mailer.Mail) { m.To = "ann" }},
		{"ToEmpty", func(m *mailer.Mail) { m.To = "" }},
		{"SubjectCRLF", func(m *mailer.Mail) { m.Subject = "Hi\r\nBcc: eve@example.com" }},
		{"SubjectLF", func(m *mailer.Mail) { m.Subject = "Hi\nBcc: eve@example.com" }},
		{"SubjectNUL", func(m *mailer.Mail) { m.Subject = "Hi\x00" }},
		{"SubjectNotUTF8", func(m *mailer.Mail) { m.Subject = "caf\xe9" }}, // Latin-1
		{"TextNotUTF8", func(m *mailer.Mail) { m.Text = "caf\xe9" }},
		{"NameEmpty", func(m *mailer.Mail) { m.Attachments[0].Name = "" }},
		{"NameCRLF", func(m *mailer.Mail) { m.Attachments[0].Name = "msg.wav\r\nX-Evil: 1" }},
		{"NameNUL", func(m *mailer.Mail) { m.Attachments[0].Name = "msg\x00.wav" }},
		{"ContentTypeCRLF", func(m *mailer.Mail) { m.Attachments[0].ContentType = "audio/wav\r\nX-Evil: 1" }},
		{"ContentTypeLF", func(m *mailer.Mail) { m.Attachments[0].ContentType = "audio/wav;\n x=1" }}, // a folded header
		{"ContentTypeNUL", func(m *mailer.Mail) { m.Attachments[0].ContentType = "audio/wav\x00" }},
		{"ContentTypeMalformed", func(m *mailer.Mail) { m.Attachments[0].ContentType = "audio/" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			m.Attachments = []mailer.Attachment{ok.Attachments[0]}
			tt.edit(&m)
			err := s.Send(context.Background(), m)
			if switchboard.ErrorCode(err) != switchboard.EINVALID || !mailer.Permanent(err) {
				t.Fatalf("err = %v, want %s", err, switchboard.EINVALID)
			}
		})
	}
	if n := relay.connections(); n != 0 {
		t.Errorf("%d connections to the relay: malformed mail must be refused before dialling", n)
	}
	t.Run("OK", func(t *testing.T) {
		m := ok
		m.Attachments = append(m.Attachments, mailer.Attachment{Name: "no type.bin", Data: []byte{0, 1, 2}})
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSendTranslatesReplies proves the one translation point against the replies a real
// relay seldom gives on demand.
func TestSendTranslatesReplies(t *testing.T) {
	for _, tt := range []struct {
		name    string
		replies map[string]string
		code    string
	}{
		{"OK", nil, ""},
		{"GreetingBusy", map[string]string{"220": "421 4.3.2 too busy, come back later"}, switchboard.EUNAVAILABLE},
		{"GreetingRefused", map[string]string{"220": "554 5.3.2 no service here"}, switchboard.EUNAVAILABLE}, // the relay's state, not the mail's
		{"SenderRefused", map[string]string{"MAIL": "553 5.7.1 sender not allowed"}, switchboard.EINVALID},
		{"SenderNeedsTLS", map[string]string{"MAIL": "530 5.7.0 Must issue a STARTTLS command first"}, switchboard.EUNAVAILABLE}, // settings, not the mail
		{"SenderNeedsLogin", map[string]string{"MAIL": "530 5.7.0 Authentication required"}, switchboard.EUNAVAILABLE},
		{"SenderGreylisted", map[string]string{"MAIL": "451 4.7.1 greylisted"}, switchboard.EUNAVAILABLE},
		{"RecipientUnknown", map[string]string{"RCPT": "550 5.1.1 no such user"}, switchboard.EINVALID},
		{"MailboxFull", map[string]string{"RCPT": "452 4.2.2 mailbox full"}, switchboard.EUNAVAILABLE},
		{"DataRefused", map[string]string{"DATA": "554 5.5.1 no valid recipients"}, switchboard.EINVALID},
		{"MessageTooBig", map[string]string{".": "552 5.3.4 message too big"}, switchboard.EINVALID},
		{"MessageDeferred", map[string]string{".": "451 4.3.0 try again later"}, switchboard.EUNAVAILABLE},
		{"QuitFails", map[string]string{"QUIT": "500 what?"}, ""}, // delivered: a retry would send it twice
	} {
		t.Run(tt.name, func(t *testing.T) {
			relay := startFakeRelay(t, tt.replies)
			err := newFakeSender(t, relay, "", "", nil).Send(context.Background(), testMail())
			if code := switchboard.ErrorCode(err); code != tt.code {
				t.Fatalf("code %q (%v), want %q", code, err, tt.code)
			}
			if mailer.Permanent(err) != (tt.code == switchboard.EINVALID) {
				t.Errorf("Permanent(%v) = %v", err, mailer.Permanent(err))
			}
		})
	}
	t.Run("ErrConnectionRefused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		err = newFakeSender(t, &fakeRelay{Port: port}, "", "", nil).Send(context.Background(), testMail())
		if switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
			t.Fatalf("err = %v, want %s", err, switchboard.EUNAVAILABLE)
		}
	})
}

// TestSendHonoursContext uses a relay that never greets: only the context can end the wait.
func TestSendHonoursContext(t *testing.T) {
	relay := startFakeRelay(t, map[string]string{"220": "stall"})
	s := newFakeSender(t, relay, "", "", nil) // its Timeout is a minute
	t.Run("Cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		err := s.Send(ctx, testMail())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Send returned %v after the cancellation", d)
		}
	})
	t.Run("DeadlineExceeded", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := s.Send(ctx, testMail())
		if switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want %s and context.DeadlineExceeded", err, switchboard.EUNAVAILABLE)
		}
	})
}

func TestSendNeverShowsThePassword(t *testing.T) {
	const password = "Tr0ub4dor-and-3"
	secrets := []string{password, base64.StdEncoding.EncodeToString([]byte("\x00pbx\x00" + password))}
	for name, reply := range map[string]string{"OK": "235 2.7.0 accepted", "ErrRefused": "535 5.7.8 bad credentials"} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			relay := startFakeRelay(t, map[string]string{"AUTH": reply})
			s := newFakeSender(t, relay, "pbx", password, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			err := s.Send(context.Background(), testMail())
			if (err == nil) != (name == "OK") {
				t.Fatalf("err = %v", err)
			}
			if !relay.saw("AUTH PLAIN") {
				t.Fatalf("the relay saw no AUTH PLAIN: %q", relay.commands())
			}
			for _, secret := range secrets {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows the password: %v", err)
				}
				if strings.Contains(logs.String(), secret) {
					t.Errorf("the log shows the password: %s", logs.String())
				}
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	for err, want := range map[error]bool{
		nil: false,
		switchboard.Errorf(switchboard.EINVALID, "refused"):                           true,
		fmt.Errorf("send: %w", switchboard.Errorf(switchboard.EINVALID, "refused")):   true,
		fmt.Errorf("send: %w", switchboard.Errorf(switchboard.EUNAVAILABLE, "retry")): false,
		errors.New("some bug"): false,
	} {
		if got := mailer.Permanent(err); got != want {
			t.Errorf("Permanent(%v) = %v, want %v", err, got, want)
		}
	}
}

func testMail() mailer.Mail {
	return mailer.Mail{To: "ann@example.com", Subject: "Voicemail from 201", Text: "You have a message.",
		Attachments: []mailer.Attachment{{Name: "msg0000.wav", ContentType: "audio/wav", Data: []byte("RIFF....WAVE")}}}
}

func newFakeSender(t *testing.T, relay *fakeRelay, username, password string, log *slog.Logger) *mailer.Sender {
	t.Helper()
	s, err := mailer.New(mailer.Config{Host: "127.0.0.1", Port: relay.Port, From: "voicemail@example.com",
		TLS: mailer.TLSNone, Username: username, Password: password, Timeout: time.Minute, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeRelay is a scripted SMTP server on loopback. It answers each verb with replies[verb]
// ("220" is the greeting, "." the end of the message) or with success when the table is
// silent, and advertises AUTH PLAIN LOGIN when replies has an "AUTH" entry. "stall" sends
// nothing and waits for the client to hang up.
type fakeRelay struct {
	Port int

	mu    sync.Mutex
	conns int
	lines []string
}

func startFakeRelay(t *testing.T, replies map[string]string) *fakeRelay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	r := &fakeRelay{Port: l.Addr().(*net.TCPAddr).Port}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go r.serve(c, replies)
		}
	}()
	return r
}

func (r *fakeRelay) serve(c net.Conn, replies map[string]string) {
	defer c.Close()
	r.mu.Lock()
	r.conns++
	r.mu.Unlock()
	reply := func(verb, def string) bool {
		line, ok := replies[verb]
		if !ok {
			line = def
		}
		if line == "stall" {
			io.Copy(io.Discard, c)
			return false
		}
		fmt.Fprintf(c, "%s\r\n", line)
		return line[0] == def[0]
	}
	if !reply("220", "220 fake ESMTP") {
		return
	}
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		r.mu.Lock()
		r.lines = append(r.lines, line)
		r.mu.Unlock()
		verb, _, _ := strings.Cut(strings.ToUpper(line), " ")
		switch verb {
		case "EHLO":
			if _, ok := replies["AUTH"]; ok {
				fmt.Fprint(c, "250-fake\r\n250 AUTH PLAIN LOGIN\r\n")
			} else {
				fmt.Fprint(c, "250 fake\r\n")
			}
		case "DATA":
			if !reply("DATA", "354 go ahead") {
				continue
			}
			for {
				if l, err := br.ReadString('\n'); err != nil {
					return
				} else if l == ".\r\n" {
					break
				}
			}
			reply(".", "250 2.0.0 queued")
		case "QUIT":
			reply("QUIT", "221 bye")
			return
		default:
			reply(verb, "250 OK")
		}
	}
}

func (r *fakeRelay) connections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns
}

func (r *fakeRelay) commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

func (r *fakeRelay) saw(prefix string) bool {
	for _, l := range r.commands() {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
