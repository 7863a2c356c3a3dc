// Package cdntest runs local servers that speak the CDN purge APIs
// Storykeep calls, with their real paths, headers, bodies and answers
// (successes and the providers' error shapes), recording what they were
// asked to purge. Tests make them fail on demand.
package cdntest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Call is one request a server received and the status it answered.
type Call struct {
	Method, Path string
	Header       http.Header
	Body         string
	Status       int
}

// Server is a fake CDN API.
type Server struct {
	*httptest.Server
	// Base is what STORYKEEP_CDN_API_BASE (or _PURGE_URL) should be.
	Base string

	mu       sync.Mutex
	calls    []Call
	urls     []string
	keys     []string
	prefixes []string
	fail     []int
	problems []string
	seq      atomic.Int64
}

// FailNext makes the next calls answer these statuses (in order) in the
// provider's error shape, whatever they ask.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, statuses...)
}

// Calls returns every request received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Purged returns what successful calls purged: URLs, surrogate keys and
// prefixes, each sorted.
func (s *Server) Purged() (urls, keys, prefixes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	urls, keys, prefixes = slices.Clone(s.urls), slices.Clone(s.keys), slices.Clone(s.prefixes)
	slices.Sort(urls)
	slices.Sort(keys)
	slices.Sort(prefixes)
	return
}

// Problems lists requests that broke the API's rules (wrong method, path,
// header or body); a test expects none.
func (s *Server) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.problems)
}

func (s *Server) record(r *http.Request, body []byte, status int) {
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: string(body), Status: status})
}

func (s *Server) problem(format string, a ...any) {
	s.problems = append(s.problems, fmt.Sprintf(format, a...))
}

// nextFailure pops a forced failure status (0: none).
func (s *Server) nextFailure(w http.ResponseWriter) int {
	if len(s.fail) == 0 {
		return 0
	}
	st := s.fail[0]
	s.fail = s.fail[1:]
	if st == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "120") // as the providers' rate limiters do
	}
	return st
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func start(t testing.TB, h func(s *Server, w http.ResponseWriter, r *http.Request, body []byte)) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		s.mu.Lock()
		defer s.mu.Unlock()
		h(s, w, r, body)
	}))
	t.Cleanup(s.Close)
	return s
}

// cfError is Cloudflare's v4 error envelope.
func cfError(code int, msg string) map[string]any {
	return map[string]any{"success": false, "errors": []map[string]any{{"code": code, "message": msg}}, "messages": []any{}, "result": nil}
}

// NewCloudflare speaks POST /client/v4/zones/{zone}/purge_cache with
// "Authorization: Bearer <token>" and a JSON body holding exactly one of
// files (URLs) or prefixes, at most 30 of them; it answers Cloudflare's
// envelope {"success":true,"errors":[],"messages":[],"result":{"id":…}}, or
// 403 {"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}
// for a wrong token.
func NewCloudflare(t testing.TB, zone, token string) *Server {
	s := start(t, func(s *Server, w http.ResponseWriter, r *http.Request, body []byte) {
		status := http.StatusOK
		defer func() { s.record(r, body, status) }()
		if st := s.nextFailure(w); st != 0 {
			status = st
			if st >= 500 {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(st)
				io.WriteString(w, "<html><body><h1>"+http.StatusText(st)+"</h1></body></html>")
				return
			}
			writeJSON(w, st, cfError(10000, "Authentication error"))
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/client/v4/zones/"+zone+"/purge_cache" {
			status = http.StatusNotFound
			s.problem("%s %s", r.Method, r.URL.Path)
			writeJSON(w, status, cfError(7003, "Could not route to "+r.URL.Path+", perhaps your object identifier is invalid?"))
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			status = http.StatusForbidden
			writeJSON(w, status, cfError(10000, "Authentication error"))
			return
		}
		var in map[string][]string
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &in) != nil || len(in) != 1 {
			status = http.StatusBadRequest
			s.problem("body %q (content type %q)", body, r.Header.Get("Content-Type"))
			writeJSON(w, status, cfError(1012, "Request must contain one of \"purge_everything\", \"files\", \"tags\", \"hosts\" or \"prefixes\""))
			return
		}
		files, hasFiles := in["files"]
		prefixes, hasPrefixes := in["prefixes"]
		switch {
		case hasFiles && len(files) > 0 && len(files) <= 30:
			s.urls = append(s.urls, files...)
		case hasPrefixes && len(prefixes) > 0 && len(prefixes) <= 30:
			for _, p := range prefixes {
				if strings.Contains(p, "://") {
					s.problem("prefix with a scheme: %s", p)
				}
			}
			s.prefixes = append(s.prefixes, prefixes...)
		default:
			status = http.StatusBadRequest
			s.problem("body %q", body)
			writeJSON(w, status, cfError(1015, "Only up to 30 items may be purged per request"))
			return
		}
		writeJSON(w, status, map[string]any{"success": true, "errors": []any{}, "messages": []any{},
			"result": map[string]string{"id": fmt.Sprintf("%032x", s.seq.Add(1))}})
	})
	s.Base = s.URL + "/client/v4"
	return s
}

