package provisioning_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

// fakeAsterisk holds pushed objects as Asterisk's memory wizard would, and its version.
type fakeAsterisk struct {
	mu         sync.Mutex
	objects    map[string][]provisioning.Field // "type/id"
	pushes     []string                        // endpoint IDs pushed, in order
	pushedObjs []string                        // "type/id" of every object pushed, in order
	dropped    []string                        // AORs whose registrations were dropped
	version    int64
	globals    map[string]string
	down       bool
	reloads    int
}

func newFakeAsterisk() *fakeAsterisk {
	return &fakeAsterisk{objects: map[string][]provisioning.Field{}}
}

func (a *fakeAsterisk) check() error {
	if a.down {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Asterisk down")
	}
	return nil
}

func (a *fakeAsterisk) PushPJSIP(_ context.Context, objs []provisioning.PJSIPObject) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.check(); err != nil {
		return err
	}
	for _, o := range objs {
		a.objects[o.Type+"/"+o.ID] = o.Fields
		a.pushedObjs = append(a.pushedObjs, o.Type+"/"+o.ID)
		if o.Type == "endpoint" {
			a.pushes = append(a.pushes, o.ID)
		}
	}
	return nil
}

func (a *fakeAsterisk) DropRegistrations(_ context.Context, aor string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.check(); err != nil {
		return err
	}
	a.dropped = append(a.dropped, aor)
	return nil
}

func (a *fakeAsterisk) SetGlobal(_ context.Context, name, value string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.check(); err != nil {
		return err
	}
	if a.globals == nil {
		a.globals = map[string]string{}
	}
	a.globals[name] = value
	return nil
}

func (a *fakeAsterisk) ConfigVersion(context.Context) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.version, a.check()
}

func (a *fakeAsterisk) SetConfigVersion(_ context.Context, v int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.check(); err != nil {
		return err
	}
	a.version = v
	return nil
}

// restart forgets what was pushed and holds the version of the files, as a restarted Asterisk.
func (a *fakeAsterisk) restart(filesVersion int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.objects, a.version = map[string][]provisioning.Field{}, filesVersion
}

func (a *fakeAsterisk) takePushes() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.pushes
	a.pushes = nil
	return out
}

func (a *fakeAsterisk) takeObjects() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.pushedObjs
	a.pushedObjs = nil
	return out
}

func (a *fakeAsterisk) field(typ, id, name string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, f := range a.objects[typ+"/"+id] {
		if f.Name == name {
			out = append(out, f.Value)
		}
	}
	return out
}

// fakeRealtime keeps lines by extension.
type fakeRealtime struct {
	mu      sync.Mutex
	lines   map[string]provisioning.Line
	version int64
	full    int
}

func (r *fakeRealtime) Version(context.Context) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.version, nil
}

func (r *fakeRealtime) Apply(_ context.Context, c switchboard.UserChanges, full bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if full || r.lines == nil {
		r.lines = map[string]provisioning.Line{}
		r.full++
	}
	for _, u := range c.Users {
		r.lines[u.Extension] = provisioning.LineOf(u)
	}
	for _, ext := range c.Deleted {
		delete(r.lines, ext)
	}
	r.version = c.Version
	return nil
}

type syncBed struct {
	store    *inmem.UserStore
	asterisk *fakeAsterisk
	realtime *fakeRealtime
	dir      *provisioning.Directory
	syncer   *provisioning.Syncer
}

func newSyncBed(t *testing.T) *syncBed {
	b := &syncBed{store: inmem.NewUserStore(), asterisk: newFakeAsterisk(), realtime: &fakeRealtime{}}
	b.dir = &provisioning.Directory{Store: b.store}
	b.syncer = &provisioning.Syncer{Store: b.store, Asterisk: b.asterisk, Realtime: b.realtime,
		Directory: b.dir, Dir: t.TempDir(), Globals: globals, FileInterval: time.Millisecond}
	return b
}

