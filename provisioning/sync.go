package provisioning

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// Asterisk is what configuration needs of a running Asterisk (the ARI client).
type Asterisk interface {
	// PushPJSIP creates or replaces res_pjsip objects, in order, without a reload.
	PushPJSIP(ctx context.Context, objs []PJSIPObject) error
	// DropRegistrations removes the contacts (registered phones) of an AOR.
	DropRegistrations(ctx context.Context, aor string) error
	// ConfigVersion is the version of the configuration Asterisk holds (0: unknown).
	ConfigVersion(ctx context.Context) (int64, error)
	// SetConfigVersion records the version Asterisk holds after a push.
	SetConfigVersion(ctx context.Context, version int64) error
	// SetGlobal sets a dialplan global variable.
	SetGlobal(ctx context.Context, name, value string) error
	// ReloadPJSIP makes res_pjsip read its objects from the generated files again.
	ReloadPJSIP(ctx context.Context) error
	// HasAOR tells whether Asterisk holds an AOR of that name.
	HasAOR(ctx context.Context, id string) (bool, error)
}

// Realtime is the configuration Asterisk reads at the moment it needs it, from a store the
// control plane writes (each user's line in the dial plan and their mailbox): a change is in
// effect once written.
type Realtime interface {
	// Version is the configuration version the tables hold (0 when empty or new).
	Version(ctx context.Context) (int64, error)
	// Apply writes the changes and their version at once; with full, the users given replace
	// all there are.
	Apply(ctx context.Context, c switchboard.UserChanges, full bool) error
}

// SyncStats count what the Syncer did, for metrics and tests.
type SyncStats struct {
	Syncs     int // passes that brought something up to date
	Pushed    int // users pushed to Asterisk (tombstones included)
	FullPush  int // pushes of every user (Asterisk held no version, or another store's)
	Bulk      int // bulks of users brought to Asterisk through its files and one reload
	FileWrite int // generated files written (unchanged ones are not)
	Failures  int // passes that failed (store, realtime tables or Asterisk unreachable)
}

// Versions are the configuration versions the store and each holder of configuration are at.
// Everything is up to date when all equal Store.
type Versions struct {
	Store     int64 // the newest the store had at the last pass
	Directory int64
	Realtime  int64
	Asterisk  int64 // -1: not known (not connected, or to be asked)
	Files     int64 // -1: not written by this process
}

// Syncer keeps everything that holds users' configuration at the store's version, each by
// exactly the changes it lacks (UserChanges):
//
//   - the running Asterisk, by pushes (PJSIP objects; tombstones for deleted users), after
//     which it records the version it holds (SWITCHBOARD_CONFIG_VERSION). It is asked for its
//     version on every connection: after its restart it holds what its files held;
//   - the realtime tables (lines and mailboxes), which hold their own version;
//   - the Directory call control routes by;
//   - the generated files Asterisk starts from, rewritten beside the passes (no change waits
//     for them), at most every FileInterval and never more than a tenth of the time (they
//     carry their version, so that an Asterisk started from older files is pushed the rest).
//
// Only objects that changed are pushed: the Syncer remembers what it pushed to the Asterisk it
// is connected to, and forgets it whenever it asks that Asterisk for its version again.
//
// No step reloads an Asterisk module: the cost of one change does not depend on how many users
// there are. Changes only Trigger it; one goroutine (Run) does the work, and triggers that
// arrive meanwhile coalesce. Failures are retried with backoff.
type Syncer struct {
	Store     switchboard.UserStore
	Asterisk  Asterisk
	Realtime  Realtime
	Directory *Directory
	Dir       string // the generated-config directory (ASTERISK_CONFIG_DIR)
	Globals   DialplanGlobals
	Logger    *slog.Logger
	// FileInterval spaces rewrites of the generated files (default 2 s), which also wait ten
	// times as long as the last rewrite took: rendering every user takes a few hundred
	// milliseconds at 50,000, and uses no more than a tenth of a core however many there are.
	FileInterval time.Duration
	// PushParallel is how many users are pushed at once in a large push (default 8).
	PushParallel int
	// BulkUsers is how many users new to Asterisk in one pass make it a bulk (default 100): the
	// files are written and res_pjsip reloaded before the push. Asterisk's res_pjsip answers every
	// AOR it did not know with a scan of every endpoint (pjsip_options), so that pushing
	// thousands of new users costs it minutes to hours at 10,000 users; one reload makes them
	// all known in one pass. One user's change never reloads anything.
	BulkUsers int
	// OnSync, when set, is called after every pass with its duration and error (metrics).
	OnSync func(d time.Duration, err error)

	once      sync.Once
	filesMu   sync.Mutex // one WriteFiles at a time
	kick      chan struct{}
	reconnect chan struct{}
	filesKick chan struct{}
	mu        sync.Mutex
	stats     SyncStats
	synced    chan struct{} // closed and replaced after every successful pass

	store         int64
	asterisk      int64 // the version Asterisk holds; -1: ask it
	realtime      int64 // the version the realtime tables hold; -1: read it from them
	files         int64 // the version of the generated files; -1: not written by this process
	directoryAt   int64
	directoryFull bool
	// held are fingerprints of each user's auth and endpoint as pushed to the Asterisk at
	// version asterisk (see pushable).
	held map[string][2]uint64
	// pass holds the changes read during one pass, by the version they were read after: the
	// holders are usually at one version, and one read serves them all. Only Sync uses it.
	pass map[int64]switchboard.UserChanges
}

