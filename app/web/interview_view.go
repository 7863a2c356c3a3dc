package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/users"
	"github.com/storykeep/storykeep/models"
)

func (s *Server) interviewMine(c echo.Context) error {
	ivs, err := s.interviews.ForInterviewer(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	rows, err := s.interviewRows(c, ivs)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "interview_list", Page{Title: "My interviews", Data: map[string]any{"Interviews": rows}})
}

// interview returns interview id if the signed-in user may open it (or,
// with edit, change it): an admin, or a storyteller among its owners
// (finding F11). Others get 403, as for another's story.
func (s *Server) interview(c echo.Context, id string, edit bool) (*models.Interview, error) {
	ctx := c.Request().Context()
	iv, err := s.interviews.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if ok, err := s.mayInterview(c, iv, edit); err != nil || !ok {
		if err == nil {
			err = apperr.Forbidden("This interview is not yours: only the staff running it, who scheduled it, the staff on the patient's stories and admins can open it.")
		}
		return nil, err
	}
	return iv, nil
}

func (s *Server) mayInterview(c echo.Context, iv *models.Interview, edit bool) (bool, error) {
	p := authz.InterviewsOpen
	if edit {
		p = authz.InterviewsEdit
	}
	sub := subject(c)
	if s.authz.Allowed(sub, p) {
		return true, nil
	}
	owners, err := s.interviews.Owners(c.Request().Context(), iv)
	if err != nil {
		return false, err
	}
	return s.authz.AllowedOn(sub, p, owners), nil
}

func (s *Server) renderInterview(c echo.Context, status int, id string, notes string, errs map[string]string) error {
	iv, err := s.interview(c, id, false)
	if err != nil {
		return err
	}
	canEdit, err := s.mayInterview(c, iv, true)
	if err != nil {
		return err
	}
	rows, err := s.interviewRows(c, []models.Interview{*iv})
	if err != nil {
		return err
	}
	if errs == nil {
		notes = iv.Notes
	}
	field := formField{ID: "notes", Label: "Notes", Type: "textarea", Value: notes, Error: errs["notes"],
		Hint: "What was discussed, follow-ups, quotes to check with the patient."}
	return s.render(c, status, "interview_view", Page{Title: "Interview with " + rows[0].PatientName, Errors: errs, Data: map[string]any{
		"I": rows[0], "Notes": []formField{field}, "CanManage": s.may(c, authz.InterviewsManage) && canEdit, "CanWrite": s.may(c, authz.StoriesCreate),
		"Scheduled": iv.Status == models.InterviewScheduled,
	}})
}

func (s *Server) interviewView(c echo.Context) error {
	return s.renderInterview(c, http.StatusOK, c.Param("id"), "", nil)
}

func (s *Server) interviewNotes(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.interview(c, id, true); err != nil {
		return err
	}
	err := s.interviews.UpdateNotes(c.Request().Context(), id, c.FormValue("notes"))
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		return s.renderInterview(c, http.StatusUnprocessableEntity, id, c.FormValue("notes"), fe)
	}
	if err != nil {
		return err
	}
	s.flash(c, "Notes saved.")
	return s.redirect(c, "/interviews/"+id)
}

func (s *Server) interviewStatus(c echo.Context) error {
	id := c.Param("id")
	to := c.FormValue("status")
	if _, err := s.interview(c, id, true); err != nil {
		return err
	}
	if err := s.interviews.Transition(c.Request().Context(), id, to); err != nil {
		return err
	}
	s.flash(c, "The interview is marked "+to+".")
	return s.redirect(c, "/interviews/"+id)
}
