package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/transmitter"
	"github.com/sigshare/sigshare/transmitter/push"
)

// DefaultShutdownTimeout bounds [TransmitterNode.Serve]'s and [ReceiverNode.Serve]'s
// shutdown when the options name none.
const DefaultShutdownTimeout = 30 * time.Second

// StaticClient is a receiver client authenticated by a pre-shared bearer token (RFC 6750
// token issued out of band).
type StaticClient struct {
	// Name is the client id: the owner of the streams the client creates (AMB-13) and,
	// unless Policy names an audience, the "aud" of its streams and SETs.
	Name string
	// Token is the bearer token. It is a secret: never logged.
	Token string
	// Policy is what the client may do (one stream only, audience, verification on
	// create). Zero: several streams, audience Name.
	Policy transmitter.ClientPolicy
}

// OAuthOptions configures receiver authentication with OAuth 2.0 JWT access tokens
// (CAEP-IOP §2.7, IOP-14, IOP-15): tokens issued by one authorization server, with the
// scopes ssf.read, ssf.manage and ssf.manage.poll.
type OAuthOptions struct {
	// Issuer is the authorization server's issuer: the tokens' "iss". Required.
	Issuer string
	// JWKSURL is the authorization server's jwks_uri (https). Required unless KeySet.
	JWKSURL string
	// KeySet, instead of JWKSURL, holds the authorization server's public keys (tests).
	KeySet keys.KeySet
	// Audience lists the accepted "aud" values of access tokens. Nil: the transmitter's
	// issuer.
	Audience []string
	// HTTPClient fetches JWKSURL. Nil: the keys package's default client.
	HTTPClient *http.Client
	// Policies are the policies of OAuth clients by client_id (SET profile, one stream
	// only, …). A client not listed gets the zero transmitter.ClientPolicy.
	Policies map[string]transmitter.ClientPolicy
	// InsecureAllowHTTP accepts an http JWKSURL (loopback development only).
	InsecureAllowHTTP bool
}

// TransmitterOptions configures [NewTransmitter]. Issuer, Store and Keys are required;
// the zero value of every other field is documented.
type TransmitterOptions struct {
	// Issuer is the transmitter's issuer identifier (SSF §7.1): an https URL; its path, if
	// any, prefixes every endpoint. It is where receivers reach the node, which may be a
	// TLS-terminating proxy in front of a plain HTTP listener.
	Issuer string
	// InsecureAllowHTTP accepts an http:// Issuer and lets the push engine send to
	// http:// endpoint URLs. Loopback development only: SSF requires https.
	InsecureAllowHTTP bool

	// Store keeps streams, subjects and the outbox. The node does not close it.
	Store store.Store
	// Keys sign SETs (the active key) and are published at jwks_uri (with the retired
	// keys, during a rotation).
	Keys *keys.SigningKeys

	// StaticClients are receiver clients authenticated by static bearer tokens.
	StaticClients []StaticClient
	// OAuth, when not nil, also accepts OAuth 2.0 JWT access tokens. With neither
	// StaticClients nor OAuth every management and poll request is refused (401).
	OAuth *OAuthOptions
	// AdminToken is the bearer token of the operator API (<issuer>/admin/...). Empty: the
	// operator API is not served. A secret: never logged.
	AdminToken string

	// TLS is the listener's TLS. Zero: plain HTTP.
	TLS TLSOptions

	// InsecureAllowLoopbackPush accepts push endpoint_urls on loopback addresses
	// (127.0.0.0/8, ::1), at registration and at every connection (SEC-17). Development.
	InsecureAllowLoopbackPush bool
	// InsecureAllowPrivatePush accepts push endpoint_urls on private addresses (RFC 1918,
	// RFC 6598, fc00::/7): receivers inside the transmitter's own network.
	InsecureAllowPrivatePush bool
	// InsecureAllowLinkLocalPush accepts push endpoint_urls on link-local addresses,
	// cloud metadata services included. Leave it off unless you know why.
	InsecureAllowLinkLocalPush bool
	// PushRootCAs are the roots the push engine trusts for receivers' TLS certificates.
	// Nil: the system roots.
	PushRootCAs *x509.CertPool
	// DisablePush runs no push engine on this node (another node delivers); push streams
	// can still be managed.
	DisablePush bool

	// NodeID identifies this node among the nodes that share the store, and stays the
	// same across its restarts: the push engine's lease owner is "push/<NodeID>", and at
	// every start the engine reclaims the leases that owner still holds (a previous run
	// that crashed, or stopped before it could give them back), so that those SETs are
	// delivered at once instead of after the lease. Two nodes running at the same time
	// must never share an id: each would take over the other's leases at start and send
	// SETs the other is sending. Empty: Push.Owner, or a random owner new at every start
	// (nothing is reclaimed; those SETs wait for their leases to expire). See
	// ValidNodeID.
	NodeID string

	// Transmitter tunes the transmitter (event types, default_subjects, inactivity,
	// poll endpoint, limits, clock, …). Its Issuer, InsecureAllowHTTPIssuer, Store, Keys,
	// Authenticator, AdminToken, Push and Logger are set from these options; its Hooks
	// and Poll.Hooks are called after the node's metrics.
	Transmitter transmitter.Config
	// Push tunes the push engine (concurrency, batch size, timeouts, lease duration,
	// attempts, backoff, owner name). Its Store, HTTPClient, Transport, Insecure...
	// switches and Logger are set from these options, and its Owner from NodeID when that
	// is set; its Hooks are called after the node's metrics.
	Push push.Config

	// Logger receives the node's logs (never secrets). Nil: slog.Default().
	Logger *slog.Logger
	// Metrics is the registry the node's metrics are registered on and /metrics serves.
	// Nil: a new registry with the Go runtime and process collectors.
	Metrics *prometheus.Registry
	// ShutdownTimeout bounds the shutdown of [TransmitterNode.Serve]. Zero:
	// [DefaultShutdownTimeout].
	ShutdownTimeout time.Duration
}

