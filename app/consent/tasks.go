package consent

import (
	"context"
	"net/http"
	"strings"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/models"
)

// taskLabels say what staff must do, without patient details (the task
// list shows on the dashboard).
var taskLabels = map[string]string{
	models.TaskPrintCopy:    "Hand the patient a printed copy of their signed authorization (no email address on file)",
	models.TaskPaperReceipt: "Post the patient a dated receipt of their revocation",
	models.TaskPaperNotice:  "Post the patient a consent notice",
	models.TaskPaperOnly:    "The patient withdrew consent to electronic records: from now on send everything on paper",
}

// noticeLabels complete a paper notice task's label with which notice.
var noticeLabels = map[string]string{
	NoticeExpiring:   "the consent ends soon",
	NoticeExpired:    "the consent has ended",
	NoticeSuperseded: "the consent was superseded because the story changed",
	NoticeRevoked:    "receipt of the revocation",
	NoticeMajority:   "the patient reached the age of majority",
}

// TaskLabel says in words what a patient task asks for.
func TaskLabel(t models.ConsentPatientTask) string {
	l := taskLabels[t.Kind]
	if t.Kind == models.TaskPaperNotice {
		if n := noticeLabels[t.Detail]; n != "" {
			l += ": " + n
		}
	}
	return l
}

// addTask creates a task in tx once per TaskKey (a second call is a no-op),
// audited.
func (s *Service) addTask(ctx context.Context, tx *gorm.DB, t models.ConsentPatientTask) error {
	var n int64
	if err := tx.Model(&models.ConsentPatientTask{}).Where("task_key = ?", t.TaskKey).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	t.ID, t.CreatedAt = newID(), s.now()
	if err := tx.Create(&t).Error; err != nil {
		return err
	}
	return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.task_open", ObjectType: "consent_patient_task", ObjectID: t.ID,
		Details: map[string]any{"kind": t.Kind, "detail": t.Detail, "story_id": t.StoryID, "record_id": t.RecordID}})
}

// copyTask asks staff to hand over a printed copy of rec when the patient
// cannot receive it by email (164.508(c)(4): the signer gets a copy).
func (s *Service) copyTask(ctx context.Context, tx *gorm.DB, rec *models.ConsentRecord, needed bool) error {
	if !needed {
		return nil
	}
	return s.addTask(ctx, tx, models.ConsentPatientTask{Kind: models.TaskPrintCopy, PatientID: rec.PatientID, StoryID: rec.StoryID,
		RecordID: rec.ID, TaskKey: models.TaskPrintCopy + ":" + rec.ID})
}

// AfterSigned is called in the signing transaction: with no email on file
// (or the patient wants paper), staff are given the printed-copy task.
func (s *Service) AfterSigned(ctx context.Context, tx *gorm.DB, rec *models.ConsentRecord, email string) error {
	var n int64
	if err := tx.Model(&models.PatientEsignWithdrawal{}).Where("patient_id = ?", rec.PatientID).Count(&n).Error; err != nil {
		return err
	}
	return s.copyTask(ctx, tx, rec, email == "" || n > 0)
}

// Tasks lists a story's patient tasks, open ones first.
func (s *Service) Tasks(ctx context.Context, storyID string) ([]models.ConsentPatientTask, error) {
	var out []models.ConsentPatientTask
	err := s.read.WithContext(ctx).Where("story_id = ?", storyID).Order("done_at IS NOT NULL, created_at, id").Find(&out).Error
	return out, err
}

// OpenTask is an open task with its story's title, for the dashboard.
type OpenTask struct {
	models.ConsentPatientTask
	StoryTitle string
}

// OpenTasks lists open tasks, oldest first, at most limit: on every
// story, or (userID set) on the stories userID owns or collaborates on.
func (s *Service) OpenTasks(ctx context.Context, userID string, limit int) ([]OpenTask, error) {
	q := s.read.WithContext(ctx).Table("consent_patient_tasks AS t").Select("t.*, s.title AS story_title").
		Joins("JOIN stories s ON s.id = t.story_id").Where("t.done_at IS NULL")
	if userID != "" {
		q = q.Where("s.owner_id = ? OR t.story_id IN (?)", userID,
			s.read.Model(&models.StoryCollaborator{}).Select("story_id").Where("user_id = ?", userID))
	}
	var out []OpenTask
	err := q.Order("t.created_at, t.id").Limit(limit).Scan(&out).Error
	return out, err
}

// CompleteTask records that staff did a task (handed over the copy, posted
// the letter), with an optional note, audited. A second time is refused.
func (s *Service) CompleteTask(ctx context.Context, storyID, taskID, note string) error {
	note = truncate(strings.TrimSpace(note), 500)
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var t models.ConsentPatientTask
		if err := tx.Where("id = ? AND story_id = ?", taskID, storyID).Limit(1).Find(&t).Error; err != nil {
			return err
		}
		if t.ID == "" {
			return apperr.NotFound("That task does not exist.")
		}
		now := s.now()
		who := audit.ActorFrom(ctx).ID
		q := tx.Model(&models.ConsentPatientTask{}).Where("id = ? AND done_at IS NULL", t.ID).
			Updates(map[string]any{"done_at": now, "done_by": who, "note": note})
		if q.Error != nil {
			return q.Error
		}
		if q.RowsAffected == 0 {
			return apperr.New(http.StatusConflict, "This task was already recorded as done.")
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.task_done", ObjectType: "consent_patient_task", ObjectID: t.ID,
			Details: map[string]any{"kind": t.Kind, "detail": t.Detail, "story_id": t.StoryID, "record_id": t.RecordID, "note_given": note != ""}})
	})
}
