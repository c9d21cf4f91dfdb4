package push

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/sigshare/sigshare/store"
)

// Defaults for the zero values of Config.
const (
	DefaultConcurrency    = 8
	DefaultBatchSize      = 100
	DefaultRequestTimeout = 10 * time.Second
	DefaultLeaseDuration  = 5 * time.Minute
	DefaultMaxAttempts    = 20
	DefaultMaxAge         = 72 * time.Hour
	DefaultBackoffInitial = 2 * time.Second
	DefaultBackoffMax     = time.Hour
)

// Config configures an Engine. The zero value of every field but Store is usable.
type Config struct {
	// Store is the outbox (Lease, Ack, Retry, DeadLetter, NextDue, Subscribe) and the
	// stream records (GetStream). Required.
	Store store.Store

	// HTTPClient sends the push requests. nil: a client of internal/netguard that
	// connects only to public unicast addresses (see the Insecure... switches), never
	// follows redirects, uses no proxy, and times out after RequestTimeout. A client
	// given here replaces that client and with it the SSRF guard (SEC-17): its dialer
	// must enforce an equivalent policy.
	HTTPClient *http.Client
	// Transport, used only when HTTPClient is nil, is the base of the default client's
	// transport (for example to set TLS root CAs); it is cloned and its dialer replaced
	// by the guarded one. nil: http.DefaultTransport's settings.
	Transport *http.Transport
	// InsecureAllowLoopback lets the default client connect to loopback addresses
	// (127.0.0.0/8, ::1): development and tests only.
	InsecureAllowLoopback bool
	// InsecureAllowPrivate lets the default client connect to private addresses (RFC
	// 1918, 100.64.0.0/10, fc00::/7), for receivers inside the transmitter's network.
	InsecureAllowPrivate bool
	// InsecureAllowLinkLocal lets the default client connect to link-local addresses
	// (169.254.0.0/16, fe80::/10), which include cloud metadata services.
	InsecureAllowLinkLocal bool
	// InsecureAllowHTTP lets the engine push to http:// endpoint URLs. false: an
	// endpoint_url must be https (RFC 8935 §5.3, PUSH-11); a stream whose endpoint_url is
	// not is retried (its owner can fix it) and eventually dead-lettered.
	InsecureAllowHTTP bool

	// Owner names this engine in leases. Engines sharing a store need distinct owners. An
	// Owner that stays the same across restarts of a node (for example "push/" and a node
	// id) lets a restarted engine reclaim at once the leases its previous run held when it
	// crashed: Run starts with store.ReleaseOwner. Two engines that run at the same time
	// with one Owner would take each other's leases. Empty: "push/<host>/<pid>/<random>",
	// new for every Engine, so nothing is reclaimed (those SETs wait for their leases to
	// expire).
	Owner string
	// Concurrency is how many streams are delivered in parallel (0: DefaultConcurrency).
	Concurrency int
	// BatchSize is the most SETs leased at once (0: DefaultBatchSize); the engine holds
	// at most 2×BatchSize SETs (queued or in flight).
	BatchSize int
	// LeaseDuration is how long a leased SET stays reserved for this engine
	// (0: DefaultLeaseDuration, or 2×RequestTimeout when that is longer). The engine renews
	// the leases of the SETs it holds once half of the lease has passed (store.Renew), so
	// the duration bounds only how long the SETs of an engine that died wait before
	// another engine takes them over. It must exceed RequestTimeout: a lease must outlast
	// the request it covers, or another engine may send the SET at the same time; three
	// times RequestTimeout or more leaves room for late renewals.
	LeaseDuration time.Duration
	// RequestTimeout bounds one push request, from connecting to reading the answer
	// (0: DefaultRequestTimeout).
	RequestTimeout time.Duration
	// MaxAttempts is the number of failed attempts after which a SET is dead-lettered
	// (0: DefaultMaxAttempts; negative: no limit, only MaxAge applies).
	MaxAttempts int
	// MaxAge is how long after its CreatedAt a SET may still be attempted; a SET older
	// than that, or whose next attempt would come later, is dead-lettered
	// (0: DefaultMaxAge; negative: no limit). Note that SETs held for a paused stream
	// age too.
	MaxAge time.Duration
	// Backoff is the delay between attempts of one SET.
	Backoff Backoff

	// Logger receives operational logs (never SET contents or authorization headers).
	// nil: nothing is logged.
	Logger *slog.Logger
	// Now returns the current time (nil: time.Now). Lease, retry and age computations use
	// it; timers use the differences between its values.
	Now func() time.Time
	// Hooks observe deliveries, for metrics.
	Hooks Hooks
}

// Backoff is exponential backoff with full jitter: after the n-th failed attempt of a
// SET the next one is scheduled a uniformly random delay in [0, min(Max, Initial·2ⁿ⁻¹)]
// later, but not earlier than the receiver's Retry-After (itself capped at Max).
type Backoff struct {
	// Initial is the delay bound after the first failure (0: DefaultBackoffInitial).
	Initial time.Duration
	// Max bounds every delay, Retry-After included (0: DefaultBackoffMax).
	Max time.Duration
}

// Reason classifies the outcome of a failed push, for metrics (low cardinality) and
// hooks. The text that explains one failure goes to the SET's LastError or DeadReason.
type Reason string

