package web

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/stories"
)

// draftRequest is the autosave endpoint's JSON body.
type draftRequest struct {
	BaseRevision int `json:"base_revision"`
	stories.Input
}

// storyDraftSave keeps the edit form's content for this user without making
// a revision. It answers JSON; the CSRF token comes in X-CSRF-Token.
func (s *Server) storyDraftSave(c echo.Context) error {
	st, err := s.editableStory(c)
	if err != nil {
		return err
	}
	var req draftRequest
	if err := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 1<<20)).Decode(&req); err != nil {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": "The draft could not be read; it was not saved."})
	}
	at, err := s.stories.SaveDraft(c.Request().Context(), storyActor(c), st.ID, req.BaseRevision, req.Input)
	if e, ok := apperr.As(err); ok {
		return c.JSON(e.Status, map[string]string{"error": e.Msg})
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"saved_at": at.Format("15:04:05") + " UTC"})
}

func (s *Server) storyDraftDiscard(c echo.Context) error {
	st, err := s.editableStory(c)
	if err != nil {
		return err
	}
	if err := s.stories.DiscardDraft(c.Request().Context(), storyActor(c), st.ID); err != nil {
		return err
	}
	s.flash(c, "The autosaved draft was discarded.")
	return s.redirect(c, "/stories/"+st.ID+"/edit")
}
