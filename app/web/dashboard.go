package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/models"
)

type stat struct {
	Label string
	Value int64
}

func (s *Server) dashboard(c echo.Context) error {
	u := currentUser(c)
	var stats []stat
	if u.Role == models.RoleAdmin {
		var active, total int64
		ctx := c.Request().Context()
		if err := s.db.WithContext(ctx).Model(&models.User{}).Count(&total).Error; err != nil {
			return err
		}
		if err := s.db.WithContext(ctx).Model(&models.User{}).Where("disabled_at IS NULL").Count(&active).Error; err != nil {
			return err
		}
		stats = append(stats, stat{"Staff accounts", total}, stat{"Active accounts", active})
	}
	return s.render(c, http.StatusOK, "dashboard", Page{Title: "Dashboard", Data: map[string]any{
		"Stats":    stats,
		"Enrol2FA": !u.TOTPEnabled,
	}})
}