// run runs the syncer until the test ends (and waits for it to stop before the test's
// directories go).
func (b *syncBed) run(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.syncer.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
}

func (b *syncBed) sync(t *testing.T) {
	t.Helper()
	if _, err := b.syncer.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func addUser(t *testing.T, s switchboard.UserStore, ext, name string) {
	t.Helper()
	_, err := s.CreateUser(context.Background(), switchboard.User{Extension: ext, Name: name, RingTimeout: 20,
		Voicemail: switchboard.Mailbox{Enabled: true, PIN: "1234"}, Credentials: provisioning.NewCredentials(ext, "password-"+ext),
		Calls: switchboard.DefaultCallSettings()})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSyncPushesOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	b := newSyncBed(t)
	for i := range 5 {
		addUser(t, b.store, fmt.Sprint(1001+i), "User")
	}
	// An Asterisk that holds no version gets every user.
	b.sync(t)
	if got := b.asterisk.takePushes(); len(got) != 5 || b.syncer.Stats().FullPush != 1 {
		t.Fatalf("first pass pushed %v (full pushes %d), want all 5 once", got, b.syncer.Stats().FullPush)
	}
	if g := b.asterisk.globals; g["SWITCHBOARD_AGI"] != globals.AGIURL || g["SWITCHBOARD_APP"] != globals.App {
		t.Errorf("globals set in Asterisk: %v", g)
	}
	v := b.asterisk.version
	if v == 0 || b.realtime.version != v {
		t.Fatalf("versions: Asterisk %d, realtime %d", v, b.realtime.version)
	}
	// Nothing changed: nothing pushed.
	b.sync(t)
	if got := b.asterisk.takePushes(); len(got) != 0 {
		t.Errorf("idle pass pushed %v", got)
	}
	// One change: that user only, and no full rewrite of the realtime tables.
	if _, err := b.store.UpdateUser(ctx, "1003", func(u *switchboard.User) error {
		u.Name, u.Calls.DND = "Carol", true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	if got := b.asterisk.takePushes(); !slices.Equal(got, []string{"1003"}) {
		t.Errorf("after one change pushed %v, want [1003]", got)
	}
	if cid := b.asterisk.field("endpoint", "1003", "callerid"); !slices.Equal(cid, []string{`"Carol" <1003>`}) {
		t.Errorf("pushed caller ID %v", cid)
	}
	if l := b.realtime.lines["1003"]; !l.DND || b.realtime.full != 1 {
		t.Errorf("realtime line %+v after %d full writes", l, b.realtime.full)
	}
	if u, err := b.dir.User(ctx, "1003"); err != nil || u.Name != "Carol" {
		t.Errorf("directory: %+v, %v", u, err)
	}
	if b.syncer.Stats().FullPush != 1 {
		t.Errorf("full pushes %d, want 1", b.syncer.Stats().FullPush)
	}
}

func TestSyncTombstonesDeletedUsers(t *testing.T) {
	ctx := context.Background()
	b := newSyncBed(t)
	addUser(t, b.store, "1001", "Alice")
	addUser(t, b.store, "1002", "Bob")
	b.sync(t)
	oldDigests := b.asterisk.field("auth", "1002", "password_digest")
	if err := b.store.DeleteUser(ctx, "1002"); err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	digests := b.asterisk.field("auth", "1002", "password_digest")
	if len(digests) != 2 || slices.Contains(digests, oldDigests[0]) || slices.Contains(digests, oldDigests[1]) {
		t.Errorf("tombstone digests %v (were %v)", digests, oldDigests)
	}
	if mb := b.asterisk.field("endpoint", "1002", "mailboxes"); !slices.Equal(mb, []string{""}) {
		t.Errorf("tombstone mailboxes %v", mb)
	}
	if !slices.Equal(b.asterisk.dropped, []string{"1002"}) {
		t.Errorf("registrations dropped for %v", b.asterisk.dropped)
	}
	if _, ok := b.realtime.lines["1002"]; ok {
		t.Error("the deleted user's line is still in the realtime tables")
	}
	if _, err := b.dir.User(ctx, "1002"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("directory still has 1002: %v", err)
	}
}

// A restarted Asterisk holds what its files held: it is pushed the changes made after the
// files were written, and nothing else.
func TestSyncAfterAsteriskRestart(t *testing.T) {
	b := newSyncBed(t)
	addUser(t, b.store, "1001", "Alice")
	addUser(t, b.store, "1002", "Bob")
	b.run(t)
	extFile := filepath.Join(b.syncer.Dir, provisioning.DialplanFile)
	waitFor(t, func() bool {
		ext, _ := os.ReadFile(extFile)
		return containsLine(string(ext), "SWITCHBOARD_CONFIG_VERSION = 2")
	})
	b.asterisk.takePushes()
	// A change the files do not have yet (no trigger: only the reconnection brings it).
	addUser(t, b.store, "1003", "Carol")
	b.asterisk.restart(2)
	b.syncer.Reconnected()
	waitFor(t, func() bool { return len(b.asterisk.field("endpoint", "1003", "aors")) == 1 })
	if got := b.asterisk.takePushes(); !slices.Equal(got, []string{"1003"}) {
		t.Errorf("after the restart pushed %v, want [1003]", got)
	}
	// The next file pass has 1003 and names its version.
	b.syncer.Trigger()
	waitFor(t, func() bool {
		ext, _ := os.ReadFile(extFile)
		return containsLine(string(ext), "SWITCHBOARD_CONFIG_VERSION = 3")
	})
	pj, err := os.ReadFile(filepath.Join(b.syncer.Dir, provisioning.PJSIPFile))
	if err != nil || !strings.Contains(string(pj), "[1003](switchboard-endpoint)") {
		t.Errorf("pjsip.conf lacks 1003 (%v)", err)
	}
}

// Asterisk restarts under a push, and the push's retry reaches the new Asterisk before the
// event connection is back: the retry must not take the old Asterisk's version for the new
// one's (the new one started from files that predate every user).
func TestSyncRestartFoundByAFailedPush(t *testing.T) {
	ctx := context.Background()
	b := newSyncBed(t)
	addUser(t, b.store, "1001", "Alice")
	b.sync(t)
	b.asterisk.down = true
	addUser(t, b.store, "1002", "Bob")
	if _, err := b.syncer.Sync(ctx); switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
		t.Fatalf("sync with Asterisk down: %v", err)
	}
	b.asterisk.restart(0)
	b.asterisk.down = false
	b.sync(t) // no Reconnected: the retry alone
	for _, ext := range []string{"1001", "1002"} {
		if len(b.asterisk.field("endpoint", ext, "aors")) != 1 {
			t.Errorf("the restarted Asterisk lacks %s", ext)
		}
	}
	if b.asterisk.version != 2 {
		t.Errorf("Asterisk holds version %d, want 2", b.asterisk.version)
	}
}

// An Asterisk that holds a version the database never reached got its configuration from
// another database: it is pushed everything.
func TestSyncAsteriskAheadOfTheDatabase(t *testing.T) {
	b := newSyncBed(t)
	addUser(t, b.store, "1001", "Alice")
	b.asterisk.version = 999
	b.sync(t)
	if got := b.asterisk.takePushes(); !slices.Equal(got, []string{"1001"}) || b.asterisk.version != 1 {
		t.Errorf("pushed %v, version %d", got, b.asterisk.version)
	}
}

// While Asterisk is unreachable the directory and the realtime tables still follow the store,
// and Asterisk gets the changes once it is back.
func TestSyncWhileAsteriskIsDown(t *testing.T) {
	ctx := context.Background()
	b := newSyncBed(t)
	addUser(t, b.store, "1001", "Alice")
	b.sync(t)
	b.asterisk.takePushes()
	b.asterisk.down = true
	addUser(t, b.store, "1002", "Bob")
	if _, err := b.syncer.Sync(ctx); switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
		t.Fatalf("sync with Asterisk down: %v", err)
	}
	if _, ok := b.realtime.lines["1002"]; !ok {
		t.Error("realtime tables do not have 1002")
	}
	if _, err := b.dir.User(ctx, "1002"); err != nil {
		t.Errorf("directory: %v", err)
	}
	b.run(t)
	waitFor(t, func() bool { return b.syncer.Stats().Failures >= 2 })
	b.asterisk.mu.Lock()
	b.asterisk.down = false
	b.asterisk.mu.Unlock()
	b.syncer.Reconnected()
	waitFor(t, func() bool { return len(b.asterisk.field("endpoint", "1002", "aors")) == 1 })
}

// A burst of changes coalesces into few passes.
func TestRunCoalescesBursts(t *testing.T) {
	b := newSyncBed(t)
	synced := b.syncer.Synced()
	b.run(t)
	<-synced
	for i := range 200 {
		addUser(t, b.store, fmt.Sprint(2000+i), "U")
		b.syncer.Trigger()
	}
	// Pushes run in parallel: wait for every user, not the last one created.
	waitFor(t, func() bool {
		for i := range 200 {
			if len(b.asterisk.field("endpoint", fmt.Sprint(2000+i), "aors")) != 1 {
				return false
			}
		}
		return true
	})
	if n := b.syncer.Stats().Syncs; n > 100 {
		t.Errorf("%d passes for 200 triggers: bursts do not coalesce", n)
	}
	if got := len(b.asterisk.takePushes()); got != 200 {
		t.Errorf("%d users pushed, want 200 (each once)", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func containsLine(text, line string) bool {
	return slices.Contains(strings.Split(text, "\n"), line)
}

// A change pushes the objects it changed (and the AOR, which PushPJSIP checks), not all of the
// user's; after Asterisk restarts, what was pushed before is pushed again where its files lack it.
func TestSyncPushesOnlyChangedObjects(t *testing.T) {
	ctx := context.Background()
	b := newSyncBed(t)
	addUser(t, b.store, "1001", "Alice")
	b.sync(t)
	if got := b.asterisk.takeObjects(); !slices.Equal(got, []string{"auth/1001", "aor/1001", "endpoint/1001"}) {
		t.Fatalf("a new user pushed %v", got)
	}
	filesVersion := b.asterisk.version
	update := func(f func(u *switchboard.User)) {
		t.Helper()
		if _, err := b.store.UpdateUser(ctx, "1001", func(u *switchboard.User) error { f(u); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	update(func(u *switchboard.User) { u.Credentials = provisioning.NewCredentials("1001", "a-new-password") })
	b.sync(t)
	if got := b.asterisk.takeObjects(); !slices.Equal(got, []string{"auth/1001", "aor/1001"}) {
		t.Errorf("a password change pushed %v, want the auth (and the AOR)", got)
	}
	update(func(u *switchboard.User) { u.Voicemail.PIN = "9876" }) // realtime only
	b.sync(t)
	if got := b.asterisk.takeObjects(); !slices.Equal(got, []string{"aor/1001"}) {
		t.Errorf("a PIN change pushed %v, want the AOR only", got)
	}
	// Asterisk restarts from files older than the password change; a push fails meanwhile.
	b.asterisk.restart(filesVersion)
	b.asterisk.down = true
	addUser(t, b.store, "1002", "Bob")
	if _, err := b.syncer.Sync(ctx); err == nil {
		t.Fatal("sync with Asterisk down succeeded")
	}
	b.asterisk.down = false
	b.sync(t)
	want := "MD5:" + provisioning.NewCredentials("1001", "a-new-password").MD5
	if got := b.asterisk.field("auth", "1001", "password_digest"); len(got) == 0 || got[0] != want {
		t.Errorf("after the restart 1001's digests are %v, want %s first", got, want)
	}
	if v := b.syncer.Versions(); v.Asterisk != v.Store || v.Realtime != v.Store || v.Directory != v.Store {
		t.Errorf("versions after the pass: %+v", v)
	}
}

// countingStore counts reads of changes.
type countingStore struct {
	*inmem.UserStore
	reads int
}

func (s *countingStore) ChangesSince(ctx context.Context, v int64) (switchboard.UserChanges, error) {
	s.reads++
	return s.UserStore.ChangesSince(ctx, v)
}

// When the directory, the realtime tables and Asterisk are at one version, a pass reads the
// changes once for all of them.
func TestSyncReadsChangesOncePerPass(t *testing.T) {
	b := newSyncBed(t)
	store := &countingStore{UserStore: b.store}
	b.syncer.Store, b.dir.Store = store, store
	addUser(t, b.store, "1001", "Alice")
	b.sync(t)
	addUser(t, b.store, "1002", "Bob")
	store.reads = 0
	b.sync(t)
	if store.reads != 1 {
		t.Errorf("a pass read the changes %d times, want 1", store.reads)
	}
	if len(b.asterisk.field("endpoint", "1002", "aors")) != 1 || b.realtime.lines["1002"].Extension != "1002" {
		t.Error("the change did not reach Asterisk and the realtime tables")
	}
}

func (a *fakeAsterisk) ReloadPJSIP(context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.check(); err != nil {
		return err
	}
	a.reloads++
	return nil
}

// restartSyncerMemory replaces the Syncer by a new one, as after the control plane's restart:
// it knows nothing it pushed.
func (b *syncBed) restartSyncerMemory(t *testing.T) {
	b.syncer = &provisioning.Syncer{Store: b.syncer.Store, Asterisk: b.asterisk, Realtime: b.realtime,
		Directory: b.dir, Dir: b.syncer.Dir, Globals: globals, FileInterval: time.Millisecond, BulkUsers: b.syncer.BulkUsers}
}

func (a *fakeAsterisk) HasAOR(_ context.Context, id string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.objects["aor/"+id]
	return ok, a.check()
}

// A bulk of users reaches Asterisk through its files and one reload, then the push; fewer
// users than BulkUsers never reload anything.
func TestSyncBulkGoesThroughTheFiles(t *testing.T) {
	b := newSyncBed(t)
	b.syncer.BulkUsers = 10
	for i := range 9 {
		addUser(t, b.store, fmt.Sprint(1001+i), "User")
	}
	b.sync(t)
	if b.asterisk.reloads != 0 {
		t.Fatalf("%d reloads for 9 users, want none", b.asterisk.reloads)
	}
	for i := range 12 {
		addUser(t, b.store, fmt.Sprint(2001+i), "Bulk")
	}
	b.sync(t)
	if b.asterisk.reloads != 1 || b.syncer.Stats().Bulk != 1 {
		t.Errorf("%d reloads (%d bulks) for 12 users, want 1", b.asterisk.reloads, b.syncer.Stats().Bulk)
	}
	pj, err := os.ReadFile(filepath.Join(b.syncer.Dir, provisioning.PJSIPFile))
	if err != nil || !strings.Contains(string(pj), "[2012](switchboard-aor)") {
		t.Errorf("the files the reload read lack the bulk (%v)", err)
	}
	if len(b.asterisk.field("endpoint", "2012", "aors")) != 1 {
		t.Error("the bulk was not pushed after the reload")
	}
	addUser(t, b.store, "3001", "One")
	b.sync(t)
	if b.asterisk.reloads != 1 {
		t.Errorf("one user's creation reloaded (%d reloads)", b.asterisk.reloads)
	}
	// Changing as many users as make a bulk, all known to Asterisk, is no bulk.
	for i := range 12 {
		if _, err := b.store.UpdateUser(context.Background(), fmt.Sprint(2001+i), func(u *switchboard.User) error {
			u.Credentials = provisioning.NewCredentials(u.Extension, "changed")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	b.restartSyncerMemory(t)
	b.sync(t)
	if b.asterisk.reloads != 1 {
		t.Errorf("changes to %d known users reloaded (%d reloads)", 12, b.asterisk.reloads)
	}
}
