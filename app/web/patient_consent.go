package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/markdown"
	"github.com/storykeep/storykeep/models"
)

// verifiedFor is how long a passed identity check lets the patient review
// and sign before asking again.
const verifiedFor = 30 * time.Minute

// patientData is what every patient page gets: its words in one language,
// the organisation and the language switch.
type patientData struct {
	T         map[string]string
	Org       string
	SwitchURL string
	Token     string
	// Contact is how to reach the organisation (Admin → Organisation).
	Contact string
}

func verifiedKey(requestID string) string { return "consent_verified:" + requestID }

// patientLang is the page language: ?lang= (remembered), else the request's.
func (s *Server) patientLang(c echo.Context, fallback string) string {
	ctx := c.Request().Context()
	if l := c.QueryParam("lang"); l == "en" || l == "es" {
		s.sessions.Put(ctx, "consent_lang", l)
		return l
	}
	if l := s.sessions.GetString(ctx, "consent_lang"); l != "" {
		return l
	}
	if fallback == "es" {
		return "es"
	}
	return "en"
}

func (s *Server) patientBase(c echo.Context, lang, token string) patientData {
	t := consent.Texts(lang)
	org, _ := s.consent.OrganisationProfile(c.Request().Context()) // unset details fall back to a generic line
	return patientData{T: t, Org: s.cfg.OrganisationName, SwitchURL: c.Request().URL.Path + "?lang=" + t["other_lang"], Token: token,
		Contact: consent.ContactLine(lang, s.cfg.OrganisationName, org)}
}

// para is one paragraph of a message page, with its language.
type para struct{ Lang, Text string }

// patientMessage renders a plain page with a heading and paragraphs.
func (s *Server) patientMessage(c echo.Context, status int, lang, titleKey string, bodyKeys ...string) error {
	d := s.patientBase(c, lang, "")
	paras := make([]para, len(bodyKeys))
	for i, k := range bodyKeys {
		paras[i] = para{lang, d.T[k]}
	}
	return s.messagePage(c, status, lang, d, d.T[titleKey], paras)
}

func (s *Server) messagePage(c echo.Context, status int, lang string, d patientData, title string, paras []para) error {
	return s.render(c, status, "consent_patient_message", Page{Title: title, Lang: lang,
		Data: struct {
			patientData
			Paragraphs []para
		}{d, paras}})
}

// linkGone is the same page for guessed, expired and used links, in both
// languages: choosing the request's language would tell a guesser the
// token was real.
func (s *Server) linkGone(c echo.Context) error {
	en, es := consent.Texts("en"), consent.Texts("es")
	d := s.patientBase(c, "en", "")
	d.SwitchURL = ""
	return s.messagePage(c, http.StatusNotFound, "en", d, en["gone_title"]+" · "+es["gone_title"],
		[]para{{"en", en["gone_body"]}, {"en", en["gone_todo"]}, {"es", es["gone_body"]}, {"es", es["gone_todo"]}})
}

// patientRequest finds the request behind the token, answering the
// not-usable and locked pages itself (ok false) when the patient cannot go on.
func (s *Server) patientRequest(c echo.Context) (*models.ConsentRequest, bool, error) {
	r, err := s.consent.Find(c.Request().Context(), c.Param("token"))
	if errors.Is(err, consent.ErrLinkNotUsable) {
		return nil, false, s.linkGone(c)
	}
	if err != nil {
		return nil, false, err
	}
	if r.Status == models.RequestLocked {
		return nil, false, s.patientMessage(c, http.StatusLocked, s.patientLang(c, r.Language), "locked_title", "locked_body", "gone_todo")
	}
	return r, true, nil
}

func (s *Server) isVerified(c echo.Context, r *models.ConsentRequest) bool {
	until := s.sessions.GetInt64(c.Request().Context(), verifiedKey(r.ID))
	return r.Status == models.RequestVerified && until > time.Now().Unix()
}

