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

// consentPaperRevocation records a written revocation.
func (s *Server) consentPaperRevocation(c echo.Context) error {
	v, err := s.loadPaperView(c)
	if err != nil {
		return err
	}
	letter, err := formScan(c, "scan")
	if err != nil {
		return err
	}
	in := consent.WrittenRevocation{ReceivedOn: c.FormValue("received_on"), Letter: letter}
	err = s.consent.RevokeWritten(c.Request().Context(), v.Story.ID, c.FormValue("record"), in)
	var fe consent.FieldErrors
	if errors.As(err, &fe) {
		return s.paperInvalid(c, v, renameField(fe, "scan", "revocation-scan"), map[string]string{"record": c.FormValue("record"), "received_on": in.ReceivedOn})
	}
	if err != nil {
		return err
	}
	s.flash(c, "The written revocation was recorded. The story is withdrawn and its posts are being taken down.")
	return s.redirect(c, "/stories/"+v.Story.ID+"/consent")
}

// consentPaperEsign records the patient's withdrawal of consent to
// electronic records.
func (s *Server) consentPaperEsign(c echo.Context) error {
	v, err := s.loadPaperView(c)
	if err != nil {
		return err
	}
	letter, err := formScan(c, "scan")
	if err != nil {
		return err
	}
	err = s.consent.WithdrawEsign(c.Request().Context(), v.Story.ID, consent.EsignWithdrawal{ReceivedOn: c.FormValue("esign_received_on"), Letter: letter})
	var fe consent.FieldErrors
	if errors.As(err, &fe) {
		fe = renameField(renameField(fe, "received_on", "esign_received_on"), "scan", "esign-scan")
		return s.paperInvalid(c, v, fe, map[string]string{"esign_received_on": c.FormValue("esign_received_on")})
	}
	if err != nil {
		return err
	}
	s.flash(c, "The withdrawal of consent to electronic records was recorded. From now on, send this patient everything on paper.")
	return s.redirect(c, "/stories/"+v.Story.ID+"/consent")
}

// consentTaskDone records that a patient task was done.
func (s *Server) consentTaskDone(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.stories.Get(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if !s.authz.AllowedOn(subject(c), authz.ConsentPaper, st) {
		return echo.NewHTTPError(http.StatusForbidden, "Only the story's owner, a collaborator or an admin may record this.")
	}
	if err := s.consent.CompleteTask(ctx, st.ID, c.Param("task"), c.FormValue("note")); err != nil {
		return err
	}
	s.flash(c, "Recorded as done.")
	return s.redirect(c, "/stories/"+st.ID+"/consent")
}

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

// consentPaperPanel is the story consent page's paper part: the patient
// tasks (open ones first), the recorded scans and the link to record paper.
type consentPaperPanel struct {
	StoryID  string
	CanPaper bool // may record paper and complete tasks
	CanScans bool // may download scans (the certificate roles)
	Tasks    []paperTask
	Docs     []models.ConsentPaperDocument
	CSRF     string
}

type paperTask struct {
	models.ConsentPatientTask
	Label string
}

func (s *Server) loadPaperPanel(c echo.Context, st *models.Story) (*consentPaperPanel, error) {
	ctx := c.Request().Context()
	p := &consentPaperPanel{StoryID: st.ID, CanPaper: s.authz.AllowedOn(subject(c), authz.ConsentPaper, st),
		CanScans: s.authz.Allowed(subject(c), authz.ConsentCertificate), CSRF: s.csrfToken(c)}
	tasks, err := s.consent.Tasks(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		p.Tasks = append(p.Tasks, paperTask{t, consent.TaskLabel(t)})
	}
	if p.Docs, err = s.consent.PaperDocuments(ctx, st.ID); err != nil {
		return nil, err
	}
	return p, nil
}

// dashboardPatientTasks lists open patient tasks (printed copies to hand
// over, letters to post) for whoever may do them: admins see all, others
// those on their own stories. Only the task and the story's title.
func (s *Server) dashboardPatientTasks(c echo.Context, data map[string]any) error {
	sub := subject(c)
	if !s.authz.Allowed(sub, authz.ConsentPaperOwn) {
		return nil
	}
	who := sub.UserID
	if s.authz.Allowed(sub, authz.ConsentPaper) {
		who = ""
	}
	tasks, err := s.consent.OpenTasks(c.Request().Context(), who, 20)
	if err != nil {
		return err
	}
	var rows []dashboardTask
	for _, t := range tasks {
		rows = append(rows, dashboardTask{StoryID: t.StoryID, StoryTitle: t.StoryTitle, Label: consent.TaskLabel(t.ConsentPatientTask), Since: t.CreatedAt})
	}
	data["PatientTasks"] = rows
	return nil
}

type dashboardTask struct {
	StoryID, StoryTitle, Label string
	Since                      time.Time
}

// renameField moves an error to the id of the field it belongs to on the
// paper page (three forms share field names), so the summary links to it.
func renameField(fe consent.FieldErrors, from, to string) consent.FieldErrors {
	if m, ok := fe[from]; ok {
		delete(fe, from)
		fe[to] = m
	}
	return fe
}
