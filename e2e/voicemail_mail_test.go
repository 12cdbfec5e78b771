//go:build integration

package e2e_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/media"
	"github.com/switchboard-pbx/switchboard/testbed"
)

// New messages are mailed with the recording attached, through a real SMTP server (Debian's
// aiosmtpd, STARTTLS with the test bed's own CA); with the server down the call and the message
// are as ever, and the letter goes once the server is back.
func TestVoicemailByEmail(t *testing.T) {
	relay := testbed.StartSMTP(t, testbed.SMTPOptions{STARTTLS: true})
	s := StartStack(t, StackOptions{Env: []string{
		"SMTP_HOST=127.0.0.1", fmt.Sprintf("SMTP_PORT=%d", relay.Port), "SMTP_TLS=starttls",
		"SMTP_CA_FILE=" + relay.CAFile, "SMTP_FROM=voicemail@switchboard.test", "SMTP_RETRY_MAX=2s",
	}})
	createUser(t, s, "1001", "Alice", "alice-password-1")
	email := "bob@localhost"
	if _, err := s.API.CreateUser(ctxT(t, 10*time.Second), api.CreateUserRequest{Extension: "1002", Name: "Bob",
		Password: "bob-password-222", Email: &email}); err != nil {
		t.Fatal(err)
	}
	waitEndpoint(t, s, "1002")

	leaveMessage(t, s)
	hungUp := time.Now()
	letters := relay.WaitMessages(t, 1, 30*time.Second)
	t.Logf("letter received %v after the hang-up", time.Since(hungUp).Round(10*time.Millisecond))
	l, err := s.API.Messages(ctxT(t, 10*time.Second), "1002", api.MessageQuery{})
	if err != nil || len(l.Messages) != 1 {
		t.Fatalf("messages %+v, %v", l, err)
	}
	checkLetter(t, s, letters[0], l.Messages[0])

	// The relay goes down: the next caller leaves a message as ever; the letter waits.
	relay.Stop(t)
	leaveMessage(t, s)
	eventually(t, 5*time.Second, "the second message in the API", func() error {
		l, err = s.API.Messages(ctxT(t, 5*time.Second), "1002", api.MessageQuery{})
		if err != nil || len(l.Messages) != 2 {
			return fmt.Errorf("%d messages, %v", len(l.Messages), err)
		}
		return nil
	})
	eventually(t, 30*time.Second, "a failed attempt in serve's log", func() error {
		b, _ := os.ReadFile(s.logPath)
		if !bytes.Contains(b, []byte("voicemail mail not sent; will try again")) {
			return fmt.Errorf("no failed attempt logged yet")
		}
		return nil
	})
	relay.Start(t)
	letters = relay.WaitMessages(t, 2, 30*time.Second)
	if len(letters) != 2 {
		t.Fatalf("%d letters, want exactly 2 (one per message)", len(letters))
	}
	checkLetter(t, s, letters[1], l.Messages[0]) // newest first
}

// checkLetter: the letter names the caller and duration, and carries the message's recording
// byte for byte.
func checkLetter(t *testing.T, s *Stack, letter testbed.ReceivedMail, m api.VoicemailMessage) {
	t.Helper()
	secs := (m.DurationMS + 500) / 1000
	duration := fmt.Sprintf("%d:%02d", secs/60, secs%60)
	if !strings.Contains(letter.To, "bob@localhost") || !strings.Contains(letter.From, "voicemail@switchboard.test") ||
		!strings.Contains(letter.Subject, "Alice (1001)") || !strings.Contains(letter.Text, "Duration: "+duration) ||
		!strings.Contains(letter.Text, "Received: "+m.ReceivedAt.UTC().Format("Monday, 2 January 2006 at 15:04:05")) {
		t.Errorf("letter from %q to %q, %q:\n%s\nwant Alice (1001), %s, received %v", letter.From, letter.To,
			letter.Subject, letter.Text, duration, m.ReceivedAt)
	}
	if len(letter.Attachments) != 1 {
		t.Fatalf("%d attachments", len(letter.Attachments))
	}
	wav, err := s.API.MessageAudio(ctxT(t, 10*time.Second), "1002", m.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := letter.Attachments[0]
	if !bytes.Equal(a.Data, wav) || !strings.HasPrefix(a.ContentType, "audio/wav") {
		t.Errorf("attachment %q (%s), %d bytes; the message is %d bytes", a.Name, a.ContentType, len(a.Data), len(wav))
	}
	samples, _, err := media.ReadWAV(bytes.NewReader(a.Data))
	if err != nil || !media.DetectTone(samples, 1000, 8000).Detected {
		t.Errorf("attachment: %v, no caller's tone", err)
	}
}
