package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard/api"
	"github.com/switchboard-pbx/switchboard/mailer"
)

func TestLoadConfigProfilerOnlyOnLoopback(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://x")
	t.Setenv("ARI_PASSWORD", "secret")
	t.Setenv("SWITCHBOARD_ADMIN_TOKEN", "0123456789abcdef0123")
	for addr, ok := range map[string]bool{
		"":               true, // off
		"127.0.0.1:6060": true,
		"[::1]:6060":     true,
		"localhost:6060": true,
		":6060":          false, // every interface
		"0.0.0.0:6060":   false,
		"10.0.0.5:6060":  false,
		"6060":           false,
	} {
		t.Setenv("SWITCHBOARD_DEBUG_LISTEN", addr)
		c, err := loadConfig()
		if ok && err != nil {
			t.Errorf("%q: %v", addr, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_DEBUG_LISTEN")) {
			t.Errorf("%q: err = %v, want a SWITCHBOARD_DEBUG_LISTEN problem", addr, err)
		}
		if ok && c.DebugListen != addr {
			t.Errorf("%q: DebugListen = %q", addr, c.DebugListen)
		}
	}
}

// setRequired sets the settings every configuration needs and clears the SMTP ones.
func setRequired(t *testing.T) {
	t.Helper()
	t.Setenv("DATABASE_URL", "postgres://x")
	t.Setenv("ARI_PASSWORD", "secret")
	t.Setenv("SWITCHBOARD_ADMIN_TOKEN", "0123456789abcdef0123")
	for _, name := range []string{"SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_TLS", "SMTP_CA_FILE", "SMTP_RETRY_MAX"} {
		t.Setenv(name, "")
	}
}

func TestLoadConfigSMTP(t *testing.T) {
	t.Run("OffWithoutHost", func(t *testing.T) {
		setRequired(t)
		t.Setenv("SMTP_TLS", "bogus") // not read while mail is off
		c, err := loadConfig()
		if err != nil {
			t.Fatal(err)
		}
		if c.SMTP != (mailer.Config{}) || c.SMTPRetryMax != 5*time.Minute {
			t.Errorf("SMTP = %+v, SMTPRetryMax = %v; want mail off and 5m", c.SMTP, c.SMTPRetryMax)
		}
	})
	t.Run("OK", func(t *testing.T) {
		setRequired(t)
		t.Setenv("SMTP_HOST", "smtp.example.com")
		t.Setenv("SMTP_FROM", "voicemail@example.com")
		t.Setenv("SMTP_USERNAME", "pbx")
		t.Setenv("SMTP_PASSWORD", "hunter2hunter2")
		t.Setenv("SMTP_CA_FILE", writeCA(t))
		t.Setenv("SMTP_RETRY_MAX", "90s")
		c, err := loadConfig()
		if err != nil {
			t.Fatal(err)
		}
		want := mailer.Config{Host: "smtp.example.com", Port: 587, Username: "pbx", Password: "hunter2hunter2",
			From: "voicemail@example.com", TLS: mailer.TLSStartTLS, CAFile: os.Getenv("SMTP_CA_FILE")}
		if c.SMTP != want || c.SMTPRetryMax != 90*time.Second {
			t.Errorf("SMTP = %+v, SMTPRetryMax = %v; want %+v, 1m30s", c.SMTP, c.SMTPRetryMax, want)
		}
	})
	t.Run("DefaultPorts", func(t *testing.T) {
		for _, tt := range []struct {
			tls, port string
			want      int
		}{
			{"", "", 587}, // starttls by default
			{"starttls", "", 587},
			{"tls", "", 465},
			{"none", "", 25},
			{"none", "2525", 2525},
			{"tls", "10465", 10465},
		} {
			setRequired(t)
			t.Setenv("SMTP_HOST", "smtp.example.com")
			t.Setenv("SMTP_FROM", "voicemail@example.com")
			t.Setenv("SMTP_TLS", tt.tls)
			t.Setenv("SMTP_PORT", tt.port)
			c, err := loadConfig()
			if err != nil || c.SMTP.Port != tt.want {
				t.Errorf("SMTP_TLS=%q SMTP_PORT=%q: port %d (%v), want %d", tt.tls, tt.port, c.SMTP.Port, err, tt.want)
			}
		}
	})
	t.Run("Problems", func(t *testing.T) {
		for _, tt := range []struct {
			env  map[string]string
			want string
		}{
			{map[string]string{"SMTP_FROM": ""}, "SMTP_FROM"},
			{map[string]string{"SMTP_FROM": "Voicemail <voicemail@example.com>"}, "From"}, // bare addresses only
			{map[string]string{"SMTP_TLS": "ssl"}, "SMTP_TLS"},
			{map[string]string{"SMTP_TLS": "STARTTLS"}, "SMTP_TLS"},
			{map[string]string{"SMTP_PORT": "smtp"}, "SMTP_PORT"},
			{map[string]string{"SMTP_PORT": "0"}, "SMTP_PORT"},
			{map[string]string{"SMTP_PORT": "65536"}, "SMTP_PORT"},
			{map[string]string{"SMTP_RETRY_MAX": "300"}, "SMTP_RETRY_MAX"}, // a duration needs its unit
			{map[string]string{"SMTP_RETRY_MAX": "999ms"}, "SMTP_RETRY_MAX"},
			{map[string]string{"SMTP_RETRY_MAX": "25h"}, "SMTP_RETRY_MAX"},
			{map[string]string{"SMTP_RETRY_MAX": "-5m"}, "SMTP_RETRY_MAX"},
			{map[string]string{"SMTP_CA_FILE": "/nonexistent/ca.pem"}, "CAFile"},
			{map[string]string{"SMTP_USERNAME": "pbx"}, "Password"}, // a login needs both
		} {
			setRequired(t)
			t.Setenv("SMTP_HOST", "smtp.example.com")
			t.Setenv("SMTP_FROM", "voicemail@example.com")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v: err = %v, want a %s problem", tt.env, err, tt.want)
			}
		}
	})
	t.Run("AllProblemsAtOnce", func(t *testing.T) {
		setRequired(t)
		t.Setenv("ARI_PASSWORD", "")
		t.Setenv("SMTP_HOST", "smtp.example.com")
		t.Setenv("SMTP_TLS", "ssl")
		t.Setenv("SMTP_PORT", "x")
		t.Setenv("SMTP_RETRY_MAX", "forever")
		t.Setenv("SMTP_PASSWORD", "hunter2hunter2")
		_, err := loadConfig()
		for _, name := range []string{"ARI_PASSWORD", "SMTP_FROM", "SMTP_TLS", "SMTP_PORT", "SMTP_RETRY_MAX"} {
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("err = %v, want it to name %s", err, name)
			}
		}
		if err != nil && strings.Contains(err.Error(), "hunter2hunter2") {
			t.Errorf("the error shows SMTP_PASSWORD: %v", err)
		}
	})
}