func (s *Syncer) init() {
	s.once.Do(func() {
		s.kick = make(chan struct{}, 1)
		s.reconnect = make(chan struct{}, 1)
		s.filesKick = make(chan struct{}, 1)
		s.held = map[string][2]uint64{}
		s.synced = make(chan struct{})
		s.asterisk, s.files, s.realtime = -1, -1, -1
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
		if s.FileInterval == 0 {
			s.FileInterval = 2 * time.Second
		}
		if s.PushParallel == 0 {
			s.PushParallel = 8
		}
		if s.BulkUsers == 0 {
			s.BulkUsers = 100
		}
	})
}

// Trigger asks for a pass. It never blocks; triggers coalesce.
func (s *Syncer) Trigger() {
	s.init()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Reconnected tells the Syncer that the event connection to Asterisk is (re)established: the
// Asterisk it reaches may have restarted, or be another one, and is asked for its version.
func (s *Syncer) Reconnected() {
	s.init()
	select {
	case s.reconnect <- struct{}{}:
	default:
	}
}

// Stats returns counters of what the Syncer has done.
func (s *Syncer) Stats() SyncStats {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Versions returns the versions the store and each holder of configuration are at.
func (s *Syncer) Versions() Versions {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return Versions{Store: s.store, Directory: s.directoryAt, Realtime: s.realtime, Asterisk: s.asterisk, Files: s.files}
}

// Synced returns a channel that is closed after the next successful pass.
func (s *Syncer) Synced() <-chan struct{} {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced
}

// Run syncs on every trigger until ctx ends, starting with a pass. A failed pass is retried
// with backoff (250 ms doubling to 10 s), or at once when Asterisk reconnects. The generated
// files are written by a goroutine of their own.
func (s *Syncer) Run(ctx context.Context) {
	s.init()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { s.writeFilesLoop(ctx) })
	backoff := time.Duration(0)
	for {
		start := time.Now()
		filesOwed, err := s.Sync(ctx)
		if s.OnSync != nil {
			s.OnSync(time.Since(start), err)
		}
		var retry <-chan time.Time
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 250*time.Millisecond), 10*time.Second)
			retry = time.After(backoff)
			s.Logger.Warn("sync configuration", "error", err, "retry_in", backoff)
		} else {
			backoff = 0
		}
		if filesOwed {
			signal(s.filesKick)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-s.reconnect:
			s.forgetAsterisk()
		case <-retry:
		}
	}
}

