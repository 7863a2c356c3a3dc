// Package consent holds the parts of the HIPAA authorization (45 CFR 164.508)
// that do not depend on a particular story: the versioned form templates and
// the check that they carry every required element, the canonical digest of
// the content a patient signs, the single-use link tokens and the PDF
// certificate that is the patient's copy and the organisation's evidence.
package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/models"
)

// Templates is the consent form template service. Only drafts change; an
// active or retired template is frozen because signed records point at it.
type Templates struct {
	db    *gorm.DB
	audit *audit.Log
	now   func() time.Time
}

// NewTemplates returns the service.
func NewTemplates(db *gorm.DB, log *audit.Log) *Templates {
	return &Templates{db: db, audit: log, now: func() time.Time { return time.Now().UTC() }}
}

// TemplateInput is what staff edit on a draft.
type TemplateInput struct {
	Name     string
	Language string
	Body     string
}

// FieldErrors maps form fields to what is wrong with them.
type FieldErrors = apperr.FieldErrors

// NotReadyError refuses activation and carries every reason, so the person
// editing the form sees the whole list at once rather than one per attempt.
type NotReadyError struct{ Missing []Missing }

// Error joins every missing element into one sentence list.
func (e *NotReadyError) Error() string {
	parts := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		parts[i] = m.Element + ": " + m.Explanation
	}
	return "this template cannot be activated: " + strings.Join(parts, " ")
}

// ErrTemplateNotFound is returned for an unknown template id, or when no
// template is active in a language.
var ErrTemplateNotFound = apperr.NotFound("That consent form template does not exist.")

// ErrNotDraft is returned when changing a template that is no longer a draft.
var ErrNotDraft = apperr.New(409, "Only a draft template can be changed. Make a new version instead.")

func (in *TemplateInput) validate() FieldErrors {
	fe := FieldErrors{}
	in.Name = strings.TrimSpace(in.Name)
	in.Body = canon(in.Body)
	if in.Name == "" || len(in.Name) > 200 {
		fe["name"] = "Enter a name of up to 200 characters."
	}
	if _, ok := Languages[in.Language]; !ok {
		fe["language"] = "Choose English or Spanish."
	}
	if strings.TrimSpace(in.Body) == "" {
		fe["body"] = "Enter the text of the form."
	} else if _, err := renderBody(in.Body, sampleData(true)); err != nil {
		fe["body"] = "The placeholders cannot be filled in: " + err.Error()
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// CreateDraft stores a new draft as the next version in its language.
func (s *Templates) CreateDraft(ctx context.Context, in TemplateInput) (*models.ConsentTemplate, error) {
	if fe := in.validate(); fe != nil {
		return nil, fe
	}
	var t *models.ConsentTemplate
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		t, err = s.insert(ctx, tx, in, models.TemplateDraft)
		return err
	})
	return t, err
}

func (s *Templates) insert(ctx context.Context, tx *gorm.DB, in TemplateInput, status string) (*models.ConsentTemplate, error) {
	var last int
	if err := tx.Model(&models.ConsentTemplate{}).Where("language = ?", in.Language).
		Select("COALESCE(MAX(version), 0)").Scan(&last).Error; err != nil {
		return nil, err
	}
	now := s.now()
	t := &models.ConsentTemplate{ID: uuid.Must(uuid.NewV7()).String(), Name: in.Name, Language: in.Language,
		Version: last + 1, Body: in.Body, TextSHA256: TextSHA256(in.Body), Status: status,
		CreatedBy: audit.ActorFrom(ctx).ID, CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(t).Error; err != nil {
		return nil, err
	}
	return t, s.audit.Record(ctx, tx, audit.Entry{Action: "consent_template.create", ObjectType: "consent_template",
		ObjectID: t.ID, Details: map[string]any{"language": t.Language, "version": t.Version, "text_sha256": t.TextSHA256}})
}

// UpdateDraft replaces a draft's name and text; the language is fixed once
// created because the version number belongs to it.
func (s *Templates) UpdateDraft(ctx context.Context, id string, in TemplateInput) (*models.ConsentTemplate, error) {
	var t *models.ConsentTemplate
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if t, err = s.get(tx, id); err != nil {
			return err
		}
		if t.Status != models.TemplateDraft {
			return ErrNotDraft
		}
		in.Language = t.Language
		if fe := in.validate(); fe != nil {
			return fe
		}
		t.Name, t.Body, t.TextSHA256, t.UpdatedAt = in.Name, in.Body, TextSHA256(in.Body), s.now()
		if err := tx.Save(t).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "consent_template.update", ObjectType: "consent_template",
			ObjectID: t.ID, Details: map[string]any{"text_sha256": t.TextSHA256}})
	})
	return t, err
}

