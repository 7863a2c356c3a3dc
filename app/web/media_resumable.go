package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/models"
)

// uploadState is what the resumable-upload endpoints answer.
type uploadState struct {
	ID        string `json:"id"`
	Size      int64  `json:"size"`
	Received  int64  `json:"received"`
	ChunkSize int    `json:"chunk_size"`
}

func stateOf(u *models.Upload) uploadState {
	return uploadState{ID: u.ID, Size: u.SizeBytes, Received: u.Received, ChunkSize: assets.ChunkSize}
}

// uploadStart begins a resumable upload for a story or interview the user
// may change (JSON body or form: file_name, size).
func (s *Server) uploadStart(typ string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		if _, _, err := s.mediaOwner(c, typ, id, true); err != nil {
			return err
		}
		var in struct {
			FileName string `json:"file_name" form:"file_name"`
			Size     int64  `json:"size" form:"size"`
		}
		if err := c.Bind(&in); err != nil {
			return apperr.New(http.StatusBadRequest, "Send the file's name and size to start an upload.")
		}
		u, err := s.media.StartUpload(c.Request().Context(), assets.Owner{Type: typ, ID: id}, in.FileName, in.Size, currentUser(c).ID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, stateOf(u))
	}
}

// uploadStatus tells a client where to resume.
func (s *Server) uploadStatus(c echo.Context) error {
	u, err := s.media.GetUpload(c.Request().Context(), c.Param("id"), currentUser(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, stateOf(u))
}

// uploadChunk stores the next chunk (PUT /uploads/:id?offset=N).
func (s *Server) uploadChunk(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.media.GetUpload(ctx, c.Param("id"), currentUser(c).ID)
	if err != nil {
		return err
	}
	offset, err := strconv.ParseInt(c.QueryParam("offset"), 10, 64)
	if err != nil || offset < 0 {
		return apperr.New(http.StatusBadRequest, "Say where this chunk starts with ?offset=N.")
	}
	if err := s.media.PutChunk(ctx, u, offset, c.Request().Body, c.Request().ContentLength); err != nil {
		if e, ok := apperr.As(err); ok && e.Status == http.StatusConflict {
			cur, gerr := s.media.GetUpload(ctx, u.ID, u.UserID)
			if gerr == nil {
				return c.JSON(http.StatusConflict, map[string]any{"error": e.Msg, "received": cur.Received})
			}
		}
		return err
	}
	return c.JSON(http.StatusOK, stateOf(u))
}

// uploadComplete runs the assembled file through the media pipeline.
func (s *Server) uploadComplete(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.media.GetUpload(ctx, c.Param("id"), currentUser(c).ID)
	if err != nil {
		return err
	}
	if _, _, err := s.mediaOwner(c, u.OwnerType, u.OwnerID, true); err != nil {
		return err
	}
	a, err := s.media.CompleteUpload(ctx, u)
	if err != nil {
		if e, ok := apperr.As(err); ok {
			return c.JSON(e.Status, map[string]any{"problems": []string{u.FileName + ": " + e.Msg}})
		}
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"stored": []string{a.ID}})
}
