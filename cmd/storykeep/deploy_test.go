package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Environment map[string]string `yaml:"environment"`
		Healthcheck struct {
			Test any `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestComposeValidates runs a real Compose implementation over the file
// (Debian's docker-compose, which `make test` installs; no engine needed).
func TestComposeValidates(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		msg := "docker-compose not installed (apt-get install -y docker-compose): compose file not validated"
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cmd := exec.Command(bin, "-f", "docker-compose.yml", "config", "-q")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
}

var pinnedTag = regexp.MustCompile(`^[a-z0-9./_-]+:v?[0-9]+(\.[0-9]+)*(-[a-z0-9]+)?$`)

// TestF1ComposeDeploymentStarts: every image is pinned to a version tag (no
// latest, no MinIO images, which are no longer published); Mailpit receives
// the mail; PostgreSQL is healthy only once it answers over TCP; the
// replicas share one data key.
func TestF1ComposeDeploymentStarts(t *testing.T) {
	c := readCompose(t)
	keys := map[string]bool{}
	for name, svc := range c.Services {
		if svc.Build != nil {
			continue // the Storykeep image, built here
		}
		if !pinnedTag.MatchString(svc.Image) {
			t.Errorf("service %s: image %q is not pinned to a version tag", name, svc.Image)
		}
		if strings.Contains(svc.Image, "minio/") {
			t.Errorf("service %s: %s is no longer published", name, svc.Image)
		}
	}
	for name, svc := range c.Services {
		if !strings.HasPrefix(name, "storykeep") {
			continue
		}
		env := svc.Environment
		if env["STORYKEEP_MAIL_MODE"] != "smtp" || env["STORYKEEP_SMTP_FROM"] == "" || env["STORYKEEP_SMTP_TLS"] != "none" {
			t.Errorf("%s does not send mail over SMTP: %v", name, env)
		}
		if !strings.HasPrefix(c.Services[env["STORYKEEP_SMTP_HOST"]].Image, "axllent/mailpit:") || env["STORYKEEP_SMTP_PORT"] != "1025" {
			t.Errorf("%s: SMTP host %q:%s is not the Mailpit service", name, env["STORYKEEP_SMTP_HOST"], env["STORYKEEP_SMTP_PORT"])
		}
		keys[env["STORYKEEP_ENCRYPTION_KEYS_FILE"]] = true
	}
	if len(keys) != 1 || keys[""] {
		t.Errorf("replicas must read one shared data key file, read %v", keys)
	}
	hc := strings.Join(toStrings(c.Services["postgres"].Healthcheck.Test), " ")
	if !strings.Contains(hc, "-h 127.0.0.1") {
		t.Errorf("PostgreSQL healthcheck %q does not go over TCP", hc)
	}
}

func toStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, toStrings(x)...)
		}
		return out
	}
	return nil
}

// TestF7ImageRunsNonRootWithMediaTools: the image keeps local state and
// secrets out of its build context, runs as a non-root user with a /data it
// owns (SQLite mode writes there), and has ffmpeg and heif-convert.
func TestF7ImageRunsNonRootWithMediaTools(t *testing.T) {
	ignore, err := os.ReadFile(filepath.Join("..", "..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(ignore), "\n") {
		lines[strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(l), "/"), "/")] = true
	}
	for _, p := range []string{"data", "secrets", ".git"} {
		if !lines[p] {
			t.Errorf(".dockerignore does not exclude %s", p)
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	final := df[strings.LastIndex(df, "\nFROM "):]
	for _, want := range []string{"ffmpeg", "libheif-examples", "USER 65532", "-o 65532 -g 65532", "/data"} {
		if !strings.Contains(final, want) {
			t.Errorf("the final image stage lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?m)^USER (root|0)\b`).MatchString(final) {
		t.Error("the image runs as root")
	}
}
