package mail

import (
	"context"
	"log/slog"
	"net/mail"
	"strings"
)

// Log is the development Sender: it writes each message to the log instead
// of sending it, so a developer can follow a consent link without a mail
// server. Bodies carry links (consent, revocation) that act for a patient, so
// it must never run in production; NewLog warns about that at start.
type Log struct{ logger *slog.Logger }

// NewLog returns the log Sender and logs a warning saying mail is not sent.
func NewLog(logger *slog.Logger) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	logger.Warn("mail is in log mode: messages are written to this log, not sent, and their bodies may contain consent and revocation links; set STORYKEEP_MAIL_MODE=smtp in production")
	return &Log{logger: logger}
}

// Send logs the recipient's domain (not the address), the subject, the text
// body and the attachment names.
func (l *Log) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	names := make([]string, len(m.Attachments))
	for i, a := range m.Attachments {
		names[i] = a.Name
	}
	l.logger.InfoContext(ctx, "mail (log mode, not sent)", "to_domain", domain(m.To), "subject", m.Subject,
		"text", m.Text, "attachments", strings.Join(names, ", "))
	return nil
}

func domain(addr string) string {
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return ""
	}
	return a.Address[strings.LastIndexByte(a.Address, '@')+1:]
}
