package inmem

import (
	"context"
	"slices"
	"time"

	"github.com/switchboard-pbx/switchboard"
)

// GroupStore keeps ring groups in a map, in the plan of numbers of a UserStore (and of the
// RoomStore and QueueStore sharing it): no two of a user, a room, a group and a queue have one
// number, as in PostgreSQL. Members must be users of that store, and a deleted user leaves
// every group. It shares the user store's lock (so that a claim of a number is one step) and
// its SetDown.
type GroupStore struct {
	users  *UserStore
	groups map[string]switchboard.Group
}

var (
	_ switchboard.GroupStore     = (*GroupStore)(nil)
	_ switchboard.GroupDirectory = (*GroupStore)(nil)
)

// NewGroupStore returns an empty group store sharing its numbers with users (and their
// rooms); with users nil it shares them with an empty user store of its own.
func NewGroupStore(users *UserStore) *GroupStore {
	if users == nil {
		users = NewUserStore()
	}
	s := &GroupStore{users: users, groups: map[string]switchboard.Group{}}
	users.mu.Lock()
	users.groups = s
	users.mu.Unlock()
	return s
}

// numbers returns the groups by number; nil for a user store without groups. The caller holds
// the user store's lock.
func (s *GroupStore) numbers() map[string]switchboard.Group {
	if s == nil {
		return nil
	}
	return s.groups
}

// dropMember takes ext out of every group, as deleting their user does in PostgreSQL. The
// caller holds the user store's lock.
func (s *GroupStore) dropMember(ext string) {
	if s == nil {
		return
	}
	for number, g := range s.groups {
		if i := slices.Index(g.Members, ext); i >= 0 {
			g.Members = slices.Delete(slices.Clone(g.Members), i, i+1)
			if len(g.Members) == 0 {
				g.Members = nil
			}
			s.groups[number] = g
		}
	}
}

// checkMembers refuses a member who is not a user, as the foreign key does in PostgreSQL. The
// caller holds the user store's lock.
func (s *GroupStore) checkMembers(members []string) error {
	for _, ext := range members {
		if _, ok := s.users.users[ext]; !ok {
			return switchboard.Errorf(switchboard.EINVALID, "member %s is not a user", ext)
		}
	}
	return nil
}

// CreateGroup stores a new group.
func (s *GroupStore) CreateGroup(_ context.Context, g switchboard.Group) (switchboard.Group, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return switchboard.Group{}, err
	}
	if s.users.numberHolder(g.Number) != "" {
		return switchboard.Group{}, switchboard.Errorf(switchboard.ECONFLICT, "number %s is in use", g.Number)
	}
	if err := s.checkMembers(g.Members); err != nil {
		return switchboard.Group{}, err
	}
	g.Members = slices.Clone(g.Members)
	g.CreatedAt = time.Now().UTC()
	g.UpdatedAt = g.CreatedAt
	s.groups[g.Number] = g
	return cloneGroup(g), nil
}

// cloneGroup returns a group whose members the caller may change without changing the store's.
func cloneGroup(g switchboard.Group) switchboard.Group {
	g.Members = slices.Clone(g.Members)
	return g
}

// Group returns one group.
func (s *GroupStore) Group(_ context.Context, number string) (switchboard.Group, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return switchboard.Group{}, err
	}
	g, err := lookupNumber(s.groups, "group", number)
	if err != nil {
		return switchboard.Group{}, err
	}
	return cloneGroup(g), nil
}

// Groups returns every group, shorter numbers first.
func (s *GroupStore) Groups(context.Context) ([]switchboard.Group, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return nil, err
	}
	all := inNumberOrder(s.groups)
	for i, g := range all {
		all[i] = cloneGroup(g)
	}
	return all, nil
}

// UpdateGroup applies change atomically; a change of the number is ignored, as in PostgreSQL.
func (s *GroupStore) UpdateGroup(_ context.Context, number string, change func(*switchboard.Group) error) (switchboard.Group, error) {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return switchboard.Group{}, err
	}
	g, err := lookupNumber(s.groups, "group", number)
	if err != nil {
		return switchboard.Group{}, err
	}
	g = cloneGroup(g)
	if err := change(&g); err != nil {
		return switchboard.Group{}, err
	}
	if err := s.checkMembers(g.Members); err != nil {
		return switchboard.Group{}, err
	}
	g.Number = number
	g.Members = slices.Clone(g.Members)
	g.UpdatedAt = time.Now().UTC()
	s.groups[number] = g
	return cloneGroup(g), nil
}

// DeleteGroup removes a group.
func (s *GroupStore) DeleteGroup(_ context.Context, number string) error {
	s.users.mu.Lock()
	defer s.users.mu.Unlock()
	if err := s.users.check(); err != nil {
		return err
	}
	if _, err := lookupNumber(s.groups, "group", number); err != nil {
		return err
	}
	delete(s.groups, number)
	return nil
}
