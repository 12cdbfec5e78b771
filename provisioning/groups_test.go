package provisioning_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

// newGroupService returns groups over users 1001, 1002 and 1003 and room 800, all in one plan
// of numbers.
func newGroupService(t *testing.T) (*provisioning.GroupService, *inmem.UserStore, *inmem.RoomStore) {
	t.Helper()
	ctx := context.Background()
	users := inmem.NewUserStore()
	rooms := inmem.NewRoomStore(users)
	for _, ext := range []string{"1001", "1002", "1003"} {
		if _, err := users.CreateUser(ctx, switchboard.User{Extension: ext, Name: "User " + ext}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rooms.CreateRoom(ctx, switchboard.Room{Number: "800", Name: "Sales"}); err != nil {
		t.Fatal(err)
	}
	return &provisioning.GroupService{Store: inmem.NewGroupStore(users)}, users, rooms
}

func TestCreateGroup(t *testing.T) {
	ctx := context.Background()
	t.Run("Defaults", func(t *testing.T) {
		svc, _, _ := newGroupService(t)
		g, err := svc.CreateGroup(ctx, provisioning.NewGroup{Number: "600", Name: "Support", Members: []string{"1002", "1001"}})
		if err != nil {
			t.Fatal(err)
		}
		want := switchboard.Group{Number: "600", Name: "Support", Members: []string{"1002", "1001"},
			Strategy: switchboard.RingAll, RingSeconds: switchboard.DefaultGroupRingSeconds,
			Timeout: switchboard.DefaultGroupTimeout, NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationHangup},
			CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
		if !reflect.DeepEqual(g, want) || g.CreatedAt.IsZero() {
			t.Errorf("created %+v, want %+v", g, want)
		}
	})
	t.Run("Chosen", func(t *testing.T) {
		svc, _, _ := newGroupService(t)
		g, err := svc.CreateGroup(ctx, provisioning.NewGroup{Number: "601", Name: "Sales Line", Members: []string{"1003"},
			Strategy: switchboard.Hunt, RingSeconds: 8, Timeout: 600,
			NoAnswer: &switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "800"}})
		if err != nil || g.Strategy != switchboard.Hunt || g.RingSeconds != 8 || g.Timeout != 600 ||
			g.NoAnswer != (switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "800"}) {
			t.Errorf("created %+v, %v", g, err)
		}
	})
	t.Run("ErrNumberInUse", func(t *testing.T) {
		svc, users, rooms := newGroupService(t)
		svc.CreateGroup(ctx, provisioning.NewGroup{Number: "600", Name: "Support", Members: []string{"1001"}})
		for _, number := range []string{"1001", "800", "600"} { // a user's, a room's, a group's
			_, err := svc.CreateGroup(ctx, provisioning.NewGroup{Number: number, Name: "Clash", Members: []string{"1002"}})
			if switchboard.ErrorCode(err) != switchboard.ECONFLICT || switchboard.ErrorMessage(err) != "number "+number+" is in use" {
				t.Errorf("group on %s: %v", number, err)
			}
		}
		if _, err := users.CreateUser(ctx, switchboard.User{Extension: "600", Name: "Bob"}); switchboard.ErrorCode(err) != switchboard.ECONFLICT ||
			switchboard.ErrorMessage(err) != "number 600 is in use by a ring group" {
			t.Errorf("user on a group's number: %v", err)
		}
		if _, err := rooms.CreateRoom(ctx, switchboard.Room{Number: "600", Name: "Board"}); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Errorf("room on a group's number: %v", err)
		}
	})
	t.Run("ErrMemberNotAUser", func(t *testing.T) {
		svc, _, _ := newGroupService(t)
		// 800 is a room: a number of the plan, but nobody's phone.
		for _, member := range []string{"1234", "800"} {
			_, err := svc.CreateGroup(ctx, provisioning.NewGroup{Number: "600", Name: "Support", Members: []string{"1001", member}})
			if switchboard.ErrorCode(err) != switchboard.EINVALID || switchboard.ErrorMessage(err) != "member "+member+" is not a user" {
				t.Errorf("member %s: %v", member, err)
			}
		}
		if all, _ := svc.Groups(ctx); len(all) != 0 {
			t.Errorf("groups stored: %+v", all)
		}
	})
	t.Run("ErrInvalidChangesNothing", func(t *testing.T) {
		svc, _, _ := newGroupService(t)
		members := []string{"1001"}
		dest := func(kind switchboard.GroupDestinationKind, number string) *switchboard.GroupDestination {
			return &switchboard.GroupDestination{Kind: kind, Number: number}
		}
		for _, ng := range []provisioning.NewGroup{
			{Number: "6", Name: "Support", Members: members},
			{Number: "600", Name: "Support\n[evil]", Members: members},
			{Number: "600", Name: "Support"}, // nobody to ring
			{Number: "600", Name: "Support", Members: []string{"1001", "1001"}},
			{Number: "600", Name: "Support", Members: []string{"600"}},
			{Number: "600", Name: "Support", Members: []string{"1001;x"}},
			{Number: "600", Name: "Support", Members: members, Strategy: "random"},
			{Number: "600", Name: "Support", Members: members, RingSeconds: 4},
			{Number: "600", Name: "Support", Members: members, Timeout: 601},
			{Number: "600", Name: "Support", Members: members, NoAnswer: dest("", "")},
			{Number: "600", Name: "Support", Members: members, NoAnswer: dest(switchboard.DestinationHangup, "1001")},
			{Number: "600", Name: "Support", Members: members, NoAnswer: dest(switchboard.DestinationVoicemail, "")},
			{Number: "600", Name: "Support", Members: members, NoAnswer: dest(switchboard.DestinationNumber, "600")},
		} {
			if _, err := svc.CreateGroup(ctx, ng); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateGroup(%+v) = %v, want invalid", ng, err)
			}
		}
		if all, _ := svc.Groups(ctx); len(all) != 0 {
			t.Errorf("%d groups stored after rejected input", len(all))
		}
	})
	t.Run("MembersAreCopied", func(t *testing.T) {
		svc, _, _ := newGroupService(t)
		members := []string{"1001", "1002"}
		svc.CreateGroup(ctx, provisioning.NewGroup{Number: "600", Name: "Support", Members: members})
		members[0] = "9999" // the caller's slice is theirs
		if g, _ := svc.Group(ctx, "600"); g.Members[0] != "1001" {
			t.Errorf("the stored group changed with the caller's slice: %v", g.Members)
		}
	})
}

