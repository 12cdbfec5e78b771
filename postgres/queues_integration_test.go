//go:build integration

package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/postgres"
	"github.com/switchboard-pbx/switchboard/testbed"
)

func queue(number, name string, agents ...string) switchboard.Queue {
	q := switchboard.Queue{Number: number, Name: name, Strategy: switchboard.QueueRingAll,
		RingSeconds: switchboard.DefaultQueueRingSeconds, MaxWait: switchboard.DefaultQueueMaxWait,
		NoAnswer: switchboard.GroupDestination{Kind: switchboard.DestinationHangup}}
	for _, ext := range agents {
		q.Agents = append(q.Agents, switchboard.QueueAgent{Extension: ext})
	}
	return q
}

// agentsOf shows a queue's agents as "1002+,1003": + marks those logged in.
func agentsOf(q switchboard.Queue) string {
	var out []string
	for _, a := range q.Agents {
		out = append(out, a.Extension+map[bool]string{true: "+"}[a.LoggedIn])
	}
	return strings.Join(out, ",")
}

func TestQueueStore(t *testing.T) {
	ctx := context.Background()
	dsn := testbed.NewDatabase(t)
	db := MustOpenDB(t, dsn)
	users, store := &postgres.UserStore{DB: db}, &postgres.QueueStore{DB: db}
	mustCreateUsers(t, users, "1001", "1002", "1003", "1004")

	t.Run("CreateAndGet", func(t *testing.T) {
		want := queue("700", "Support", "1003", "1001", "1002") // the queue's order, not number order
		want.Strategy, want.RingSeconds, want.MaxWait = switchboard.QueueRoundRobin, 10, 3600
		want.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "1001"}
		given := want
		given.Agents = append([]switchboard.QueueAgent{}, want.Agents...)
		given.Agents[0].LoggedIn = true // a new agent starts logged out, whatever they were given
		created, err := store.CreateQueue(ctx, given)
		if err != nil {
			t.Fatal(err)
		}
		if created.CreatedAt.IsZero() || created.UpdatedAt.IsZero() {
			t.Error("timestamps not set")
		}
		got, err := store.Queue(ctx, "700")
		if err != nil {
			t.Fatal(err)
		}
		got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Queue = %+v, want %+v", got, want)
		}
	})
	t.Run("ErrDuplicateNumber", func(t *testing.T) {
		_, err := store.CreateQueue(ctx, queue("700", "Again", "1001"))
		if switchboard.ErrorCode(err) != switchboard.ECONFLICT || switchboard.ErrorMessage(err) != "number 700 is in use" {
			t.Errorf("duplicate: %v", err)
		}
	})
	t.Run("ErrAgentNotAUser", func(t *testing.T) {
		_, err := store.CreateQueue(ctx, queue("701", "Ghosts", "1001", "1234", "1002"))
		if switchboard.ErrorCode(err) != switchboard.EINVALID || switchboard.ErrorMessage(err) != "agent 1234 is not a user" {
			t.Errorf("agent who is not a user: %v", err)
		}
		// Nothing of the queue is left, not even its claim of the number.
		if _, err := store.Queue(ctx, "701"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("the queue was stored: %v", err)
		}
		if _, err := users.CreateUser(ctx, user("701", "Takes the number")); err != nil {
			t.Errorf("the refused queue kept its number: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := store.Queue(ctx, "4040"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND ||
			switchboard.ErrorMessage(err) != "no queue with number 4040" {
			t.Errorf("Queue(4040): %v", err)
		}
		if err := store.DeleteQueue(ctx, "4040"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("DeleteQueue(4040): %v", err)
		}
		if _, err := store.UpdateQueue(ctx, "4040", func(*switchboard.Queue) error { return nil }); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("UpdateQueue(4040): %v", err)
		}
		if err := store.SetLoggedIn(ctx, "4040", "1001", true); switchboard.ErrorCode(err) != switchboard.ENOTFOUND ||
			switchboard.ErrorMessage(err) != "no queue with number 4040" {
			t.Errorf("SetLoggedIn(4040): %v", err)
		}
		if err := store.SetLoggedIn(ctx, "700", "1004", true); switchboard.ErrorCode(err) != switchboard.ENOTFOUND ||
			switchboard.ErrorMessage(err) != "1004 is not an agent of queue 700" {
			t.Errorf("SetLoggedIn of someone who is no agent: %v", err)
		}
	})
	t.Run("DatabaseRejectsWhatValidationWould", func(t *testing.T) {
		// Defence in depth: a caller that skipped validation still cannot store a queue that
		// would give call control something other than digits to dial or a plain name.
		for _, change := range []func(*switchboard.Queue){
			func(q *switchboard.Queue) { q.Name = "a\n[evil]" },
			func(q *switchboard.Queue) { q.Number = "7" },
			func(q *switchboard.Queue) { q.Number = "79a" },
			func(q *switchboard.Queue) { q.Strategy = "hunt" }, // a group's, not a queue's
			func(q *switchboard.Queue) { q.RingSeconds = 4 },
			func(q *switchboard.Queue) { q.RingSeconds = 121 },
			func(q *switchboard.Queue) { q.MaxWait = 9 },
			func(q *switchboard.Queue) { q.MaxWait = 3601 },
			func(q *switchboard.Queue) { q.NoAnswer.Kind = "queue" },
			func(q *switchboard.Queue) { q.NoAnswer.Number = "1001" }, // hanging up goes nowhere
			func(q *switchboard.Queue) {
				q.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: "*97"}
			},
			func(q *switchboard.Queue) { // its callers would come back to it forever
				q.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationNumber, Number: q.Number}
			},
			func(q *switchboard.Queue) { // its own mailbox, which it does not have on
				q.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: q.Number}
			},
			func(q *switchboard.Queue) { q.Mailbox = switchboard.Mailbox{Enabled: true} }, // on without a PIN
			func(q *switchboard.Queue) { q.Mailbox = switchboard.Mailbox{Enabled: true, PIN: "12a4"} },
			func(q *switchboard.Queue) { q.Mailbox = switchboard.Mailbox{PIN: "12"} }, // off, but no PIN either
		} {
			q := queue("799", "Bad", "1001")
			change(&q)
			if _, err := store.CreateQueue(ctx, q); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateQueue(%+v): %v, want invalid", q, err)
			}
		}
		if all, _ := store.Queues(ctx); len(all) != 1 {
			t.Errorf("a rejected queue was stored: %+v", all)
		}
	})
	t.Run("LoginsAreKeptAcrossUpdates", func(t *testing.T) {
		for _, ext := range []string{"1003", "1002"} {
			if err := store.SetLoggedIn(ctx, "700", ext, true); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.SetLoggedIn(ctx, "700", "1002", false); err != nil {
			t.Fatal(err)
		}
		q, _ := store.Queue(ctx, "700")
		if got := agentsOf(q); got != "1003+,1001,1002" {
			t.Fatalf("agents after logins: %s", got)
		}
		// A login is not a change of the queue's settings.
		before := q.UpdatedAt
		q, err := store.UpdateQueue(ctx, "700", func(q *switchboard.Queue) error {
			q.Name, q.Strategy = "Helpdesk", switchboard.QueueFewestCalls
			// A new order with a new agent: 1003 stays logged in wherever they are, 1004 starts
			// logged out even when told otherwise, 1001 goes.
			q.Agents = []switchboard.QueueAgent{{Extension: "1004", LoggedIn: true}, {Extension: "1002"}, {Extension: "1003"}}
			q.Number = "702" // the key: ignored
			return nil
		})
		if err != nil || q.Number != "700" || q.Name != "Helpdesk" || q.Strategy != switchboard.QueueFewestCalls ||
			agentsOf(q) != "1004,1002,1003+" || !q.UpdatedAt.After(before) {
			t.Errorf("UpdateQueue = %+v (agents %s), %v", q, agentsOf(q), err)
		}
		// The same agents in the same order are not written again: the logins stay as they are.
		store.SetLoggedIn(ctx, "700", "1004", true)
		q, err = store.UpdateQueue(ctx, "700", func(q *switchboard.Queue) error {
			q.MaxWait = 60
			q.Agents[0].LoggedIn = false // logins are SetLoggedIn's
			return nil
		})
		if err != nil || q.MaxWait != 60 || agentsOf(q) != "1004+,1002,1003+" {
			t.Errorf("UpdateQueue = %+v (agents %s), %v", q, agentsOf(q), err)
		}
	})
	t.Run("ErrUpdateAbortsWhole", func(t *testing.T) {
		// An error from the change function aborts the transaction and comes back unchanged.
		_, err := store.UpdateQueue(ctx, "700", func(q *switchboard.Queue) error {
			q.Name = "Changed"
			return switchboard.Errorf(switchboard.EINVALID, "no")
		})
		if switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("change error: %v", err)
		}
		// So does an agent who is not a user, with everything else the change made.
		_, err = store.UpdateQueue(ctx, "700", func(q *switchboard.Queue) error {
			q.Name, q.Agents = "Changed", []switchboard.QueueAgent{{Extension: "1003"}, {Extension: "1999"}}
			return nil
		})
		if switchboard.ErrorCode(err) != switchboard.EINVALID || switchboard.ErrorMessage(err) != "agent 1999 is not a user" {
			t.Errorf("update with an agent who is not a user: %v", err)
		}
		if q, _ := store.Queue(ctx, "700"); q.Name != "Helpdesk" || agentsOf(q) != "1004+,1002,1003+" {
			t.Errorf("aborted updates stored %+v", q)
		}
		if _, err := store.Queue(ctx, "702"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("an update moved the queue: %v", err)
		}
	})
	t.Run("InReadingOrder", func(t *testing.T) {
		for _, n := range []string{"9000", "71", "100000", "699", "70"} {
			if _, err := store.CreateQueue(ctx, queue(n, "Queue "+n, "1002")); err != nil {
				t.Fatal(err)
			}
		}
		queues, err := store.Queues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, q := range queues {
			got = append(got, q.Number+":"+agentsOf(q))
		}
		if want := "[70:1002 71:1002 699:1002 700:1004+,1002,1003+ 9000:1002 100000:1002]"; fmt.Sprint(got) != want {
			t.Errorf("Queues = %v, want %s", got, want)
		}
	})
	t.Run("AgentQueues", func(t *testing.T) {
		for _, c := range []struct{ ext, want string }{
			{"1002", "[70 71 699 700 9000 100000]"},
			{"1003", "[700]"},
			{"1001", "[]"}, // a user, but no agent any more
			{"4040", "[]"}, // no user at all
		} {
			queues, err := store.AgentQueues(ctx, c.ext)
			got := []string{}
			for _, q := range queues {
				got = append(got, q.Number)
			}
			if err != nil || fmt.Sprint(got) != c.want {
				t.Errorf("AgentQueues(%s) = %v, %v; want %s", c.ext, got, err, c.want)
			}
		}
	})
	t.Run("DeletingAUserDropsThemFromEveryQueue", func(t *testing.T) {
		if err := users.DeleteUser(ctx, "1004"); err != nil {
			t.Fatal(err)
		}
		if q, _ := store.Queue(ctx, "700"); agentsOf(q) != "1002,1003+" {
			t.Errorf("agents after the user was deleted: %s", agentsOf(q))
		}
		if err := users.DeleteUser(ctx, "1002"); err != nil {
			t.Fatal(err)
		}
		// A queue whose only agent went is still there, with nobody to take its calls.
		if q, err := store.Queue(ctx, "70"); err != nil || len(q.Agents) != 0 {
			t.Errorf("queue of a deleted user: %+v, %v", q, err)
		}
		// A re-created user is a new user: in no queue, and so logged in to none.
		mustCreateUsers(t, users, "1004")
		if queues, _ := store.AgentQueues(ctx, "1004"); len(queues) != 0 {
			t.Errorf("a re-created user came back into queues: %+v", queues)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := store.DeleteQueue(ctx, "700"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Queue(ctx, "700"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("deleted queue still there: %v", err)
		}
		// Its agents went with it, and its number is free.
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM queue_agents WHERE queue_number = '700'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d agents of a deleted queue left, %v", n, err)
		}
		if _, err := users.CreateUser(ctx, user("700", "Was Helpdesk")); err != nil {
			t.Errorf("user on a deleted queue's number: %v", err)
		}
	})
}

