package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// channelField is one channel on the story form: its checkbox and, for
// social channels, its copy with the server-side count.
type channelField struct {
	channels.Channel
	Checked     bool
	Copy        string
	Count, Over int
}

// staffOption is a person on the owner and collaborator lists.
type staffOption struct {
	ID, Name, Role string
	Collab, CanOwn bool
}

// storyFormData is what story_form.html shows.
type storyFormData struct {
	Story      *models.Story // nil for a new story
	Base       int
	In         stories.Input
	Channels   []channelField
	Staff      []staffOption
	Interviews []models.Interview
	// PatientName names In.PatientID ("" when none is chosen or it is
	// unknown); ChoosePatient is the chooser for this form, and
	// PatientChanged says the chooser changed the saved story's patient.
	PatientName, ChoosePatient string
	PatientChanged             bool
	Draft                      *stories.Draft
	Conflict                   string
	StaleFrom                  int  // the revision the refused save started from
	Covered                    bool // saving will supersede the consent
	Action                     string
	MaxBodyKB                  int
}

func storyActor(c echo.Context) stories.Actor {
	u := currentUser(c)
	return stories.Actor{UserID: u.ID, Role: u.Role}
}

func subject(c echo.Context) authz.Subject {
	u := currentUser(c)
	return authz.Subject{UserID: u.ID, Role: u.Role}
}

// storyInput binds the story form.
func storyInput(c echo.Context) stories.Input {
	in := stories.Input{Title: c.FormValue("title"), Slug: c.FormValue("slug"), Summary: c.FormValue("summary"), Body: c.FormValue("body"),
		Tags: c.FormValue("tags"), OwnerID: c.FormValue("owner"), PatientID: c.FormValue("patient"), InterviewID: c.FormValue("interview"), Copy: map[string]string{}}
	if f, err := c.FormParams(); err == nil {
		in.Channels, in.Collaborators = f["channels"], f["collaborators"]
	}
	for _, ch := range channels.All {
		if ch.Social() {
			in.Copy[ch.Key] = c.FormValue("copy-" + ch.Key)
		}
	}
	return in
}

func (s *Server) renderStoryForm(c echo.Context, status int, d storyFormData, errs map[string]string) error {
	ctx := c.Request().Context()
	staff, err := s.stories.Staff(ctx)
	if err != nil {
		return err
	}
	d.Staff = nil
	for _, u := range staff {
		d.Staff = append(d.Staff, staffOption{ID: u.ID, Name: u.Name, Role: u.Role, Collab: slices.Contains(d.In.Collaborators, u.ID),
			CanOwn: u.Role == models.RoleStoryteller || u.Role == models.RoleAdmin})
	}
	if d.PatientName, err = s.stories.PatientName(ctx, d.In.PatientID); err != nil {
		return err
	}
	if d.Interviews, err = s.stories.Interviews(ctx, d.In.PatientID); err != nil {
		return err
	}
	d.ChoosePatient = "/stories/choose-patient?for=new"
	if d.Story != nil {
		d.ChoosePatient = "/stories/choose-patient?for=" + url.QueryEscape(d.Story.ID)
	}
	d.Channels = nil
	for _, ch := range channels.All {
		f := channelField{Channel: ch, Copy: d.In.Copy[ch.Key]}
		for _, k := range d.In.Channels {
			f.Checked = f.Checked || k == ch.Key
		}
		f.Count, f.Over = channels.Count(ch, f.Copy), channels.Over(ch, f.Copy)
		d.Channels = append(d.Channels, f)
	}
	d.MaxBodyKB = stories.MaxBody / 1024
	title := "New story"
	d.Action = "/stories"
	if d.Story != nil {
		title = "Edit " + d.Story.Title
		d.Action = "/stories/" + d.Story.ID
		d.Covered = workflow.ConsentCovered(workflow.Stage(d.Story.Stage))
	}
	return s.render(c, status, "story_form", Page{Title: title, Errors: errs, Data: d})
}

