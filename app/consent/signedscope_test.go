package consent

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/models"
)

// TestDigestV2CoversCaptionAndFocalPoint: the version 2 content digest
// changes when a photo's caption or focal point changes (finding F1), and a
// version 1 frozen JSON still reproduces its own digest.
func TestDigestV2CoversCaptionAndFocalPoint(t *testing.T) {
	f := goldenFrozen()
	f.Format = ""
	f.Media[0].Caption, f.Media[0].FocalX, f.Media[0].FocalY = "In the garden", 500, 400
	canonical, d := Digest(f)
	if !strings.Contains(string(canonical), `"format":"storykeep-consent-digest/2"`) || !strings.Contains(string(canonical), `"caption":"In the garden","focal_x":500,"focal_y":400`) {
		t.Fatalf("v2 canonical form: %s", canonical)
	}
	assertJCS(t, canonical)
	for _, change := range []func(*Frozen){
		func(f *Frozen) { f.Media[0].Caption = "Mrs Maria Lopez (MRN 55512)" },
		func(f *Frozen) { f.Media[0].FocalX = 100 },
		func(f *Frozen) { f.Media[0].FocalY = 900 },
	} {
		g := goldenFrozen()
		g.Format = ""
		g.Media[0].Caption, g.Media[0].FocalX, g.Media[0].FocalY = "In the garden", 500, 400
		change(&g)
		if _, d2 := Digest(g); d2 == d {
			t.Error("a caption or focal point change left the digest as it was")
		}
	}
	v1, d1 := Digest(goldenFrozen())
	back, err := ParseFrozen(string(v1))
	if err != nil {
		t.Fatal(err)
	}
	if _, again := Digest(back); again != d1 || d1 != goldenDigest {
		t.Fatal("a version 1 frozen JSON does not reproduce its digest")
	}
}

func assertJCS(t *testing.T, canonical []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(canonical, &v); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if got := bytes.TrimSpace(buf.Bytes()); !bytes.Equal(got, canonical) {
		t.Fatalf("not in sorted-key canonical form:\n%s\n%s", canonical, got)
	}
}

func scopeRecord(t *testing.T) *models.ConsentRecord {
	t.Helper()
	f := goldenFrozen()
	f.Format = ""
	f.Media[1].Caption = "Physio"
	canonical, d := Digest(f)
	rec := &models.ConsentRecord{ID: "r1", StoryID: f.StoryID, FrozenJSON: string(canonical), Digest: d, TemplateID: f.TemplateID,
		TemplateVersion: f.TemplateVersion, TemplateTextSHA256: f.TemplateTextSHA256, AuthorizationText: "## Final\n\nFacebook only.",
		Language: "en", Channels: `["facebook"]`, MediaIDs: `["m1"]`, NameUsage: "first_name", ExpiresOn: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC),
		SignerName: "María López", SignerKind: "patient", EsignSHA256: TextSHA256(EsignDisclosure("en")), EsignLanguage: "en"}
	rec.AuthorizationSHA256 = TextSHA256(rec.AuthorizationText)
	var err error
	if _, rec.ScopeDigest, err = SignedScope(rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestSignedScopeBindsTheChoices: the signed scope holds only the chosen
// channel and photo (with caption and focal point), and any chosen value,
// signer, text or content changed afterwards makes VerifyScope fail.
func TestSignedScopeBindsTheChoices(t *testing.T) {
	rec := scopeRecord(t)
	canonical, _, _ := SignedScope(rec)
	assertJCS(t, canonical)
	c := string(canonical)
	if !strings.Contains(c, `"channels":[{"channel":"facebook"`) || strings.Contains(c, `"website"`) ||
		!strings.Contains(c, `"caption":"Physio"`) || strings.Contains(c, `"m2"`) || !strings.Contains(c, `"expires_on":"2027-06-30"`) {
		t.Fatalf("scope is not limited to the choices: %s", c)
	}
	if chk := VerifyScope(rec); !chk.Matches {
		t.Fatalf("fresh record does not match: %s", chk.Problem)
	}
	for name, change := range map[string]func(r *models.ConsentRecord){
		"channels":   func(r *models.ConsentRecord) { r.Channels = `["facebook","website"]` },
		"media":      func(r *models.ConsentRecord) { r.MediaIDs = `["m1","m2"]` },
		"name usage": func(r *models.ConsentRecord) { r.NameUsage = "full" },
		"expiry":     func(r *models.ConsentRecord) { r.ExpiresOn = r.ExpiresOn.AddDate(5, 0, 0) },
		"signer":     func(r *models.ConsentRecord) { r.SignerName = "Someone Else" },
		"rep":        func(r *models.ConsentRecord) { r.RepName = "A. Guardian" },
		"text":       func(r *models.ConsentRecord) { r.AuthorizationText += " And Facebook." },
		"esign":      func(r *models.ConsentRecord) { r.EsignSHA256 = TextSHA256("other") },
		"content": func(r *models.ConsentRecord) {
			r.FrozenJSON = strings.Replace(r.FrozenJSON, "Physio", "Mrs Lopez", 1)
		},
	} {
		r := *rec
		change(&r)
		if chk := VerifyScope(&r); chk.Matches || chk.Problem == "" {
			t.Errorf("%s changed in the database: still matches", name)
		}
	}
}

// TestVerifyScopeLegacyRecord: a record signed before the signed scope
// existed is checked on its content digest alone, and says so.
func TestVerifyScopeLegacyRecord(t *testing.T) {
	rec := scopeRecord(t)
	rec.ScopeDigest = ""
	if chk := VerifyScope(rec); !chk.Matches || !chk.Legacy || chk.Problem == "" {
		t.Fatalf("legacy record: %+v", chk)
	}
	rec.FrozenJSON = strings.Replace(rec.FrozenJSON, "Physio", "Other", 1)
	if chk := VerifyScope(rec); chk.Matches {
		t.Fatal("a legacy record with changed content still matches")
	}
}

// TestCanonicalScopeAttachmentCheck: the canonical scope attached to a
// certificate passes when it hashes to the summary's scope digest and
// equals SignedScope of the record now; a changed byte of it, a different
// digest or a chosen value changed in the database each fail.
func TestCanonicalScopeAttachmentCheck(t *testing.T) {
	rec := scopeRecord(t)
	canonical, d, err := SignedScope(rec)
	if err != nil || d != rec.ScopeDigest {
		t.Fatalf("SignedScope: %v", err)
	}
	if p := canonicalScopeProblems(canonical, rec.ScopeDigest, rec); len(p) != 0 {
		t.Fatalf("a matching canonical scope fails: %q", p)
	}
	bad := bytes.Replace(canonical, []byte(`"facebook"`), []byte(`"website"`), 1)
	if p := canonicalScopeProblems(bad, rec.ScopeDigest, rec); len(p) != 2 {
		t.Errorf("a changed canonical scope: %q", p)
	}
	if p := canonicalScopeProblems(canonical, "", rec); len(p) != 1 || !strings.Contains(p[0], "does not hash") {
		t.Errorf("no scope digest in the summary: %q", p)
	}
	changed := *rec
	changed.Channels = `["facebook","website"]`
	if p := canonicalScopeProblems(canonical, rec.ScopeDigest, &changed); len(p) != 1 || !strings.Contains(p[0], "recomputed from the record now") {
		t.Errorf("channels changed in the database: %q", p)
	}
}
