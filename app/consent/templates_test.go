package consent

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/models"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func defaultBody(t *testing.T, lang string) string {
	t.Helper()
	body, err := DefaultBody(lang)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestDefaultTemplatesAreComplete(t *testing.T) {
	for lang := range Languages {
		t.Run(lang, func(t *testing.T) {
			body := defaultBody(t, lang)
			if m := Validate(body); len(m) > 0 {
				t.Errorf("Validate: %+v", m)
			}
			tpl := &models.ConsentTemplate{Language: lang, Version: 1, Body: body}
			if m := Readiness(tpl); len(m) > 0 {
				t.Errorf("Readiness: %+v", m)
			}
		})
	}
}

// editSection applies edit to the text of the section headed heading.
func editSection(t *testing.T, body, heading string, edit func(string) string) string {
	t.Helper()
	start := strings.Index(body, "## "+heading+"\n")
	if start < 0 {
		t.Fatalf("no section %q", heading)
	}
	from := start + len("## "+heading+"\n")
	end := strings.Index(body[from:], "\n## ")
	if end < 0 {
		end = len(body) - from
	}
	return body[:from] + edit(body[from:from+end]) + body[from+end:]
}

func removeSection(t *testing.T, body, heading string) string {
	t.Helper()
	body = editSection(t, body, heading, func(string) string { return "" })
	return strings.Replace(body, "## "+heading+"\n", "", 1)
}

func TestValidateNamesEachMissingElement(t *testing.T) {
	type mutation struct {
		name string
		edit func(t *testing.T, e Element, lang, body string) (string, bool)
	}
	mutations := []mutation{
		{"heading renamed", func(t *testing.T, e Element, lang, body string) (string, bool) {
			return strings.Replace(body, "## "+e.Headings[lang]+"\n", "## Notes\n", 1), true
		}},
		{"section removed", func(t *testing.T, e Element, lang, body string) (string, bool) {
			return removeSection(t, body, e.Headings[lang]), true
		}},
		{"section emptied", func(t *testing.T, e Element, lang, body string) (string, bool) {
			return editSection(t, body, e.Headings[lang], func(string) string { return "\n" }), true
		}},
		{"placeholder removed", func(t *testing.T, e Element, lang, body string) (string, bool) {
			if len(e.Placeholders) == 0 {
				return "", false
			}
			return editSection(t, body, e.Headings[lang], func(s string) string {
				return strings.ReplaceAll(s, "{{."+e.Placeholders[len(e.Placeholders)-1]+"}}", "")
			}), true
		}},
		{"keyword removed", func(t *testing.T, e Element, lang, body string) (string, bool) {
			if len(e.Keywords[lang]) == 0 {
				return "", false
			}
			re := regexp.MustCompile("(?i)" + regexp.QuoteMeta(e.Keywords[lang][0]))
			return editSection(t, body, e.Headings[lang], func(s string) string { return re.ReplaceAllString(s, "…") }), true
		}},
	}
	for lang := range Languages {
		for _, e := range Elements {
			for _, m := range mutations {
				body, ok := m.edit(t, e, lang, defaultBody(t, lang))
				if !ok {
					continue // the element has no placeholder or keyword to remove
				}
				t.Run(lang+"/"+e.Key+"/"+m.name, func(t *testing.T) {
					if body == defaultBody(t, lang) {
						t.Fatal("mutation changed nothing")
					}
					got := Validate(body)
					if len(got) != 1 || got[0].Element != e.Name {
						t.Fatalf("Validate = %+v, want only %q", got, e.Name)
					}
					if !strings.Contains(got[0].Explanation, e.Headings[lang]) || !strings.Contains(got[0].Explanation, e.Rule) {
						t.Errorf("explanation %q should name the heading and the rule", got[0].Explanation)
					}
				})
			}
		}
	}
}

func TestValidateEmptyBodyListsEverything(t *testing.T) {
	got := Validate("")
	if len(got) != len(Elements) {
		t.Fatalf("got %d missing, want %d", len(got), len(Elements))
	}
	if want := "Add a section headed “## Right to revoke” or “## Derecho a revocar”"; !strings.Contains(got[7].Explanation, want) {
		t.Errorf("explanation %q lacks %q", got[7].Explanation, want)
	}
}

