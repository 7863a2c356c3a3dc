package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/patients"
	"github.com/storykeep/storykeep/models"
)

func (s *Server) patientList(c echo.Context) error {
	q := c.QueryParam("q")
	rows, next, err := s.patients.List(c.Request().Context(), patients.ListQuery{Prefix: q, After: c.QueryParam("after")})
	if err != nil {
		return err
	}
	nextURL := ""
	if next != "" {
		nextURL = "/patients?after=" + next
		if q != "" {
			nextURL += "&q=" + url.QueryEscape(q)
		}
	}
	return s.render(c, http.StatusOK, "patient_list", Page{Title: "Patients", Form: map[string]string{"q": q}, Data: map[string]any{
		"Patients": rows, "NextURL": nextURL, "First": c.QueryParam("after") == "", "CanManage": s.may(c, authz.PatientsManage),
		"Languages": patients.Languages,
	}})
}

// patientView shows decrypted details; patients.View audits it.
func (s *Server) patientView(c echo.Context) error {
	ctx := c.Request().Context()
	d, err := s.patients.View(ctx, c.Param("id"), "view")
	if err != nil {
		return err
	}
	mrn, err := s.patients.Settings.MRNEnabled(ctx)
	if err != nil {
		return err
	}
	data := map[string]any{"P": d, "MRN": mrn, "Languages": patients.Languages,
		"CanManage": s.may(c, authz.PatientsManage), "CanInterviews": s.may(c, authz.InterviewsView), "CanSchedule": s.may(c, authz.InterviewsManage),
		"CanStories": s.may(c, authz.StoriesView), "CanWrite": s.may(c, authz.StoriesCreate)}
	if data["CanInterviews"].(bool) {
		ivs, err := s.interviews.ForPatient(ctx, d.ID)
		if err != nil {
			return err
		}
		rows, err := s.interviewRows(c, ivs)
		if err != nil {
			return err
		}
		data["Interviews"] = rows
	}
	return s.render(c, http.StatusOK, "patient_view", Page{Title: d.FullName, Data: data})
}

// interviewRow is an interview with the names a list shows.
type interviewRow struct {
	models.Interview
	PatientName, InterviewerName string
}

// interviewRows adds patient and interviewer names (never details) to ivs.
func (s *Server) interviewRows(c echo.Context, ivs []models.Interview) ([]interviewRow, error) {
	ctx := c.Request().Context()
	out := make([]interviewRow, 0, len(ivs))
	names := map[string]string{}
	for _, iv := range ivs {
		r := interviewRow{Interview: iv}
		if _, ok := names["p:"+iv.PatientID]; !ok {
			p, err := s.patients.Get(ctx, iv.PatientID)
			if err != nil {
				return nil, err
			}
			names["p:"+iv.PatientID] = p.FullName
		}
		if _, ok := names["u:"+iv.InterviewerID]; !ok {
			u, err := s.users.Get(ctx, iv.InterviewerID)
			if err != nil {
				return nil, err
			}
			names["u:"+iv.InterviewerID] = u.Name
		}
		r.PatientName, r.InterviewerName = names["p:"+iv.PatientID], names["u:"+iv.InterviewerID]
		out = append(out, r)
	}
	return out, nil
}
