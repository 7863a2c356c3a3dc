package users

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/auth"
	"github.com/storykeep/storykeep/models"
)

// ErrLinkInvalid is the one answer for a link that is unknown, used,
// expired or for a disabled account: a guesser learns nothing.
var ErrLinkInvalid = apperr.New(410, "This link does not work any more: it was already used, has expired, or was never issued. Ask a Storykeep administrator for a new invitation, or start a password reset again.")

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// issueLink makes a new single-use link for user id (spending any earlier
// unused link of the same purpose) and returns its token. Only the token's
// SHA-256 is stored.
func (s *Service) issueLink(ctx context.Context, tx *gorm.DB, userID, purpose string, ttl time.Duration) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := time.Now().UTC()
	if err := tx.Model(&models.UserLink{}).Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, purpose).Update("used_at", now).Error; err != nil {
		return "", err
	}
	l := models.UserLink{ID: uuid.Must(uuid.NewV7()).String(), UserID: userID, Purpose: purpose, TokenHash: hashToken(token), ExpiresAt: now.Add(ttl), CreatedAt: now}
	if err := tx.Create(&l).Error; err != nil {
		return "", err
	}
	return token, nil
}

// Invite creates an account without a usable password and an invitation
// link valid for ttl. The caller emails the link; nobody sees a password.
func (s *Service) Invite(ctx context.Context, in NewUser, ttl time.Duration) (*models.User, string, error) {
	in.Password = "placeholder that passes the policy" // no password is set; validate the rest
	if fe := validate(&in); fe != nil {
		return nil, "", fe
	}
	now := time.Now().UTC()
	u := &models.User{ID: uuid.Must(uuid.NewV7()).String(), Email: in.Email, Name: in.Name, Role: in.Role, CreatedAt: now, UpdatedAt: now}
	var token string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(u).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return FieldErrors{"email": "A user with this email already exists."}
			}
			return err
		}
		var err error
		if token, err = s.issueLink(ctx, tx, u.ID, models.LinkInvite, ttl); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "user.invite", ObjectType: "user", ObjectID: u.ID, Details: map[string]any{"role": u.Role}})
	})
	if err != nil {
		return nil, "", err
	}
	return u, token, nil
}

// Reinvite issues a fresh invitation link for an existing account (the
// earlier one stops working).
func (s *Service) Reinvite(ctx context.Context, id string, ttl time.Duration) (*models.User, string, error) {
	u, err := s.Get(ctx, id)
	if err != nil {
		return nil, "", err
	}
	var token string
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if token, err = s.issueLink(ctx, tx, u.ID, models.LinkInvite, ttl); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "user.invite", ObjectType: "user", ObjectID: u.ID, Details: map[string]any{"again": true}})
	})
	return u, token, err
}

// LinkUser returns the account a still-valid link of purpose belongs to.
func (s *Service) LinkUser(ctx context.Context, purpose, token string) (*models.User, error) {
	var l models.UserLink
	err := s.db.WithContext(ctx).Where("token_hash = ? AND purpose = ?", hashToken(token), purpose).Take(&l).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, err
	}
	if l.UsedAt != nil || !time.Now().UTC().Before(l.ExpiresAt) {
		return nil, ErrLinkInvalid
	}
	u, err := s.Get(ctx, l.UserID)
	if err != nil || !u.Active() {
		return nil, ErrLinkInvalid
	}
	return u, nil
}

// UseLink spends a link of purpose. With a password (invitations and
// resets when passwords are allowed) it sets it; with "" it only spends the
// link (an invitation answered by single sign-on). Spending is atomic: of
// two concurrent uses only one succeeds.
func (s *Service) UseLink(ctx context.Context, purpose, token, password string) (*models.User, error) {
	u, err := s.LinkUser(ctx, purpose, token)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{"must_change_password": false, "updated_at": time.Now().UTC()}
	if password != "" {
		hash, err := HashNewPassword(password)
		if err != nil {
			return nil, err
		}
		fields["password_hash"] = hash
	}
	action := map[string]string{models.LinkInvite: "user.invite_accepted", models.LinkReset: "user.reset_password_link"}[purpose]
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now().UTC()
		res := tx.Model(&models.UserLink{}).Where("token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), purpose, now).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrLinkInvalid
		}
		if err := tx.Model(&models.User{}).Where("id = ?", u.ID).Updates(fields).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "user", ObjectID: u.ID, Details: map[string]any{"password_set": password != ""}})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, u.ID)
}

// HashNewPassword hashes a chosen password or explains, as a field error,
// why it is not acceptable.
func HashNewPassword(pw string) (string, error) {
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return "", FieldErrors{"password": capitalise(err.Error()) + "."}
	}
	return hash, nil
}

// StartReset begins a password reset asked for by someone at ip. It
// returns the account and link when one should be emailed, and nothing
// otherwise (no such account, disabled, passwords not allowed for it, or
// throttled); the caller answers the same in every case.
func (s *Service) StartReset(ctx context.Context, email, ip string, ttl time.Duration) (*models.User, string, error) {
	email = NormaliseEmail(email)
	for _, k := range []struct {
		key string
		max int
	}{{"reset:acct:" + email, s.limits.PerAccount}, {"reset:ip:" + ip, s.limits.PerIP}} {
		blocked, _, err := s.throttle.Blocked(ctx, k.key, k.max)
		if err != nil {
			return nil, "", err
		}
		if blocked {
			_ = s.audit.Record(ctx, nil, audit.Entry{Action: "user.reset_throttled", ObjectType: "session"})
			return nil, "", nil
		}
	}
	// Every request counts, so the links cannot be used to flood a mailbox.
	_ = s.throttle.Fail(ctx, "reset:acct:"+email)
	_ = s.throttle.Fail(ctx, "reset:ip:"+ip)
	var u models.User
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && (!u.Active() || !s.passwordAllowed(email))) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	var token string
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if token, err = s.issueLink(ctx, tx, u.ID, models.LinkReset, ttl); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "user.reset_requested", ObjectType: "user", ObjectID: u.ID})
	})
	if err != nil {
		return nil, "", err
	}
	return &u, token, nil
}
