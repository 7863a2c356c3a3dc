package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/stories"
	"github.com/storykeep/storykeep/app/workflow"
)

func (s *Server) storyList(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	f := stories.Filter{OwnerID: q.Get("owner"), Tag: q.Get("tag"), Channel: q.Get("channel"), PatientID: q.Get("patient"), Query: q.Get("q"), After: q.Get("after")}
	if st := q.Get("stage"); st != "" {
		f.Stages = []string{st}
	}
	page, err := s.stories.List(ctx, f)
	if err != nil {
		return err
	}
	staff, err := s.stories.FilterStaff(ctx)
	if err != nil {
		return err
	}
	patients, err := s.stories.FilterPatients(ctx)
	if err != nil {
		return err
	}
	tags, err := s.stories.Tags(ctx)
	if err != nil {
		return err
	}
	next := ""
	if page.Next != "" {
		nq := url.Values{}
		for k, v := range q {
			if k != "after" {
				nq[k] = v
			}
		}
		nq.Set("after", page.Next)
		next = "/stories?" + nq.Encode()
	}
	return s.render(c, http.StatusOK, "story_list", Page{Title: "Stories", Form: map[string]string{
		"q": f.Query, "stage": q.Get("stage"), "owner": f.OwnerID, "tag": f.Tag, "channel": f.Channel, "patient": f.PatientID,
	}, Data: map[string]any{
		"Rows": page.Rows, "Next": next, "Paged": f.After != "", "Stages": workflow.Stages, "Staff": staff, "Patients": patients,
		"Tags": tags, "Channels": channels.All, "CanCreate": s.authz.Allowed(subject(c), authz.StoriesCreate),
	}})
}
