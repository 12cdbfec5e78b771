package provisioning_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

// queuePlan is a plan of numbers with users 1001 to 1004, room 800 and group 600, and queues
// over it with fake call control.
type queuePlan struct {
	svc    *provisioning.QueueService
	users  *inmem.UserStore
	rooms  *inmem.RoomStore
	groups *inmem.GroupStore
	live   *inmem.QueueControl
}

func newQueueService(t *testing.T) *queuePlan {
	t.Helper()
	ctx := context.Background()
	users := inmem.NewUserStore()
	p := &queuePlan{users: users, rooms: inmem.NewRoomStore(users), groups: inmem.NewGroupStore(users),
		live: inmem.NewQueueControl()}
	p.svc = &provisioning.QueueService{Store: inmem.NewQueueStore(users), Live: p.live}
	for _, ext := range []string{"1001", "1002", "1003", "1004"} {
		if _, err := users.CreateUser(ctx, switchboard.User{Extension: ext, Name: "User " + ext}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.rooms.CreateRoom(ctx, switchboard.Room{Number: "800", Name: "Sales"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.groups.CreateGroup(ctx, switchboard.Group{Number: "600", Name: "Support", Members: []string{"1001"}}); err != nil {
		t.Fatal(err)
	}
	return p
}

// agentsOf shows a queue's agents as "1002+,1003": + marks those logged in.
func agentsOf(q switchboard.Queue) string {
	var out []string
	for _, a := range q.Agents {
		out = append(out, a.Extension+map[bool]string{true: "+"}[a.LoggedIn])
	}
	return strings.Join(out, ",")
}

func TestCreateQueue(t *testing.T) {
	ctx := context.Background()
	t.Run("Defaults", func(t *testing.T) {
		p := newQueueService(t)
		q, err := p.svc.CreateQueue(ctx, provisioning.NewQueue{Number: "700", Name: "Orders", Agents: []string{"1002", "1001"}})
		if err != nil {
			t.Fatal(err)
		}
		want := switchboard.Queue{Number: "700", Name: "Orders",
			Agents:   []switchboard.QueueAgent{{Extension: "1002"}, {Extension: "1001"}},
			Strategy: switchboard.QueueRingAll, RingSeconds: switchboard.DefaultQueueRingSeconds,
			MaxWait: switchboard.DefaultQueueMaxWait, NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationHangup},
			CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt}
		if !reflect.DeepEqual(q, want) || q.CreatedAt.IsZero() {
			t.Errorf("created %+v, want %+v", q, want)
		}
	})
	t.Run("Chosen", func(t *testing.T) {
		p := newQueueService(t)
		q, err := p.svc.CreateQueue(ctx, provisioning.NewQueue{Number: "701", Name: "Billing", Agents: []string{"1003"},
			Strategy: switchboard.QueueLeastRecent, RingSeconds: 8, MaxWait: 3600,
			NoAnswer: &switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "600"}})
		if err != nil || q.Strategy != switchboard.QueueLeastRecent || q.RingSeconds != 8 || q.MaxWait != 3600 ||
			q.NoAnswer != (switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "600"}) {
			t.Errorf("created %+v, %v", q, err)
		}
	})
	t.Run("ErrNumberInUse", func(t *testing.T) {
		p := newQueueService(t)
		p.svc.CreateQueue(ctx, provisioning.NewQueue{Number: "700", Name: "Orders", Agents: []string{"1001"}})
		for _, number := range []string{"1001", "800", "600", "700"} { // a user's, a room's, a group's, a queue's
			_, err := p.svc.CreateQueue(ctx, provisioning.NewQueue{Number: number, Name: "Clash", Agents: []string{"1002"}})
			if switchboard.ErrorCode(err) != switchboard.ECONFLICT || switchboard.ErrorMessage(err) != "number "+number+" is in use" {
				t.Errorf("queue on %s: %v", number, err)
			}
		}
		if _, err := p.users.CreateUser(ctx, switchboard.User{Extension: "700", Name: "Bob"}); switchboard.ErrorCode(err) != switchboard.ECONFLICT ||
			switchboard.ErrorMessage(err) != "number 700 is in use by a call queue" {
			t.Errorf("user on a queue's number: %v", err)
		}
		if _, err := p.rooms.CreateRoom(ctx, switchboard.Room{Number: "700", Name: "Board"}); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Errorf("room on a queue's number: %v", err)
		}
		if _, err := p.groups.CreateGroup(ctx, switchboard.Group{Number: "700", Name: "Board", Members: []string{"1001"}}); switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Errorf("group on a queue's number: %v", err)
		}
	})
	t.Run("ErrAgentNotAUser", func(t *testing.T) {
		p := newQueueService(t)
		// 800 is a room and 600 a group: numbers of the plan, but nobody's phone.
		for _, agent := range []string{"1234", "800", "600"} {
			_, err := p.svc.CreateQueue(ctx, provisioning.NewQueue{Number: "700", Name: "Orders", Agents: []string{"1001", agent}})
			if switchboard.ErrorCode(err) != switchboard.EINVALID || switchboard.ErrorMessage(err) != "agent "+agent+" is not a user" {
				t.Errorf("agent %s: %v", agent, err)
			}
		}
		if all, _ := p.svc.Queues(ctx); len(all) != 0 {
			t.Errorf("queues stored: %+v", all)
		}
	})
	t.Run("ErrInvalidChangesNothing", func(t *testing.T) {
		p := newQueueService(t)
		agents := []string{"1001"}
		dest := func(kind switchboard.GroupDestinationKind, number string) *switchboard.GroupDestination {
			return &switchboard.GroupDestination{Kind: kind, Number: number}
		}
		for _, nq := range []provisioning.NewQueue{
			{Number: "7", Name: "Orders", Agents: agents},
			{Number: "700", Name: "Orders\n[evil]", Agents: agents},
			{Number: "700", Name: "Orders"}, // nobody to take the calls
			{Number: "700", Name: "Orders", Agents: []string{"1001", "1001"}},
			{Number: "700", Name: "Orders", Agents: []string{"700"}},
			{Number: "700", Name: "Orders", Agents: []string{"1001;x"}},
			{Number: "700", Name: "Orders", Agents: agents, Strategy: "hunt"},
			{Number: "700", Name: "Orders", Agents: agents, RingSeconds: 4},
			{Number: "700", Name: "Orders", Agents: agents, MaxWait: 9},
			{Number: "700", Name: "Orders", Agents: agents, MaxWait: 3601},
			{Number: "700", Name: "Orders", Agents: agents, NoAnswer: dest("", "")},
			{Number: "700", Name: "Orders", Agents: agents, NoAnswer: dest(switchboard.DestinationHangup, "1001")},
			{Number: "700", Name: "Orders", Agents: agents, NoAnswer: dest(switchboard.DestinationVoicemail, "700")},
			{Number: "700", Name: "Orders", Agents: agents, NoAnswer: dest(switchboard.DestinationNumber, "700")},
		} {
			if _, err := p.svc.CreateQueue(ctx, nq); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateQueue(%+v) = %v, want invalid", nq, err)
			}
		}
		if all, _ := p.svc.Queues(ctx); len(all) != 0 {
			t.Errorf("%d queues stored after rejected input", len(all))
		}
	})
}

