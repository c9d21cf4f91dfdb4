package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigshare/sigshare/receiver"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// PushPath is the path of a receiver node's push endpoint (RFC 8935).
const PushPath = "/ssf/push"

// maxResponseWait bounds how long a receiver node waits for the headers of any answer
// of the transmitter, long polls included (sigshare transmitters answer a long poll
// within 25 seconds by default, 5 minutes at most).
const maxResponseWait = 6 * time.Minute

// ReceiverOptions configures [NewReceiver]. One of Issuer and MetadataURL, Store and Mux
// are required; the zero value of every other field is documented.
type ReceiverOptions struct {
	// Issuer is the transmitter's issuer: its metadata is discovered at the well-known
	// URL (SSF §7.2).
	Issuer string
	// MetadataURL, instead of Issuer, is the transmitter's metadata URL, fetched as given.
	MetadataURL string
	// Credentials authorize stream management and polling (a static bearer token or OAuth
	// client credentials). Nil sends none.
	Credentials receiver.Credentials
	// RootCAs are the roots trusted for the transmitter's TLS certificate (discovery,
	// management, JWK Set, polling). Nil: the system roots.
	RootCAs *x509.CertPool
	// InsecureAllowHTTP accepts http:// transmitter URLs (loopback development only).
	InsecureAllowHTTP bool
	// Compatibility turns on the receiver's compatibility mode for legacy transmitters
	// (see package receiver). Zero: strict SSF 1.0.
	Compatibility bool

	// Delivery is the delivery method of the stream: ssf.DeliveryPoll (the zero value
	// means poll too) or ssf.DeliveryPush.
	Delivery string
	// EventsRequested are the event types to receive. Nil: every type the transmitter
	// supports (events_requested absent).
	EventsRequested []string
	// Description is the stream's description (it also tells apart several poll streams
	// of one client).
	Description string
	// StreamID, when set, names an existing stream to use as it is instead of ensuring
	// one (receiver.Client.EnsureStream) from Delivery, EventsRequested and Description.
	StreamID string
	// PushEndpointURL is the public URL of the push endpoint, what the stream's
	// endpoint_url says. Empty: the listener's URL followed by [PushPath].
	PushEndpointURL string
	// PushAuthorization is the Authorization header value pushes must carry (the
	// stream's authorization_header). Empty: a random bearer value per process. A
	// secret: never logged.
	PushAuthorization string

	// Store is the inbox (received SETs, de-duplication, pending acknowledgements). The
	// node does not close it.
	Store store.Store
	// Mux routes each verified SET to its handler.
	Mux *receiver.Mux

	// TLS is the listener's TLS (the push endpoint and /metrics). Zero: plain HTTP.
	TLS TLSOptions
	// Receiver tunes the receiver (verifier, worker, poller). Its connection, stream,
	// inbox, mux, compatibility, hooks and logger fields are set from these options; its
	// Hooks are called after the node's metrics.
	Receiver receiver.Config

	// Logger receives the node's logs (never secrets). Nil: slog.Default().
	Logger *slog.Logger
	// Metrics is the registry the node's metrics are registered on and /metrics serves.
	// Nil: a new registry with the Go runtime and process collectors.
	Metrics *prometheus.Registry
	// ShutdownTimeout bounds the shutdown of [ReceiverNode.Serve]. Zero:
	// [DefaultShutdownTimeout].
	ShutdownTimeout time.Duration
}

// ReceiverNode is a complete receiver of one stream: discovery, the stream (created or
// reused), the push endpoint or the poller, verification, the durable inbox and the
// handler worker, with /metrics, /healthz and /readyz.
type ReceiverNode struct {
	opts    ReceiverOptions
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *receiverMetrics
	tlsConf *tls.Config

	mu      sync.Mutex
	started bool
	rcv     *receiver.Receiver
	srv     *http.Server
	addr    net.Addr
	runStop context.CancelFunc
	runDone chan struct{}
	lifecycle
}