func TestValidateAcceptsSpacingAndCase(t *testing.T) {
	body := strings.ReplaceAll(defaultBody(t, "en"), "## Right to revoke", "##   RIGHT TO  revoke")
	body = strings.ReplaceAll(body, "{{.RevokeURL}}", "{{ .RevokeURL }}")
	if m := Validate(strings.ReplaceAll(body, "\n", "\r\n")); len(m) > 0 {
		t.Errorf("Validate: %+v", m)
	}
}

func TestRenderSpanish(t *testing.T) {
	tpl := &models.ConsentTemplate{Language: "es", Version: 1, Body: defaultBody(t, "es")}
	data := FormData{
		OrganisationName: "Hospital Señora de la Peña",
		PatientName:      "José Nu\u0301n\u0303ez", // NFD on purpose
		StoryTitle:       "Mi recuperación",
		Channels:         List{"Sitio web", "Facebook"},
		MediaList:        List{"Foto: José en el jardín"},
		NameUsage:        NameUsageText("es", "first_name"),
		ExpiresOn:        FormatDate("es", time.Date(2027, 12, 31, 0, 0, 0, 0, time.UTC)),
		RevokeURL:        RevokeHowText("es"),
	}
	text, sum, err := Render(tpl, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"José Núñez", "Hospital Señora de la Peña", "«Mi recuperación»", "- Sitio web\n- Facebook",
		"31 de diciembre de 2027", "solo su nombre de pila", "## Qué se compartirá", "el enlace personal para revocar",
		"El paciente firma este formulario"} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered text lacks %q", want)
		}
	}
	if sum != TextSHA256(text) || len(sum) != 64 {
		t.Errorf("hash %s does not match the text", sum)
	}
	data.Representative = "Ana López (madre; madre de un menor)"
	text2, sum2, _ := Render(tpl, data)
	if sum2 == sum || !strings.Contains(text2, "lo firma por el paciente Ana López (madre; madre de un menor)") {
		t.Errorf("representative not rendered:\n%s", text2)
	}
}

func TestRenderRejectsUnknownPlaceholder(t *testing.T) {
	_, _, err := Render(&models.ConsentTemplate{Body: "Hello {{.Nickname}}"}, FormData{})
	if err == nil {
		t.Fatal("unknown placeholder rendered")
	}
}

func newService(t *testing.T) (*Templates, context.Context) {
	gdb, _ := dbtest.Open(t)
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: "user-1", Label: "admin@example.org"})
	return NewTemplates(gdb, audit.New(gdb)), ctx
}