// patientConsent is the link's landing page: the identity check, then the review page.
func (s *Server) patientConsent(c echo.Context) error {
	// The common case, a link opened to check who is signing, takes one
	// light query (FindLink); anything else goes the full way below.
	if lr, hasEmail, err := s.findLink(c); err == nil && s.consent.LinkOpen(lr) && !s.isVerified(c, lr) {
		if err := s.consent.MarkOpened(c.Request().Context(), lr, c.RealIP()); err != nil {
			return err
		}
		return s.verifyPageWith(c, lr, http.StatusOK, "", false, false, hasEmail)
	}
	r, ok, err := s.patientRequest(c)
	if !ok {
		return err
	}
	if r.Status == models.RequestSigned && s.sessions.GetInt64(c.Request().Context(), verifiedKey(r.ID)) > 0 {
		return s.patientMessage(c, http.StatusOK, s.patientLang(c, r.Language), "already_signed_title", "already_signed_body")
	}
	if !consent.Usable(r) {
		return s.linkGone(c)
	}
	if err := s.consent.MarkOpened(c.Request().Context(), r, c.RealIP()); err != nil {
		return err
	}
	if !s.isVerified(c, r) {
		return s.verifyPage(c, r, http.StatusOK, "", false, false)
	}
	return s.reviewPage(c, r, http.StatusOK, nil, consent.SignInput{})
}

func (s *Server) verifyPage(c echo.Context, r *models.ConsentRequest, status int, problem string, dobErr, codeErr bool) error {
	hasEmail, err := s.consent.HasEmail(c.Request().Context(), r)
	if err != nil {
		return err
	}
	return s.verifyPageWith(c, r, status, problem, dobErr, codeErr, hasEmail)
}

func (s *Server) verifyPageWith(c echo.Context, r *models.ConsentRequest, status int, problem string, dobErr, codeErr, hasEmail bool) error {
	tries := ""
	if problem != "" {
		tries = strconv.Itoa(consent.MaxFailures - r.Failures)
	}
	lang := s.patientLang(c, r.Language)
	v := identityCheck{Problem: problem, TriesLeft: tries, DOBError: dobErr, CodeError: codeErr,
		HasEmail: hasEmail, CodeSent: r.CodeExpiresAt != nil && r.CodeExpiresAt.After(time.Now())}
	s.identityWho(c, lang, &v, r.SignerKind, r.RepName, r.RepRelationship, r.PatientID)
	return s.identityPage(c, lang, status, v)
}

// identityCheck is the state of the identity check page, shared by signing
// (/c/) and revoking (/r/, Revoke true).
type identityCheck struct {
	Problem, TriesLeft  string
	DOBError, CodeError bool
	HasEmail, CodeSent  bool
	Revoke              bool
	// RepIntro and DOBLegend speak to a representative: whom they act for,
	// and that the date asked is the patient's (issue 19 item 7).
	RepIntro, DOBLegend string
}

// identityWho fills in whom the identity check speaks to.
func (s *Server) identityWho(c echo.Context, lang string, v *identityCheck, kind, repName, rel, patientID string) {
	if kind != "representative" {
		return // a patient signing for themselves: nothing to add, no look-up
	}
	t := consent.Texts(lang)
	rep, _, rel, first := s.consent.SignerOf(c.Request().Context(), kind, repName, rel, patientID)
	if rep {
		v.RepIntro = fmt.Sprintf(t["rep_verify_intro"], first, rel, first)
		v.DOBLegend = fmt.Sprintf(t["dob_legend_patient"], first)
	}
}

