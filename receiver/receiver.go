package receiver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// Config configures [New]: a Receiver of one stream from one Transmitter. Inbox and
// Mux are required, and one of Issuer and MetadataURL.
type Config struct {
	// Issuer is the Transmitter's issuer: its metadata is discovered ([Discover]).
	Issuer string
	// MetadataURL, instead of Issuer, is the metadata URL, fetched as given
	// ([FetchMetadata]).
	MetadataURL string
	// Credentials authorize management and poll requests. Nil sends none.
	Credentials Credentials
	// HTTPClient is used for discovery, management, the JWK Set and polling (each with
	// its redirect policy). Nil means the defaults of each.
	HTTPClient *http.Client

	// Stream is the stream to have: its Receiver-supplied members (events_requested,
	// delivery, description). No delivery means poll. For push, Delivery.EndpointURL is
	// the public URL at which Handler is served, and Delivery.AuthorizationHeader the
	// value pushes must carry: empty means a random bearer value is generated (it then
	// changes with every process, and each start updates the stream).
	Stream ssf.StreamConfig
	// StreamID, when set, names an existing stream to use as it is (read with
	// GetStream) instead of ensuring Stream ([Client.EnsureStream]).
	StreamID string
	// Audience lists aud values the Receiver expects in its stream (SSF-STREAM-19).
	Audience []string

	// Inbox records received SETs, de-duplicates them, and keeps pending poll
	// acknowledgements (store/sqlite in production).
	Inbox store.InboxStore
	// Mux routes each SET to its handler.
	Mux *Mux

	// Compatibility is the one switch of the compatibility mode (off by default): legacy
	// discovery locations and member names, legacy management answers, legacy SET
	// shapes (set.FullCompatibility; Token.Leniency says which were used) and legacy
	// push transport shapes. See the package documentation.
	Compatibility bool
	// IssuerIgnoreTrailingSlash compares issuers ignoring a trailing "/" (Google).
	IssuerIgnoreTrailingSlash bool
	// InsecureAllowHTTP accepts http URLs everywhere (loopback tests only).
	InsecureAllowHTTP bool
	// StateSecret keys the verification states (see VerificationStatesConfig.Secret);
	// nil means a random secret per process.
	StateSecret []byte

	// Verifier tunes the SET verifier (algorithms, subject members, decryption keys,
	// registry, remote key set). Its Compatibility, IssuerIgnoreTrailingSlash and
	// Audience are set from this Config.
	Verifier VerifierOptions
	// Worker tunes the worker (concurrency, retries, de-duplication window, …). Its
	// Inbox, Mux, Decode, AckReady, Hooks and Logger are set by New.
	Worker WorkerConfig
	// Poller tunes the poller of a poll stream (intervals, maxEvents, …). Its Endpoint,
	// Recipient, AckStream, Credentials, HTTPClient, InsecureAllowHTTP, Hooks and Logger
	// are set by Start.
	Poller PollerConfig
	// PushMaxBodyBytes bounds a pushed body (see PushHandlerConfig.MaxBodyBytes).
	PushMaxBodyBytes int64

	// Hooks receive metrics events from every component.
	Hooks Hooks
	// Logger is given to every component. Nil means no logging.
	Logger *slog.Logger
}

// Receiver is a complete SSF Receiver of one stream: it discovers the Transmitter,
// ensures its stream, verifies and records the SETs that arrive by push ([Receiver.Handler])
// or by poll, and runs their handlers ([Worker]).
//
//	r, _ := receiver.New(receiver.Config{Issuer: "https://tr.example.com", Inbox: db, Mux: mux, …})
//	http.Handle("POST /ssf/push", r.Handler()) // push streams only
//	err := r.Run(ctx)                          // Start, then worker (and poller) until ctx ends
type Receiver struct {
	cfg    Config
	states *VerificationStates
	log    *slog.Logger
	worker *Worker

	push atomic.Pointer[PushHandler]

	mu      sync.Mutex
	started bool
	disc    *Discovery
	client  *Client
	stream  *ssf.StreamConfig
	rec     *Recipient
	poller  *Poller
	jwks    *keys.RemoteKeySet
}