// TransmitterNode is a complete transmitter: the SSF HTTP surface (metadata, JWK Set,
// stream management, poll endpoint, operator API), the push engine, the background work
// (inactivity), /metrics, /healthz and /readyz, on one listener.
type TransmitterNode struct {
	opts     TransmitterOptions
	log      *slog.Logger
	tr       *transmitter.Transmitter
	engine   *push.Engine
	remote   *keys.RemoteKeySet
	reg      *prometheus.Registry
	tlsConf  *tls.Config
	handler  http.Handler
	srv      *http.Server
	stopping chan struct{} // closed when Shutdown starts: ends long polls

	mu       sync.Mutex
	started  bool
	addr     net.Addr
	bgCancel context.CancelFunc
	bgDone   sync.WaitGroup
	lifecycle
}

// NewTransmitter checks opts, builds the transmitter, the push engine and the metrics,
// and checks that the store answers (bounded by ctx). It listens on nothing yet: see
// [TransmitterNode.Start] and [TransmitterNode.Serve].
func NewTransmitter(ctx context.Context, opts TransmitterOptions) (*TransmitterNode, error) {
	if opts.Store == nil {
		return nil, errors.New("transmitter node: a store is required")
	}
	if opts.Keys == nil {
		return nil, errors.New("transmitter node: signing keys are required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	tlsConf, err := opts.TLS.serverConfig()
	if err != nil {
		return nil, fmt.Errorf("transmitter node: %w", err)
	}
	if opts.NodeID != "" {
		if err := ValidNodeID(opts.NodeID); err != nil {
			return nil, fmt.Errorf("transmitter node: %w", err)
		}
	}
	if err := opts.Store.Ping(ctx); err != nil {
		return nil, fmt.Errorf("transmitter node: the store does not answer: %w", err)
	}
	reg := opts.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
		registerRuntime(reg)
	}
	metrics := newTransmitterMetrics(reg)
	n := &TransmitterNode{opts: opts, log: log, reg: reg, tlsConf: tlsConf, stopping: make(chan struct{}), lifecycle: newLifecycle()}

	auth, err := n.authenticator()
	if err != nil {
		return nil, err
	}

	cfg := opts.Transmitter
	cfg.Issuer = opts.Issuer
	cfg.InsecureAllowHTTPIssuer = opts.InsecureAllowHTTP
	cfg.Store = opts.Store
	cfg.Keys = opts.Keys
	cfg.Authenticator = auth
	cfg.AdminToken = opts.AdminToken
	cfg.Logger = log
	cfg.Push = transmitter.PushPolicy{
		InsecureAllowHTTP: opts.InsecureAllowHTTP,
		AllowLoopback:     opts.InsecureAllowLoopbackPush,
		AllowPrivate:      opts.InsecureAllowPrivatePush,
		AllowLinkLocal:    opts.InsecureAllowLinkLocalPush,
		Resolver:          opts.Transmitter.Push.Resolver,
	}
	cfg.Hooks = metrics.transmitterHooks(opts.Transmitter.Hooks)
	cfg.Poll.Hooks = metrics.pollHooks(opts.Transmitter.Poll.Hooks)
	tr, err := transmitter.New(cfg)
	if err != nil {
		n.closeRemote()
		return nil, fmt.Errorf("transmitter node: %w", err)
	}
	n.tr = tr
	metrics.outbox = newOutboxCollector(tr.Streams, log)
	reg.MustRegister(metrics.outbox)

	if !opts.DisablePush {
		pc := opts.Push
		pc.Store = opts.Store
		pc.HTTPClient = nil
		pc.Transport = ClientTransport(opts.PushRootCAs)
		pc.InsecureAllowHTTP = opts.InsecureAllowHTTP
		pc.InsecureAllowLoopback = opts.InsecureAllowLoopbackPush
		pc.InsecureAllowPrivate = opts.InsecureAllowPrivatePush
		pc.InsecureAllowLinkLocal = opts.InsecureAllowLinkLocalPush
		if opts.NodeID != "" {
			pc.Owner = "push/" + opts.NodeID
		}
		pc.Logger = log.With("component", "push")
		pc.Hooks = metrics.pushHooks(opts.Push.Hooks)
		engine, err := push.New(pc)
		if err != nil {
			n.closeRemote()
			return nil, fmt.Errorf("transmitter node: push engine: %w", err)
		}
		n.engine = engine
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler(reg))
	mux.Handle("/", endLongPolls(tr.Handler(), n.stopping))
	n.handler = mux
	n.srv = newHTTPServer(n.handler, tlsConf, log, longPollTimeout(opts.Transmitter.Poll.LongPollTimeout))
	return n, nil
}

// authenticator builds the receiver authentication of the options.
func (n *TransmitterNode) authenticator() (transmitter.Authenticator, error) {
	var auths []transmitter.Authenticator
	if len(n.opts.StaticClients) > 0 {
		tokens := make(map[string]transmitter.Client, len(n.opts.StaticClients))
		for _, c := range n.opts.StaticClients {
			if c.Name == "" || c.Token == "" {
				return nil, errors.New("transmitter node: a static client needs a name and a token")
			}
			if _, dup := tokens[c.Token]; dup {
				return nil, fmt.Errorf("transmitter node: static client %q: its token is also another client's token", c.Name)
			}
			tokens[c.Token] = transmitter.Client{ID: c.Name, ClientPolicy: c.Policy}
		}
		st, err := transmitter.NewStaticTokens(tokens)
		if err != nil {
			return nil, fmt.Errorf("transmitter node: static clients: %w", err)
		}
		auths = append(auths, st)
	}
	if o := n.opts.OAuth; o != nil {
		ks := o.KeySet
		if ks == nil {
			if o.JWKSURL == "" {
				return nil, errors.New("transmitter node: OAuth needs the authorization server's JWKS URL")
			}
			remote, err := keys.NewRemoteKeySet(o.JWKSURL, keys.RemoteOptions{
				HTTPClient:        o.HTTPClient,
				Logger:            n.log.With("component", "oauth-jwks"),
				AllowInsecureHTTP: o.InsecureAllowHTTP,
			})
			if err != nil {
				return nil, fmt.Errorf("transmitter node: OAuth JWKS: %w", err)
			}
			n.remote = remote
			ks = remote
		}
		aud := o.Audience
		if len(aud) == 0 {
			aud = []string{n.opts.Issuer}
		}
		oc := transmitter.OAuthConfig{Issuer: o.Issuer, Audience: aud, KeySet: ks}
		if len(o.Policies) > 0 {
			policies := maps.Clone(o.Policies)
			oc.Policy = func(id string) (transmitter.ClientPolicy, bool) { return policies[id], true }
		}
		ot, err := transmitter.NewOAuthTokens(oc)
		if err != nil {
			n.closeRemote()
			return nil, fmt.Errorf("transmitter node: OAuth: %w", err)
		}
		auths = append(auths, ot)
	}
	switch len(auths) {
	case 0:
		return nil, nil
	case 1:
		return auths[0], nil
	}
	return transmitter.Chain(auths...), nil
}

func (n *TransmitterNode) closeRemote() {
	if n.remote != nil {
		_ = n.remote.Close()
	}
}

// Transmitter returns the node's transmitter (emission, operator functions, the
// in-process ssf.Manager).
func (n *TransmitterNode) Transmitter() *transmitter.Transmitter { return n.tr }

// Issuer returns the issuer identifier.
func (n *TransmitterNode) Issuer() string { return n.tr.Issuer() }

// Metrics returns the registry /metrics serves.
func (n *TransmitterNode) Metrics() *prometheus.Registry { return n.reg }

// Handler returns the node's complete HTTP handler: the transmitter's surface, /metrics,
// /healthz and /readyz. Start serves it; tests may serve it themselves.
func (n *TransmitterNode) Handler() http.Handler { return n.handler }

// Start serves the node on l (with TLS when configured) and starts the push engine and
// the background work; it returns at once. Serving errors end the node: see Done and Err.
// Start may be called once.
func (n *TransmitterNode) Start(l net.Listener) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started {
		return errors.New("transmitter node: already started")
	}
	select {
	case <-n.stopping:
		return errors.New("transmitter node: shut down")
	default:
	}
	n.started = true
	n.addr = l.Addr()
	bg, cancel := context.WithCancel(context.Background())
	n.bgCancel = cancel
	if n.engine != nil {
		n.bgDone.Go(func() {
			if err := n.engine.Run(bg); err != nil {
				n.log.Error("push engine stopped", "error", err)
			}
		})
	}
	n.bgDone.Go(func() {
		if err := n.tr.Run(bg); err != nil {
			n.log.Error("transmitter background work stopped", "error", err)
		}
	})
	n.serveOn(n.srv, l, n.tlsConf)
	n.log.Info("transmitter listening", "addr", l.Addr().String(), "issuer", n.tr.Issuer(), "tls", n.tlsConf != nil)
	return nil
}

