package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/stories"
)

func (s *Server) storyHistory(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.stories.Get(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	revs, err := s.stories.Revisions(ctx, st.ID)
	if err != nil {
		return err
	}
	_, editErr := s.editableStory(c)
	return s.render(c, http.StatusOK, "story_history", Page{Title: "History of " + st.Title, Data: map[string]any{
		"Story": st, "Revisions": revs, "CanRestore": editErr == nil, "Prev": max(1, st.Revision-1),
	}})
}

func (s *Server) storyDiff(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.stories.Get(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	b, err := strconv.Atoi(c.QueryParam("b"))
	if err != nil {
		b = st.Revision
	}
	a, err := strconv.Atoi(c.QueryParam("a"))
	if err != nil {
		a = max(1, b-1)
	}
	diff, err := s.stories.Diff(ctx, st.ID, a, b)
	if err != nil {
		return err
	}
	revs, err := s.stories.Revisions(ctx, st.ID)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "story_diff", Page{Title: "Compare revisions", Data: map[string]any{
		"Story": st, "A": a, "B": b, "Fields": diff, "Revisions": revs,
	}})
}

func (s *Server) storyRestore(c echo.Context) error {
	st, err := s.editableStory(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.FormValue("revision"))
	if err != nil {
		return apperr.New(http.StatusUnprocessableEntity, "Choose a revision to restore.")
	}
	base, _ := strconv.Atoi(c.FormValue("base_revision"))
	res, err := s.stories.Restore(c.Request().Context(), storyActor(c), st.ID, n, base)
	var stale *stories.StaleError
	if errors.As(err, &stale) {
		return apperr.Wrap(http.StatusConflict, stale.Error(), stale)
	}
	if err != nil {
		return err
	}
	s.flash(c, "Revision "+strconv.Itoa(n)+" restored as revision "+strconv.Itoa(res.Story.Revision)+".")
	return s.redirect(c, "/stories/"+st.ID)
}
