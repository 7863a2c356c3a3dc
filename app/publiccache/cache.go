// Package publiccache keeps the public website's rendered responses (story
// pages, the index, feeds, sitemap, image look-ups) so a story read by
// thousands is rendered once, and drops them the moment what may be shown
// could have changed.
//
// The cache never decides what is shown: it stores what the disclosure path
// (app/disclosure behind stories.ApprovalGate) produced, and serves it only
// while nothing it was made from can have changed:
//
//   - every write to a table the gate or the disclosure reads (stories,
//     tags, channels, approvals, publications, media, crops, patients,
//     consent requests, records and templates) changes the generation, in
//     the writing transaction (migration 00120: a counter on SQLite, a
//     NOTIFY on PostgreSQL, delivered to every replica at commit);
//   - an entry also ends at the next consent expiry or publish-not-before
//     time, whichever comes first (Bounds), and after MaxAge at the latest;
//   - after a write through this process's own database handle the cache
//     re-reads the generation on every request (SQLite) or steps aside
//     (PostgreSQL) for LocalWindow, so a revocation answered by this replica
//     is visible on its very next request, before the NOTIFY comes back.
//
// See docs/public-cache.md.
package publiccache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"gorm.io/gorm"
)

const (
	// MaxAge bounds every entry, whatever else happens: a change the
	// generation somehow missed is shown within this long.
	MaxAge = 5 * time.Minute
	// LocalWindow is how long after a local write to a public table the
	// cache re-checks (SQLite) or steps aside (PostgreSQL). Transactions are
	// short; one that commits later is still caught by the generation.
	LocalWindow = 2 * time.Second
	// PollEvery is how often SQLite's generation is read when nothing was
	// written locally (another process, such as `storykeep` commands,
	// may write to the same file).
	PollEvery = time.Second
	// maxEntries keeps memory bounded: tag pages are the only keys a
	// visitor can multiply, and only tags of live stories are cached.
	maxEntries = 4096
)

// Entry is one rendered public response, as the disclosure path made it.
type Entry struct {
	Body        []byte
	Gzip        []byte // Body gzipped once, at fill; nil when not worth it
	ContentType string
	// ETag is strong: a hash of the state the response was made from and
	// of its bytes.
	ETag         string
	LastModified time.Time
	// Value carries a non-HTTP result (an image's crop) instead of Body.
	Value any

	gen   uint64
	until time.Time
	// hdr are the response headers Serve sets, built once (headers).
	hdr *entryHeaders
}

// entryHeaders are an entry's header values, built once when it is made
// and shared by every response that serves it: net/http copies them when
// it writes the header, and Set replaces a slice rather than changing it.
type entryHeaders struct {
	etag, lastModified, contentType, plainLength, gzipLength []string
}

// headers builds e's header values from its final ETag, Last-Modified,
// type and bodies.
func (e *Entry) headers() *entryHeaders {
	h := &entryHeaders{
		etag:         []string{e.ETag},
		lastModified: []string{e.LastModified.UTC().Format(http.TimeFormat)},
		contentType:  []string{e.ContentType},
		plainLength:  []string{strconv.Itoa(len(e.Body))},
	}
	if e.Gzip != nil {
		h.gzipLength = []string{strconv.Itoa(len(e.Gzip))}
	}
	return h
}

// Ticket is one request's view of the cache: the generation an entry it
// fills is labelled with (read before anything the entry is made from),
// and whether the cache may be used at all.
type Ticket struct {
	gen uint64
	ok  bool
	now time.Time
}

// Usable reports whether the request may read and fill the cache.
func (t Ticket) Usable() bool { return t.ok }

// Bounds returns the earliest time after now at which the gate's answer
// may change with no write: the next consent expiry or approval
// not-before. The zero time means none.
type Bounds func(ctx context.Context, now time.Time) (time.Time, error)

// Cache is the process's public response cache.
type Cache struct {
	log    *slog.Logger
	bounds Bounds
	src    source
	now    func() time.Time

	mu      sync.RWMutex
	entries map[string]*Entry

	// localUntil (unix nanoseconds) ends the window after a local write.
	localUntil atomic.Int64

	hooksMu sync.RWMutex
	hooks   []WithdrawHook
	// PublicURL makes withdrawn paths absolute for the hooks.
	PublicURL string

	hits, misses atomic.Uint64
}

// source is where the generation comes from: SQLite's counter or
// PostgreSQL's notifications.
type source interface {
	// current returns the generation to use for a request now, and false
	// when the cache must be bypassed. local says a local write is recent.
	current(ctx context.Context, local bool) (uint64, bool)
	close()
}

// New returns the cache for db ("sqlite" or "postgres"). dsn is
// PostgreSQL's connection string (the listener's own connection); reader
// is the handle the SQLite generation is read through (nil: db).
func New(ctx context.Context, db *gorm.DB, reader *gorm.DB, driver, dsn string, bounds Bounds, log *slog.Logger) *Cache {
	c := &Cache{log: log, bounds: bounds, now: time.Now, entries: map[string]*Entry{}}
	if driver == "postgres" {
		c.src = newListener(ctx, dsn, c.flush, log)
	} else {
		if reader == nil {
			reader = db
		}
		c.src = &counter{db: reader, flush: c.flush}
	}
	WatchWrites(db, c.LocalWrite)
	return c
}

