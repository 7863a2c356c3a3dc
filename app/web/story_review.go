package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// reviewView is the legal reviewer's screen: the story, what the patient's
// consent allows, the PHI findings, every photo with its alt text, each
// channel's post as it would go out, and the decision forms.
type reviewView struct {
	*storyView
	Scope       *consent.Scope
	ScopeReason string // why there is no valid consent, when Scope is nil
	NameUsage   string // the consented name usage, in words
	Media       []reviewMedia
	Previews    []export.Preview
	Options     []approveOption
	Approval    *models.StoryApproval
	Approved    []string // labels of the approval's channels
	CanDecide   bool     // the viewer may approve, request changes or reject now
}

type reviewMedia struct {
	models.MediaAsset
	Consented bool
}

// approveOption is one channel checkbox of the approval form.
type approveOption struct {
	channels.Channel
	Consented bool
}

var nameUsageWords = map[string]string{
	"full": "Full name", "first_name": "First name only", "anonymous": "No name (anonymous)",
}

func (s *Server) loadReviewView(c echo.Context) (*reviewView, error) {
	ctx := c.Request().Context()
	sv, err := s.loadStoryView(c, "review")
	if err != nil {
		return nil, err
	}
	st := sv.Story
	v := &reviewView{storyView: sv}
	if v.Scope, v.ScopeReason, err = s.consent.CurrentScope(ctx, st.ID); err != nil {
		return nil, err
	}
	if v.Scope != nil {
		v.NameUsage = nameUsageWords[v.Scope.NameUsage]
	}
	list, err := s.media.List(ctx, assets.Owner{Type: models.OwnerStory, ID: st.ID})
	if err != nil {
		return nil, err
	}
	for _, a := range list {
		v.Media = append(v.Media, reviewMedia{MediaAsset: a, Consented: v.Scope != nil && slices.Contains(v.Scope.MediaIDs, a.ID)})
	}
	if v.Previews, err = s.export.ReviewPreviews(ctx, st); err != nil {
		return nil, err
	}
	for _, k := range st.Channels {
		ch, _ := channels.Get(k)
		v.Options = append(v.Options, approveOption{Channel: ch, Consented: v.Scope != nil && slices.Contains(v.Scope.Channels, k)})
	}
	if export.Publishable(st) {
		if v.Approval, err = s.stories.Approval(ctx, st.ID); err != nil {
			return nil, err
		}
		if v.Approval != nil {
			v.Approved = channels.Labels(v.Approval.Channels)
		}
	}
	v.CanDecide = slices.ContainsFunc(sv.Transitions, func(t workflow.Transition) bool { return t.To == workflow.Approved })
	return v, nil
}

func (s *Server) storyReview(c echo.Context) error {
	v, err := s.loadReviewView(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "story_review", Page{Title: "Review " + v.Story.Title, Data: v})
}

// storyApprove approves the story for the ticked channels, optionally not
// before a date and time (UTC).
func (s *Server) storyApprove(c echo.Context) error {
	rev, _ := strconv.Atoi(c.FormValue("revision"))
	form, _ := c.FormParams()
	in := stories.ApprovalInput{Channels: form["channel"]}
	if nb := strings.TrimSpace(c.FormValue("not_before")); nb != "" {
		t, err := time.Parse("2006-01-02T15:04", nb)
		if err != nil {
			return apperr.New(http.StatusUnprocessableEntity, "Enter the publish-not-before date and time as YYYY-MM-DD HH:MM (UTC), or leave it empty.")
		}
		in.NotBefore = &t
	}
	st, err := s.stories.Approve(c.Request().Context(), storyActor(c), c.Param("id"), rev, c.FormValue("note"), in)
	if err != nil {
		return err
	}
	msg := "The story is approved for " + strconv.Itoa(len(in.Channels)) + " channel(s)"
	if in.NotBefore != nil {
		msg += ", not before " + in.NotBefore.UTC().Format("2006-01-02 15:04") + " UTC"
	}
	s.flash(c, msg+".")
	return s.redirect(c, "/stories/"+st.ID)
}