// Queues share the plan of numbers with users, rooms and groups: none can take another's, the
// conflict says so where the store names kinds, and deleting a queue frees its number.
// A queue's own mailbox is stored with it and read back as written, as a group's is (see
// TestGroupMailboxStore); the database refuses a PIN that is not 4 to 10 digits.
func TestQueueMailboxStore(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, testbed.NewDatabase(t))
	users, store := &postgres.UserStore{DB: db}, &postgres.QueueStore{DB: db}
	mustCreateUsers(t, users, "1001")
	want := queue("700", "Orders", "1001")
	want.Mailbox = switchboard.Mailbox{Enabled: true, PIN: "0815"}
	want.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationVoicemail, Number: "700"}
	if _, err := store.CreateQueue(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := store.Queue(ctx, "700")
	got.CreatedAt, got.UpdatedAt = time.Time{}, time.Time{}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Queue = %+v, %v; want %+v", got, err, want)
	}
	q, err := store.UpdateQueue(ctx, "700", func(q *switchboard.Queue) error {
		q.Mailbox.Enabled = false
		q.NoAnswer = switchboard.GroupDestination{Kind: switchboard.DestinationHangup}
		return nil
	})
	if err != nil || q.Mailbox != (switchboard.Mailbox{PIN: "0815"}) {
		t.Errorf("turned off: %+v, %v; want the PIN kept", q.Mailbox, err)
	}
	for _, pin := range []string{"08x5", "081", "1234\n"} {
		_, err := store.UpdateQueue(ctx, "700", func(q *switchboard.Queue) error {
			q.Mailbox.PIN = pin
			return nil
		})
		if switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Errorf("PIN %q: %v, want invalid", pin, err)
		}
	}
	if q, _ := store.Queue(ctx, "700"); q.Mailbox.PIN != "0815" {
		t.Errorf("a refused PIN was stored: %+v", q.Mailbox)
	}
}