func TestEnsureDefaults(t *testing.T) {
	s, ctx := newService(t)
	for range 2 {
		if err := s.EnsureDefaults(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for lang := range Languages {
		list, err := s.List(ctx, lang)
		if err != nil || len(list) != 1 {
			t.Fatalf("%s: %d templates, %v", lang, len(list), err)
		}
		active, err := s.Active(ctx, lang)
		if err != nil || active.Version != 1 || active.ActivatedAt == nil || active.TextSHA256 != TextSHA256(defaultBody(t, lang)) {
			t.Errorf("%s: active = %+v, %v", lang, active, err)
		}
	}
}

func TestActivationRefusedWithList(t *testing.T) {
	s, ctx := newService(t)
	body := editSection(t, defaultBody(t, "en"), "Right to revoke", func(string) string { return "Call us.\n" })
	body = strings.Replace(body, "## Others may share it again", "## Other things", 1)
	draft, err := s.CreateDraft(ctx, TemplateInput{Name: "Short form", Language: "en", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Activate(ctx, draft.ID)
	var nr *NotReadyError
	if !errors.As(err, &nr) {
		t.Fatalf("Activate = %v, want NotReadyError", err)
	}
	var names []string
	for _, m := range nr.Missing {
		names = append(names, m.Element)
	}
	if strings.Join(names, ",") != "Right to revoke,Redisclosure" {
		t.Errorf("missing = %v", names)
	}
	if got, _ := s.Get(ctx, draft.ID); got.Status != models.TemplateDraft {
		t.Errorf("status = %s", got.Status)
	}
}

func TestActivationRefusesHiddenOrWrongLanguage(t *testing.T) {
	s, ctx := newService(t)
	tests := []struct {
		name, lang, body, want string
	}{
		{"revoke link hidden", "en", strings.Replace(defaultBody(t, "en"), "{{.RevokeURL}}", "{{if false}}{{.RevokeURL}}{{end}}", 1), "Right to revoke"},
		{"spanish text as english", "en", defaultBody(t, "es"), "Description of the information"},
		{"bad syntax", "en", defaultBody(t, "en") + "{{if}}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			draft, err := s.CreateDraft(ctx, TemplateInput{Name: tt.name, Language: tt.lang, Body: tt.body})
			if tt.want == "" {
				var fe FieldErrors
				if !errors.As(err, &fe) || fe["body"] == "" {
					t.Fatalf("CreateDraft = %v, want a body field error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Activate(ctx, draft.ID)
			var nr *NotReadyError
			if !errors.As(err, &nr) || nr.Missing[0].Element != tt.want {
				t.Fatalf("Activate = %v, want %q first", err, tt.want)
			}
		})
	}
}

func TestVersionsIncrementAndActivationRetires(t *testing.T) {
	s, ctx := newService(t)
	if err := s.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	v1, _ := s.Active(ctx, "en")
	v2, err := s.NewVersion(ctx, v1.ID)
	if err != nil || v2.Version != 2 || v2.Status != models.TemplateDraft || v2.Body != v1.Body || v2.CreatedBy != "user-1" {
		t.Fatalf("NewVersion = %+v, %v", v2, err)
	}
	if _, err := s.UpdateDraft(ctx, v1.ID, TemplateInput{Name: "x", Body: v1.Body}); !errors.Is(err, ErrNotDraft) {
		t.Errorf("UpdateDraft(active) = %v, want ErrNotDraft", err)
	}
	edited := strings.Replace(v2.Body, "You can say no.", "You can always say no.", 1)
	v2, err = s.UpdateDraft(ctx, v2.ID, TemplateInput{Name: "Revised", Body: strings.ReplaceAll(edited, "\n", "\r\n")})
	if err != nil || v2.TextSHA256 == v1.TextSHA256 || strings.Contains(v2.Body, "\r") {
		t.Fatalf("UpdateDraft = %+v, %v", v2, err)
	}
	if _, err := s.Activate(ctx, v2.ID); err != nil {
		t.Fatal(err)
	}
	v3, _ := s.NewVersion(ctx, v1.ID)
	if v3.Version != 3 {
		t.Errorf("third version numbered %d", v3.Version)
	}
	if active, _ := s.Active(ctx, "en"); active.ID != v2.ID {
		t.Errorf("active is v%d, want v2", active.Version)
	}
	if old, _ := s.Get(ctx, v1.ID); old.Status != models.TemplateRetired || old.RetiredAt == nil {
		t.Errorf("v1 = %s, want retired", old.Status)
	}
	if es, _ := s.Active(ctx, "es"); es.Version != 1 {
		t.Errorf("activating English touched Spanish")
	}
	if _, err := s.Activate(ctx, v2.ID); !errors.Is(err, ErrNotDraft) {
		t.Errorf("re-activate = %v, want ErrNotDraft", err)
	}
	log := audit.New(s.db)
	if _, err := log.Link(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := log.Verify(ctx)
	if err != nil || rep.Broken != nil || rep.Checked < 7 {
		t.Errorf("audit: %+v, %v", rep, err)
	}
}

func TestCreateDraftFieldErrors(t *testing.T) {
	s, ctx := newService(t)
	_, err := s.CreateDraft(ctx, TemplateInput{Name: " ", Language: "fr", Body: ""})
	var fe FieldErrors
	if !errors.As(err, &fe) || fe["name"] == "" || fe["language"] == "" || fe["body"] == "" {
		t.Fatalf("CreateDraft = %v", err)
	}
}

func TestRulesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/consent-templates.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range Elements {
		for _, want := range append([]string{e.Name, e.Rule, e.Headings["en"], e.Headings["es"]}, e.Placeholders...) {
			if !strings.Contains(string(doc), want) {
				t.Errorf("docs/consent-templates.md does not mention %q (element %s)", want, e.Key)
			}
		}
		for _, kws := range e.Keywords {
			for _, k := range kws {
				if !strings.Contains(string(doc), k) {
					t.Errorf("docs/consent-templates.md does not mention keyword %q", k)
				}
			}
		}
	}
}
