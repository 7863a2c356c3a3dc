package sso

import (
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/config"
)

func TestRoleMapping(t *testing.T) {
	cfg := &config.Config{OIDCIssuer: "https://idp.example", OIDCClientID: "c", OIDCGroupsClaim: "groups", PublicURL: "https://stories.example",
		OIDCRoleMap: "writers=storyteller,legal=reviewer,it=admin,comms=publisher"}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for groups, want := range map[string]string{"writers": "storyteller", "writers legal": "reviewer", "legal comms": "publisher", "comms it writers": "admin", "cafeteria": "", "": ""} {
		got, ok := c.Role(strings.Fields(groups))
		if got != want || ok != (want != "") {
			t.Errorf("%q: got %q %v, want %q", groups, got, ok, want)
		}
	}
	cfg.OIDCRoleMap = "writers=king"
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), `"king", which is not a role`) {
		t.Fatalf("unknown role accepted: %v", err)
	}
	if c.LogoutURL("tok", "https://stories.example/login") != "" {
		t.Fatal("no end_session_endpoint known: no provider logout")
	}
	if c, _ := New(&config.Config{}); c != nil {
		t.Fatal("SSO off: no client")
	}
}
