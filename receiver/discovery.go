package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/sigshare/sigshare/ssf"
)

// ErrIssuerMismatch is wrapped when a Transmitter names another issuer than the one the
// Receiver asked for: the metadata "issuer" (SSF §7.2.4, SSF-DISC-19), a stream's "iss"
// (SSF §8.1.1, SSF-STREAM-14) or, through the SET verifier, a SET's "iss" (SEC-4). The
// information must not be used.
var ErrIssuerMismatch = errors.New("receiver: issuer mismatch")

// DiscoveryOptions configures [Discover] and [FetchMetadata]. The zero value is the
// strict SSF 1.0 behaviour over https.
type DiscoveryOptions struct {
	// HTTPClient fetches the metadata. Nil means a client whose Timeout is Timeout. A
	// client given here whose CheckRedirect is nil is used through a shallow copy that
	// follows redirects only to the same host and never from https to http (SEC-17).
	HTTPClient *http.Client
	// Timeout bounds each fetch when HTTPClient is nil (the context bounds it too).
	// Zero means 10 seconds.
	Timeout time.Duration
	// MaxResponseBytes is the largest metadata document accepted. Zero means 1 MiB.
	MaxResponseBytes int64

	// Compatibility tolerates what Transmitters in the field do (vendors §5.1 item 7):
	// [Discover] tries every location of [ssf.DiscoveryCandidateURLs] in order (ssf
	// inserted, ssf appended, sse, risc) until one answers 200; the document is decoded
	// with [ssf.ParseMetadataLenient] (non-standard member names, http delivery URIs,
	// missing spec_version, empty arrays); and [FetchMetadata] accepts a document whose
	// issuer does not lead back to the URL it was fetched from (authentik). Each
	// tolerance is reported in [Discovery.Tolerated]. Off by default.
	Compatibility bool
	// IssuerIgnoreTrailingSlash compares issuers ignoring one trailing "/" on either
	// side (Google publishes "https://accounts.google.com" and signs with
	// "https://accounts.google.com/"). SSF §7.2.4 requires exact equality; this weakens
	// it for that peer and is reported in Discovery.Tolerated when it was needed.
	IssuerIgnoreTrailingSlash bool
	// InsecureAllowHTTP accepts http URLs (issuer, metadata URL, endpoints). SSF
	// requires https (SSF-DISC-2..9); this exists for loopback tests only.
	InsecureAllowHTTP bool
	// ExpectedIssuer, for [FetchMetadata] only: the issuer the document must name. Empty
	// means the URL must be a location derived from the document's own issuer
	// ([ssf.Metadata.CheckLocation]).
	ExpectedIssuer string
}

// Discovery is the Transmitter metadata a Receiver obtained and validated.
type Discovery struct {
	// Metadata is the validated metadata (SSF §7.1).
	Metadata *ssf.Metadata
	// Issuer is the issuer the metadata was requested for (Discover, or
	// FetchMetadata with ExpectedIssuer), else the metadata's own issuer.
	Issuer string
	// URL is where the document was found.
	URL string
	// Tolerated lists, for a log or a diagnostic display, each deviation from SSF 1.0
	// that compatibility options accepted; empty in strict mode.
	Tolerated []string
}

// DiscoveryError reports a failed metadata fetch: the URL and, when the server
// answered, its HTTP status. Err says what went wrong.
type DiscoveryError struct {
	// URL is the metadata location that was tried.
	URL string
	// Status is the HTTP status the server answered, or 0.
	Status int
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *DiscoveryError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("receiver: transmitter metadata at %s: HTTP %d: %v", e.URL, e.Status, e.Err)
	}
	return fmt.Sprintf("receiver: transmitter metadata at %s: %v", e.URL, e.Err)
}

// Unwrap returns e.Err.
func (e *DiscoveryError) Unwrap() error { return e.Err }

// Discover obtains the metadata of the Transmitter whose Issuer is issuer (SSF §7.2): a
// GET (SSF-DISC-15) of [ssf.WellKnownURL] (the well-known segment inserted before the
// issuer's path, SSF-DISC-14), or with opts.Compatibility each of
// [ssf.DiscoveryCandidateURLs] in order. The document must be an object of the metadata
// members, valid by [ssf.Metadata.ValidateWith] (https URLs, no empty arrays, …), and its
// issuer must be identical to issuer (SSF §7.2.4, SSF-DISC-19; see
// IssuerIgnoreTrailingSlash); otherwise it is not used and the error says why
// (errors.Is(err, ErrIssuerMismatch) for the last case).
func Discover(ctx context.Context, issuer string, opts DiscoveryOptions) (*Discovery, error) {
	if _, err := checkURL("issuer", issuer, opts.InsecureAllowHTTP); err != nil {
		return nil, err
	}
	var urls []string
	if opts.Compatibility {
		c, err := ssf.DiscoveryCandidateURLs(issuer)
		if err != nil {
			return nil, err
		}
		urls = c
	} else {
		u, err := ssf.WellKnownURL(issuer)
		if err != nil {
			return nil, err
		}
		urls = []string{u}
	}
	client := httpClient(opts.HTTPClient, orDefault(opts.Timeout, defaultTimeout), opts.InsecureAllowHTTP)
	var misses []error
	for i, u := range urls {
		d, status, err := fetchMetadata(ctx, client, u, opts)
		if err != nil {
			// Only "not here" answers move on to the next location; a document that
			// is found but wrong, and transport failures, end the search.
			if opts.Compatibility && status != 0 && status != http.StatusOK && i < len(urls)-1 && ctx.Err() == nil {
				misses = append(misses, err)
				continue
			}
			return nil, errors.Join(append(misses, err)...)
		}
		if i > 0 {
			d.Tolerated = append(d.Tolerated, fmt.Sprintf("metadata found at the non-standard location %s (the SSF location %s did not answer 200)", u, urls[0]))
		}
		if err := checkIssuer(d, issuer, opts); err != nil {
			return nil, &DiscoveryError{URL: u, Err: err}
		}
		d.Issuer = issuer
		return d, nil
	}
	return nil, errors.Join(misses...) // not reached: the loop returns on the last URL
}

