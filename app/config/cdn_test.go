package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCDNDefaultsOff(t *testing.T) {
	c, err := Load(nil, getenv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.CDN.On() || c.CDN.Provider != "none" || c.CDN.SMaxAge != time.Minute || c.CDN.PurgeMethod != "POST" {
		t.Fatalf("CDN defaults: %+v", c.CDN)
	}
}

// TestCDNSettings: each provider needs its id and token (or URL), the
// token may come from a file, and the token is redacted.
func TestCDNSettings(t *testing.T) {
	tok := filepath.Join(t.TempDir(), "cdn-token")
	os.WriteFile(tok, []byte("from-file\n"), 0o600)
	c, err := Load(nil, getenv(map[string]string{"STORYKEEP_CDN_PROVIDER": "cloudflare", "STORYKEEP_CDN_ZONE_ID": "z1",
		"STORYKEEP_CDN_API_TOKEN_FILE": tok, "STORYKEEP_CDN_API_BASE": "http://127.0.0.1:9/client/v4/", "STORYKEEP_CDN_S_MAXAGE": "5m"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.CDN.On() || c.CDN.APIToken != "from-file" || c.CDN.ZoneID != "z1" || c.CDN.APIBase != "http://127.0.0.1:9/client/v4" || c.CDN.SMaxAge != 5*time.Minute {
		t.Fatalf("%+v", c.CDN)
	}
	if r := strings.Join(c.Redacted(), "\n"); strings.Contains(r, "from-file") || !strings.Contains(r, "STORYKEEP_CDN_API_TOKEN=(set, redacted)") {
		t.Fatalf("token not redacted:\n%s", r)
	}
	if c, err := Load(nil, getenv(map[string]string{"STORYKEEP_CDN_S_MAXAGE": "0s"})); err != nil || c.CDN.SMaxAge != 0 {
		t.Fatalf("s-maxage 0: %v", err)
	}
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"STORYKEEP_CDN_PROVIDER": "akamai"}, "STORYKEEP_CDN_PROVIDER"},
		{map[string]string{"STORYKEEP_CDN_PROVIDER": "cloudflare", "STORYKEEP_CDN_API_TOKEN": "t"}, "STORYKEEP_CDN_ZONE_ID"},
		{map[string]string{"STORYKEEP_CDN_PROVIDER": "cloudflare", "STORYKEEP_CDN_ZONE_ID": "z"}, "STORYKEEP_CDN_API_TOKEN"},
		{map[string]string{"STORYKEEP_CDN_PROVIDER": "fastly", "STORYKEEP_CDN_API_TOKEN": "t"}, "STORYKEEP_CDN_SERVICE_ID"},
		{map[string]string{"STORYKEEP_CDN_PROVIDER": "fastly", "STORYKEEP_CDN_SERVICE_ID": "s"}, "STORYKEEP_CDN_API_TOKEN"},
		{map[string]string{"STORYKEEP_CDN_PROVIDER": "generic"}, "STORYKEEP_CDN_PURGE_URL"},
		{map[string]string{"STORYKEEP_CDN_PROVIDER": "generic", "STORYKEEP_CDN_PURGE_URL": "purge.example.org"}, "STORYKEEP_CDN_PURGE_URL"},
		{map[string]string{"STORYKEEP_CDN_PURGE_METHOD": "DELETE"}, "STORYKEEP_CDN_PURGE_METHOD"},
		{map[string]string{"STORYKEEP_CDN_API_BASE": "ftp://x"}, "STORYKEEP_CDN_API_BASE"},
		{map[string]string{"STORYKEEP_CDN_S_MAXAGE": "-1s"}, "STORYKEEP_CDN_S_MAXAGE"},
		{map[string]string{"STORYKEEP_CDN_API_TOKEN_FILE": "/nonexistent/file"}, "STORYKEEP_CDN_API_TOKEN_FILE"},
	}
	for _, k := range cases {
		if _, err := Load(nil, getenv(k.env)); err == nil || !strings.Contains(err.Error(), k.want) {
			t.Errorf("%v: want an error naming %s, got %v", k.env, k.want, err)
		}
	}
	if !Known("STORYKEEP_CDN_API_TOKEN_FILE") || Known("STORYKEEP_CDN_ZONE_ID_FILE") {
		t.Fatal("only the token is a secret with a _FILE form")
	}
}
