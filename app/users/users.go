// Package users manages staff accounts: creating, signing in (with
// throttling and optional TOTP), roles, disabling, password changes. Every
// change is audited in the same transaction.
package users

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/auth"
	"github.com/storykeep/storykeep/app/crypto"
	"github.com/storykeep/storykeep/models"
)

// Limits on failed sign-ins.
type Limits struct {
	PerAccount int
	PerIP      int
	Window     time.Duration
}

// Service is the staff account service.
type Service struct {
	db       *gorm.DB
	audit    *audit.Log
	keys     *crypto.Keyring
	throttle *auth.Throttle
	limits   Limits
	// passwordsFor, when set, says which accounts may sign in with a
	// password (single sign-on with local passwords off; see sso.go).
	passwordsFor func(email string) bool
}

// New returns the service.
func New(db *gorm.DB, log *audit.Log, keys *crypto.Keyring, limits Limits) *Service {
	return &Service{db: db, audit: log, keys: keys, throttle: auth.NewThrottle(db, limits.Window), limits: limits}
}

// NewUser is the input to Create.
type NewUser struct {
	Email, Name, Role, Password string
	MustChangePassword          bool
}

// FieldErrors maps form fields to what is wrong with them.
type FieldErrors = apperr.FieldErrors

// NormaliseEmail lower-cases and trims an email address.
func NormaliseEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func validate(in *NewUser) FieldErrors {
	fe := FieldErrors{}
	in.Email = NormaliseEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
		fe["email"] = "Enter an email address like name@hospital.org."
	}
	if in.Name == "" {
		fe["name"] = "Enter the person's name."
	} else if len(in.Name) > 200 {
		fe["name"] = "Name must be at most 200 characters."
	}
	if !models.ValidRole(in.Role) {
		fe["role"] = "Choose one of: " + strings.Join(models.Roles, ", ") + "."
	}
	if err := auth.CheckPasswordPolicy(in.Password); err != nil {
		fe["password"] = capitalise(err.Error()) + "."
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Create adds a staff user. A duplicate email is a field error.
func (s *Service) Create(ctx context.Context, in NewUser) (*models.User, error) {
	if fe := validate(&in); fe != nil {
		return nil, fe
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	u := &models.User{ID: uuid.Must(uuid.NewV7()).String(), Email: in.Email, Name: in.Name, Role: in.Role, PasswordHash: hash, MustChangePassword: in.MustChangePassword}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(u).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return FieldErrors{"email": "A user with this email already exists."}
			}
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "user.create", ObjectType: "user", ObjectID: u.ID, Details: map[string]any{"role": u.Role}})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// EnsureFirstAdmin creates an admin with a random password when there are no
// users at all, and returns the password (empty when users already exist, so
// it is shown once and never again).
func (s *Service) EnsureFirstAdmin(ctx context.Context, email string) (string, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&models.User{}).Count(&n).Error; err != nil {
		return "", err
	}
	if n > 0 {
		return "", nil
	}
	pw := auth.RandomPassword()
	_, err := s.Create(audit.WithActor(ctx, audit.System), NewUser{Email: email, Name: "Administrator", Role: models.RoleAdmin, Password: pw, MustChangePassword: true})
	var fe FieldErrors
	if errors.As(err, &fe) && fe["email"] != "" && strings.Contains(fe["email"], "already exists") {
		return "", nil // another replica created it first
	}
	if err != nil {
		return "", fmt.Errorf("creating first admin: %w", err)
	}
	return pw, nil
}

// Get returns a user by id.
func (s *Service) Get(ctx context.Context, id string) (*models.User, error) {
	var u models.User
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.NotFound("That user does not exist.")
	}
	return &u, err
}

// GetByEmail returns a user by email.
func (s *Service) GetByEmail(ctx context.Context, email string) (*models.User, error) {
	var u models.User
	err := s.db.WithContext(ctx).Where("email = ?", NormaliseEmail(email)).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.NotFound("No user has that email.")
	}
	return &u, err
}

// List returns all users ordered by name.
func (s *Service) List(ctx context.Context) ([]models.User, error) {
	var us []models.User
	err := s.db.WithContext(ctx).Order("name, email").Find(&us).Error
	return us, err
}

// Sign-in outcomes.
var (
	ErrBadCredentials = apperr.New(401, "That email and password do not match an active account.")
	ErrBadCode        = apperr.New(401, "That code is not right or has expired. Enter the current six-digit code from your authenticator app.")
)

