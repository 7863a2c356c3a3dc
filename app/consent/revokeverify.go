package consent

import (
	"context"
	"crypto/subtle"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/models"
)

// Revoking asks for the same identity check as signing (issue 19 item 6):
// the patient's date of birth or a code emailed to the address on file. A
// revocation link that leaked (a forwarded email) then cannot end a consent
// on its own. Wrong answers count on the record; MaxFailures lock revoking
// by link, and the patient is asked to call the team.

// RevokeLocked reports whether too many failed checks locked revoking by link.
func RevokeLocked(rec *models.ConsentRecord) bool { return rec.RevokeFailures >= MaxFailures }

// RecordHasEmail reports whether a one-time code can be emailed for rec.
func (s *Service) RecordHasEmail(ctx context.Context, rec *models.ConsentRecord) (bool, error) {
	r, err := s.request(s.db.WithContext(ctx), rec.RequestID)
	if err != nil {
		return false, err
	}
	return s.HasEmail(ctx, r)
}

// RevokeVerifyDOB checks the patient's date of birth (YYYY-MM-DD) before a revocation.
func (s *Service) RevokeVerifyDOB(ctx context.Context, rec *models.ConsentRecord, dob, ip string) error {
	ctx = patientCtx(ctx, rec.RequestID, ip)
	if RevokeLocked(rec) {
		return ErrLocked
	}
	pd, err := s.patients.View(ctx, rec.PatientID, "consent_revoke_identity_check")
	if err != nil {
		return err
	}
	ok := pd.DOB != "" && subtle.ConstantTimeCompare([]byte(pd.DOB), []byte(dob)) == 1
	return s.revokeVerified(ctx, rec, ok, "dob")
}

// RevokeSendCode emails a fresh six-digit code for a revocation; only its hash is kept.
func (s *Service) RevokeSendCode(ctx context.Context, rec *models.ConsentRecord, ip string) error {
	ctx = patientCtx(ctx, rec.RequestID, ip)
	if RevokeLocked(rec) {
		return ErrLocked
	}
	now := s.now()
	if rec.RevokeCodeExpiresAt != nil && rec.RevokeCodeExpiresAt.Sub(now) > CodeLifetime-time.Minute {
		return nil // one was sent less than a minute ago
	}
	r, err := s.request(s.db.WithContext(ctx), rec.RequestID)
	if err != nil {
		return err
	}
	code, to, err := s.codeFor(ctx, r, "consent_revoke_code")
	if err != nil {
		return err
	}
	exp := now.Add(CodeLifetime)
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&models.ConsentRecord{}).Where("id = ?", rec.ID).Updates(map[string]any{
			"revoke_code_hash": codeHash("revoke:"+rec.ID, code), "revoke_code_expires_at": exp}).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.revoke_code_sent", ObjectType: "consent_record", ObjectID: rec.ID})
	})
	if err != nil {
		return err
	}
	rec.RevokeCodeExpiresAt = &exp
	m := codeMail(rec.Language, s.cfg.OrganisationName, code)
	m.To = to
	return s.mail.Send(ctx, m)
}

// RevokeVerifyCode checks an emailed code before a revocation.
func (s *Service) RevokeVerifyCode(ctx context.Context, rec *models.ConsentRecord, code, ip string) error {
	ctx = patientCtx(ctx, rec.RequestID, ip)
	if RevokeLocked(rec) {
		return ErrLocked
	}
	var cur models.ConsentRecord
	if err := s.db.WithContext(ctx).Where("id = ?", rec.ID).Take(&cur).Error; err != nil {
		return err
	}
	ok := cur.RevokeCodeHash != "" && cur.RevokeCodeExpiresAt != nil && s.now().Before(*cur.RevokeCodeExpiresAt) &&
		subtle.ConstantTimeCompare([]byte(cur.RevokeCodeHash), []byte(codeHash("revoke:"+rec.ID, code))) == 1
	return s.revokeVerified(ctx, rec, ok, "email_code")
}

func (s *Service) revokeVerified(ctx context.Context, rec *models.ConsentRecord, ok bool, method string) error {
	var locked bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if ok {
			if err := tx.Model(&models.ConsentRecord{}).Where("id = ?", rec.ID).Updates(map[string]any{"revoke_code_hash": "", "revoke_failures": 0}).Error; err != nil {
				return err
			}
			rec.RevokeFailures = 0
			return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.revoke_verified", ObjectType: "consent_record", ObjectID: rec.ID,
				Details: map[string]any{"method": method}})
		}
		if err := tx.Model(&models.ConsentRecord{}).Where("id = ?", rec.ID).Update("revoke_failures", gorm.Expr("revoke_failures + 1")).Error; err != nil {
			return err
		}
		var cur models.ConsentRecord
		if err := tx.Where("id = ?", rec.ID).Take(&cur).Error; err != nil {
			return err
		}
		rec.RevokeFailures = cur.RevokeFailures
		locked = RevokeLocked(&cur)
		return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.revoke_verify_failed", ObjectType: "consent_record", ObjectID: rec.ID,
			Details: map[string]any{"method": method, "failures": cur.RevokeFailures, "locked": locked}})
	})
	switch {
	case err != nil:
		return err
	case locked:
		return ErrLocked
	case !ok:
		return ErrWrongAnswer
	}
	return nil
}