// Serve starts the node on l and runs it until ctx ends, then shuts it down within
// ShutdownTimeout. It returns the serving error, or the shutdown's error, or nil.
func (n *TransmitterNode) Serve(ctx context.Context, l net.Listener) error {
	if err := n.Start(l); err != nil {
		return err
	}
	return n.runUntil(ctx, n.opts.ShutdownTimeout, n.Shutdown)
}

// Addr returns the listener's address (nil before Start).
func (n *TransmitterNode) Addr() net.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// URL returns the base URL of the listener, "https://127.0.0.1:8417" or with http when
// the node serves plain HTTP ("" before Start). It is not the issuer, which may name a
// proxy in front of the node.
func (n *TransmitterNode) URL() string {
	a := n.Addr()
	if a == nil {
		return ""
	}
	return listenerURL(a, n.tlsConf != nil)
}

// Shutdown stops the node and finishes its in-flight work: the listener closes; waiting
// long polls end (their acknowledgements are committed already; SETs they leased but did
// not answer with are given back); requests in flight complete; then the push engine
// finishes its requests in flight, records their outcomes and gives back the leases of
// the SETs it held but did not send (deliverable at once by the next start or another
// node), and the background work stops. When ctx ends first, Shutdown returns ctx's
// error without waiting further (SETs the push engine still held are delivered after
// their lease expires, or at once by this node's next start when it has a NodeID). The store is not closed. Calling
// Shutdown again returns the first call's result.
func (n *TransmitterNode) Shutdown(ctx context.Context) error {
	return n.stopWith(func() error { return n.shutdown(ctx) })
}