// writeCA writes a self-signed certificate, as a private relay's CA, and returns its path.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// FastAGI listens on loopback unless told otherwise; /metrics is open, behind the token, or on
// a listener of its own.
func TestLoadConfigListeners(t *testing.T) {
	setRequired(t)
	t.Setenv("AGI_LISTEN", "")
	os.Unsetenv("AGI_LISTEN")
	for _, c := range []struct {
		metrics, listen string
		want            api.MetricsAccess
		bad             bool
	}{
		{"", "", api.MetricsOpen, false},
		{"open", "", api.MetricsOpen, false},
		{"token", "", api.MetricsToken, false},
		{"", "127.0.0.1:9100", api.MetricsElsewhere, false},
		{"public", "", "", true},
		{"", "9100", "", true},
	} {
		t.Setenv("SWITCHBOARD_METRICS", c.metrics)
		t.Setenv("SWITCHBOARD_METRICS_LISTEN", c.listen)
		cfg, err := loadConfig()
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_METRICS") {
				t.Errorf("%q/%q: err = %v, want a SWITCHBOARD_METRICS problem", c.metrics, c.listen, err)
			}
			continue
		}
		if err != nil || cfg.Metrics != c.want {
			t.Errorf("%q/%q: %q, %v; want %q", c.metrics, c.listen, cfg.Metrics, err, c.want)
		}
		if cfg.AGIListen != "127.0.0.1:4573" || cfg.AGIURL != "agi://127.0.0.1:4573" {
			t.Errorf("FastAGI by default on %s (%s), want loopback", cfg.AGIListen, cfg.AGIURL)
		}
	}
}