// New checks cfg and returns a Receiver. It does no I/O: Start (or Run) does.
func New(cfg Config) (*Receiver, error) {
	if cfg.Issuer == "" && cfg.MetadataURL == "" {
		return nil, errors.New("receiver: Config.Issuer or Config.MetadataURL is required")
	}
	if cfg.Inbox == nil || cfg.Mux == nil {
		return nil, errors.New("receiver: Config.Inbox and Config.Mux are required")
	}
	r := &Receiver{cfg: cfg, log: cfg.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	states, err := NewVerificationStates(VerificationStatesConfig{Secret: cfg.StateSecret})
	if err != nil {
		return nil, err
	}
	r.states = states
	if d := r.cfg.Stream.Delivery; d != nil && d.IsPush() {
		if d.EndpointURL == "" {
			return nil, errors.New("receiver: a push stream needs Config.Stream.Delivery.EndpointURL, where Handler is served")
		}
		if d.AuthorizationHeader == "" {
			var b [32]byte
			if _, err := rand.Read(b[:]); err != nil {
				return nil, err
			}
			dc := *d
			dc.AuthorizationHeader = "Bearer " + base64.RawURLEncoding.EncodeToString(b[:])
			r.cfg.Stream.Delivery = &dc
		}
	}
	r.cfg.Verifier.Compatibility = cfg.Compatibility
	r.cfg.Verifier.IssuerIgnoreTrailingSlash = cfg.IssuerIgnoreTrailingSlash
	if r.cfg.Verifier.Logger == nil {
		r.cfg.Verifier.Logger = cfg.Logger
	}
	if r.cfg.Verifier.RemoteKeys.HTTPClient == nil {
		r.cfg.Verifier.RemoteKeys.HTTPClient = cfg.HTTPClient
	}
	r.cfg.Verifier.RemoteKeys.AllowInsecureHTTP = r.cfg.Verifier.RemoteKeys.AllowInsecureHTTP || cfg.InsecureAllowHTTP
	wc := cfg.Worker
	wc.Inbox, wc.Mux, wc.Decode, wc.Hooks, wc.Logger = cfg.Inbox, cfg.Mux, r.cfg.Verifier.DecodeOptions(), cfg.Hooks, cfg.Logger
	wc.AckReady = func() {
		r.mu.Lock()
		p := r.poller
		r.mu.Unlock()
		if p != nil {
			p.AckNow()
		}
	}
	if r.worker, err = NewWorker(wc); err != nil {
		return nil, err
	}
	return r, nil
}

// Handler returns the push endpoint. Until Start has succeeded it answers 503 with
// Retry-After, so that a Transmitter pushing right after the stream was created (a
// verification event) retries; on a poll stream it keeps answering 404.
func (r *Receiver) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if h := r.push.Load(); h != nil {
			h.ServeHTTP(w, req)
			return
		}
		r.mu.Lock()
		started := r.started
		r.mu.Unlock()
		if started {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Retry-After", "5")
		http.Error(w, "the receiver is starting", http.StatusServiceUnavailable)
	})
}

