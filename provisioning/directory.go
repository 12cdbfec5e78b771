package provisioning

import (
	"context"
	"sync"

	"github.com/switchboard-pbx/switchboard"
)

// Directory answers "who is extension X?" for call control from the users of the last
// configuration pass: the same users Asterisk's dialplan routes, kept in memory so that call
// setup does not wait for PostgreSQL and keeps working while it is down. Before the first pass
// it asks the store.
type Directory struct {
	Store switchboard.UserStore

	mu     sync.RWMutex
	users  map[string]switchboard.User
	loaded bool
}

// Update replaces the directory's users (the Applier calls it after every render).
func (d *Directory) Update(users []switchboard.User) {
	m := make(map[string]switchboard.User, len(users))
	for _, u := range users {
		m[u.Extension] = u
	}
	d.mu.Lock()
	d.users, d.loaded = m, true
	d.mu.Unlock()
}

// Changed takes a changed user at once (their call settings route the next call), if the
// directory knows them: a new user waits for the configuration pass that gives Asterisk their
// endpoint.
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