func (s *Server) identityPage(c echo.Context, lang string, status int, v identityCheck) error {
	d := s.patientBase(c, lang, c.Param("token"))
	p := Page{Title: d.T["verify_title"], Lang: lang, Data: struct {
		patientData
		identityCheck
	}{d, v}}
	s.fillPage(c, &p)
	// The page as a link first opens it (no problem to show, no message
	// waiting, nobody signed in) is the same for every visitor but the
	// CSRF token: it is rendered once (renderLanding).
	if status == http.StatusOK && v.Problem == "" && !v.DOBError && !v.CodeError && p.Flash == "" && p.User == nil {
		return s.renderLanding(c, landingKey{path: c.Request().URL.Path, lang: lang, hasEmail: v.HasEmail, codeSent: v.CodeSent, revoke: v.Revoke}, p)
	}
	return s.renderer.write(c, status, "consent_patient_verify", p)
}

// patientConsentVerify checks a date of birth or an emailed code.
func (s *Server) patientConsentVerify(c echo.Context) error {
	r, ok, err := s.patientRequest(c)
	if !ok {
		return err
	}
	if !consent.Usable(r) {
		return s.linkGone(c)
	}
	ctx := c.Request().Context()
	t := consent.Texts(s.patientLang(c, r.Language))
	method := c.FormValue("method")
	if method == "code" {
		err = s.consent.VerifyCode(ctx, r, strings.TrimSpace(c.FormValue("code")), c.RealIP())
	} else {
		err = s.consent.VerifyDOB(ctx, r, dobValue(c.FormValue("year"), c.FormValue("month"), c.FormValue("day")), c.RealIP())
	}
	switch {
	case errors.Is(err, consent.ErrLocked):
		return s.patientMessage(c, http.StatusLocked, s.patientLang(c, r.Language), "locked_title", "locked_body", "gone_todo")
	case errors.Is(err, consent.ErrWrongAnswer):
		if method == "code" {
			return s.verifyPage(c, r, http.StatusUnprocessableEntity, t["wrong_code"], false, true)
		}
		return s.verifyPage(c, r, http.StatusUnprocessableEntity, t["wrong_dob"], true, false)
	case errors.Is(err, consent.ErrLinkNotUsable):
		return s.linkGone(c)
	case err != nil:
		return err
	}
	// A new session token on a change of privilege, so a planted cookie
	// cannot ride on the patient's verification.
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, verifiedKey(r.ID), time.Now().Add(verifiedFor).Unix())
	return s.redirect(c, "/c/"+c.Param("token"))
}

// dobValue builds YYYY-MM-DD from the three fields, tolerating "7" for "07".
func dobValue(y, m, d string) string {
	yi, e1 := strconv.Atoi(strings.TrimSpace(y))
	mi, e2 := strconv.Atoi(strings.TrimSpace(m))
	di, e3 := strconv.Atoi(strings.TrimSpace(d))
	if e1 != nil || e2 != nil || e3 != nil {
		return "invalid"
	}
	return fmt.Sprintf("%04d-%02d-%02d", yi, mi, di)
}

// patientConsentCode emails a one-time code.
func (s *Server) patientConsentCode(c echo.Context) error {
	r, ok, err := s.patientRequest(c)
	if !ok {
		return err
	}
	if !consent.Usable(r) {
		return s.linkGone(c)
	}
	if err := s.consent.SendCode(c.Request().Context(), r, c.RealIP()); err != nil {
		return err
	}
	return s.verifyPage(c, r, http.StatusOK, "", false, false)
}

// choice is one checkbox or radio of the review form.
type choice struct {
	Value, Label string
	Checked      bool
}

// channelPost is one channel's preview.
type channelPost struct {
	Label, Text string
	Website     bool
}

// mediaView is one media item shown to the patient.
type mediaView struct {
	ID, Alt, Caption, Kind, URL string
}

// fieldError links the error summary to the field.
type fieldError struct{ Target, Message string }

var errorTargets = []struct{ field, target string }{
	{"channels", "channels"}, {"media", "media"}, {"name_usage", "name_usage"}, {"expires_on", "expires_on"},
	{"esign", "esign"}, {"rep_attest", "rep_attest"}, {"rep_document", "rep_document"}, {"typed_name", "typed_name"},
	{"signature", "typed_signature"}, {"assent", "assent"}, {"assent_name", "assent_name"},
}

