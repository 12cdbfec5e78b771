package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/mailer"
)

// config is everything `switchboard serve` reads from the environment.
type config struct {
	DatabaseURL string
	ARIURL      string
	ARIUsername string
	ARIPassword string
	ARIApp      string
	AdminToken  string
	Listen      string
	ConfigDir   string
	SpoolDir    string // Asterisk's spool: voicemail messages are read from SpoolDir/voicemail
	AGIListen   string
	// Metrics is who may read /metrics on the API's listener (SWITCHBOARD_METRICS: open,
	// token); MetricsListen, when set, serves it on a listener of its own instead.
	Metrics       api.MetricsAccess
	MetricsListen string
	AGIURL        string
	LogLevel      slog.Level
	LogFormat     string
	DebugListen   string // pprof; empty: off
	// The relay voicemail is mailed through; SMTP.Host empty: mail is off. Logger is left to serve.
	SMTP mailer.Config
	// The longest wait between two attempts to send one mail.
	SMTPRetryMax time.Duration
}

// The bounds of SMTP_RETRY_MAX: retrying more often than every second hammers a relay that is
// down, and waits of more than a day deliver a letter long after anyone needs it.
const (
	minSMTPRetryMax = time.Second
	maxSMTPRetryMax = 24 * time.Hour
)

// smtpPorts are the default SMTP_PORT of each SMTP_TLS: submission, submissions, SMTP.
var smtpPorts = map[string]int{mailer.TLSStartTLS: 587, mailer.TLSImplicit: 465, mailer.TLSNone: 25}

func getenv(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// loadConfig reads and checks the environment. Every missing or malformed setting is reported
// at once, so that an operator fixes them in one go.
func loadConfig() (config, error) {
	c := config{
		DatabaseURL: os.Getenv("DATABASE_URL"),
		ARIURL:      getenv("ARI_URL", "http://127.0.0.1:8088"),
		ARIUsername: getenv("ARI_USERNAME", "switchboard"),
		ARIPassword: os.Getenv("ARI_PASSWORD"),
		ARIApp:      getenv("ARI_APP", "switchboard"),
		AdminToken:  os.Getenv("SWITCHBOARD_ADMIN_TOKEN"),
		Listen:      getenv("SWITCHBOARD_LISTEN", ":8080"),
		ConfigDir:   getenv("ASTERISK_CONFIG_DIR", "/etc/asterisk/switchboard"),
		SpoolDir:    getenv("ASTERISK_SPOOL_DIR", "/var/spool/asterisk"),
		// FastAGI runs dialplan helpers for whoever connects: loopback unless told otherwise
		// (compose gives the compose network's address).
		AGIListen:     getenv("AGI_LISTEN", "127.0.0.1:4573"),
		Metrics:       api.MetricsAccess(os.Getenv("SWITCHBOARD_METRICS")),
		MetricsListen: os.Getenv("SWITCHBOARD_METRICS_LISTEN"),
		LogFormat:     getenv("LOG_FORMAT", "json"),
		DebugListen:   os.Getenv("SWITCHBOARD_DEBUG_LISTEN"),
	}
	var problems []string
	if c.DatabaseURL == "" {
		problems = append(problems, "DATABASE_URL is not set")
	}
	if c.ARIPassword == "" {
		problems = append(problems, "ARI_PASSWORD is not set")
	}
	if len(c.AdminToken) < api.MinTokenLength {
		problems = append(problems, fmt.Sprintf("SWITCHBOARD_ADMIN_TOKEN must be set to at least %d characters (e.g. openssl rand -hex 24)", api.MinTokenLength))
	}
	_, agiPort, err := net.SplitHostPort(c.AGIListen)
	if err != nil {
		problems = append(problems, fmt.Sprintf("AGI_LISTEN %q is not host:port", c.AGIListen))
	}
	c.AGIURL = getenv("AGI_URL", "agi://127.0.0.1:"+agiPort)
	if err := c.LogLevel.UnmarshalText([]byte(getenv("LOG_LEVEL", "info"))); err != nil {
		problems = append(problems, "LOG_LEVEL must be debug, info, warn or error")
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		problems = append(problems, "LOG_FORMAT must be json or text")
	}
	if c.DebugListen != "" {
		if host, _, err := net.SplitHostPort(c.DebugListen); err != nil || !isLoopback(host) {
			problems = append(problems, fmt.Sprintf("SWITCHBOARD_DEBUG_LISTEN %q must be a loopback host:port (the profiler has no authentication)", c.DebugListen))
		}
	}
	switch {
	case c.Metrics == "open":
		c.Metrics = api.MetricsOpen
	case c.Metrics != api.MetricsOpen && c.Metrics != api.MetricsToken:
		problems = append(problems, fmt.Sprintf("SWITCHBOARD_METRICS %q must be open or token", string(c.Metrics)))
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			problems = append(problems, fmt.Sprintf("SWITCHBOARD_METRICS_LISTEN %q is not host:port", c.MetricsListen))
		}
		c.Metrics = api.MetricsElsewhere // (its own listener: not on the API's)
	}
	problems = append(problems, c.loadSMTP()...)
	if len(problems) > 0 {
		return c, fmt.Errorf("configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
}

// loadSMTP reads the SMTP_* settings into c and returns their problems. Without SMTP_HOST mail
// is off and the other settings are not read. What the variables' syntax does not settle (a
// bare sender address, a readable CA file) is left to mailer.New, whose message names the
// mailer.Config field (From, CAFile), so that it is reported here with the others.
func (c *config) loadSMTP() []string {
	c.SMTPRetryMax = 5 * time.Minute
	if os.Getenv("SMTP_HOST") == "" {
		return nil
	}
	c.SMTP = mailer.Config{
		Host:     os.Getenv("SMTP_HOST"),
		Username: os.Getenv("SMTP_USERNAME"),
		Password: os.Getenv("SMTP_PASSWORD"),
		From:     os.Getenv("SMTP_FROM"),
		TLS:      getenv("SMTP_TLS", mailer.TLSStartTLS),
		CAFile:   os.Getenv("SMTP_CA_FILE"),
	}
	var problems []string
	if c.SMTP.From == "" {
		problems = append(problems, "SMTP_FROM must be set when SMTP_HOST is (the sender address, e.g. voicemail@example.com)")
	}
	port, ok := smtpPorts[c.SMTP.TLS]
	if !ok {
		problems = append(problems, fmt.Sprintf("SMTP_TLS %q must be starttls, tls or none", c.SMTP.TLS))
	}
	if v := os.Getenv("SMTP_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			problems = append(problems, fmt.Sprintf("SMTP_PORT %q must be a port number (1-65535)", v))
		}
		port = p
	}
	c.SMTP.Port = port
	if v := os.Getenv("SMTP_RETRY_MAX"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < minSMTPRetryMax || d > maxSMTPRetryMax {
			problems = append(problems, fmt.Sprintf("SMTP_RETRY_MAX %q must be a duration from %v to %v (e.g. 5m)", v, minSMTPRetryMax, maxSMTPRetryMax))
		}
		c.SMTPRetryMax = d
	}
	if len(problems) > 0 {
		return problems
	}
	if _, err := mailer.New(c.SMTP); err != nil {
		return []string{switchboard.ErrorMessage(err)} // "mail settings: CAFile: ..."
	}
	return nil
}

func newLogger(c config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
