package audit

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Syslog sends each anchor as one RFC 5424 line to a syslog or SIEM
// endpoint, over TCP (RFC 6587 octet counting) or UDP (one datagram). The
// message (MSG) is the anchor's statement, and the structured data carries
// the seal key's signature over exactly those bytes, so the receiver holds
// a copy of each chain head that no one with access to Storykeep's database
// or bucket can take back.
type Syslog struct {
	Network  string // "tcp" or "udp"
	Addr     string // host:port
	Hostname string
	Timeout  time.Duration
}

// ParseSyslog reads tcp://host:port or udp://host:port.
func ParseSyslog(raw string) (*Syslog, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "udp") || u.Host == "" || u.Port() == "" {
		return nil, fmt.Errorf("syslog endpoint %q: want tcp://host:port or udp://host:port", raw)
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "-"
	}
	return &Syslog{Network: u.Scheme, Addr: u.Host, Hostname: host, Timeout: 10 * time.Second}, nil
}

// syslogPRI is facility log audit (13) × 8 + severity informational (6).
const syslogPRI = 13*8 + 6

// sdID names Storykeep's structured data element. 32473 is the private
// enterprise number RFC 5612 reserves for examples and documentation.
const sdID = "storykeepAnchor@32473"

// Line renders a's RFC 5424 message.
func (s *Syslog) Line(a Anchor) string {
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)
	sd := fmt.Sprintf(`[%s seq="%d" hash="%s" at="%s" sig="%s" signer="%s"]`, sdID, a.Seq, esc.Replace(a.Hash),
		a.At.UTC().Format("2006-01-02T15:04:05.000000Z"), esc.Replace(a.Signature), esc.Replace(a.SignerSHA256))
	return fmt.Sprintf("<%d>1 %s %s storykeep %d audit-anchor %s %s", syslogPRI, time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
		s.Hostname, os.Getpid(), sd, a.Statement())
}

// Send delivers a's line.
func (s *Syslog) Send(ctx context.Context, a Anchor) error {
	d := net.Dialer{Timeout: s.Timeout}
	conn, err := d.DialContext(ctx, s.Network, s.Addr)
	if err != nil {
		return fmt.Errorf("audit: syslog %s://%s: %w", s.Network, s.Addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(s.Timeout))
	line := s.Line(a)
	if s.Network == "tcp" {
		line = fmt.Sprintf("%d %s", len(line), line)
	}
	if _, err := conn.Write([]byte(line)); err != nil {
		return fmt.Errorf("audit: syslog %s://%s: %w", s.Network, s.Addr, err)
	}
	return nil
}
