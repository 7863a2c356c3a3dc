package web

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/consent"
)

// consentPaperAuthorization records a paper-signed authorization.
func (s *Server) consentPaperAuthorization(c echo.Context) error {
	v, err := s.loadPaperView(c)
	if err != nil {
		return err
	}
	scan, err := formScan(c, "scan")
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	in := consent.PaperInput{Channels: form["channels"], MediaIDs: form["media"], NameUsage: c.FormValue("name_usage"), ExpiresOn: c.FormValue("expires_on"),
		SignerName: c.FormValue("signer_name"), SignedOn: c.FormValue("signed_on"), Scan: scan}
	rec, err := s.consent.RecordPaper(c.Request().Context(), v.Story.ID, c.FormValue("request"), in)
	var fe consent.FieldErrors
	if errors.As(err, &fe) {
		for _, k := range in.Channels {
			v.Selected[k] = true
		}
		for _, k := range in.MediaIDs {
			v.SelMedia[k] = true
		}
		return s.paperInvalid(c, v, fe, map[string]string{"request": c.FormValue("request"), "name_usage": in.NameUsage, "expires_on": in.ExpiresOn,
			"signer_name": in.SignerName, "signed_on": in.SignedOn})
	}
	if err != nil {
		return err
	}
	s.flash(c, "The paper authorization was recorded (record "+rec.ID+"). The story is consented; its certificate is being made.")
	return s.redirect(c, "/stories/"+v.Story.ID+"/consent")
}