// storyNew starts a story about ?patient=; without one it sends the user
// to the patient chooser first, before anything is typed.
func (s *Server) storyNew(c echo.Context) error {
	if c.QueryParam("patient") == "" {
		return s.redirect(c, "/stories/choose-patient?for=new")
	}
	in := stories.Input{OwnerID: currentUser(c).ID, PatientID: c.QueryParam("patient"), InterviewID: c.QueryParam("interview"), Channels: []string{"website"}}
	return s.renderStoryForm(c, http.StatusOK, storyFormData{In: in}, nil)
}

func (s *Server) storyCreate(c echo.Context) error {
	in := storyInput(c)
	st, err := s.stories.Create(c.Request().Context(), storyActor(c), in)
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		return s.renderStoryForm(c, http.StatusUnprocessableEntity, storyFormData{In: in}, fe)
	}
	if err != nil {
		return err
	}
	s.flash(c, "Story created as revision 1.")
	return s.redirect(c, "/stories/"+st.ID)
}

// editableStory loads story :id and checks the user may edit it.
func (s *Server) editableStory(c echo.Context) (*models.Story, error) {
	return s.editableStoryID(c, c.Param("id"))
}

// editableStoryID loads story id and checks the user may edit it.
func (s *Server) editableStoryID(c echo.Context, id string) (*models.Story, error) {
	st, err := s.stories.Get(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if !s.authz.AllowedOn(subject(c), authz.StoriesEdit, st) {
		return nil, apperr.Forbidden("You can edit only stories you own or collaborate on. Ask the owner to add you as a collaborator.")
	}
	return st, nil
}

func (s *Server) storyEdit(c echo.Context) error {
	st, err := s.editableStory(c)
	if err != nil {
		return err
	}
	if !workflow.Editable(workflow.Stage(st.Stage)) {
		return apperr.New(http.StatusConflict, "This story is "+workflow.Stage(st.Stage).Label()+"; its content can no longer be edited.")
	}
	d := storyFormData{Story: st, Base: st.Revision, In: stories.InputOf(st)}
	draft, err := s.stories.GetDraft(c.Request().Context(), storyActor(c), st.ID)
	if err != nil {
		return err
	}
	if draft != nil && c.QueryParam("draft") == "1" {
		d.In, d.Base = draft.Input, draft.BaseRevision
	} else {
		d.Draft = draft
	}
	// Back from the patient chooser: the new patient shows on the form and
	// is saved with the story; the old patient's interview no longer fits.
	if p := c.QueryParam("patient"); p != "" && p != d.In.PatientID {
		d.In.PatientID, d.In.InterviewID, d.PatientChanged = p, "", true
	}
	return s.renderStoryForm(c, http.StatusOK, d, nil)
}

func (s *Server) storyUpdate(c echo.Context) error {
	st, err := s.editableStory(c)
	if err != nil {
		return err
	}
	in := storyInput(c)
	base, _ := strconv.Atoi(c.FormValue("base_revision"))
	res, err := s.stories.Update(c.Request().Context(), storyActor(c), st.ID, base, in)
	var fe users.FieldErrors
	var stale *stories.StaleError
	switch {
	case errors.As(err, &fe):
		return s.renderStoryForm(c, http.StatusUnprocessableEntity, storyFormData{Story: st, Base: base, In: in}, fe)
	case errors.As(err, &stale):
		// Keep their text; the next save, made knowingly, is based on the latest revision.
		return s.renderStoryForm(c, http.StatusConflict, storyFormData{Story: st, Base: stale.Latest, In: in, Conflict: stale.Error(), StaleFrom: stale.Base}, nil)
	case err != nil:
		return err
	case res.Unchanged:
		s.flash(c, "Nothing had changed, so no new revision was made.")
	case res.Superseded:
		s.flash(c, "Saved as revision "+strconv.Itoa(res.Story.Revision)+". The consent covered the earlier version, so the story is back in drafting and needs a new consent.")
	default:
		s.flash(c, "Saved as revision "+strconv.Itoa(res.Story.Revision)+".")
	}
	return s.redirect(c, "/stories/"+st.ID)
}