// Start discovers the Transmitter, ensures (or reads) the stream, and builds the
// verifier, the recipient and, for a poll stream, the poller. It may be called again
// after a failure.
func (r *Receiver) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return nil
	}
	dopts := DiscoveryOptions{
		HTTPClient: r.cfg.HTTPClient, Compatibility: r.cfg.Compatibility,
		IssuerIgnoreTrailingSlash: r.cfg.IssuerIgnoreTrailingSlash, InsecureAllowHTTP: r.cfg.InsecureAllowHTTP,
	}
	var disc *Discovery
	var err error
	if r.cfg.MetadataURL != "" {
		dopts.ExpectedIssuer = r.cfg.Issuer
		disc, err = FetchMetadata(ctx, r.cfg.MetadataURL, dopts)
	} else {
		disc, err = Discover(ctx, r.cfg.Issuer, dopts)
	}
	if err != nil {
		return err
	}
	for _, t := range disc.Tolerated {
		r.log.LogAttrs(ctx, slog.LevelWarn, "transmitter metadata tolerated", slog.String("url", disc.URL), slog.String("what", t))
	}
	client, err := NewClient(ClientConfig{
		Metadata: disc.Metadata, Issuer: disc.Issuer, Credentials: r.cfg.Credentials, HTTPClient: r.cfg.HTTPClient,
		Audience: r.cfg.Audience, States: r.states, Compatibility: r.cfg.Compatibility,
		IssuerIgnoreTrailingSlash: r.cfg.IssuerIgnoreTrailingSlash, InsecureAllowHTTP: r.cfg.InsecureAllowHTTP, Logger: r.cfg.Logger,
	})
	if err != nil {
		return err
	}
	var stream *ssf.StreamConfig
	if r.cfg.StreamID != "" {
		stream, err = client.GetStream(ctx, r.cfg.StreamID)
	} else {
		var created bool
		stream, created, err = client.EnsureStream(ctx, r.cfg.Stream)
		if err == nil {
			r.log.LogAttrs(ctx, slog.LevelInfo, "stream ready", slog.String("stream_id", stream.StreamID), slog.Bool("created", created),
				slog.String("delivery", stream.EffectiveDeliveryMethod()))
		}
	}
	if err != nil {
		return err
	}
	vopts := r.cfg.Verifier
	if len(r.cfg.Audience) > 0 && len(vopts.Audience) == 0 {
		vopts.Audience = r.cfg.Audience
	}
	verifier, jwks, err := NewStreamVerifier(disc.Metadata, stream, vopts)
	if err != nil {
		return err
	}
	rec, err := NewRecipient(RecipientConfig{
		Verifier: verifier, Inbox: r.cfg.Inbox, StreamID: stream.StreamID, States: r.states,
		Notify: r.worker.Notify, Hooks: r.cfg.Hooks, Logger: r.cfg.Logger,
	})
	if err != nil {
		_ = jwks.Close()
		return err
	}
	var poller *Poller
	var push *PushHandler
	switch m := stream.EffectiveDeliveryMethod(); m {
	case ssf.DeliveryPoll:
		pc := r.cfg.Poller
		pc.Endpoint, pc.Recipient, pc.AckStream = stream.Delivery.EndpointURL, rec, stream.StreamID
		pc.Credentials, pc.HTTPClient, pc.InsecureAllowHTTP = r.cfg.Credentials, r.cfg.HTTPClient, r.cfg.InsecureAllowHTTP
		pc.Hooks, pc.Logger = r.cfg.Hooks, r.cfg.Logger
		if poller, err = NewPoller(pc); err != nil {
			_ = jwks.Close()
			return err
		}
	case ssf.DeliveryPush:
		authz := ""
		if d := r.cfg.Stream.Delivery; d != nil && d.IsPush() {
			authz = d.AuthorizationHeader
		} else if stream.Delivery != nil {
			authz = stream.Delivery.AuthorizationHeader
		}
		if push, err = NewPushHandler(PushHandlerConfig{
			Recipient: rec, Authorization: authz, Compatibility: r.cfg.Compatibility,
			MaxBodyBytes: r.cfg.PushMaxBodyBytes, Hooks: r.cfg.Hooks, Logger: r.cfg.Logger,
		}); err != nil {
			_ = jwks.Close()
			return err
		}
	default:
		_ = jwks.Close()
		return fmt.Errorf("receiver: stream %q uses the delivery method %q, which this receiver does not support", stream.StreamID, m)
	}
	r.disc, r.client, r.stream, r.rec, r.poller, r.jwks = disc, client, stream, rec, poller, jwks
	if push != nil {
		r.push.Store(push)
	}
	r.started = true
	return nil
}

// Run starts the Receiver if needed, then runs the worker (and, for a poll stream, the
// poller) until ctx ends; it returns nil then, after every goroutine ended and the
// remote key set was closed. A Start failure is returned at once.
func (r *Receiver) Run(ctx context.Context) error {
	if err := r.Start(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	poller, jwks := r.poller, r.jwks
	r.mu.Unlock()
	defer jwks.Close()
	var wg sync.WaitGroup
	wg.Go(func() { _ = r.worker.Run(ctx) })
	if poller != nil {
		wg.Go(func() { _ = poller.Run(ctx) })
	}
	wg.Wait()
	return nil
}

// RequestVerification asks the Transmitter for a Verification event on the stream
// (SSF §8.1.4.2) and returns the state sent; the event is checked against it.
func (r *Receiver) RequestVerification(ctx context.Context) (string, error) {
	c, s := r.Client(), r.Stream()
	if c == nil {
		return "", errors.New("receiver: not started")
	}
	return c.RequestVerification(ctx, s.StreamID)
}

// Client returns the management client (nil before Start).
func (r *Receiver) Client() *Client { r.mu.Lock(); defer r.mu.Unlock(); return r.client }

// Stream returns the stream configuration as of Start (nil before Start).
func (r *Receiver) Stream() *ssf.StreamConfig { r.mu.Lock(); defer r.mu.Unlock(); return r.stream }

// Discovery returns the Transmitter metadata (nil before Start).
func (r *Receiver) Discovery() *Discovery { r.mu.Lock(); defer r.mu.Unlock(); return r.disc }

// Worker returns the worker (dead letters, replay).
func (r *Receiver) Worker() *Worker { return r.worker }

// Poller returns the poller of a poll stream (nil otherwise, and before Start).
func (r *Receiver) Poller() *Poller { r.mu.Lock(); defer r.mu.Unlock(); return r.poller }

// States returns the verification states the Receiver checks Verification events with.
func (r *Receiver) States() *VerificationStates { return r.states }
