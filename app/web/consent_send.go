package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/storykeep/storykeep/app/assets"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// consentView is what consent_story.html shows.
type consentView struct {
	CanCertificate bool // the role may download certificates (not publishers, F5)
	Story          *models.Story
	Stage          workflow.Stage
	PatientName    string
	HasRep         bool
	AgeOfMajority  int
	CanSend        bool
	SendOpen       bool // the story can be sent for consent now
	Channels       []channels.Channel
	Media          []models.MediaAsset
	Requests       []models.ConsentRequest
	Records        []models.ConsentRecord
	LinkDays       int
	Sent           *consent.Sent
	QR             template.URL
	Selected       map[string]bool
	SelectedMedia  map[string]bool
	Paper          *consentPaperPanel // paper routes and patient tasks (consent_paper.go)
	// OrgMissing names the organisation's contact details not yet set:
	// no request can be sent until they are (Admin → Organisation).
	OrgMissing []string
}

func (s *Server) loadConsentView(c echo.Context) (*consentView, error) {
	ctx := c.Request().Context()
	st, err := s.stories.Get(ctx, c.Param("id"))
	if err != nil {
		return nil, err
	}
	p, err := s.patients.Get(ctx, st.PatientID)
	if err != nil {
		return nil, err
	}
	v := &consentView{Story: st, Stage: workflow.Stage(st.Stage), PatientName: p.FullName, HasRep: p.RepName != "" && p.RepAuthority != "",
		CanSend: s.authz.AllowedOn(subject(c), authz.ConsentSend, st), CanCertificate: s.authz.Allowed(subject(c), authz.ConsentCertificate), LinkDays: s.consent.Settings().LinkDays,
		Selected: map[string]bool{}, SelectedMedia: map[string]bool{}, AgeOfMajority: s.consent.AgeOfMajority()}
	for _, k := range st.Channels {
		ch, _ := channels.Get(k)
		v.Channels = append(v.Channels, ch)
	}
	if v.Media, err = s.media.List(ctx, assets.Owner{Type: models.OwnerStory, ID: st.ID}); err != nil {
		return nil, err
	}
	if v.Requests, err = s.consent.Requests(ctx, st.ID); err != nil {
		return nil, err
	}
	if v.Records, err = s.consent.Records(ctx, st.ID); err != nil {
		return nil, err
	}
	live := false
	for _, r := range v.Requests {
		live = live || consent.Usable(&r) || r.Status == models.RequestLocked
	}
	v.SendOpen = v.Stage == workflow.Drafting || (v.Stage == workflow.AwaitingConsent && !live)
	if v.Paper, err = s.loadPaperPanel(c, st); err != nil {
		return nil, err
	}
	org, err := s.consent.OrganisationProfile(ctx)
	if err != nil {
		return nil, err
	}
	v.OrgMissing = org.Missing()
	return v, nil
}

// consentStory lists a story's consent requests and records, with the send form.
func (s *Server) consentStory(c echo.Context) error {
	v, err := s.loadConsentView(c)
	if err != nil {
		return err
	}
	form := map[string]string{"signer": "patient", "language": "en", "link_days": strconv.Itoa(v.LinkDays)}
	if p, err := s.patients.Get(c.Request().Context(), v.Story.PatientID); err == nil {
		if p.PreferredLanguage == "es" {
			form["language"] = "es"
		}
		form["rep_name"], form["rep_relationship"], form["rep_authority"] = p.RepName, p.RepRelationship, p.RepAuthority
	}
	return s.render(c, http.StatusOK, "consent_story", Page{Title: "Consent: " + v.Story.Title, Form: form, Data: v})
}

func (s *Server) mayConsent(c echo.Context, st *models.Story) error {
	if !s.authz.AllowedOn(subject(c), authz.ConsentSend, st) {
		return echo.NewHTTPError(http.StatusForbidden, "Only the story's owner, a collaborator or an admin may ask for consent.")
	}
	return nil
}

