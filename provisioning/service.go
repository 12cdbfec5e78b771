package provisioning

import (
	"context"
	"fmt"

	"github.com/switchboard-pbx/switchboard"
)

// ConfigTrigger is told that users changed; it brings Asterisk's configuration up to date
// in the background (see Applier).
type ConfigTrigger interface {
	Trigger()
}

// Service is what admins do with users: every change is validated here, stored, and then
// applied to Asterisk. PostgreSQL is the source of truth: a change is committed even while
// Asterisk is unreachable and reaches it when it comes back.
type Service struct {
	Store    switchboard.UserStore
	Config   ConfigTrigger
	Presence switchboard.PresenceSource
	// Directory, when set, takes changed users at once, so that call control routes the next
	// call by the new settings without waiting for the configuration pass.
	Directory *Directory
}

// CreateUser validates and stores a new user. The returned password is the generated one, or
// "" when the admin chose it; it is shown once and never stored.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (switchboard.User, string, error) {
	if err := ValidateExtension(nu.Extension); err != nil {
		return switchboard.User{}, "", err
	}
	if err := ValidateName(nu.Name); err != nil {
		return switchboard.User{}, "", err
	}
	generated := ""
	password := nu.Password
	if password == "" {
		password = GeneratePassword()
		generated = password
	} else if err := ValidatePassword(password); err != nil {
		return switchboard.User{}, "", err
	}
	u := switchboard.User{
		Extension:   nu.Extension,
		Name:        nu.Name,
		Email:       nu.Email,
		RingTimeout: nu.RingTimeout,
		Credentials: NewCredentials(nu.Extension, password),
		Voicemail:   switchboard.Mailbox{Enabled: true, PIN: GeneratePIN()},
		Calls:       switchboard.DefaultCallSettings(),
	}
	u.OutboundCallerID = nu.OutboundCallerID
	if nu.Calls != nil {
		nu.Calls.Apply(&u.Calls)
	}
	if nu.Voicemail != nil {
		u.Voicemail = *nu.Voicemail
		if u.Voicemail.Enabled && u.Voicemail.PIN == "" {
			u.Voicemail.PIN = GeneratePIN()
		}
	}
	if u.RingTimeout == 0 {
		u.RingTimeout = DefaultRingTimeout
	}
	if err := ValidateUser(&u); err != nil {
		return switchboard.User{}, "", err
	}
	created, err := s.Store.CreateUser(ctx, u)
	if err != nil {
		return switchboard.User{}, "", fmt.Errorf("create user %s: %w", nu.Extension, err)
	}
	s.Config.Trigger()
	return created, generated, nil
}

// User returns one user.
func (s *Service) User(ctx context.Context, ext string) (switchboard.User, error) {
	if err := ValidateExtension(ext); err != nil {
		return switchboard.User{}, err
	}
	return s.Store.User(ctx, ext)
}

// Users returns a page of users after the given extension ("" for the first page).
func (s *Service) Users(ctx context.Context, after string, limit int) (switchboard.UserPage, error) {
	if after != "" {
		if err := ValidateExtension(after); err != nil {
			return switchboard.UserPage{}, switchboard.Errorf(switchboard.EINVALID, "after must be an extension")
		}
	}
	if limit < 1 || limit > 1000 {
		return switchboard.UserPage{}, switchboard.Errorf(switchboard.EINVALID, "limit must be 1 to 1000")
	}
	return s.Store.Users(ctx, after, limit)
}

// UpdateUser changes the given fields of a user.
func (s *Service) UpdateUser(ctx context.Context, ext string, p UserPatch) (switchboard.User, error) {
	if err := ValidateExtension(ext); err != nil {
		return switchboard.User{}, err
	}
	if p.Password != nil {
		if err := ValidatePassword(*p.Password); err != nil {
			return switchboard.User{}, err
		}
	}
	u, err := s.Store.UpdateUser(ctx, ext, func(u *switchboard.User) error {
		if p.Name != nil {
			u.Name = *p.Name
		}
		if p.Email != nil {
			u.Email = *p.Email
		}
		if p.OutboundCallerID != nil {
			u.OutboundCallerID = *p.OutboundCallerID
		}
		if p.Password != nil {
			u.Credentials = NewCredentials(u.Extension, *p.Password)
		}
		if p.RingTimeout != nil {
			u.RingTimeout = *p.RingTimeout
		}
		if p.Calls != nil {
			p.Calls.Apply(&u.Calls)
		}
		p.Voicemail.apply(&u.Voicemail)
		return ValidateUser(u)
	})
	if err != nil {
		return switchboard.User{}, fmt.Errorf("update user %s: %w", ext, err)
	}
	if s.Directory != nil {
		s.Directory.Changed(u)
	}
	s.Config.Trigger()
	return u, nil
}

// SetCallSettings changes a user's call settings only (the phone's feature codes do).
func (s *Service) SetCallSettings(ctx context.Context, ext string, p CallSettingsPatch) (switchboard.User, error) {
	return s.UpdateUser(ctx, ext, UserPatch{Calls: &p})
}

// ResetPassword sets a user's SIP password: the given one, or a generated one when password is
// "", which is then returned (once).
func (s *Service) ResetPassword(ctx context.Context, ext, password string) (string, error) {
	generated := ""
	if password == "" {
		password = GeneratePassword()
		generated = password
	}
	if _, err := s.UpdateUser(ctx, ext, UserPatch{Password: &password}); err != nil {
		return "", err
	}
	return generated, nil
}

// ResetPIN sets a user's voicemail PIN: the given one, or a generated one when pin is "",
// which is then returned (once). The PIN is never returned by anything else.
func (s *Service) ResetPIN(ctx context.Context, ext, pin string) (string, error) {
	generated := ""
	if pin == "" {
		pin = GeneratePIN()
		generated = pin
	} else if err := ValidatePIN(pin); err != nil {
		return "", err
	}
	if _, err := s.UpdateUser(ctx, ext, UserPatch{Voicemail: &VoicemailPatch{PIN: &pin}}); err != nil {
		return "", err
	}
	return generated, nil
}

// DeleteUser removes a user; their phone can no longer register and their extension is gone.
func (s *Service) DeleteUser(ctx context.Context, ext string) error {
	if err := ValidateExtension(ext); err != nil {
		return err
	}
	if err := s.Store.DeleteUser(ctx, ext); err != nil {
		return fmt.Errorf("delete user %s: %w", ext, err)
	}
	s.Config.Trigger()
	return nil
}

// UserPresence returns whether a user's phone is online, ringing or busy.
func (s *Service) UserPresence(ctx context.Context, ext string) (switchboard.Presence, error) {
	if _, err := s.User(ctx, ext); err != nil {
		return switchboard.Presence{}, err
	}
	return s.Presence.Presence(ctx, ext)
}
