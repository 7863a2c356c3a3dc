package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsNeedNoSetup(t *testing.T) {
	c, err := Load(nil, getenv(nil))
	if err != nil {
		t.Fatal(err)
	}
	db, _ := c.Database()
	if c.ListenAddr != "127.0.0.1:8080" || db.Driver != "sqlite" || db.DSN != "./data/storykeep.db" || c.MediaDir != "./data/media" || c.MediaBackend != "local" || c.CookieSecure {
		t.Fatalf("defaults: %+v %+v", c, db)
	}
}

func TestPrecedenceEnvThenFlagsAndFileSecrets(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "s3secret")
	os.WriteFile(secret, []byte("from-file\n"), 0o600)
	env := map[string]string{
		"STORYKEEP_LISTEN":             "0.0.0.0:9000",
		"STORYKEEP_SESSION_LIFETIME":   "2h",
		"STORYKEEP_S3_SECRET_KEY_FILE": secret,
		"STORYKEEP_PUBLIC_URL":         "https://stories.example.org/",
		"STORYKEEP_DATABASE_URL":       "postgres://u:p@db/storykeep",
	}
	c, err := Load([]string{"--listen", "127.0.0.1:7000"}, getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	db, _ := c.Database()
	if c.ListenAddr != "127.0.0.1:7000" || c.SessionLifetime != 2*time.Hour || c.S3SecretKey != "from-file" || !c.CookieSecure || c.PublicURL != "https://stories.example.org" || db.Driver != "postgres" {
		t.Fatalf("%+v", c)
	}
}

func TestValidationNamesTheSetting(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"STORYKEEP_LISTEN": "8080"}, nil, "STORYKEEP_LISTEN"},
		{map[string]string{"STORYKEEP_PUBLIC_URL": "stories.example.org"}, nil, "STORYKEEP_PUBLIC_URL"},
		{map[string]string{"STORYKEEP_SESSION_LIFETIME": "forever"}, nil, "STORYKEEP_SESSION_LIFETIME"},
		{map[string]string{"STORYKEEP_SESSION_IDLE_TIMEOUT": "24h"}, nil, "STORYKEEP_SESSION_IDLE_TIMEOUT"},
		{map[string]string{"STORYKEEP_S3_TLS": "maybe"}, nil, "STORYKEEP_S3_TLS"},
		{map[string]string{"STORYKEEP_LOGIN_MAX_FAILURES": "0"}, nil, "STORYKEEP_LOGIN_MAX_FAILURES"},
		{map[string]string{"STORYKEEP_MEDIA_BACKEND": "s3"}, nil, "STORYKEEP_S3_ENDPOINT"},
		{map[string]string{"STORYKEEP_MEDIA_BACKEND": "ftp"}, nil, "STORYKEEP_MEDIA_BACKEND"},
		{map[string]string{"STORYKEEP_DATABASE_URL": "mysql://x"}, nil, "STORYKEEP_DATABASE_URL"},
		{map[string]string{"STORYKEEP_COOKIE_SECURE": "yes"}, nil, "STORYKEEP_COOKIE_SECURE"},
		{map[string]string{"STORYKEEP_LOG_LEVEL": "loud"}, nil, "STORYKEEP_LOG_LEVEL"},
		{map[string]string{"STORYKEEP_METRICS_TOKEN_FILE": "/nonexistent/file"}, nil, "STORYKEEP_METRICS_TOKEN_FILE"},
		{nil, []string{"--no-such-flag"}, "no-such-flag"},
		{nil, []string{"stray"}, "unexpected argument"},
	}
	for _, c := range cases {
		_, err := Load(c.args, getenv(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: want error naming %s, got %v", c.env, c.args, c.want, err)
		}
	}
}

func TestKnown(t *testing.T) {
	for _, k := range []string{"STORYKEEP_DATABASE_URL", "STORYKEEP_DATABASE_URL_FILE", "STORYKEEP_LISTEN"} {
		if !Known(k) {
			t.Errorf("%s should be known", k)
		}
	}
	for _, k := range []string{"STORYKEEP_LISTEN_FILE", "STORYKEEP_NOPE"} {
		if Known(k) {
			t.Errorf("%s should not be known", k)
		}
	}
}

// TestF4PublicURLFollowsListen: with only the port changed, the printed
// sign-in URL and the links in emails point at the server that is listening.
func TestF4PublicURLFollowsListen(t *testing.T) {
	for listen, want := range map[string]string{
		"":                "http://127.0.0.1:8080",
		"127.0.0.1:18001": "http://127.0.0.1:18001",
		"0.0.0.0:9000":    "http://127.0.0.1:9000",
		"[::]:9000":       "http://127.0.0.1:9000",
		"[::1]:9000":      "http://[::1]:9000",
		"localhost:7000":  "http://localhost:7000",
	} {
		c, err := Load(nil, getenv(map[string]string{"STORYKEEP_LISTEN": listen}))
		if err != nil {
			t.Fatal(err)
		}
		if c.PublicURL != want {
			t.Errorf("listen %q: public URL %q, want %q", listen, c.PublicURL, want)
		}
	}
	// Set explicitly, by environment or flag, it wins.
	c, err := Load([]string{"--listen", "0.0.0.0:9000"}, getenv(map[string]string{"STORYKEEP_PUBLIC_URL": "https://stories.example.org"}))
	if err != nil || c.PublicURL != "https://stories.example.org" {
		t.Fatalf("%v %q", err, c.PublicURL)
	}
	c, err = Load([]string{"--listen", "0.0.0.0:9000", "--public-url", "https://x.example.org"}, getenv(nil))
	if err != nil || c.PublicURL != "https://x.example.org" {
		t.Fatalf("%v %q", err, c.PublicURL)
	}
}
