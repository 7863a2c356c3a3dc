package models

import "time"

// Consent template statuses. A draft can be edited; an active template is the
// one new consent requests in its language use; a retired one stays for the
// records that showed it.
const (
	TemplateDraft   = "draft"
	TemplateActive  = "active"
	TemplateRetired = "retired"
)

// ConsentTemplate is one version of the authorization form text in one
// language. Body is Markdown with text/template placeholders; TextSHA256 is
// the hash of Body, which a signed consent records so the exact form it
// showed can be proved later.
type ConsentTemplate struct {
	ID          string `gorm:"primaryKey"`
	Name        string
	Language    string
	Version     int
	Body        string
	TextSHA256  string `gorm:"column:text_sha256"`
	Status      string
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ActivatedAt *time.Time
	RetiredAt   *time.Time
}
