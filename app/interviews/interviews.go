// Package interviews schedules and records the conversations with patients
// from which stories are drafted. An interview moves from scheduled to
// completed or cancelled, once; every change is audited by field name, never
// by the notes' content, which may describe the patient's care.
package interviews

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

// TimeLayout is how the form sends a date-time (HTML datetime-local), in UTC.
const TimeLayout = "2006-01-02T15:04"

// MaxNotes bounds interview notes, in characters.
const MaxNotes = 20000

// Service is the interview service.
type Service struct {
	db    *gorm.DB
	audit *audit.Log
}

// New returns the service.
func New(db *gorm.DB, log *audit.Log) *Service { return &Service{db: db, audit: log} }

// Input is a new interview as typed into the form.
type Input struct {
	CreatedBy     string // the staff member scheduling it
	InterviewerID string
	ScheduledAt   string // TimeLayout, UTC
	Location      string
	Remote        bool
	Notes         string
}

// ErrNotFound is returned for an unknown interview id.
var ErrNotFound = apperr.NotFound("That interview does not exist.")

// Interviewers lists the active staff who may run an interview.
func (s *Service) Interviewers(ctx context.Context) ([]models.User, error) {
	var us []models.User
	err := s.db.WithContext(ctx).Where("role IN ? AND disabled_at IS NULL", []string{models.RoleAdmin, models.RoleStoryteller}).Order("name, email").Find(&us).Error
	return us, err
}

// Schedule validates in and adds a scheduled interview with patientID.
func (s *Service) Schedule(ctx context.Context, patientID string, in Input) (*models.Interview, error) {
	in.Location, in.Notes = strings.TrimSpace(in.Location), strings.TrimSpace(in.Notes)
	fe := users.FieldErrors{}
	at, err := time.Parse(TimeLayout, strings.TrimSpace(in.ScheduledAt))
	if err != nil {
		fe["scheduled_at"] = "Enter the date and time, for example 2026-03-14 at 10:30."
	}
	var n int64
	if err := s.db.WithContext(ctx).Model(&models.User{}).Where("id = ? AND role IN ? AND disabled_at IS NULL", in.InterviewerID,
		[]string{models.RoleAdmin, models.RoleStoryteller}).Count(&n).Error; err != nil {
		return nil, err
	}
	if n == 0 {
		fe["interviewer"] = "Choose the staff member who will run the interview."
	}
	if in.Location == "" && !in.Remote {
		fe["location"] = "Enter where the interview takes place, or tick “Remote”."
	} else if utf8.RuneCountInString(in.Location) > 200 {
		fe["location"] = "Location must be at most 200 characters."
	}
	if utf8.RuneCountInString(in.Notes) > MaxNotes {
		fe["notes"] = "Notes must be at most 20000 characters."
	}
	if len(fe) > 0 {
		return nil, fe
	}
	iv := &models.Interview{ID: uuid.Must(uuid.NewV7()).String(), PatientID: patientID, InterviewerID: in.InterviewerID, CreatedBy: in.CreatedBy,
		ScheduledAt: at.UTC(), Location: in.Location, Remote: in.Remote, Notes: in.Notes, Status: models.InterviewScheduled}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(iv).Error; err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: "interview.schedule", ObjectType: "interview", ObjectID: iv.ID,
			Details: map[string]any{"patient_id": patientID, "interviewer_id": in.InterviewerID}})
	})
	if err != nil {
		return nil, err
	}
	return iv, nil
}

// Get returns an interview.
func (s *Service) Get(ctx context.Context, id string) (*models.Interview, error) {
	var iv models.Interview
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&iv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &iv, err
}

// Owners are the staff an interview belongs to, as a story belongs to its
// owner and collaborators (finding F11): who runs it, who scheduled it, and
// the owners and collaborators of the patient's stories. It implements
// authz.Owned.
type Owners []string

// OwnerIDs implements authz.Owned.
func (o Owners) OwnerIDs() []string { return o }

// Owners returns iv's owners.
func (s *Service) Owners(ctx context.Context, iv *models.Interview) (Owners, error) {
	db := s.db.WithContext(ctx)
	var owners, collaborators []string
	if err := db.Model(&models.Story{}).Where("patient_id = ?", iv.PatientID).Pluck("owner_id", &owners).Error; err != nil {
		return nil, err
	}
	err := db.Model(&models.StoryCollaborator{}).
		Where("story_id IN (?)", db.Model(&models.Story{}).Select("id").Where("patient_id = ?", iv.PatientID)).
		Pluck("user_id", &collaborators).Error
	out := Owners{iv.InterviewerID}
	if iv.CreatedBy != "" {
		out = append(out, iv.CreatedBy)
	}
	return append(append(out, owners...), collaborators...), err
}

// ForPatient lists a patient's interviews, soonest first.
func (s *Service) ForPatient(ctx context.Context, patientID string) ([]models.Interview, error) {
	var ivs []models.Interview
	err := s.db.WithContext(ctx).Where("patient_id = ?", patientID).Order("scheduled_at, id").Find(&ivs).Error
	return ivs, err
}

// ForInterviewer lists the interviews userID runs, scheduled ones first,
// then the rest, each soonest first.
func (s *Service) ForInterviewer(ctx context.Context, userID string) ([]models.Interview, error) {
	var ivs []models.Interview
	err := s.db.WithContext(ctx).Where("interviewer_id = ?", userID).
		Order("CASE WHEN status = 'scheduled' THEN 0 ELSE 1 END, scheduled_at, id").Limit(500).Find(&ivs).Error
	return ivs, err
}

// UpdateNotes replaces an interview's notes.
func (s *Service) UpdateNotes(ctx context.Context, id, notes string) error {
	notes = strings.TrimSpace(notes)
	if utf8.RuneCountInString(notes) > MaxNotes {
		return users.FieldErrors{"notes": "Notes must be at most 20000 characters."}
	}
	return s.update(ctx, id, "interview.update_notes", map[string]any{"notes": notes}, map[string]any{"fields": []string{"notes"}}, "")
}

// Transition moves a scheduled interview to completed or cancelled. Any
// other move is refused with a message saying why.
func (s *Service) Transition(ctx context.Context, id, to string) error {
	if to != models.InterviewCompleted && to != models.InterviewCancelled {
		return apperr.New(422, "An interview can only be marked completed or cancelled.")
	}
	iv, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if iv.Status != models.InterviewScheduled {
		return apperr.New(409, "This interview is already "+iv.Status+"; only a scheduled interview can be marked completed or cancelled.")
	}
	return s.update(ctx, id, transitionActions[to], map[string]any{"status": to},
		map[string]any{"from": iv.Status, "to": to}, models.InterviewScheduled)
}

var transitionActions = map[string]string{models.InterviewCompleted: "interview.complete", models.InterviewCancelled: "interview.cancel"}

// update applies fields to interview id (only while its status is
// wantStatus, when given, so two people acting at once never both win) and
// audits action in the same transaction.
func (s *Service) update(ctx context.Context, id, action string, fields, details map[string]any, wantStatus string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		fields["updated_at"] = time.Now().UTC()
		q := tx.Model(&models.Interview{}).Where("id = ?", id)
		if wantStatus != "" {
			q = q.Where("status = ?", wantStatus)
		}
		res := q.Updates(fields)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			if wantStatus != "" {
				return apperr.New(409, "This interview changed while you were looking at it. Reload the page and try again.")
			}
			return ErrNotFound
		}
		return s.audit.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "interview", ObjectID: id, Details: details})
	})
}
