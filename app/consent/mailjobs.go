package consent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/mail"
	"github.com/storykeep/storykeep/app/organisation"
	"github.com/storykeep/storykeep/models"
)

// Job kinds consent registers with the queue.
const (
	JobMail        = "consent.mail"
	JobCertificate = "consent.certificate"
	JobRevoked     = "consent.revoked"
	JobSweep       = "consent.sweep"
	// JobEvidenceLock asks the retention capability to keep a record's
	// evidence objects write-once until its retention date (issue 24). It
	// is queued when a record is signed, ends, or gets its certificate; the
	// retention service handles it.
	JobEvidenceLock = "retention.lock"
)

// lockEvidence queues JobEvidenceLock for rec in tx (nil: its own); event
// keeps one job per change of the record.
func (s *Service) lockEvidence(ctx context.Context, tx *gorm.DB, recID, event string) error {
	_, err := s.jobs.Enqueue(ctx, tx, JobEvidenceLock, map[string]string{"record_id": recID}, jobs.Options{Key: JobEvidenceLock + ":" + recID + ":" + event})
	return err
}

// mailJob is an invitation or reminder; Token is sealed with the data key.
type mailJob struct {
	RequestID string `json:"request_id"`
	Kind      string `json:"kind"` // invite or reminder
	Token     string `json:"token"`
}

func (s *Service) enqueueMail(ctx context.Context, tx *gorm.DB, j mailJob, at time.Time) error {
	_, err := s.jobs.Enqueue(ctx, tx, JobMail, j, jobs.Options{RunAt: at})
	return err
}

// HandleMail sends an invitation or a reminder. A reminder is skipped once
// the patient has opened the link or the request has ended, and any mail is
// skipped when its token has been replaced by a resend.
func (s *Service) HandleMail(ctx context.Context, job *models.Job) error {
	var j mailJob
	if err := jobs.Decode(job, &j); err != nil {
		return err
	}
	r, err := s.request(s.db.WithContext(ctx), j.RequestID)
	if err != nil {
		return jobs.Permanent(err)
	}
	token, err := s.keys.Open(j.Token, "consent-token:"+r.ID)
	if err != nil {
		return jobs.Permanent(err)
	}
	if !TokenMatches(token, r.TokenHash) || !isLive(r.Status) || s.now().After(r.ExpiresAt) {
		return nil
	}
	if j.Kind == "reminder" && r.Status != models.RequestPending {
		return nil
	}
	to, err := s.signerAddress(ctx, r, "consent_mail")
	if err != nil || to == "" {
		return err
	}
	org, err := s.OrganisationProfile(ctx)
	if err != nil {
		return err
	}
	m := invitation(r.Language, j.Kind == "reminder", s.cfg.OrganisationName, s.link(token), r.ExpiresAt)
	if r.SignerKind == "representative" {
		m = s.repInvitation(ctx, r, m)
	}
	m.Text += ContactLine(r.Language, s.cfg.OrganisationName, org) + "\n"
	m.To = to
	if err := s.mail.Send(ctx, m); err != nil {
		return err
	}
	if j.Kind == "reminder" {
		return s.db.WithContext(ctx).Model(&models.ConsentRequest{}).Where("id = ?", r.ID).
			Update("reminders_sent", gorm.Expr("reminders_sent + 1")).Error
	}
	return nil
}

// invitation is the plain-language email with the link.
func invitation(lang string, reminder bool, org, link string, expires time.Time) mail.Message {
	if lang == "es" {
		subj := org + ": permiso para compartir su historia"
		intro := "Le pedimos permiso para compartir su historia."
		if reminder {
			subj, intro = "Recordatorio — "+subj, "Le recordamos que le pedimos permiso para compartir su historia."
		}
		return mail.Message{Subject: subj, Text: fmt.Sprintf("Hola:\n\n%s\n\nAbra este enlace para leer la historia y decidir. Primero le pediremos su fecha de nacimiento o un código para confirmar que es usted.\n\n%s\n\nEl enlace funciona hasta el %s. Usted no tiene que firmar: su atención no depende de esto.\n\n",
			intro, link, FormatDate("es", expires))}
	}
	subj := org + ": permission to share your story"
	intro := "We are asking for your permission to share your story."
	if reminder {
		subj, intro = "Reminder — "+subj, "This is a reminder that we asked for your permission to share your story."
	}
	return mail.Message{Subject: subj, Text: fmt.Sprintf("Hello,\n\n%s\n\nOpen this link to read the story and decide. First we will ask for your date of birth or a code, to make sure it is you.\n\n%s\n\nThe link works until %s. You do not have to sign: your care does not depend on it.\n\n",
		intro, link, FormatDate("en", expires))}
}

// codeMail carries the one-time identity code.
func codeMail(lang, org, code string) mail.Message {
	if lang == "es" {
		return mail.Message{Subject: org + ": su código", Text: "Su código es: " + code + "\n\nEscríbalo en la página abierta. Funciona durante 10 minutos.\nSi no lo pidió, ignore este mensaje.\n"}
	}
	return mail.Message{Subject: org + ": your code", Text: "Your code is: " + code + "\n\nType it on the page you have open. It works for 10 minutes.\nIf you did not ask for it, ignore this message.\n"}
}

// certificateMail is the patient's copy (164.508(c)(4)) with how to revoke.
func certificateMail(lang, org, contact, revokeURL, verifyURL string) mail.Message {
	if lang == "es" {
		return mail.Message{Subject: org + ": su autorización firmada", Text: strings.Join([]string{
			"Hola:", "", "Gracias. Adjuntamos una copia de la autorización que firmó.", "",
			"Puede revocarla (cancelarla) en cualquier momento con este enlace:", revokeURL, "",
			"Cualquiera puede comprobar que el certificado es auténtico en:", verifyURL, "",
			contact, ""}, "\n")}
	}
	return mail.Message{Subject: org + ": your signed authorization", Text: strings.Join([]string{
		"Hello,", "", "Thank you. A copy of the authorization you signed is attached.", "",
		"You can revoke (cancel) it at any time with this link:", revokeURL, "",
		"Anyone can check that the certificate is genuine at:", verifyURL, "",
		contact, ""}, "\n")}
}

// ContactLine tells the patient how to reach the organisation, with the
// real routes from Admin → Organisation (issue 19 item 3).
func ContactLine(lang, orgName string, p organisation.Profile) string {
	name := p.LegalName
	if name == "" {
		name = orgName
	}
	if p.Phone == "" || p.PrivacyEmail == "" {
		if lang == "es" {
			return "Si tiene preguntas, comuníquese con " + name + "."
		}
		return "If you have questions, contact " + name + "."
	}
	if lang == "es" {
		return "Si tiene preguntas, llame a " + name + " al " + p.Phone + " o escriba a " + p.PrivacyEmail + "."
	}
	return "If you have questions, call " + name + " at " + p.Phone + " or email " + p.PrivacyEmail + "."
}
