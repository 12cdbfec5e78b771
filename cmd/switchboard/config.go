package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/switchboard-pbx/switchboard/api"
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
	AGIURL      string
	LogLevel    slog.Level
	LogFormat   string
	DebugListen string // pprof; empty: off
}

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
		AGIListen:   getenv("AGI_LISTEN", ":4573"),
		LogFormat:   getenv("LOG_FORMAT", "json"),
		DebugListen: os.Getenv("SWITCHBOARD_DEBUG_LISTEN"),
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
	if len(problems) > 0 {
		return c, fmt.Errorf("configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
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