func (s *Server) reviewPage(c echo.Context, r *models.ConsentRequest, status int, fe consent.FieldErrors, in consent.SignInput) error {
	ctx := c.Request().Context()
	lang := s.patientLang(c, r.Language)
	token := c.Param("token")
	f, err := consent.ParseFrozen(r.FrozenJSON)
	if err != nil {
		return err
	}
	prop := consent.ProposalOf(r)
	d := s.patientBase(c, lang, token)
	v := struct {
		patientData
		StoryTitle, Summary, FormLang            string
		BodyHTML, AuthHTML                       template.HTML
		Posts                                    []channelPost
		Media                                    []mediaView
		ChannelChoices, MediaChoices             []choice
		NameChoices                              []choice
		ExpiresOn, MaxDate, MinDate, MaxDateText string
		Esign                                    bool
		TypedName, TypedSignature                string
		ErrorList                                []fieldError
		RepFor, OnlyIn                           string
	}{patientData: d, StoryTitle: f.Title, Summary: f.Summary, BodyHTML: markdown.Render(f.Body),

		MaxDate: prop.MaxExpiresOn.Format("2006-01-02"), MinDate: time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02"),
		MaxDateText: consent.FormatDate(lang, prop.MaxExpiresOn), Esign: in.EsignAgreed, TypedName: in.TypedName, TypedSignature: in.TypedSignature}
	authText, formLang := consent.FormIn(r, lang)
	v.FormLang, v.AuthHTML = formLang, template.HTML(consent.RenderedHTML(authText)) //nolint:gosec // sanitised by markdown.Render
	v.RepFor, v.OnlyIn = s.signerBanner(c, r, lang, formLang)
	v.ExpiresOn = v.MaxDate
	if in.ExpiresOn != "" {
		v.ExpiresOn = in.ExpiresOn
	}
	for _, cc := range f.Channels {
		ch, _ := channels.Get(cc.Channel)
		v.Posts = append(v.Posts, channelPost{Label: channels.LabelIn(lang, cc.Channel), Text: cc.Text, Website: !ch.Social()})
	}
	for _, k := range prop.Channels {
		v.ChannelChoices = append(v.ChannelChoices, choice{Value: k, Label: channels.LabelIn(lang, k), Checked: slices.Contains(in.Channels, k)})
	}
	for _, m := range f.Media {
		kind := "image"
		if a, err := s.media.Get(ctx, m.ID); err == nil {
			kind = a.Kind
		}
		v.Media = append(v.Media, mediaView{ID: m.ID, Alt: m.AltText, Caption: m.Caption, Kind: kind, URL: "/c/" + token + "/media/" + m.ID})
		v.MediaChoices = append(v.MediaChoices, choice{Value: m.ID, Label: m.AltText, Checked: slices.Contains(in.MediaIDs, m.ID)})
	}
	for _, u := range consent.NameUsages {
		if slices.Index(consent.NameUsages, u) <= slices.Index(consent.NameUsages, prop.NameUsage) {
			v.NameChoices = append(v.NameChoices, choice{Value: u, Label: d.T[u], Checked: in.NameUsage == u})
		}
	}
	for _, t := range errorTargets {
		if msg, ok := fe[t.field]; ok {
			v.ErrorList = append(v.ErrorList, fieldError{Target: t.target, Message: msg})
		}
	}
	return s.render(c, status, "consent_patient_review", Page{Title: d.T["review_title"], Lang: lang, Errors: fe, Data: v})
}

