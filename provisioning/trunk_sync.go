package provisioning

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"

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

	mu     sync.Mutex
	held   map[string]uint64 // object key -> fingerprint of what was pushed
	trunks map[string]string // trunks pushed to this Asterisk -> the ID of their AOR
}

var _ TrunkSync = (*TrunkSyncer)(nil)

// Forget makes the next pass push everything: Asterisk (re)connected and may hold nothing.
func (s *TrunkSyncer) Forget() {
	s.mu.Lock()
	s.held, s.trunks = nil, nil
	s.mu.Unlock()
}

// SyncTrunks pushes what changed and removes deleted trunks' objects.
func (s *TrunkSyncer) SyncTrunks(ctx context.Context) error {
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
		aor := ""
		for _, o := range TrunkObjects(t) {
			if o.Type == "aor" {
				aor = o.ID
			}
			fp := objectFingerprint(o)
			if held, ok := s.held[o.Key()]; ok && held == fp {
				continue
			}
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
