package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/export"
)

// channelAccounts lists each social channel's delivery method and settings;
// secrets are never shown, only whether one is set.
func (s *Server) channelAccounts(c echo.Context) error {
	return s.renderChannels(c, http.StatusOK, "", nil, nil)
}

func (s *Server) renderChannels(c echo.Context, status int, failed string, form map[string]string, fe export.FieldErrors) error {
	accts, err := s.export.Accounts(c.Request().Context())
	if err != nil {
		return err
	}
	type row struct {
		Key, Label string
		Methods    []string
		Method     string
		URL        string
		Handle     string
		SecretSet  bool
		Enabled    bool
		Errors     export.FieldErrors
	}
	var rows []row
	for _, ch := range export.Social() {
		a, ok := accts[ch.Key]
		r := row{Key: ch.Key, Label: ch.Label, Methods: export.Methods(ch.Key), Method: "bundle", Enabled: true}
		if ok {
			r.Method, r.URL, r.Handle, r.SecretSet, r.Enabled = a.Method, a.URL, a.Handle, a.Secret != "", a.Enabled
		}
		if ch.Key == failed {
			r.Method, r.URL, r.Handle, r.Enabled, r.Errors = form["method"], form["url"], form["handle"], form["enabled"] != "", fe
		}
		rows = append(rows, r)
	}
	return s.render(c, status, "channel_accounts", Page{Title: "Channels", Data: map[string]any{"Rows": rows}})
}

// channelAccountSave stores one channel's account; errors re-render the
// page with the values kept and the message beside the field.
func (s *Server) channelAccountSave(c echo.Context) error {
	form := map[string]string{"method": c.FormValue("method"), "url": c.FormValue("url"), "handle": c.FormValue("handle"), "enabled": c.FormValue("enabled")}
	err := s.export.SaveAccount(c.Request().Context(), currentUser(c).ID, c.Param("id"), export.AccountInput{
		Method: form["method"], URL: form["url"], Handle: form["handle"], Secret: c.FormValue("secret"), Enabled: form["enabled"] != ""})
	var fe export.FieldErrors
	if errors.As(err, &fe) {
		return s.renderChannels(c, http.StatusUnprocessableEntity, c.Param("id"), form, fe)
	}
	if err != nil {
		return err
	}
	s.flash(c, "Channel settings saved.")
	return s.redirect(c, "/admin/channels")
}
