package e2e

import (
	"testing"

	"github.com/storykeep/storykeep/app/sso"
	"github.com/storykeep/storykeep/app/sso/ssotest"
)

// TestSSOCodeFlowInChromium (issue 25): a person signs in with the hospital's
// identity provider (zitadel's OP, run by the test on 127.0.0.1) in a real
// browser: the button on Storykeep's sign-in page, the provider's own login
// page, and back to Storykeep signed in with the role their group maps to.
func TestSSOCodeFlowInChromium(t *testing.T) {
	t.Parallel()
	op := ssotest.Start(t, "http://127.0.0.1/placeholder")
	op.AddUser("sub-ana", "ana", "ana@hospital.example", "Ana", "Writer", "sk-writers")
	srv := StartServer(t,
		"STORYKEEP_OIDC_ISSUER="+op.URL,
		"STORYKEEP_OIDC_CLIENT_ID="+ssotest.ClientID,
		"STORYKEEP_OIDC_CLIENT_SECRET="+ssotest.ClientSecret,
		"STORYKEEP_OIDC_PROVIDER_NAME=Hospital ID",
		"STORYKEEP_OIDC_ROLE_MAP=sk-writers=storyteller,sk-admins=admin",
	)
	op.AllowRedirect(srv.URL + sso.CallbackPath)
	b := NewBrowser(t, srv.URL)
	p := b.NewPage("sso")
	p.Open("/login")
	if btn := p.Text(`a#sso`); btn != "Sign in with Hospital ID" {
		t.Fatalf("sign-in button %q", btn)
	}
	p.CheckA11y()
	p.Click(`a#sso`)
	if h := Eval[string](p, `location.origin`); h != op.URL {
		t.Fatalf("the button did not lead to the provider: on %s", h)
	}
	p.Type("#username", "ana")
	p.Type("#password", ssotest.Password)
	p.Click(`form button[type=submit]`)
	p.WantPath("/")
	if h := p.Heading(); h != "Welcome, Ana Writer" {
		t.Fatalf("dashboard heading %q", h)
	}
	if r := p.Text("main p.muted"); r != "You are signed in as Storyteller." {
		t.Errorf("role line %q", r)
	}
	p.Screenshot("sso-signed-in")
}