func TestNumbersAreSharedWithQueues(t *testing.T) {
	ctx := context.Background()
	dsn := testbed.NewDatabase(t)
	db := MustOpenDB(t, dsn)
	users, rooms := &postgres.UserStore{DB: db}, &postgres.RoomStore{DB: db}
	groups, queues := &postgres.GroupStore{DB: db}, &postgres.QueueStore{DB: db}
	mustCreateUsers(t, users, "1001")
	if _, err := rooms.CreateRoom(ctx, room("800", "Sales")); err != nil {
		t.Fatal(err)
	}
	if _, err := groups.CreateGroup(ctx, group("600", "Support", "1001")); err != nil {
		t.Fatal(err)
	}
	if _, err := queues.CreateQueue(ctx, queue("700", "Orders", "1001")); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name   string
		create func() error
		msg    string
	}{
		{"ErrQueueOnAUsersNumber", func() error { _, err := queues.CreateQueue(ctx, queue("1001", "Clash", "1001")); return err },
			"number 1001 is in use"},
		{"ErrQueueOnARoomsNumber", func() error { _, err := queues.CreateQueue(ctx, queue("800", "Clash", "1001")); return err },
			"number 800 is in use"},
		{"ErrQueueOnAGroupsNumber", func() error { _, err := queues.CreateQueue(ctx, queue("600", "Clash", "1001")); return err },
			"number 600 is in use"},
		{"ErrUserOnAQueuesNumber", func() error { _, err := users.CreateUser(ctx, user("700", "Clash")); return err },
			"number 700 is in use by a call queue"},
		{"ErrRoomOnAQueuesNumber", func() error { _, err := rooms.CreateRoom(ctx, room("700", "Clash")); return err },
			"number 700 is in use"},
		{"ErrGroupOnAQueuesNumber", func() error { _, err := groups.CreateGroup(ctx, group("700", "Clash", "1001")); return err },
			"number 700 is in use"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.create(); switchboard.ErrorCode(err) != switchboard.ECONFLICT || switchboard.ErrorMessage(err) != tt.msg {
				t.Errorf("got %v, want conflict %q", err, tt.msg)
			}
		})
	}
	t.Run("NumbersCannotBeMovedBehindTheStores", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.Exec(ctx, `DELETE FROM queue_agents WHERE queue_number = '700'`)
		if _, err := tx.Exec(ctx, `UPDATE queues SET number = '702' WHERE number = '700'`); err == nil ||
			!strings.Contains(err.Error(), "cannot change") {
			t.Errorf("moving a queue: %v, want refused", err)
		}
		tx.Rollback(ctx)
		rows, _ := conn.Query(ctx, `SELECT number || ':' || kind FROM numbers ORDER BY number`)
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || fmt.Sprint(got) != "[1001:user 600:group 700:queue 800:room]" {
			t.Errorf("numbers = %v, %v", got, err)
		}
	})
	t.Run("DeletingAQueueFreesTheNumber", func(t *testing.T) {
		if err := queues.DeleteQueue(ctx, "700"); err != nil {
			t.Fatal(err)
		}
		if _, err := groups.CreateGroup(ctx, group("700", "Was Orders", "1001")); err != nil {
			t.Errorf("group on a deleted queue's number: %v", err)
		}
	})
}

