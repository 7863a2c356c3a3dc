package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/comments"
	"github.com/storykeep/storykeep/app/users"
)

// CommentsPartial is the data of the "comments" partial
// (views/partials/comments.html). The story page builds it with
// s.commentsPartial and renders {{template "comments" .Data.Comments}}.
type CommentsPartial struct {
	StoryID string
	Items   []comments.Item
	CanPost bool   // the user may post (comments:create)
	CSRF    string // the page's CSRF token (the partial has no access to the page)
	Return  string // where to come back after posting, e.g. "/stories/<id>"
	Body    string // a rejected comment, kept for correction
	Error   string // why it was rejected, shown beside the field
	MaxBody int
}

// commentsPartial loads storyID's comments for the "comments" partial.
// returnTo must be a path under /stories/<id>; anything else means this
// thread's own page.
func (s *Server) commentsPartial(c echo.Context, storyID, returnTo string) (CommentsPartial, error) {
	items, err := s.comments.ForStory(c.Request().Context(), storyID)
	if err != nil {
		return CommentsPartial{}, err
	}
	csrf := s.csrfToken(c)
	return CommentsPartial{StoryID: storyID, Items: items, CanPost: s.may(c, authz.CommentsCreate), CSRF: csrf,
		Return: commentReturn(storyID, returnTo), MaxBody: comments.MaxBody}, nil
}

// commentReturn keeps the after-posting redirect on this story's pages.
func commentReturn(storyID, to string) string {
	base := "/stories/" + storyID
	if to == base || strings.HasPrefix(to, base+"/") || strings.HasPrefix(to, base+"?") {
		return safeNext(to)
	}
	return base + "/comments"
}

func (s *Server) commentThread(c echo.Context) error {
	cp, err := s.commentsPartial(c, c.Param("id"), "")
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "comment_thread", Page{Title: "Comments", Data: map[string]any{"Comments": cp}})
}

func (s *Server) commentCreate(c echo.Context) error {
	id := c.Param("id")
	u := currentUser(c)
	body := c.FormValue("body")
	posted, err := s.comments.Create(c.Request().Context(), id, u.ID, body)
	var fe users.FieldErrors
	if errors.As(err, &fe) {
		cp, err := s.commentsPartial(c, id, c.FormValue("return"))
		if err != nil {
			return err
		}
		cp.Body, cp.Error = body, fe["body"]
		return s.render(c, http.StatusUnprocessableEntity, "comment_thread", Page{Title: "Comments", Errors: fe, Data: map[string]any{"Comments": cp}})
	}
	if err != nil {
		return err
	}
	msg := "Comment posted."
	if len(posted.Notified) > 0 {
		names := make([]string, len(posted.Notified))
		for i, n := range posted.Notified {
			names[i] = n.Name
		}
		msg += " Notified: " + strings.Join(names, ", ") + "."
	}
	if len(posted.Ambiguous) > 0 {
		msg += " " + strings.Join(posted.Ambiguous, ", ") + " matches more than one person, so nobody was notified; mention them by full email address."
	}
	s.flash(c, msg)
	return s.redirect(c, commentReturn(id, c.FormValue("return"))+"#comment-"+posted.Comment.ID)
}
