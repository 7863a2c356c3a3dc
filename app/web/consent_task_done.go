package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/authz"
)

// consentTaskDone records that a patient task was done.
func (s *Server) consentTaskDone(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.stories.Get(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if !s.authz.AllowedOn(subject(c), authz.ConsentPaper, st) {
		return echo.NewHTTPError(http.StatusForbidden, "Only the story's owner, a collaborator or an admin may record this.")
	}
	if err := s.consent.CompleteTask(ctx, st.ID, c.Param("task"), c.FormValue("note")); err != nil {
		return err
	}
	s.flash(c, "Recorded as done.")
	return s.redirect(c, "/stories/"+st.ID+"/consent")
}