// signInput reads the choices and signature fields of the patient's forms.
func signInput(c echo.Context, lang string) consent.SignInput {
	form, _ := c.FormParams()
	return consent.SignInput{Channels: form["channels"], MediaIDs: form["media"], NameUsage: c.FormValue("name_usage"), ExpiresOn: c.FormValue("expires_on"),
		EsignAgreed: c.FormValue("esign") == "yes", TypedName: c.FormValue("typed_name"), SignatureData: c.FormValue("signature_data"),
		TypedSignature: c.FormValue("typed_signature"), IP: c.RealIP(), UserAgent: c.Request().UserAgent(),
		AuthSHA256: c.FormValue("auth_sha256"), EsignLanguage: lang, FormLanguage: lang, EsignSHA256: c.FormValue("esign_sha256"),
		RepAttested: c.FormValue("rep_attest") == "yes", AssentGiven: c.FormValue("assent") == "yes", AssentName: c.FormValue("assent_name"),
		RepDocument: repDocument(c)}
}

// choiceFields are the fields of the choices step; an error in one of them
// sends the patient back to that step.
var choiceFields = []string{"channels", "media", "name_usage", "expires_on"}

// patientSignGate answers the pages shared by the confirm and sign steps
// (already signed, link gone, not verified); ok says the patient may go on.
func (s *Server) patientSignGate(c echo.Context) (*models.ConsentRequest, string, bool, error) {
	r, ok, err := s.patientRequest(c)
	if !ok {
		return nil, "", false, err
	}
	lang := s.patientLang(c, r.Language)
	if r.Status == models.RequestSigned && s.sessions.GetInt64(c.Request().Context(), verifiedKey(r.ID)) > 0 {
		return nil, "", false, s.patientMessage(c, http.StatusOK, lang, "already_signed_title", "already_signed_body")
	}
	if !consent.Usable(r) {
		return nil, "", false, s.linkGone(c)
	}
	if !s.isVerified(c, r) {
		return nil, "", false, s.verifyPage(c, r, http.StatusForbidden, "", false, false)
	}
	return r, lang, true, nil
}

// patientConsentConfirm takes the choices and shows the final authorization,
// with them filled in, for the last confirmation and the signature; "back"
// returns to the choices, kept.
func (s *Server) patientConsentConfirm(c echo.Context) error {
	r, lang, ok, err := s.patientSignGate(c)
	if !ok {
		return err
	}
	in := signInput(c, lang)
	if c.FormValue("back") == "1" {
		return s.reviewPage(c, r, http.StatusOK, nil, in)
	}
	return s.confirmPage(c, r, http.StatusOK, nil, in, "")
}

// confirmPage renders the final authorization (consent.Service.Final) with
// the signing fields; invalid choices go back to the review page.
func (s *Server) confirmPage(c echo.Context, r *models.ConsentRequest, status int, fe consent.FieldErrors, in consent.SignInput, problem string) error {
	lang := s.patientLang(c, r.Language)
	fin, err := s.consent.Final(c.Request().Context(), r, in)
	var cfe consent.FieldErrors
	if errors.As(err, &cfe) {
		return s.reviewPage(c, r, http.StatusUnprocessableEntity, cfe, in)
	}
	if err != nil {
		return s.signError(c, r, lang, err)
	}
	d := s.patientBase(c, lang, c.Param("token"))
	org, err := s.consent.OrganisationProfile(c.Request().Context())
	if err != nil {
		return err
	}
	v := struct {
		patientData
		EsignParas                         []string
		EsignSHA256                        string
		FormLang, AuthSHA256               string
		AuthHTML                           template.HTML
		Channels, MediaIDs                 []string
		NameUsage, ExpiresOn               string
		Esign                              bool
		TypedName, TypedSignature, Problem string
		ErrorList                          []fieldError
		RepFor, OnlyIn                     string
		Signer                             signerForm
	}{patientData: d, EsignParas: consent.EsignDisclosureParas(lang, org), EsignSHA256: consent.TextSHA256(consent.EsignDisclosureFor(lang, org)), FormLang: fin.Language, AuthSHA256: fin.SHA256,
		AuthHTML: template.HTML(consent.RenderedHTML(fin.Text)), //nolint:gosec // sanitised by markdown.Render
		Channels: in.Channels, MediaIDs: in.MediaIDs, NameUsage: in.NameUsage, ExpiresOn: fin.ExpiresOn.Format("2006-01-02"),
		Esign: in.EsignAgreed, TypedName: in.TypedName, TypedSignature: in.TypedSignature, Problem: problem}
	v.RepFor, v.OnlyIn = s.signerBanner(c, r, lang, fin.Language)
	if v.Signer, err = s.signerFormOf(c, r, lang, in); err != nil {
		return err
	}
	for _, t := range errorTargets {
		if msg, ok := fe[t.field]; ok {
			v.ErrorList = append(v.ErrorList, fieldError{Target: t.target, Message: msg})
		}
	}
	return s.render(c, status, "consent_patient_confirm", Page{Title: d.T["confirm_title"], Lang: lang, Errors: fe, Data: v})
}

