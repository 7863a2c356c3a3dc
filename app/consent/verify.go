package consent

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/models"
)

// MaxFailures is how many wrong birth dates or codes lock a request: enough
// for typos, far too few to guess a date of birth.
const MaxFailures = 5

// CodeLifetime is how long an emailed one-time code works.
const CodeLifetime = 10 * time.Minute

// ErrLocked tells the patient the link is locked and to call the team.
var ErrLocked = apperr.New(http.StatusLocked, "This link is locked after too many attempts.")

// Find returns the request a link token belongs to. Unknown tokens and
// requests whose link has run out give ErrLinkNotUsable; a live request past
// its expiry is marked expired on the way.
func (s *Service) Find(ctx context.Context, token string) (*models.ConsentRequest, error) {
	if !ValidTokenShape(token) {
		return nil, ErrLinkNotUsable
	}
	var r models.ConsentRequest
	// Read through the reader (SQLite's WAL pool): a link opened on many
	// phones at once must not queue behind the one write connection. Every
	// change that follows re-checks the status in its own UPDATE.
	if err := s.read.WithContext(ctx).Where("token_hash = ?", HashToken(token)).Limit(1).Find(&r).Error; err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, ErrLinkNotUsable
	}
	if (isLive(r.Status) || r.Status == models.RequestLocked) && s.now().After(r.ExpiresAt) {
		if err := s.expireRequest(ctx, &r); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// FindLink is Find for the page a link opens, in one light query: the
// request's id, story, patient, language, status, expiry, failures and
// code expiry (nothing else is filled), and whether the patient has an
// email address for a one-time code. A request past its expiry comes back
// as it is stored; LinkOpen says so, and Find then expires it.
func (s *Service) FindLink(ctx context.Context, token string) (*models.ConsentRequest, bool, error) {
	if !ValidTokenShape(token) {
		return nil, false, ErrLinkNotUsable
	}
	var rows []struct {
		models.ConsentRequest `gorm:"embedded"`
		HasEmail              bool
	}
	err := s.read.WithContext(ctx).Table("consent_requests AS r").
		Select("r.id, r.story_id, r.patient_id, r.signer_kind, r.language, r.status, r.expires_at, r.failures, r.code_expires_at, "+
			"r.rep_name, r.rep_relationship, r.rep_email_sealed, "+
			// The signer's address, as HasEmail decides it: a named
			// representative's own, else the patient's.
			"CASE WHEN r.signer_kind = 'representative' AND r.rep_name <> '' THEN r.rep_email_sealed <> '' ELSE p.email_sealed <> '' END AS has_email").
		Joins("JOIN patients p ON p.id = r.patient_id").Where("r.token_hash = ?", HashToken(token)).Limit(1).Scan(&rows).Error
	if err != nil {
		return nil, false, err
	}
	if len(rows) == 0 {
		return nil, false, ErrLinkNotUsable
	}
	return &rows[0].ConsentRequest, rows[0].HasEmail, nil
}

// LinkOpen reports whether the patient may act on r now: a live request
// whose link has not run out.
func (s *Service) LinkOpen(r *models.ConsentRequest) bool {
	return isLive(r.Status) && !s.now().After(r.ExpiresAt)
}

func (s *Service) expireRequest(ctx context.Context, r *models.ConsentRequest) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.setRequestStatus(tx, r, models.RequestExpired); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.request_expired", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": r.StoryID}})
	})
}

// Usable reports whether the patient may still act on r.
func Usable(r *models.ConsentRequest) bool { return isLive(r.Status) }

// MarkOpened records the first time the link is opened (time and IP).
func (s *Service) MarkOpened(ctx context.Context, r *models.ConsentRequest, ip string) error {
	if r.Status != models.RequestPending {
		return nil
	}
	ctx = patientCtx(ctx, r.ID, ip)
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now()
		q := tx.Model(&models.ConsentRequest{}).Where("id = ? AND status = ?", r.ID, models.RequestPending).
			Updates(map[string]any{"status": models.RequestOpened, "opened_at": now, "opened_ip": ip, "updated_at": now})
		if q.Error != nil || q.RowsAffected == 0 {
			return q.Error
		}
		r.Status, r.OpenedAt, r.OpenedIP = models.RequestOpened, &now, ip
		return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.opened", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": r.StoryID}})
	})
}

// HasEmail reports whether a one-time code can be emailed for r.
func (s *Service) HasEmail(ctx context.Context, r *models.ConsentRequest) (bool, error) {
	if r.SignerKind == "representative" && r.RepName != "" {
		return r.RepEmailSealed != "", nil
	}
	var p models.Patient
	err := s.read.WithContext(ctx).Select("email_sealed").Where("id = ?", r.PatientID).Take(&p).Error
	return p.EmailSealed != "", err
}

// VerifyDOB checks a date of birth (YYYY-MM-DD) against the sealed one. A
// wrong answer counts towards the lock.
func (s *Service) VerifyDOB(ctx context.Context, r *models.ConsentRequest, dob, ip string) error {
	ctx = patientCtx(ctx, r.ID, ip)
	if !Usable(r) {
		return s.unusable(r)
	}
	pd, err := s.patients.View(ctx, r.PatientID, "consent_identity_check")
	if err != nil {
		return err
	}
	ok := pd.DOB != "" && subtle.ConstantTimeCompare([]byte(pd.DOB), []byte(dob)) == 1
	return s.verified(ctx, r, ok, "dob", ip)
}

