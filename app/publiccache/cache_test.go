package publiccache_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/dbtest"
	"github.com/storykeep/storykeep/app/publiccache"
)

func open(t *testing.T, bounds publiccache.Bounds) (*publiccache.Cache, func(string)) {
	t.Helper()
	gdb, cfg := dbtest.Open(t)
	c := publiccache.New(context.Background(), gdb, nil, cfg.Driver, cfg.DSN, bounds, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(c.Close)
	exec := func(sql string) {
		if err := gdb.Exec(sql).Error; err != nil {
			t.Fatal(err)
		}
	}
	return c, exec
}

// hit waits until the cache is usable (past the window after a write) and
// returns a ticket that finds key.
func hit(t *testing.T, c *publiccache.Cache, key string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tk := c.Begin(context.Background())
		if tk.Usable() && c.Get(tk, key) == nil {
			c.Put(context.Background(), tk, key, "s", &publiccache.Entry{Body: []byte("page"), ContentType: "text/plain"})
		}
		if c.Get(c.Begin(context.Background()), key) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the cache never kept the entry")
}

// A write to a public table, through this process's handle, means the
// next request misses: whatever it changed, committed, is rendered anew.
func TestWriteToPublicTableDropsEntries(t *testing.T) {
	c, exec := open(t, nil)
	hit(t, c, "page:a")
	exec("INSERT INTO consent_templates (id, name, language, version, body, text_sha256, status, created_by, created_at, updated_at) " +
		"VALUES ('t1', 'T', 'en', 1, 'b', 'x', 'draft', 'u', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
	if c.Get(c.Begin(context.Background()), "page:a") != nil {
		t.Fatal("an entry was served after a write to consent_templates")
	}
	hit(t, c, "page:a")
	// A table the public does not see (jobs) leaves the cache alone.
	exec("UPDATE jobs SET attempts = attempts WHERE id = 'none'")
	if c.Get(c.Begin(context.Background()), "page:a") == nil {
		t.Fatal("a write to jobs dropped the cache")
	}
}

// An entry ends at the bound (a consent's expiry), with nothing written.
func TestEntryEndsAtBound(t *testing.T) {
	end := time.Now().Add(time.Hour)
	c, _ := open(t, func(context.Context, time.Time) (time.Time, error) { return end, nil })
	hit(t, c, "page:a")
	end = time.Now().Add(300 * time.Millisecond)
	tk := c.Begin(context.Background())
	c.Put(context.Background(), tk, "page:b", "s", &publiccache.Entry{Body: []byte("b")})
	if c.Get(c.Begin(context.Background()), "page:b") == nil {
		t.Fatal("not kept before its bound")
	}
	time.Sleep(time.Until(end) + 20*time.Millisecond)
	if c.Get(c.Begin(context.Background()), "page:b") != nil {
		t.Fatal("served after its bound")
	}
}

func TestConditionalAndGzip(t *testing.T) {
	c, _ := open(t, nil)
	tk := c.Begin(context.Background())
	body := make([]byte, 4096)
	for i := range body {
		body[i] = 'a' + byte(i%7)
	}
	e := c.Put(context.Background(), tk, "k", "state-1", &publiccache.Entry{Body: body, ContentType: "text/html"})
	if e.Gzip == nil || len(e.Gzip) >= len(body) {
		t.Fatal("a 4 KB page was not gzipped at fill")
	}
	other := c.Put(context.Background(), tk, "k", "state-2", &publiccache.Entry{Body: body, ContentType: "text/html"})
	if other.ETag == e.ETag {
		t.Fatal("the same bytes from another state must have another ETag")
	}
	if !other.LastModified.After(e.LastModified) {
		t.Fatal("Last-Modified must move forward when the response changes")
	}
	for _, tc := range []struct {
		h    map[string]string
		want int
	}{
		{map[string]string{"If-None-Match": other.ETag}, 304},
		{map[string]string{"If-None-Match": "W/" + other.ETag}, 304},
		{map[string]string{"If-None-Match": e.ETag}, 200},
		{map[string]string{"If-Modified-Since": other.LastModified.Format(http.TimeFormat)}, 304},
		{map[string]string{"If-Modified-Since": e.LastModified.Format(http.TimeFormat)}, 200},
		{map[string]string{"If-None-Match": e.ETag, "If-Modified-Since": other.LastModified.Format(http.TimeFormat)}, 200},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for k, v := range tc.h {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		publiccache.Serve(rec, req, other, "no-cache")
		if rec.Code != tc.want {
			t.Errorf("%v: %d, want %d", tc.h, rec.Code, tc.want)
		}
	}
	for ae, gz := range map[string]bool{"gzip": true, "gzip, br": true, "br;q=1, gzip;q=0": false, "identity": false, "": false} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Accept-Encoding", ae)
		rec := httptest.NewRecorder()
		publiccache.Serve(rec, req, other, "no-cache")
		if (rec.Header().Get("Content-Encoding") == "gzip") != gz {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q", ae, rec.Header().Get("Content-Encoding"))
		}
	}
}
