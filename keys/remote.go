package keys

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// RemoteOptions configures a [RemoteKeySet]. The zero value is a sound production
// configuration.
type RemoteOptions struct {
	// HTTPClient fetches the jwks_uri. Nil means a client whose Timeout is Timeout and
	// which follows at most 5 redirects, only to the same host and never from https to
	// http. A client given here whose CheckRedirect is nil is used through a shallow copy
	// that gets that same redirect policy; a non-nil CheckRedirect is kept as is.
	HTTPClient *http.Client

	// Timeout bounds each fetch, from sending the request to reading the whole body.
	// Zero means 10 seconds.
	Timeout time.Duration

	// MaxResponseBytes is the largest JWK Set body accepted; larger responses are refused
	// with ErrResponseTooLarge. Zero means 1 MiB.
	MaxResponseBytes int64

	// MinRefreshInterval is the least time between two fetches caused by an unknown kid,
	// and the wait before retrying after a failed fetch. An attacker chooses the kid of
	// the tokens it sends, so this rate limit cannot be switched off: zero means 1 minute.
	MinRefreshInterval time.Duration

	// DefaultTTL is how long a JWK Set is fresh when its response carries no usable
	// Cache-Control max-age or Expires. Zero means 1 hour. It is clamped to
	// [MinTTL, MaxTTL].
	DefaultTTL time.Duration

	// MinTTL is the shortest freshness lifetime; Cache-Control no-store, no-cache and
	// max-age=0 mean MinTTL. Zero means 1 minute.
	MinTTL time.Duration

	// MaxTTL is the longest freshness lifetime, however long the server allows. Zero means
	// 24 hours.
	MaxTTL time.Duration

	// MaxStale is how long past its freshness lifetime a cached JWK Set is still used
	// when it cannot be refreshed (the jwks_uri is down or answers errors). Beyond that,
	// Keys fails with ErrStaleKeySet until a refresh succeeds: a receiver does not keep
	// trusting keys it has not been able to confirm for that long, since a transmitter
	// removes a key from its JWK Set when the key is retired or compromised. Zero means
	// 24 hours; negative means no limit.
	MaxStale time.Duration

	// Now returns the current time; it drives freshness and rate limits. Nil means
	// time.Now. Tests inject a fake clock here.
	Now func() time.Time

	// Logger receives fetch failures (Warn, or Error while no keys are cached), ignored
	// keys (Warn) and fetches (Debug). Nil means no logging.
	Logger *slog.Logger

	// AllowInsecureHTTP accepts an http jwks_uri (and redirects to http). SSF §7.1
	// (SSF-DISC-3) requires https; this exists for loopback tests and development only.
	AllowInsecureHTTP bool
}

// Defaults of RemoteOptions.
const (
	defaultRemoteTimeout      = 10 * time.Second
	defaultMaxResponseBytes   = 1 << 20
	defaultMinRefreshInterval = time.Minute
	defaultTTL                = time.Hour
	defaultMinTTL             = time.Minute
	defaultMaxTTL             = 24 * time.Hour
	defaultMaxStale           = 24 * time.Hour
	maxRedirects              = 5
)

