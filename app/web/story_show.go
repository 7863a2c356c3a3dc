package web

import (
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/markdown"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// copyView is one channel's copy on the story page.
type copyView struct {
	channels.Channel
	Text        string
	Count, Over int
}

// storyView is what story_show.html and story_review.html show.
type storyView struct {
	Story       *models.Story
	Stage       workflow.Stage
	BodyHTML    template.HTML
	Copies      []copyView
	ChannelTags []string
	OwnerName   string
	Collabs     []string
	PatientName string
	Events      []stories.Event
	Transitions []workflow.Transition
	Scans       []stories.FieldScan
	Unacked     int
	CanEdit     bool
	CanReview   bool
	Comments    CommentsPartial
}

// loadStoryView loads what the story and review pages show, and records the
// view in the audit log (the page names the patient and tells their story);
// purpose is "view" or "review".
func (s *Server) loadStoryView(c echo.Context, purpose string) (*storyView, error) {
	ctx := c.Request().Context()
	st, err := s.stories.Get(ctx, c.Param("id"))
	if err != nil {
		return nil, err
	}
	if err := s.stories.RecordView(ctx, st, purpose); err != nil {
		return nil, err
	}
	v := &storyView{Story: st, Stage: workflow.Stage(st.Stage), BodyHTML: markdown.Render(st.Body)}
	cp := stories.Copy(st)
	for _, k := range st.Channels {
		ch, _ := channels.Get(k)
		v.ChannelTags = append(v.ChannelTags, ch.Label)
		if ch.Social() {
			v.Copies = append(v.Copies, copyView{Channel: ch, Text: cp[k], Count: channels.Count(ch, cp[k]), Over: channels.Over(ch, cp[k])})
		}
	}
	names, err := s.stories.Names(ctx, st)
	if err != nil {
		return nil, err
	}
	v.OwnerName, v.Collabs, v.PatientName = names.Owner, names.Collaborators, names.Patient
	if v.Events, err = s.stories.Events(ctx, st.ID); err != nil {
		return nil, err
	}
	if v.Scans, err = s.stories.Scan(ctx, st); err != nil {
		return nil, err
	}
	v.Unacked = stories.Unacknowledged(v.Scans)
	v.Transitions = s.stories.Available(storyActor(c), st)
	v.CanEdit = workflow.Editable(v.Stage) && s.authz.AllowedOn(subject(c), authz.StoriesEdit, st)
	v.CanReview = s.authz.Allowed(subject(c), authz.StoriesReview)
	return v, nil
}

func (s *Server) storyShow(c echo.Context) error {
	v, err := s.loadStoryView(c, "view")
	if err != nil {
		return err
	}
	// Comments belong to the patients/comments capability (comment_thread.go).
	if v.Comments, err = s.commentsPartial(c, v.Story.ID, "/stories/"+v.Story.ID); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "story_show", Page{Title: v.Story.Title, Data: v})
}
