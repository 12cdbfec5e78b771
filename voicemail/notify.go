package voicemail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// Letter is an e-mail about a new message: the text, and the recording attached.
type Letter struct {
	To             string
	Subject        string
	Text           string
	AttachmentName string
	Attachment     []byte // a WAV file
}

// Sender sends letters. An EINVALID error is permanent (the server refused the letter or its
// recipient); any other is worth another attempt later.
type Sender interface {
	Send(ctx context.Context, l Letter) error
}

// MailJob is one message to mail, as the outbox keeps it.
type MailJob struct {
	Mailbox   string
	MessageID string
	To        string
	Attempts  int // made so far
}

// Outbox keeps the messages to mail, durably, so that a mail server that is down (or a control
// plane restart) delays a letter and never loses it, and a message is mailed once.
type Outbox interface {
	// Add records a message to mail; false when it was recorded already (mailed or not).
	Add(ctx context.Context, j MailJob) (bool, error)
	// Claim returns up to limit jobs due now and holds each for lease: another claim (another
	// process) gets it only once the lease has passed without Sent, Failed or Retry.
	Claim(ctx context.Context, limit int, lease time.Duration) ([]MailJob, error)
	Sent(ctx context.Context, j MailJob) error
	// Failed gives a job up: the letter was refused for good, or its message is gone.
	Failed(ctx context.Context, j MailJob, reason string) error
	Retry(ctx context.Context, j MailJob, at time.Time, reason string) error
	// Prune forgets the jobs finished before then.
	Prune(ctx context.Context, before time.Time) error
}

// Owners tells whose mailbox wants its messages mailed, and where.
type Owners interface {
	// Email returns the address ext's messages go to, "" for none.
	Email(ctx context.Context, ext string) (string, error)
	// WithEmail returns every extension with voicemail and an address, and the address.
	WithEmail(ctx context.Context) (map[string]string, error)
}

// Notifier mails new voicemail messages. The FastAGI helper tells it, through Watch, that a
// caller is about to leave a message; it then looks at that mailbox's new messages every
// Poll until WatchFor has passed (a message lands in INBOX when the caller hangs up), puts the
// ones received since into the outbox, and sends the outbox's letters in the background,
// retrying with a backoff that doubles up to RetryMax. Nothing of it is on a call's path.
type Notifier struct {
	Mailboxes *Mailboxes
	Outbox    Outbox
	Sender    Sender
	Owners    Owners
	Logger    *slog.Logger
	RetryMax  time.Duration // longest wait between two attempts (default 5 min)
	Poll      time.Duration // how often watched mailboxes are looked at (default 1 s)
	WatchFor  time.Duration // how long a mailbox is watched (default 7 min: greeting + maxsecs)

	mu      sync.Mutex
	watched map[string]watch
	wake    chan struct{}
}

// watch is a mailbox looked at: since when, until when, and the messages dealt with already
// (queued, or left for a user without an address), which are not asked about again. Only Run's
// goroutine reads and writes done.
type watch struct {
	since, until time.Time
	done         map[string]bool
}

// Watch starts looking at mailbox's new messages; it never blocks.
func (n *Notifier) Watch(mailbox string) {
	now := time.Now()
	n.mu.Lock()
	if n.watched == nil {
		n.watched = map[string]watch{}
	}
	w, ok := n.watched[mailbox]
	if !ok {
		w.since = now.Add(-time.Second) // origtime is whole seconds
		w.done = map[string]bool{}
	}
	w.until = now.Add(n.watchFor())
	n.watched[mailbox] = w
	n.mu.Unlock()
}

func (n *Notifier) watchFor() time.Duration {
	if n.WatchFor > 0 {
		return n.WatchFor
	}
	return 7 * time.Minute
}

