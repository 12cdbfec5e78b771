package testbed

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// aiosmtpd is Debian's packaged SMTP server (python3-aiosmtpd), run unmodified through its own
// CLI. Debian's interpreter is named by path: a python3 earlier in PATH (pyenv, a venv) does not
// see Debian's modules. The aiosmtpd script beside it is what scripts/prereqs checks for.
const (
	aiosmtpdPython = "/usr/bin/python3"
	aiosmtpdScript = "/usr/bin/aiosmtpd"
)

// SMTPOptions says what kind of SMTP server StartSMTP runs.
type SMTPOptions struct {
	// STARTTLS offers STARTTLS with a certificate for 127.0.0.1 signed by a CA made for this
	// server (SMTP.CAFile), and refuses mail until the client has started TLS.
	STARTTLS bool
	// ImplicitTLS speaks TLS from the first byte (SMTPS), with a certificate made as for
	// STARTTLS.
	ImplicitTLS bool
}

// SMTP is a real SMTP server (aiosmtpd) that delivers every mail it accepts, from anyone to
// anyone, into a maildir that Messages reads.
type SMTP struct {
	Host    string // 127.0.0.1
	Port    int
	CAFile  string // with TLS: the PEM certificate of the CA that signed the server's
	Maildir string

	tls    *tls.Config // for the readiness probe of an SMTPS server; nil: plain
	args   []string
	log    string
	proc   *exec.Cmd
	exited chan struct{}
}

// ReceivedMail is one mail as the server stored it, decoded.
type ReceivedMail struct {
	From, To, Subject string // bare addresses; the subject with encoded words decoded
	Text              string // the first text/plain part that is not an attachment; line breaks "\n"
	Attachments       []Attachment
}

// Attachment is a decoded attachment of a ReceivedMail.
type Attachment struct {
	Name        string
	ContentType string // the media type alone, lower case (e.g. "audio/wav")
	Data        []byte
}

// StartSMTP starts an SMTP server on a free loopback port and waits until it accepts
// connections. It dies with the test process, even on SIGKILL, and is stopped when the test ends.
func StartSMTP(tb testing.TB, opts SMTPOptions) *SMTP {
	tb.Helper()
	_, err := os.Stat(aiosmtpdScript)
	Need(tb, err == nil, "aiosmtpd not installed (Debian package python3-aiosmtpd)")
	dir := tb.TempDir()
	s := &SMTP{Host: "127.0.0.1", Port: FreePort(tb), Maildir: filepath.Join(dir, "maildir"), log: filepath.Join(dir, "aiosmtpd.log")}
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(s.Maildir, sub), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	s.args = []string{"-m", "aiosmtpd", "-n", "-l", net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	if opts.STARTTLS && opts.ImplicitTLS {
		tb.Fatal("testbed: an SMTP server offers STARTTLS or implicit TLS, not both")
	}
	if opts.STARTTLS || opts.ImplicitTLS {
		s.CAFile = filepath.Join(dir, "ca.pem")
		cert, key := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
		roots := writeServerCertificate(tb, s.CAFile, cert, key, s.Host)
		if opts.STARTTLS {
			s.args = append(s.args, "--tlscert", cert, "--tlskey", key)
		} else {
			s.args = append(s.args, "--smtpscert", cert, "--smtpskey", key)
			s.tls = &tls.Config{RootCAs: roots, ServerName: s.Host}
		}
	}
	s.args = append(s.args, "-c", "aiosmtpd.handlers.Mailbox", s.Maildir)
	tb.Cleanup(func() { s.Stop(tb) })
	s.Start(tb)
	return s
}

// Start runs the server (again, on the same port) and waits until it answers with its greeting.
func (s *SMTP) Start(tb testing.TB) {
	tb.Helper()
	if s.proc != nil {
		tb.Fatal("testbed: the SMTP server is already running")
	}
	out, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(aiosmtpdPython, s.args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		tb.Fatalf("testbed: start aiosmtpd: %v", err)
	}
	s.proc, s.exited = cmd, make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(s.exited) }()
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	for deadline := time.Now().Add(15 * time.Second); ; {
		if greets(addr, s.tls) {
			return
		}
		select {
		case <-s.exited:
			s.proc = nil
			tb.Fatalf("testbed: aiosmtpd exited at start:\n%s", s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop(tb)
			tb.Fatalf("testbed: aiosmtpd does not answer on %s after 15s:\n%s", addr, s.logTail())
		}
	}
}

// greets reports whether an SMTP server answers on addr with a 220 greeting, over TLS when
// tlsConfig is not nil.
func greets(addr string, tlsConfig *tls.Config) bool {
	d := &net.Dialer{Timeout: time.Second}
	var c net.Conn
	var err error
	if tlsConfig != nil {
		c, err = tls.DialWithDialer(d, "tcp", addr, tlsConfig)
	} else {
		c, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "220") {
		return false
	}
	io.WriteString(c, "QUIT\r\n")
	return true
}

// Stop kills the server (the port then refuses connections) and waits for it to exit.
func (s *SMTP) Stop(tb testing.TB) {
	tb.Helper()
	if s.proc == nil {
		return
	}
	syscall.Kill(-s.proc.Process.Pid, syscall.SIGKILL)
	<-s.exited
	s.proc = nil
}

func (s *SMTP) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Messages returns every mail delivered so far, oldest first.
func (s *SMTP) Messages(tb testing.TB) []ReceivedMail {
	tb.Helper()
	type file struct {
		path string
		mod  time.Time
	}
	var files []file
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(s.Maildir, sub))
		if err != nil {
			tb.Fatalf("testbed: read maildir: %v", err)
		}
		for _, e := range entries {
			if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
				files = append(files, file{filepath.Join(s.Maildir, sub, e.Name()), info.ModTime()})
			}
		}
	}
	slices.SortFunc(files, func(a, b file) int {
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return strings.Compare(filepath.Base(a.path), filepath.Base(b.path))
	})
	mails := make([]ReceivedMail, 0, len(files))
	for _, f := range files {
		raw, err := os.ReadFile(f.path)
		if err != nil {
			tb.Fatalf("testbed: read mail: %v", err)
		}
		m, err := parseMail(raw)
		if err != nil {
			tb.Fatalf("testbed: parse mail %s: %v", f.path, err)
		}
		mails = append(mails, m)
	}
	return mails
}

