package web

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/models"
)

// consentPaperPanel is the story consent page's paper part: the patient
// tasks (open ones first), the recorded scans and the link to record paper.
type consentPaperPanel struct {
	StoryID  string
	CanPaper bool // may record paper and complete tasks
	CanScans bool // may download scans (the certificate roles)
	Tasks    []paperTask
	Docs     []models.ConsentPaperDocument
	CSRF     string
}

type paperTask struct {
	models.ConsentPatientTask
	Label string
}

func (s *Server) loadPaperPanel(c echo.Context, st *models.Story) (*consentPaperPanel, error) {
	ctx := c.Request().Context()
	p := &consentPaperPanel{StoryID: st.ID, CanPaper: s.authz.AllowedOn(subject(c), authz.ConsentPaper, st),
		CanScans: s.authz.Allowed(subject(c), authz.ConsentCertificate), CSRF: s.csrfToken(c)}
	tasks, err := s.consent.Tasks(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		p.Tasks = append(p.Tasks, paperTask{t, consent.TaskLabel(t)})
	}
	if p.Docs, err = s.consent.PaperDocuments(ctx, st.ID); err != nil {
		return nil, err
	}
	return p, nil
}

// dashboardPatientTasks lists open patient tasks (printed copies to hand
// over, letters to post) for whoever may do them: admins see all, others
// those on their own stories. Only the task and the story's title.
func (s *Server) dashboardPatientTasks(c echo.Context, data map[string]any) error {
	sub := subject(c)
	if !s.authz.Allowed(sub, authz.ConsentPaperOwn) {
		return nil
	}
	who := sub.UserID
	if s.authz.Allowed(sub, authz.ConsentPaper) {
		who = ""
	}
	tasks, err := s.consent.OpenTasks(c.Request().Context(), who, 20)
	if err != nil {
		return err
	}
	var rows []dashboardTask
	for _, t := range tasks {
		rows = append(rows, dashboardTask{StoryID: t.StoryID, StoryTitle: t.StoryTitle, Label: consent.TaskLabel(t.ConsentPatientTask), Since: t.CreatedAt})
	}
	data["PatientTasks"] = rows
	return nil
}

type dashboardTask struct {
	StoryID, StoryTitle, Label string
	Since                      time.Time
}
