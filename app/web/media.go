package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/apperr"
	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

const (
	ownerStory     = models.OwnerStory
	ownerInterview = models.OwnerInterview
)

// mediaPath is the media page of a story or an interview.
func mediaPath(typ, id string) string {
	if typ == ownerInterview {
		return "/interviews/" + id + "/media"
	}
	return "/stories/" + id + "/media"
}

// maxFilesPerUpload bounds one request; more files simply take more requests.
const maxFilesPerUpload = 20

// mediaOwner checks the signed-in user may see (or, with edit, change) the
// story or interview that owns media, and returns its title and page URL.
func (s *Server) mediaOwner(c echo.Context, typ, id string, edit bool) (title, back string, err error) {
	ctx := c.Request().Context()
	sub := subject(c)
	switch typ {
	case ownerStory:
		st, err := s.stories.Get(ctx, id)
		if err != nil {
			return "", "", err
		}
		ok := s.authz.Allowed(sub, authz.StoriesView)
		if edit {
			ok = workflow.Editable(workflow.Stage(st.Stage)) && s.authz.AllowedOn(sub, authz.StoriesEdit, st)
		}
		if !ok {
			return "", "", apperr.Forbidden("You can change the media of a story only while it is being drafted, and only if it is yours (or you are an admin).")
		}
		return st.Title, "/stories/" + st.ID, nil
	case ownerInterview:
		iv, err := s.interviews.Get(ctx, id)
		if err != nil {
			return "", "", err
		}
		p := authz.InterviewsView
		if edit {
			p = authz.InterviewsManage
		}
		if !s.authz.Allowed(sub, p) {
			return "", "", apperr.Forbidden("Your role does not allow this for interviews.")
		}
		if _, err := s.interview(c, id, edit); err != nil { // its owners only (finding F11)
			return "", "", err
		}
		return "Interview on " + iv.ScheduledAt.Format("2 Jan 2006"), "/interviews/" + iv.ID, nil
	}
	return "", "", apperr.NotFound("That media owner does not exist.")
}

type mediaItem struct {
	models.MediaAsset
	Renditions []models.MediaRendition
}

func (s *Server) mediaPage(typ string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		id := c.Param("id")
		title, back, err := s.mediaOwner(c, typ, id, false)
		if err != nil {
			return err
		}
		list, err := s.media.List(ctx, assets.Owner{Type: typ, ID: id})
		if err != nil {
			return err
		}
		items := make([]mediaItem, 0, len(list))
		for _, a := range list {
			rs, err := s.media.Renditions(ctx, a.ID)
			if err != nil {
				return err
			}
			items = append(items, mediaItem{MediaAsset: a, Renditions: rs})
		}
		_, _, editErr := s.mediaOwner(c, typ, id, true)
		return s.render(c, http.StatusOK, "media_list", Page{Title: "Media: " + title, Data: map[string]any{
			"Items": items, "Title": title, "Back": back, "Action": mediaPath(typ, id),
			"CanEdit": editErr == nil, "Errors": s.sessions.PopString(ctx, "upload_errors"),
		}})
	}
}