// Failure reasons.
const (
	// ReasonTimeout: no answer within RequestTimeout (or 408 Request Timeout).
	ReasonTimeout Reason = "timeout"
	// ReasonConnection: DNS resolution or connecting failed, or the connection broke.
	ReasonConnection Reason = "connection"
	// ReasonTLS: the TLS handshake failed (for example the receiver's certificate is not
	// valid for its host, PUSH-10).
	ReasonTLS Reason = "tls"
	// ReasonForbiddenAddress: the SSRF guard refused the endpoint's address (SEC-17).
	ReasonForbiddenAddress Reason = "forbidden_address"
	// ReasonInvalidEndpoint: the stream's endpoint_url cannot be used (not https, not a
	// URL, user information in it) or the stream has none.
	ReasonInvalidEndpoint Reason = "invalid_endpoint"
	// ReasonRedirect: the receiver answered 3xx; redirects are not followed (SEC-17).
	ReasonRedirect Reason = "redirect"
	// ReasonUnauthorized: 401, 403, or 400 with authentication_failed or access_denied.
	ReasonUnauthorized Reason = "unauthorized"
	// ReasonNotFound: 404 or 405: the endpoint_url does not name a push endpoint.
	ReasonNotFound Reason = "not_found"
	// ReasonRateLimited: 429 Too Many Requests.
	ReasonRateLimited Reason = "rate_limited"
	// ReasonServerError: 5xx, or a status outside the HTTP classes.
	ReasonServerError Reason = "server_error"
	// ReasonRejected: the receiver rejected the SET for good (see the outcome table in
	// the package documentation); the SET is dead-lettered at once.
	ReasonRejected Reason = "rejected"
	// ReasonMaxAttempts: dead-lettered after Config.MaxAttempts failed attempts.
	ReasonMaxAttempts Reason = "max_attempts"
	// ReasonMaxAge: dead-lettered because it was older than Config.MaxAge.
	ReasonMaxAge Reason = "max_age"
)

// Hooks are called synchronously by the engine's workers; they must be fast and safe for
// concurrent use. nil hooks are skipped.
type Hooks struct {
	// Delivered is called when a receiver accepted a SET (2xx) and the SET was removed
	// from the outbox (the acker's store.Ack), with the time from the SET's CreatedAt to
	// the 2xx answer.
	Delivered func(streamID string, latency time.Duration)
	// Retried is called when a SET is rescheduled after a failure, including SETs
	// rescheduled without a request because their stream's endpoint is failing.
	Retried func(streamID string, reason Reason)
	// DeadLettered is called when a SET is parked: ReasonRejected, ReasonMaxAttempts or
	// ReasonMaxAge.
	DeadLettered func(streamID string, reason Reason)
	// RequestFailed is called once per push request that did not end in a 2xx answer,
	// with the class of the failure.
	RequestFailed func(streamID string, reason Reason)
}

// settings is Config with defaults applied and derived limits.
type settings struct {
	Config
	quantum int // SETs of one stream a worker sends before it yields to a waiting stream
	maxHeld int // most SETs held at once
	client  *http.Client
}

func newSettings(cfg Config) (*settings, error) {
	if cfg.Store == nil {
		return nil, errors.New("push: Config.Store is required")
	}
	var errs []error
	neg := func(name string, v int64) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("push: Config.%s is negative (%d)", name, v))
		}
	}
	neg("Concurrency", int64(cfg.Concurrency))
	neg("BatchSize", int64(cfg.BatchSize))
	neg("LeaseDuration", int64(cfg.LeaseDuration))
	neg("RequestTimeout", int64(cfg.RequestTimeout))
	neg("Backoff.Initial", int64(cfg.Backoff.Initial))
	neg("Backoff.Max", int64(cfg.Backoff.Max))
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = max(DefaultLeaseDuration, 2*cfg.RequestTimeout)
	}
	if cfg.LeaseDuration <= cfg.RequestTimeout {
		return nil, fmt.Errorf("push: Config.LeaseDuration (%v) must exceed Config.RequestTimeout (%v): a lease must outlast the request it covers", cfg.LeaseDuration, cfg.RequestTimeout)
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Backoff.Initial == 0 {
		cfg.Backoff.Initial = DefaultBackoffInitial
	}
	if cfg.Backoff.Max == 0 {
		cfg.Backoff.Max = max(DefaultBackoffMax, cfg.Backoff.Initial)
	}
	if cfg.Backoff.Initial > cfg.Backoff.Max {
		return nil, fmt.Errorf("push: Config.Backoff.Initial (%v) exceeds Config.Backoff.Max (%v)", cfg.Backoff.Initial, cfg.Backoff.Max)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Owner == "" {
		cfg.Owner = defaultOwner("push")
	}
	s := &settings{Config: cfg}
	s.quantum = max(1, min(cfg.BatchSize, int(cfg.LeaseDuration/cfg.RequestTimeout)-1))
	s.maxHeld = max(2*cfg.BatchSize, cfg.Concurrency)
	s.client = cfg.HTTPClient
	if s.client == nil {
		s.client = newGuardedClient(cfg)
	}
	return s, nil
}

// defaultOwner returns "<prefix>/<host>/<pid>/<random>".
func defaultOwner(prefix string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%s/%d/%s", prefix, host, os.Getpid(), hex.EncodeToString(b[:]))
}