// WaitMessages polls the maildir until it holds at least n mails and returns them all; the test
// fails if that takes longer than within.
func (s *SMTP) WaitMessages(tb testing.TB, n int, within time.Duration) []ReceivedMail {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		mails := s.Messages(tb)
		if len(mails) >= n {
			return mails
		}
		if time.Now().After(deadline) {
			tb.Fatalf("testbed: %d mails delivered after %v, want %d", len(mails), within, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// parseMail decodes one RFC 5322 message: its addresses, subject, text and attachments, with
// base64 and quoted-printable parts decoded, multipart parts walked at any depth.
func parseMail(raw []byte) (ReceivedMail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ReceivedMail{}, err
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return ReceivedMail{}, fmt.Errorf("subject: %w", err)
	}
	m := ReceivedMail{From: bareAddress(msg.Header.Get("From")), To: bareAddress(msg.Header.Get("To")), Subject: subject}
	return m, walkPart(&m, msg.Header, msg.Body)
}

func bareAddress(h string) string {
	if a, err := mail.ParseAddress(h); err == nil {
		return a.Address
	}
	return h
}

// walkPart adds one MIME part (a whole message, or a part of a multipart) to m.
func walkPart(m *ReceivedMail, h interface{ Get(string) string }, body io.Reader) error {
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mediaType, params = "text/plain", nil // RFC 2045's default
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// Raw parts: NextPart would decode quoted-printable itself and hide the header.
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			if err := walkPart(m, p.Header, p); err != nil {
				return err
			}
		}
	}
	switch enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); enc {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // it skips the line breaks
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("%s part: %w", mediaType, err)
	}
	disposition, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if disposition != "attachment" && name == "" && mediaType == "text/plain" {
		if m.Text == "" {
			m.Text = strings.ReplaceAll(string(data), "\r\n", "\n")
		}
		return nil
	}
	var dec mime.WordDecoder
	if decoded, err := dec.DecodeHeader(name); err == nil {
		name = decoded
	}
	m.Attachments = append(m.Attachments, Attachment{Name: name, ContentType: mediaType, Data: data})
	return nil
}

// writeServerCertificate makes a CA and a server certificate for host signed by it (ECDSA P-256,
// valid for a day), writes the CA certificate, the server certificate and its key as PEM, and
// returns a pool holding the CA.
func writeServerCertificate(tb testing.TB, caFile, certFile, keyFile, host string) *x509.CertPool {
	tb.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "switchboard test bed CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP(host)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	for file, block := range map[string]*pem.Block{
		caFile:   {Type: "CERTIFICATE", Bytes: caDER},
		certFile: {Type: "CERTIFICATE", Bytes: der},
		keyFile:  {Type: "PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return roots
}
