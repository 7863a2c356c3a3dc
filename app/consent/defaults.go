package consent

import (
	"context"
	"embed"
	"reflect"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/models"
)

//go:embed defaults/*.md
var defaultsFS embed.FS

// DefaultBody returns the form text Storykeep ships for language, in plain
// language and carrying every required element; it is the starting point an
// organisation's own versions are made from.
func DefaultBody(language string) (string, error) {
	b, err := defaultsFS.ReadFile("defaults/" + language + ".md")
	return string(b), err
}

// defaultNames labels the shipped templates in the template list.
var defaultNames = map[string]string{"en": "Storykeep standard authorization", "es": "Autorización estándar de Storykeep"}

// EnsureDefaults gives every supported language an active form on first
// start, so consent requests work out of the box. It is done in Go at start
// (not in a migration) so the shipped text lives once, as reviewable
// Markdown, and passes the same checks as staff-made versions. A language
// that already has any template is left alone: later releases never replace
// an organisation's form behind its back.
func (s *Templates) EnsureDefaults(ctx context.Context) error {
	for _, lang := range []string{"en", "es"} {
		body, err := DefaultBody(lang)
		if err != nil {
			return err
		}
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var n int64
			if err := tx.Model(&models.ConsentTemplate{}).Where("language = ?", lang).Count(&n).Error; err != nil || n > 0 {
				return err
			}
			in := TemplateInput{Name: defaultNames[lang], Language: lang, Body: body}
			if fe := in.validate(); fe != nil {
				return fe
			}
			t, err := s.insert(ctx, tx, in, models.TemplateDraft)
			if err != nil {
				return err
			}
			if missing := Readiness(t); len(missing) > 0 {
				return &NotReadyError{Missing: missing}
			}
			return s.activate(ctx, tx, t)
		})
		if err != nil && !s.hasAny(ctx, lang) { // another replica may have seeded it first
			return err
		}
	}
	return nil
}

func (s *Templates) hasAny(ctx context.Context, lang string) bool {
	var n int64
	err := s.db.WithContext(ctx).Model(&models.ConsentTemplate{}).Where("language = ?", lang).Count(&n).Error
	return err == nil && n > 0
}

// sampleData fills every placeholder with a distinctive value, so activation
// can prove each required placeholder actually appears in the filled form.
func sampleData(withRepresentative bool) FormData {
	d := FormData{
		OrganisationName: "Sample Organisation 7301",
		PatientName:      "Sample Patient 7302",
		StoryTitle:       "Sample Story 7303",
		Channels:         List{"Sample Channel 7304"},
		MediaList:        List{"Sample Media 7305"},
		NameUsage:        "sample name usage 7306",
		ExpiresOn:        "Sample Date 7307",
		RevokeURL:        "https://sample.invalid/revoke/7308",
		// The organisation's contact routes.
		OrganisationLegalName: "Sample Legal Name 7310",
		OrganisationAddress:   "Sample Address 7311",
		OrganisationPhone:     "+1 555 010 7312",
		PrivacyEmail:          "privacy7313@sample.invalid",
	}
	if withRepresentative {
		d.Representative = "Sample Representative 7309"
	}
	return d
}

func sampleValue(d FormData, field string) string {
	v := reflect.ValueOf(d).FieldByName(field)
	if s, ok := v.Interface().(interface{ String() string }); ok {
		return s.String()
	}
	return v.String()
}
