package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

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

func (s *Server) renderInterview(c echo.Context, status int, id string, notes string, errs map[string]string) error {
	iv, err := s.interviews.Get(c.Request().Context(), id)
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
		"I": rows[0], "Notes": []formField{field}, "CanManage": s.may(c, authz.InterviewsManage), "CanWrite": s.may(c, authz.StoriesCreate),
		"Scheduled": iv.Status == models.InterviewScheduled,
	}})
}

func (s *Server) interviewView(c echo.Context) error {
	return s.renderInterview(c, http.StatusOK, c.Param("id"), "", nil)
}

func (s *Server) interviewNotes(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.interviews.Get(c.Request().Context(), id); err != nil {
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
	if err := s.interviews.Transition(c.Request().Context(), id, to); err != nil {
		return err
	}
	s.flash(c, "The interview is marked "+to+".")
	return s.redirect(c, "/interviews/"+id)
}
