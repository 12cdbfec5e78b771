package main

// What the provisioning phase watches and does on Asterisk's side: its module reloads (counted
// in its log), sorcery's observer queues, and its restarts.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// reloadCounter counts Asterisk's "Reloading module" log lines from the moment it is made, in a
// temporary logger channel of verbose messages.
type reloadCounter struct {
	b    *bench
	file string
	base int
}

func (b *bench) countReloads() (*reloadCounter, error) {
	name := fmt.Sprintf("sbbench-%d.log", os.Getpid())
	r := &reloadCounter{b: b, file: filepath.Join(filepath.Dir(b.cli), "log", name)}
	os.Remove(r.file)
	for _, cmd := range []string{"logger remove channel " + name, "logger add channel " + name + " verbose(3),notice"} {
		out, err := b.asterisk(cmd)
		if err != nil && !strings.HasPrefix(cmd, "logger remove") {
			return nil, fmt.Errorf("asterisk %q: %v: %s", cmd, err, out)
		}
	}
	// Prove the channel records module reloads: reload one no call of the bench uses.
	if _, err := b.asterisk("module reload res_musiconhold.so"); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.lines() == 0 {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("Asterisk's log channel %s does not record module reloads", r.file)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.base = r.lines()
	return r, nil
}

func (r *reloadCounter) lines() int {
	raw, _ := os.ReadFile(r.file)
	return strings.Count(string(raw), "Reloading module")
}

func (r *reloadCounter) count() int { return r.lines() - r.base }

func (r *reloadCounter) stop() {
	r.b.asterisk("logger remove channel " + filepath.Base(r.file))
	os.Remove(r.file)
}

// observerBacklog is how many tasks wait in Asterisk's sorcery observer queues of AORs and
// endpoints.
func (b *bench) observerBacklog() int {
	out, _ := b.asterisk("core show taskprocessors")
	n := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && (strings.HasPrefix(f[0], "sorcery/aor-") || strings.HasPrefix(f[0], "sorcery/endpoint-")) {
			q, _ := strconv.Atoi(f[2])
			n += q
		}
	}
	return n
}

// drainObservers waits (at most ten minutes) until Asterisk's sorcery observer queues are
// empty, and returns how long that took.
func (b *bench) drainObservers() time.Duration {
	start := time.Now()
	for b.observerBacklog() > 0 && time.Since(start) < 10*time.Minute {
		time.Sleep(250 * time.Millisecond)
	}
	return time.Since(start)
}

// startAsteriskAgain restarts the stack's Asterisk and returns the seconds until it is fully
// booted.
func (b *bench) startAsteriskAgain(ctx context.Context) (float64, error) {
	if out, err := exec.CommandContext(ctx, "scripts/asterisk-instance", "stop", "stack").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("stop Asterisk: %v: %s", err, out)
	}
	start := time.Now()
	if out, err := exec.CommandContext(ctx, "scripts/asterisk-instance", "start", "stack").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("start Asterisk: %v: %s", err, out)
	}
	for deadline := start.Add(3 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if out, err := b.asterisk("core waitfullybooted"); err == nil && strings.Contains(out, "fully booted") {
			return time.Since(start).Seconds(), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("Asterisk not fully booted within 3 minutes")
		}
	}
}

// restartAsterisk restarts the stack's Asterisk with every user in place and measures how long
// it takes to boot and until users register again.
func (b *bench) restartAsterisk(ctx context.Context, users int, probe *probe) (RestartResult, error) {
	res := RestartResult{Users: users}
	full0 := b.metric("switchboard_config_full_pushes_total")
	start := time.Now()
	var err error
	if res.BootSeconds, err = b.startAsteriskAgain(ctx); err != nil {
		return res, err
	}
	// A sample across the population, first to last.
	res.Sampled = 20
	stride := max(1, users/res.Sampled)
	for i := range res.Sampled {
		ext := strconv.Itoa(populationBase + users - 1 - i*stride)
		if _, err := probe.untilStatus(ctx, ext, password(ext), 200, start, time.Minute); err != nil {
			res.Failures++
		}
	}
	res.ReadySeconds = time.Since(start).Seconds()
	b.quiet(ctx)
	res.FullPushes = int(b.metric("switchboard_config_full_pushes_total") - full0)
	slog.Info("Asterisk restart", "users", users, "boot_s", res.BootSeconds, "ready_s", res.ReadySeconds, "failures", res.Failures)
	return res, nil
}
