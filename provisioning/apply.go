package provisioning

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// Reloader reloads one Asterisk module so that it re-reads its configuration. Implementations
// retry by themselves while Asterisk reports a reload already in progress.
type Reloader interface {
	ReloadModule(ctx context.Context, module string) error
}

// ApplyStats count what the Applier did, for metrics and tests.
type ApplyStats struct {
	Applies  int // configuration renders
	Writes   int // files written (unchanged files are not)
	Reloads  int // successful module reloads
	Failures int // failed applies (store or Asterisk unreachable)
}

// Applier keeps Asterisk's generated configuration equal to what the store holds. Changes only
// Trigger it; a single goroutine (Run) renders all users, writes the files that changed
// (atomically: temp file + rename) and reloads only the modules whose files changed. Triggers
// that arrive while it works coalesce into one more pass, so a burst of 1000 creates costs a
// handful of reloads, not 1000. Failures are retried with backoff; a reload that could not be
// done is remembered and done on the next pass even if the files no longer change.
type Applier struct {
	Store    switchboard.UserStore
	Reloader Reloader
	Dir      string // the generated-config directory (ASTERISK_CONFIG_DIR)
	Globals  DialplanGlobals
	Logger   *slog.Logger
	// MinInterval spaces passes so that bursts coalesce (default 50 ms).
	MinInterval time.Duration
	// OnApply, when set, is called after every pass with its duration and error (metrics).
	OnApply func(d time.Duration, reloaded []string, err error)
	// Directory, when set, is updated with the users of every rendered pass.
	Directory *Directory

	once    sync.Once
	kick    chan struct{}
	urgent  chan struct{} // ends a backoff wait early
	mu      sync.Mutex
	pending map[string]bool // modules whose reload is owed to Asterisk
	stats   ApplyStats
	applied chan struct{} // closed and replaced after every successful pass
}

func (a *Applier) init() {
	a.once.Do(func() {
		a.kick = make(chan struct{}, 1)
		a.urgent = make(chan struct{}, 1)
		a.applied = make(chan struct{})
		// Asterisk may hold an older version of files we wrote before a restart of ours:
		// the first pass reloads every module once.
		a.pending = map[string]bool{ModulePJSIP: true, ModuleDialplan: true, ModuleVoice: true}
		if a.Logger == nil {
			a.Logger = slog.New(slog.DiscardHandler)
		}
		if a.MinInterval == 0 {
			a.MinInterval = 50 * time.Millisecond
		}
	})
}

// Trigger asks for a pass. It never blocks; triggers coalesce.
func (a *Applier) Trigger() {
	a.init()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// ReloadAll marks every module as owing a reload and triggers a pass; used when Asterisk
// (re)connects, since it may have missed reloads while it was away.
func (a *Applier) ReloadAll() {
	a.init()
	a.mu.Lock()
	for _, m := range []string{ModulePJSIP, ModuleDialplan, ModuleVoice} {
		a.pending[m] = true
	}
	a.mu.Unlock()
	a.Trigger()
	select {
	case a.urgent <- struct{}{}:
	default:
	}
}

// Stats returns counters of what the Applier has done.
func (a *Applier) Stats() ApplyStats {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// Applied returns a channel that is closed after the next successful pass.
func (a *Applier) Applied() <-chan struct{} {
	a.init()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.applied
}

// Run applies on every trigger until ctx ends. It starts with a pass. A failed pass is retried
// with backoff (250 ms doubling to 10 s) or at once when ReloadAll reports Asterisk is back.
func (a *Applier) Run(ctx context.Context) {
	a.init()
	owed := true
	backoff := time.Duration(0)
	for {
		if !owed {
			select {
			case <-ctx.Done():
				return
			case <-a.kick:
			}
		}
		// Drain a trigger that arrived before this pass: the pass covers it.
		select {
		case <-a.kick:
		default:
		}
		start := time.Now()
		reloaded, err := a.Apply(ctx)
		if a.OnApply != nil {
			a.OnApply(time.Since(start), reloaded, err)
		}
		wait := a.MinInterval
		owed = err != nil
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 250*time.Millisecond), 10*time.Second)
			wait = backoff
			a.Logger.Warn("apply configuration", "error", err, "retry_in", backoff)
		} else {
			backoff = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-a.urgent:
		case <-time.After(wait):
		}
	}
}

// Apply renders every user, writes the files whose content changed and reloads the modules
// that read them (and any reload still owed). It returns the modules it reloaded.
func (a *Applier) Apply(ctx context.Context) ([]string, error) {
	a.init()
	users, err := a.Store.AllUsers(ctx)
	if err != nil {
		a.count(func(s *ApplyStats) { s.Failures++ })
		return nil, fmt.Errorf("load users: %w", err)
	}
	files := RenderConfig(users, a.Globals)
	if a.Directory != nil {
		a.Directory.Update(users)
	}
	writes := 0
	for _, f := range files {
		changed, err := WriteFileAtomic(filepath.Join(a.Dir, f.Name), f.Content)
		if err != nil {
			a.count(func(s *ApplyStats) { s.Failures++ })
			return nil, err
		}
		if changed {
			writes++
			a.mu.Lock()
			a.pending[f.Module] = true
			a.mu.Unlock()
		}
	}
	var reloaded []string
	for _, f := range files {
		a.mu.Lock()
		owed := a.pending[f.Module]
		a.mu.Unlock()
		if !owed {
			continue
		}
		if err := a.Reloader.ReloadModule(ctx, f.Module); err != nil {
			a.count(func(s *ApplyStats) { s.Failures++; s.Writes += writes; s.Applies++ })
			return reloaded, fmt.Errorf("reload %s: %w", f.Module, err)
		}
		a.mu.Lock()
		delete(a.pending, f.Module)
		a.mu.Unlock()
		reloaded = append(reloaded, f.Module)
	}
	a.mu.Lock()
	a.stats.Applies++
	a.stats.Writes += writes
	a.stats.Reloads += len(reloaded)
	close(a.applied)
	a.applied = make(chan struct{})
	a.mu.Unlock()
	if len(reloaded) > 0 {
		a.Logger.Info("configuration applied", "users", len(users), "files_written", writes, "reloaded", reloaded)
	}
	return reloaded, nil
}

func (a *Applier) count(f func(*ApplyStats)) {
	a.mu.Lock()
	f(&a.stats)
	a.mu.Unlock()
}

// WriteFileAtomic replaces path with content unless it already holds exactly that content.
// Readers (Asterisk) see either the old or the new file, never a partial one: the content goes
// to a temporary file in the same directory, is synced, and is renamed over path.
func WriteFileAtomic(path string, content []byte) (changed bool, err error) {
	old, err := os.ReadFile(path)
	if err == nil && bytes.Equal(old, content) {
		return false, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("rename %s: %w", path, err)
	}
	return true, nil
}
