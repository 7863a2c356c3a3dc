// Package organisation keeps the organisation's contact details (legal name,
// postal address, phone, privacy contact) and its time zone, edited by admins
// (issue 19 item 3). Consent forms, the e-sign disclosure, the patient's
// pages and emails and the certificate print these real contact routes, and
// no consent request can be sent until they are set.
package organisation

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // IANA zones even where the system has none (distroless images)
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/models"
)

// Profile is the organisation's identity and contact routes.
type Profile struct {
	LegalName     string
	PostalAddress string // one or more lines
	Phone         string
	PrivacyEmail  string
	TimeZone      string // IANA name, e.g. America/New_York; "" means UTC
}

// fields maps the settings keys to the profile and names each field for
// people (the consent error lists what to fill).
var fields = []struct {
	key, form, label string
	get              func(*Profile) *string
}{
	{"organisation.legal_name", "legal_name", "legal name", func(p *Profile) *string { return &p.LegalName }},
	{"organisation.postal_address", "postal_address", "postal address", func(p *Profile) *string { return &p.PostalAddress }},
	{"organisation.phone", "phone", "phone number", func(p *Profile) *string { return &p.Phone }},
	{"organisation.privacy_email", "privacy_email", "privacy contact email", func(p *Profile) *string { return &p.PrivacyEmail }},
	{"organisation.time_zone", "time_zone", "time zone", func(p *Profile) *string { return &p.TimeZone }},
}

// Missing names the contact details not yet set (the time zone defaults to
// UTC and is never missing).
func (p Profile) Missing() []string {
	var out []string
	for _, f := range fields {
		if f.form != "time_zone" && strings.TrimSpace(*f.get(&p)) == "" {
			out = append(out, f.label)
		}
	}
	return out
}

// Location is the organisation's time zone (UTC when unset or unknown).
func (p Profile) Location() *time.Location {
	if p.TimeZone == "" {
		return time.UTC
	}
	if l, err := time.LoadLocation(p.TimeZone); err == nil {
		return l
	}
	return time.UTC
}

// AddressLine is the postal address on one line.
func (p Profile) AddressLine() string {
	var parts []string
	for _, l := range strings.Split(strings.ReplaceAll(p.PostalAddress, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, ", ")
}

// ErrNotSet refuses work that needs the contact details before they exist.
func ErrNotSet(missing []string) error {
	return apperr.New(http.StatusConflict, "Set the organisation's "+strings.Join(missing, ", ")+
		" first (Admin → Organisation): the consent form, the e-sign disclosure and the certificate print them as the patient's contact routes.")
}

// Service reads and saves the profile in the settings table.
//
// Every patient page prints the profile (its footer), so a read is kept
// for cacheTTL: a change saved on this replica shows at once, one saved on
// another replica within cacheTTL.
type Service struct {
	db    *gorm.DB
	audit *audit.Log

	mu     sync.Mutex
	cached Profile
	until  time.Time
}

// cacheTTL bounds how long a replica prints contact details another
// replica has since changed.
const cacheTTL = 5 * time.Second

// New returns the service.
func New(db *gorm.DB, log *audit.Log) *Service { return &Service{db: db, audit: log} }

// Get returns the profile (empty fields when not set).
func (s *Service) Get(ctx context.Context) (Profile, error) {
	now := time.Now()
	s.mu.Lock()
	if now.Before(s.until) {
		p := s.cached
		s.mu.Unlock()
		return p, nil
	}
	s.mu.Unlock()
	p, err := s.read(ctx)
	if err != nil {
		return p, err
	}
	s.mu.Lock()
	s.cached, s.until = p, now.Add(cacheTTL)
	s.mu.Unlock()
	return p, nil
}

// forget drops the kept profile (after a save).
func (s *Service) forget() {
	s.mu.Lock()
	s.until = time.Time{}
	s.mu.Unlock()
}

func (s *Service) read(ctx context.Context) (Profile, error) {
	var p Profile
	var rows []models.Setting
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	if err := s.db.WithContext(ctx).Where("key IN ?", keys).Find(&rows).Error; err != nil {
		return p, err
	}
	for _, r := range rows {
		for _, f := range fields {
			if f.key == r.Key {
				*f.get(&p) = r.Value
			}
		}
	}
	return p, nil
}

// FormValues is the profile keyed by form field name.
func (p Profile) FormValues() map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		m[f.form] = *f.get(&p)
	}
	return m
}

