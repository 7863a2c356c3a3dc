package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

type stat struct {
	Label string
	Value int64
}

// queue is one "what needs me" list on the dashboard.
type queue struct {
	ID, Title, Empty, More string
	Rows                   []stories.Row
}

// stageCount is one tile of the per-stage counts.
type stageCount struct {
	Stage, Label string
	N            int64
}

// dashboardQueues lists, per role, the stories waiting for this person.
func dashboardQueues(u *models.User) []queue {
	switch u.Role {
	case models.RoleStoryteller, models.RoleAdmin:
		return []queue{{ID: "drafts", Title: "My drafts", Empty: "No stories of yours are being drafted.", More: "/stories?owner=" + u.ID}}
	case models.RoleReviewer:
		return []queue{{ID: "review", Title: "Awaiting my review", Empty: "Nothing is waiting for legal review.", More: "/stories?stage=in_review"}}
	case models.RolePublisher:
		return []queue{{ID: "publish", Title: "Ready to publish", Empty: "No approved stories are waiting.", More: "/stories?stage=approved"}}
	}
	return nil
}

func (s *Server) dashboard(c echo.Context) error {
	u := currentUser(c)
	ctx := c.Request().Context()
	var stats []stat
	if u.Role == models.RoleAdmin {
		var active, total int64
		if err := s.db.WithContext(ctx).Model(&models.User{}).Count(&total).Error; err != nil {
			return err
		}
		if err := s.db.WithContext(ctx).Model(&models.User{}).Where("disabled_at IS NULL").Count(&active).Error; err != nil {
			return err
		}
		stats = append(stats, stat{"Staff accounts", total}, stat{"Active accounts", active})
	}
	data := map[string]any{"Stats": stats, "Enrol2FA": !u.TOTPEnabled}
	if u.Role == models.RoleAdmin {
		tampered, err := s.recentTampered(ctx)
		if err != nil {
			return err
		}
		data["Tampered"] = tampered
	}
	if err := s.dashboardPatientTasks(c, data); err != nil {
		return err
	}
	if s.authz.Allowed(subject(c), authz.StoriesView) {
		filters := map[string]stories.Filter{
			"drafts":  {AuthorID: u.ID, Stages: []string{string(workflow.Interview), string(workflow.Drafting), string(workflow.ChangesRequested)}, Limit: 10},
			"review":  {NotAuthorID: u.ID, Stages: []string{string(workflow.InReview)}, Limit: 10},
			"publish": {Stages: []string{string(workflow.Approved)}, Limit: 10},
		}
		queues := dashboardQueues(u)
		for i := range queues {
			page, err := s.stories.List(ctx, filters[queues[i].ID])
			if err != nil {
				return err
			}
			queues[i].Rows = page.Rows
		}
		counts, err := s.stories.CountByStage(ctx)
		if err != nil {
			return err
		}
		var tiles []stageCount
		for _, st := range workflow.Stages {
			tiles = append(tiles, stageCount{Stage: string(st), Label: st.Label(), N: counts[string(st)]})
		}
		data["Queues"], data["StageCounts"] = queues, tiles
	}
	return s.render(c, http.StatusOK, "dashboard", Page{Title: "Dashboard", Data: data})
}

// tamperedMedia is one stored object whose bytes failed the SHA-256 check.
type tamperedMedia struct {
	ObjectID string
	At       time.Time
}

// recentTampered lists, newest first and once per object, the media whose
// bytes failed the checksum in the last 30 days (audit action
// media.tampered). Only ids and times: no patient details.
func (s *Server) recentTampered(ctx context.Context) ([]tamperedMedia, error) {
	var rows []models.AuditEntry
	if err := s.db.WithContext(ctx).Select("id", "at", "object_id").
		Where("action = ? AND at >= ?", "media.tampered", time.Now().Add(-30*24*time.Hour)).
		Order("id DESC").Limit(200).Find(&rows).Error; err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []tamperedMedia
	for _, r := range rows {
		if seen[r.ObjectID] || len(out) >= 20 {
			continue
		}
		seen[r.ObjectID] = true
		out = append(out, tamperedMedia{ObjectID: r.ObjectID, At: r.At})
	}
	return out, nil
}