// Authenticate checks email and password, applying per-account and per-IP
// throttles. It returns the user; the caller completes sign-in (and asks for
// a TOTP code first when the user has one).
func (s *Service) Authenticate(ctx context.Context, email, password, ip string) (*models.User, error) {
	email = NormaliseEmail(email)
	// Each attempt is counted before the password is checked, atomically, so
	// parallel guesses get no more checks than the limit (F15); a right
	// password gives its attempts back.
	var claimed []string
	refund := func() {
		for _, k := range claimed {
			_ = s.throttle.Refund(ctx, k)
		}
	}
	for _, k := range []struct {
		key string
		max int
	}{{"acct:" + email, s.limits.PerAccount}, {"ip:" + ip, s.limits.PerIP}} {
		ok, wait, err := s.throttle.Claim(ctx, k.key, k.max)
		if err != nil {
			refund()
			return nil, err
		}
		if !ok {
			refund()
			_ = s.audit.Record(ctx, nil, audit.Entry{Action: "session.login_throttled", ObjectType: "session", Details: map[string]any{"scope": strings.SplitN(k.key, ":", 2)[0]}})
			mins := int(wait.Minutes()) + 1
			return nil, apperr.New(429, fmt.Sprintf("Too many failed sign-in attempts. Wait %d minute%s and try again, or ask an admin to reset your password.", mins, plural(mins)))
		}
		claimed = append(claimed, k.key)
	}
	var u models.User
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&u).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		refund()
		return nil, err
	}
	if !auth.CheckPassword(password, u.PasswordHash) || !u.Active() || !s.passwordAllowed(email) {
		_ = s.audit.Record(ctx, nil, audit.Entry{Action: "session.login_failed", ObjectType: "user", ObjectID: u.ID})
		return nil, ErrBadCredentials
	}
	refund()
	return &u, nil
}

// ConfirmPassword asks a signed-in user for their password again before a
// sensitive change (turning two-step sign-in off or re-enrolling, F13). Wrong
// answers count against the account like failed sign-ins.
func (s *Service) ConfirmPassword(ctx context.Context, u *models.User, password string) error {
	key := "acct:" + u.Email
	ok, wait, err := s.throttle.Claim(ctx, key, s.limits.PerAccount)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(429, fmt.Sprintf("Too many wrong passwords. Wait %d minutes and try again.", int(wait.Minutes())+1))
	}
	if !auth.CheckPassword(password, u.PasswordHash) {
		_ = s.audit.Record(ctx, nil, audit.Entry{Action: "user.password_confirm_failed", ObjectType: "user", ObjectID: u.ID})
		return FieldErrors{"password": "Your password is not right."}
	}
	_ = s.throttle.Refund(ctx, key)
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// CheckTOTP verifies a second-factor code for u, throttled like passwords.
// Each code works once: the step it belongs to must be later than the last
// step used, and recording it is one conditional UPDATE, so the same code
// sent twice in parallel signs in once (F13).
func (s *Service) CheckTOTP(ctx context.Context, u *models.User, code string) error {
	key := "totp:" + u.ID
	ok, wait, err := s.throttle.Claim(ctx, key, s.limits.PerAccount)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(429, fmt.Sprintf("Too many wrong codes. Wait %d minutes and try again.", int(wait.Minutes())+1))
	}
	secret, err := s.keys.Open(u.TOTPSecret, "user:"+u.ID+":totp")
	step, valid := auth.TOTPStep(strings.TrimSpace(code), secret, time.Now())
	if err == nil && valid {
		res := s.db.WithContext(ctx).Model(&models.User{}).Where("id = ? AND totp_last_step < ?", u.ID, step).UpdateColumn("totp_last_step", step)
		if res.Error != nil {
			return res.Error
		}
		valid = res.RowsAffected == 1
	}
	if err != nil || !valid {
		_ = s.audit.Record(ctx, nil, audit.Entry{Action: "session.totp_failed", ObjectType: "user", ObjectID: u.ID})
		return ErrBadCode
	}
	_ = s.throttle.Reset(ctx, key)
	return nil
}

// RecordLogin notes a completed sign-in and clears the account's failures.
func (s *Service) RecordLogin(ctx context.Context, u *models.User, ip string) error {
	_ = s.throttle.Reset(ctx, "acct:"+u.Email)
	now := time.Now().UTC()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(u).UpdateColumn("last_login_at", now).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "session.login", ObjectType: "user", ObjectID: u.ID})
	})
}