// Run looks for new messages and sends letters until ctx ends. At start it takes the last
// day's new messages of every mailbox with an address, so that messages left while the
// control plane was away are mailed too (the outbox knows which were).
func (n *Notifier) Run(ctx context.Context) {
	if n.Logger == nil {
		n.Logger = slog.New(slog.DiscardHandler)
	}
	if n.RetryMax <= 0 {
		n.RetryMax = 5 * time.Minute
	}
	if n.Poll <= 0 {
		n.Poll = time.Second
	}
	n.wake = make(chan struct{}, 1)
	if owners, err := n.Owners.WithEmail(ctx); err != nil {
		n.Logger.Warn("voicemail mail: could not look for messages left while away", "error", err)
	} else {
		for ext := range owners {
			n.collect(ctx, ext, time.Now().Add(-24*time.Hour), map[string]bool{})
		}
	}
	tick := time.NewTicker(n.Poll)
	defer tick.Stop()
	var pruned time.Time
	for {
		n.scan(ctx)
		n.send(ctx)
		if time.Since(pruned) > time.Hour {
			// Letters sent (or given up) a month ago are of no more use than to say so.
			if err := n.Outbox.Prune(ctx, time.Now().AddDate(0, -1, 0)); err == nil {
				pruned = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-n.wake:
		}
	}
}

// scan looks at every watched mailbox once and forgets those watched long enough.
func (n *Notifier) scan(ctx context.Context) {
	now := time.Now()
	n.mu.Lock()
	due := map[string]watch{}
	for box, w := range n.watched {
		due[box] = w
		if now.After(w.until) {
			delete(n.watched, box)
		}
	}
	n.mu.Unlock()
	for box, w := range due {
		n.collect(ctx, box, w.since, w.done)
	}
}

// collect puts mailbox's new messages received since then into the outbox, all but those in
// done, and adds the ones it dealt with to done.
func (n *Notifier) collect(ctx context.Context, mailbox string, since time.Time, done map[string]bool) {
	ms, err := n.Mailboxes.Spool.folder(mailbox, switchboard.FolderNew)
	if err != nil {
		n.Logger.Warn("voicemail mail: cannot read the mailbox", "mailbox", mailbox, "error", err)
		return
	}
	var to string
	for _, m := range ms {
		if m.ReceivedAt.Before(since) || done[m.ID] {
			continue
		}
		if to == "" {
			if to, err = n.Owners.Email(ctx, mailbox); err != nil {
				return // the database is away: the next look (or the start-up sweep) catches up
			}
			if to == "" {
				for _, m := range ms {
					done[m.ID] = true // no address: no letter
				}
				return
			}
		}
		added, err := n.Outbox.Add(ctx, MailJob{Mailbox: mailbox, MessageID: m.ID, To: to})
		if err != nil {
			n.Logger.Warn("voicemail mail: cannot queue a letter", "mailbox", mailbox, "message", m.ID, "error", err)
			continue
		}
		done[m.ID] = true
		if added {
			n.Logger.Info("voicemail mail queued", "mailbox", mailbox, "message", m.ID)
			select {
			case n.wake <- struct{}{}:
			default:
			}
		}
	}
}

// send sends the letters that are due.
func (n *Notifier) send(ctx context.Context) {
	jobs, err := n.Outbox.Claim(ctx, 20, 2*time.Minute)
	if err != nil {
		n.Logger.Warn("voicemail mail: cannot read the outbox", "error", err)
		return
	}
	for _, j := range jobs {
		n.sendOne(ctx, j)
	}
}

func (n *Notifier) sendOne(ctx context.Context, j MailJob) {
	log := n.Logger.With("mailbox", j.Mailbox, "message", j.MessageID, "attempt", j.Attempts+1)
	m, err := n.Mailboxes.Spool.find(j.Mailbox, j.MessageID)
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		log.Info("voicemail mail not sent: the message was deleted first")
		n.Outbox.Failed(ctx, j, "the message was deleted before it was mailed")
		return
	}
	var audio []byte
	if err == nil {
		audio, err = readAll(m.audio)
	}
	if err != nil {
		log.Warn("voicemail mail: cannot read the message", "error", err)
		n.Outbox.Retry(ctx, j, time.Now().Add(n.backoff(j.Attempts)), "read the message: "+err.Error())
		return
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err = n.Sender.Send(sctx, letterFor(j, m.VoicemailMessage, audio))
	switch {
	case err == nil:
		log.Info("voicemail mail sent")
		if err := n.Outbox.Sent(ctx, j); err != nil {
			log.Warn("voicemail mail sent but not marked so; it may be sent again", "error", err)
		}
	case switchboard.ErrorCode(err) == switchboard.EINVALID:
		log.Error("voicemail mail refused for good", "error", err)
		n.Outbox.Failed(ctx, j, err.Error())
	default:
		wait := n.backoff(j.Attempts)
		log.Warn("voicemail mail not sent; will try again", "error", err, "retry_in", wait.String())
		n.Outbox.Retry(ctx, j, time.Now().Add(wait), err.Error())
	}
}

// backoff is the wait after a failed attempt: 2 s, doubling, at most RetryMax.
func (n *Notifier) backoff(attempts int) time.Duration {
	d := 2 * time.Second
	for range min(attempts, 20) {
		d *= 2
	}
	return min(d, n.RetryMax)
}

func readAll(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 64<<20))
}

// letterFor writes the letter about m.
func letterFor(j MailJob, m switchboard.VoicemailMessage, audio []byte) Letter {
	from := printable(m.CallerNumber)
	name := printable(m.CallerName)
	switch {
	case name != "" && from != "":
		from = name + " (" + from + ")"
	case name != "":
		from = name
	case from == "":
		from = "an unknown caller"
	}
	secs := int(m.Duration.Round(time.Second).Seconds())
	var b strings.Builder
	fmt.Fprintf(&b, "You have a new voicemail message in mailbox %s.\n\n", j.Mailbox)
	fmt.Fprintf(&b, "From:     %s\n", from)
	fmt.Fprintf(&b, "Received: %s\n", m.ReceivedAt.UTC().Format("Monday, 2 January 2006 at 15:04:05 MST"))
	fmt.Fprintf(&b, "Duration: %d:%02d\n\n", secs/60, secs%60)
	b.WriteString("The recording is attached. Dial *97 from your phone to hear your messages.\n")
	return Letter{
		To:             j.To,
		Subject:        fmt.Sprintf("New voicemail from %s (%d:%02d)", from, secs/60, secs%60),
		Text:           b.String(),
		AttachmentName: "voicemail-" + m.ReceivedAt.UTC().Format("20060102-150405") + ".wav",
		Attachment:     audio,
	}
}

// printable replaces control characters (a caller ID is what a SIP peer sent) with spaces, so
// that a subject line stays one line.
func printable(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s))
}
