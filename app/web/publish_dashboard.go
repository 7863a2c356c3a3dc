package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/export"
)

// chartBar is one day of the click chart, already scaled for the SVG.
type chartBar struct {
	Day       string
	Clicks    int64
	X, Y, H   int
	LabelNext bool
}

// publishDashboard shows clicks per story and channel and a 30-day bar
// chart drawn as SVG on the server (no script, and no inline style, which
// the CSP forbids).
func (s *Server) publishDashboard(c echo.Context) error {
	ctx := c.Request().Context()
	days, err := s.export.ClicksByDay(ctx, 30)
	if err != nil {
		return err
	}
	top, err := s.export.Clicks(ctx, "")
	if err != nil {
		return err
	}
	var most int64 = 1
	for _, d := range days {
		most = max(most, d.Clicks)
	}
	const height = 120
	bars := make([]chartBar, len(days))
	var total int64
	for i, d := range days {
		h := int(d.Clicks * height / most)
		bars[i] = chartBar{Day: d.Day, Clicks: d.Clicks, X: i * 20, Y: height - h, H: h}
		total += d.Clicks
	}
	labels := map[string]string{}
	for _, ch := range export.Social() {
		labels[ch.Key] = ch.Label
	}
	open, err := s.export.OpenTakedowns(ctx)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "publish_dashboard", Page{Title: "Publishing", Data: map[string]any{
		"OpenTakedowns": open, "Bars": bars, "Top": top, "Total": total, "Labels": labels, "Width": len(bars) * 20, "Height": height,
	}})
}
