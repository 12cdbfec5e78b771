package provisioning_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

// fakeReloader records reloads and can fail or block them.
type fakeReloader struct {
	mu      sync.Mutex
	reloads []string
	fail    error
	block   chan struct{} // when set, reloads wait for it
}

func (r *fakeReloader) ReloadModule(ctx context.Context, module string) error {
	r.mu.Lock()
	block, fail := r.block, r.fail
	r.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if fail != nil {
		return fail
	}
	r.reloads = append(r.reloads, module)
	return nil
}

func (r *fakeReloader) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reloads
	r.reloads = nil
	return out
}

func newApplier(t *testing.T) (*provisioning.Applier, *inmem.UserStore, *fakeReloader) {
	store := inmem.NewUserStore()
	rel := &fakeReloader{}
	a := &provisioning.Applier{Store: store, Reloader: rel, Dir: t.TempDir(), Globals: globals}
	return a, store, rel
}

func addUser(t *testing.T, s switchboard.UserStore, ext, name string) {
	t.Helper()
	_, err := s.CreateUser(context.Background(), switchboard.User{Extension: ext, Name: name, RingTimeout: 20,
		Voicemail: switchboard.Mailbox{Enabled: true, PIN: "1234"}, Credentials: provisioning.NewCredentials(ext, "password-"+ext)})
	if err != nil {
		t.Fatal(err)
	}
}

func TestApplyReloadsOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	a, store, rel := newApplier(t)

	t.Run("FirstPassReloadsEverything", func(t *testing.T) {
		if _, err := a.Apply(ctx); err != nil {
			t.Fatal(err)
		}
		got := rel.take()
		slices.Sort(got)
		if want := []string{"app_voicemail.so", "pbx_config.so", "res_pjsip.so"}; !slices.Equal(got, want) {
			t.Errorf("reloaded %v, want %v", got, want)
		}
		for _, f := range []string{"pjsip.conf", "extensions.conf", "voicemail.conf"} {
			if _, err := os.Stat(filepath.Join(a.Dir, f)); err != nil {
				t.Errorf("%s not written: %v", f, err)
			}
		}
	})
	t.Run("NothingChangedNothingReloaded", func(t *testing.T) {
		info, _ := os.Stat(filepath.Join(a.Dir, "pjsip.conf"))
		if _, err := a.Apply(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rel.take(); len(got) != 0 {
			t.Errorf("reloaded %v with nothing changed", got)
		}
		after, _ := os.Stat(filepath.Join(a.Dir, "pjsip.conf"))
		if !after.ModTime().Equal(info.ModTime()) {
			t.Error("pjsip.conf rewritten although unchanged")
		}
	})
	t.Run("NameChangeTouchesPJSIPAndVoicemail", func(t *testing.T) {
		addUser(t, store, "1001", "Alice")
		a.Apply(ctx)
		rel.take()
		store.UpdateUser(ctx, "1001", func(u *switchboard.User) error { u.Name = "Alice Smith"; return nil })
		if _, err := a.Apply(ctx); err != nil {
			t.Fatal(err)
		}
		got := rel.take()
		slices.Sort(got)
		if want := []string{"app_voicemail.so", "res_pjsip.so"}; !slices.Equal(got, want) {
			t.Errorf("reloaded %v, want %v (the dialplan holds no names)", got, want)
		}
	})
	t.Run("NoTemporaryFilesLeft", func(t *testing.T) {
		entries, _ := os.ReadDir(a.Dir)
		if len(entries) != 3 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("directory holds %v, want only the three files", names)
		}
	})
}

func TestApplyRetriesAFailedReload(t *testing.T) {
	ctx := context.Background()
	a, store, rel := newApplier(t)
	a.Apply(ctx)
	rel.take()
	addUser(t, store, "1001", "Alice")
	rel.fail = errors.New("Asterisk unavailable")
	if _, err := a.Apply(ctx); err == nil {
		t.Fatal("Apply succeeded while every reload failed")
	}
	rel.fail = nil
	// The files are already written, so nothing changes on disk; the owed reloads happen anyway.
	if _, err := a.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	got := rel.take()
	slices.Sort(got)
	if want := []string{"app_voicemail.so", "pbx_config.so", "res_pjsip.so"}; !slices.Equal(got, want) {
		t.Errorf("reloaded %v after recovery, want %v", got, want)
	}
}

func TestRunCoalescesBursts(t *testing.T) {
	a, store, rel := newApplier(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	<-a.Applied() // the initial pass
	rel.take()

	// 1000 changes, each followed by a trigger, while passes run: they coalesce.
	for i := range 1000 {
		addUser(t, store, strconv.Itoa(1000+i), "switchboard.User")
		a.Trigger()
	}
	waitFor(t, func() bool {
		files, _ := os.ReadFile(filepath.Join(a.Dir, "voicemail.conf"))
		return len(files) > 0 && containsLine(string(files), "1999 => 1234,switchboard.User")
	})
	stats := a.Stats()
	if stats.Applies > 100 {
		t.Errorf("%d passes for 1000 changes: bursts are not coalesced", stats.Applies)
	}
	t.Logf("1000 changes: %d passes, %d reloads", stats.Applies, stats.Reloads)
}

func TestRunRecoversWhenAsteriskComesBack(t *testing.T) {
	a, store, rel := newApplier(t)
	rel.fail = errors.New("Asterisk unavailable")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	addUser(t, store, "1001", "Alice")
	a.Trigger()
	waitFor(t, func() bool { return a.Stats().Failures >= 2 })
	rel.mu.Lock()
	rel.fail = nil
	rel.mu.Unlock()
	applied := a.Applied()
	a.ReloadAll() // what the ARI client's OnConnect does
	select {
	case <-applied:
	case <-time.After(30 * time.Second):
		t.Fatal("configuration not applied after Asterisk came back")
	}
	if got := rel.take(); len(got) != 3 {
		t.Errorf("reloaded %v after reconnect, want all three modules", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func containsLine(text, line string) bool {
	return slices.Contains(strings.Split(text, "\n"), line)
}
