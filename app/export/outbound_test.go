package export_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/storykeep/storykeep/app/apptest"
	"github.com/storykeep/storykeep/app/audit"
	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/models"
)

// TestF16InternalChannelURLsRefused: without an allow-list, channel URLs on
// loopback, private, link-local and metadata addresses are refused when
// saved; a host an admin allowed by name is accepted.
func TestF16InternalChannelURLsRefused(t *testing.T) {
	env := apptest.New(t, func(c *config.Config) { c.OutboundAllowHosts = "" })
	ctx := audit.WithActor(context.Background(), audit.System)
	for _, u := range []string{"http://127.0.0.1:18150/hook", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/", "http://192.168.1.1/",
		"http://172.16.0.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://localhost/", "http://100.64.0.1/", "http://[fd00:ec2::254]/"} {
		err := env.App.Export.SaveAccount(ctx, "admin", "linkedin", export.AccountInput{Method: models.MethodWebhook, URL: u, Secret: "whsec", Enabled: true})
		var fe export.FieldErrors
		if !errors.As(err, &fe) || !strings.Contains(fe["url"], "does not send to this address") {
			t.Errorf("%s: saved or wrong error: %v", u, err)
		}
	}
	allowed := apptest.New(t, func(c *config.Config) { c.OutboundAllowHosts = "mastodon.hospital.internal, 127.0.0.1" })
	if err := allowed.App.Export.SaveAccount(ctx, "admin", "linkedin", export.AccountInput{Method: models.MethodWebhook, URL: "http://127.0.0.1:18150/hook", Secret: "whsec", Enabled: true}); err != nil {
		t.Fatalf("an allowed host was refused: %v", err)
	}
}

// TestF16ConnectTimeCheck: the check runs again on every connection, after
// DNS resolution: a name resolving to loopback and a redirect from an
// allowed host to an internal address are both refused.
func TestF16ConnectTimeCheck(t *testing.T) {
	hits := 0
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://127.0.0.1:"+r.Host[strings.LastIndex(r.Host, ":")+1:]+"/secret", http.StatusFound)
			return
		}
		hits++
		w.Write([]byte("aws_key=secret"))
	}))
	defer internal.Close()
	port := internal.URL[strings.LastIndex(internal.URL, ":")+1:]

	hc := export.NewOutbound(nil).Client(0)
	for _, u := range []string{internal.URL + "/x", "http://localhost:" + port + "/x"} {
		if _, err := hc.Get(u); !errors.Is(err, export.ErrInternalAddress) {
			t.Errorf("GET %s: %v, want ErrInternalAddress", u, err)
		}
	}
	// localhost allowed by name; its redirect to 127.0.0.1 is not.
	hc = export.NewOutbound([]string{"localhost"}).Client(0)
	if _, err := hc.Get("http://localhost:" + port + "/redirect"); !errors.Is(err, export.ErrInternalAddress) {
		t.Errorf("redirect to an internal address: %v", err)
	}
	if hits != 0 {
		t.Fatalf("the internal server was reached %d times", hits)
	}
	res, err := export.NewOutbound([]string{"127.0.0.1"}).Client(0).Get(internal.URL + "/x")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("an allowed host: %v %v", res, err)
	}
	res.Body.Close()
}

// TestF16NewURLNeedsSecretAgain: changing a channel's URL with the secret
// field left empty is refused, so a stored token never goes to a new host.
func TestF16NewURLNeedsSecretAgain(t *testing.T) {
	env := apptest.New(t)
	ctx := audit.WithActor(context.Background(), audit.System)
	save := func(u, secret string) error {
		return env.App.Export.SaveAccount(ctx, "admin", "linkedin", export.AccountInput{Method: models.MethodWebhook, URL: u, Secret: secret, Enabled: true})
	}
	if err := save("http://127.0.0.1:9/a", "whsec"); err != nil {
		t.Fatal(err)
	}
	if err := save("http://127.0.0.1:9/a", ""); err != nil {
		t.Fatalf("same URL, secret kept: %v", err)
	}
	var fe export.FieldErrors
	if err := save("http://127.0.0.1:9/b", ""); !errors.As(err, &fe) || !strings.Contains(fe["secret"], "enter the secret again") {
		t.Fatalf("a new URL kept the stored secret: %v", err)
	}
	if err := save("http://127.0.0.1:9/b", "whsec2"); err != nil {
		t.Fatal(err)
	}
}