func TestUpdateQueue(t *testing.T) {
	ctx := context.Background()
	p := newQueueService(t)
	p.svc.CreateQueue(ctx, provisioning.NewQueue{Number: "700", Name: "Orders", Agents: []string{"1001", "1002"}})
	p.svc.SetLoggedIn(ctx, "700", "1002", true)
	t.Run("OK", func(t *testing.T) {
		name, agents, strategy, ring, wait := "Sales Line", []string{"1003", "1002"}, switchboard.QueueFewestCalls, 10, 60
		q, err := p.svc.UpdateQueue(ctx, "700", provisioning.QueuePatch{Name: &name, Agents: &agents, Strategy: &strategy,
			RingSeconds: &ring, MaxWait: &wait, NoAnswer: &switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "1004"}})
		// 1002 stays and stays logged in; 1003 is new and starts logged out; 1001 goes.
		if err != nil || q.Name != name || agentsOf(q) != "1003,1002+" || q.Strategy != switchboard.QueueFewestCalls ||
			q.RingSeconds != 10 || q.MaxWait != 60 || q.NoAnswer.Number != "1004" {
			t.Errorf("UpdateQueue = %+v (agents %s), %v", q, agentsOf(q), err)
		}
	})
	t.Run("ErrInvalidKeepsQueue", func(t *testing.T) {
		before, _ := p.svc.Queue(ctx, "700")
		none, twice, ghost, wait := []string{}, []string{"1001", "1001"}, []string{"1001", "1999"}, 9
		hunt := switchboard.QueueStrategy("hunt")
		for _, patch := range []provisioning.QueuePatch{
			{Agents: &none},
			{Agents: &twice},
			{Agents: &ghost}, // not a user: the store says so
			{MaxWait: &wait},
			{Strategy: &hunt},
			{NoAnswer: &switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "700"}},
		} {
			if _, err := p.svc.UpdateQueue(ctx, "700", patch); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("UpdateQueue(%+v) = %v, want invalid", patch, err)
			}
		}
		if q, _ := p.svc.Queue(ctx, "700"); !reflect.DeepEqual(q, before) {
			t.Errorf("rejected changes were stored: %+v, was %+v", q, before)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		name := "X"
		if _, err := p.svc.UpdateQueue(ctx, "4040", provisioning.QueuePatch{Name: &name}); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("got %v", err)
		}
		if err := p.svc.DeleteQueue(ctx, "4040"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("delete: %v", err)
		}
	})
	t.Run("ErrInvalidNumber", func(t *testing.T) {
		if _, err := p.svc.Queue(ctx, "70a"); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("Queue(70a): %v", err)
		}
		if err := p.svc.DeleteQueue(ctx, "7"); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("DeleteQueue(7): %v", err)
		}
		if err := p.svc.SetLoggedIn(ctx, "700", "1002;x", true); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("SetLoggedIn of 1002;x: %v", err)
		}
	})
	t.Run("DeletingAUserLeavesTheQueue", func(t *testing.T) {
		if err := p.users.DeleteUser(ctx, "1003"); err != nil {
			t.Fatal(err)
		}
		if q, _ := p.svc.Queue(ctx, "700"); agentsOf(q) != "1002+" {
			t.Errorf("agents after user 1003 was deleted: %s", agentsOf(q))
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := p.svc.DeleteQueue(ctx, "700"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.svc.Queue(ctx, "700"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("after delete: %v", err)
		}
		if _, err := p.users.CreateUser(ctx, switchboard.User{Extension: "700", Name: "Was Orders"}); err != nil {
			t.Errorf("user on a deleted queue's number: %v", err)
		}
	})
}

func TestQueueLogins(t *testing.T) {
	ctx := context.Background()
	p := newQueueService(t)
	for _, nq := range []provisioning.NewQueue{
		{Number: "700", Name: "Orders", Agents: []string{"1001", "1002"}},
		{Number: "701", Name: "Billing", Agents: []string{"1002", "1003"}},
	} {
		if _, err := p.svc.CreateQueue(ctx, nq); err != nil {
			t.Fatal(err)
		}
	}
	logins := func() string {
		t.Helper()
		all, err := p.svc.Queues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, q := range all {
			out = append(out, q.Number+":"+agentsOf(q))
		}
		return strings.Join(out, " ")
	}
	t.Run("SetLoggedIn", func(t *testing.T) {
		if err := p.svc.SetLoggedIn(ctx, "700", "1001", true); err != nil {
			t.Fatal(err)
		}
		if got := logins(); got != "700:1001+,1002 701:1002,1003" {
			t.Errorf("after 1001 logged in to 700: %s", got)
		}
		if err := p.svc.SetLoggedIn(ctx, "700", "1003", true); switchboard.ErrorCode(err) != switchboard.ENOTFOUND ||
			switchboard.ErrorMessage(err) != "1003 is not an agent of queue 700" {
			t.Errorf("login of someone who is no agent: %v", err)
		}
		if err := p.svc.SetLoggedIn(ctx, "4040", "1001", true); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("login to a queue nobody has: %v", err)
		}
	})
	t.Run("ToggleAgent", func(t *testing.T) {
		// 1002 is logged in nowhere: *45 logs them in to both their queues; again, out of both.
		for _, step := range []struct {
			in   bool
			want string
		}{
			{true, "700:1001+,1002+ 701:1002+,1003"},
			{false, "700:1001+,1002 701:1002,1003"},
		} {
			in, err := p.svc.ToggleAgent(ctx, "1002")
			if err != nil || in != step.in || logins() != step.want {
				t.Errorf("ToggleAgent(1002) = %v, %v: %s; want %v: %s", in, err, logins(), step.in, step.want)
			}
		}
		// Logged in to one of their queues is logged in: *45 logs them out of all of them.
		p.svc.SetLoggedIn(ctx, "701", "1002", true)
		if in, err := p.svc.ToggleAgent(ctx, "1002"); err != nil || in || logins() != "700:1001+,1002 701:1002,1003" {
			t.Errorf("ToggleAgent(1002) logged in to one = %v, %v: %s", in, err, logins())
		}
	})
	t.Run("ErrNoAgent", func(t *testing.T) {
		for _, ext := range []string{"1004", "4040"} { // a user who is no agent, and nobody
			if _, err := p.svc.ToggleAgent(ctx, ext); switchboard.ErrorCode(err) != switchboard.ENOTFOUND ||
				switchboard.ErrorMessage(err) != ext+" is not an agent of any queue" {
				t.Errorf("ToggleAgent(%s): %v", ext, err)
			}
		}
		if _, err := p.svc.ToggleAgent(ctx, "*45"); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("ToggleAgent(*45): %v", err)
		}
	})
	t.Run("ErrDatabaseDown", func(t *testing.T) {
		p.users.SetDown(true)
		defer p.users.SetDown(false)
		if _, err := p.svc.ToggleAgent(ctx, "1002"); switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
			t.Errorf("ToggleAgent with the database down: %v", err)
		}
		if err := p.svc.SetLoggedIn(ctx, "700", "1002", true); switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
			t.Errorf("SetLoggedIn with the database down: %v", err)
		}
	})
}