// NewFastly speaks Fastly's bulk purge by surrogate key: POST
// /service/{service}/purge with "Fastly-Key: <token>" and the keys in a
// space-separated Surrogate-Key header (at most 256); it answers 200 with a
// JSON object mapping each key to a purge id, or 401
// {"msg":"Provided credentials are missing or invalid"} for a wrong token.
func NewFastly(t testing.TB, service, token string) *Server {
	s := start(t, func(s *Server, w http.ResponseWriter, r *http.Request, body []byte) {
		status := http.StatusOK
		defer func() { s.record(r, body, status) }()
		if st := s.nextFailure(w); st != 0 {
			status = st
			writeJSON(w, st, map[string]string{"msg": http.StatusText(st)})
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/service/"+service+"/purge" {
			status = http.StatusNotFound
			s.problem("%s %s", r.Method, r.URL.Path)
			writeJSON(w, status, map[string]string{"msg": "Record not found", "detail": "Cannot find service '" + service + "'"})
			return
		}
		if r.Header.Get("Fastly-Key") != token {
			status = http.StatusUnauthorized
			writeJSON(w, status, map[string]string{"msg": "Provided credentials are missing or invalid"})
			return
		}
		keys := strings.Fields(r.Header.Get("Surrogate-Key"))
		if len(keys) == 0 || len(keys) > 256 {
			status = http.StatusBadRequest
			s.problem("surrogate keys %q", r.Header.Get("Surrogate-Key"))
			writeJSON(w, status, map[string]string{"msg": "Bad request", "detail": "Between 1 and 256 surrogate keys are required"})
			return
		}
		out := map[string]string{}
		for _, k := range keys {
			out[k] = fmt.Sprintf("108-%d-%d", 1700000000+s.seq.Add(1), len(s.keys))
		}
		s.keys = append(s.keys, keys...)
		writeJSON(w, status, out)
	})
	s.Base = s.URL
	return s
}

// NewGeneric is a purge endpoint taking method with JSON {"urls":[…]} and,
// when token is not empty, "Authorization: Bearer <token>" (401 otherwise);
// it answers 200 {"purged":n}.
func NewGeneric(t testing.TB, method, token string) *Server {
	s := start(t, func(s *Server, w http.ResponseWriter, r *http.Request, body []byte) {
		status := http.StatusOK
		defer func() { s.record(r, body, status) }()
		if st := s.nextFailure(w); st != 0 {
			status = st
			writeJSON(w, st, map[string]string{"error": http.StatusText(st)})
			return
		}
		if r.Method != method || r.URL.Path != "/purge" {
			status = http.StatusMethodNotAllowed
			s.problem("%s %s", r.Method, r.URL.Path)
			writeJSON(w, status, map[string]string{"error": "method not allowed"})
			return
		}
		if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
			status = http.StatusUnauthorized
			writeJSON(w, status, map[string]string{"error": "unauthorized"})
			return
		}
		var in struct {
			URLs []string `json:"urls"`
		}
		if json.Unmarshal(body, &in) != nil || len(in.URLs) == 0 {
			status = http.StatusBadRequest
			s.problem("body %q", body)
			writeJSON(w, status, map[string]string{"error": "urls required"})
			return
		}
		s.urls = append(s.urls, in.URLs...)
		writeJSON(w, status, map[string]int{"purged": len(in.URLs)})
	})
	s.Base = s.URL + "/purge"
	return s
}
