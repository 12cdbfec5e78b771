package provisioning_test

import (
	"context"
	"testing"

	"github.com/switchboard-pbx/switchboard"
	"github.com/switchboard-pbx/switchboard/provisioning"
	"github.com/switchboard-pbx/switchboard/provisioning/inmem"
)

type countingTrigger struct{ n int }

func (c *countingTrigger) Trigger() { c.n++ }

func newService() (*provisioning.Service, *inmem.UserStore, *countingTrigger) {
	store, trig := inmem.NewUserStore(), &countingTrigger{}
	return &provisioning.Service{Store: store, Config: trig}, store, trig
}

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		svc, store, trig := newService()
		u, password, err := svc.CreateUser(ctx, provisioning.NewUser{Extension: "1001", Name: "Alice Smith"})
		if err != nil {
			t.Fatal(err)
		}
		if password == "" || u.Credentials != provisioning.NewCredentials("1001", password) {
			t.Errorf("generated password %q does not match the stored digests", password)
		}
		if !u.Voicemail.Enabled || provisioning.ValidatePIN(u.Voicemail.PIN) != nil {
			t.Errorf("voicemail = %+v, want enabled with a generated PIN", u.Voicemail)
		}
		if u.RingTimeout != provisioning.DefaultRingTimeout {
			t.Errorf("ring timeout %d", u.RingTimeout)
		}
		if stored, _ := store.User(ctx, "1001"); stored.Name != "Alice Smith" || trig.n != 1 {
			t.Errorf("stored %+v, %d triggers", stored, trig.n)
		}
	})
	t.Run("ChosenPasswordIsNotReturned", func(t *testing.T) {
		svc, _, _ := newService()
		u, password, err := svc.CreateUser(ctx, provisioning.NewUser{Extension: "1001", Name: "A", Password: "chosen-password-1"})
		if err != nil || password != "" || u.Credentials != provisioning.NewCredentials("1001", "chosen-password-1") {
			t.Errorf("password %q, err %v", password, err)
		}
	})
	t.Run("ErrDuplicateExtension", func(t *testing.T) {
		svc, _, trig := newService()
		svc.CreateUser(ctx, provisioning.NewUser{Extension: "1001", Name: "Alice"})
		_, _, err := svc.CreateUser(ctx, provisioning.NewUser{Extension: "1001", Name: "Mallory"})
		if switchboard.ErrorCode(err) != switchboard.ECONFLICT {
			t.Errorf("duplicate: %v", err)
		}
		if trig.n != 1 {
			t.Errorf("%d triggers, want 1 (the failed create changes nothing)", trig.n)
		}
	})
	t.Run("ErrInvalidChangesNothing", func(t *testing.T) {
		svc, store, trig := newService()
		bad := []provisioning.NewUser{
			{Extension: "1", Name: "A"},
			{Extension: "1001", Name: "A\n[evil]"},
			{Extension: "1001", Name: "A", Password: "short"},
			{Extension: "1001", Name: "A", RingTimeout: 500},
			{Extension: "1001", Name: "A", Voicemail: &switchboard.Mailbox{Enabled: true, PIN: "12;4"}},
		}
		for _, nu := range bad {
			if _, _, err := svc.CreateUser(ctx, nu); switchboard.ErrorCode(err) != switchboard.EINVALID {
				t.Errorf("CreateUser(%+v) = %v, want invalid", nu, err)
			}
		}
		if all, _ := store.AllUsers(ctx); len(all) != 0 || trig.n != 0 {
			t.Errorf("%d users stored, %d triggers after rejected input", len(all), trig.n)
		}
	})
}

func TestUpdateUser(t *testing.T) {
	ctx := context.Background()
	svc, store, _ := newService()
	svc.CreateUser(ctx, provisioning.NewUser{Extension: "1001", Name: "Alice", Password: "first-password-1"})
	t.Run("Password", func(t *testing.T) {
		pw := "second-password-2"
		if _, err := svc.UpdateUser(ctx, "1001", provisioning.UserPatch{Password: &pw}); err != nil {
			t.Fatal(err)
		}
		if u, _ := store.User(ctx, "1001"); u.Credentials != provisioning.NewCredentials("1001", pw) {
			t.Error("password not changed")
		}
	})
	t.Run("ErrInvalidNameKeepsUser", func(t *testing.T) {
		name := "Alice;evil"
		_, err := svc.UpdateUser(ctx, "1001", provisioning.UserPatch{Name: &name})
		if switchboard.ErrorCode(err) != switchboard.EINVALID {
			t.Fatalf("got %v", err)
		}
		if u, _ := store.User(ctx, "1001"); u.Name != "Alice" {
			t.Errorf("name became %q", u.Name)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		name := "X"
		if _, err := svc.UpdateUser(ctx, "4040", provisioning.UserPatch{Name: &name}); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			t.Errorf("got %v", err)
		}
	})
	t.Run("ResetPasswordGenerates", func(t *testing.T) {
		pw, err := svc.ResetPassword(ctx, "1001", "")
		if err != nil || len(pw) != provisioning.GeneratedPasswordLength {
			t.Fatalf("ResetPassword = %q, %v", pw, err)
		}
		if u, _ := store.User(ctx, "1001"); u.Credentials != provisioning.NewCredentials("1001", pw) {
			t.Error("generated password not stored")
		}
	})
}

func TestPresenceFromStates(t *testing.T) {
	tests := []struct {
		endpoint, device string
		want             switchboard.PresenceState
	}{
		{"online", "NOT_INUSE", switchboard.Online},
		{"online", "INUSE", switchboard.Busy},
		{"online", "BUSY", switchboard.Busy},
		{"online", "ONHOLD", switchboard.Busy},
		{"online", "RINGING", switchboard.Ringing},
		{"online", "RINGINUSE", switchboard.Ringing},
		{"offline", "UNAVAILABLE", switchboard.Offline},
		{"unknown", "NOT_INUSE", switchboard.Offline}, // registered but never qualified
		{"online", "UNAVAILABLE", switchboard.Offline},
	}
	for _, tt := range tests {
		if got := switchboard.PresenceFromStates(tt.endpoint, tt.device); got != tt.want {
			t.Errorf("switchboard.PresenceFromStates(%s, %s) = %s, want %s", tt.endpoint, tt.device, got, tt.want)
		}
	}
}

// A changed user's call settings reach the directory at once; a new user waits for the pass.
func TestUpdateReachesTheDirectory(t *testing.T) {
	ctx := context.Background()
	store := inmem.NewUserStore()
	dir := &provisioning.Directory{Store: store}
	s := &provisioning.Service{Store: store, Config: &countingTrigger{}, Directory: dir}
	if _, _, err := s.CreateUser(ctx, provisioning.NewUser{Extension: "1001", Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	all, _ := store.ChangesSince(ctx, 0)
	dir.Apply(all, true) // the configuration pass
	on := true
	if _, err := s.SetCallSettings(ctx, "1001", provisioning.CallSettingsPatch{DND: &on}); err != nil {
		t.Fatal(err)
	}
	if u, err := dir.User(ctx, "1001"); err != nil || !u.Calls.DND {
		t.Errorf("directory has %+v (%v), want DND on at once", u.Calls, err)
	}
	if _, _, err := s.CreateUser(ctx, provisioning.NewUser{Extension: "1002", Name: "Bob"}); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.User(ctx, "1002"); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Errorf("a new user is in the directory before the pass: %v", err)
	}
}
