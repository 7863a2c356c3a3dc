package consent

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/storykeep/storykeep/models"
)

// ScopeFormat names the canonical form of the signed scope; it is the
// "format" member of the JSON, see docs/consent-digest.md.
const ScopeFormat = "storykeep-consent-scope/1"

// SignedScope canonicalises what the patient signed, from the record's stored
// values alone: the frozen content limited to the chosen channels and media
// (captions, alt text and focal points included), the name usage, expiry,
// signer and representative, the language, and the hashes of the exact
// authorization text and e-sign disclosure shown. It returns the RFC 8785
// JSON and its SHA-256 (lowercase hex). Sign stores the digest on the
// record; VerifyScope recomputes it, so a chosen value changed in the
// database no longer matches. The certificate can attach the JSON.
func SignedScope(rec *models.ConsentRecord) (canonical []byte, sha256hex string, err error) {
	f, err := ParseFrozen(rec.FrozenJSON)
	if err != nil {
		return nil, "", err
	}
	chans := parseList(rec.Channels)
	slices.Sort(chans)
	mediaIDs := parseList(rec.MediaIDs)
	slices.Sort(mediaIDs)

	var w jcsWriter
	w.raw("{")
	// Members added for representatives, minors and sponsorship (issue 19)
	// appear only when set, so records signed without them keep their digest.
	if rec.AssentName != "" {
		w.member("assent_name", canon(rec.AssentName))
		w.raw(",")
	}
	w.member("authorization_sha256", TextSHA256(rec.AuthorizationText))
	w.raw(",")
	w.member("body", canon(f.Body))
	w.raw(`,"channels":[`)
	for i, k := range chans {
		text := ""
		for _, c := range f.Channels {
			if c.Channel == k {
				text = c.Text
			}
		}
		if i > 0 {
			w.raw(",")
		}
		w.raw("{")
		w.member("channel", canon(k))
		w.raw(",")
		w.member("text", canon(text))
		w.raw("}")
	}
	w.raw("],")
	w.member("content_digest", canon(rec.Digest))
	w.raw(",")
	w.member("esign_disclosure_sha256", canon(rec.EsignSHA256))
	w.raw(",")
	w.member("esign_language", canon(rec.EsignLanguage))
	w.raw(",")
	w.member("expires_on", rec.ExpiresOn.UTC().Format("2006-01-02"))
	w.raw(",")
	w.member("format", ScopeFormat)
	w.raw(",")
	w.member("language", canon(rec.Language))
	w.raw(`,"media":[`)
	for i, id := range mediaIDs {
		m := MediaRef{ID: id}
		for _, fm := range f.Media {
			if fm.ID == id {
				m = fm
			}
		}
		if i > 0 {
			w.raw(",")
		}
		w.raw("{")
		w.member("alt_text", canon(m.AltText))
		w.raw(",")
		w.member("caption", canon(m.Caption))
		w.raw(`,"focal_x":` + strconv.Itoa(m.FocalX) + `,"focal_y":` + strconv.Itoa(m.FocalY) + ",")
		w.member("id", canon(m.ID))
		w.raw(",")
		w.member("sha256", canon(m.SHA256))
		w.raw("}")
	}
	w.raw("],")
	if rec.Method == models.MethodPaper {
		// Paper records name their method, the scan's hash and the date
		// written on the form; e-signed records keep the members they
		// always had, so their digests are unchanged.
		w.member("method", models.MethodPaper)
		w.raw(",")
	}
	w.member("name_usage", canon(rec.NameUsage))
	if rec.Method == models.MethodPaper {
		w.raw(",")
		w.member("paper_scan_sha256", canon(rec.PaperScanSHA256))
		w.raw(",")
		signedOn := ""
		if rec.PaperSignedOn != nil {
			signedOn = rec.PaperSignedOn.UTC().Format("2006-01-02")
		}
		w.member("paper_signed_on", signedOn)
	}
	w.raw(`,"representative":{`)
	w.member("authority", canon(rec.RepAuthority))
	w.raw(",")
	if rec.RepDocumentSHA256 != "" {
		w.member("document_sha256", canon(rec.RepDocumentSHA256))
		w.raw(",")
	}
	w.member("name", canon(rec.RepName))
	w.raw(",")
	w.member("relationship", canon(rec.RepRelationship))
	if rec.RepStatement != "" {
		w.raw(",")
		w.member("statement", canon(rec.RepStatement))
	}
	w.raw(`},"signer":{`)
	w.member("kind", canon(rec.SignerKind))
	w.raw(",")
	w.member("name", canon(rec.SignerName))
	w.raw("},")
	if rec.Sponsored {
		w.member("sponsor", canon(rec.Sponsor))
		w.raw(",")
	}
	w.member("story_id", canon(rec.StoryID))
	w.raw(",")
	w.member("summary", canon(f.Summary))
	w.raw(",")
	w.member("template_id", canon(rec.TemplateID))
	w.raw(",")
	w.member("template_text_sha256", canon(rec.TemplateTextSHA256))
	w.raw(`,"template_version":` + strconv.Itoa(rec.TemplateVersion) + ",")
	w.member("title", canon(f.Title))
	w.raw("}")
	sum := sha256.Sum256(w.b)
	return w.b, hex.EncodeToString(sum[:]), nil
}

// ScopeCheck is the outcome of VerifyScope.
type ScopeCheck struct {
	Matches bool
	// Legacy is a record signed before signed-scope digests were kept: only
	// its content digest could be checked (Matches says whether it holds).
	Legacy bool
	// Problem says plainly what does not match ("" when Matches).
	Problem string
}

// VerifyScope recomputes a record's digests from its stored values: the
// content digest from the frozen JSON, the authorization text's hash and the
// signed scope. Any chosen value, the text or the content changed in the
// database after signing makes it not match.
func VerifyScope(rec *models.ConsentRecord) ScopeCheck {
	f, err := ParseFrozen(rec.FrozenJSON)
	if err != nil {
		return ScopeCheck{Legacy: rec.ScopeDigest == "", Problem: "The recorded content cannot be read."}
	}
	if _, d := Digest(f); !same(d, rec.Digest) {
		return ScopeCheck{Legacy: rec.ScopeDigest == "", Problem: "The recorded content does not match its digest."}
	}
	if rec.ScopeDigest == "" {
		return ScopeCheck{Matches: true, Legacy: true,
			Problem: "This record was signed before signed-scope digests were kept: its content matches its digest, but its choices cannot be checked here."}
	}
	if !same(TextSHA256(rec.AuthorizationText), rec.AuthorizationSHA256) {
		return ScopeCheck{Problem: "The recorded authorization text does not match its hash."}
	}
	if _, d, err := SignedScope(rec); err != nil || !same(d, rec.ScopeDigest) {
		return ScopeCheck{Problem: "The recorded choices (channels, photos, name usage, expiry or signer) do not match the signed scope."}
	}
	return ScopeCheck{Matches: true}
}

func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
