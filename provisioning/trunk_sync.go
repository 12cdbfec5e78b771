package provisioning

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// TrunkSync brings what Asterisk holds of trunks (their PJSIP objects, registrations and
// identifies) up to date with the store, after a trunk changed.
type TrunkSync interface {
	SyncTrunks(ctx context.Context) error
}

// TrunkStatuses tells what a trunk's provider makes of us now (registration, reachability),
// as last seen by the monitor that watches Asterisk.
type TrunkStatuses interface {
	TrunkStatus(name string) switchboard.TrunkStatus
}

// ConfigAsterisk is what trunks need of a running Asterisk: ARI's push configuration of any
// module's objects.
type ConfigAsterisk interface {
	PutObject(ctx context.Context, o ConfigObject) error
	// DeleteObject removes a pushed object; ENOTFOUND when there is none.
	DeleteObject(ctx context.Context, module, typ, id string) error
}

// TrunkSyncer pushes every trunk's objects to the running Asterisk, only those that changed
// since it last pushed them there, and removes the objects of deleted trunks. Trunks live only
// in Asterisk's memory (sorcery's memory wizard, see asterisk/sorcery.conf), never in a file:
// their passwords are in no file at all, and calls through trunks need call control anyway
// (outbound routes, inbound numbers). An Asterisk that restarts is pushed them all again as
// soon as the control plane reconnects (Forget, then SyncTrunks).
//
// Passes are serialised; trunks are few, so each pass reads them all.
type TrunkSyncer struct {
	Store    switchboard.TrunkStore
	Asterisk ConfigAsterisk
	Logger   *slog.Logger

	// OnChange, when set, is called after every pass that succeeded (the monitor looks again).
	OnChange func()

	kickOnce sync.Once
	kick     chan struct{}
	mu       sync.Mutex
	held     map[string]uint64 // object key -> fingerprint of what was pushed
	trunks   map[string]string // trunks pushed to this Asterisk -> the ID of their AOR
}

var _ TrunkSync = (*TrunkSyncer)(nil)

// Reconnected makes the next pass push everything (Asterisk connected, and may have restarted
// and hold nothing) and asks Run for one.
func (s *TrunkSyncer) Reconnected() {
	s.mu.Lock()
	s.held, s.trunks = nil, nil
	s.mu.Unlock()
	s.trigger()
}

func (s *TrunkSyncer) trigger() {
	s.kickOnce.Do(func() { s.kick = make(chan struct{}, 1) })
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run makes a pass on every trigger (Reconnected, a failed SyncTrunks) until ctx ends,
// retrying failed passes with backoff (250 ms doubling to 10 s).
func (s *TrunkSyncer) Run(ctx context.Context) {
	s.kickOnce.Do(func() { s.kick = make(chan struct{}, 1) })
	backoff := time.Duration(0)
	for {
		var retry <-chan time.Time
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		for {
			err := s.sync(ctx)
			if err == nil || ctx.Err() != nil {
				backoff = 0
				break
			}
			backoff = min(max(2*backoff, 250*time.Millisecond), 10*time.Second)
			s.Logger.Warn("sync trunks", "error", err, "retry_in", backoff)
			retry = time.After(backoff)
			select {
			case <-ctx.Done():
				return
			case <-retry:
			case <-s.kick:
			}
		}
	}
}

// SyncTrunks pushes what changed and removes deleted trunks' objects. When it fails, Run
// tries again until it succeeds.
func (s *TrunkSyncer) SyncTrunks(ctx context.Context) error {
	err := s.sync(ctx)
	if err != nil {
		s.trigger()
	}
	return err
}

func (s *TrunkSyncer) sync(ctx context.Context) error {
	err := s.pass(ctx)
	if err == nil && s.OnChange != nil {
		s.OnChange()
	}
	return err
}

func (s *TrunkSyncer) pass(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		s.held, s.trunks = map[string]uint64{}, map[string]string{}
	}
	trunks, err := s.Store.Trunks(ctx)
	if err != nil {
		return err
	}
	current := map[string]bool{}
	for _, t := range trunks {
		current[t.Name] = true
		aor, authChanged := "", false
		for _, o := range TrunkObjects(t) {
			if o.Type == "aor" {
				aor = o.ID
			}
			fp := objectFingerprint(o)
			// A new password is used at once: the registration starts again with it (it would
			// otherwise wait for its next refresh, or retry, with the old one).
			again := authChanged && o.Type == "registration"
			if held, ok := s.held[o.Key()]; ok && held == fp && !again {
				continue
			}
			authChanged = authChanged || o.Type == "auth"
			if o.Replace {
				if err := s.Asterisk.DeleteObject(ctx, o.Module, o.Type, o.ID); err != nil &&
					switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
					return fmt.Errorf("trunk %s: remove %s %s: %w", t.Name, o.Type, o.ID, err)
				}
			}
			if err := s.Asterisk.PutObject(ctx, o); err != nil {
				delete(s.held, o.Key())
				return fmt.Errorf("trunk %s: push %s %s: %w", t.Name, o.Type, o.ID, err)
			}
			s.held[o.Key()] = fp
		}
		old, known := s.trunks[t.Name]
		if !known {
			s.Logger.Info("trunk pushed to Asterisk", "trunk", t.Name)
		}
		if known && old != aor {
			// The provider moved: the endpoint names the new AOR now, the old one goes.
			s.removeAOR(ctx, old)
		}
		s.trunks[t.Name] = aor
	}
	for name, aor := range s.trunks {
		if current[name] {
			continue
		}
		for _, o := range trunkObjectKeys(name) {
			if err := s.Asterisk.DeleteObject(ctx, o.Module, o.Type, o.ID); err != nil &&
				switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
				return fmt.Errorf("trunk %s: remove %s: %w", name, o.Type, err)
			}
			delete(s.held, o.Key())
		}
		s.removeAOR(ctx, aor)
		delete(s.trunks, name)
		s.Logger.Info("trunk removed from Asterisk", "trunk", name)
	}
	return nil
}

// removeAOR removes an AOR no trunk uses any more; failing is only logged (an unused AOR
// costs a qualify now and then until Asterisk restarts).
func (s *TrunkSyncer) removeAOR(ctx context.Context, id string) {
	delete(s.held, ConfigObject{Module: ModulePJSIP, Type: "aor", ID: id}.Key())
	if err := s.Asterisk.DeleteObject(ctx, ModulePJSIP, "aor", id); err != nil && switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		s.Logger.Warn("removing a trunk's old AOR failed", "aor", id, "error", err)
	}
}

func objectFingerprint(o ConfigObject) uint64 {
	h := fnv.New64a()
	h.Write([]byte(o.Key()))
	for _, f := range o.Fields {
		h.Write([]byte("\x00" + f.Name + "=" + f.Value))
	}
	return h.Sum64()
}