// consentSend sends a request and shows its link and QR code once.
func (s *Server) consentSend(c echo.Context) error {
	v, err := s.loadConsentView(c)
	if err != nil {
		return err
	}
	if err := s.mayConsent(c, v.Story); err != nil {
		return err
	}
	form, _ := c.FormParams()
	days, _ := strconv.Atoi(c.FormValue("link_days"))
	in := consent.SendInput{SignerKind: c.FormValue("signer"), Channels: form["channels"], MediaIDs: form["media"],
		NameUsage: c.FormValue("name_usage"), Language: c.FormValue("language"), LinkDays: days,
		RepName: c.FormValue("rep_name"), RepRelationship: c.FormValue("rep_relationship"), RepAuthority: c.FormValue("rep_authority"),
		RepEmail: c.FormValue("rep_email"), RepPhone: c.FormValue("rep_phone"), MinorException: c.FormValue("minor_exception"),
		Sponsored: c.FormValue("sponsored") == "yes", Sponsor: c.FormValue("sponsor")}
	sent, err := s.consent.Send(c.Request().Context(), storyActor(c), v.Story.ID, in)
	var fe consent.FieldErrors
	if errors.As(err, &fe) {
		for _, k := range in.Channels {
			v.Selected[k] = true
		}
		for _, k := range in.MediaIDs {
			v.SelectedMedia[k] = true
		}
		vals := map[string]string{"signer": in.SignerKind, "name_usage": in.NameUsage, "language": in.Language, "link_days": c.FormValue("link_days")}
		for _, k := range []string{"rep_name", "rep_relationship", "rep_authority", "rep_email", "rep_phone", "minor_exception", "sponsored", "sponsor"} {
			vals[k] = c.FormValue(k)
		}
		return s.render(c, http.StatusUnprocessableEntity, "consent_story", Page{Title: "Consent: " + v.Story.Title, Errors: fe, Form: vals, Data: v})
	}
	if err != nil {
		return err
	}
	return s.showSent(c, sent, "The consent request was sent.")
}

// showSent renders the link and QR code. The token exists only in this
// response and the patient's email, so the page is not cached and the
// link is not kept anywhere.
func (s *Server) showSent(c echo.Context, sent *consent.Sent, msg string) error {
	png, err := qrcode.Encode(sent.Link, qrcode.Medium, 320)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	v := &consentView{Sent: sent, QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))} //nolint:gosec // our own PNG
	v.Story, err = s.stories.Get(c.Request().Context(), sent.Request.StoryID)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "consent_sent", Page{Title: "Consent link", Flash: msg, Data: v})
}

// consentResend replaces a waiting request's link and emails it again.
func (s *Server) consentResend(c echo.Context) error {
	st, err := s.stories.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.mayConsent(c, st); err != nil {
		return err
	}
	sent, err := s.consent.Resend(c.Request().Context(), st.ID, c.Param("request"))
	if err != nil {
		return err
	}
	return s.showSent(c, sent, "A new link was made and sent; the old link no longer works.")
}

// consentCancel withdraws a waiting request.
func (s *Server) consentCancel(c echo.Context) error {
	st, err := s.stories.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.mayConsent(c, st); err != nil {
		return err
	}
	if err := s.consent.Cancel(c.Request().Context(), st.ID, c.Param("request")); err != nil {
		return err
	}
	s.flash(c, "The consent request was cancelled; its link no longer works.")
	return s.redirect(c, "/stories/"+st.ID+"/consent")
}

// consentCertificate downloads a record's certificate PDF (audited).
func (s *Server) consentCertificate(c echo.Context) error {
	ctx := c.Request().Context()
	rec, err := s.consent.Record(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	pdf, err := s.consent.Certificate(ctx, rec)
	if err != nil {
		return err
	}
	if pdf == nil {
		return echo.NewHTTPError(http.StatusNotFound, "The certificate is still being made. Try again in a minute.")
	}
	if err := s.audit.Record(ctx, nil, audit.Entry{Action: "consent.certificate_download", ObjectType: "consent_record", ObjectID: rec.ID}); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="authorization-`+rec.ID+`.pdf"`)
	c.Response().Header().Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}
