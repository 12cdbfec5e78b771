package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// reloadCap bounds each module's reload measurement: at 50,000 users res_pjsip takes one to four
// minutes and app_voicemail about a minute, and make bench must stay under 15 minutes. A reload
// cut short is reported as "> cap" and Asterisk is restarted from empty generated files.
func reloadCap(module string) time.Duration {
	if module == provisioning.ModulePJSIP {
		return 120 * time.Second
	}
	return 60 * time.Second
}

// renderAndReload stops switchboard serve, writes the generated files for each population and
// times each module's reload over ARI, then restarts the control plane (scripts/stack up), which
// writes the real users back.
func (b *bench) renderAndReload(ctx context.Context, sizes []int) ([]ReloadPoint, error) {
	ariURL, ariPassword := os.Getenv("ARI_URL"), os.Getenv("ARI_PASSWORD")
	if ariURL == "" || ariPassword == "" {
		return nil, fmt.Errorf("ARI_URL and ARI_PASSWORD are not set (scripts/stack env exports them)")
	}
	sb := switchboardProc()
	if sb.pid == 0 {
		return nil, fmt.Errorf("switchboard serve is not running")
	}
	syscall.Kill(sb.pid, syscall.SIGTERM)
	for i := 0; i < 100 && switchboardProc().pid != 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	dir := filepath.Join(b.etcDir, "switchboard")
	globals := provisioning.DialplanGlobals{App: "switchboard", AGIURL: "agi://127.0.0.1:4573"}
	write := func(users []switchboard.User) error {
		for _, f := range provisioning.RenderConfig(users, globals) {
			if _, err := provisioning.WriteFileAtomic(filepath.Join(dir, f.Name), f.Content); err != nil {
				return err
			}
		}
		return nil
	}
	defer func() {
		// Asterisk holds the largest population now: a restart from empty files is faster than
		// reloading it away. The restarted control plane writes the real users back.
		if err := write(nil); err != nil {
			slog.Error("write empty configuration", "error", err)
		}
		if err := b.restartAsterisk(ctx, ariURL, ariPassword); err != nil {
			slog.Error("restart Asterisk", "error", err)
		}
		out, err := exec.Command("scripts/stack", "up").CombinedOutput()
		if err != nil {
			slog.Error("restart the stack", "error", err, "output", string(out))
		}
		b.quiet(ctx)
	}()
	var points []ReloadPoint
	for _, n := range sizes {
		users := make([]switchboard.User, n)
		for i := range users {
			ext := strconv.Itoa(200000 + i)
			users[i] = switchboard.User{Extension: ext, Name: "Reload " + ext, RingTimeout: 20,
				Voicemail:   switchboard.Mailbox{Enabled: true, PIN: "1234"},
				Credentials: provisioning.NewCredentials(ext, password(ext))}
		}
		start := time.Now()
		if err := write(users); err != nil {
			return nil, err
		}
		p := ReloadPoint{Users: n, RenderSeconds: time.Since(start).Seconds()}
		for _, module := range []string{provisioning.ModulePJSIP, provisioning.ModuleDialplan, provisioning.ModuleVoice} {
			d, err := reloadTimed(ctx, ariURL, ariPassword, module, reloadCap(module))
			secs := d.Seconds()
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				slog.Warn("reload cut short", "module", module, "users", n, "error", err)
				secs = -1
				if err := write(nil); err != nil {
					return nil, err
				}
				if err := b.restartAsterisk(ctx, ariURL, ariPassword); err != nil {
					return nil, err
				}
				if err := write(users); err != nil { // for the modules still to measure
					return nil, err
				}
			}
			switch module {
			case provisioning.ModulePJSIP:
				p.PJSIPSeconds = secs
			case provisioning.ModuleDialplan:
				p.DialplanSeconds = secs
			case provisioning.ModuleVoice:
				p.VoicemailSeconds = secs
			}
		}
		slog.Info("render and reload", "users", n, "render_s", p.RenderSeconds, "pjsip_s", p.PJSIPSeconds,
			"dialplan_s", p.DialplanSeconds, "voicemail_s", p.VoicemailSeconds)
		points = append(points, p)
	}
	return points, nil
}

// reloadTimed reloads a module over ARI and returns how long Asterisk took.
func reloadTimed(ctx context.Context, ariURL, password, module string, limit time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "PUT", strings.TrimSuffix(ariURL, "/")+"/ari/asterisk/modules/"+module, nil)
		req.SetBasicAuth("switchboard", password)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return time.Since(start), err
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusNoContent:
			return time.Since(start), nil
		case http.StatusConflict: // another reload is still running
			time.Sleep(100 * time.Millisecond)
			continue
		}
		return 0, fmt.Errorf("reload %s: HTTP %d", module, resp.StatusCode)
	}
}

// restartAsterisk restarts the stack's Asterisk alone and waits until ARI answers.
func (b *bench) restartAsterisk(ctx context.Context, ariURL, password string) error {
	for _, action := range []string{"stop", "start"} {
		if out, err := exec.CommandContext(ctx, "scripts/asterisk-instance", action, "stack").CombinedOutput(); err != nil {
			return fmt.Errorf("asterisk-instance %s: %v: %s", action, err, out)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", strings.TrimSuffix(ariURL, "/")+"/ari/asterisk/ping", nil)
		req.SetBasicAuth("switchboard", password)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ARI does not answer a minute after restarting Asterisk")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
