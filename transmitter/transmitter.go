package transmitter

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/internal/netguard"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// Transmitter is an SSF Transmitter: it implements [ssf.Manager] in process for the
// client in each call's context, emits events into the outbox ([Transmitter.Emit]),
// pauses idle streams ([Transmitter.Run]) and serves the HTTP surface
// ([Transmitter.Handler]). It is safe for concurrent use.
type Transmitter struct {
	cfg       Config
	issuer    string // as configured: the "iss" of streams and SETs
	origin    string // scheme://host[:port]
	basePath  string // escaped issuer path without trailing "/", "" for none
	routePath string // the same unescaped, for ServeMux patterns
	registry  *event.Registry
	supported []string
	isSupp    map[string]bool
	guard     netguard.Policy
	log       *slog.Logger
	now       func() time.Time
	metadata  *ssf.Metadata
	minVerify time.Duration // <= 0: none
	signers   int
	emitter   *emitter
	poll      http.Handler
	subjects  subjectCache
	index     indexCache
	subjectRL *clientLimiter

	createMu sync.Map // client id → *sync.Mutex, serialises creates of SingleStream clients
}

var _ ssf.Manager = (*Transmitter)(nil)

// New returns a Transmitter for cfg. It fails when a required field is missing or a
// value is invalid (the error names the field).
func New(cfg Config) (*Transmitter, error) {
	t := &Transmitter{cfg: cfg, issuer: cfg.Issuer}
	if cfg.Store == nil {
		return nil, errors.New("transmitter: Config.Store is required")
	}
	if cfg.Keys == nil {
		return nil, errors.New("transmitter: Config.Keys is required")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || cfg.Issuer == "" {
		return nil, fmt.Errorf("transmitter: Config.Issuer %q is not a URL", cfg.Issuer)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && cfg.InsecureAllowHTTPIssuer:
	default:
		return nil, fmt.Errorf("transmitter: Config.Issuer %q must be an https URL (InsecureAllowHTTPIssuer allows http for development)", cfg.Issuer)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(cfg.Issuer, "#") {
		return nil, fmt.Errorf("transmitter: Config.Issuer %q must be scheme://host[/path] without user information, query or fragment (SSF §7.1)", cfg.Issuer)
	}
	t.origin = u.Scheme + "://" + u.Host
	t.basePath = strings.TrimSuffix(u.EscapedPath(), "/")
	t.routePath = strings.TrimSuffix(u.Path, "/")
	if strings.ContainsAny(t.routePath, "{}") {
		return nil, fmt.Errorf("transmitter: Config.Issuer %q: the path must not contain { or }", cfg.Issuer)
	}

	t.registry = cfg.Registry
	if t.registry == nil {
		t.registry = ssf.DefaultRegistry()
	}
	if err := t.initEventsSupported(); err != nil {
		return nil, err
	}
	switch cfg.DefaultSubjects {
	case "":
		t.cfg.DefaultSubjects = ssf.DefaultSubjectsAll
	case ssf.DefaultSubjectsAll, ssf.DefaultSubjectsNone:
	default:
		return nil, fmt.Errorf("transmitter: Config.DefaultSubjects %q: want %q or %q", cfg.DefaultSubjects, ssf.DefaultSubjectsAll, ssf.DefaultSubjectsNone)
	}
	switch cfg.InactivityStatus {
	case "":
		t.cfg.InactivityStatus = ssf.StatusPaused
	case ssf.StatusPaused, ssf.StatusDisabled:
	default:
		return nil, fmt.Errorf("transmitter: Config.InactivityStatus %q: want %q or %q", cfg.InactivityStatus, ssf.StatusPaused, ssf.StatusDisabled)
	}
	if cfg.InactivityTimeout < 0 {
		return nil, errors.New("transmitter: Config.InactivityTimeout must not be negative")
	}
	if t.cfg.InactivityCheckInterval <= 0 {
		t.cfg.InactivityCheckInterval = defaultInactivityInterval
	}
	switch {
	case cfg.MinVerificationInterval == 0:
		t.minVerify = defaultMinVerification
	case cfg.MinVerificationInterval > 0:
		t.minVerify = cfg.MinVerificationInterval
	}
	if t.cfg.MaxBodyBytes <= 0 {
		t.cfg.MaxBodyBytes = defaultMaxBody
	}
	if t.cfg.JWKSMaxAge <= 0 {
		t.cfg.JWKSMaxAge = defaultJWKSMaxAge
	}
	if t.cfg.Realm == "" {
		t.cfg.Realm = cfg.Issuer
	}
	if cfg.SubjectBurst < 0 {
		return nil, fmt.Errorf("transmitter: Config.SubjectBurst %d is negative", cfg.SubjectBurst)
	}
	t.subjectRL = newClientLimiter(cfg.SubjectRate, cfg.SubjectBurst)
	t.signers = cfg.SigningConcurrency
	if t.signers <= 0 {
		t.signers = runtime.GOMAXPROCS(0)
	}
	t.guard = netguard.Policy{
		AllowLoopback:  cfg.Push.AllowLoopback,
		AllowPrivate:   cfg.Push.AllowPrivate,
		AllowLinkLocal: cfg.Push.AllowLinkLocal,
	}
	t.log = cfg.Logger
	if t.log == nil {
		t.log = slog.Default()
	}
	t.now = cfg.Now
	if t.now == nil {
		t.now = time.Now
	}
	if cfg.AdminToken != "" && sharesToken(cfg.Authenticator, cfg.AdminToken) {
		return nil, errors.New("transmitter: Config.AdminToken is also a Receiver token: the operator credential must be separate")
	}
	md, err := t.buildMetadata()
	if err != nil {
		return nil, err
	}
	t.metadata = md
	em, err := newEmitter(t)
	if err != nil {
		return nil, err
	}
	t.emitter = em
	if t.poll, err = t.newPollHandler(); err != nil {
		return nil, fmt.Errorf("transmitter: %w", err)
	}
	return t, nil
}

// initEventsSupported computes the supported event types (Config.EventsSupported).
func (t *Transmitter) initEventsSupported() error {
	list := t.cfg.EventsSupported
	explicit := list != nil
	if !explicit {
		list = t.registry.Types()
	}
	t.isSupp = make(map[string]bool, len(list))
	t.supported = make([]string, 0, len(list))
	for _, typ := range list {
		if typ == "" {
			return errors.New("transmitter: Config.EventsSupported has an empty event type URI")
		}
		if c, ok := t.registry.Canonical(typ); ok && c != typ {
			return fmt.Errorf("transmitter: Config.EventsSupported: %s is a legacy alias of %s; list the type itself", typ, c)
		}
		if repl, dep := t.deprecated(typ); dep {
			if explicit {
				return fmt.Errorf("transmitter: Config.EventsSupported: %s is deprecated; emit %s instead", typ, repl)
			}
			continue
		}
		if t.isSupp[typ] {
			continue
		}
		t.isSupp[typ] = true
		t.supported = append(t.supported, typ)
	}
	return nil
}

// deprecated reports whether the registered type typ is deprecated (event.Deprecated),
// probing its Go type with an empty payload. A type whose empty payload does not decode
// is reported as not deprecated; Emit still refuses a deprecated event.
func (t *Transmitter) deprecated(typ string) (replacedBy string, ok bool) {
	ev, err := t.registry.Decode(typ, []byte("{}"))
	if err != nil {
		return "", false
	}
	if d, isDep := ev.(event.Deprecated); isDep {
		return d.ReplacedBy(), true
	}
	return "", false
}

// Issuer returns the issuer identifier.
func (t *Transmitter) Issuer() string { return t.issuer }

// EventsSupported returns the event types this Transmitter emits (a copy).
func (t *Transmitter) EventsSupported() []string { return slices.Clone(t.supported) }

// Metadata returns the Transmitter Configuration Metadata (SSF §7.1) served at the
// well-known URL (a copy).
func (t *Transmitter) Metadata() *ssf.Metadata {
	m := *t.metadata
	m.DeliveryMethodsSupported = slices.Clone(m.DeliveryMethodsSupported)
	m.CriticalSubjectMembers = slices.Clone(m.CriticalSubjectMembers)
	m.AuthorizationSchemes = slices.Clone(m.AuthorizationSchemes)
	return &m
}

// endpoint returns the absolute URL of path under the issuer.
func (t *Transmitter) endpoint(path string) string { return t.origin + t.basePath + path }

// Paths of the HTTP surface, relative to the issuer path.
const (
	pathStream        = "/ssf/stream"
	pathStatus        = "/ssf/status"
	pathSubjectAdd    = "/ssf/subjects:add"
	pathSubjectRemove = "/ssf/subjects:remove"
	pathVerify        = "/ssf/verify"
	pathPoll          = "/ssf/poll/"
	pathJWKS          = "/jwks.json"
	pathAdmin         = "/admin/"
)

func (t *Transmitter) buildMetadata() (*ssf.Metadata, error) {
	m := &ssf.Metadata{
		SpecVersion:              ssf.SpecVersion1_0,
		Issuer:                   t.issuer,
		JWKSURI:                  t.endpoint(pathJWKS),
		DeliveryMethodsSupported: []string{ssf.DeliveryPush, ssf.DeliveryPoll},
		ConfigurationEndpoint:    t.endpoint(pathStream),
		StatusEndpoint:           t.endpoint(pathStatus),
		AddSubjectEndpoint:       t.endpoint(pathSubjectAdd),
		RemoveSubjectEndpoint:    t.endpoint(pathSubjectRemove),
		VerificationEndpoint:     t.endpoint(pathVerify),
		CriticalSubjectMembers:   slices.Clone(t.cfg.CriticalSubjectMembers),
		AuthorizationSchemes:     slices.Clone(t.cfg.AuthorizationSchemes),
		DefaultSubjects:          t.cfg.DefaultSubjects,
	}
	if len(m.CriticalSubjectMembers) == 0 {
		m.CriticalSubjectMembers = nil
	}
	if m.AuthorizationSchemes == nil {
		m.AuthorizationSchemes = []ssf.AuthorizationScheme{{SpecURN: ssf.SpecURNOAuth2}}
	}
	if err := m.ValidateWith(ssf.ValidateOptions{InsecureAllowHTTP: t.cfg.InsecureAllowHTTPIssuer}); err != nil {
		return nil, fmt.Errorf("transmitter: the configuration yields invalid metadata: %w", err)
	}
	if !t.cfg.InsecureAllowHTTPIssuer {
		if err := m.ValidateInteropProfile(ssf.InteropOptions{}); err != nil {
			t.log.Warn("transmitter metadata does not meet the CAEP Interoperability Profile", "error", err)
		}
	}
	return m, nil
}

// newID returns a fresh random identifier: 26 characters of base32 (A–Z, 2–7), 130 bits
// from crypto/rand. Used for stream_id (RFC 3986 unreserved characters, SSF-STREAM-3),
// jti and txn.
func newID() string { return rand.Text() }

// ---------------------------------------------------------------------------------------
// Errors

// notFound is the one answer for a stream that does not exist and for a stream of
// another client (SEC-8): the same status and the same text.
func notFound(streamID string) error {
	return ssf.Errorf(http.StatusNotFound, "no stream with stream_id %q for this receiver", streamID)
}

// badRequest wraps a decoding or validation error (typically *ssf.MemberError, or
// several joined) as a 400 whose description lists every problem on one line.
func badRequest(err error) error {
	return &ssf.Error{Status: http.StatusBadRequest, Description: oneLine(err.Error()), Err: err}
}

// oneLine joins the lines of a multi-error message with "; ".
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

func unauthorized() error {
	return ssf.Errorf(http.StatusUnauthorized, "no authenticated receiver client")
}

// storeErr maps a store error of an operation on streamID to a management error.
func storeErr(op, streamID string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return notFound(streamID)
	case errors.Is(err, store.ErrClosed):
		return &ssf.Error{Status: http.StatusServiceUnavailable, Description: "the transmitter is shutting down", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("transmitter: %s: %w", op, err)
	}
	return fmt.Errorf("transmitter: %s: %w", op, err)
}

// ---------------------------------------------------------------------------------------
// Stream access

// client returns the client in ctx or ErrUnauthorized.
func (t *Transmitter) client(ctx context.Context) (*Client, error) {
	c := ClientFromContext(ctx)
	if c == nil || c.ID == "" {
		return nil, unauthorized()
	}
	return c, nil
}

// ownStream loads streamID for c; another client's stream is not found.
func (t *Transmitter) ownStream(ctx context.Context, c *Client, streamID string) (*store.Stream, error) {
	if streamID == "" {
		return nil, ssf.Errorf(http.StatusBadRequest, "stream_id is required")
	}
	s, err := t.cfg.Store.GetStream(ctx, streamID)
	if err != nil {
		return nil, storeErr("reading the stream", streamID, err)
	}
	if s.ClientID != c.ID {
		return nil, notFound(streamID)
	}
	return s, nil
}

// touch records receiver activity on a stream (SSF-STREAM-13). A failure is logged,
// not returned: the request itself succeeded.
func (t *Transmitter) touch(ctx context.Context, streamID string) {
	if err := t.cfg.Store.TouchStream(ctx, streamID, t.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.log.Warn("recording receiver activity failed", "stream_id", streamID, "error", err)
	}
}

// maxConflictRetries bounds the read-modify-write retries of modify.
const maxConflictRetries = 8

// modify applies fn to stream streamID (of client c, or of any client when c is nil) and
// writes the result with the change fn returns, retrying on a revision conflict. When fn
// fails nothing is written.
func (t *Transmitter) modify(ctx context.Context, c *Client, streamID string, fn func(s *store.Stream) (store.StreamChange, error)) (*store.Stream, error) {
	for attempt := 0; ; attempt++ {
		var (
			s   *store.Stream
			err error
		)
		if c != nil {
			s, err = t.ownStream(ctx, c, streamID)
		} else {
			s, err = t.cfg.Store.GetStream(ctx, streamID)
			err = storeErr("reading the stream", streamID, err)
		}
		if err != nil {
			return nil, err
		}
		change, err := fn(s)
		if err != nil {
			return nil, err
		}
		err = t.cfg.Store.UpdateStream(ctx, s, change)
		if errors.Is(err, store.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		if errors.Is(err, store.ErrConflict) {
			return nil, &ssf.Error{Status: http.StatusServiceUnavailable, Description: "the stream is being changed concurrently; retry", Err: err}
		}
		if err != nil {
			return nil, storeErr("updating the stream", streamID, err)
		}
		return s, nil
	}
}

// secondsPtr returns d in whole seconds (rounded up), or nil when d <= 0.
func secondsPtr(d time.Duration) *int {
	if d <= 0 {
		return nil
	}
	n := int((d + time.Second - 1) / time.Second)
	return &n
}
