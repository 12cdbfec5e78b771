package main

import (
	"strings"
	"testing"
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
