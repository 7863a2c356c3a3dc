package web

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/workflow"
)

func (s *Server) storyTransition(c echo.Context) error {
	rev, _ := strconv.Atoi(c.FormValue("revision"))
	to := workflow.Stage(c.FormValue("to"))
	st, err := s.stories.Transition(c.Request().Context(), storyActor(c), c.Param("id"), to, c.FormValue("note"), rev)
	if err != nil {
		return err
	}
	s.flash(c, "The story is now "+to.Label()+".")
	return s.redirect(c, "/stories/"+st.ID)
}

func (s *Server) storyAcknowledge(c echo.Context) error {
	rev, _ := strconv.Atoi(c.FormValue("revision"))
	form, _ := c.FormParams()
	n, err := s.stories.Acknowledge(c.Request().Context(), storyActor(c), c.Param("id"), rev, form["finding"])
	if err != nil {
		return err
	}
	s.flash(c, strconv.Itoa(n)+" finding(s) acknowledged.")
	return s.redirect(c, "/stories/"+c.Param("id")+"/review")
}
