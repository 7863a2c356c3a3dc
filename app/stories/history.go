package stories

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"
	"gorm.io/gorm"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/models"
)

// RevisionInfo is one line of a story's history.
type RevisionInfo struct {
	Number       int
	AuthorName   string
	At           time.Time
	RestoredFrom *int
}

// Revisions lists a story's revisions, newest first.
func (s *Service) Revisions(ctx context.Context, id string) ([]RevisionInfo, error) {
	db := s.db.WithContext(ctx)
	if _, err := s.load(db, id); err != nil {
		return nil, err
	}
	var out []RevisionInfo
	err := db.Table("story_revisions r").Select("r.number, u.name AS author_name, r.created_at AS at, r.restored_from").
		Joins("LEFT JOIN users u ON u.id = r.author_id").Where("r.story_id = ?", id).Order("r.number DESC").Scan(&out).Error
	return out, err
}

// Revision returns revision n of story id.
func (s *Service) Revision(ctx context.Context, id string, n int) (*models.StoryRevision, error) {
	return revision(s.db.WithContext(ctx), id, n)
}

func revision(tx *gorm.DB, id string, n int) (*models.StoryRevision, error) {
	var r models.StoryRevision
	if err := tx.Where("story_id = ? AND number = ?", id, n).Limit(1).Find(&r).Error; err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, apperr.NotFound(fmt.Sprintf("This story has no revision %d.", n))
	}
	return &r, nil
}

// FieldDiff is the difference in one field between two revisions, as safe
// HTML (<ins>/<del> around escaped text).
type FieldDiff struct {
	Label   string
	Changed bool
	HTML    template.HTML
}

// Diff compares revisions a and b of story id, field by field.
func (s *Service) Diff(ctx context.Context, id string, a, b int) ([]FieldDiff, error) {
	ra, err := s.Revision(ctx, id, a)
	if err != nil {
		return nil, err
	}
	rb, err := s.Revision(ctx, id, b)
	if err != nil {
		return nil, err
	}
	fa, fb := revisionFields(ra), revisionFields(rb)
	var out []FieldDiff
	for i := range fa {
		if fa[i][1] == "" && fb[i][1] == "" {
			continue
		}
		out = append(out, FieldDiff{Label: fa[i][0], Changed: fa[i][1] != fb[i][1], HTML: DiffHTML(fa[i][1], fb[i][1])})
	}
	return out, nil
}

// revisionFields lists (label, text) pairs of a revision's content in a fixed order.
func revisionFields(r *models.StoryRevision) [][2]string {
	var tags, chans []string
	_ = json.Unmarshal([]byte(r.Tags), &tags)
	_ = json.Unmarshal([]byte(r.Channels), &chans)
	cp := map[string]string{}
	_ = json.Unmarshal([]byte(r.ChannelCopy), &cp)
	out := [][2]string{{"Title", r.Title}, {"Summary", r.Summary}, {"Story", r.Body}, {"Tags", joinTags(tags)}, {"Channels", strings.Join(chans, ", ")}}
	for _, c := range channels.All {
		if c.Social() {
			out = append(out, [2]string{c.Label + " copy", cp[c.Key]})
		}
	}
	return out
}

// DiffHTML renders the change from a to b with every piece of text escaped.
func DiffHTML(a, b string) template.HTML {
	dmp := diffmatchpatch.New()
	ds := dmp.DiffCleanupSemantic(dmp.DiffMain(a, b, false))
	var sb strings.Builder
	for _, d := range ds {
		t := template.HTMLEscapeString(d.Text)
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			sb.WriteString("<ins>" + t + "</ins>")
		case diffmatchpatch.DiffDelete:
			sb.WriteString("<del>" + t + "</del>")
		default:
			sb.WriteString(t)
		}
	}
	return template.HTML(sb.String()) //nolint:gosec // every piece escaped above
}

