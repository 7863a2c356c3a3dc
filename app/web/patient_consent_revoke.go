package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/models"
)

func revokeVerifiedKey(recordID string) string { return "revoke_verified:" + recordID }

// revokeRecord finds the record behind a revocation link and answers the
// gone, already revoked and locked pages itself (ok false).
func (s *Server) revokeRecord(c echo.Context) (*models.ConsentRecord, string, bool, error) {
	rec, err := s.consent.FindByRevokeToken(c.Request().Context(), c.Param("token"))
	if errors.Is(err, consent.ErrLinkNotUsable) {
		return nil, "", false, s.linkGone(c)
	}
	if err != nil {
		return nil, "", false, err
	}
	lang := s.patientLang(c, rec.Language)
	if rec.Status == models.RecordRevoked {
		return nil, "", false, s.patientMessage(c, http.StatusOK, lang, "already_revoked_title", "already_revoked_body")
	}
	if consent.RevokeLocked(rec) {
		return nil, "", false, s.patientMessage(c, http.StatusLocked, lang, "locked_title", "locked_body", "gone_todo")
	}
	return rec, lang, true, nil
}

func (s *Server) revokeIsVerified(c echo.Context, rec *models.ConsentRecord) bool {
	return s.sessions.GetInt64(c.Request().Context(), revokeVerifiedKey(rec.ID)) > time.Now().Unix()
}

// revokeVerifyPage is the identity check before revoking: the same date of
// birth or emailed code as before signing.
func (s *Server) revokeVerifyPage(c echo.Context, rec *models.ConsentRecord, lang string, status int, problem string, dobErr, codeErr bool) error {
	hasEmail, err := s.consent.RecordHasEmail(c.Request().Context(), rec)
	if err != nil {
		return err
	}
	tries := ""
	if problem != "" {
		tries = strconv.Itoa(consent.MaxFailures - rec.RevokeFailures)
	}
	v := identityCheck{Problem: problem, TriesLeft: tries, DOBError: dobErr, CodeError: codeErr, HasEmail: hasEmail,
		CodeSent: rec.RevokeCodeExpiresAt != nil && rec.RevokeCodeExpiresAt.After(time.Now()), Revoke: true}
	s.identityWho(c, lang, &v, rec.SignerKind, rec.RepName, rec.RepRelationship, rec.PatientID)
	return s.identityPage(c, lang, status, v)
}

// patientRevokeForm checks who it is, then asks the patient to confirm the
// revocation. The link in the certificate email is the written request
// 164.508(b)(5) asks for.
func (s *Server) patientRevokeForm(c echo.Context) error {
	rec, lang, ok, err := s.revokeRecord(c)
	if !ok {
		return err
	}
	if !s.revokeIsVerified(c, rec) {
		return s.revokeVerifyPage(c, rec, lang, http.StatusOK, "", false, false)
	}
	d := s.patientBase(c, lang, c.Param("token"))
	return s.render(c, http.StatusOK, "consent_patient_revoke", Page{Title: d.T["revoke_title"], Lang: lang, Data: d})
}

// patientRevokeVerify checks a date of birth or an emailed code.
func (s *Server) patientRevokeVerify(c echo.Context) error {
	rec, lang, ok, err := s.revokeRecord(c)
	if !ok {
		return err
	}
	ctx := c.Request().Context()
	t := consent.Texts(lang)
	method := c.FormValue("method")
	if method == "code" {
		err = s.consent.RevokeVerifyCode(ctx, rec, strings.TrimSpace(c.FormValue("code")), c.RealIP())
	} else {
		err = s.consent.RevokeVerifyDOB(ctx, rec, dobValue(c.FormValue("year"), c.FormValue("month"), c.FormValue("day")), c.RealIP())
	}
	switch {
	case errors.Is(err, consent.ErrLocked):
		return s.patientMessage(c, http.StatusLocked, lang, "locked_title", "locked_body", "gone_todo")
	case errors.Is(err, consent.ErrWrongAnswer):
		if method == "code" {
			return s.revokeVerifyPage(c, rec, lang, http.StatusUnprocessableEntity, t["wrong_code"], false, true)
		}
		return s.revokeVerifyPage(c, rec, lang, http.StatusUnprocessableEntity, t["wrong_dob"], true, false)
	case err != nil:
		return err
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, revokeVerifiedKey(rec.ID), time.Now().Add(verifiedFor).Unix())
	return s.redirect(c, "/r/"+c.Param("token"))
}

// patientRevokeCode emails a one-time code for the revocation check.
func (s *Server) patientRevokeCode(c echo.Context) error {
	rec, lang, ok, err := s.revokeRecord(c)
	if !ok {
		return err
	}
	if err := s.consent.RevokeSendCode(c.Request().Context(), rec, c.RealIP()); err != nil {
		return err
	}
	return s.revokeVerifyPage(c, rec, lang, http.StatusOK, "", false, false)
}

// patientRevoke revokes at once once the identity check passed; a second
// time changes nothing.
func (s *Server) patientRevoke(c echo.Context) error {
	rec, lang, ok, err := s.revokeRecord(c)
	if !ok {
		return err
	}
	if !s.revokeIsVerified(c, rec) {
		return s.revokeVerifyPage(c, rec, lang, http.StatusForbidden, "", false, false)
	}
	err = s.consent.Revoke(c.Request().Context(), rec, c.FormValue("reason"), c.RealIP())
	if errors.Is(err, consent.ErrAlreadyRevoked) {
		return s.patientMessage(c, http.StatusOK, lang, "already_revoked_title", "already_revoked_body")
	}
	if err != nil {
		return err
	}
	return s.patientMessage(c, http.StatusOK, lang, "revoked_title", "revoked_body")
}
