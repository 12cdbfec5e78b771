package provisioning

import (
	"context"
	"sync"

	"github.com/switchboard-pbx/switchboard"
)

// Directory answers "who is extension X?" for call control, from memory: call setup does not
// wait for PostgreSQL and keeps working while it is down. The Syncer keeps it at the store's
// version; before its first pass it asks the store.
type Directory struct {
	Store switchboard.UserStore

	mu     sync.RWMutex
	users  map[string]switchboard.User
	loaded bool
}

// Apply takes changes from the store; with full, the users given are all there are.
func (d *Directory) Apply(c switchboard.UserChanges, full bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if full || d.users == nil {
		d.users = make(map[string]switchboard.User, len(c.Users))
	}
	for _, u := range c.Users {
		d.users[u.Extension] = u
	}
	for _, ext := range c.Deleted {
		delete(d.users, ext)
	}
	d.loaded = true
}

// Changed takes a changed user at once (their call settings route the next call), if the
// directory knows them: a new user waits for the pass that gives Asterisk their endpoint.
func (d *Directory) Changed(u switchboard.User) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.users[u.Extension]; ok {
		d.users[u.Extension] = u
	}
}

// User returns the user with extension ext; ENOTFOUND when there is none.
func (d *Directory) User(ctx context.Context, ext string) (switchboard.User, error) {
	d.mu.RLock()
	u, ok := d.users[ext]
	loaded := d.loaded
	d.mu.RUnlock()
	switch {
	case ok:
		return u, nil
	case loaded:
		return switchboard.User{}, switchboard.Errorf(switchboard.ENOTFOUND, "no user with extension %s", ext)
	}
	return d.Store.User(ctx, ext)
}
