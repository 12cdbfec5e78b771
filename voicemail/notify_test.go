package voicemail_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/voicemail"
)

type job struct {
	voicemail.MailJob
	state string
	next  time.Time
}

// memOutbox is an Outbox in memory.
type memOutbox struct {
	mu   sync.Mutex
	jobs map[string]*job
}

func (o *memOutbox) Add(_ context.Context, j voicemail.MailJob) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.jobs == nil {
		o.jobs = map[string]*job{}
	}
	k := j.Mailbox + "/" + j.MessageID
	if o.jobs[k] != nil {
		return false, nil
	}
	o.jobs[k] = &job{MailJob: j, state: "pending"}
	return true, nil
}

func (o *memOutbox) Claim(_ context.Context, limit int, lease time.Duration) ([]voicemail.MailJob, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []voicemail.MailJob
	for _, j := range o.jobs {
		if j.state == "pending" && !time.Now().Before(j.next) && len(out) < limit {
			j.next = time.Now().Add(lease)
			out = append(out, j.MailJob)
		}
	}
	return out, nil
}

func (o *memOutbox) set(j voicemail.MailJob, state string, next time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := o.jobs[j.Mailbox+"/"+j.MessageID]
	k.state, k.next = state, next
	k.Attempts++
	return nil
}

func (o *memOutbox) Sent(_ context.Context, j voicemail.MailJob) error {
	return o.set(j, "sent", time.Time{})
}
func (o *memOutbox) Failed(_ context.Context, j voicemail.MailJob, _ string) error {
	return o.set(j, "failed", time.Time{})
}
func (o *memOutbox) Retry(_ context.Context, j voicemail.MailJob, at time.Time, _ string) error {
	return o.set(j, "pending", at)
}
func (o *memOutbox) Prune(context.Context, time.Time) error { return nil }

func (o *memOutbox) state(mailbox, id string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if j := o.jobs[mailbox+"/"+id]; j != nil {
		return j.state
	}
	return ""
}

// fakeSender records letters; while down it fails as an unreachable server does.
type fakeSender struct {
	mu      sync.Mutex
	down    bool
	tries   int
	letters chan voicemail.Letter
}

func (s *fakeSender) Send(_ context.Context, l voicemail.Letter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries++
	if s.down {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "connection refused")
	}
	s.letters <- l
	return nil
}

func (s *fakeSender) setDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

type owners map[string]string

func (o owners) Email(_ context.Context, ext string) (string, error) { return o[ext], nil }
func (o owners) WithEmail(context.Context) (map[string]string, error) {
	return o, nil
}

func startNotifier(t *testing.T, spool string) (*voicemail.Notifier, *memOutbox, *fakeSender) {
	t.Helper()
	out, sender := &memOutbox{}, &fakeSender{letters: make(chan voicemail.Letter, 10)}
	n := &voicemail.Notifier{Mailboxes: &voicemail.Mailboxes{Spool: voicemail.Spool{Dir: spool}}, Outbox: out,
		Sender: sender, Owners: owners{"1002": "bob@example.com"}, Poll: 10 * time.Millisecond, RetryMax: 40 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return n, out, sender
}

func nextLetter(t *testing.T, s *fakeSender) voicemail.Letter {
	t.Helper()
	select {
	case l := <-s.letters:
		return l
	case <-time.After(5 * time.Second):
		t.Fatal("no letter within 5 s")
		return voicemail.Letter{}
	}
}

func TestNotifierMailsNewMessages(t *testing.T) {
	spool := t.TempDir()
	// Messages of the last day that were not mailed yet are, once, at start; older ones never.
	leave(t, spool, "1002", "INBOX", 0, "1796374800-00000001", `"Alice Smith" <1001>`, time.Now().Add(-2*time.Hour), 3.4)
	leave(t, spool, "1002", "INBOX", 1, "1796374800-00000002", `<1003>`, time.Now().Add(-48*time.Hour), 1)
	n, out, sender := startNotifier(t, spool)
	l := nextLetter(t, sender)
	wav, _ := os.ReadFile(filepath.Join(spool, "voicemail/default/1002/INBOX/msg0000.wav"))
	if l.To != "bob@example.com" || l.Subject != "New voicemail from Alice Smith (1001) (0:03)" ||
		string(l.Attachment) != string(wav) || !strings.HasSuffix(l.AttachmentName, ".wav") ||
		!strings.Contains(l.Text, "Duration: 0:03") || !strings.Contains(l.Text, "mailbox 1002") {
		t.Errorf("letter %+v", l)
	}

	// A caller is about to leave a message: the notifier watches the mailbox.
	n.Watch("1002")
	leave(t, spool, "1002", "INBOX", 2, "1796374900-00000003", "\"Eve\tBcc:\x1b[2J\" <1005>", time.Now(), 2)
	l = nextLetter(t, sender)
	if strings.ContainsAny(l.Subject, "\t\x1b\r\n") || !strings.Contains(l.Subject, "Eve Bcc: [2J (1005)") {
		t.Errorf("subject %q", l.Subject)
	}
	if out.state("1002", "1796374800-00000002") != "" {
		t.Error("a message older than a day was queued")
	}
	select {
	case l := <-sender.letters:
		t.Errorf("a letter sent twice, or an old one: %+v", l)
	case <-time.After(100 * time.Millisecond):
	}
}

// A mail server that is down delays the letter: it is sent once the server is back.
func TestNotifierRetries(t *testing.T) {
	spool := t.TempDir()
	n, out, sender := startNotifier(t, spool)
	sender.setDown(true)
	n.Watch("1002")
	leave(t, spool, "1002", "INBOX", 0, "1796374900-00000004", `<1001>`, time.Now(), 1)
	deadline := time.Now().Add(5 * time.Second)
	for {
		sender.mu.Lock()
		tries := sender.tries
		sender.mu.Unlock()
		if tries >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts within 5 s", tries)
		}
		time.Sleep(5 * time.Millisecond) // polling the fake's counter
	}
	if s := out.state("1002", "1796374900-00000004"); s != "pending" {
		t.Fatalf("state %q while the server is down", s)
	}
	sender.setDown(false)
	nextLetter(t, sender)
	for deadline := time.Now().Add(5 * time.Second); out.state("1002", "1796374900-00000004") != "sent"; {
		if time.Now().After(deadline) {
			t.Fatalf("state %q after the letter went", out.state("1002", "1796374900-00000004"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A message deleted before its letter went is not mailed (there is nothing to attach).
func TestNotifierSkipsDeletedMessages(t *testing.T) {
	spool := t.TempDir()
	n, out, sender := startNotifier(t, spool)
	sender.setDown(true)
	n.Watch("1002")
	leave(t, spool, "1002", "INBOX", 0, "1796374900-00000005", `<1001>`, time.Now(), 1)
	for deadline := time.Now().Add(5 * time.Second); out.state("1002", "1796374900-00000005") == ""; {
		if time.Now().After(deadline) {
			t.Fatal("not queued")
		}
		time.Sleep(5 * time.Millisecond)
	}
	os.RemoveAll(filepath.Join(spool, "voicemail/default/1002/INBOX"))
	sender.setDown(false)
	for deadline := time.Now().Add(5 * time.Second); out.state("1002", "1796374900-00000005") != "failed"; {
		if time.Now().After(deadline) {
			t.Fatalf("state %q", out.state("1002", "1796374900-00000005"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(sender.letters) != 0 {
		t.Error("a deleted message was mailed")
	}
}