// update applies fields to user id and audits action, in one transaction.
// endsSessions are the changes after which none of the user's sessions may
// go on (F12): whoever held a session may be who the change locks out. A
// user changing their own credentials keeps the session they did it in under
// a new token (the web layer renews it).
var endsSessions = map[string]bool{"user.change_password": true, "user.reset_password": true, "user.totp_enable": true, "user.totp_disable": true, "user.disable": true}

func (s *Service) update(ctx context.Context, id, action string, fields map[string]any, details map[string]any) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		fields["updated_at"] = time.Now().UTC()
		res := tx.Model(&models.User{}).Where("id = ?", id).Updates(fields)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.NotFound("That user does not exist.")
		}
		if endsSessions[action] {
			if err := tx.Where("user_id = ?", id).Delete(&models.Session{}).Error; err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "user", ObjectID: id, Details: details})
	})
}

// SetRole changes a user's role. An admin cannot demote themselves, so an
// organisation is never left without one by accident.
func (s *Service) SetRole(ctx context.Context, id, role string) error {
	if !models.ValidRole(role) {
		return apperr.New(422, "Choose one of: "+strings.Join(models.Roles, ", ")+".")
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if u.Role == models.RoleAdmin && role != models.RoleAdmin {
		if err := s.ensureAnotherAdmin(ctx, id); err != nil {
			return err
		}
	}
	return s.update(ctx, id, "user.set_role", map[string]any{"role": role}, map[string]any{"from": u.Role, "to": role})
}

func (s *Service) ensureAnotherAdmin(ctx context.Context, id string) error {
	var n int64
	if err := s.db.WithContext(ctx).Model(&models.User{}).Where("role = ? AND id <> ? AND disabled_at IS NULL", models.RoleAdmin, id).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(409, "This is the only active admin. Make someone else an admin first.")
	}
	return nil
}

// SetDisabled disables or re-enables an account. Disabling ends the user's
// sessions at their next request (the session middleware checks).
func (s *Service) SetDisabled(ctx context.Context, id string, disabled bool) error {
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if disabled && u.Role == models.RoleAdmin {
		if err := s.ensureAnotherAdmin(ctx, id); err != nil {
			return err
		}
	}
	if disabled {
		now := time.Now().UTC()
		return s.update(ctx, id, "user.disable", map[string]any{"disabled_at": &now}, nil)
	}
	return s.update(ctx, id, "user.enable", map[string]any{"disabled_at": gorm.Expr("NULL")}, nil)
}

// ChangePassword sets a new password after checking the current one.
func (s *Service) ChangePassword(ctx context.Context, u *models.User, current, next string) error {
	if !auth.CheckPassword(current, u.PasswordHash) {
		return FieldErrors{"current": "Your current password is not right."}
	}
	if current == next {
		return FieldErrors{"new": "Choose a password different from the current one."}
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		return FieldErrors{"new": capitalise(err.Error()) + "."}
	}
	return s.update(ctx, u.ID, "user.change_password", map[string]any{"password_hash": hash, "must_change_password": false}, nil)
}

// ResetPassword sets a temporary password (admin or command line) that must be
// changed at next sign-in.
func (s *Service) ResetPassword(ctx context.Context, id, pw string) error {
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	return s.update(ctx, id, "user.reset_password", map[string]any{"password_hash": hash, "must_change_password": true}, nil)
}

// BeginTOTP creates a new secret for u (not yet active) and returns it with a QR code.
func (s *Service) BeginTOTP(ctx context.Context, u *models.User) (secret, qr string, err error) {
	return auth.NewTOTPKey("Storykeep", u.Email)
}

// EnableTOTP turns on two-factor sign-in once the user proves the secret works.
func (s *Service) EnableTOTP(ctx context.Context, u *models.User, secret, code string) error {
	if !auth.ValidTOTP(strings.TrimSpace(code), secret, time.Now()) {
		return FieldErrors{"code": "That code does not match. Check the time on your phone and enter the current code."}
	}
	sealed, err := s.keys.Seal(secret, "user:"+u.ID+":totp")
	if err != nil {
		return err
	}
	return s.update(ctx, u.ID, "user.totp_enable", map[string]any{"totp_secret": sealed, "totp_enabled": true, "totp_last_step": 0}, nil)
}

// DisableTOTP turns off two-factor sign-in for u.
func (s *Service) DisableTOTP(ctx context.Context, id string) error {
	return s.update(ctx, id, "user.totp_disable", map[string]any{"totp_secret": "", "totp_enabled": false}, nil)
}
