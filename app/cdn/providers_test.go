package cdn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/cdn"
	"github.com/storykeep/storykeep/app/cdn/cdntest"
	"github.com/storykeep/storykeep/app/export"
	"github.com/storykeep/storykeep/app/jobs"
)

func client(allow ...string) *http.Client { return export.NewOutbound(allow).Client(10 * time.Second) }

func manyURLs(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("https://stories.example.org/p/s/img/a/%03d", i))
	}
	return out
}

func noProblems(t *testing.T, s *cdntest.Server) {
	t.Helper()
	if p := s.Problems(); len(p) > 0 {
		t.Fatalf("requests broke the API's rules: %q", p)
	}
}

// TestCloudflareWire: files go in batches of at most 30, prefixes after,
// each a POST to /zones/{zone}/purge_cache with the bearer token and JSON.
func TestCloudflareWire(t *testing.T) {
	srv := cdntest.NewCloudflare(t, "zone123", "cf-token")
	p := &cdn.Cloudflare{Base: srv.Base, ZoneID: "zone123", Token: "cf-token", Client: client("127.0.0.1")}
	urls := manyURLs(65)
	if err := p.Purge(context.Background(), cdn.Request{URLs: urls, Keys: []string{"ignored"}, Prefixes: []string{"stories.example.org/p/s"}}); err != nil {
		t.Fatal(err)
	}
	noProblems(t, srv)
	calls := srv.Calls()
	var sizes []int
	for _, c := range calls {
		var body map[string][]string
		if err := json.Unmarshal([]byte(c.Body), &body); err != nil {
			t.Fatal(err)
		}
		for _, v := range body {
			sizes = append(sizes, len(v))
		}
		if c.Method != "POST" || c.Header.Get("Authorization") != "Bearer cf-token" || c.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("call %+v", c)
		}
	}
	if !slices.Equal(sizes, []int{30, 30, 5, 1}) {
		t.Fatalf("batch sizes %v, want 30, 30, 5 files then 1 prefix", sizes)
	}
	got, _, prefixes := srv.Purged()
	slices.Sort(urls)
	if !slices.Equal(got, urls) || !slices.Equal(prefixes, []string{"stories.example.org/p/s"}) {
		t.Fatalf("purged %d urls, prefixes %v", len(got), prefixes)
	}

	// A wrong token: Cloudflare's 403 with its error code, as an APIError.
	bad := &cdn.Cloudflare{Base: srv.Base, ZoneID: "zone123", Token: "wrong", Client: client("127.0.0.1")}
	err := bad.Purge(context.Background(), cdn.Request{URLs: urls[:1]})
	var ae *cdn.APIError
	if !errors.As(err, &ae) || ae.Status != 403 || !strings.Contains(ae.Msg, "10000 Authentication error") {
		t.Fatalf("wrong token: %v", err)
	}
	// A 503 page (HTML) is an error too, never a success.
	srv.FailNext(503)
	if err := p.Purge(context.Background(), cdn.Request{URLs: urls[:1]}); !errors.As(err, &ae) || ae.Status != 503 {
		t.Fatalf("503: %v", err)
	}
	// 429 with Retry-After waits as long as asked.
	srv.FailNext(429)
	err = p.Purge(context.Background(), cdn.Request{URLs: urls[:1]})
	if !errors.As(err, &ae) || ae.Status != 429 {
		t.Fatalf("429: %v", err)
	}
}

