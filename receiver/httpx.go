package receiver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Errors of the HTTP layer shared by discovery, the management client and the poller.
// Test for them with errors.Is; the wrapping error names the URL.
var (
	// ErrInsecureURL: a URL that must be https is not (SSF §7.1, SSF-DISC-16, SEC-1).
	// Options named InsecureAllowHTTP accept http for loopback tests.
	ErrInsecureURL = errors.New("receiver: URL must use https")
	// ErrRedirectRefused: a server redirected to another host, from https to http, or
	// too often (SEC-17).
	ErrRedirectRefused = errors.New("receiver: redirect refused")
	// ErrResponseTooLarge: a response body exceeded the configured limit.
	ErrResponseTooLarge = errors.New("receiver: response too large")
)

// Defaults shared by the HTTP clients of this package.
const (
	defaultTimeout          = 10 * time.Second
	defaultMaxResponseBytes = 1 << 20
	maxRedirects            = 5
)

// redirectPolicy follows at most maxRedirects redirects, only to the host of the original
// request, never from https to http (unless insecure). Go drops the Authorization header
// on a redirect to another host anyway; refusing the redirect also keeps a management
// request body from being replayed elsewhere (SEC-17).
func redirectPolicy(insecure bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: more than %d redirects", ErrRedirectRefused, maxRedirects)
		}
		orig := via[0].URL
		if req.URL.Host != orig.Host {
			return fmt.Errorf("%w: %s redirected to another host (%s)", ErrRedirectRefused, orig.Redacted(), req.URL.Host)
		}
		if req.URL.Scheme != "https" && (orig.Scheme == "https" || !insecure) {
			return fmt.Errorf("%w: %s redirected to %s, which is not https", ErrRedirectRefused, orig.Redacted(), req.URL.Redacted())
		}
		return nil
	}
}

// httpClient returns c with the redirect policy (a shallow copy when c has no
// CheckRedirect of its own), or a new client with the timeout when c is nil.
func httpClient(c *http.Client, timeout time.Duration, insecure bool) *http.Client {
	if c == nil {
		return &http.Client{Timeout: timeout, CheckRedirect: redirectPolicy(insecure)}
	}
	if c.CheckRedirect != nil {
		return c
	}
	cp := *c
	cp.CheckRedirect = redirectPolicy(insecure)
	return &cp
}

// checkURL checks that raw is an absolute https URL (or http when insecure).
func checkURL(what, raw string, insecure bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("receiver: %s %q is not a URL: %w", what, raw, err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("receiver: %s %q is not an absolute https URL", what, raw)
	}
	if u.Scheme != "https" && !insecure {
		return nil, fmt.Errorf("%w: %s %q", ErrInsecureURL, what, u.Redacted())
	}
	return u, nil
}

// readBody reads at most limit bytes of r; a longer body is ErrResponseTooLarge.
func readBody(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	return b, nil
}

// drain discards what is left of a response body (up to a bound, so that the connection
// can be reused) and closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

func orDefault[T time.Duration | int64 | int](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
