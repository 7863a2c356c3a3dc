package consent

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/jobs"
	"github.com/storykeep/storykeep/app/mail"
	"github.com/storykeep/storykeep/models"
)

// JobPatientNotice sends one notice to the patient (or, when they have no
// email or want paper, gives staff a task to post it).
const JobPatientNotice = "consent.patient_notice"

// Notices the patient receives about their consent (issue 19 item 5).
const (
	NoticeExpiring   = "expiring"   // ends within the configured days
	NoticeExpired    = "expired"    // has ended
	NoticeSuperseded = "superseded" // the story changed: no longer covers it
	NoticeRevoked    = "revoked"    // dated receipt of their revocation
	NoticeMajority   = "majority"   // reached the age of majority (lapse)
)

type noticeJob struct {
	RecordID string    `json:"record_id"`
	Kind     string    `json:"kind"`
	Days     int       `json:"days,omitempty"`
	At       time.Time `json:"at"` // when the event happened (the receipt's date)
}

// NotifyPatient queues notice kind about rec to the patient, in tx, once
// per key: a second call with the same record, kind and days does nothing.
// It may run inside any consent transaction (it reads nothing but tx); the
// job reads the patient's address. The age-of-majority lapse can call it
// with NoticeMajority.
func (s *Service) NotifyPatient(ctx context.Context, tx *gorm.DB, rec *models.ConsentRecord, kind string, days int) error {
	key := rec.ID + ":" + kind
	if days > 0 {
		key += ":" + strconv.Itoa(days)
	}
	var n int64
	if err := tx.Model(&models.ConsentPatientNotice{}).Where("notice_key = ?", key).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	now := s.now()
	if err := tx.Create(&models.ConsentPatientNotice{ID: newID(), RecordID: rec.ID, Kind: kind, NoticeKey: key, CreatedAt: now}).Error; err != nil {
		return err
	}
	_, err := s.jobs.Enqueue(ctx, tx, JobPatientNotice, noticeJob{RecordID: rec.ID, Kind: kind, Days: days, At: now}, jobs.Options{Key: JobPatientNotice + ":" + key})
	return err
}

// HandlePatientNotice emails a notice in the record's language, naming the
// story (its title as signed) and the record, dated. With no email on file,
// or after the patient withdrew consent to electronic records, it gives
// staff a task to post it instead. Both are audited, never with the address.
func (s *Service) HandlePatientNotice(ctx context.Context, job *models.Job) error {
	var j noticeJob
	if err := jobs.Decode(job, &j); err != nil {
		return err
	}
	ctx = audit.WithActor(ctx, audit.System)
	rec, err := s.Record(ctx, j.RecordID)
	if err != nil {
		return jobs.Permanent(err)
	}
	paperOnly, err := s.PaperOnly(ctx, rec.PatientID)
	if err != nil {
		return err
	}
	pd, err := s.patients.View(ctx, rec.PatientID, "consent_notice")
	if err != nil {
		return err
	}
	if pd.Email == "" || paperOnly {
		kind := models.TaskPaperNotice
		if j.Kind == NoticeRevoked {
			kind = models.TaskPaperReceipt
		}
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return s.addTask(ctx, tx, models.ConsentPatientTask{Kind: kind, Detail: j.Kind, PatientID: rec.PatientID, StoryID: rec.StoryID,
				RecordID: rec.ID, TaskKey: "notice:" + job.ID})
		})
	}
	title := ""
	if f, err := ParseFrozen(rec.FrozenJSON); err == nil {
		title = f.Title
	}
	m := patientNotice(rec.Language, s.cfg.OrganisationName, s.cfg.PublicURL, j, rec, title)
	m.To = pd.Email
	if err := s.mail.Send(ctx, m); err != nil {
		return err
	}
	return s.audit.Record(ctx, nil, audit.Entry{Action: "consent.patient_notice", ObjectType: "consent_record", ObjectID: rec.ID,
		Details: map[string]any{"kind": j.Kind, "days": j.Days, "channel": "email"}})
}

// noticeDays is the configured list, largest first.
func (s *Service) noticeDays() []int {
	d := slices.Clone(s.cfg.PatientNoticeDays)
	if d == nil {
		d = []int{30, 7}
	}
	slices.Sort(d)
	slices.Reverse(d)
	return d
}

