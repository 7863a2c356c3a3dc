package consent

import (
	"context"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/models"
)

// Revocation links (issue 19 item 6, finding F5). A revocation link is a
// credential that belongs to the patient: it is issued only when it is
// handed to them (the completion page right after signing, and each
// certificate email) and only its SHA-256 is stored, in
// consent_revoke_tokens. It is never printed in the form text, the
// certificate, or anything staff or third parties receive, and is never
// stored in a recoverable form: a fresh link is issued for each email
// instead of keeping one to send later. Using a link still asks for the
// identity check (revokeverify.go).

// Where a revocation link was handed to the patient.
const (
	RevokeLinkCompletionPage = "completion_page"
	RevokeLinkEmail          = "email"
)

// IssueRevokeLink makes a new revocation link token for rec, stores its hash
// (in tx when given) and returns the token, which the caller hands to the
// patient and forgets.
func (s *Service) IssueRevokeLink(ctx context.Context, tx *gorm.DB, rec *models.ConsentRecord, issuedFor string) (string, error) {
	if tx == nil {
		tx = s.db.WithContext(ctx)
	}
	token, hash := NewToken()
	err := tx.Create(&models.ConsentRevokeToken{TokenHash: hash, RecordID: rec.ID, IssuedFor: issuedFor, CreatedAt: s.now()}).Error
	if err != nil {
		return "", err
	}
	return token, nil
}

// RevokeURL is the public address of a revocation link token.
func (s *Service) RevokeURL(token string) string { return s.cfg.PublicURL + "/r/" + token }