// FromForm reads a profile from form values keyed by field name.
func FromForm(get func(string) string) Profile {
	var p Profile
	for _, f := range fields {
		*f.get(&p) = get(f.form)
	}
	return p
}

func (p *Profile) validate() apperr.FieldErrors {
	fe := apperr.FieldErrors{}
	for _, f := range fields {
		v := f.get(p)
		*v = strings.TrimSpace(strings.ReplaceAll(*v, "\r\n", "\n"))
		if f.form != "time_zone" && *v == "" {
			fe[f.form] = "Enter the organisation's " + f.label + "."
		} else if utf8.RuneCountInString(*v) > 500 || !utf8.ValidString(*v) {
			fe[f.form] = "Keep the " + f.label + " under 500 characters."
		}
	}
	if _, bad := fe["phone"]; !bad && p.Phone != "" {
		digits := 0
		for _, r := range p.Phone {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case strings.ContainsRune(" +-().", r):
			default:
				digits = -100
			}
		}
		if digits < 7 || digits > 20 {
			fe["phone"] = "Enter a phone number of 7 to 20 digits (spaces, +, -, brackets and dots allowed), e.g. +1 555 010 0100."
		}
	}
	if _, bad := fe["privacy_email"]; !bad && p.PrivacyEmail != "" {
		if a, err := mail.ParseAddress(p.PrivacyEmail); err != nil || a.Address != p.PrivacyEmail {
			fe["privacy_email"] = "Enter an email address such as privacy@hospital.example."
		}
	}
	if _, bad := fe["time_zone"]; !bad {
		if p.TimeZone == "" {
			p.TimeZone = "UTC"
		}
		if _, err := time.LoadLocation(p.TimeZone); err != nil || strings.HasPrefix(p.TimeZone, "/") || p.TimeZone == "Local" {
			fe["time_zone"] = "Enter an IANA time zone name such as America/New_York, Europe/Madrid or UTC."
		}
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// Save validates and stores the profile, audited in the same transaction;
// bad input returns apperr.FieldErrors keyed by form field.
func (s *Service) Save(ctx context.Context, userID string, p Profile) error {
	if fe := p.validate(); fe != nil {
		return fe
	}
	old, err := s.read(ctx)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	defer s.forget() // the next read sees what this saved
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var changed []string
		for _, f := range fields {
			v := *f.get(&p)
			if *f.get(&old) == v {
				continue
			}
			changed = append(changed, f.form)
			row := models.Setting{Key: f.key, Value: v, UpdatedBy: userID, UpdatedAt: now}
			if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}},
				DoUpdates: clause.AssignmentColumns([]string{"value", "updated_by", "updated_at"})}).Create(&row).Error; err != nil {
				return err
			}
		}
		if len(changed) == 0 {
			return nil
		}
		// The organisation's own contact details, not a patient's: the
		// values are kept in the audit entry.
		return s.audit.Record(ctx, tx, audit.Entry{Action: "organisation.update", ObjectType: "setting", ObjectID: "organisation",
			Details: map[string]any{"changed": changed, "legal_name": p.LegalName, "postal_address": p.PostalAddress, "phone": p.Phone,
				"privacy_email": p.PrivacyEmail, "time_zone": p.TimeZone}})
	})
}

// IsFieldErrors reports whether err is a validation failure.
func IsFieldErrors(err error) (apperr.FieldErrors, bool) {
	var fe apperr.FieldErrors
	ok := errors.As(err, &fe)
	return fe, ok
}
