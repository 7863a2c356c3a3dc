// Package ssotest runs a real OpenID provider on 127.0.0.1 for tests: the
// OP of github.com/zitadel/oidc/v3 (pkg/op) with its example storage and
// login page, in-process, so a test can change a user's groups between
// sign-ins, stop the provider, or divert its token endpoint.
package ssotest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/text/language"
)

// ClientID and ClientSecret are what Storykeep is registered under.
const (
	ClientID     = "storykeep"
	ClientSecret = "test-client-secret"
	Password     = "verysecure"
)

// OP is a running provider. Its issuer is URL.
type OP struct {
	URL    string
	server *httptest.Server

	clients map[string]*storage.Client

	mu     sync.Mutex
	users  map[string]*storage.User
	groups map[string][]string
	divert http.Handler
}

// Start runs a provider that accepts redirectURI for ClientID.
func Start(t testing.TB, redirectURI string) *OP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &OP{URL: "http://" + ln.Addr().String(), users: map[string]*storage.User{}, groups: map[string][]string{}}
	o.clients = map[string]*storage.Client{ClientID: storage.WebClient(ClientID, ClientSecret, redirectURI)}
	st := &opStorage{Storage: storage.NewStorageWithClients(userStore{o}, o.clients), op: o}
	// exampleop logs each request through slog's default logger; keep it quiet.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	router := exampleop.SetupServer(o.URL, st, nil, false)
	o.server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		d := o.divert
		o.mu.Unlock()
		if d != nil && r.URL.Path == "/oauth/token" {
			d.ServeHTTP(w, r)
			return
		}
		router.ServeHTTP(w, r)
	}))
	o.server.Listener.Close()
	o.server.Listener = ln
	o.server.Start()
	t.Cleanup(o.server.Close)
	return o
}

// AllowRedirect registers the redirect URI of a Storykeep started after the
// provider (its address was not known yet). Call it before any sign-in.
func (o *OP) AllowRedirect(redirectURI string) {
	o.clients[ClientID] = storage.WebClient(ClientID, ClientSecret, redirectURI)
}

// Stop takes the provider down (connections are refused from then on).
func (o *OP) Stop() { o.server.Close() }

// Handler is the provider's HTTP handler (for DivertToken of another OP).
func (o *OP) Handler() http.Handler { return o.server.Config.Handler }

// DivertToken sends this provider's token requests to h (nil: stop).
func (o *OP) DivertToken(h http.Handler) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.divert = h
}

// AddUser adds a person who signs in as username with Password.
func (o *OP) AddUser(id, username, email, first, last string, groups ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.users[id] = &storage.User{ID: id, Username: username, Password: Password, FirstName: first, LastName: last, Email: email, EmailVerified: true, PreferredLanguage: language.English}
	o.groups[id] = groups
}

// SetGroups changes a person's groups at the provider.
func (o *OP) SetGroups(id string, groups ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.groups[id] = groups
}

type userStore struct{ o *OP }

func (u userStore) GetUserByID(id string) *storage.User {
	u.o.mu.Lock()
	defer u.o.mu.Unlock()
	return u.o.users[id]
}

func (u userStore) GetUserByUsername(name string) *storage.User {
	u.o.mu.Lock()
	defer u.o.mu.Unlock()
	for _, x := range u.o.users {
		if x.Username == name {
			return x
		}
	}
	return nil
}

func (u userStore) ExampleClientID() string { return storage.ServiceUserID }

// opStorage adds a "groups" claim to the userinfo answer.
type opStorage struct {
	*storage.Storage
	op *OP
}

func (s *opStorage) SetUserinfoFromToken(ctx context.Context, ui *zoidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	s.op.mu.Lock()
	g := append([]string(nil), s.op.groups[ui.Subject]...)
	s.op.mu.Unlock()
	if g != nil {
		ui.AppendClaims("groups", g)
	}
	return nil
}

// Login plays the person at the provider: from the authorization URL
// Storykeep redirected to, it signs in as username and returns the URL the
// provider sends the browser back to (Storykeep's callback with code and
// state), without requesting it.
func Login(t testing.TB, authURL, username string) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	start, _ := url.Parse(authURL)
	var back *url.URL
	hc := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if r.URL.Host != start.Host {
			back = r.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if back != nil { // the provider answered at once (an error redirect)
		return back
	}
	id := res.Request.URL.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("provider did not show its login page: %s %d", res.Request.URL, res.StatusCode)
	}
	res, err = hc.PostForm(res.Request.URL.String(), url.Values{"id": {id}, "username": {username}, "password": {Password}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if back == nil {
		t.Fatalf("provider did not send the browser back: %d %s", res.StatusCode, strings.TrimSpace(string(b)))
	}
	return back
}
