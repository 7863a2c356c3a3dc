package cdn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/storykeep/storykeep/app/jobs"
)

// Request is what one purge removes: absolute URLs, surrogate keys (Fastly)
// and URL prefixes without scheme (Cloudflare, e.g. "stories.example.org/p/x/img/").
type Request struct {
	URLs     []string `json:"urls"`
	Keys     []string `json:"keys"`
	Prefixes []string `json:"prefixes"`
}

// Purger removes cached copies from one CDN. Purge is safe to repeat.
type Purger interface {
	Name() string
	Purge(ctx context.Context, r Request) error
}

// APIError is a purge the CDN refused or failed: its HTTP status and the
// CDN's own error text (never a patient detail: only public addresses and
// ids are sent).
type APIError struct {
	Provider string
	Status   int
	Msg      string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s purge API answered %d: %s", e.Provider, e.Status, e.Msg)
}

// The providers' documented limits per call: Cloudflare takes 30 files (or
// prefixes) on every plan (newer plans take 100; 30 is safe everywhere),
// Fastly 256 surrogate keys.
const (
	cloudflareBatch = 30
	fastlyBatch     = 256
)

// Default API addresses.
const (
	CloudflareAPI = "https://api.cloudflare.com/client/v4"
	FastlyAPI     = "https://api.fastly.com"
)

// Cloudflare purges by URL ("files") and by prefix through
// POST {base}/zones/{zone}/purge_cache with an API token.
type Cloudflare struct {
	Base, ZoneID, Token string
	Client              *http.Client
}

// Name implements Purger.
func (*Cloudflare) Name() string { return "cloudflare" }

// Purge sends the URLs in batches of 30, then the prefixes (which also catch
// older versions of a picture's address, ?v=…).
func (p *Cloudflare) Purge(ctx context.Context, r Request) error {
	endpoint := strings.TrimRight(p.Base, "/") + "/zones/" + url.PathEscape(p.ZoneID) + "/purge_cache"
	send := func(field string, items []string) error {
		for len(items) > 0 {
			n := min(len(items), cloudflareBatch)
			body, _ := json.Marshal(map[string][]string{field: items[:n]})
			items = items[n:]
			res, err := do(ctx, p.Client, http.MethodPost, endpoint, body, http.Header{"Authorization": {"Bearer " + p.Token}})
			if err != nil {
				return err
			}
			var out struct {
				Success bool `json:"success"`
				Errors  []struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"errors"`
			}
			jerr := json.Unmarshal(res.body, &out)
			if res.status == http.StatusOK && jerr == nil && out.Success {
				continue
			}
			var msgs []string
			for _, e := range out.Errors {
				msgs = append(msgs, fmt.Sprintf("%d %s", e.Code, e.Message))
			}
			if len(msgs) == 0 {
				msgs = append(msgs, snippet(res.body))
			}
			return res.fail("cloudflare", strings.Join(msgs, "; "))
		}
		return nil
	}
	if err := send("files", r.URLs); err != nil {
		return err
	}
	return send("prefixes", r.Prefixes)
}

// Fastly purges by surrogate key: POST {base}/service/{id}/purge with the
// keys in a Surrogate-Key header and the API token in Fastly-Key. The
// public pages carry the keys (see Keys), so one call purges a story's
// page, every version of its pictures and the lists that showed it.
type Fastly struct {
	Base, ServiceID, Token string
	Client                 *http.Client
}

// Name implements Purger.
func (*Fastly) Name() string { return "fastly" }

// Purge sends the keys in batches of 256. Fastly answers 200 with a JSON
// object mapping each key to its purge id.
func (p *Fastly) Purge(ctx context.Context, r Request) error {
	endpoint := strings.TrimRight(p.Base, "/") + "/service/" + url.PathEscape(p.ServiceID) + "/purge"
	keys := r.Keys
	for len(keys) > 0 {
		n := min(len(keys), fastlyBatch)
		batch := keys[:n]
		keys = keys[n:]
		res, err := do(ctx, p.Client, http.MethodPost, endpoint, nil, http.Header{"Fastly-Key": {p.Token}, "Surrogate-Key": {strings.Join(batch, " ")}})
		if err != nil {
			return err
		}
		var ids map[string]string
		if res.status == http.StatusOK && json.Unmarshal(res.body, &ids) == nil {
			continue
		}
		var out struct {
			Msg    string `json:"msg"`
			Detail string `json:"detail"`
		}
		msg := snippet(res.body)
		if json.Unmarshal(res.body, &out) == nil && out.Msg != "" {
			msg = strings.TrimSpace(out.Msg + " " + out.Detail)
		}
		return res.fail("fastly", msg)
	}
	return nil
}

// Generic sends {"urls":[…]} to a configured endpoint (a self-run Varnish
// or nginx purger, a CDN gateway) with an optional bearer token; any 2xx
// is success.
type Generic struct {
	URL, Method, Token string
	Client             *http.Client
}

// Name implements Purger.
func (*Generic) Name() string { return "generic" }

// Purge implements Purger.
func (p *Generic) Purge(ctx context.Context, r Request) error {
	if len(r.URLs) == 0 {
		return nil
	}
	body, _ := json.Marshal(map[string][]string{"urls": r.URLs})
	h := http.Header{}
	if p.Token != "" {
		h.Set("Authorization", "Bearer "+p.Token)
	}
	method := p.Method
	if method == "" {
		method = http.MethodPost
	}
	res, err := do(ctx, p.Client, method, p.URL, body, h)
	if err != nil {
		return err
	}
	if res.status/100 != 2 {
		return res.fail("generic", snippet(res.body))
	}
	return nil
}

type response struct {
	status     int
	body       []byte
	retryAfter time.Duration
}

// fail makes the error for a refused call; a 429 waits as long as the
// CDN asks (at most an hour).
func (r *response) fail(provider, msg string) error {
	err := &APIError{Provider: provider, Status: r.status, Msg: msg}
	if r.status == http.StatusTooManyRequests && r.retryAfter > 0 {
		return &jobs.RetryAfterError{Err: err, After: min(r.retryAfter, time.Hour)}
	}
	return err
}

func do(ctx context.Context, c *http.Client, method, endpoint string, body []byte, h http.Header) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, method, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "Storykeep CDN purge")
	res, err := c.Do(req)
	if err != nil {
		// The URL is the configured endpoint; the error says which step failed.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s %s: %w", method, endpoint, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	out := &response{status: res.StatusCode, body: b}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
		out.retryAfter = time.Duration(s) * time.Second
	}
	return out, nil
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		s = "(empty answer)"
	}
	return s
}
