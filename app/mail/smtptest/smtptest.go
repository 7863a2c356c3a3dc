// Package smtptest runs a real SMTP server (emersion/go-smtp) on 127.0.0.1
// for tests, so mail code is tested through an actual SMTP conversation,
// including STARTTLS and AUTH, and the received MIME is parsed the way a mail
// client would.
package smtptest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure the test server.
type Options struct {
	// TLS offers STARTTLS with a throw-away certificate for 127.0.0.1; use
	// Server.ClientTLS to trust it.
	TLS bool
	// ImplicitTLS makes the whole connection TLS from the start (port 465 style).
	ImplicitTLS bool
	// Username and Password, when set, require AUTH PLAIN with them.
	Username, Password string
}

// Received is one message as the server got it.
type Received struct {
	From string
	To   []string
	Data []byte
	TLS  bool // the message was sent over an encrypted connection
}

// Server is a running test SMTP server.
type Server struct {
	Host string
	Port int
	opts Options
	cert tls.Certificate
	pool *x509.CertPool

	mu       sync.Mutex
	received []Received
}

// Start runs a server until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	}))
	srv.Domain = "smtptest.local"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.AllowInsecureAuth = !opts.TLS && !opts.ImplicitTLS
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 32 << 20
	srv.EnableSMTPUTF8 = true
	var l net.Listener
	var err error
	if opts.TLS || opts.ImplicitTLS {
		s.cert, s.pool = selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
	}
	if opts.ImplicitTLS {
		l, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
		srv.TLSConfig = nil
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	addr := l.Addr().(*net.TCPAddr)
	s.Host, s.Port = "127.0.0.1", addr.Port
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// ClientTLS returns a client configuration that trusts the server's
// certificate, or nil when the server has no TLS.
func (s *Server) ClientTLS() *tls.Config {
	if s.pool == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.pool, ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

// Messages returns what has been received so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

type session struct {
	srv    *Server
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

// AuthMechanisms offers PLAIN only when the server was given credentials.
func (s *session) AuthMechanisms() []string {
	if s.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks PLAIN credentials against Options.
func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.srv.opts.Username || password != s.srv.opts.Password {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

// Mail enforces authentication and STARTTLS when they are configured, as a
// strict production relay would.
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.Username != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	if s.srv.opts.TLS && !s.tls() {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	}
	s.from = from
	return nil
}

// Rcpt accepts every recipient.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

// Data stores the raw message for the test to inspect.
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.received = append(s.srv.received, Received{From: s.from, To: s.to, Data: b, TLS: s.tls()})
	return nil
}

func (s *session) tls() bool {
	_, ok := s.conn.TLSConnectionState()
	return ok
}

// Reset forgets the envelope after RSET.
func (s *session) Reset() { s.from, s.to = "", nil }

// Logout has nothing to release.
func (s *session) Logout() error { return nil }

var errNoMessage = errors.New("smtptest: no message received")

// Last parses the most recent message, failing the test if there is none.
func (s *Server) Last(t testing.TB) *Parsed {
	t.Helper()
	msgs := s.Messages()
	if len(msgs) == 0 {
		t.Fatal(errNoMessage)
	}
	p, err := Parse(bytes.NewReader(msgs[len(msgs)-1].Data))
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	return p
}
