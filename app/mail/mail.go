// Package mail sends Storykeep's emails: consent requests, one-time codes,
// the signed certificate (the patient's copy under 164.508(c)(4)) and staff
// notices. Callers build a Message and hand it to a Sender; which Sender runs
// (a real SMTP server, or the development log) is configuration.
package mail

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"

	"github.com/storykeep/storykeep/app/config"
)

// Message is one email to one recipient. Text is required because some
// patients read mail in plain-text clients and screen readers handle it best;
// HTML is an optional alternative of the same content.
type Message struct {
	To          string
	Subject     string
	Text        string
	HTML        string
	Attachments []Attachment
}

// Attachment is a file sent with a message, e.g. the consent certificate PDF.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Sender delivers a message. It is an interface so services can be tested
// against a real SMTP conversation (smtptest) and run in development without
// a mail server.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// validate rejects a message no mail server should see: a malformed address
// or a header that could smuggle in another header.
func (m Message) validate() error {
	if a, err := mail.ParseAddress(m.To); err != nil || a.Address == "" {
		return fmt.Errorf("mail: recipient %q is not an email address", m.To)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return fmt.Errorf("mail: subject contains a line break")
	}
	if strings.TrimSpace(m.Text) == "" {
		return fmt.Errorf("mail: the plain-text body is empty")
	}
	for _, a := range m.Attachments {
		if a.Name == "" || strings.ContainsAny(a.Name, "\r\n\"/\\") {
			return fmt.Errorf("mail: attachment name %q is not usable", a.Name)
		}
	}
	return nil
}

// New returns the Sender the configuration asks for: SMTP, or in "log" mode
// the development logger (which warns at once that mail goes to the log).
func New(c *config.Config, logger *slog.Logger) (Sender, error) {
	if c.MailMode == "smtp" {
		return NewSMTP(SMTPConfig{Host: c.SMTPHost, Port: c.SMTPPort, Username: c.SMTPUsername,
			Password: c.SMTPPassword, From: c.SMTPFrom, TLS: c.SMTPTLS})
	}
	return NewLog(logger), nil
}