// patientExpiryNotices tells patients whose valid consent ends within one
// of the configured day counts: each record gets the notice of the
// smallest window it is in, once per window (a consent signed five days
// before its end gets the 7-day notice only, not the 30-day one too).
func (s *Service) patientExpiryNotices(ctx context.Context, now time.Time) error {
	days := s.noticeDays()
	if len(days) == 0 {
		return nil
	}
	var recs []models.ConsentRecord
	if err := s.db.WithContext(ctx).Where("status = ? AND expires_on > ? AND expires_on <= ?", models.RecordValid, now, now.AddDate(0, 0, days[0])).
		Order("expires_on, id").Find(&recs).Error; err != nil {
		return err
	}
	for i := range recs {
		rec := &recs[i]
		window := 0
		for _, d := range days {
			if !rec.ExpiresOn.After(now.AddDate(0, 0, d)) {
				window = d
			}
		}
		if window == 0 {
			continue
		}
		if err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return s.NotifyPatient(ctx, tx, rec, NoticeExpiring, window)
		}); err != nil {
			return err
		}
	}
	return nil
}

// patientNotice is the notice's plain-language email.
func patientNotice(lang, org, publicURL string, j noticeJob, rec *models.ConsentRecord, title string) mail.Message {
	es := lang == "es"
	date := func(t time.Time) string {
		if es {
			return FormatDate("es", t)
		}
		return FormatDate("en", t)
	}
	var subj, body string
	switch j.Kind {
	case NoticeExpiring:
		if es {
			subj = org + ": su autorización termina pronto"
			body = fmt.Sprintf("Su autorización para compartir la historia «%s» termina el %s (en %d días o menos). Después ya no la compartiremos.\n\nSi quiere que siga compartiéndose, puede firmar una nueva autorización: llámenos o responda a este correo. Si no hace nada, dejaremos de compartirla en esa fecha.", title, date(rec.ExpiresOn), j.Days)
		} else {
			subj = org + ": your authorization ends soon"
			body = fmt.Sprintf("Your authorization to share the story \"%s\" ends on %s (in %d days or less). After that we will stop sharing it.\n\nIf you want it to stay shared, you can sign a new authorization: call us or reply to this email. If you do nothing, we stop sharing it on that date.", title, date(rec.ExpiresOn), j.Days)
		}
	case NoticeExpired:
		if es {
			subj = org + ": su autorización ha terminado"
			body = fmt.Sprintf("Su autorización para compartir la historia «%s» terminó el %s. Hemos retirado la historia y pedido que se borren las publicaciones en redes sociales.", title, date(rec.ExpiresOn))
		} else {
			subj = org + ": your authorization has ended"
			body = fmt.Sprintf("Your authorization to share the story \"%s\" ended on %s. We have taken the story down and asked for its social media posts to be deleted.", title, date(rec.ExpiresOn))
		}
	case NoticeSuperseded:
		if es {
			subj = org + ": su autorización ya no cubre la historia"
			body = fmt.Sprintf("La historia «%s» cambió después de que usted firmara, así que su autorización ya no la cubre y no compartiremos la versión nueva sin su permiso. Es posible que le pidamos que firme de nuevo.", title)
		} else {
			subj = org + ": your authorization no longer covers the story"
			body = fmt.Sprintf("The story \"%s\" changed after you signed, so your authorization no longer covers it and we will not share the new version without your permission. We may ask you to sign again.", title)
		}
	case NoticeRevoked:
		if es {
			subj = org + ": recibo de su revocación"
			body = fmt.Sprintf("Confirmamos que el %s recibimos su revocación de la autorización para compartir la historia «%s». Desde ese momento dejamos de compartirla: la retiramos y pedimos que se borren las publicaciones en redes sociales. Lo que ya se había publicado antes no se puede deshacer por completo.", date(j.At), title)
		} else {
			subj = org + ": receipt of your revocation"
			body = fmt.Sprintf("We confirm that on %s we received your revocation of the authorization to share the story \"%s\". From then on we stopped sharing it: we took it down and asked for its social media posts to be deleted. What was published before cannot be fully undone.", date(j.At), title)
		}
	case NoticeMajority:
		if es {
			subj = org + ": su autorización necesita su propia firma"
			body = fmt.Sprintf("Usted ha alcanzado la mayoría de edad. La autorización que firmó su representante para compartir la historia «%s» ya no vale; no la compartiremos salvo que usted firme una nueva.", title)
		} else {
			subj = org + ": your authorization needs your own signature"
			body = fmt.Sprintf("You have reached the age of majority. The authorization your representative signed to share the story \"%s\" no longer applies; we will not share it unless you sign a new one.", title)
		}
	}
	foot := []string{"", "", "Record: " + rec.ID, "Date of this notice: " + date(j.At), "", "Anyone can check the record at: " + strings.TrimRight(publicURL, "/") + "/verify/" + rec.ID, ""}
	if es {
		foot = []string{"", "", "Registro: " + rec.ID, "Fecha de este aviso: " + date(j.At), "", "Cualquiera puede comprobar el registro en: " + strings.TrimRight(publicURL, "/") + "/verify/" + rec.ID, ""}
	}
	hello := "Hello,\n\n"
	if es {
		hello = "Hola:\n\n"
	}
	return mail.Message{Subject: subj, Text: hello + body + strings.Join(foot, "\n")}
}