// TestFastlyWire: surrogate keys in batches of 256 in the Surrogate-Key
// header, with Fastly-Key, to /service/{id}/purge.
func TestFastlyWire(t *testing.T) {
	srv := cdntest.NewFastly(t, "svc9", "fastly-token")
	p := &cdn.Fastly{Base: srv.Base, ServiceID: "svc9", Token: "fastly-token", Client: client("127.0.0.1")}
	var keys []string
	for i := range 300 {
		keys = append(keys, fmt.Sprintf("k%03d", i))
	}
	if err := p.Purge(context.Background(), cdn.Request{URLs: []string{"https://x/y"}, Keys: keys}); err != nil {
		t.Fatal(err)
	}
	noProblems(t, srv)
	calls := srv.Calls()
	if len(calls) != 2 || len(strings.Fields(calls[0].Header.Get("Surrogate-Key"))) != 256 || len(strings.Fields(calls[1].Header.Get("Surrogate-Key"))) != 44 ||
		calls[0].Header.Get("Fastly-Key") != "fastly-token" || calls[0].Method != "POST" {
		t.Fatalf("calls %+v", calls)
	}
	if _, got, _ := srv.Purged(); !slices.Equal(got, keys) {
		t.Fatalf("purged keys %v", got)
	}
	bad := &cdn.Fastly{Base: srv.Base, ServiceID: "svc9", Token: "wrong", Client: client("127.0.0.1")}
	var ae *cdn.APIError
	if err := bad.Purge(context.Background(), cdn.Request{Keys: keys[:1]}); !errors.As(err, &ae) || ae.Status != 401 || !strings.Contains(ae.Msg, "credentials") {
		t.Fatalf("wrong token: %v", err)
	}
}

// TestGenericWire: {"urls":[…]} with the configured method and bearer token.
func TestGenericWire(t *testing.T) {
	srv := cdntest.NewGeneric(t, "PURGE", "gen-token")
	p := &cdn.Generic{URL: srv.Base, Method: "PURGE", Token: "gen-token", Client: client("127.0.0.1")}
	urls := manyURLs(3)
	if err := p.Purge(context.Background(), cdn.Request{URLs: urls}); err != nil {
		t.Fatal(err)
	}
	noProblems(t, srv)
	if got, _, _ := srv.Purged(); !slices.Equal(got, urls) {
		t.Fatalf("purged %v", got)
	}
	if c := srv.Calls()[0]; c.Header.Get("Authorization") != "Bearer gen-token" || c.Method != "PURGE" {
		t.Fatalf("call %+v", c)
	}
	bad := &cdn.Generic{URL: srv.Base, Method: "PURGE", Client: client("127.0.0.1")}
	var ae *cdn.APIError
	if err := bad.Purge(context.Background(), cdn.Request{URLs: urls}); !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("no token: %v", err)
	}
}

// TestPurgeGoesThroughOutboundGuard: the purge API on an internal address
// is refused unless STORYKEEP_OUTBOUND_ALLOW_HOSTS names it.
func TestPurgeGoesThroughOutboundGuard(t *testing.T) {
	srv := cdntest.NewGeneric(t, "POST", "")
	p := &cdn.Generic{URL: srv.Base, Client: client()}
	err := p.Purge(context.Background(), cdn.Request{URLs: manyURLs(1)})
	if !errors.Is(err, export.ErrInternalAddress) {
		t.Fatalf("purge to loopback without allow-host: %v", err)
	}
	if len(srv.Calls()) != 0 {
		t.Fatal("the guarded client reached the internal address")
	}
}

// TestRetryAfterHonoured: a 429's Retry-After becomes the job's next wait.
func TestRetryAfterHonoured(t *testing.T) {
	srv := cdntest.NewFastly(t, "svc", "tok")
	srv.FailNext(429)
	p := &cdn.Fastly{Base: srv.Base, ServiceID: "svc", Token: "tok", Client: client("127.0.0.1")}
	err := p.Purge(context.Background(), cdn.Request{Keys: []string{"a"}})
	var ae *cdn.APIError
	if !errors.As(err, &ae) || ae.Status != 429 {
		t.Fatalf("429: %v", err)
	}
	var ra *jobs.RetryAfterError
	if !errors.As(err, &ra) || ra.After != 120*time.Second {
		t.Fatalf("Retry-After: 120 not honoured: %v", err)
	}
}
