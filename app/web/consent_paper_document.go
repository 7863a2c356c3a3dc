package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// consentPaperDocument downloads a recorded scan (audited).
func (s *Server) consentPaperDocument(c echo.Context) error {
	doc, b, err := s.consent.PaperDocument(c.Request().Context(), c.Param("id"), c.Param("doc"))
	if err != nil {
		return err
	}
	ext := map[string]string{"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[doc.ContentType]
	c.Response().Header().Set("Content-Disposition", `attachment; filename="consent-`+doc.Kind+`-`+doc.ID+`.`+ext+`"`)
	c.Response().Header().Set("Cache-Control", "private, no-store")
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, doc.ContentType, b)
}
