package consent

import (
	"context"
	"slices"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/models"
)

// Notification kinds consent adds to the staff inbox (beside comments'
// "mention"). The inbox shows them with NotificationLabel.
const (
	NotifySigned     = "consent_signed"
	NotifyDeclined   = "consent_declined"
	NotifyLocked     = "consent_locked"
	NotifySuperseded = "consent_superseded"
	NotifyRevoked    = "consent_revoked"
	NotifyExpired    = "consent_expired"
	NotifyRenewal    = "consent_renewal"
	NotifyMajority   = "consent_majority"
	// NotifyPatientChanged: a live request was cancelled because the
	// patient's date of birth, email or phone changed (finding F10).
	NotifyPatientChanged = "consent_patient_changed"
)

var notificationLabels = map[string]string{
	NotifySigned:         "The patient signed the consent",
	NotifyDeclined:       "The patient declined the consent",
	NotifyLocked:         "A consent link was locked after failed identity checks",
	NotifySuperseded:     "A consent was superseded because the story changed",
	NotifyRevoked:        "The patient revoked their consent",
	NotifyExpired:        "A consent expired",
	NotifyRenewal:        "A consent expires within 30 days: ask for renewal",
	NotifyMajority:       "The patient reaches 18 soon: their consent must be renewed",
	NotifyPatientChanged: "A consent request was cancelled because the patient's date of birth, email or phone changed: check the details and send a new one",
}

// NotificationLabel says in words what a consent notification is about; ""
// for kinds that are not consent's.
func NotificationLabel(kind string) string { return notificationLabels[kind] }

// notifyStaff tells the story's owner, collaborators and the person who sent
// the request, in tx, through the same inbox rows comment mentions use. The
// actor is the staff member who sent the request (notifications name a
// user; the patient is never named).
func (s *Service) notifyStaff(ctx context.Context, tx *gorm.DB, storyID, actorID, kind string) error {
	var st models.Story
	if err := tx.Select("id, owner_id").Where("id = ?", storyID).Limit(1).Find(&st).Error; err != nil {
		return err
	}
	var who []string
	if err := tx.Model(&models.StoryCollaborator{}).Where("story_id = ?", storyID).Pluck("user_id", &who).Error; err != nil {
		return err
	}
	who = append([]string{st.OwnerID, actorID}, who...)
	if actorID == "" || actorID == "system" {
		actorID = st.OwnerID
	}
	var sent []string
	for _, uid := range who {
		if uid == "" || uid == "system" || slices.Contains(sent, uid) {
			continue
		}
		sent = append(sent, uid)
		n := models.Notification{ID: newID(), UserID: uid, Kind: kind, ActorID: actorID, StoryID: storyID, CreatedAt: s.now()}
		if err := tx.Create(&n).Error; err != nil {
			return err
		}
	}
	return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.notify", ObjectType: "story", ObjectID: storyID,
		Details: map[string]any{"kind": kind, "recipients": len(sent)}})
}

// RecordStatusText says a record's status in words for the public check.
func RecordStatusText(status string) string {
	switch status {
	case models.RecordValid:
		return "valid"
	case models.RecordRevoked:
		return "revoked by the signer"
	case models.RecordExpired:
		return "expired"
	case models.RecordSuperseded:
		return "superseded (the story changed after signing)"
	}
	return status
}

// patientContactChanged is the patients service's contact hook (finding
// F10): a change to a patient's date of birth, email or phone cancels every
// request still waiting for them (a link sent to the old address, or an
// identity check against the old date of birth, must not complete), audits
// each cancellation with the fields that changed, and tells the sender and
// the story's owner and collaborators in their inbox, so they check the new
// details and send again. Runs in the patient update's transaction.
func (s *Service) patientContactChanged(ctx context.Context, tx *gorm.DB, patientID string, fields []string) error {
	var reqs []models.ConsentRequest
	statuses := append(slices.Clone(liveRequest), models.RequestLocked)
	if err := tx.Where("patient_id = ? AND status IN ?", patientID, statuses).Order("id").Find(&reqs).Error; err != nil {
		return err
	}
	actor := audit.ActorFrom(ctx).ID
	notified := map[[2]string]bool{}
	for i := range reqs {
		r := &reqs[i]
		if err := s.setRequestStatus(tx, r, models.RequestCancelled); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, audit.Entry{Action: "consent.cancel", ObjectType: "consent_request", ObjectID: r.ID,
			Details: map[string]any{"story_id": r.StoryID, "reason": "patient_details_changed", "fields": fields}}); err != nil {
			return err
		}
		var st models.Story
		if err := tx.Select("id, owner_id").Where("id = ?", r.StoryID).Limit(1).Find(&st).Error; err != nil {
			return err
		}
		var who []string
		if err := tx.Model(&models.StoryCollaborator{}).Where("story_id = ?", r.StoryID).Pluck("user_id", &who).Error; err != nil {
			return err
		}
		for _, uid := range append([]string{r.CreatedBy, st.OwnerID}, who...) {
			key := [2]string{r.StoryID, uid}
			if uid == "" || uid == "system" || notified[key] {
				continue
			}
			notified[key] = true
			n := models.Notification{ID: newID(), UserID: uid, Kind: NotifyPatientChanged, ActorID: actor, StoryID: r.StoryID, CreatedAt: s.now()}
			if err := tx.Create(&n).Error; err != nil {
				return err
			}
		}
	}
	if len(reqs) == 0 {
		return nil
	}
	return s.audit.Record(ctx, tx, audit.Entry{Action: "consent.notify", ObjectType: "patient", ObjectID: patientID,
		Details: map[string]any{"kind": NotifyPatientChanged, "requests": len(reqs), "recipients": len(notified)}})
}
