// Package inmem is an in-memory switchboard.UserStore, RoomStore, GroupStore, QueueStore,
// TrunkStore, RouteStore and InboundNumberStore for unit tests of the layers above the store
// (API, configuration applier), and an in-memory switchboard.RoomControl and QueueControl
// standing in for call control. The stores behave like the PostgreSQL ones: same ordering, same
// error codes, one plan of numbers for users, rooms, groups and queues, whose members and
// agents are users, and routes whose trunks and users must exist (see trunks.go). They can be
// told to fail, as an unreachable database would.
package inmem

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
)

// UserStore keeps users in a map.
type UserStore struct {
	mu       sync.Mutex
	users    map[string]switchboard.User
	versions map[string]int64 // of users and of deleted extensions, as the PostgreSQL store's
	deleted  map[string]bool
	version  int64
	down     bool
	rooms    *RoomStore  // the rooms sharing the plan of numbers, if any
	groups   *GroupStore // the groups sharing the plan of numbers, if any
	queues   *QueueStore // the queues sharing the plan of numbers, if any
	routes   *RouteStore // the outbound routes naming users, if any
}

var _ switchboard.UserStore = (*UserStore)(nil)

// NewUserStore returns an empty store.
func NewUserStore() *UserStore {
	return &UserStore{users: map[string]switchboard.User{}, versions: map[string]int64{}, deleted: map[string]bool{}}
}

// changed gives ext the next configuration version.
func (s *UserStore) changed(ext string, deleted bool) {
	s.version++
	s.versions[ext] = s.version
	if deleted {
		s.deleted[ext] = true
	} else {
		delete(s.deleted, ext)
	}
}

// SetDown makes every call fail with EUNAVAILABLE (true) or work again (false).
func (s *UserStore) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func (s *UserStore) check() error {
	if s.down {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "database unavailable")
	}
	return nil
}

// CreateUser stores a new user.
func (s *UserStore) CreateUser(_ context.Context, u switchboard.User) (switchboard.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return switchboard.User{}, err
	}
	if _, ok := s.users[u.Extension]; ok {
		return switchboard.User{}, switchboard.Errorf(switchboard.ECONFLICT, "extension %s already exists", u.Extension)
	}
	if holder := s.numberHolder(u.Extension); holder != "" {
		return switchboard.User{}, switchboard.Errorf(switchboard.ECONFLICT, "number %s is in use by a %s", u.Extension, holder)
	}
	u.CreatedAt = time.Now().UTC()
	u.UpdatedAt = u.CreatedAt
	s.users[u.Extension] = u
	s.changed(u.Extension, false)
	return u, nil
}

// User returns one user.
func (s *UserStore) User(_ context.Context, ext string) (switchboard.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return switchboard.User{}, err
	}
	u, ok := s.users[ext]
	if !ok {
		return switchboard.User{}, switchboard.Errorf(switchboard.ENOTFOUND, "no user with extension %s", ext)
	}
	return u, nil
}

// sorted returns every user in the order of their extensions.
func (s *UserStore) sorted() []switchboard.User {
	return inNumberOrder(s.users)
}

// Users returns a page of users.
func (s *UserStore) Users(_ context.Context, after string, limit int) (switchboard.UserPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return switchboard.UserPage{}, err
	}
	var page switchboard.UserPage
	for _, u := range s.sorted() {
		if after != "" && !provisioning.Less(after, u.Extension) {
			continue
		}
		if len(page.Users) == limit {
			page.Next = page.Users[limit-1].Extension
			break
		}
		page.Users = append(page.Users, u)
	}
	return page, nil
}

// AllUsers returns every user in order.
func (s *UserStore) AllUsers(context.Context) ([]switchboard.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.sorted(), nil
}

// UpdateUser applies change atomically.
func (s *UserStore) UpdateUser(_ context.Context, ext string, change func(*switchboard.User) error) (switchboard.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return switchboard.User{}, err
	}
	u, ok := s.users[ext]
	if !ok {
		return switchboard.User{}, switchboard.Errorf(switchboard.ENOTFOUND, "no user with extension %s", ext)
	}
	if err := change(&u); err != nil {
		return switchboard.User{}, err
	}
	u.UpdatedAt = time.Now().UTC()
	s.users[ext] = u
	s.changed(ext, false)
	return u, nil
}

// DeleteUser removes a user, and takes them out of every group, every queue and every route.
func (s *UserStore) DeleteUser(_ context.Context, ext string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	if _, ok := s.users[ext]; !ok {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no user with extension %s", ext)
	}
	delete(s.users, ext)
	s.groups.dropMember(ext)
	s.queues.dropAgent(ext)
	s.routes.dropUser(ext)
	s.changed(ext, true)
	return nil
}

// ChangesSince returns the users and deletions with a version after version.
func (s *UserStore) ChangesSince(_ context.Context, version int64) (switchboard.UserChanges, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return switchboard.UserChanges{}, err
	}
	c := switchboard.UserChanges{Version: s.version}
	for _, u := range s.sorted() {
		if s.versions[u.Extension] > version {
			c.Users = append(c.Users, u)
		}
	}
	for ext := range s.deleted {
		if s.versions[ext] > version {
			c.Deleted = append(c.Deleted, ext)
		}
	}
	slices.Sort(c.Deleted)
	return c, nil
}