func TestQueueState(t *testing.T) {
	ctx := context.Background()
	p := newQueueService(t)
	p.svc.CreateQueue(ctx, provisioning.NewQueue{Number: "700", Name: "Orders", Agents: []string{"1001"}})
	since := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	want := switchboard.QueueState{Number: "700", Answered: 3,
		Callers: []switchboard.QueuedCaller{{ID: "call-1", Caller: "1004", Since: since, Ringing: []string{"1001"}}},
		Agents:  []switchboard.AgentState{{Extension: "1001", LoggedIn: true, State: switchboard.AgentRinging}}}
	p.live.SetState(want)
	if st, err := p.svc.QueueState(ctx, "700"); err != nil || !reflect.DeepEqual(st, want) {
		t.Errorf("QueueState = %+v, %v; want %+v", st, err, want)
	}
	// The store says first whether there is such a queue, whatever call control knows.
	p.live.SetState(switchboard.QueueState{Number: "701"})
	if _, err := p.svc.QueueState(ctx, "701"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("state of a queue nobody has: %v", err)
	}
	p.live.SetDown(true)
	if _, err := p.svc.QueueState(ctx, "700"); switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE {
		t.Errorf("state with call control down: %v", err)
	}
	idle := &provisioning.QueueService{Store: p.svc.Store}
	if _, err := idle.QueueState(ctx, "700"); switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE ||
		switchboard.ErrorMessage(err) != "call control is not running" {
		t.Errorf("state without call control: %v", err)
	}
	if _, err := idle.QueueState(ctx, "4040"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("state of a queue nobody has, without call control: %v", err)
	}
}