// signError answers the errors of the confirm and sign steps in the
// patient's language: a second signature is "already signed", never a
// staff error.
func (s *Server) signError(c echo.Context, r *models.ConsentRequest, lang string, err error) error {
	switch {
	case errors.Is(err, consent.ErrAlreadySigned):
		return s.patientMessage(c, http.StatusOK, lang, "already_signed_title", "already_signed_body")
	case errors.Is(err, consent.ErrStoryChanged):
		return s.patientMessage(c, http.StatusConflict, lang, "changed_title", "changed_body", "gone_todo")
	case errors.Is(err, consent.ErrLinkNotUsable):
		if r.Status == models.RequestSigned {
			return s.patientMessage(c, http.StatusOK, lang, "already_signed_title", "already_signed_body")
		}
		return s.linkGone(c)
	}
	return err
}

// patientConsentSign records the authorization the patient confirmed.
func (s *Server) patientConsentSign(c echo.Context) error {
	r, lang, ok, err := s.patientSignGate(c)
	if !ok {
		return err
	}
	in := signInput(c, lang)
	rec, err := s.consent.Sign(c.Request().Context(), r, in)
	var fe consent.FieldErrors
	switch {
	case errors.As(err, &fe):
		for _, f := range choiceFields {
			if _, bad := fe[f]; bad {
				return s.reviewPage(c, r, http.StatusUnprocessableEntity, fe, in)
			}
		}
		return s.confirmPage(c, r, http.StatusUnprocessableEntity, fe, in, "")
	case errors.Is(err, consent.ErrFormChanged):
		return s.confirmPage(c, r, http.StatusConflict, nil, in, consent.Texts(lang)["form_changed"])
	case err != nil:
		return s.signError(c, r, lang, err)
	}
	return s.patientSignedPage(c, lang, rec)
}

// patientConsentDecline records a "no".
func (s *Server) patientConsentDecline(c echo.Context) error {
	r, ok, err := s.patientRequest(c)
	if !ok {
		return err
	}
	if !consent.Usable(r) {
		return s.linkGone(c)
	}
	if !s.isVerified(c, r) {
		return s.verifyPage(c, r, http.StatusForbidden, "", false, false)
	}
	if err := s.consent.Decline(c.Request().Context(), r, c.FormValue("reason"), c.RealIP()); err != nil {
		if errors.Is(err, consent.ErrLinkNotUsable) {
			return s.linkGone(c)
		}
		return err
	}
	return s.patientMessage(c, http.StatusOK, s.patientLang(c, r.Language), "declined_title", "declined_body")
}

// patientConsentMedia streams a media item of the request to its verified signer.
func (s *Server) patientConsentMedia(c echo.Context) error {
	r, err := s.consent.Find(c.Request().Context(), c.Param("token"))
	if err != nil || !consent.Usable(r) || !s.isVerified(c, r) || !slices.Contains(consent.ProposalOf(r).MediaIDs, c.Param("asset")) {
		if err != nil && !errors.Is(err, consent.ErrLinkNotUsable) {
			return err
		}
		return s.linkGone(c)
	}
	a, err := s.media.Get(c.Request().Context(), c.Param("asset"))
	if err != nil {
		return err
	}
	return s.streamObject(c, a.StorageKey, a.ContentType, "")
}
