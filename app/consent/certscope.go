package consent

import (
	"encoding/json"
	"regexp"
	"time"

	"github.com/storykeep/storykeep/models"
)

// Names of the files embedded in every certificate.
const (
	FrozenAttachment = "frozen-content.json"
	ScopeAttachment  = "signed-scope.json"
	// CanonicalScopeAttachment is the canonical scope (SignedScope): its
	// SHA-256 is the record's scope digest. The evidence copy for staff
	// leaves it out when names are withheld, since it names the signer.
	CanonicalScopeAttachment = "signed-scope-canonical.json"
)

// ScopeSummary is what the record stores about what was signed: the
// signer's choices and the references that tie them to the frozen content
// and the form. It travels in the certificate (signed-scope.json) so the
// choices can be compared with the database years later. It names nobody:
// the evidence copy given to third parties carries it too.
type ScopeSummary struct {
	Format             string    `json:"format"`
	RecordID           string    `json:"record_id"`
	StoryID            string    `json:"story_id"`
	ContentDigest      string    `json:"content_digest"`
	Channels           []string  `json:"channels"`
	MediaIDs           []string  `json:"media_ids"`
	NameUsage          string    `json:"name_usage"`
	ExpiresOn          string    `json:"expires_on"`
	TemplateID         string    `json:"template_id"`
	TemplateVersion    int       `json:"template_version"`
	TemplateTextSHA256 string    `json:"template_text_sha256"`
	Language           string    `json:"language"`
	Representative     bool      `json:"signed_by_representative"`
	SignatureSHA256    string    `json:"signature_image_sha256"`
	SignedAt           time.Time `json:"signed_at"`
	// ScopeDigest is the record's signed-scope digest (see SignedScope and
	// docs/consent-digest.md): the SHA-256 over the canonical scope.
	ScopeDigest string `json:"scope_digest,omitempty"`
	// Paper records only (docs/consent-paper.md): how it was signed, the
	// scan's SHA-256 and the date written on the form.
	Method          string `json:"method,omitempty"`
	PaperScanSHA256 string `json:"paper_scan_sha256,omitempty"`
	PaperSignedOn   string `json:"paper_signed_on,omitempty"`
}

// SignedScopeFormat names the layout of signed-scope.json.
const SignedScopeFormat = "storykeep-signed-scope/1"

// ScopeOf returns the signed scope of rec.
func ScopeOf(rec *models.ConsentRecord) ScopeSummary {
	return ScopeSummary{Format: SignedScopeFormat, RecordID: rec.ID, StoryID: rec.StoryID, ContentDigest: rec.Digest,
		Channels: nonNil(parseList(rec.Channels)), MediaIDs: nonNil(parseList(rec.MediaIDs)), NameUsage: rec.NameUsage,
		ExpiresOn: rec.ExpiresOn.UTC().Format("2006-01-02"), TemplateID: rec.TemplateID, TemplateVersion: rec.TemplateVersion,
		TemplateTextSHA256: rec.TemplateTextSHA256, Language: rec.Language, Representative: rec.RepName != "",
		SignatureSHA256: rec.SignatureSHA256, SignedAt: rec.SignedAt.UTC().Truncate(time.Second), ScopeDigest: rec.ScopeDigest}.paper(rec)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// paper adds a paper record's method, scan hash and date to sc.
func (sc ScopeSummary) paper(rec *models.ConsentRecord) ScopeSummary {
	if rec.Method != models.MethodPaper {
		return sc
	}
	sc.Method, sc.PaperScanSHA256 = rec.Method, rec.PaperScanSHA256
	if rec.PaperSignedOn != nil {
		sc.PaperSignedOn = rec.PaperSignedOn.UTC().Format("2006-01-02")
	}
	return sc
}

// SignedScopeJSON is ScopeOf(rec) as indented JSON.
func SignedScopeJSON(rec *models.ConsentRecord) ([]byte, error) {
	return json.MarshalIndent(ScopeOf(rec), "", "  ")
}

// revokeLink matches a revocation link (/r/ and a 43-character token).
var revokeLink = regexp.MustCompile(`(?:https?://[^\s)\]]*)?/r/[A-Za-z0-9_-]{32,}`)

// redactRevokeLinks takes the signer's revocation link out of text printed
// on a certificate: it is a bearer credential for the patient only (F5),
// sent in the email body, never in a copy staff or third parties keep.
func redactRevokeLinks(s string) string {
	return revokeLink.ReplaceAllString(s, "[personal revocation link: sent to the signer by email]")
}