func TestUpdateGroup(t *testing.T) {
	ctx := context.Background()
	svc, users, _ := newGroupService(t)
	svc.CreateGroup(ctx, provisioning.NewGroup{Number: "600", Name: "Support", Members: []string{"1001", "1002"}})
	t.Run("OK", func(t *testing.T) {
		name, members, strategy, ring := "Helpdesk", []string{"1003", "1001"}, switchboard.Hunt, 10
		g, err := svc.UpdateGroup(ctx, "600", provisioning.GroupPatch{Name: &name, Members: &members, Strategy: &strategy,
			RingSeconds: &ring, NoAnswer: &switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "1002"}})
		if err != nil || g.Name != name || fmt.Sprint(g.Members) != "[1003 1001]" || g.Strategy != switchboard.Hunt ||
			g.RingSeconds != 10 || g.Timeout != switchboard.DefaultGroupTimeout || g.NoAnswer.Number != "1002" {
			t.Errorf("UpdateGroup = %+v, %v", g, err)
		}
	})
	t.Run("ErrInvalidKeepsGroup", func(t *testing.T) {
		before, _ := svc.Group(ctx, "600")
		none, twice, ghost, timeout := []string{}, []string{"1001", "1001"}, []string{"1001", "1999"}, 4
		for _, p := range []provisioning.GroupPatch{
			{Members: &none},
			{Members: &twice},
			{Members: &ghost}, // not a user: the store says so
			{Timeout: &timeout},
			{NoAnswer: &switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "600"}},
		} {
			if _, err := svc.UpdateGroup(ctx, "600", p); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("UpdateGroup(%+v) = %v, want invalid", p, err)
			}
		}
		if g, _ := svc.Group(ctx, "600"); !reflect.DeepEqual(g, before) {
			t.Errorf("rejected changes were stored: %+v, was %+v", g, before)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		name := "X"
		if _, err := svc.UpdateGroup(ctx, "4040", provisioning.GroupPatch{Name: &name}); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("got %v", err)
		}
		if err := svc.DeleteGroup(ctx, "4040"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("delete: %v", err)
		}
	})
	t.Run("ErrInvalidNumber", func(t *testing.T) {
		if _, err := svc.Group(ctx, "60a"); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("Group(60a): %v", err)
		}
		if err := svc.DeleteGroup(ctx, "6"); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("DeleteGroup(6): %v", err)
		}
	})
	t.Run("DeletingAUserLeavesTheGroup", func(t *testing.T) {
		if err := users.DeleteUser(ctx, "1003"); err != nil {
			t.Fatal(err)
		}
		if g, _ := svc.Group(ctx, "600"); fmt.Sprint(g.Members) != "[1001]" {
			t.Errorf("members after user 1003 was deleted: %v", g.Members)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := svc.DeleteGroup(ctx, "600"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Group(ctx, "600"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("after delete: %v", err)
		}
		if _, err := users.CreateUser(ctx, switchboard.User{Extension: "600", Name: "Was Support"}); err != nil {
			t.Errorf("user on a deleted group's number: %v", err)
		}
	})
}

// fakeMailboxSync counts the syncs it is asked for and fails them with err.
type fakeMailboxSync struct {
	calls int
	err   error
}

func (f *fakeMailboxSync) Sync(context.Context) error { f.calls++; return f.err }

// isGeneratedPIN reports whether pin is what GeneratePIN makes: 6 ASCII digits.
func isGeneratedPIN(pin string) bool {
	return len(pin) == 6 && strings.Trim(pin, "0123456789") == ""
}

// A group's own mailbox is kept as a user's is: a PIN is generated when it is turned on without
// one, turning it off keeps the PIN, and the group's unanswered calls may go to it while it is on.
func TestGroupMailbox(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newGroupService(t)
	sync := &fakeMailboxSync{}
	svc.Mailboxes = sync
	ownVoicemail := &switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "600"}
	on, off := true, false
	var pin string
	t.Run("CreateGeneratesPIN", func(t *testing.T) {
		g, err := svc.CreateGroup(ctx, provisioning.NewGroup{Number: "600", Name: "Support", Members: []string{"1001"},
			NoAnswer: ownVoicemail, Mailbox: &switchboard.Mailbox{Enabled: true}})
		if err != nil || !g.Mailbox.Enabled || !isGeneratedPIN(g.Mailbox.PIN) || g.NoAnswer != *ownVoicemail {
			t.Fatalf("CreateGroup = %+v, %v", g, err)
		}
		pin = g.Mailbox.PIN
		if stored, _ := svc.Group(ctx, "600"); stored.Mailbox != g.Mailbox {
			t.Errorf("stored mailbox %+v, created %+v", stored.Mailbox, g.Mailbox)
		}
		if sync.calls != 1 {
			t.Errorf("%d syncs after a create, want 1", sync.calls)
		}
	})
	t.Run("CreateWithPIN", func(t *testing.T) {
		g, err := svc.CreateGroup(ctx, provisioning.NewGroup{Number: "601", Name: "Sales", Members: []string{"1002"},
			Mailbox: &switchboard.Mailbox{Enabled: true, PIN: "0042"}})
		if err != nil || g.Mailbox != (switchboard.Mailbox{Enabled: true, PIN: "0042"}) {
			t.Errorf("CreateGroup with a PIN = %+v, %v", g.Mailbox, err)
		}
	})
	t.Run("NoneByDefault", func(t *testing.T) {
		g, err := svc.CreateGroup(ctx, provisioning.NewGroup{Number: "602", Name: "Board", Members: []string{"1003"}})
		if err != nil || g.Mailbox != (switchboard.Mailbox{}) {
			t.Errorf("CreateGroup without a mailbox = %+v, %v", g.Mailbox, err)
		}
	})
	t.Run("ErrInvalidChangesNothing", func(t *testing.T) {
		before := sync.calls
		toItself := &switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "603"}
		for _, ng := range []provisioning.NewGroup{
			// Voicemail to its own number needs its own mailbox, on.
			{Number: "603", Name: "X", Members: []string{"1001"}, NoAnswer: toItself},
			{Number: "603", Name: "X", Members: []string{"1001"}, NoAnswer: toItself, Mailbox: &switchboard.Mailbox{PIN: "1234"}},
			{Number: "603", Name: "X", Members: []string{"1001"}, Mailbox: &switchboard.Mailbox{Enabled: true, PIN: "12a4"}},
			{Number: "603", Name: "X", Members: []string{"1001"}, Mailbox: &switchboard.Mailbox{Enabled: true, PIN: "123"}},
		} {
			if _, err := svc.CreateGroup(ctx, ng); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateGroup(%+v) = %v, want invalid", ng, err)
			}
		}
		if _, err := svc.Group(ctx, "603"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("a refused group was stored: %v", err)
		}
		if sync.calls != before {
			t.Errorf("refused creates synced the mailboxes")
		}
	})
	t.Run("ErrTurnedOffWhileCallsGoThere", func(t *testing.T) {
		_, err := svc.UpdateGroup(ctx, "600", provisioning.GroupPatch{Mailbox: &provisioning.VoicemailPatch{Enabled: &off}})
		if switchboard.ErrorCode(err) != switchboard.EINVALID || !strings.Contains(switchboard.ErrorMessage(err), "needs its own mailbox") {
			t.Errorf("mailbox off while no_answer goes to it: %v", err)
		}
	})
	t.Run("OffKeepsPIN", func(t *testing.T) {
		hangup := &switchboard.GroupDestination{Kind: switchboard.DestinationHangup}
		g, err := svc.UpdateGroup(ctx, "600", provisioning.GroupPatch{NoAnswer: hangup,
			Mailbox: &provisioning.VoicemailPatch{Enabled: &off}})
		if err != nil || g.Mailbox != (switchboard.Mailbox{PIN: pin}) {
			t.Errorf("turned off: %+v, %v; want the PIN %s kept", g.Mailbox, err, pin)
		}
		// On again, it has the PIN it kept: none is generated.
		g, err = svc.UpdateGroup(ctx, "600", provisioning.GroupPatch{NoAnswer: ownVoicemail,
			Mailbox: &provisioning.VoicemailPatch{Enabled: &on}})
		if err != nil || g.Mailbox != (switchboard.Mailbox{Enabled: true, PIN: pin}) || g.NoAnswer != *ownVoicemail {
			t.Errorf("turned on again: %+v, %v; want the PIN %s", g, err, pin)
		}
	})
	t.Run("OnGeneratesPIN", func(t *testing.T) {
		g, err := svc.UpdateGroup(ctx, "602", provisioning.GroupPatch{Mailbox: &provisioning.VoicemailPatch{Enabled: &on}})
		if err != nil || !g.Mailbox.Enabled || !isGeneratedPIN(g.Mailbox.PIN) {
			t.Errorf("turned on without a PIN: %+v, %v", g.Mailbox, err)
		}
	})
	t.Run("SetPIN", func(t *testing.T) {
		newPIN, bad := "98765", "98a65"
		g, err := svc.UpdateGroup(ctx, "600", provisioning.GroupPatch{Mailbox: &provisioning.VoicemailPatch{PIN: &newPIN}})
		if err != nil || g.Mailbox != (switchboard.Mailbox{Enabled: true, PIN: newPIN}) {
			t.Errorf("new PIN: %+v, %v", g.Mailbox, err)
		}
		if _, err := svc.UpdateGroup(ctx, "600", provisioning.GroupPatch{Mailbox: &provisioning.VoicemailPatch{PIN: &bad}}); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("bad PIN: %v", err)
		}
		if g, _ := svc.Group(ctx, "600"); g.Mailbox.PIN != newPIN {
			t.Errorf("a refused PIN was stored: %+v", g.Mailbox)
		}
	})
	t.Run("ErrSyncAfterTheChangeIsStored", func(t *testing.T) {
		sync.err = switchboard.Errorf(switchboard.EUNAVAILABLE, "asterisk is down")
		defer func() { sync.err = nil }()
		name := "Helpdesk"
		g, err := svc.UpdateGroup(ctx, "600", provisioning.GroupPatch{Name: &name})
		if switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE || !strings.Contains(err.Error(), "group 600 changed") || g.Name != name {
			t.Errorf("UpdateGroup with the sync failing = %+v, %v", g, err)
		}
		if g, _ := svc.Group(ctx, "600"); g.Name != name {
			t.Errorf("the change was not stored: %+v", g)
		}
		if err := svc.DeleteGroup(ctx, "601"); switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
			t.Errorf("DeleteGroup with the sync failing: %v", err)
		}
		if _, err := svc.Group(ctx, "601"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("the group was not deleted: %v", err)
		}
	})
	t.Run("SyncedAfterEveryChange", func(t *testing.T) {
		before := sync.calls
		name := "Support"
		svc.UpdateGroup(ctx, "600", provisioning.GroupPatch{Name: &name})
		svc.DeleteGroup(ctx, "602")
		if sync.calls != before+2 {
			t.Errorf("%d syncs after an update and a delete, want 2", sync.calls-before)
		}
	})
}