// NewReceiver checks opts and checks that the store answers (bounded by ctx). It
// contacts no transmitter yet: [ReceiverNode.Start] does.
func NewReceiver(ctx context.Context, opts ReceiverOptions) (*ReceiverNode, error) {
	if opts.Issuer == "" && opts.MetadataURL == "" {
		return nil, errors.New("receiver node: the transmitter's issuer or metadata URL is required")
	}
	if opts.Store == nil {
		return nil, errors.New("receiver node: an inbox store is required")
	}
	if opts.Mux == nil {
		return nil, errors.New("receiver node: a handler mux is required")
	}
	switch opts.Delivery {
	case "", ssf.DeliveryPoll, ssf.DeliveryPush:
	default:
		return nil, fmt.Errorf("receiver node: delivery method %q: want %s (poll) or %s (push)", opts.Delivery, ssf.DeliveryPoll, ssf.DeliveryPush)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	tlsConf, err := opts.TLS.serverConfig()
	if err != nil {
		return nil, fmt.Errorf("receiver node: %w", err)
	}
	if err := opts.Store.Ping(ctx); err != nil {
		return nil, fmt.Errorf("receiver node: the store does not answer: %w", err)
	}
	reg := opts.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
		registerRuntime(reg)
	}
	return &ReceiverNode{opts: opts, log: log, reg: reg, metrics: newReceiverMetrics(reg), tlsConf: tlsConf, lifecycle: newLifecycle()}, nil
}

// push reports whether the node receives by push.
func (n *ReceiverNode) push() bool { return n.opts.Delivery == ssf.DeliveryPush }

// Start starts the node: it serves the push endpoint (push streams) and /metrics,
// /healthz, /readyz on l, when l is not nil (a push node needs one); then discovers the
// transmitter and ensures the stream (bounded by ctx), and runs the worker and, for a
// poll stream, the poller in the background (not bound to ctx: Shutdown stops them). A
// start-up failure (transmitter unreachable, credentials refused, …) is returned and
// leaves nothing running. Start may be called once.
func (n *ReceiverNode) Start(ctx context.Context, l net.Listener) error {
	n.mu.Lock()
	if n.started {
		n.mu.Unlock()
		return errors.New("receiver node: already started")
	}
	n.started = true
	n.mu.Unlock()
	if n.push() && l == nil && n.opts.StreamID == "" {
		return errors.New("receiver node: a push receiver needs a listener for its push endpoint")
	}

	cfg := n.opts.Receiver
	cfg.Issuer = n.opts.Issuer
	cfg.MetadataURL = n.opts.MetadataURL
	cfg.Credentials = n.opts.Credentials
	// No overall timeout (long polls wait for their answer), but a transmitter that
	// accepts a request and never answers is given up on.
	transport := ClientTransport(n.opts.RootCAs)
	transport.ResponseHeaderTimeout = maxResponseWait
	cfg.HTTPClient = &http.Client{Transport: transport}
	cfg.StreamID = n.opts.StreamID
	cfg.Inbox = n.opts.Store
	cfg.Mux = n.opts.Mux
	cfg.Compatibility = n.opts.Compatibility
	cfg.InsecureAllowHTTP = n.opts.InsecureAllowHTTP
	cfg.Hooks = n.metrics.hooks(n.opts.Receiver.Hooks)
	cfg.Logger = n.log
	cfg.Stream = ssf.StreamConfig{EventsRequested: n.opts.EventsRequested, Description: n.opts.Description}
	if n.push() {
		endpoint := n.opts.PushEndpointURL
		if endpoint == "" && l != nil {
			endpoint = listenerURL(l.Addr(), n.tlsConf != nil) + PushPath
		}
		cfg.Stream.Delivery = &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: endpoint, AuthorizationHeader: n.opts.PushAuthorization}
	} else {
		cfg.Stream.Delivery = &ssf.Delivery{Method: ssf.DeliveryPoll}
	}
	rcv, err := receiver.New(cfg)
	if err != nil {
		return fmt.Errorf("receiver node: %w", err)
	}
	n.mu.Lock()
	n.rcv = rcv
	n.mu.Unlock()

	if l != nil {
		mux := http.NewServeMux()
		mux.Handle("POST "+PushPath, rcv.Handler())
		mux.Handle("GET /metrics", metricsHandler(n.reg))
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write([]byte("ok\n"))
		})
		mux.HandleFunc("GET /readyz", n.serveReady)
		n.mu.Lock()
		n.addr = l.Addr()
		n.srv = newHTTPServer(mux, n.tlsConf, n.log, time.Minute)
		srv := n.srv
		n.mu.Unlock()
		n.serveOn(srv, l, n.tlsConf)
	}

	if err := rcv.Start(ctx); err != nil {
		n.stopServer(context.Background())
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	n.mu.Lock()
	n.runStop = cancel
	n.runDone = runDone
	n.mu.Unlock()
	go func() {
		defer close(runDone)
		if err := rcv.Run(runCtx); err != nil {
			n.log.Error("receiver stopped", "error", err)
		}
	}()
	st := rcv.Stream()
	n.log.Info("receiver started", "issuer", rcv.Discovery().Issuer, "stream_id", st.StreamID,
		"delivery", st.EffectiveDeliveryMethod(), "events", len(st.EventsDelivered))
	return nil
}

