package main

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/storykeep/storykeep/app/config"
)

// TestComposeUsesOnlyKnownSettings parses docker-compose.yml (no Docker engine
// runs here) and checks every STORYKEEP_* variable it sets is one the config
// reads, so a renamed setting cannot silently stop working in deployment.
func TestComposeUsesOnlyKnownSettings(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
			Secrets     []string          `yaml:"secrets"`
		} `yaml:"services"`
		Secrets map[string]any `yaml:"secrets"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	replicas := 0
	for name, svc := range doc.Services {
		if strings.HasPrefix(name, "storykeep") {
			replicas++
		}
		for k, v := range svc.Environment {
			if strings.HasPrefix(k, "STORYKEEP_") && !config.Known(k) {
				t.Errorf("service %s sets %s, which Storykeep does not read", name, k)
			}
			if strings.HasSuffix(k, "_FILE") && strings.HasPrefix(v, "/run/secrets/") {
				sec := strings.TrimPrefix(v, "/run/secrets/")
				if _, ok := doc.Secrets[sec]; !ok {
					t.Errorf("service %s reads secret %s that is not declared", name, sec)
				}
			}
		}
		for _, s := range svc.Secrets {
			if _, ok := doc.Secrets[s]; !ok {
				t.Errorf("service %s uses undeclared secret %s", name, s)
			}
		}
	}
	if replicas < 2 {
		t.Errorf("compose should run at least two Storykeep replicas, has %d", replicas)
	}
	for _, svc := range []string{"postgres", "s3", "mail", "proxy"} {
		if _, ok := doc.Services[svc]; !ok {
			t.Errorf("compose lacks the %s service", svc)
		}
	}
}

// TestReadmeDocumentsEverySetting keeps the README's configuration table
// complete.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range config.Settings {
		if !strings.Contains(string(b), "| `"+s.Env+"` |") {
			t.Errorf("README.md does not document %s", s.Env)
		}
	}
}
