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

	"github.com/switchboard-pbx/switchboard/provisioning"
)

// voicemailCap bounds the app_voicemail reload measurement: at 50,000 mailboxes it takes minutes.
const voicemailCap = 60 * time.Second

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
	defer func() {
		out, err := exec.Command("scripts/stack", "up").CombinedOutput()
		if err != nil {
			slog.Error("restart the stack", "error", err, "output", string(out))
		}
		b.quiet(ctx) // the restarted control plane writes the real users back and reloads
	}()
	dir := filepath.Join(b.etcDir, "switchboard")
	var points []ReloadPoint
	for _, n := range sizes {
		users := make([]provisioning.User, n)
		for i := range users {
			ext := strconv.Itoa(200000 + i)
			users[i] = provisioning.User{Extension: ext, Name: "Reload " + ext, RingTimeout: 20,
				Voicemail:   provisioning.Voicemail{Enabled: true, PIN: "1234"},
				Credentials: provisioning.NewCredentials(ext, password(ext))}
		}
		start := time.Now()
		files := provisioning.RenderConfig(users, provisioning.DialplanGlobals{App: "switchboard", AGIURL: "agi://127.0.0.1:4573"})
		for _, f := range files {
			if _, err := provisioning.WriteFileAtomic(filepath.Join(dir, f.Name), f.Content); err != nil {
				return nil, err
			}
		}
		p := ReloadPoint{Users: n, RenderSeconds: time.Since(start).Seconds()}
		for _, f := range files {
			limit := 5 * time.Minute
			if f.Module == provisioning.ModuleVoice {
				limit = voicemailCap
			}
			d, err := reloadTimed(ctx, ariURL, ariPassword, f.Module, limit)
			switch f.Module {
			case provisioning.ModulePJSIP:
				p.PJSIPSeconds = d.Seconds()
			case provisioning.ModuleDialplan:
				p.DialplanSeconds = d.Seconds()
			case provisioning.ModuleVoice:
				p.VoicemailSeconds = d.Seconds()
				if err != nil {
					p.VoicemailSeconds = -1
					err = nil
					b.waitReloadDone(ctx, ariURL, ariPassword)
				}
			}
			if err != nil {
				return nil, err
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

// waitReloadDone waits until Asterisk accepts reloads again (a capped reload keeps running).
func (b *bench) waitReloadDone(ctx context.Context, ariURL, password string) {
	reloadTimed(ctx, ariURL, password, "res_musiconhold.so", 10*time.Minute)
}