// RemoteKeySet is a receiver's view of a transmitter's jwks_uri (SSF §4.1.4, §7.1;
// SET-18, SEC-2, SEC-17).
//
// Fetching: the first call of Keys (or Refresh) fetches the JWK Set; concurrent callers
// share one fetch. The keys are cached for the response's freshness lifetime
// (Cache-Control max-age less Age, else Expires, else DefaultTTL, clamped to [MinTTL,
// MaxTTL]; no-store and no-cache mean MinTTL). Refreshes revalidate with If-None-Match
// when the server sent an ETag; a 304 keeps the keys and restarts their lifetime.
//
// Background refresh is refresh-ahead driven by reads: once three quarters of the
// lifetime have passed, the next Keys call starts a refresh in a goroutine and returns the
// cached keys at once, so a busy receiver never waits for a fetch. A call that finds the
// keys expired (an idle receiver) waits for the refresh. No goroutine runs between fetches;
// [RemoteKeySet.Close] cancels a fetch in flight and waits for it to end.
//
// Unknown kid: when no cached key has the kid (a transmitter's key rotation), Keys
// refreshes once and looks again, at most once per MinRefreshInterval however many kids
// are asked for; concurrent callers share the fetch in flight. Rotated-out keys stay valid
// for as long as the transmitter publishes them.
//
// Failures: when a refresh fails (transport error, timeout, HTTP status other than 200 or
// 304, oversized or invalid body), the cached keys are kept and served, stale if need be
// but for at most MaxStale past their expiry (then ErrStaleKeySet until a refresh
// succeeds), the failure is logged, and no automatic fetch is tried again for
// MinRefreshInterval. When
// the first fetch fails there are no keys and Keys returns the error (and, until
// MinRefreshInterval has passed, the same error without fetching again).
//
// The response's Content-Type is not checked: servers send application/json,
// application/jwk-set+json and others, and the body must parse as a JWK Set of public
// asymmetric keys anyway (see [StaticKeySet] for the rules; ignored keys are logged).
//
// A RemoteKeySet is safe for concurrent use. A warm Keys call takes no lock and does not
// allocate.
type RemoteKeySet struct {
	url      string
	logURL   string
	client   *http.Client
	timeout  time.Duration
	maxBytes int64
	minRetry time.Duration
	defTTL   time.Duration
	minTTL   time.Duration
	maxTTL   time.Duration
	now      func() time.Time
	maxStale time.Duration // < 0: no limit
	log      *slog.Logger

	snap atomic.Pointer[remoteSnapshot]

	ctx    context.Context // lives until Close; parent of every fetch
	cancel context.CancelFunc
	wg     sync.WaitGroup // fetch goroutines

	mu          sync.Mutex
	inflight    *fetchCall
	lastAttempt time.Time // start of the latest fetch
	retryAfter  time.Time // after a failed fetch: no automatic fetch before this
	lastErr     error     // the latest fetch error, nil after a success
	closed      bool
}

var _ KeySet = (*RemoteKeySet)(nil)

// remoteSnapshot is one fetched JWK Set with its cache state; immutable.
type remoteSnapshot struct {
	index     *keyIndex
	etag      string
	refreshAt time.Time // refresh ahead from here
	expiresAt time.Time // stale from here
}

// fetchCall is one fetch in flight; done is closed when err is set.
type fetchCall struct {
	done chan struct{}
	err  error
}

