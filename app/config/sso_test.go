package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSSOSettings(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "oidc")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	c, err := Load(nil, getenv(map[string]string{
		"STORYKEEP_OIDC_ISSUER":             "https://login.example.org/tenant/v2.0",
		"STORYKEEP_OIDC_CLIENT_ID":          "storykeep",
		"STORYKEEP_OIDC_CLIENT_SECRET_FILE": secret,
		"STORYKEEP_OIDC_SCOPES":             "email, openid profile,groups",
		"STORYKEEP_OIDC_ROLE_MAP":           "sk-admins=admin, a=b=storyteller",
		"STORYKEEP_LOCAL_PASSWORDS":         "false",
		"STORYKEEP_BREAK_GLASS_EMAIL":       " Admin@Hospital.org ",
	}))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := c.RoleMap()
	if !c.SSOEnabled() || c.OIDCClientSecret != "s3cret" || strings.Join(c.Scopes(), " ") != "openid email profile groups" ||
		m["sk-admins"] != "admin" || m["a=b"] != "storyteller" || c.BreakGlassEmail != "admin@hospital.org" || c.LocalPasswords {
		t.Fatalf("%+v %v", c, m)
	}
	if r := c.Redacted(); !strings.Contains(strings.Join(r, "\n"), "STORYKEEP_OIDC_CLIENT_SECRET=(set, redacted)") {
		t.Fatal("the client secret must be redacted")
	}
	if d, _ := Load(nil, getenv(nil)); d.SSOEnabled() || !d.LocalPasswords || d.InviteLinkHours != 72 || d.ResetLinkMinutes != 60 {
		t.Fatalf("defaults: %+v", d)
	}
	for env, want := range map[string]map[string]string{
		"STORYKEEP_LOCAL_PASSWORDS=false needs single sign-on":  {"STORYKEEP_LOCAL_PASSWORDS": "false"},
		"needs STORYKEEP_BREAK_GLASS_EMAIL":                     {"STORYKEEP_LOCAL_PASSWORDS": "false", "STORYKEEP_OIDC_ISSUER": "https://x.example", "STORYKEEP_OIDC_CLIENT_ID": "c", "STORYKEEP_OIDC_ROLE_MAP": "g=admin"},
		"STORYKEEP_OIDC_CLIENT_ID is needed":                    {"STORYKEEP_OIDC_ISSUER": "https://x.example"},
		"STORYKEEP_OIDC_ISSUER: \"x.example\" must be":          {"STORYKEEP_OIDC_ISSUER": "x.example", "STORYKEEP_OIDC_CLIENT_ID": "c"},
		"STORYKEEP_OIDC_ROLE_MAP: name at least one":            {"STORYKEEP_OIDC_ISSUER": "https://x.example", "STORYKEEP_OIDC_CLIENT_ID": "c"},
		"STORYKEEP_OIDC_ROLE_MAP: \"admins\" is not group=role": {"STORYKEEP_OIDC_ISSUER": "https://x.example", "STORYKEEP_OIDC_CLIENT_ID": "c", "STORYKEEP_OIDC_ROLE_MAP": "admins"},
	} {
		if _, err := Load(nil, getenv(want)); err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("%v: want %q, got %v", want, env, err)
		}
	}
}
