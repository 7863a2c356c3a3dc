package web

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/workflow"
	"github.com/storykeep/storykeep/models"
)

// maxPaperFormBody bounds the paper routes' multipart forms: one scan of
// at most consent.MaxPaperScanBytes plus the fields.
const maxPaperFormBody = consent.MaxPaperScanBytes + 256<<10

// paperFormRoutes carry a scanned file in an ordinary (in-memory,
// CSRF-checked) form; readBody allows them the larger limit.
var paperFormRoutes = map[string]bool{
	"/stories/:id/consent/paper/authorization": true,
	"/stories/:id/consent/paper/revocation":    true,
	"/stories/:id/consent/paper/esign":         true,
}

// consentPaperRoutes: staff record what happened on paper (issue 19 item
// 4) and the tasks of handing or posting paper to the patient (item 5).
func (s *Server) consentPaperRoutes() []Route {
	return []Route{
		{get, "/stories/:id/consent/paper", authz.ConsentPaperOwn, s.consentPaperPage},
		{post, "/stories/:id/consent/paper/authorization", authz.ConsentPaperOwn, s.consentPaperAuthorization},
		{post, "/stories/:id/consent/paper/revocation", authz.ConsentPaperOwn, s.consentPaperRevocation},
		{post, "/stories/:id/consent/paper/esign", authz.ConsentPaperOwn, s.consentPaperEsign},
		{post, "/stories/:id/consent/tasks/:task/done", authz.ConsentPaperOwn, s.consentTaskDone},
		{get, "/stories/:id/consent/:request/print", authz.ConsentPaperOwn, s.consentPaperPrint},
		{get, "/stories/:id/consent/paper/documents/:doc", authz.ConsentCertificate, s.consentPaperDocument},
	}
}

// paperView is what consent_paper.html shows.
type paperView struct {
	Story       *models.Story
	Stage       workflow.Stage
	PatientName string
	Req         *models.ConsentRequest // the open request a printed form belongs to
	Prop        consent.Proposal
	Valid       []models.ConsentRecord // records a letter may revoke
	Labels      map[string]string      // channel key → label
	Media       map[string]string      // asset id → label
	PaperOnly   bool
	Selected    map[string]bool
	SelMedia    map[string]bool
	Today       string
}

func (s *Server) loadPaperView(c echo.Context) (*paperView, error) {
	ctx := c.Request().Context()
	st, err := s.stories.Get(ctx, c.Param("id"))
	if err != nil {
		return nil, err
	}
	if !s.authz.AllowedOn(subject(c), authz.ConsentPaper, st) {
		return nil, echo.NewHTTPError(http.StatusForbidden, "Only the story's owner, a collaborator or an admin may record paper consents.")
	}
	p, err := s.patients.Get(ctx, st.PatientID)
	if err != nil {
		return nil, err
	}
	v := &paperView{Story: st, Stage: workflow.Stage(st.Stage), PatientName: p.FullName, Labels: map[string]string{}, Media: map[string]string{}, Selected: map[string]bool{}, SelMedia: map[string]bool{},
		Today: time.Now().UTC().Format("2006-01-02")}
	reqs, err := s.consent.Requests(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	for i := range reqs { // newest first: the newest open request
		r := &reqs[i]
		if r.Status == models.RequestPending || r.Status == models.RequestOpened || r.Status == models.RequestVerified || r.Status == models.RequestLocked {
			v.Req, v.Prop = r, consent.ProposalOf(r)
			break
		}
	}
	recs, err := s.consent.Records(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Status != models.RecordRevoked {
			v.Valid = append(v.Valid, r)
		}
	}
	for _, k := range st.Channels {
		v.Labels[k] = channels.Label(k)
	}
	for _, id := range v.Prop.MediaIDs {
		if a, err := s.media.Get(ctx, id); err == nil {
			v.Media[id] = a.AltText
			if a.AltText == "" {
				v.Media[id] = a.FileName
			}
		}
	}
	if v.PaperOnly, err = s.consent.PaperOnly(ctx, st.PatientID); err != nil {
		return nil, err
	}
	return v, nil
}

// consentPaperPage shows the three paper forms.
func (s *Server) consentPaperPage(c echo.Context) error {
	v, err := s.loadPaperView(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "consent_paper", Page{Title: "Paper consent: " + v.Story.Title, Form: map[string]string{}, Data: v})
}

// formScan reads an uploaded file field (nil when none was sent).
func formScan(c echo.Context, field string) (consent.PaperScan, error) {
	fh, err := c.FormFile(field)
	if errors.Is(err, http.ErrMissingFile) {
		return consent.PaperScan{}, nil
	}
	if err != nil {
		return consent.PaperScan{}, echo.NewHTTPError(http.StatusBadRequest, "The file could not be read. Try again.").SetInternal(err)
	}
	f, err := fh.Open()
	if err != nil {
		return consent.PaperScan{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, consent.MaxPaperScanBytes+1))
	return consent.PaperScan{Data: b, Name: fh.Filename}, err
}

func (s *Server) paperInvalid(c echo.Context, v *paperView, fe consent.FieldErrors, form map[string]string) error {
	return s.render(c, http.StatusUnprocessableEntity, "consent_paper", Page{Title: "Paper consent: " + v.Story.Title, Errors: fe, Form: form, Data: v})
}
