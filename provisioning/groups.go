package provisioning

import (
	"context"
	"fmt"
	"slices"

	"github.com/switchboard-pbx/switchboard"
)

// NewGroup is what an admin submits to create a ring group. Zero values mean "use the
// default": ring_all, DefaultGroupRingSeconds, DefaultGroupTimeout, hang up when nobody
// answers, no mailbox of its own.
type NewGroup struct {
	Number      string
	Name        string
	Members     []string                      // extensions of users, in hunting order
	Strategy    switchboard.GroupStrategy     // "": switchboard.RingAll
	RingSeconds int                           // 0: switchboard.DefaultGroupRingSeconds
	Timeout     int                           // 0: switchboard.DefaultGroupTimeout
	NoAnswer    *switchboard.GroupDestination // nil: hang up
	// Mailbox is the group's own (nil: none); one that is on without a PIN gets a generated one.
	Mailbox *switchboard.Mailbox
}

// GroupPatch changes some fields of a group; nil fields are left alone. Members, when set,
// replaces the whole list (and so its order).
type GroupPatch struct {
	Name        *string
	Members     *[]string
	Strategy    *switchboard.GroupStrategy
	RingSeconds *int
	Timeout     *int
	NoAnswer    *switchboard.GroupDestination
	// Mailbox changes the group's own mailbox as a user's is changed (see Service.UpdateUser):
	// turning it on without a PIN, when it has none, generates one; turning it off keeps the PIN.
	Mailbox *VoicemailPatch
}

// MailboxSync brings what serves the mailboxes of groups and queues (Asterisk's voicemail
// configuration) up to date with the store, after a group or a queue changed.
type MailboxSync interface {
	Sync(ctx context.Context) error
}

// GroupService is what admins do with ring groups, validated here and kept in the store.
// Groups need no configuration in Asterisk (call control rings the members' phones itself), so
// a change applies to the next call that reaches the group, without a configuration pass.
//
// A group's own mailbox is the exception: when Mailboxes is set, it is synced after every
// group created, changed or deleted. An error from it is returned (wrapped) although the change
// itself is stored: the caller learns that the mailboxes may lag behind, not that nothing
// happened.
type GroupService struct {
	Store switchboard.GroupStore
	// Mailboxes, when set, is told after each change to a group (nil: nothing is told).
	Mailboxes MailboxSync
}

var _ switchboard.GroupDirectory = (*GroupService)(nil)

// CreateGroup validates and stores a new group; ECONFLICT when a user, a room, a group or a
// queue has its number, EINVALID when a member is not a user. A group stored whose mailboxes
// could not be synced is returned with the error.
func (s *GroupService) CreateGroup(ctx context.Context, ng NewGroup) (switchboard.Group, error) {
	g := switchboard.Group{Number: ng.Number, Name: ng.Name, Members: slices.Clone(ng.Members),
		Strategy: ng.Strategy, RingSeconds: ng.RingSeconds, Timeout: ng.Timeout,
		NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationHangup}}
	if g.Strategy == "" {
		g.Strategy = switchboard.RingAll
	}
	if g.RingSeconds == 0 {
		g.RingSeconds = switchboard.DefaultGroupRingSeconds
	}
	if g.Timeout == 0 {
		g.Timeout = switchboard.DefaultGroupTimeout
	}
	if ng.NoAnswer != nil {
		g.NoAnswer = *ng.NoAnswer
	}
	if ng.Mailbox != nil {
		g.Mailbox = newSharedMailbox(*ng.Mailbox)
	}
	if err := ValidateGroup(&g); err != nil {
		return switchboard.Group{}, err
	}
	created, err := s.Store.CreateGroup(ctx, g)
	if err != nil {
		return switchboard.Group{}, fmt.Errorf("create group %s: %w", ng.Number, err)
	}
	return created, syncMailboxes(ctx, s.Mailboxes, "group", ng.Number, "created")
}

// newSharedMailbox is the own mailbox a new group or queue is given: m, with a generated PIN
// when it is on without one.
func newSharedMailbox(m switchboard.Mailbox) switchboard.Mailbox {
	if m.Enabled && m.PIN == "" {
		m.PIN = GeneratePIN()
	}
	return m
}

// syncMailboxes tells sync, when set, that the group or queue (what) number was created,
// changed or deleted (done); its error says that the change is stored all the same.
func syncMailboxes(ctx context.Context, sync MailboxSync, what, number, done string) error {
	if sync == nil {
		return nil
	}
	if err := sync.Sync(ctx); err != nil {
		return fmt.Errorf("%s %s %s, but its mailbox is not synced: %w", what, number, done, err)
	}
	return nil
}

// Group returns one group.
func (s *GroupService) Group(ctx context.Context, number string) (switchboard.Group, error) {
	if err := ValidateGroupNumber(number); err != nil {
		return switchboard.Group{}, err
	}
	return s.Store.Group(ctx, number)
}

// Groups returns every group, shorter numbers first.
func (s *GroupService) Groups(ctx context.Context) ([]switchboard.Group, error) {
	return s.Store.Groups(ctx)
}

// UpdateGroup changes the given fields of a group. The group as changed is validated whole,
// so a group whose members have all been deleted as users takes no other change until it is
// given members again. A change stored whose mailboxes could not be synced returns the group
// with the error.
func (s *GroupService) UpdateGroup(ctx context.Context, number string, p GroupPatch) (switchboard.Group, error) {
	if err := ValidateGroupNumber(number); err != nil {
		return switchboard.Group{}, err
	}
	g, err := s.Store.UpdateGroup(ctx, number, func(g *switchboard.Group) error {
		if p.Name != nil {
			g.Name = *p.Name
		}
		if p.Members != nil {
			g.Members = slices.Clone(*p.Members)
		}
		if p.Strategy != nil {
			g.Strategy = *p.Strategy
		}
		if p.RingSeconds != nil {
			g.RingSeconds = *p.RingSeconds
		}
		if p.Timeout != nil {
			g.Timeout = *p.Timeout
		}
		if p.NoAnswer != nil {
			g.NoAnswer = *p.NoAnswer
		}
		p.Mailbox.apply(&g.Mailbox)
		return ValidateGroup(g)
	})
	if err != nil {
		return switchboard.Group{}, fmt.Errorf("update group %s: %w", number, err)
	}
	return g, syncMailboxes(ctx, s.Mailboxes, "group", number, "changed")
}

// DeleteGroup removes a group and frees its number. Calls ringing its members now are not cut
// off: call control keeps them going with the group it read when they came in; the next call
// to the number finds nobody has it. An error from Mailboxes comes after the group is gone.
func (s *GroupService) DeleteGroup(ctx context.Context, number string) error {
	if err := ValidateGroupNumber(number); err != nil {
		return err
	}
	if err := s.Store.DeleteGroup(ctx, number); err != nil {
		return fmt.Errorf("delete group %s: %w", number, err)
	}
	return syncMailboxes(ctx, s.Mailboxes, "group", number, "deleted")
}
