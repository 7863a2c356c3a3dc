package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storykeep/storykeep/app/config"
	"github.com/storykeep/storykeep/app/mail/smtptest"
)

func accentedMessage() Message {
	pdf := make([]byte, 3000)
	for i := range pdf {
		pdf[i] = byte(i * 7)
	}
	return Message{
		To:          "José Núñez <jose.nunez@example.org>",
		Subject:     "Su autorización firmada — «Mi recuperación», año 2026 ñ ü",
		Text:        "Hola José:\n\nAdjuntamos su autorización firmada. Para revocarla: https://stories.example.org/revoke/abc_-123\n\nGracias — “Hospital Señora de la Peña”\n",
		HTML:        "<p>Hola José: adjuntamos su autorización <b>firmada</b>.</p>",
		Attachments: []Attachment{{Name: "autorización-año.pdf", ContentType: "application/pdf", Data: pdf}},
	}
}

func TestSMTPConversation(t *testing.T) {
	tests := []struct {
		name string
		opts smtptest.Options
		tls  string
	}{
		{"plain", smtptest.Options{}, "none"},
		{"starttls", smtptest.Options{TLS: true}, "starttls"},
		{"starttls with auth", smtptest.Options{TLS: true, Username: "storykeep", Password: "s3cret"}, "starttls"},
		{"implicit tls", smtptest.Options{ImplicitTLS: true}, "tls"},
		{"implicit tls with auth", smtptest.Options{ImplicitTLS: true, Username: "storykeep", Password: "s3cret"}, "tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.opts)
			s, err := NewSMTP(SMTPConfig{Host: srv.Host, Port: srv.Port, Username: tt.opts.Username, Password: tt.opts.Password,
				From: "Historias <stories@hospital.example>", TLS: tt.tls, TLSConfig: srv.ClientTLS(), Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			want := accentedMessage()
			if err := s.Send(context.Background(), want); err != nil {
				t.Fatal(err)
			}
			got := srv.Messages()
			if len(got) != 1 || got[0].From != "stories@hospital.example" || strings.Join(got[0].To, ",") != "jose.nunez@example.org" {
				t.Fatalf("envelope = %+v", got)
			}
			if got[0].TLS != (tt.tls != "none") {
				t.Errorf("sent over TLS = %v", got[0].TLS)
			}
			if bytes.ContainsAny(got[0].Data, "áéíóúñü—«") {
				t.Error("raw message carries 8-bit text; it should be encoded")
			}
			p := srv.Last(t)
			checks := []struct{ field, got, want string }{
				{"subject", p.Subject, want.Subject},
				{"text", strings.ReplaceAll(p.Text, "\r\n", "\n"), want.Text},
				{"html", strings.ReplaceAll(p.HTML, "\r\n", "\n"), want.HTML},
				{"to", p.To, "José Núñez <jose.nunez@example.org>"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
				}
			}
			if len(p.Attachments) != 1 {
				t.Fatalf("attachments = %d", len(p.Attachments))
			}
			a := p.Attachments[0]
			if a.Name != "autorización-año.pdf" || a.ContentType != "application/pdf" || !bytes.Equal(a.Data, want.Attachments[0].Data) {
				t.Errorf("attachment = %q %q, %d bytes (equal: %v)", a.Name, a.ContentType, len(a.Data), bytes.Equal(a.Data, want.Attachments[0].Data))
			}
		})
	}
}

func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestSMTPFailures(t *testing.T) {
	plain := smtptest.Start(t, smtptest.Options{})
	authed := smtptest.Start(t, smtptest.Options{TLS: true, Username: "storykeep", Password: "right"})
	tlsSrv := smtptest.Start(t, smtptest.Options{TLS: true})
	down := closedPort(t)
	tests := []struct {
		name string
		cfg  SMTPConfig
		want []string
	}{
		{"server down", SMTPConfig{Host: "127.0.0.1", Port: down, TLS: "none"}, []string{"127.0.0.1:" + strconv.Itoa(down), "refused"}},
		{"wrong password", SMTPConfig{Host: authed.Host, Port: authed.Port, TLS: "starttls", TLSConfig: authed.ClientTLS(), Username: "storykeep", Password: "wrong"}, []string{"auth"}},
		{"no password", SMTPConfig{Host: authed.Host, Port: authed.Port, TLS: "starttls", TLSConfig: authed.ClientTLS()}, []string{"authenticate"}},
		{"starttls required but not offered", SMTPConfig{Host: plain.Host, Port: plain.Port, TLS: "starttls"}, []string{"STARTTLS"}},
		{"untrusted certificate", SMTPConfig{Host: tlsSrv.Host, Port: tlsSrv.Port, TLS: "starttls"}, []string{"certificate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.From, tt.cfg.Timeout = "stories@hospital.example", 3*time.Second
			s, err := NewSMTP(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), accentedMessage())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(w)) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if n := len(plain.Messages()) + len(authed.Messages()) + len(tlsSrv.Messages()); n != 0 {
		t.Errorf("%d messages delivered despite failures", n)
	}
}

func TestSMTPNeedsTLSConfigOnlyForPrivateCA(t *testing.T) {
	// A *tls.Config without our CA must be refused: the client verifies certificates.
	srv := smtptest.Start(t, smtptest.Options{ImplicitTLS: true})
	s, _ := NewSMTP(SMTPConfig{Host: srv.Host, Port: srv.Port, From: "a@b.example", TLS: "tls",
		TLSConfig: &tls.Config{ServerName: srv.Host, MinVersion: tls.VersionTLS12}, Timeout: 3 * time.Second})
	if err := s.Send(context.Background(), accentedMessage()); err == nil {
		t.Fatal("sent to a server with an untrusted certificate")
	}
}

func TestNewSMTPRejectsBadConfig(t *testing.T) {
	good := SMTPConfig{Host: "mail.example.org", Port: 587, From: "stories@example.org", TLS: "starttls"}
	tests := []struct {
		name   string
		change func(c *SMTPConfig)
		want   string
	}{
		{"no host", func(c *SMTPConfig) { c.Host = "" }, "STORYKEEP_SMTP_HOST"},
		{"bad port", func(c *SMTPConfig) { c.Port = 0 }, "STORYKEEP_SMTP_PORT"},
		{"bad tls", func(c *SMTPConfig) { c.TLS = "ssl" }, "STORYKEEP_SMTP_TLS"},
		{"no sender", func(c *SMTPConfig) { c.From = "" }, "STORYKEEP_SMTP_FROM"},
		{"password in clear", func(c *SMTPConfig) { c.TLS, c.Username = "none", "u" }, "unencrypted"},
	}
	for _, tt := range tests {
		c := good
		tt.change(&c)
		if _, err := NewSMTP(c); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
}

func TestMessageValidation(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s, _ := NewSMTP(SMTPConfig{Host: srv.Host, Port: srv.Port, From: "a@b.example", TLS: "none"})
	var buf bytes.Buffer
	l := NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	tests := []struct {
		name   string
		change func(m *Message)
	}{
		{"bad recipient", func(m *Message) { m.To = "not an address" }},
		{"two recipients", func(m *Message) { m.To = "a@example.org, b@example.org" }},
		{"header injection", func(m *Message) { m.Subject = "Hi\r\nBcc: x@example.org" }},
		{"no text part", func(m *Message) { m.Text = " " }},
		{"bad attachment name", func(m *Message) { m.Attachments[0].Name = "../x.pdf" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, sender := range map[string]Sender{"smtp": s, "log": l} {
				m := accentedMessage()
				tt.change(&m)
				if err := sender.Send(context.Background(), m); err == nil {
					t.Errorf("%s: sent", name)
				}
			}
		})
	}
	if len(srv.Messages()) != 0 {
		t.Error("an invalid message reached the server")
	}
}

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "links") {
		t.Errorf("no start warning: %s", buf.String())
	}
	buf.Reset()
	if err := l.Send(context.Background(), accentedMessage()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"level=INFO", "to_domain=example.org", "Su autorización firmada", "https://stories.example.org/revoke/abc_-123", "autorización-año.pdf"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q: %s", want, out)
		}
	}
	if strings.Contains(out, "jose.nunez") {
		t.Errorf("log carries the recipient's address: %s", out)
	}
}

func TestNewFromConfig(t *testing.T) {
	load := func(env map[string]string) *config.Config {
		c, err := config.Load(nil, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	logger := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	if s, err := New(load(nil), logger); err != nil {
		t.Fatal(err)
	} else if _, ok := s.(*Log); !ok {
		t.Errorf("default sender is %T, want *Log", s)
	}
	if _, err := New(load(map[string]string{"STORYKEEP_MAIL_MODE": "smtp"}), logger); err == nil || !strings.Contains(err.Error(), "STORYKEEP_SMTP_HOST") {
		t.Errorf("smtp without host: %v", err)
	}
	s, err := New(load(map[string]string{"STORYKEEP_MAIL_MODE": "smtp", "STORYKEEP_SMTP_HOST": "mail.example.org",
		"STORYKEEP_SMTP_FROM": "stories@example.org"}), logger)
	if _, ok := s.(*SMTP); err != nil || !ok {
		t.Errorf("smtp sender = %T, %v", s, err)
	}
	if _, err := config.Load(nil, func(k string) string { return map[string]string{"STORYKEEP_SMTP_TLS": "ssl"}[k] }); err == nil {
		t.Error("STORYKEEP_SMTP_TLS=ssl accepted")
	}
}
