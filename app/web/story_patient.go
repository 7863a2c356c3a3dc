package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// storyChoosePatient is the patient chooser behind the story list's patient
// filter and the story form: a search by name whose results link back to
// where the choice is needed. `for` says where: "list" (the story list),
// "new" (a new story) or a story's id (its edit form). It shows names only
// (PatientsList), and only those matching a search: no page lists every
// patient, which with thousands of them would be slow and show staff more
// names than they need.
func (s *Server) storyChoosePatient(c echo.Context) error {
	ctx := c.Request().Context()
	dest := c.QueryParam("for")
	if dest == "" {
		dest = "list"
	}
	var base, back, heading string
	switch dest {
	case "list":
		base, back, heading = "/stories?patient=", "/stories", "Find a patient's stories"
	case "new":
		if !s.may(c, authz.StoriesCreate) {
			return apperr.Forbidden("Your role cannot write stories.")
		}
		base, back, heading = "/stories/new?patient=", "/stories", "Who is the new story about?"
	default:
		st, err := s.editableStoryID(c, dest)
		if err != nil {
			return err
		}
		if !workflow.Editable(workflow.Stage(st.Stage)) {
			return apperr.New(http.StatusConflict, "This story is "+workflow.Stage(st.Stage).Label()+"; its patient can no longer be changed.")
		}
		base, back, heading = "/stories/"+st.ID+"/edit?patient=", "/stories/"+st.ID+"/edit", "Choose the patient of “"+st.Title+"”"
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	var (
		rows template.HTML
		next string
	)
	if q != "" {
		found, cursor, err := s.patients.List(ctx, patients.ListQuery{Prefix: q, After: c.QueryParam("after"), Limit: 20})
		if err != nil {
			return err
		}
		rows = patientRows(base, found)
		if cursor != "" {
			next = "/stories/choose-patient?" + url.Values{"for": {dest}, "q": {q}, "after": {cursor}}.Encode()
		}
	}
	return s.render(c, http.StatusOK, "story_choose_patient", Page{Title: heading, Form: map[string]string{"q": q, "for": dest}, Data: map[string]any{
		"Heading": heading, "Patients": rows, "Next": next, "Back": back, "CanAdd": s.may(c, authz.PatientsManage),
	}})
}

// patientRows writes the chooser's matches as table rows, each name linking
// to base with the patient's id, escaped as the story list's rows are
// (listRows): through html/template, escaping each field of twenty rows was
// a quarter of the chooser's time.
func patientRows(base string, found []models.Patient) template.HTML {
	var b strings.Builder
	b.Grow(len(found) * 192)
	for _, p := range found {
		b.WriteString(`<tr><td><a href="`)
		escapeTo(&b, base+url.QueryEscape(p.ID))
		b.WriteString(`">`)
		escapeTo(&b, p.FullName)
		b.WriteString(`</a></td><td>`)
		escapeTo(&b, p.PreferredName)
		b.WriteString(`</td><td>`)
		writeDay(&b, p.CreatedAt)
		b.WriteString("</td></tr>\n")
	}
	return template.HTML(b.String()) // #nosec G203 -- every value above is escaped
}