// NewVersion starts a draft from an existing template's text, so a change to
// an active form is made as a new version and never edits the one in use.
func (s *Templates) NewVersion(ctx context.Context, fromID string) (*models.ConsentTemplate, error) {
	var t *models.ConsentTemplate
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		from, err := s.get(tx, fromID)
		if err != nil {
			return err
		}
		t, err = s.insert(ctx, tx, TemplateInput{Name: from.Name, Language: from.Language, Body: from.Body}, models.TemplateDraft)
		return err
	})
	return t, err
}

// Readiness lists why t cannot be activated: missing required elements (with
// headings in t's own language) and placeholders that do not render.
func Readiness(t *models.ConsentTemplate) []Missing {
	missing := validateIn(t.Language, t.Body)
	for _, withRep := range []bool{true, false} {
		data := sampleData(withRep)
		text, err := renderBody(t.Body, data)
		if err != nil {
			return append(missing, Missing{Element: "Placeholders",
				Explanation: "The form cannot be filled in: " + err.Error() + ". Use only the placeholders listed in the documentation."})
		}
		if !withRep {
			continue
		}
		for _, e := range Elements {
			if slices.ContainsFunc(missing, func(m Missing) bool { return m.Element == e.Name }) {
				continue
			}
			for _, p := range e.Placeholders {
				if v := sampleValue(data, p); !strings.Contains(text, v) {
					missing = append(missing, Missing{Element: e.Name,
						Explanation: fmt.Sprintf("{{.%s}} is in the text but is not shown when the form is filled in; move it out of any {{if}} that hides it.", p)})
				}
			}
		}
	}
	return missing
}

// Activate makes a draft the form used for new requests in its language and
// retires the one it replaces. It refuses, with the full list, a template
// that lacks any required element.
func (s *Templates) Activate(ctx context.Context, id string) (*models.ConsentTemplate, error) {
	var t *models.ConsentTemplate
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if t, err = s.get(tx, id); err != nil {
			return err
		}
		if t.Status != models.TemplateDraft {
			return ErrNotDraft
		}
		if missing := Readiness(t); len(missing) > 0 {
			return &NotReadyError{Missing: missing}
		}
		return s.activate(ctx, tx, t)
	})
	return t, err
}

func (s *Templates) activate(ctx context.Context, tx *gorm.DB, t *models.ConsentTemplate) error {
	now := s.now()
	var previous []models.ConsentTemplate
	if err := tx.Where("language = ? AND status = ?", t.Language, models.TemplateActive).Find(&previous).Error; err != nil {
		return err
	}
	for _, p := range previous {
		if err := tx.Model(&models.ConsentTemplate{}).Where("id = ?", p.ID).
			Updates(map[string]any{"status": models.TemplateRetired, "retired_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent_template.retire", ObjectType: "consent_template",
			ObjectID: p.ID, Details: map[string]any{"language": p.Language, "version": p.Version, "replaced_by": t.ID}}); err != nil {
			return err
		}
	}
	t.Status, t.ActivatedAt, t.UpdatedAt = models.TemplateActive, &now, now
	if err := tx.Save(t).Error; err != nil {
		return err
	}
	return s.audit.Record(ctx, tx, audit.Entry{Action: "consent_template.activate", ObjectType: "consent_template",
		ObjectID: t.ID, Details: map[string]any{"language": t.Language, "version": t.Version, "text_sha256": t.TextSHA256}})
}

// Get returns the template with id.
func (s *Templates) Get(ctx context.Context, id string) (*models.ConsentTemplate, error) {
	return s.get(s.db.WithContext(ctx), id)
}

func (s *Templates) get(tx *gorm.DB, id string) (*models.ConsentTemplate, error) {
	var t models.ConsentTemplate
	if err := tx.Where("id = ?", id).Take(&t).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrTemplateNotFound
		}
		return nil, err
	}
	return &t, nil
}

// Active returns the template new requests in language use.
func (s *Templates) Active(ctx context.Context, language string) (*models.ConsentTemplate, error) {
	var t models.ConsentTemplate
	err := s.db.WithContext(ctx).Where("language = ? AND status = ?", language, models.TemplateActive).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrTemplateNotFound
	}
	return &t, err
}

// List returns every version in language, newest first.
func (s *Templates) List(ctx context.Context, language string) ([]models.ConsentTemplate, error) {
	var out []models.ConsentTemplate
	err := s.db.WithContext(ctx).Where("language = ?", language).Order("version DESC").Find(&out).Error
	return out, err
}
