package transmitter

import (
	"log/slog"
	"net"
	"time"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// Config configures a [Transmitter]. Issuer, Store and Keys are required; every other
// field has a documented zero value.
type Config struct {
	// Issuer is the Transmitter's issuer identifier (SSF §7.1 "issuer", the "iss" of its
	// SETs and streams): an https URL without query or fragment. When it has a path
	// (e.g. https://tr.example.com/tenant1), the metadata is served at
	// /.well-known/ssf-configuration/tenant1 and every other endpoint under /tenant1
	// (SSF-DISC-14). A trailing "/" is kept as given in "iss" and ignored for paths.
	Issuer string
	// InsecureAllowHTTPIssuer accepts an http:// Issuer, for loopback development and
	// tests only: SSF and the CAEP Interoperability Profile require https. The
	// metadata's endpoints then use http too.
	InsecureAllowHTTPIssuer bool

	// Store keeps streams, subjects and the outbox.
	Store store.Store
	// Keys signs SETs (the active key) and is published at jwks_uri.
	Keys *keys.SigningKeys

	// Registry decodes event payloads for the operator API and tells deprecated event
	// types apart. Nil: ssf.DefaultRegistry().
	Registry *event.Registry
	// EventsSupported is the "events_supported" of every stream: the event types this
	// Transmitter emits. Nil: every type of Registry that is not deprecated
	// (event.Deprecated), which includes the SSF verification and stream-updated types.
	// A deprecated type here is a configuration error.
	EventsSupported []string
	// DefaultSubjects is the metadata "default_subjects" and decides which subjects a
	// stream receives events about before its Receiver adds or removes any (SSF §7.1):
	// ssf.DefaultSubjectsAll or ssf.DefaultSubjectsNone. Empty: ALL.
	DefaultSubjects ssf.DefaultSubjects
	// CriticalSubjectMembers is the metadata "critical_subject_members". Nil: absent.
	CriticalSubjectMembers []string
	// AuthorizationSchemes is the metadata "authorization_schemes". Nil: one scheme,
	// urn:ietf:rfc:6749 (OAuth 2.0), which the CAEP Interoperability Profile requires
	// (IOP-9) and which also describes static bearer tokens: they are RFC 6750 bearer
	// access tokens issued out of band.
	AuthorizationSchemes []ssf.AuthorizationScheme
	// LegacyDiscovery additionally serves the metadata at the legacy well-known names
	// /.well-known/sse-configuration and /.well-known/risc-configuration, and, for an
	// issuer with a path, at the appended forms (<path>/.well-known/ssf-configuration
	// etc.) that some peers look up (vendors §5.2 item 3, DIFF-2). Zero: off.
	LegacyDiscovery bool

	// MinVerificationInterval is the "min_verification_interval" of new streams: the
	// time a Receiver must wait between verification requests (429 otherwise). Zero:
	// 30 seconds. Negative: no minimum (the member is omitted).
	MinVerificationInterval time.Duration
	// InactivityTimeout is the "inactivity_timeout" of new streams (SSF-STREAM-12).
	// Zero: none (the member is omitted and streams never time out).
	InactivityTimeout time.Duration
	// InactivityStatus is what [Transmitter.Run] does to an enabled stream idle for
	// longer than its inactivity_timeout: ssf.StatusPaused or ssf.StatusDisabled.
	// Empty: paused.
	InactivityStatus ssf.Status
	// InactivityCheckInterval is how often [Transmitter.Run] looks for idle streams.
	// Zero: one minute.
	InactivityCheckInterval time.Duration

	// Push is the policy for push endpoint_urls chosen by Receivers.
	Push PushPolicy
	// Poll tunes the poll endpoint. Zero: the defaults of package transmitter/poll.
	Poll PollOptions

	// Authenticator authenticates Receiver clients on the management API and the poll
	// endpoint. Nil: every management request is answered 401.
	Authenticator Authenticator
	// AdminToken is the bearer token of the operator API (/admin/...). Receiver
	// credentials never work there, and it never works on the Receiver API. Empty: the
	// operator API is not served.
	AdminToken string
	// Realm is the realm of WWW-Authenticate challenges. Empty: the Issuer.
	Realm string
	// MaxBodyBytes bounds request bodies (413 beyond it). Zero: 64 KiB.
	MaxBodyBytes int64
	// AcceptLegacySubjects makes the add- and remove-subject endpoints accept legacy
	// subject shapes (subject.ParseLenient: "subject_type", draft format names such as
	// "phone", Complex Subjects without "format"); they are stored in SSF 1.0 form.
	// Zero: only SSF 1.0 Final shapes (400 otherwise).
	AcceptLegacySubjects bool
	// SubjectRate is the sustained rate, per second, of add- and remove-subject requests
	// each Receiver client may make to this node; beyond it (after a burst of
	// SubjectBurst) the requests are answered 429 with Retry-After (SEC-13, SSF §8.1.3).
	// Zero: DefaultSubjectRate. Negative: no limit.
	SubjectRate float64
	// SubjectBurst is how many add- and remove-subject requests a client may make at once.
	// Zero: DefaultSubjectBurst.
	SubjectBurst int
	// JWKSMaxAge is the max-age of the JWK Set response. Keep it shorter than the time a
	// retired key stays published after a rotation. Zero: 5 minutes.
	JWKSMaxAge time.Duration

	// SigningConcurrency bounds the goroutines that sign the SETs of one event in
	// parallel. Zero: GOMAXPROCS.
	SigningConcurrency int

	// Logger receives operational logs; never secrets. Nil: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Nil: time.Now.
	Now func() time.Time
	// Hooks are called on notable events, for metrics. Nil fields are skipped.
	Hooks Hooks
}

// PushPolicy is the policy for push endpoint_urls (SSF §6.1.1), which Receivers choose
// and the Transmitter then POSTs to with a Receiver-chosen Authorization header. The
// zero value requires https and a host that resolves to public addresses only; a
// create or update naming another endpoint is answered 400. The push engine applies the
// same policy again on every connection (SEC-17).
type PushPolicy struct {
	// InsecureAllowHTTP accepts http:// endpoint_urls (loopback development, tests).
	InsecureAllowHTTP bool
	// AllowLoopback accepts hosts that resolve to 127.0.0.0/8 or ::1.
	AllowLoopback bool
	// AllowPrivate accepts hosts that resolve to private (RFC 1918, RFC 6598, fc00::/7)
	// and reserved addresses.
	AllowPrivate bool
	// AllowLinkLocal accepts hosts that resolve to link-local addresses, including cloud
	// metadata services (169.254.169.254).
	AllowLinkLocal bool
	// Resolver resolves endpoint hosts. Nil: net.DefaultResolver.
	Resolver *net.Resolver
}

// Hooks are plain functions the server wires to its metrics. Each is called
// synchronously and must be fast; nil fields are skipped.
type Hooks struct {
	// EventAccepted is called once per emitted event with the number of streams it was
	// queued for (possibly 0).
	EventAccepted func(eventType string, streams int)
	// SETQueued is called for every SET written to the outbox (emitted events,
	// verification and stream-updated SETs).
	SETQueued func(streamID, eventType string)
	// StreamCreated and StreamDeleted are called after a stream was created or deleted.
	StreamCreated func(streamID, clientID string)
	StreamDeleted func(streamID, clientID string)
	// StatusChanged is called after a stream's status changed; byTransmitter tells a
	// Transmitter-initiated change (operator, inactivity) from a Receiver's request.
	StatusChanged func(streamID string, from, to ssf.Status, byTransmitter bool)
	// VerificationRequested is called when a verification SET was queued; solicited
	// tells a Receiver's request from a Transmitter-initiated verification.
	VerificationRequested func(streamID string, solicited bool)
	// AuthFailure is called when a request is refused for its credentials, with the
	// RFC 6750 error code ("invalid_token", "invalid_request", "insufficient_scope") or
	// "missing_token".
	AuthFailure func(api, code string)
}

const (
	defaultMinVerification    = 30 * time.Second
	defaultInactivityInterval = time.Minute
	defaultMaxBody            = 64 << 10
	defaultJWKSMaxAge         = 5 * time.Minute
)
