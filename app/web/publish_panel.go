package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// publishView is what the publishing and publication panel shows.
type publishPanelView struct {
	Story       *models.Story
	Stage       workflow.Stage
	CanManage   bool
	Publishable bool
	Previews    []export.Preview
	Approval    *models.StoryApproval // legal's decision on this revision
	ApprovedFor []string              // its channels, as labels
	Deliveries  []models.Delivery
	Clicks      []export.ClickCount
	Labels      map[string]string
}

// publishPanel shows, for one story, the formatted post of each approved
// channel (with counts and refusals) and the form to post or schedule, then
// every delivery with its state, link, attempts and last error.
func (s *Server) publishPanel(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.stories.Get(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	v := publishPanelView{Story: st, Stage: workflow.Stage(st.Stage), Publishable: export.Publishable(st), Labels: map[string]string{},
		CanManage: s.authz.Allowed(subject(c), publishManage)}
	for _, ch := range export.Social() {
		v.Labels[ch.Key] = ch.Label
	}
	if v.Publishable {
		if v.Previews, err = s.export.Previews(ctx, st.ID); err != nil {
			return err
		}
		if v.Approval, err = s.stories.Approval(ctx, st.ID); err != nil {
			return err
		}
		if v.Approval != nil {
			v.ApprovedFor = channels.Labels(v.Approval.Channels)
		}
	}
	if v.Deliveries, err = s.export.Deliveries(ctx, st.ID); err != nil {
		return err
	}
	if v.Clicks, err = s.export.Clicks(ctx, st.ID); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "publish_panel", Page{Title: "Publish " + st.Title, Data: v})
}

// publishSubmit posts now or schedules the chosen channels.
func (s *Server) publishSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	form, _ := c.FormParams()
	var at time.Time
	if c.FormValue("when") == "later" {
		t, err := time.Parse("2006-01-02T15:04", c.FormValue("at"))
		if err != nil {
			if _, gerr := s.stories.Get(ctx, c.Param("id")); gerr != nil {
				return gerr
			}
			return apperr.New(http.StatusUnprocessableEntity, "Enter the date and time (UTC) to post at.")
		}
		at = t.UTC()
	}
	ds, err := s.export.Schedule(ctx, storyActor(c), c.Param("id"), form["channel"], at)
	if err != nil {
		return err
	}
	msg := "Posting now to "
	if !at.IsZero() {
		msg = "Scheduled for " + at.Format("2006-01-02 15:04") + " UTC: "
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.Channel)
	}
	s.flash(c, msg+strings.Join(names, ", ")+".")
	return s.redirect(c, "/stories/"+c.Param("id")+"/publish")
}

// publishTakedown cancels what is queued and deletes what was posted.
func (s *Server) publishTakedown(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.stories.Get(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	if reason == "" {
		reason = "Unpublished by a publisher."
	}
	if len(reason) > 500 {
		reason = reason[:500]
	}
	if err := s.export.Takedown(ctx, st.ID, reason); err != nil {
		return err
	}
	s.flash(c, "Takedown started: queued posts are cancelled and posted ones will be deleted.")
	return s.redirect(c, "/stories/"+st.ID+"/publish")
}

// publishRetry queues a failed delivery again.
func (s *Server) publishRetry(c echo.Context) error {
	d, err := s.export.Retry(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	s.flash(c, "The delivery is queued again.")
	return s.redirect(c, "/stories/"+d.StoryID+"/publish")
}

// publishRemovedByHand closes a takedown a person did on the network
// themselves (the automatic delete keeps failing, or cannot be done).
func (s *Server) publishRemovedByHand(c echo.Context) error {
	note := strings.TrimSpace(c.FormValue("note"))
	if len(note) > 500 {
		note = note[:500]
	}
	d, err := s.export.ConfirmRemovedByHand(c.Request().Context(), c.Param("id"), note)
	if err != nil {
		return err
	}
	s.flash(c, "Recorded: the post was removed by hand.")
	return s.redirect(c, "/stories/"+d.StoryID+"/publish")
}

// publishBundle downloads the export bundle for manual posting. It is built
// in memory first so a failure is a clean error page, not half a ZIP.
func (s *Server) publishBundle(c echo.Context) error {
	var buf strings.Builder
	if err := s.export.WriteBundle(c.Request().Context(), c.Param("id"), &buf); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="story-export.zip"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/zip", []byte(buf.String()))
}
