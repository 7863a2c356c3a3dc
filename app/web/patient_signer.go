package web

import (
	"fmt"
	"io"

	"github.com/labstack/echo/v4"

	"github.com/storykeep/storykeep/app/consent"
	"github.com/storykeep/storykeep/models"
)

// signerForm is the part of the signing step that depends on who signs
// (issue 19 item 7): a representative's attestation of authority and
// optional document, and a minor's optional assent.
type signerForm struct {
	Representative bool
	RepName        string
	Statement      string // the attestation, as the record will keep it
	Attested       bool
	AssentOffered  bool
	AssentText     string
	Assent         bool
	AssentName     string
}

// signerBanner says whom a representative signs for, and when the form is
// not in the page's language, that it exists only in its own.
func (s *Server) signerBanner(c echo.Context, r *models.ConsentRequest, lang, formLang string) (repFor, onlyIn string) {
	t := consent.Texts(lang)
	if rep, _, rel, first := s.consent.SignerOf(c.Request().Context(), r.SignerKind, r.RepName, r.RepRelationship, r.PatientID); rep {
		repFor = fmt.Sprintf(t["rep_signing_for"], first, rel)
	}
	if formLang != lang {
		onlyIn = t["only_in"]
	}
	return repFor, onlyIn
}

func (s *Server) signerFormOf(c echo.Context, r *models.ConsentRequest, lang string, in consent.SignInput) (signerForm, error) {
	a, err := s.consent.AddresseeOf(c.Request().Context(), r)
	if err != nil {
		return signerForm{}, err
	}
	t := consent.Texts(lang)
	f := signerForm{Representative: a.Representative, RepName: a.RepName, Attested: in.RepAttested,
		AssentOffered: a.AssentOffered, Assent: in.AssentGiven, AssentName: in.AssentName}
	if a.Representative {
		f.Statement = consent.RepAttestation(lang, a.RepName, a.Relationship, a.Authority, a.PatientFirst)
	}
	if a.AssentOffered {
		f.AssentText = fmt.Sprintf(t["assent_text"], a.PatientFirst)
	}
	return f, nil
}

// repDocument reads the representative's optional document from a
// multipart sign form; one over the limit is read one byte past it, so the
// service refuses it by size.
func repDocument(c echo.Context) []byte {
	fh, err := c.FormFile("rep_document")
	if err != nil || fh.Size == 0 {
		return nil
	}
	f, err := fh.Open()
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, consent.MaxRepDocumentBytes+1))
	return b
}
