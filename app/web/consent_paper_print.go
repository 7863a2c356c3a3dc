package web

import (
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/authz"
	"github.com/storykeep/storykeep/app/channels"
	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/app/markdown"
	"github.com/storykeep/storykeep/models"
)

// paperFormLabels frame the printable form in the request's language.
var paperFormLabels = map[string]map[string]string{
	"en": {"story": "What would be shared", "choices": "Your choices (tick and fill in)", "channels": "Where it may be shared",
		"media": "Photos and recordings", "name": "How your name may be used", "full": "Full name", "first_name": "First name only",
		"anonymous": "No name", "ends": "This authorization ends on (date, at the latest %s):", "signer": "Name of the person signing (print)",
		"signature": "Signature", "date": "Date", "ref": "Form reference", "digest": "Content fingerprint", "post": "Post"},
	"es": {"story": "Lo que se compartiría", "choices": "Sus elecciones (marque y complete)", "channels": "Dónde se puede compartir",
		"media": "Fotos y grabaciones", "name": "Cómo se puede usar su nombre", "full": "Nombre completo", "first_name": "Solo el nombre de pila",
		"anonymous": "Sin nombre", "ends": "Esta autorización termina el (fecha, a más tardar el %s):", "signer": "Nombre de quien firma (en letra de imprenta)",
		"signature": "Firma", "date": "Fecha", "ref": "Referencia del formulario", "digest": "Huella del contenido", "post": "Publicación"},
}

// consentPaperPrint is the request's form to print and sign on paper: the
// authorization as the patient would read it online, the frozen story, the
// choices as boxes to tick, and the request's id and content digest so the
// signed paper is matched to the right request when it is recorded.
func (s *Server) consentPaperPrint(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.stories.Get(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if !s.authz.AllowedOn(subject(c), authz.ConsentPaper, st) {
		return echo.NewHTTPError(http.StatusForbidden, "Only the story's owner, a collaborator or an admin may print consent forms.")
	}
	var r *models.ConsentRequest
	reqs, err := s.consent.Requests(ctx, st.ID)
	if err != nil {
		return err
	}
	for i := range reqs {
		if reqs[i].ID == c.Param("request") {
			r = &reqs[i]
		}
	}
	if r == nil {
		return echo.NewHTTPError(http.StatusNotFound, "That consent request does not exist.")
	}
	f, err := consent.ParseFrozen(r.FrozenJSON)
	if err != nil {
		return err
	}
	if err := s.audit.Record(ctx, nil, audit.Entry{Action: "consent.paper_print", ObjectType: "consent_request", ObjectID: r.ID,
		Details: map[string]any{"story_id": st.ID}}); err != nil {
		return err
	}
	lang := r.Language
	if paperFormLabels[lang] == nil {
		lang = "en"
	}
	prop := consent.ProposalOf(r)
	type choice struct{ Key, Label string }
	var chans, media, names []choice
	for _, k := range prop.Channels {
		chans = append(chans, choice{k, channels.Label(k)})
	}
	for _, m := range f.Media {
		label := m.AltText
		if label == "" {
			label = m.ID
		}
		media = append(media, choice{m.ID, label})
	}
	for _, n := range consent.NameUsages {
		names = append(names, choice{n, paperFormLabels[lang][n]})
		if n == prop.NameUsage {
			break
		}
	}
	latest := consent.FormatDate(lang, prop.MaxExpiresOn)
	return s.render(c, http.StatusOK, "consent_paper_print", Page{Title: f.Title, Lang: lang, Data: map[string]any{
		"Story": st, "Request": r, "L": paperFormLabels[lang], "Ends": latest,
		"AuthHTML": template.HTML(consent.RenderedHTML(r.AuthorizationText)), //nolint:gosec // sanitised by markdown.Render
		"Frozen":   f, "BodyHTML": markdown.Render(f.Body), "Channels": chans, "Media": media, "Names": names}})
}
