package provisioning

// How the Syncer brings a running Asterisk to the database's version: the changed users'
// PJSIP objects pushed over ARI (or, for a large pass, through the files and one reload), and
// the version Asterisk holds remembered.

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/switchboard-pbx/switchboard"
)

// syncAsterisk pushes Asterisk the changes it lacks. It reports whether it pushed anything.
// After a failure the version Asterisk holds is asked again: the failure may be a restart, and
// the Asterisk that answers next started from the files, not from what was pushed before.
func (s *Syncer) syncAsterisk(ctx context.Context) (pushed bool, err error) {
	defer func() {
		if err != nil {
			s.forgetAsterisk()
		}
	}()
	s.mu.Lock()
	held := s.asterisk
	s.mu.Unlock()
	if held < 0 {
		// A new connection: the globals the dialplan needs from the control plane's own
		// configuration (the files only take effect when Asterisk starts), then what it holds.
		for name, value := range s.Globals.vars() {
			if err := s.Asterisk.SetGlobal(ctx, name, value); err != nil {
				return false, err
			}
		}
		v, err := s.Asterisk.ConfigVersion(ctx)
		if err != nil {
			return false, err
		}
		held = v
	}
	c, err := s.changes(ctx, held)
	if err != nil {
		return false, err
	}
	if c.Version == held {
		s.setAsterisk(held)
		return false, nil
	}
	full := held == 0 || c.Version < held
	if full {
		s.count(func(st *SyncStats) { st.FullPush++ })
		s.Logger.Info("pushing every user to Asterisk", "users", len(c.Users), "held", held, "database", c.Version)
	}
	bulk, err := s.isBulk(ctx, c.Users)
	if err != nil {
		return false, err
	}
	if bulk {
		// The files first, so that the reload reads every user of the bulk; the push after it
		// then only updates objects Asterisk knows (and replaces what earlier pushes hold).
		if err := s.WriteFiles(ctx); err != nil {
			return false, fmt.Errorf("write files for a bulk of %d users: %w", len(c.Users), err)
		}
		start := time.Now()
		if err := s.Asterisk.ReloadPJSIP(ctx); err != nil {
			return false, err
		}
		s.count(func(st *SyncStats) { st.Bulk++ })
		s.Logger.Info("bulk of users read by Asterisk from its files", "users", len(c.Users), "reload", time.Since(start))
	}
	if err := s.push(ctx, c); err != nil {
		return false, err
	}
	if err := s.Asterisk.SetConfigVersion(ctx, c.Version); err != nil {
		return false, err
	}
	s.setAsterisk(c.Version)
	s.Logger.Debug("pushed configuration", "users", len(c.Users), "deleted", len(c.Deleted), "version", c.Version)
	return true, nil
}

// isBulk tells whether at least BulkUsers of users are new to Asterisk (it holds no AOR of
// theirs). Users this process pushed are not new; the others are asked about only when there
// are enough of them to make a bulk, so that a pass of changes to known users asks nothing.
func (s *Syncer) isBulk(ctx context.Context, users []switchboard.User) (bool, error) {
	var unknown []string
	s.mu.Lock()
	for _, u := range users {
		if _, ok := s.held[u.Extension]; !ok {
			unknown = append(unknown, u.Extension)
		}
	}
	s.mu.Unlock()
	if len(unknown) < s.BulkUsers {
		return false, nil
	}
	var fresh atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.PushParallel)
	for _, ext := range unknown {
		g.Go(func() error {
			has, err := s.Asterisk.HasAOR(gctx, ext)
			if !has && err == nil {
				fresh.Add(1)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return false, err
	}
	return fresh.Load() >= int64(s.BulkUsers), nil
}

func (s *Syncer) setAsterisk(v int64) {
	s.mu.Lock()
	s.asterisk = v
	s.mu.Unlock()
}

// forgetAsterisk makes the next pass ask Asterisk for its version, and push every object of
// the users it lacks: what this process pushed before may be gone (a restart).
func (s *Syncer) forgetAsterisk() {
	s.mu.Lock()
	s.asterisk = -1
	clear(s.held)
	s.mu.Unlock()
}

// pushable returns those of u's objects Asterisk does not hold as they are, and what to
// remember of them once pushed. The AOR is always handed on: whether it can be replaced
// depends on the phones registered to it, which PushPJSIP checks.
func (s *Syncer) pushable(u switchboard.User) ([]PJSIPObject, [2]uint64) {
	s.mu.Lock()
	held := s.held[u.Extension]
	s.mu.Unlock()
	var objs []PJSIPObject
	var now [2]uint64
	for _, o := range PJSIPObjectsOf(u) {
		i := -1
		switch o.Type {
		case "auth":
			i = 0
		case "endpoint":
			i = 1
		}
		if i >= 0 {
			now[i] = fingerprint(o)
			if now[i] == held[i] {
				continue
			}
		}
		objs = append(objs, o)
	}
	return objs, now
}

func fingerprint(o PJSIPObject) uint64 {
	h := fnv.New64a()
	h.Write([]byte(o.Type + "\x00" + o.ID))
	for _, f := range o.Fields {
		h.Write([]byte("\x00" + f.Name + "=" + f.Value))
	}
	return h.Sum64()
}

// push sends every changed user's objects and a tombstone for every deleted one, several users
// at a time when there are many.
func (s *Syncer) push(ctx context.Context, c switchboard.UserChanges) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.PushParallel)
	for _, u := range c.Users {
		g.Go(func() error {
			objs, now := s.pushable(u)
			if err := s.Asterisk.PushPJSIP(gctx, objs); err != nil {
				return fmt.Errorf("push %s: %w", u.Extension, err)
			}
			s.mu.Lock()
			s.held[u.Extension] = now
			s.stats.Pushed++
			s.mu.Unlock()
			return nil
		})
	}
	for _, ext := range c.Deleted {
		g.Go(func() error {
			s.mu.Lock()
			delete(s.held, ext)
			s.mu.Unlock()
			if err := s.Asterisk.PushPJSIP(gctx, PJSIPTombstone(ext)); err != nil {
				return fmt.Errorf("remove %s: %w", ext, err)
			}
			if err := s.Asterisk.DropRegistrations(gctx, ext); err != nil {
				return fmt.Errorf("drop registrations of %s: %w", ext, err)
			}
			s.count(func(st *SyncStats) { st.Pushed++ })
			return nil
		})
	}
	return g.Wait()
}