// Restore makes revision n the content of a new revision (base must be the
// latest revision, as for any save).
func (s *Service) Restore(ctx context.Context, a Actor, id string, n, base int) (*SaveResult, error) {
	var res *SaveResult
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cur, err := s.load(tx, id)
		if err != nil {
			return err
		}
		r, err := revision(tx, id, n)
		if err != nil {
			return err
		}
		if n == cur.Revision {
			return apperr.New(http.StatusConflict, fmt.Sprintf("Revision %d is already the current text.", n))
		}
		in := InputOf(cur)
		in.Title, in.Summary, in.Body = r.Title, r.Summary, r.Body
		var tags []string
		_ = json.Unmarshal([]byte(r.Tags), &tags)
		in.Tags = joinTags(tags)
		_ = json.Unmarshal([]byte(r.Channels), &in.Channels)
		in.Copy = map[string]string{}
		_ = json.Unmarshal([]byte(r.ChannelCopy), &in.Copy)
		res, err = s.update(ctx, tx, a, id, base, in, &n)
		return err
	})
	return res, err
}

// Event is one line of a story's timeline.
type Event struct {
	models.StoryEvent
	ActorName string
}

// Events returns a story's timeline, oldest first.
func (s *Service) Events(ctx context.Context, id string) ([]Event, error) {
	var out []Event
	err := s.db.WithContext(ctx).Table("story_events e").Select("e.*, u.name AS actor_name").
		Joins("LEFT JOIN users u ON u.id = e.actor_id").Where("e.story_id = ?", id).Order("e.at, e.id").Scan(&out).Error
	return out, err
}

// Draft is an autosaved edit buffer.
type Draft struct {
	BaseRevision int
	Input        Input
	SavedAt      time.Time
}

// SaveDraft stores a's unsaved edit of story id without creating a revision.
func (s *Service) SaveDraft(ctx context.Context, a Actor, id string, base int, in Input) (time.Time, error) {
	db := s.db.WithContext(ctx)
	if _, err := s.load(db, id); err != nil {
		return time.Time{}, err
	}
	if len(in.Body) > MaxBody+64*1024 {
		return time.Time{}, apperr.New(http.StatusRequestEntityTooLarge, "The draft is too large to keep.")
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	d := models.StoryDraft{StoryID: id, UserID: a.UserID, BaseRevision: base, Data: jsonString(in), SavedAt: now}
	return now, db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("story_id = ? AND user_id = ?", id, a.UserID).Delete(&models.StoryDraft{}).Error; err != nil {
			return err
		}
		return tx.Create(&d).Error
	})
}

// GetDraft returns a's autosaved draft of story id, or nil.
func (s *Service) GetDraft(ctx context.Context, a Actor, id string) (*Draft, error) {
	var d models.StoryDraft
	if err := s.db.WithContext(ctx).Where("story_id = ? AND user_id = ?", id, a.UserID).Limit(1).Find(&d).Error; err != nil || d.StoryID == "" {
		return nil, err
	}
	out := &Draft{BaseRevision: d.BaseRevision, SavedAt: d.SavedAt}
	return out, json.Unmarshal([]byte(d.Data), &out.Input)
}

// DiscardDraft deletes a's autosaved draft of story id.
func (s *Service) DiscardDraft(ctx context.Context, a Actor, id string) error {
	return s.db.WithContext(ctx).Where("story_id = ? AND user_id = ?", id, a.UserID).Delete(&models.StoryDraft{}).Error
}

// RecordView audits that the signed-in person opened story st, which names
// its patient ("story.view", with the purpose: "view" or "review").
func (s *Service) RecordView(ctx context.Context, st *models.Story, purpose string) error {
	return s.audit.Record(ctx, nil, audit.Entry{Action: "story.view", ObjectType: "story", ObjectID: st.ID,
		Details: map[string]any{"purpose": purpose, "patient_id": st.PatientID, "revision": st.Revision}})
}
