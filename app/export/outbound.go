package export

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Outbound guards the requests Storykeep makes to channel URLs (F16): an
// address on the hospital's own network, the machine itself or a cloud
// metadata service is refused, unless an admin named its host in
// STORYKEEP_OUTBOUND_ALLOW_HOSTS (an on-premises Mastodon, or a test's
// 127.0.0.1 receiver). The check runs when a URL is saved and again on every
// connection, after DNS resolution (a name can resolve elsewhere later, and
// redirects lead to new hosts).
type Outbound struct {
	allow map[string]bool
}

// NewOutbound allows the named hosts (names or IP literals, without port).
func NewOutbound(allowHosts []string) *Outbound {
	o := &Outbound{allow: map[string]bool{}}
	for _, h := range allowHosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			o.allow[strings.Trim(h, "[]")] = true
		}
	}
	return o
}

// ErrInternalAddress is a refused destination.
var ErrInternalAddress = errors.New("the address is on an internal network (loopback, private, link-local or metadata)")

var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 can reach IPv4 inside
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"), // 6to4 embeds an IPv4 address
}

// blockedIP: loopback, private, link-local (169.254.169.254 and the other
// metadata addresses are link-local or private), multicast, unspecified and
// the special ranges above.
func blockedIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (o *Outbound) allowed(host string) bool {
	return o.allow[strings.Trim(strings.ToLower(host), "[]")]
}

// CheckURL resolves raw's host and refuses it if any address is internal.
// It is the early, friendly check; DialContext is the one that holds.
func (o *Outbound) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if o.allowed(host) {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if blockedIP(ip) {
			return ErrInternalAddress
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		// A name that does not resolve yet is saved: every connection is
		// checked again after resolution (DialContext).
		return nil
	}
	for _, ip := range ips {
		if blockedIP(ip) {
			return ErrInternalAddress
		}
	}
	return nil
}

// DialContext connects like net.Dialer, refusing internal addresses after
// resolution unless the host was allowed by name.
func (o *Outbound) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if !o.allowed(host) {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || blockedIP(ap.Addr()) {
				return fmt.Errorf("connecting to %s: %w", host, ErrInternalAddress)
			}
			return nil
		}
	}
	return d.DialContext(ctx, network, addr)
}

// Client is an HTTP client whose every connection goes through DialContext.
// It uses no proxy from the environment (a proxy would connect for it).
func (o *Outbound) Client(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = o.DialContext
	return &http.Client{Timeout: timeout, Transport: t, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return nil
	}}
}