// NewRemoteKeySet returns a key set backed by the JWK Set at jwksURI, which must be an
// absolute https URL (or http with AllowInsecureHTTP). It does not fetch yet. Call Close
// when done with it.
func NewRemoteKeySet(jwksURI string, opts RemoteOptions) (*RemoteKeySet, error) {
	u, err := url.Parse(jwksURI)
	if err != nil {
		return nil, fmt.Errorf("keys: jwks_uri: %w", err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("keys: jwks_uri %q is not an absolute https URL", u.Redacted())
	}
	if u.Scheme != "https" && !opts.AllowInsecureHTTP {
		return nil, fmt.Errorf("%w (SSF §7.1): got %q", ErrInsecureURL, u.Redacted())
	}
	for name, d := range map[string]time.Duration{
		"Timeout": opts.Timeout, "MinRefreshInterval": opts.MinRefreshInterval,
		"DefaultTTL": opts.DefaultTTL, "MinTTL": opts.MinTTL, "MaxTTL": opts.MaxTTL,
	} {
		if d < 0 {
			return nil, fmt.Errorf("keys: RemoteOptions.%s is negative (%s)", name, d)
		}
	}
	if opts.MaxResponseBytes < 0 {
		return nil, fmt.Errorf("keys: RemoteOptions.MaxResponseBytes is negative (%d)", opts.MaxResponseBytes)
	}
	r := &RemoteKeySet{
		url:      u.String(),
		logURL:   u.Redacted(),
		timeout:  orDefault(opts.Timeout, defaultRemoteTimeout),
		maxBytes: orDefault(opts.MaxResponseBytes, defaultMaxResponseBytes),
		minRetry: orDefault(opts.MinRefreshInterval, defaultMinRefreshInterval),
		minTTL:   orDefault(opts.MinTTL, defaultMinTTL),
		maxTTL:   orDefault(opts.MaxTTL, defaultMaxTTL),
		maxStale: orDefault(opts.MaxStale, defaultMaxStale),
		now:      opts.Now,
		log:      opts.Logger,
	}
	if r.minTTL > r.maxTTL {
		return nil, fmt.Errorf("keys: RemoteOptions.MinTTL (%s) exceeds MaxTTL (%s)", r.minTTL, r.maxTTL)
	}
	r.defTTL = min(max(orDefault(opts.DefaultTTL, defaultTTL), r.minTTL), r.maxTTL)
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	redirects := redirectPolicy(opts.AllowInsecureHTTP)
	switch {
	case opts.HTTPClient == nil:
		r.client = &http.Client{Timeout: r.timeout, CheckRedirect: redirects}
	case opts.HTTPClient.CheckRedirect == nil:
		c := *opts.HTTPClient
		c.CheckRedirect = redirects
		r.client = &c
	default:
		r.client = opts.HTTPClient
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

func orDefault[T time.Duration | int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// redirectPolicy follows at most maxRedirects redirects, only to the host of the original
// request, and never from https to http unless insecure (SEC-17).
func redirectPolicy(insecure bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: stopped after %d redirects", ErrRedirectRefused, maxRedirects)
		}
		from := via[0].URL
		if !strings.EqualFold(req.URL.Host, from.Host) {
			return fmt.Errorf("%w: jwks_uri on %q redirects to another host %q (SEC-17)", ErrRedirectRefused, from.Host, req.URL.Host)
		}
		if req.URL.Scheme != "https" && !insecure {
			return fmt.Errorf("%w: redirect to %q", ErrInsecureURL, req.URL.Redacted())
		}
		return nil
	}
}

// Keys returns the transmitter's public keys whose kid is kid, or all of them when kid is
// empty, fetching or refreshing the JWK Set as described on [RemoteKeySet]. It returns an
// error wrapping [ErrUnknownKeyID] when no key has the kid (after the rate-limited
// refresh), a fetch error when no keys could ever be fetched, and ctx's error when ctx
// ends while waiting for a fetch.
//
// The returned slice is shared and must not be modified.
func (r *RemoteKeySet) Keys(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	if s := r.snap.Load(); s != nil && r.now().Before(s.refreshAt) {
		if ks, ok := s.index.lookup(kid); ok {
			return ks, nil
		}
	}
	return r.keysSlow(ctx, kid)
}

func (r *RemoteKeySet) keysSlow(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	s, err := r.current(ctx)
	if err != nil {
		return nil, err
	}
	if ks, ok := s.index.lookup(kid); ok {
		return ks, nil
	}
	if kid == "" {
		return nil, s.index.missError(kid)
	}
	// Unknown kid: perhaps the transmitter rotated its key.
	c := r.refreshForUnknownKid()
	var fetchErr error
	if c != nil {
		var ctxErr error
		if fetchErr, ctxErr = r.wait(ctx, c); ctxErr != nil {
			return nil, ctxErr
		}
	}
	// Look in the newest keys: ours, or those of a refresh another caller made meanwhile.
	s = r.snap.Load()
	if ks, ok := s.index.lookup(kid); ok {
		return ks, nil
	}
	if fetchErr != nil {
		return nil, fmt.Errorf("%w (refreshing the JWK Set failed: %w)", s.index.missError(kid), fetchErr)
	}
	return nil, s.index.missError(kid)
}

// current returns keys to look in: the cached snapshot while fresh (starting a
// refresh-ahead when due), else the result of a fetch (waited for), else stale keys when
// that fetch failed, else an error.
func (r *RemoteKeySet) current(ctx context.Context) (*remoteSnapshot, error) {
	now := r.now()
	r.mu.Lock()
	s := r.snap.Load()
	if s != nil && now.Before(s.expiresAt) {
		if !now.Before(s.refreshAt) && r.canFetchLocked(now) {
			r.startLocked(now) // refresh ahead; do not wait
		}
		r.mu.Unlock()
		return s, nil
	}
	// No keys yet, or expired: wait for a fetch.
	c := r.inflight
	if c == nil {
		if !r.canFetchLocked(now) {
			closed, retryAfter, lastErr := r.closed, r.retryAfter, r.lastErr
			r.mu.Unlock()
			switch {
			case s != nil:
				return r.stale(s, now, lastErr) // while fetching is paused after a failure
			case closed:
				return nil, ErrClosed
			default:
				return nil, fmt.Errorf("keys: no JWK Set from %s; the last fetch failed and the next is not before %s: %w",
					r.logURL, retryAfter.Format(time.RFC3339), lastErr)
			}
		}
		c = r.startLocked(now)
	}
	r.mu.Unlock()
	fetchErr, ctxErr := r.wait(ctx, c)
	if ctxErr != nil {
		return nil, ctxErr
	}
	if s := r.snap.Load(); s != nil {
		if fetchErr == nil {
			return s, nil
		}
		return r.stale(s, now, fetchErr) // the fetch failed
	}
	return nil, fmt.Errorf("keys: no JWK Set from %s: %w", r.logURL, fetchErr)
}

// stale returns the expired snapshot s when it may still be used: its refresh failed
// with fetchErr less than MaxStale after its expiry, or no refresh failed (a closed set
// answers from its cache). Else it returns an error wrapping ErrStaleKeySet and fetchErr.
func (r *RemoteKeySet) stale(s *remoteSnapshot, now time.Time, fetchErr error) (*remoteSnapshot, error) {
	if fetchErr == nil || r.maxStale < 0 || now.Before(s.expiresAt.Add(r.maxStale)) {
		return s, nil
	}
	return nil, fmt.Errorf("%w: the JWK Set from %s expired at %s and could not be refreshed for longer than %s: %w",
		ErrStaleKeySet, r.logURL, s.expiresAt.UTC().Format(time.RFC3339), r.maxStale, fetchErr)
}

// canFetchLocked reports whether an automatic (freshness-driven) fetch may start now.
func (r *RemoteKeySet) canFetchLocked(now time.Time) bool {
	return r.inflight == nil && !r.closed && !now.Before(r.retryAfter)
}

// refreshForUnknownKid returns the fetch to wait for after a kid was not found: the one in
// flight, a new one when the last fetch started at least MinRefreshInterval ago, or nil.
func (r *RemoteKeySet) refreshForUnknownKid() *fetchCall {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight != nil {
		return r.inflight
	}
	if r.closed || now.Sub(r.lastAttempt) < r.minRetry {
		return nil
	}
	return r.startLocked(now)
}

// Refresh fetches the JWK Set now, regardless of freshness and of the unknown-kid rate
// limit, or joins a fetch already in flight, and returns its error. On failure the cached
// keys stay in use.
func (r *RemoteKeySet) Refresh(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	c := r.inflight
	if c == nil {
		c = r.startLocked(r.now())
	}
	r.mu.Unlock()
	fetchErr, ctxErr := r.wait(ctx, c)
	if ctxErr != nil {
		return ctxErr
	}
	return fetchErr
}

// Close stops fetching: it cancels a fetch in flight and waits for it to end. Keys keeps
// answering from the cached keys, without fetching. Close always returns nil.
func (r *RemoteKeySet) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}

// wait waits for c or for ctx, whichever ends first; ctxErr is set in the second case.
func (r *RemoteKeySet) wait(ctx context.Context, c *fetchCall) (fetchErr, ctxErr error) {
	select {
	case <-c.done:
		return c.err, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("keys: waiting for the JWK Set from %s: %w", r.logURL, ctx.Err())
	}
}

// startLocked starts a fetch in a goroutine. r.mu must be held.
func (r *RemoteKeySet) startLocked(now time.Time) *fetchCall {
	c := &fetchCall{done: make(chan struct{})}
	r.inflight = c
	r.lastAttempt = now
	prev := r.snap.Load()
	r.wg.Add(1)
	go r.run(c, prev)
	return c
}

// run performs fetch c and publishes its outcome.
func (r *RemoteKeySet) run(c *fetchCall, prev *remoteSnapshot) {
	defer r.wg.Done()
	s, notModified, err := r.fetch(prev)
	if err != nil && r.ctx.Err() != nil {
		err = fmt.Errorf("%w: the fetch in flight was canceled: %w", ErrClosed, err)
	}
	r.mu.Lock()
	if err != nil {
		r.retryAfter = r.now().Add(r.minRetry)
		r.lastErr = err
	} else {
		r.snap.Store(s)
		r.retryAfter = time.Time{}
		r.lastErr = nil
	}
	r.inflight = nil
	c.err = err
	haveKeys := r.snap.Load() != nil
	r.mu.Unlock()
	defer close(c.done) // after logging, so that a waiter sees the log

	switch {
	case err != nil && haveKeys:
		r.log.Warn("keys: JWK Set refresh failed; serving the cached keys", "jwks_uri", r.logURL, "error", err)
	case err != nil:
		r.log.Error("keys: JWK Set fetch failed; no keys yet", "jwks_uri", r.logURL, "error", err)
	default:
		r.log.Debug("keys: fetched JWK Set", "jwks_uri", r.logURL, "keys", len(s.index.all),
			"not_modified", notModified, "fresh_until", s.expiresAt)
	}
}

// fetch GETs the JWK Set, revalidating prev when it has an ETag.
func (r *RemoteKeySet) fetch(prev *remoteSnapshot) (s *remoteSnapshot, notModified bool, err error) {
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	if prev != nil && prev.etag != "" {
		req.Header.Set("If-None-Match", prev.etag)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	defer resp.Body.Close()

	switch resp.StatusCode {
	case http.StatusOK:
		if resp.ContentLength > r.maxBytes {
			return nil, false, fmt.Errorf("%w: %w: Content-Length %d exceeds the limit of %d bytes", ErrFetch, ErrResponseTooLarge, resp.ContentLength, r.maxBytes)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, r.maxBytes+1))
		if err != nil {
			return nil, false, fmt.Errorf("%w: reading the body from %s: %w", ErrFetch, r.logURL, err)
		}
		if int64(len(body)) > r.maxBytes {
			return nil, false, fmt.Errorf("%w: %w: body exceeds the limit of %d bytes", ErrFetch, ErrResponseTooLarge, r.maxBytes)
		}
		keys, skipped, err := parseJWKSet(body)
		if err != nil {
			return nil, false, fmt.Errorf("%w: body from %s: %w", ErrFetch, r.logURL, err)
		}
		for _, sk := range skipped {
			r.log.Warn("keys: ignoring a key of the JWK Set", "jwks_uri", r.logURL, "index", sk.Index, "kid", shortKID(sk.KeyID), "reason", sk.Err)
		}
		now := r.now()
		ttl := r.lifetime(resp.Header, now)
		return &remoteSnapshot{
			index:     newKeyIndex(keys, skipped),
			etag:      resp.Header.Get("ETag"),
			refreshAt: now.Add(ttl * 3 / 4),
			expiresAt: now.Add(ttl),
		}, false, nil
	case http.StatusNotModified:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		if prev == nil || prev.etag == "" {
			return nil, false, fmt.Errorf("%w: %s answered 304 Not Modified to an unconditional request", ErrFetch, r.logURL)
		}
		now := r.now()
		ttl := r.lifetime(resp.Header, now)
		etag := resp.Header.Get("ETag")
		if etag == "" {
			etag = prev.etag
		}
		return &remoteSnapshot{
			index:     prev.index,
			etag:      etag,
			refreshAt: now.Add(ttl * 3 / 4),
			expiresAt: now.Add(ttl),
		}, true, nil
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, false, fmt.Errorf("%w: %s answered HTTP status %s", ErrFetch, r.logURL, resp.Status)
	}
}

// lifetime is the freshness lifetime of a response, clamped to [MinTTL, MaxTTL].
func (r *RemoteKeySet) lifetime(h http.Header, now time.Time) time.Duration {
	d, ok := freshnessLifetime(h, now)
	if !ok {
		d = r.defTTL
	}
	return min(max(d, r.minTTL), r.maxTTL)
}
