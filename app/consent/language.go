package consent

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/organisation"
	"github.com/storykeep/storykeep/models"
)

// Language access (issue 19 item 9). A request is sent in one language, and
// the active form of the other language, filled in with the same content,
// is kept beside it (AltTemplateID, AltAuthorizationText). A signer who
// switches the pages to that language reads, confirms and signs that form;
// the record then names its template and language. When the other language
// has no active form (or it lacks an element this request needs), the
// pages say plainly that the authorization exists only in the request's
// language.

func otherLanguage(l string) string {
	if l == "es" {
		return "en"
	}
	return "es"
}

// alternateForm fills in the active form of the other language for the
// request being sent; ids and text are empty when there is none that shows
// every element the request needs.
func (s *Service) alternateForm(ctx context.Context, in SendInput, st *models.Story, p *models.Patient, media []models.MediaAsset, maxExp time.Time, org organisation.Profile) (string, string) {
	alt := in
	alt.Language = otherLanguage(in.Language)
	t, err := s.templates.Active(ctx, alt.Language)
	if err != nil {
		return "", ""
	}
	fd := s.formData(alt, st, p, media, maxExp)
	withOrganisation(&fd, org)
	text, err := renderChecked(t, fd)
	if err != nil {
		return "", ""
	}
	return t.ID, text
}

// FormIn returns r's authorization text for a reader of lang and the
// language that text is in: the other language's form when the request
// has one, else the request's own (then formLang differs from lang and the
// page says the form exists only in formLang).
func FormIn(r *models.ConsentRequest, lang string) (text, formLang string) {
	if lang != r.Language && r.AltTemplateID != "" {
		return r.AltAuthorizationText, otherLanguage(r.Language)
	}
	return r.AuthorizationText, r.Language
}

// formTemplate picks the template and language a signer reading lang signs.
func formTemplate(r *models.ConsentRequest, lang string) (templateID, formLang string) {
	if lang != "" && lang != r.Language && r.AltTemplateID != "" {
		return r.AltTemplateID, otherLanguage(r.Language)
	}
	return r.TemplateID, r.Language
}

// auditSigner records, in the request's transaction, that it is addressed
// to a representative or that staff let a minor sign alone, and why.
func (s *Service) auditSigner(ctx context.Context, tx *gorm.DB, r *models.ConsentRequest) error {
	if r.SignerKind == "representative" {
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.representative", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": r.StoryID, "relationship": r.RepRelationship, "email": r.RepEmailSealed != "", "phone": r.RepPhoneSealed != ""}}); err != nil {
			return err
		}
	}
	if r.MinorException != "" {
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.minor_exception", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": r.StoryID, "reason": r.MinorException}}); err != nil {
			return err
		}
	}
	if r.Sponsored {
		return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.sponsored", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": r.StoryID, "sponsor": r.Sponsor}})
	}
	return nil
}