// A queue's own mailbox is kept as a group's is (see TestGroupMailbox), and the mailboxes are
// synced after each change to a queue but not after a login.
func TestQueueMailbox(t *testing.T) {
	ctx := context.Background()
	p := newQueueService(t)
	sync := &fakeMailboxSync{}
	p.svc.Mailboxes = sync
	ownVoicemail := &switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "700"}
	q, err := p.svc.CreateQueue(ctx, provisioning.NewQueue{Number: "700", Name: "Orders", Agents: []string{"1001"},
		NoAnswer: ownVoicemail, Mailbox: &switchboard.Mailbox{Enabled: true}})
	if err != nil || !q.Mailbox.Enabled || !isGeneratedPIN(q.Mailbox.PIN) || q.NoAnswer != *ownVoicemail {
		t.Fatalf("CreateQueue = %+v, %v", q, err)
	}
	pin := q.Mailbox.PIN
	for _, nq := range []provisioning.NewQueue{
		{Number: "701", Name: "X", Agents: []string{"1001"},
			NoAnswer: &switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "701"}},
		{Number: "701", Name: "X", Agents: []string{"1001"}, Mailbox: &switchboard.Mailbox{Enabled: true, PIN: "12345678901"}},
	} {
		if _, err := p.svc.CreateQueue(ctx, nq); switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("CreateQueue(%+v) = %v, want invalid", nq, err)
		}
	}
	off := false
	q, err = p.svc.UpdateQueue(ctx, "700", provisioning.QueuePatch{
		NoAnswer: &switchboard.GroupDestination{Kind: switchboard.DestinationHangup},
		Mailbox:  &provisioning.VoicemailPatch{Enabled: &off}})
	if err != nil || q.Mailbox != (switchboard.Mailbox{PIN: pin}) {
		t.Errorf("turned off: %+v, %v; want the PIN %s kept", q.Mailbox, err, pin)
	}
	p.svc.SetLoggedIn(ctx, "700", "1001", true)
	if sync.calls != 2 {
		t.Errorf("%d syncs after a create and an update, want 2", sync.calls)
	}
	sync.err = switchboard.Errorf(switchboard.EUNAVAILABLE, "asterisk is down")
	if err := p.svc.DeleteQueue(ctx, "700"); switchboard.ErrorCode(err) != switchboard.EUNAVAILABLE ||
		!strings.Contains(err.Error(), "queue 700 deleted") {
		t.Errorf("DeleteQueue with the sync failing: %v", err)
	}
	if _, err := p.svc.Queue(ctx, "700"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("the queue was not deleted: %v", err)
	}
}