// Logins changed while the agents are rewritten are neither lost nor refused: each SetLoggedIn
// waits for the rewrite or goes before it, and an agent who stays has the last login set.
func TestConcurrentLoginsAndUpdates(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, testbed.NewDatabase(t))
	users, store := &postgres.UserStore{DB: db}, &postgres.QueueStore{DB: db}
	mustCreateUsers(t, users, "1001", "1002", "1003")
	if _, err := store.CreateQueue(ctx, queue("700", "Orders", "1001", "1002")); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		var wg sync.WaitGroup
		var loginErr, updateErr error
		in := i%2 == 0
		start := make(chan struct{})
		wg.Go(func() { <-start; loginErr = store.SetLoggedIn(ctx, "700", "1001", in) })
		wg.Go(func() {
			<-start
			_, updateErr = store.UpdateQueue(ctx, "700", func(q *switchboard.Queue) error {
				// 1002 and 1003 take turns behind 1001, so that the agents are rewritten each time.
				q.Agents = []switchboard.QueueAgent{{Extension: "1001"}, {Extension: []string{"1003", "1002"}[i%2]}}
				return nil
			})
		})
		close(start)
		wg.Wait()
		if loginErr != nil || updateErr != nil {
			t.Fatalf("round %d: login %v, update %v", i, loginErr, updateErr)
		}
		if q, _ := store.Queue(ctx, "700"); q.Agents[0].LoggedIn != in {
			t.Fatalf("round %d: agents %s, want 1001 logged in %v", i, agentsOf(q), in)
		}
	}
}
