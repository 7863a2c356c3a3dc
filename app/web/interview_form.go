package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/interviews"
	"github.com/storykeep/storykeep/app/users"
)

func (s *Server) renderInterviewForm(c echo.Context, status int, patientID string, form, errs map[string]string) error {
	ctx := c.Request().Context()
	p, err := s.patients.Get(ctx, patientID)
	if err != nil {
		return err
	}
	staff, err := s.interviews.Interviewers(ctx)
	if err != nil {
		return err
	}
	opts := []fieldOption{{"", "Choose a staff member"}}
	for _, u := range staff {
		opts = append(opts, fieldOption{u.ID, u.Name + " (" + roleLabels[u.Role] + ")"})
	}
	f := func(id, label, typ, hint string, req bool) formField {
		return formField{ID: id, Label: label, Type: typ, Hint: hint, Autocomplete: "off", Required: req, Value: form[id], Error: errs[id]}
	}
	who := f("interviewer", "Interviewer", "select", "", true)
	who.Options = opts
	fields := []formField{
		f("scheduled_at", "Date and time (UTC)", "datetime-local", "For example 2026-03-14 10:30.", true),
		who,
		f("location", "Location", "text", "A room or address. For a remote interview, the meeting link or phone arrangement (optional).", false),
	}
	notes := []formField{f("notes", "Notes", "textarea", "Preparation notes. Visible to storytellers and admins.", false)}
	return s.render(c, status, "interview_form", Page{Title: "Schedule an interview", Form: form, Errors: errs, Data: map[string]any{
		"Patient": p, "Fields": fields, "Notes": notes, "Remote": form["remote"] == "on",
	}})
}

func (s *Server) interviewNew(c echo.Context) error {
	return s.renderInterviewForm(c, http.StatusOK, c.Param("id"), map[string]string{"interviewer": currentUser(c).ID}, nil)
}

func (s *Server) interviewCreate(c echo.Context) error {
	ctx := c.Request().Context()
	patientID := c.Param("id")
	if _, err := s.patients.Get(ctx, patientID); err != nil {
		return err
	}
	form := map[string]string{}
	for _, k := range []string{"scheduled_at", "interviewer", "location", "remote", "notes"} {
		form[k] = c.FormValue(k)
	}
	iv, err := s.interviews.Schedule(ctx, patientID, interviews.Input{CreatedBy: currentUser(c).ID, InterviewerID: form["interviewer"], ScheduledAt: form["scheduled_at"],
		Location: form["location"], Remote: form["remote"] == "on", Notes: form["notes"]})
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		return s.renderInterviewForm(c, http.StatusUnprocessableEntity, patientID, form, fe)
	}
	if err != nil {
		return err
	}
	s.flash(c, "The interview is scheduled for "+iv.ScheduledAt.Format("2006-01-02 15:04")+" UTC.")
	return s.redirect(c, "/interviews/"+iv.ID)
}
