package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (s *Server) inbox(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	entries, err := s.comments.Inbox(ctx, u.ID)
	if err != nil {
		return err
	}
	unread, err := s.comments.Unread(ctx, u.ID)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "inbox", Page{Title: "Inbox", Data: map[string]any{"Entries": entries, "Unread": unread}})
}

func (s *Server) inboxRead(c echo.Context) error {
	if err := s.comments.MarkRead(c.Request().Context(), currentUser(c).ID, c.Param("id")); err != nil {
		return err
	}
	return s.redirect(c, "/inbox")
}

func (s *Server) inboxReadAll(c echo.Context) error {
	if err := s.comments.MarkAllRead(c.Request().Context(), currentUser(c).ID); err != nil {
		return err
	}
	s.flash(c, "All notifications are marked read.")
	return s.redirect(c, "/inbox")
}
