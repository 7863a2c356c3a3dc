package users

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/models"
)

// RestrictPasswords lets only the accounts allowed answers true for sign in
// with a password (single sign-on with local passwords off: only the
// break-glass admin). Others get the same answer as a wrong password, so the
// sign-in form tells nobody which accounts exist.
func (s *Service) RestrictPasswords(allowed func(email string) bool) { s.passwordsFor = allowed }

func (s *Service) passwordAllowed(email string) bool {
	return s.passwordsFor == nil || s.passwordsFor(NormaliseEmail(email))
}

// PasswordsAllowed reports whether the account with email may use a password
// at all (sign-in, reset, invitation).
func (s *Service) PasswordsAllowed(email string) bool { return s.passwordAllowed(email) }

// SSOLogin is what the identity provider said about a person signing in,
// with the role their groups map to.
type SSOLogin struct {
	Issuer, Subject string
	Email           string
	EmailVerified   bool
	Name            string
	Role            string
	CreateUsers     bool // just-in-time accounts
}

// SSO refusals: the message tells the person what to do.
var (
	ErrSSONoAccount = apperr.New(403, "You do not have a Storykeep account yet. Ask a Storykeep administrator to invite you.")
	ErrSSODisabled  = apperr.New(403, "Your Storykeep account is disabled. Ask a Storykeep administrator.")
)

// SignInSSO finds (or, when allowed, creates) the account for a provider
// identity and applies the role from the provider's groups, auditing a link,
// a creation and a role change in the same transaction. The first sign-in of
// an existing (invited) account links by its email when the provider vouches
// for the address.
func (s *Service) SignInSSO(ctx context.Context, in SSOLogin) (*models.User, error) {
	if !models.ValidRole(in.Role) {
		return nil, apperr.New(403, "No Storykeep role is mapped for you.")
	}
	email := NormaliseEmail(in.Email)
	var u models.User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now().UTC()
		var ident models.UserIdentity
		err := tx.Where("issuer = ? AND subject = ?", in.Issuer, in.Subject).Take(&ident).Error
		switch {
		case err == nil:
			if err := tx.Where("id = ?", ident.UserID).Take(&u).Error; err != nil {
				return err
			}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		default:
			err := tx.Where("email = ?", email).Take(&u).Error
			switch {
			case err == nil && in.EmailVerified:
				var other int64
				if err := tx.Model(&models.UserIdentity{}).Where("user_id = ? AND issuer = ?", u.ID, in.Issuer).Count(&other).Error; err != nil {
					return err
				}
				if other > 0 {
					// The account is already tied to another subject of this
					// provider: a reused address must not take it over.
					return apperr.New(403, "This email belongs to a Storykeep account linked to another sign-in at your provider. Ask a Storykeep administrator.")
				}
			case err == nil || errors.Is(err, gorm.ErrRecordNotFound):
				if err == nil || !in.CreateUsers {
					return ErrSSONoAccount
				}
				name := strings.TrimSpace(in.Name)
				if name == "" || len(name) > 200 {
					name = email
				}
				u = models.User{ID: uuid.Must(uuid.NewV7()).String(), Email: email, Name: name, Role: in.Role, CreatedAt: now, UpdatedAt: now}
				if err := tx.Create(&u).Error; err != nil {
					return err
				}
				if err := s.audit.Record(ctx, tx, audit.Entry{Action: "user.create", ObjectType: "user", ObjectID: u.ID, Details: map[string]any{"role": u.Role, "via": "sso"}}); err != nil {
					return err
				}
			default:
				return err
			}
			if err := tx.Create(&models.UserIdentity{Issuer: in.Issuer, Subject: in.Subject, UserID: u.ID, CreatedAt: now}).Error; err != nil {
				return err
			}
			if err := s.audit.Record(ctx, tx, audit.Entry{Action: "user.sso_link", ObjectType: "user", ObjectID: u.ID, Details: map[string]any{"issuer": in.Issuer}}); err != nil {
				return err
			}
		}
		if !u.Active() {
			return ErrSSODisabled
		}
		fields := map[string]any{"must_change_password": false, "updated_at": now}
		if u.Role != in.Role {
			fields["role"] = in.Role
			if err := s.audit.Record(ctx, tx, audit.Entry{Action: "user.set_role", ObjectType: "user", ObjectID: u.ID, Details: map[string]any{"from": u.Role, "to": in.Role, "by": "sso groups"}}); err != nil {
				return err
			}
			u.Role = in.Role
		}
		if err := tx.Model(&models.User{}).Where("id = ?", u.ID).Updates(fields).Error; err != nil {
			return err
		}
		u.MustChangePassword = false
		// Signing in with the provider answers any pending invitation: its
		// link must not later set a password.
		if err := tx.Model(&models.UserLink{}).Where("user_id = ? AND purpose = ? AND used_at IS NULL", u.ID, models.LinkInvite).Update("used_at", now).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "session.sso_login", ObjectType: "user", ObjectID: u.ID, Details: map[string]any{"issuer": in.Issuer, "role": u.Role}})
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// SSOUserID returns the account tied to a provider identity, or "".
func (s *Service) SSOUserID(ctx context.Context, issuer, subject string) string {
	var ident models.UserIdentity
	if s.db.WithContext(ctx).Where("issuer = ? AND subject = ?", issuer, subject).Take(&ident).Error != nil {
		return ""
	}
	return ident.UserID
}
