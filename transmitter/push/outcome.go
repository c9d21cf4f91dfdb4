package push

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sigshare/sigshare/internal/netguard"
	"github.com/sigshare/sigshare/internal/peertext"
	"github.com/sigshare/sigshare/ssf"
)

// verdict is what the engine does with a SET after one attempt.
type verdict int

const (
	delivered verdict = iota // Ack
	retry                    // Retry with backoff (or dead letter once the limits are reached)
	permanent                // DeadLetter at once
)

// outcome is the classification of one push attempt.
type outcome struct {
	verdict verdict
	reason  Reason
	// streamWide marks failures that are not about this SET: the stream's other held
	// SETs are rescheduled with it.
	streamWide bool
	// retryAfter is the receiver's Retry-After (0: none).
	retryAfter time.Duration
	// detail explains the failure for LastError / DeadReason (no secrets).
	detail string
}

// maxErrorBody bounds how much of a non-2xx answer is read.
const maxErrorBody = 16 << 10

// classifyResponse turns an HTTP answer into an outcome (see the outcome table in the
// package documentation). endpoint is the redacted endpoint URL.
func classifyResponse(resp *http.Response, body []byte, endpoint string, now time.Time) outcome {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return outcome{verdict: delivered}
	}
	status := "HTTP " + strconv.Itoa(code)
	if t := http.StatusText(code); t != "" {
		status += " " + t
	}
	setErr, hasSETErr := parseSETError(body)
	detail := status + " from " + endpoint
	if hasSETErr {
		detail += ": " + setErr.Err
		if setErr.Description != "" {
			detail += ": " + setErr.Description
		}
	} else if d := describeBody(body); d != "" {
		detail += ": " + d
	}
	o := outcome{reason: ReasonServerError, verdict: retry, detail: detail}
	switch {
	case code == http.StatusBadRequest:
		switch {
		case !hasSETErr:
			o.verdict, o.reason = permanent, ReasonRejected
			o.detail += " (a 400 answer without an RFC 8935 error body; retrying the same SET cannot help)"
		case setErr.Err == ssf.CodeAuthenticationFailed:
			// The receiver could not authenticate us: fix authorization_header (AMB-18).
			o.reason, o.streamWide = ReasonUnauthorized, true
			o.detail += " (check the stream's delivery.authorization_header)"
		case setErr.Err == ssf.CodeAccessDenied:
			// May be transient (RFC 8935 §4: access_denied after a credential change).
			o.reason = ReasonUnauthorized
		default:
			// invalid_request, invalid_key, invalid_issuer, invalid_audience,
			// invalid_state and unregistered codes: the receiver rejected this SET.
			o.verdict, o.reason = permanent, ReasonRejected
		}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		o.reason, o.streamWide = ReasonUnauthorized, true
		o.detail += " (check the stream's delivery.authorization_header)"
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		o.reason, o.streamWide = ReasonNotFound, true
		o.detail += " (check the stream's delivery.endpoint_url)"
	case code == http.StatusRequestTimeout:
		o.reason = ReasonTimeout
	case code == http.StatusTooManyRequests:
		o.reason, o.streamWide = ReasonRateLimited, true
	case code == http.StatusServiceUnavailable:
		o.streamWide = true
	case code >= 300 && code < 400:
		o.reason, o.streamWide = ReasonRedirect, true
		o.detail = status + " from " + endpoint
		if loc := resp.Header.Get("Location"); loc != "" {
			o.detail += " to " + redactURL(loc)
		}
		o.detail += ": redirects are not followed (SEC-17); set delivery.endpoint_url to the final URL"
	case code >= 400 && code < 500:
		// 410 Gone, 413 Content Too Large and other client errors: the receiver says
		// this request will not succeed as it is.
		o.verdict, o.reason = permanent, ReasonRejected
	}
	if o.verdict == retry {
		o.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
		if o.retryAfter > 0 {
			o.detail += fmt.Sprintf(" (Retry-After %v)", o.retryAfter)
		}
	}
	return o
}

