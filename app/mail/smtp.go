package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig says how to reach the organisation's mail server.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string // empty: no authentication
	Password string
	From     string
	TLS      string        // starttls (required), tls (implicit) or none
	Timeout  time.Duration // per connection; default 30s
	// TLSConfig overrides certificate checks, for tests with a private CA.
	TLSConfig *tls.Config
}

// SMTP sends mail through an SMTP server with go-mail, one connection per
// message: consent mail is low volume and a fresh connection cannot be stale.
type SMTP struct{ cfg SMTPConfig }

// NewSMTP checks the configuration once at start so a typo fails there, not
// when the first patient is waiting for a link.
func NewSMTP(c SMTPConfig) (*SMTP, error) {
	if c.Host == "" {
		return nil, fmt.Errorf("STORYKEEP_SMTP_HOST is required when STORYKEEP_MAIL_MODE=smtp")
	}
	if c.Port < 1 || c.Port > 65535 {
		return nil, fmt.Errorf("STORYKEEP_SMTP_PORT: %d is not a port", c.Port)
	}
	if c.TLS != "starttls" && c.TLS != "tls" && c.TLS != "none" {
		return nil, fmt.Errorf("STORYKEEP_SMTP_TLS: must be starttls, tls or none, got %q", c.TLS)
	}
	if c.Username != "" && c.TLS == "none" {
		return nil, fmt.Errorf("STORYKEEP_SMTP_USERNAME is set but STORYKEEP_SMTP_TLS=none: the password would cross the network unencrypted; use starttls or tls")
	}
	if err := gomail.NewMsg().From(c.From); err != nil || c.From == "" {
		return nil, fmt.Errorf("STORYKEEP_SMTP_FROM: %q is not a sender address", c.From)
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	return &SMTP{cfg: c}, nil
}

// Send delivers m, or returns an error naming the server and what failed.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.cfg.Host, s.options()...)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: sending through %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}

func (s *SMTP) options() []gomail.Option {
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout)}
	switch s.cfg.TLS {
	case "tls":
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(s.cfg.TLSConfig))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	return opts
}

func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	if err := msg.From(s.cfg.From); err != nil {
		return nil, fmt.Errorf("mail: sender: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
			return nil, fmt.Errorf("mail: attachment %s: %w", a.Name, err)
		}
	}
	return msg, nil
}
