package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/receiver"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/store/sqlite"
	"github.com/sigshare/sigshare/transmitter"
)

// Credentials of every transmitter the tests start.
const (
	clientName  = "rcv"
	clientToken = "rcv-token"
	adminToken  = "admin-token"
)

// quiet discards logs; set -e2e.log to see them (see main_test.go).
func logger() *slog.Logger {
	if *verboseLogs {
		return slog.New(slog.NewTextHandler(testWriter{}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testWriter writes logs to stderr (the test's output).
type testWriter struct{}

func (testWriter) Write(b []byte) (int, error) { return stderr.Write(b) }

// signingKeys caches one generated key per algorithm: RSA generation is slow under the
// race detector, and the tests do not need distinct keys.
var signingKeys sync.Map // alg → *keys.SigningKey

func signingKey(tb testing.TB, alg string) *keys.SigningKey {
	tb.Helper()
	if k, ok := signingKeys.Load(alg); ok {
		return k.(*keys.SigningKey)
	}
	k, err := keys.Generate(alg)
	if err != nil {
		tb.Fatal(err)
	}
	got, _ := signingKeys.LoadOrStore(alg, k)
	return got.(*keys.SigningKey)
}

// newCA returns a development CA: the transmitter's and the receivers' certificates
// come from it, and every client trusts it.
func newCA(tb testing.TB) *server.DevCA {
	tb.Helper()
	ca, err := server.NewDevCA()
	if err != nil {
		tb.Fatal(err)
	}
	return ca
}

// txNode is a complete transmitter node (internal/server) in this process, on a loopback
// TLS listener, with a SQLite store in a temporary directory.
type txNode struct {
	node   *server.TransmitterNode
	store  *sqlite.Store
	issuer string
	client *http.Client // trusts the CA
}

// startTx starts a transmitter node. mutate may change the options before the node is
// built (push and poll tuning, default subjects, …). The node stops when the test ends.
func startTx(tb testing.TB, ca *server.DevCA, alg string, mutate func(*server.TransmitterOptions)) *txNode {
	tb.Helper()
	return startTxAt(tb, ca, alg, filepath.Join(tb.TempDir(), "tx.db"), "127.0.0.1:0", mutate)
}

// startTxAt starts a transmitter node on the SQLite file db, listening on addr (a fixed
// address keeps the issuer of a restarted node).
func startTxAt(tb testing.TB, ca *server.DevCA, alg, db, addr string, mutate func(*server.TransmitterOptions)) *txNode {
	tb.Helper()
	ctx := context.Background()
	st, err := server.OpenSQLite(ctx, db, logger())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	sk, err := keys.NewSigningKeys(signingKey(tb, alg))
	if err != nil {
		tb.Fatal(err)
	}
	tlsConf, err := ca.ServerConfig("127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	opts := server.TransmitterOptions{
		Issuer:                    server.BaseURL(l, true),
		Store:                     st,
		Keys:                      sk,
		StaticClients:             []server.StaticClient{{Name: clientName, Token: clientToken}},
		AdminToken:                adminToken,
		TLS:                       server.TLSOptions{Config: tlsConf},
		InsecureAllowLoopbackPush: true,
		PushRootCAs:               ca.Pool(),
		Logger:                    logger(),
	}
	opts.Transmitter.MinVerificationInterval = -1
	if mutate != nil {
		mutate(&opts)
	}
	node, err := server.NewTransmitter(ctx, opts)
	if err != nil {
		_ = l.Close()
		tb.Fatal(err)
	}
	if err := node.Start(l); err != nil {
		tb.Fatal(err)
	}
	tx := &txNode{node: node, store: st, issuer: node.Issuer(), client: tlsClient(ca)}
	tb.Cleanup(func() {
		if err := tx.stop(); err != nil {
			tb.Errorf("transmitter shutdown: %v", err)
		}
	})
	return tx
}

// stop shuts the node down gracefully (what SIGTERM does) and closes its store. It may
// be called more than once.
func (tx *txNode) stop() error {
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := tx.node.Shutdown(sctx)
	_ = tx.store.Close()
	return err
}

// tlsClient returns an HTTP client that trusts ca only.
func tlsClient(ca *server.DevCA) *http.Client {
	return &http.Client{Transport: server.ClientTransport(ca.Pool()), Timeout: 30 * time.Second}
}

// call sends a JSON request to base+path with a bearer token, decodes a JSON answer into
// out (when not nil) and returns the status and the body.
func call(tb testing.TB, c *http.Client, method, url, token string, body, out any) (int, []byte) {
	tb.Helper()
	status, data, err := tryCall(context.Background(), c, method, url, token, body)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	if out != nil && status < 300 && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: %v in %s", method, url, err, data)
		}
	}
	return status, data
}

// tryCall is call without the test: it returns transport errors.
func tryCall(ctx context.Context, c *http.Client, method, url, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// admin calls the transmitter's operator API.
func (tx *txNode) admin(tb testing.TB, method, path string, body, out any) (int, []byte) {
	tb.Helper()
	return call(tb, tx.client, method, tx.issuer+"/admin"+path, adminToken, body, out)
}

// emitRequest is the body of POST /admin/events.
type emitRequest struct {
	Subject   any    `json:"subject"`
	EventType string `json:"event_type"`
	Payload   any    `json:"payload,omitempty"`
	Txn       string `json:"txn,omitempty"`
}

// sessionRevoked is an operator request for a CAEP session-revoked event about email.
func sessionRevoked(email string) emitRequest {
	return emitRequest{
		Subject:   map[string]string{"format": "email", "email": email},
		EventType: caep.EventTypeSessionRevoked,
		Payload:   map[string]any{"event_timestamp": time.Now().Unix()},
	}
}

// emit emits through the operator API and returns the SETs queued.
func (tx *txNode) emit(tb testing.TB, req emitRequest) []transmitter.QueuedSET {
	tb.Helper()
	var res transmitter.EmitResult
	if status, body := tx.admin(tb, http.MethodPost, "/events", req, &res); status != http.StatusOK {
		tb.Fatalf("POST /admin/events: %d %s", status, body)
	}
	return res.SETs
}

// streamInfo returns the operator view of one stream.
func (tx *txNode) streamInfo(tb testing.TB, streamID string) transmitter.StreamInfo {
	tb.Helper()
	var list []transmitter.StreamInfo
	if status, body := tx.admin(tb, http.MethodGet, "/streams", nil, &list); status != http.StatusOK {
		tb.Fatalf("GET /admin/streams: %d %s", status, body)
	}
	for _, s := range list {
		if s.StreamID == streamID {
			return s
		}
	}
	tb.Fatalf("GET /admin/streams: no stream %s", streamID)
	return transmitter.StreamInfo{}
}

// waitOutbox waits until the stream's outbox counts satisfy ok.
func (tx *txNode) waitOutbox(tb testing.TB, streamID, what string, ok func(pending, dead int) bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		info := tx.streamInfo(tb, streamID)
		if ok(info.Outbox.Pending, info.Outbox.Dead) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waiting for %s: outbox %+v", what, info.Outbox)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receiverSite is a TLS server in this process (certificate from the CA) on which the
// tests mount push endpoints by path.
type receiverSite struct {
	srv *httptest.Server
	mux *http.ServeMux
}

func startSite(tb testing.TB, ca *server.DevCA) *receiverSite {
	tb.Helper()
	s := &receiverSite{mux: http.NewServeMux()}
	s.srv = httptest.NewUnstartedServer(s.mux)
	conf, err := ca.ServerConfig("127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	s.srv.TLS = conf
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.StartTLS()
	tb.Cleanup(s.srv.Close)
	return s
}

// url returns the URL of path on the site.
func (s *receiverSite) url(path string) string { return s.srv.URL + path }

// recorder is the receivers' handler: it records every SET dispatched to it (each once:
// the receiver de-duplicates) and counts what the receiver's hooks report.
type recorder struct {
	mu      sync.Mutex
	handled map[string]int // jti → handler calls
	tokens  []*set.Token   // in dispatch order
	at      map[string]time.Time
	changed chan struct{}

	verified, duplicates, rejected atomic.Int64
	rejectedCodes                  sync.Map // code → *atomic.Int64
}

func newRecorder() *recorder {
	return &recorder{handled: map[string]int{}, at: map[string]time.Time{}, changed: make(chan struct{}, 1)}
}

// mux returns a Mux whose fallback records every SET.
func (r *recorder) mux() *receiver.Mux {
	m := receiver.NewMux()
	m.Fallback(func(_ context.Context, tok *set.Token) error {
		r.mu.Lock()
		r.handled[tok.JTI]++
		r.tokens = append(r.tokens, tok)
		r.at[tok.JTI] = time.Now()
		r.mu.Unlock()
		select {
		case r.changed <- struct{}{}:
		default:
		}
		return nil
	})
	return m
}

// hooks counts verified, duplicate and rejected SETs.
func (r *recorder) hooks() receiver.Hooks {
	return receiver.Hooks{
		Verified:  func(receiver.Transport, string, set.Leniency) { r.verified.Add(1) },
		Duplicate: func(receiver.Transport) { r.duplicates.Add(1) },
		Rejected: func(_ receiver.Transport, code string) {
			r.rejected.Add(1)
			c, _ := r.rejectedCodes.LoadOrStore(code, new(atomic.Int64))
			c.(*atomic.Int64).Add(1)
		},
	}
}

// count returns how many distinct SETs were handled.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.handled)
}

// has reports whether the SET was handled.
func (r *recorder) has(jti string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handled[jti] > 0
}

// snapshot returns the tokens handled so far.
func (r *recorder) snapshot() []*set.Token {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.tokens)
}

// waitJTIs waits until every jti was handled, or fails after d.
func (r *recorder) waitJTIs(tb testing.TB, d time.Duration, jtis ...string) {
	tb.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		missing := 0
		r.mu.Lock()
		for _, j := range jtis {
			if r.handled[j] == 0 {
				missing++
			}
		}
		r.mu.Unlock()
		if missing == 0 {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline.C:
			tb.Fatalf("%d of %d SETs not received within %v (rejected: %d)", missing, len(jtis), d, r.rejected.Load())
		}
	}
}

// waitToken waits for the first handled token that satisfies match.
func (r *recorder) waitToken(tb testing.TB, d time.Duration, what string, match func(*set.Token) bool) *set.Token {
	tb.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		for _, tok := range r.snapshot() {
			if match(tok) {
				return tok
			}
		}
		select {
		case <-r.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline.C:
			tb.Fatalf("waiting for %s: not received within %v", what, d)
		}
	}
}

// quiet checks that nothing matching match arrives within d.
func (r *recorder) quiet(tb testing.TB, d time.Duration, what string, match func(*set.Token) bool) {
	tb.Helper()
	time.Sleep(d)
	for _, tok := range r.snapshot() {
		if match(tok) {
			tb.Errorf("%s arrived: %s %s", what, tok.JTI, tok.Event.Type())
		}
	}
}

// rcv is a Receiver (package receiver) of one stream of a transmitter node.
type rcv struct {
	r     *receiver.Receiver
	rec   *recorder
	inbox *memory.Store
}

// rcvOptions tune startReceiver.
type rcvOptions struct {
	// push mounts the push endpoint at this path of site (nil: a poll stream).
	site *receiverSite
	path string
	// authorization is the stream's authorization_header (empty: the receiver generates one).
	authorization string
	events        []string // events_requested (nil: session-revoked, verification, stream-updated)
	description   string
	poller        receiver.PollerConfig
	worker        receiver.WorkerConfig
	wrap          func(http.Handler) http.Handler // wraps the push endpoint
	token         string                          // the client's bearer token (empty: clientToken)
	rec           *recorder                       // nil: a new recorder
	mux           *receiver.Mux                   // nil: the recorder's
}

// startReceiver starts a Receiver: discovery, EnsureStream through the management API,
// and its worker (and poller) until the test ends.
func startReceiver(tb testing.TB, issuer string, ca *server.DevCA, o rcvOptions) *rcv {
	tb.Helper()
	events := o.events
	if events == nil {
		events = []string{caep.EventTypeSessionRevoked, ssf.EventTypeVerification, ssf.EventTypeStreamUpdated}
	}
	stream := ssf.StreamConfig{EventsRequested: events, Description: o.description}
	if o.site != nil {
		stream.Delivery = &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: o.site.url(o.path), AuthorizationHeader: o.authorization}
	}
	rec := o.rec
	if rec == nil {
		rec = newRecorder()
	}
	mux := o.mux
	if mux == nil {
		mux = rec.mux()
	}
	token := o.token
	if token == "" {
		token = clientToken
	}
	wc := o.worker
	if wc.IdleInterval == 0 {
		wc.IdleInterval = 50 * time.Millisecond
	}
	inbox := memory.New()
	tb.Cleanup(func() { _ = inbox.Close() })
	pc := o.poller
	if pc.PollInterval == 0 {
		pc.PollInterval, pc.MaxPollInterval = 10*time.Millisecond, 100*time.Millisecond
	}
	if pc.ErrorBackoff == 0 {
		pc.ErrorBackoff, pc.MaxErrorBackoff = 20*time.Millisecond, 200*time.Millisecond
	}
	r, err := receiver.New(receiver.Config{
		Issuer:      issuer,
		Credentials: receiver.BearerToken(token),
		HTTPClient:  tlsClient(ca),
		Stream:      stream,
		Inbox:       inbox,
		Mux:         mux,
		Worker:      wc,
		Poller:      pc,
		Hooks:       rec.hooks(),
		Logger:      logger(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	if o.site != nil {
		var h http.Handler = r.Handler()
		if o.wrap != nil {
			h = o.wrap(h)
		}
		o.site.mux.Handle("POST "+o.path, h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Start(ctx); err != nil {
		cancel()
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Run(ctx); err != nil {
			tb.Errorf("receiver: %v", err)
		}
	})
	tb.Cleanup(func() { cancel(); wg.Wait() })
	return &rcv{r: r, rec: rec, inbox: inbox}
}

// streamID returns the receiver's stream id.
func (r *rcv) streamID() string { return r.r.Stream().StreamID }

// isJTI matches one token.
func isJTI(jti string) func(*set.Token) bool {
	return func(tok *set.Token) bool { return tok.JTI == jti }
}

// jtis returns the jtis of queued SETs.
func jtis(sets []transmitter.QueuedSET) []string {
	out := make([]string, len(sets))
	for i, s := range sets {
		out[i] = s.JTI
	}
	return out
}

// describe formats counts for logs.
func describe(kv ...any) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%v %v", kv[i], kv[i+1])
	}
	return b.String()
}

// bareRcv is a push receiver assembled from package receiver's parts (discovery,
// management client, verifier, recipient, push endpoint, worker) for what Receiver does
// not do: a stream without authorization_header, or a push endpoint whose expected
// Authorization differs from the stream's.
type bareRcv struct {
	client *receiver.Client
	stream *ssf.StreamConfig
	rec    *recorder
}

// startBareReceiver creates stream through the management API and mounts a push
// endpoint at path of site that requires the Authorization value want ("" none).
func startBareReceiver(tb testing.TB, tx *txNode, ca *server.DevCA, site *receiverSite, path, want string, stream ssf.StreamConfig, wrap func(http.Handler) http.Handler) *bareRcv {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	hc := tlsClient(ca)
	disc, err := receiver.Discover(ctx, tx.issuer, receiver.DiscoveryOptions{HTTPClient: hc})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	client, err := receiver.NewClient(receiver.ClientConfig{Metadata: disc.Metadata, Credentials: receiver.BearerToken(clientToken), HTTPClient: hc})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	cfg, err := client.CreateStream(ctx, stream)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	vopts := receiver.VerifierOptions{RemoteKeys: keys.RemoteOptions{HTTPClient: hc}}
	verifier, jwks, err := receiver.NewStreamVerifier(disc.Metadata, cfg, vopts)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	rec := newRecorder()
	inbox := memory.New()
	worker, err := receiver.NewWorker(receiver.WorkerConfig{Inbox: inbox, Mux: rec.mux(), Decode: vopts.DecodeOptions(), IdleInterval: 50 * time.Millisecond, Hooks: rec.hooks()})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	recipient, err := receiver.NewRecipient(receiver.RecipientConfig{Verifier: verifier, Inbox: inbox, StreamID: cfg.StreamID, Notify: worker.Notify, Hooks: rec.hooks()})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	ph, err := receiver.NewPushHandler(receiver.PushHandlerConfig{Recipient: recipient, Authorization: want, Hooks: rec.hooks()})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	var h http.Handler = ph
	if wrap != nil {
		h = wrap(h)
	}
	site.mux.Handle("POST "+path, h)
	var wg sync.WaitGroup
	wg.Go(func() { _ = worker.Run(ctx) })
	tb.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = jwks.Close()
		_ = inbox.Close()
	})
	return &bareRcv{client: client, stream: cfg, rec: rec}
}

// gate sits in front of a push endpoint: it records every request and answers some of
// them itself, as answer decides.
type gate struct {
	mu     sync.Mutex
	reqs   []gateReq
	answer func(n int, r *http.Request) (status int, header map[string]string, body string) // status 0: pass on
}

// gateReq is one request the gate saw.
type gateReq struct {
	at          time.Time
	auth, ctype string
	status      int // what the gate answered (0: passed on)
}

func (g *gate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		g.mu.Lock()
		n := len(g.reqs)
		g.reqs = append(g.reqs, gateReq{at: time.Now(), auth: r.Header.Get("Authorization"), ctype: r.Header.Get("Content-Type")})
		answer := g.answer
		g.mu.Unlock()
		if answer != nil {
			if status, hdr, b := answer(n, r); status != 0 {
				g.mu.Lock()
				g.reqs[n].status = status
				g.mu.Unlock()
				for k, v := range hdr {
					w.Header().Set(k, v)
				}
				w.WriteHeader(status)
				_, _ = io.WriteString(w, b)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// setAnswer replaces the answer function.
func (g *gate) setAnswer(f func(n int, r *http.Request) (int, map[string]string, string)) {
	g.mu.Lock()
	g.answer = f
	g.mu.Unlock()
}

// requests returns the requests so far.
func (g *gate) requests() []gateReq {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.reqs)
}

// jtiFor returns the jti of the SET queued for streamID.
func jtiFor(tb testing.TB, sets []transmitter.QueuedSET, streamID string) string {
	tb.Helper()
	for _, s := range sets {
		if s.StreamID == streamID {
			return s.JTI
		}
	}
	tb.Fatalf("no SET queued for stream %s (%d queued)", streamID, len(sets))
	return ""
}