// SendCode emails a fresh six-digit code; only its hash is kept.
func (s *Service) SendCode(ctx context.Context, r *models.ConsentRequest, ip string) error {
	ctx = patientCtx(ctx, r.ID, ip)
	if !Usable(r) {
		return s.unusable(r)
	}
	now := s.now()
	if r.CodeExpiresAt != nil && r.CodeExpiresAt.Sub(now) > CodeLifetime-time.Minute {
		return nil // one was sent less than a minute ago
	}
	code, to, err := s.codeFor(ctx, r, "consent_code")
	if err != nil {
		return err
	}
	exp := now.Add(CodeLifetime)
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&models.ConsentRequest{}).Where("id = ?", r.ID).Updates(map[string]any{
			"code_hash": codeHash(r.ID, code), "code_expires_at": exp, "verify_method": "email_code", "updated_at": now}).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.code_sent", ObjectType: "consent_request", ObjectID: r.ID})
	})
	if err != nil {
		return err
	}
	r.CodeExpiresAt = &exp
	m := codeMail(r.Language, s.cfg.OrganisationName, code)
	m.To = to
	return s.mail.Send(ctx, m)
}

func codeHash(requestID, code string) string {
	sum := sha256.Sum256([]byte("consent-code:" + requestID + ":" + code))
	return hex.EncodeToString(sum[:])
}

// VerifyCode checks an emailed code; a wrong or stale code counts towards the lock.
func (s *Service) VerifyCode(ctx context.Context, r *models.ConsentRequest, code, ip string) error {
	ctx = patientCtx(ctx, r.ID, ip)
	if !Usable(r) {
		return s.unusable(r)
	}
	var cur models.ConsentRequest
	if err := s.db.WithContext(ctx).Where("id = ?", r.ID).Take(&cur).Error; err != nil {
		return err
	}
	ok := cur.CodeHash != "" && cur.CodeExpiresAt != nil && s.now().Before(*cur.CodeExpiresAt) &&
		subtle.ConstantTimeCompare([]byte(cur.CodeHash), []byte(codeHash(r.ID, code))) == 1
	return s.verified(ctx, r, ok, "email_code", ip)
}

// ErrWrongAnswer is a failed identity check that did not lock the request.
var ErrWrongAnswer = errors.New("consent: identity check failed")

func (s *Service) unusable(r *models.ConsentRequest) error {
	if r.Status == models.RequestLocked {
		return ErrLocked
	}
	return ErrLinkNotUsable
}

// verified records the outcome of an identity check: success moves the
// request to verified; the MaxFailures-th failure locks it, audits that and
// tells staff.
func (s *Service) verified(ctx context.Context, r *models.ConsentRequest, ok bool, method, ip string) error {
	now := s.now()
	var locked bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if ok {
			upd := map[string]any{"verify_method": method, "code_hash": "", "updated_at": now}
			if r.Status != models.RequestVerified {
				upd["status"], upd["verified_at"], upd["verified_ip"] = models.RequestVerified, now, ip
			}
			q := tx.Model(&models.ConsentRequest{}).Where("id = ? AND status IN ?", r.ID, liveRequest).Updates(upd)
			if q.Error != nil {
				return q.Error
			}
			if q.RowsAffected == 0 {
				return ErrLinkNotUsable
			}
			r.Status, r.VerifiedAt = models.RequestVerified, &now
			return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.verified", ObjectType: "consent_request", ObjectID: r.ID,
				Details: map[string]any{"method": method}})
		}
		if err := tx.Model(&models.ConsentRequest{}).Where("id = ?", r.ID).
			Updates(map[string]any{"failures": gorm.Expr("failures + 1"), "updated_at": now}).Error; err != nil {
			return err
		}
		var cur models.ConsentRequest
		if err := tx.Where("id = ?", r.ID).Take(&cur).Error; err != nil {
			return err
		}
		r.Failures = cur.Failures
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.verify_failed", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"method": method, "failures": cur.Failures}}); err != nil {
			return err
		}
		if cur.Failures < MaxFailures {
			return nil
		}
		locked = true
		if err := s.setRequestStatus(tx, r, models.RequestLocked); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.locked", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": r.StoryID, "failures": cur.Failures}}); err != nil {
			return err
		}
		return s.notifyStaff(ctx, tx, r.StoryID, r.CreatedBy, NotifyLocked)
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

// newCodeFor draws a six-digit code to email to the patient, and reads
// (audited for purpose) the address it goes to; a patient with no email on
// file gets a 409 saying so.
func (s *Service) newCodeFor(ctx context.Context, patientID, purpose string) (string, *patients.Details, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", nil, err
	}
	pd, err := s.patients.View(ctx, patientID, purpose)
	if err != nil {
		return "", nil, err
	}
	if pd.Email == "" {
		return "", nil, apperr.New(http.StatusConflict, "No email address is on file.")
	}
	return fmt.Sprintf("%06d", n.Int64()), pd, nil
}
