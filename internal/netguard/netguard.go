// Package netguard keeps outbound HTTP requests away from addresses a remote party should
// not be able to reach through us: loopback, private, link-local (cloud metadata) and other
// special-purpose ranges.
//
// A transmitter POSTs SETs to a push endpoint_url that the receiver chose (RFC 8935 §2.1,
// SSF §6.1.1), with a receiver-chosen Authorization header: without a guard, any receiver
// could make the transmitter call its internal network (digest SEC-17). The check runs in
// the dialer's Control hook, on the address actually being connected to, after DNS
// resolution and on every connection, so DNS rebinding cannot get around it.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbiddenAddress is wrapped by every refusal.
var ErrForbiddenAddress = errors.New("netguard: destination address not allowed")

// Policy says which special-purpose destinations are allowed. The zero value allows only
// public unicast addresses.
type Policy struct {
	// AllowLoopback allows 127.0.0.0/8 and ::1 (development and tests).
	AllowLoopback bool
	// AllowPrivate allows RFC 1918, RFC 6598 shared (100.64.0.0/10) and IPv6 unique local
	// (fc00::/7) addresses.
	AllowPrivate bool
	// AllowLinkLocal allows 169.254.0.0/16 and fe80::/10. These include cloud metadata
	// services (169.254.169.254): leave it off unless you know why.
	AllowLinkLocal bool
}

var (
	sharedRange   = netip.MustParsePrefix("100.64.0.0/10")
	benchmarkNet  = netip.MustParsePrefix("198.18.0.0/15")
	reservedNet   = netip.MustParsePrefix("240.0.0.0/4")
	thisNetwork   = netip.MustParsePrefix("0.0.0.0/8")
	ietfProtocol  = netip.MustParsePrefix("192.0.0.0/24")
	nat64Prefix   = netip.MustParsePrefix("64:ff9b::/96")
	ipv4Broadcast = netip.MustParseAddr("255.255.255.255")
)

// Check returns nil when the policy allows connecting to ip, and otherwise an error
// wrapping ErrForbiddenAddress that names the address and its range.
func (p Policy) Check(ip netip.Addr) error {
	ip = ip.Unmap()
	if ip.Is6() && nat64Prefix.Contains(ip) {
		// An IPv4 address embedded in the NAT64 prefix reaches that IPv4 address.
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	refuse := func(kind string) error {
		return fmt.Errorf("%w: %s is a %s address", ErrForbiddenAddress, ip, kind)
	}
	switch {
	case !ip.IsValid():
		return fmt.Errorf("%w: invalid address", ErrForbiddenAddress)
	case ip.IsUnspecified() || thisNetwork.Contains(ip):
		return refuse("unspecified")
	case ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsLinkLocalMulticast() || ip == ipv4Broadcast:
		return refuse("multicast or broadcast")
	case ip.IsLoopback():
		if !p.AllowLoopback {
			return refuse("loopback")
		}
	case ip.IsLinkLocalUnicast():
		if !p.AllowLinkLocal {
			return refuse("link-local")
		}
	case ip.IsPrivate() || sharedRange.Contains(ip):
		if !p.AllowPrivate {
			return refuse("private")
		}
	case benchmarkNet.Contains(ip) || reservedNet.Contains(ip) || ietfProtocol.Contains(ip):
		if !p.AllowPrivate {
			return refuse("reserved")
		}
	}
	return nil
}

// Control is a net.Dialer Control function that applies the policy to the resolved
// address of every connection.
func (p Policy) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q: %v", ErrForbiddenAddress, address, err)
	}
	return p.Check(ap.Addr())
}

// Dialer returns a net.Dialer with the given connect timeout whose connections obey the
// policy.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: p.Control}
}

// ClientOptions configures NewClient.
type ClientOptions struct {
	// Timeout bounds a whole request including reading the response (0: 30 s).
	Timeout time.Duration
	// DialTimeout bounds connection setup (0: 10 s).
	DialTimeout time.Duration
	// MaxConnsPerHost bounds connections per host (0: unlimited).
	MaxConnsPerHost int
	// MaxIdleConnsPerHost is kept idle for reuse per host (0: 16).
	MaxIdleConnsPerHost int
	// TLSHandshakeTimeout (0: 10 s).
	TLSHandshakeTimeout time.Duration
	// Transport, when not nil, is cloned and its dialer replaced; use it to set TLS roots.
	Transport *http.Transport
}

// NewClient returns an HTTP client whose connections obey the policy and which never
// follows redirects (a redirect could lead anywhere, and a push or JWKS endpoint has no
// reason to redirect).
func (p Policy) NewClient(o ClientOptions) *http.Client {
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 10 * time.Second
	}
	if o.MaxIdleConnsPerHost == 0 {
		o.MaxIdleConnsPerHost = 16
	}
	if o.TLSHandshakeTimeout == 0 {
		o.TLSHandshakeTimeout = 10 * time.Second
	}
	var t *http.Transport
	if o.Transport != nil {
		t = o.Transport.Clone()
	} else {
		t = http.DefaultTransport.(*http.Transport).Clone()
	}
	t.Proxy = nil // a proxy would dial on our behalf, out of the guard's sight
	t.DialContext = p.Dialer(o.DialTimeout).DialContext
	t.MaxConnsPerHost = o.MaxConnsPerHost
	t.MaxIdleConnsPerHost = o.MaxIdleConnsPerHost
	t.TLSHandshakeTimeout = o.TLSHandshakeTimeout
	return &http.Client{
		Transport: t,
		Timeout:   o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// CheckHost resolves host (a name or an address literal) and returns an error if any
// address it resolves to is refused by the policy. Use it to reject a URL early (for
// example when a receiver registers a push endpoint); the dial-time check still applies.
func (p Policy) CheckHost(ctx context.Context, r *net.Resolver, host string) error {
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.Check(ip)
	}
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("netguard: resolving %q: %w", host, err)
	}
	for _, a := range addrs {
		if err := p.Check(a); err != nil {
			return fmt.Errorf("%s: %w", host, err)
		}
	}
	return nil
}
