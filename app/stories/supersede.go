package stories

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/workflow"
)

// SupersedeIn treats a change to consent-covered content made outside the
// story text (a covered photo's caption, alt text or focal point) exactly as
// a body edit: in tx, the story gets a new revision (so legal's approval of
// the old one no longer applies), goes back to drafting if the patient was
// asked about or agreed to it, and the consent hooks supersede the request
// or record, audited, with staff told. A story not past drafting only gets
// nothing; the caller's own change and audit entry stand.
func (s *Service) SupersedeIn(ctx context.Context, tx *gorm.DB, a Actor, storyID, reason string) error {
	cur, err := s.load(tx, storyID)
	if err != nil {
		return err
	}
	if !workflow.ConsentCovered(workflow.Stage(cur.Stage)) {
		return nil
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	next := *cur
	next.Revision, next.Stage, next.UpdatedAt = cur.Revision+1, string(workflow.Drafting), now
	q := tx.Model(&next).Where("id = ? AND revision = ?", cur.ID, cur.Revision).
		Updates(map[string]any{"stage": next.Stage, "revision": next.Revision, "updated_at": now})
	if q.Error != nil {
		return q.Error
	}
	if q.RowsAffected == 0 {
		return s.checkFresh(tx, &next, cur.Revision)
	}
	if err := s.addRevision(tx, &next, a.UserID, nil, now); err != nil {
		return err
	}
	return s.recordStageChange(ctx, tx, a, cur, &next, reason, now)
}