// mediaUpload streams every file part of a multipart request through the
// media pipeline; nothing is buffered whole. Each file succeeds or fails on
// its own, and a failed file leaves nothing behind.
func (s *Server) mediaUpload(typ string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		id := c.Param("id")
		if _, _, err := s.mediaOwner(c, typ, id, true); err != nil {
			return err
		}
		mr, err := c.Request().MultipartReader()
		if err != nil {
			return apperr.New(http.StatusBadRequest, "Choose one or more files to upload.")
		}
		if err := s.checkUploadCSRF(c, mr); err != nil {
			return err
		}
		var stored []string
		var problems []string
		n := 0
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				problems = append(problems, "The upload was interrupted; files not listed as added were not saved.")
				break
			}
			if part.FormName() != "files" || part.FileName() == "" {
				part.Close()
				continue
			}
			if n++; n > maxFilesPerUpload {
				problems = append(problems, fmt.Sprintf("At most %d files can be sent at once; %s was not saved.", maxFilesPerUpload, assets.CleanFileName(part.FileName())))
				part.Close()
				continue
			}
			name := assets.CleanFileName(part.FileName())
			a, err := s.media.Upload(ctx, assets.Owner{Type: typ, ID: id}, name, part, currentUser(c).ID)
			part.Close()
			if err != nil {
				e, ok := apperr.As(err)
				if !ok {
					return err
				}
				problems = append(problems, name+": "+e.Msg)
				continue
			}
			stored = append(stored, a.ID)
		}
		status := http.StatusOK
		if len(stored) == 0 && len(problems) == 0 {
			problems = append(problems, "Choose one or more files to upload.")
		}
		if len(problems) > 0 {
			status = http.StatusUnprocessableEntity
		}
		if c.Request().Header.Get("Accept") == "application/json" {
			return c.JSON(status, map[string]any{"stored": stored, "problems": problems})
		}
		if len(stored) > 0 {
			s.flash(c, fmt.Sprintf("%d file(s) added. Add alt text to each photo before the story goes to review.", len(stored)))
		}
		if len(problems) > 0 {
			s.sessions.Put(ctx, "upload_errors", strings.Join(problems, "\n"))
		}
		return s.redirect(c, mediaPath(typ, id))
	}
}

// assetFor loads an asset and checks the user may see (or change) its owner.
func (s *Server) assetFor(c echo.Context, edit bool) (*models.MediaAsset, string, error) {
	a, err := s.media.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return nil, "", err
	}
	_, _, err = s.mediaOwner(c, a.OwnerType, a.OwnerID, edit)
	return a, mediaPath(a.OwnerType, a.OwnerID), err
}

func (s *Server) mediaDescribe(c echo.Context) error {
	a, back, err := s.assetFor(c, true)
	if err != nil {
		return err
	}
	fx, errX := strconv.Atoi(c.FormValue("focal_x"))
	fy, errY := strconv.Atoi(c.FormValue("focal_y"))
	if errX != nil || errY != nil {
		return apperr.New(http.StatusUnprocessableEntity, "The focal point must be two whole numbers from 0 to 1000.")
	}
	ctx := c.Request().Context()
	err = s.media.Describe(ctx, a.ID, c.FormValue("alt"), c.FormValue("caption"), fx, fy)
	var fe assets.FieldErrors
	if errors.As(err, &fe) {
		msgs := make([]string, 0, len(fe))
		for _, m := range fe {
			msgs = append(msgs, m)
		}
		return apperr.New(http.StatusUnprocessableEntity, strings.Join(msgs, " "))
	}
	if err != nil {
		return err
	}
	if fx != a.FocalX || fy != a.FocalY {
		updated, err := s.media.Get(ctx, a.ID)
		if err != nil {
			return err
		}
		if err := s.media.QueueRenditions(ctx, nil, s.jobs, updated); err != nil {
			return err
		}
	}
	s.flash(c, "Description saved.")
	return s.redirect(c, back)
}

func (s *Server) mediaDelete(c echo.Context) error {
	a, back, err := s.assetFor(c, true)
	if err != nil {
		return err
	}
	if err := s.media.Delete(c.Request().Context(), a.ID); err != nil {
		return err
	}
	s.flash(c, "The file was deleted.")
	return s.redirect(c, back)
}

func (s *Server) mediaFile(c echo.Context) error {
	a, _, err := s.assetFor(c, false)
	if err != nil {
		return err
	}
	return s.streamObject(c, a.StorageKey, a.ContentType, a.FileName)
}

func (s *Server) mediaRendition(c echo.Context) error {
	a, _, err := s.assetFor(c, false)
	if err != nil {
		return err
	}
	r, err := s.media.Rendition(c.Request().Context(), a.ID, c.Param("name"))
	if err != nil {
		return err
	}
	return s.streamObject(c, r.StorageKey, "image/jpeg", "")
}