// Close stops the PostgreSQL listener.
func (c *Cache) Close() {
	if c != nil && c.src != nil {
		c.src.close()
	}
}

// LocalWrite opens the window after a write to a public table through this
// process (called by the GORM callbacks WatchWrites registers).
func (c *Cache) LocalWrite() {
	c.localUntil.Store(c.now().Add(LocalWindow).UnixNano())
}

// Begin starts a request: it reads (or refreshes) the generation.
func (c *Cache) Begin(ctx context.Context) Ticket {
	if c == nil {
		return Ticket{}
	}
	now := c.now()
	gen, ok := c.src.current(ctx, now.UnixNano() < c.localUntil.Load())
	return Ticket{gen: gen, ok: ok, now: now}
}

// Get returns the live entry for key, or nil.
func (c *Cache) Get(t Ticket, key string) *Entry {
	if c == nil || !t.ok {
		return nil
	}
	c.mu.RLock()
	e := c.entries[key]
	c.mu.RUnlock()
	if e == nil || e.gen != t.gen || !t.now.Before(e.until) {
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	return e
}

// Put stores e under key for the ticket's generation, until the next
// expiry or not-before (Bounds) or MaxAge. state names what the response
// was made from (revision, approval, consent); with the bytes it makes the
// ETag. Put fills e.ETag, e.LastModified and e.Gzip and returns e, which
// the caller serves whether or not it could be stored.
func (c *Cache) Put(ctx context.Context, t Ticket, key, state string, e *Entry) *Entry {
	h := sha256.New()
	h.Write([]byte(state))
	h.Write([]byte{0})
	h.Write(e.Body)
	e.ETag = `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
	now := time.Now().UTC()
	if t.now.IsZero() {
		t.now = now
	}
	e.LastModified = now.Truncate(time.Second).Add(time.Second)
	if c == nil {
		return e
	}
	c.mu.RLock()
	prev := c.entries[key]
	c.mu.RUnlock()
	if prev != nil {
		// Last-Modified only moves forward, and only when the bytes do:
		// If-Modified-Since must never match a different response.
		if prev.ETag == e.ETag {
			e.LastModified = prev.LastModified
		} else if !e.LastModified.After(prev.LastModified) {
			e.LastModified = prev.LastModified.Add(time.Second)
		}
	}
	if prev != nil && prev.ETag == e.ETag && prev.Gzip != nil {
		e.Gzip = prev.Gzip
	} else if e.Gzip == nil && len(e.Body) >= 1024 && e.Value == nil {
		e.Gzip = gzipOnce(e.Body)
	}
	e.hdr = e.headers()
	if !t.ok {
		return e
	}
	e.gen = t.gen
	e.until = t.now.Add(MaxAge)
	if c.bounds != nil {
		b, err := c.bounds(ctx, t.now)
		if err != nil {
			c.log.Warn("public cache: expiry bound unknown; not caching", "err", err)
			return e
		}
		if !b.IsZero() && b.Before(e.until) {
			e.until = b
		}
	}
	c.mu.Lock()
	if len(c.entries) >= maxEntries {
		clear(c.entries)
	}
	c.entries[key] = e
	c.mu.Unlock()
	return e
}

// flush drops every entry (a change arrived, or the listener reconnected).
func (c *Cache) flush() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

// Stats returns hits and misses so far.
func (c *Cache) Stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

func gzipOnce(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	if buf.Len() >= len(b) {
		return nil
	}
	return buf.Bytes()
}

// Serve writes e for r: 304 when the client's copy is current (If-None-Match,
// else If-Modified-Since), gzip when accepted and worth it. cacheControl is
// the Cache-Control header.
func Serve(w http.ResponseWriter, r *http.Request, e *Entry, cacheControl string) {
	hv := e.hdr
	if hv == nil { // not made by Put
		hv = e.headers()
	}
	h := w.Header()
	h["Etag"] = hv.etag
	h["Last-Modified"] = hv.lastModified
	if cacheControl == noCache[0] {
		h["Cache-Control"] = noCache
	} else {
		h.Set("Cache-Control", cacheControl)
	}
	if v := h["Vary"]; v == nil {
		h["Vary"] = varyAcceptEncoding
	} else {
		h.Add("Vary", varyAcceptEncoding[0])
	}
	if NotModified(r, e) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body, length := e.Body, hv.plainLength
	if e.Gzip != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, length = e.Gzip, hv.gzipLength
		h["Content-Encoding"] = contentEncodingGzip
	}
	h["Content-Type"] = hv.contentType
	h["Content-Length"] = length
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// Shared header values (see entryHeaders).
var (
	noCache             = []string{"no-cache"}
	varyAcceptEncoding  = []string{"Accept-Encoding"}
	contentEncodingGzip = []string{"gzip"}
)

// NotModified applies RFC 9110's conditional rules for GET: If-None-Match
// wins; If-Modified-Since counts only without it.
func NotModified(r *http.Request, e *Entry) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == e.ETag {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !e.LastModified.After(t)
	}
	return false
}

func acceptsGzip(ae string) bool {
	for ae != "" {
		var part string
		part, ae, _ = strings.Cut(ae, ",")
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q = strings.ReplaceAll(strings.TrimSpace(q), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