func (n *TransmitterNode) shutdown(ctx context.Context) error {
	n.mu.Lock()
	close(n.stopping)
	started := n.started
	n.mu.Unlock()
	defer n.closeRemote()
	if !started {
		close(n.done)
		return nil
	}
	n.log.Info("transmitter shutting down")
	err := n.srv.Shutdown(ctx)
	n.bgCancel()
	waited := make(chan struct{})
	go func() { n.bgDone.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("transmitter node: shutdown: %w", err)
	}
	n.log.Info("transmitter stopped")
	return nil
}

// endLongPolls cancels the context of poll requests (RFC 8936 long polls) when stopping
// is closed, so that a shutdown does not wait for them; other requests keep theirs and
// finish. A poll ended that way that had not answered yet gets an empty answer
// ({"sets":{}}, a normal end of a long poll; SETs it may have leased come back after
// their lease).
func endLongPolls(h http.Handler, stopping <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.Contains(r.URL.Path, "/ssf/poll/") {
			h.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stopped := make(chan struct{})
		go func() {
			select {
			case <-stopping:
				close(stopped)
				cancel()
			case <-ctx.Done():
			}
		}()
		tw := &trackingWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r.WithContext(ctx))
		select {
		case <-stopped:
			if !tw.wrote && r.Context().Err() == nil {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "no-store")
				w.Header().Set("Connection", "close")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte(`{"sets":{}}`))
			}
		default:
		}
	})
}

// trackingWriter records whether a handler wrote a response.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *trackingWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ValidNodeID checks a node id: 1 to 64 ASCII letters, digits, '.', '_', ':' or '-'.
func ValidNodeID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("node id %q: want 1 to 64 characters", id)
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == ':', r == '-':
		default:
			return fmt.Errorf("node id %q: only ASCII letters, digits, '.', '_', ':' and '-' are allowed", id)
		}
	}
	return nil
}