// FetchMetadata obtains Transmitter metadata from metadataURL exactly as given (the
// "paste the configuration URL" set-up Okta offers), with a GET. The document is
// decoded and validated as by [Discover]. Its issuer is checked against
// opts.ExpectedIssuer when set; otherwise metadataURL must be one of the locations
// derived from the document's own issuer ([ssf.Metadata.CheckLocation]), so that the
// document cannot claim an issuer that does not publish it (SSF §7.2.4). With
// opts.Compatibility a document failing that location check is accepted and the fact is
// reported (authentik names its configuration URL as issuer).
func FetchMetadata(ctx context.Context, metadataURL string, opts DiscoveryOptions) (*Discovery, error) {
	if _, err := checkURL("metadata URL", metadataURL, opts.InsecureAllowHTTP); err != nil {
		return nil, err
	}
	client := httpClient(opts.HTTPClient, orDefault(opts.Timeout, defaultTimeout), opts.InsecureAllowHTTP)
	d, _, err := fetchMetadata(ctx, client, metadataURL, opts)
	if err != nil {
		return nil, err
	}
	if opts.ExpectedIssuer != "" {
		if err := checkIssuer(d, opts.ExpectedIssuer, opts); err != nil {
			return nil, &DiscoveryError{URL: metadataURL, Err: err}
		}
		d.Issuer = opts.ExpectedIssuer
		return d, nil
	}
	if err := d.Metadata.CheckLocation(metadataURL); err != nil {
		if !opts.Compatibility {
			return nil, &DiscoveryError{URL: metadataURL, Err: fmt.Errorf("%w: %w", ErrIssuerMismatch, err)}
		}
		d.Tolerated = append(d.Tolerated, fmt.Sprintf("issuer %q does not lead to the configuration URL %s (SSF §7.2.4); accepted because the URL was configured directly", d.Metadata.Issuer, metadataURL))
	}
	d.Issuer = d.Metadata.Issuer
	return d, nil
}

// fetchMetadata GETs one location and decodes and validates the document. status is
// the HTTP status when the server answered.
func fetchMetadata(ctx context.Context, client *http.Client, u string, opts DiscoveryOptions) (*Discovery, int, error) {
	fail := func(status int, err error) (*Discovery, int, error) {
		return nil, status, &DiscoveryError{URL: u, Status: status, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail(0, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fail(0, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		body, _ := readBody(resp.Body, 4<<10)
		return fail(resp.StatusCode, ssf.ErrorFromResponse(resp.StatusCode, resp.Header, body))
	}
	body, err := readBody(resp.Body, orDefault(opts.MaxResponseBytes, defaultMaxResponseBytes))
	if err != nil {
		return fail(resp.StatusCode, err)
	}
	d := &Discovery{URL: u}
	if ct := resp.Header.Get("Content-Type"); !isJSONMediaType(ct) {
		if !opts.Compatibility {
			return fail(resp.StatusCode, fmt.Errorf("Content-Type %q is not application/json (SSF §7.2.3)", ct))
		}
		d.Tolerated = append(d.Tolerated, fmt.Sprintf("Content-Type %q instead of application/json", ct))
	}
	if opts.Compatibility {
		m, notes, err := ssf.ParseMetadataLenient(body)
		if err != nil {
			return fail(resp.StatusCode, err)
		}
		d.Metadata = m
		d.Tolerated = append(d.Tolerated, notes...)
	} else {
		var m ssf.Metadata
		if err := json.Unmarshal(body, &m); err != nil {
			return fail(resp.StatusCode, err)
		}
		d.Metadata = &m
	}
	if err := d.Metadata.ValidateWith(ssf.ValidateOptions{InsecureAllowHTTP: opts.InsecureAllowHTTP}); err != nil {
		return fail(resp.StatusCode, err)
	}
	return d, resp.StatusCode, nil
}

// isJSONMediaType reports whether ct is application/json or a +json type (parameters
// such as charset allowed).
func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// checkIssuer compares the metadata issuer with the one asked for.
func checkIssuer(d *Discovery, issuer string, opts DiscoveryOptions) error {
	got := d.Metadata.Issuer
	if got == issuer {
		return nil
	}
	if opts.IssuerIgnoreTrailingSlash && sameIssuerModSlash(got, issuer) {
		d.Tolerated = append(d.Tolerated, fmt.Sprintf("metadata issuer %q differs from %q only by a trailing slash", got, issuer))
		return nil
	}
	return fmt.Errorf("%w: the metadata names issuer %q, not %q (SSF §7.2.4)", ErrIssuerMismatch, got, issuer)
}

// sameIssuerModSlash reports whether a and b are equal once one trailing "/" is removed
// from each.
func sameIssuerModSlash(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}