// writeFilesLoop writes the generated files when a pass finds them behind, spaced by
// FileInterval and by ten times the last write's duration.
func (s *Syncer) writeFilesLoop(ctx context.Context) {
	var last time.Time
	var took time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.filesKick:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(last.Add(max(s.FileInterval, 10*took)))):
		}
		start := time.Now()
		err := s.WriteFiles(ctx)
		last, took = time.Now(), time.Since(start)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.count(func(st *SyncStats) { st.Failures++ })
			s.Logger.Warn("write generated configuration", "error", err)
			signal(s.filesKick) // again after the interval
		}
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Sync brings the directory, the realtime tables and Asterisk to the store's version. It
// reports whether the generated files are now behind.
func (s *Syncer) Sync(ctx context.Context) (filesOwed bool, err error) {
	s.init()
	s.pass = map[int64]switchboard.UserChanges{}
	defer func() { s.pass = nil }()
	changed := false
	fail := func(err error) (bool, error) {
		s.count(func(st *SyncStats) { st.Failures++ })
		return changed || s.files < 0, err
	}
	// The directory first: call control routes by it, and it needs nothing but the store.
	c, err := s.changes(ctx, s.directoryAt)
	if err != nil {
		return fail(err)
	}
	if s.Directory != nil && (c.Version != s.directoryAt || !s.directoryFull) {
		s.Directory.Apply(c, !s.directoryFull)
		s.directoryAt, s.directoryFull = c.Version, true
		changed = true
	}
	if err := s.syncRealtime(ctx); err != nil {
		return fail(fmt.Errorf("realtime tables: %w", err))
	}
	pushed, err := s.syncAsterisk(ctx)
	if err != nil {
		return fail(fmt.Errorf("asterisk: %w", err))
	}
	s.mu.Lock()
	if changed || pushed {
		s.stats.Syncs++
	}
	close(s.synced)
	s.synced = make(chan struct{})
	owed := s.files != c.Version
	s.mu.Unlock()
	return owed, nil
}

// changes returns what changed after version, or everything when the store is behind it (the
// holder of version got it from another store).
func (s *Syncer) changes(ctx context.Context, version int64) (switchboard.UserChanges, error) {
	if c, ok := s.pass[version]; ok {
		return c, nil
	}
	c, err := s.changesSince(ctx, version)
	if err == nil {
		s.pass[version] = c
	}
	return c, err
}

func (s *Syncer) changesSince(ctx context.Context, version int64) (switchboard.UserChanges, error) {
	c, err := s.Store.ChangesSince(ctx, version)
	if err == nil {
		s.mu.Lock()
		s.store = max(s.store, c.Version)
		s.mu.Unlock()
	}
	if err != nil || c.Version >= version {
		return c, err
	}
	s.Logger.Warn("configuration is ahead of the database (restored or replaced?): rebuilding it",
		"held", version, "database", c.Version)
	return s.Store.ChangesSince(ctx, 0)
}

func (s *Syncer) syncRealtime(ctx context.Context) error {
	if s.Realtime == nil {
		return nil
	}
	// The tables are read for their version once; after that this process is their only
	// writer and knows it (reading it took a tenth of the control plane's CPU at 100 changes
	// a second).
	s.mu.Lock()
	held := s.realtime
	s.mu.Unlock()
	if held < 0 {
		v, err := s.Realtime.Version(ctx)
		if err != nil {
			return err
		}
		held = v
	}
	c, err := s.changes(ctx, held)
	if err != nil {
		return err
	}
	if c.Version != held || held == 0 {
		if err := s.Realtime.Apply(ctx, c, held == 0 || c.Version < held); err != nil {
			s.mu.Lock()
			s.realtime = -1 // unknown: the transaction may or may not have committed
			s.mu.Unlock()
			return err
		}
	}
	s.mu.Lock()
	s.realtime = c.Version
	s.mu.Unlock()
	return nil
}

// WriteFiles renders every user into the generated files and writes those whose content
// changed: pjsip.conf first and extensions.conf, which names the version, last, so that an
// Asterisk starting in between holds no version newer than its users.
func (s *Syncer) WriteFiles(ctx context.Context) error {
	s.init()
	s.filesMu.Lock()
	defer s.filesMu.Unlock()
	c, err := s.Store.ChangesSince(ctx, 0)
	if err != nil {
		return err
	}
	writes := 0
	for _, f := range RenderConfig(c.Users, s.Globals, c.Version) {
		changed, err := WriteFileAtomic(filepath.Join(s.Dir, f.Name), f.Content)
		if err != nil {
			return err
		}
		if changed {
			writes++
		}
	}
	// Mailboxes used to be generated into voicemail.conf; they are realtime now.
	if err := os.Remove(filepath.Join(s.Dir, legacyVoicemailFile)); err != nil && !os.IsNotExist(err) {
		return err
	}
	s.mu.Lock()
	s.files = c.Version
	s.stats.FileWrite += writes
	s.mu.Unlock()
	if writes > 0 {
		s.Logger.Info("generated configuration written", "users", len(c.Users), "files_written", writes, "version", c.Version)
	}
	return nil
}

func (s *Syncer) count(f func(*SyncStats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}
