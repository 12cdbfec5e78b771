//go:build integration

package mailer_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/mailer"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// These tests send real mail to a real SMTP server, Debian's aiosmtpd, and read what it stored.

func newSender(t *testing.T, srv *testbed.SMTP, tlsMode, caFile string) *mailer.Sender {
	t.Helper()
	s, err := mailer.New(mailer.Config{
		Host: srv.Host, Port: srv.Port, From: "voicemail@switchboard.test",
		TLS: tlsMode, CAFile: caFile, Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func voicemailMail(t *testing.T) mailer.Mail {
	t.Helper()
	audio := make([]byte, 50*1024)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range audio {
		audio[i] = byte(r.UintN(256)) // every byte value, NUL and CR/LF included
	}
	return mailer.Mail{
		To:      "ann@example.com",
		Subject: "Nouveau message vocal de 201 (0:42) — écouter",
		Text:    "Bonjour Ann,\nvous avez un message de 201, long de 42 secondes.\n— Switchboard\n",
		Attachments: []mailer.Attachment{
			{Name: "msg0001.wav", ContentType: "audio/wav", Data: audio},
		},
	}
}

func send(t *testing.T, s *mailer.Sender, m mailer.Mail) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.Send(ctx, m)
}

func checkReceived(t *testing.T, got testbed.ReceivedMail, want mailer.Mail) {
	t.Helper()
	if got.From != "voicemail@switchboard.test" || got.To != want.To {
		t.Errorf("From/To = %q/%q, want voicemail@switchboard.test/%q", got.From, got.To, want.To)
	}
	if got.Subject != want.Subject {
		t.Errorf("Subject = %q, want %q", got.Subject, want.Subject)
	}
	if got.Text != want.Text {
		t.Errorf("Text = %q, want %q", got.Text, want.Text)
	}
	if len(got.Attachments) != len(want.Attachments) {
		t.Fatalf("%d attachments, want %d", len(got.Attachments), len(want.Attachments))
	}
	for i, a := range got.Attachments {
		w := want.Attachments[i]
		if a.Name != w.Name || a.ContentType != w.ContentType {
			t.Errorf("attachment %d: %q %q, want %q %q", i, a.Name, a.ContentType, w.Name, w.ContentType)
		}
		if !bytes.Equal(a.Data, w.Data) {
			t.Errorf("attachment %d: %d bytes that differ from the %d sent", i, len(a.Data), len(w.Data))
		}
	}
}

func TestSendToRealServer(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		srv := testbed.StartSMTP(t, testbed.SMTPOptions{})
		m := voicemailMail(t)
		if err := send(t, newSender(t, srv, mailer.TLSNone, ""), m); err != nil {
			t.Fatal(err)
		}
		checkReceived(t, srv.WaitMessages(t, 1, 5*time.Second)[0], m)
	})
	t.Run("STARTTLS", func(t *testing.T) {
		srv := testbed.StartSMTP(t, testbed.SMTPOptions{STARTTLS: true})
		m := voicemailMail(t)
		if err := send(t, newSender(t, srv, mailer.TLSStartTLS, srv.CAFile), m); err != nil {
			t.Fatal(err)
		}
		checkReceived(t, srv.WaitMessages(t, 1, 5*time.Second)[0], m)
	})
	t.Run("ImplicitTLS", func(t *testing.T) {
		srv := testbed.StartSMTP(t, testbed.SMTPOptions{ImplicitTLS: true})
		m := voicemailMail(t)
		if err := send(t, newSender(t, srv, mailer.TLSImplicit, srv.CAFile), m); err != nil {
			t.Fatal(err)
		}
		checkReceived(t, srv.WaitMessages(t, 1, 5*time.Second)[0], m)
	})
	t.Run("ErrUnknownCertificateAuthority", func(t *testing.T) {
		// The system's roots do not know the test bed's CA: the mail must not go.
		for _, tt := range []struct {
			opts testbed.SMTPOptions
			tls  string
		}{
			{testbed.SMTPOptions{STARTTLS: true}, mailer.TLSStartTLS},
			{testbed.SMTPOptions{ImplicitTLS: true}, mailer.TLSImplicit},
		} {
			srv := testbed.StartSMTP(t, tt.opts)
			err := send(t, newSender(t, srv, tt.tls, ""), voicemailMail(t))
			if code := switchboard.ErrorCode(err); code != switchboard.EUNAVAILABLE {
				t.Errorf("%s: code %q (%v), want %q", tt.tls, code, err, switchboard.EUNAVAILABLE)
			}
			if n := len(srv.Messages(t)); n != 0 {
				t.Errorf("%s: %d mails delivered over an unverified connection", tt.tls, n)
			}
		}
	})
	t.Run("ErrNoSTARTTLS", func(t *testing.T) {
		// Required STARTTLS against a server that does not offer it: no silent downgrade.
		srv := testbed.StartSMTP(t, testbed.SMTPOptions{})
		err := send(t, newSender(t, srv, mailer.TLSStartTLS, ""), voicemailMail(t))
		if err == nil {
			t.Fatal("sent in clear text although STARTTLS is required")
		}
		if code := switchboard.ErrorCode(err); code != switchboard.EUNAVAILABLE {
			t.Errorf("code %q, want %q: %v", code, switchboard.EUNAVAILABLE, err)
		}
		if n := len(srv.Messages(t)); n != 0 {
			t.Errorf("%d mails delivered in clear text", n)
		}
	})
	t.Run("ServerDownThenBack", func(t *testing.T) {
		srv := testbed.StartSMTP(t, testbed.SMTPOptions{STARTTLS: true})
		s := newSender(t, srv, mailer.TLSStartTLS, srv.CAFile)
		m := voicemailMail(t)
		srv.Stop(t)
		err := send(t, s, m)
		if code := switchboard.ErrorCode(err); code != switchboard.EUNAVAILABLE || mailer.Permanent(err) {
			t.Fatalf("server down: code %q (%v), want %q", code, err, switchboard.EUNAVAILABLE)
		}
		srv.Start(t)
		if err := send(t, s, m); err != nil {
			t.Fatalf("server back: %v", err)
		}
		mails := srv.WaitMessages(t, 1, 5*time.Second)
		if len(mails) != 1 {
			t.Fatalf("%d mails, want 1", len(mails))
		}
		checkReceived(t, mails[0], m)
	})
}