// serveReady answers 200 once the stream is set up and the inbox store answers.
func (n *ReceiverNode) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	switch {
	case n.Stream() == nil:
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("stream not set up yet\n"))
	case n.opts.Store.Ping(ctx) != nil:
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("store unavailable\n"))
	default:
		_, _ = w.Write([]byte("ok\n"))
	}
}

// Serve starts the node (see Start) and runs it until ctx ends, then shuts it down
// within ShutdownTimeout.
func (n *ReceiverNode) Serve(ctx context.Context, l net.Listener) error {
	if err := n.Start(ctx, l); err != nil {
		return err
	}
	return n.runUntil(ctx, n.opts.ShutdownTimeout, n.Shutdown)
}

// Receiver returns the receiver (nil before Start).
func (n *ReceiverNode) Receiver() *receiver.Receiver {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rcv
}

// Stream returns the stream configuration (nil until Start has set it up).
func (n *ReceiverNode) Stream() *ssf.StreamConfig {
	r := n.Receiver()
	if r == nil {
		return nil
	}
	return r.Stream()
}

// Metrics returns the registry /metrics serves.
func (n *ReceiverNode) Metrics() *prometheus.Registry { return n.reg }

// URL returns the base URL of the listener ("" without one, or before Start).
func (n *ReceiverNode) URL() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.addr == nil {
		return ""
	}
	return listenerURL(n.addr, n.tlsConf != nil)
}

// Shutdown stops the node and finishes its in-flight work: the listener closes and
// pushes in flight are answered (each SET is recorded before its 202); the poller stops;
// the handlers running finish; then the acknowledgements of the SETs handled are sent
// to the transmitter (poll streams; they are also kept in the inbox, so a later start
// sends what could not be sent now). The store is not closed. Calling Shutdown again
// returns the first call's result.
func (n *ReceiverNode) Shutdown(ctx context.Context) error {
	return n.stopWith(func() error { return n.shutdown(ctx) })
}

func (n *ReceiverNode) shutdown(ctx context.Context) error {
	err := n.stopServer(ctx)
	n.mu.Lock()
	stop, runDone, rcv, hasServer := n.runStop, n.runDone, n.rcv, n.srv != nil
	n.mu.Unlock()
	if !hasServer {
		close(n.done)
	}
	if stop != nil {
		stop()
		select {
		case <-runDone:
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
		}
		if p := rcv.Poller(); p != nil && ctx.Err() == nil {
			if _, aerr := p.Acknowledge(ctx); aerr != nil {
				n.log.Warn("sending the last acknowledgements failed; they are sent at the next start", "error", aerr)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("receiver node: shutdown: %w", err)
	}
	n.log.Info("receiver stopped")
	return nil
}

// stopServer shuts the HTTP server down, if there is one.
func (n *ReceiverNode) stopServer(ctx context.Context) error {
	n.mu.Lock()
	srv := n.srv
	n.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}