// classifyError turns a transport error into an outcome.
func classifyError(err error, endpoint string) outcome {
	o := outcome{verdict: retry, reason: ReasonConnection}
	var (
		opErr   *net.OpError
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		hostErr x509.HostnameError
		uaErr   x509.UnknownAuthorityError
		invErr  x509.CertificateInvalidError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
	)
	msg := transportMessage(err)
	switch {
	case errors.Is(err, netguard.ErrForbiddenAddress):
		o.reason, o.streamWide = ReasonForbiddenAddress, true
		o.detail = fmt.Sprintf("%s refused by the SSRF guard (SEC-17): %s; set delivery.endpoint_url to a public address, or allow this range in the transmitter's configuration", endpoint, msg)
		return o
	case errors.As(err, &dnsErr):
		o.streamWide = true
		o.detail = fmt.Sprintf("resolving the host of %s failed: %s", endpoint, msg)
		return o
	case errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &uaErr),
		errors.As(err, &invErr), errors.As(err, &recErr), errors.As(err, &alert):
		o.reason, o.streamWide = ReasonTLS, true
		o.detail = fmt.Sprintf("TLS handshake with %s failed: %s", endpoint, msg)
		return o
	case errors.As(err, &opErr) && opErr.Op == "dial":
		o.streamWide = true
		o.detail = fmt.Sprintf("connecting to %s failed: %s", endpoint, msg)
		return o
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		o.reason = ReasonTimeout
		o.detail = fmt.Sprintf("no answer from %s within the request timeout", endpoint)
		return o
	}
	o.detail = fmt.Sprintf("request to %s failed: %s", endpoint, msg)
	return o
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// transportMessage is the error text without the *url.Error prefix, which repeats the
// full URL (whose query may hold a secret).
func transportMessage(err error) string {
	var uErr *url.Error
	if errors.As(err, &uErr) {
		err = uErr.Err
	}
	return peertext.Clean(err.Error(), 300)
}

// parseSETError reads an RFC 8935 §2.3 error body. Lenient about the Content-Type (some
// receivers send text/plain): any JSON object with a valid "err" counts.
func parseSETError(body []byte) (ssf.SETError, bool) {
	trimmed := strings.TrimSpace(string(body))
	if !strings.HasPrefix(trimmed, "{") {
		return ssf.SETError{}, false
	}
	var e ssf.SETError
	if err := json.Unmarshal([]byte(trimmed), &e); err != nil || e.Validate() != nil {
		return ssf.SETError{}, false
	}
	e.Err = peertext.Clean(e.Err, 64)
	e.Description = peertext.Clean(e.Description, 512)
	return e, true
}

// describeBody returns a short, printable description of an error body that is not an
// RFC 8935 error: the usual members of JSON error bodies, or short plain text.
func describeBody(body []byte) string {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" || !utf8.ValidString(trimmed) {
		return ""
	}
	if strings.HasPrefix(trimmed, "{") {
		var m map[string]any
		if json.Unmarshal([]byte(trimmed), &m) == nil {
			var parts []string
			for _, k := range []string{"error", "error_description", "message", "errorSummary"} {
				if s, ok := m[k].(string); ok && s != "" {
					parts = append(parts, s)
				}
			}
			return peertext.Clean(strings.Join(parts, ": "), 300)
		}
	}
	if strings.HasPrefix(trimmed, "<") { // an HTML error page says nothing useful
		return ""
	}
	return peertext.Clean(trimmed, 200)
}

// maxRetryAfter bounds the wait a receiver's Retry-After may ask for (Backoff.Max
// bounds it further).
const maxRetryAfter = 365 * 24 * time.Hour

// parseRetryAfter reads a Retry-After value (ssf.ParseRetryAfter: delta-seconds or an
// HTTP-date, RFC 9110 §10.2.3), at most maxRetryAfter. Invalid or past values give 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	wait, _ := ssf.ParseRetryAfter(v, now)
	return min(wait, maxRetryAfter)
}

// redactURL returns scheme://host/path of raw: no user information, query or fragment,
// which may hold secrets. Unparseable input gives "(invalid URL)".
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	s := r.String()
	if u.RawQuery != "" {
		s += "?…"
	}
	return s
}

// drain reads and discards up to limit bytes so that the connection can be reused.
func drain(r io.Reader, limit int64) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, limit))
}
