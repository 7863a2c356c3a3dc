package consent

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/mail"
	"github.com/storykeep/storykeep/models"
)

// A consent given for a minor lapses when they come of age (issue 19 item
// 7): the authority it rested on (a parent's, a guardian's) ends, and the
// new adult decides for themselves. The sweep ends such a consent the way
// it ends an expired one (the story is withdrawn, takedowns queued, staff
// told), then asks the new adult, at their own email address on file, to
// renew. Settings.KeepAtMajority turns the lapse off for organisations
// whose counsel reads the law otherwise.

// JobMajorityMail sends the renewal request to a patient who came of age.
const JobMajorityMail = "consent.majority_mail"

// Staff notifications about majority.
const (
	NotifyMajorityLapsed  = "consent_majority_lapsed"
	NotifyMajorityNoEmail = "consent_majority_no_email"
)

func init() {
	notificationLabels[NotifyMajorityLapsed] = "A patient came of age: the consent given for them as a minor lapsed, the story was withdrawn and they were asked to renew"
	notificationLabels[NotifyMajorityNoEmail] = "A patient came of age and their consent lapsed, but no email is on file: ask them in person whether to renew"
}

type majorityJob struct {
	RecordID string `json:"record_id"`
}

// lapseAtMajority ends every valid consent whose patient has come of age,
// then, for each consent so ended and not yet handled, records the lapse
// (audited) and queues the renewal request to the patient's own address.
// The two steps are separate transactions, so a crash between them is
// picked up by the next sweep (the second query finds the ended record).
func (s *Service) lapseAtMajority(ctx context.Context) error {
	if s.cfg.KeepAtMajority {
		return nil
	}
	now := s.now()
	db := s.db.WithContext(ctx)
	var due []models.ConsentRecord
	if err := db.Where("status = ? AND minor = ? AND majority_on <= ? AND majority_lapsed_at IS NULL", models.RecordValid, true, now).
		Order("id").Find(&due).Error; err != nil {
		return err
	}
	for i := range due {
		if err := s.end(ctx, &due[i], models.RecordExpired, "", NotifyMajorityLapsed); err != nil && err != ErrAlreadyRevoked {
			return err
		}
	}
	var ended []models.ConsentRecord
	if err := db.Where("status = ? AND minor = ? AND majority_on <= ? AND majority_lapsed_at IS NULL AND ended_at >= majority_on",
		models.RecordExpired, true, now).Order("id").Find(&ended).Error; err != nil {
		return err
	}
	for _, rec := range ended {
		var p models.Patient
		if err := db.Select("id, email_sealed").Where("id = ?", rec.PatientID).Take(&p).Error; err != nil {
			return err
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			q := tx.Model(&models.ConsentRecord{}).Where("id = ? AND majority_lapsed_at IS NULL", rec.ID).Update("majority_lapsed_at", now)
			if q.Error != nil || q.RowsAffected == 0 {
				return q.Error
			}
			if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.majority_lapsed", ObjectType: "consent_record", ObjectID: rec.ID,
				Details: map[string]any{"story_id": rec.StoryID, "age_of_majority": s.AgeOfMajority(), "renewal_email": p.EmailSealed != ""}}); err != nil {
				return err
			}
			if p.EmailSealed == "" {
				var actors []string
				if err := tx.Model(&models.ConsentRequest{}).Where("id = ?", rec.RequestID).Pluck("created_by", &actors).Error; err != nil {
					return err
				}
				return s.notifyStaff(ctx, tx, rec.StoryID, strings.Join(actors, ""), NotifyMajorityNoEmail)
			}
			_, err := s.jobs.Enqueue(ctx, tx, JobMajorityMail, majorityJob{RecordID: rec.ID}, jobs.Options{Key: JobMajorityMail + ":" + rec.ID})
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// HandleMajorityMail emails the renewal request to the patient's own
// address (never the representative's), in their preferred language, and
// audits that it went.
func (s *Service) HandleMajorityMail(ctx context.Context, job *models.Job) error {
	var j majorityJob
	if err := jobs.Decode(job, &j); err != nil {
		return err
	}
	ctx = audit.WithActor(ctx, audit.System)
	var rec models.ConsentRecord
	if err := s.db.WithContext(ctx).Where("id = ?", j.RecordID).Limit(1).Find(&rec).Error; err != nil {
		return err
	}
	if rec.ID == "" {
		return jobs.Permanent(fmt.Errorf("consent: record %s is gone", j.RecordID))
	}
	pd, err := s.patients.View(ctx, rec.PatientID, "consent_majority_renewal")
	if err != nil || pd.Email == "" {
		return err
	}
	lang := pd.PreferredLanguage
	if lang != "es" && lang != "en" {
		lang = rec.Language
	}
	title := ""
	if f, err := ParseFrozen(rec.FrozenJSON); err == nil {
		title = f.Title
	}
	m := majorityMail(lang, s.cfg.OrganisationName, firstName(&pd.Patient), title, rec.RepRelationship, s.AgeOfMajority())
	m.To = pd.Email
	if err := s.mail.Send(ctx, m); err != nil {
		return err
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.majority_renewal_sent", ObjectType: "consent_record", ObjectID: rec.ID,
			Details: map[string]any{"story_id": rec.StoryID, "language": lang}})
	})
}

// majorityMail asks the new adult whether they want their story shared.
func majorityMail(lang, org, first, title, relationship string, age int) mail.Message {
	if lang == "es" {
		who := "su representante"
		if relationship != "" {
			who = "su " + relationship
		}
		return mail.Message{Subject: org + ": ahora usted decide sobre su historia", Text: strings.Join([]string{
			"Hola, " + first + ":", "",
			fmt.Sprintf("Usted cumplió %d años. El permiso que %s dio cuando usted era menor para compartir su historia «%s» terminó, y retiramos la historia.", age, who, title), "",
			"Ahora la decisión es suya. Si quiere que volvamos a compartirla, responda a este correo o llame al equipo de " + org + " y le enviaremos un formulario nuevo para que lo firme usted.",
			"Si no hace nada, la historia no se volverá a publicar. Su atención no depende de esto.", ""}, "\n")}
	}
	who := "your representative"
	if relationship != "" {
		who = "your " + relationship
	}
	return mail.Message{Subject: org + ": your story is now your decision", Text: strings.Join([]string{
		"Hello " + first + ",", "",
		fmt.Sprintf("You have turned %d. The permission %s gave while you were a minor to share your story “%s” has ended, and we have taken the story down.", age, who, title), "",
		"It is now your decision. If you want us to share it again, reply to this email or call the team at " + org + " and we will send you a new form to sign yourself.",
		"If you do nothing, the story will not be published again. Your care does not depend on this.", ""}, "\n")}
}
