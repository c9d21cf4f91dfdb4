package multinode

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/postgres"
	"github.com/sigshare/sigshare/transmitter/push"
)

// The environment of a node process.
const (
	envNode   = "SIGSHARE_MULTINODE_NODE"   // the node's name; set: run a node
	envDSN    = "SIGSHARE_MULTINODE_DSN"    // the database
	envSchema = "SIGSHARE_MULTINODE_SCHEMA" // the schema the nodes share
	envKey    = "SIGSHARE_MULTINODE_KEY"    // the signing key, a private JWK
	envLease  = "SIGSHARE_MULTINODE_LEASE"  // the push engine's lease duration
)

const (
	issuer        = "https://tx.example.com"
	adminToken    = "multinode-admin-token"
	receiverToken = "multinode-receiver-token"
	clientID      = "rp"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(envNode); name != "" {
		os.Exit(runNode(name))
	}
	os.Exit(m.Run())
}

// runNode is the main function of a node process: a Transmitter serving its HTTP surface
// on a loopback port and a push engine, both on the shared PostgreSQL schema. It prints
// "LISTENING <addr>" once it serves, and stops on SIGTERM or when stdin closes; it
// returns the exit code.
func runNode(name string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("node", name)
	fail := func(what string, err error) int {
		log.Error("node failed", "step", what, "err", err)
		return 1
	}
	sigCtx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithCancel(sigCtx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin) // the parent holds stdin open while it lives
		cancel()
	}()

	lease, err := time.ParseDuration(os.Getenv(envLease))
	if err != nil {
		return fail("lease duration", err)
	}
	st, err := postgres.Open(ctx, os.Getenv(envDSN), postgres.Options{Schema: os.Getenv(envSchema), MaxConns: 6, Logger: log})
	if err != nil {
		return fail("open the store", err)
	}
	defer st.Close()
	key, err := keys.ParseJWK([]byte(os.Getenv(envKey)))
	if err != nil {
		return fail("signing key", err)
	}
	signing, err := keys.NewSigningKeys(key)
	if err != nil {
		return fail("signing keys", err)
	}
	// The node is assembled as every sigshare transmitter is (internal/server), on a plain
	// loopback listener behind the https issuer, with short push timings so that a killed
	// node's leases are taken over quickly.
	node, err := server.NewTransmitter(ctx, server.TransmitterOptions{
		Issuer: issuer, Store: st, Keys: signing,
		StaticClients:             []server.StaticClient{{Name: clientID, Token: receiverToken}},
		AdminToken:                adminToken,
		InsecureAllowHTTP:         true,
		InsecureAllowLoopbackPush: true,
		Push: push.Config{
			Owner: "push/" + name, BatchSize: 32, LeaseDuration: lease, RequestTimeout: time.Second,
			Backoff: push.Backoff{Initial: 100 * time.Millisecond, Max: time.Second},
		},
		Logger:          log,
		ShutdownTimeout: 10 * time.Second,
	})
	if err != nil {
		return fail("transmitter node", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail("listen", err)
	}
	fmt.Printf("LISTENING %s\n", ln.Addr())
	if err := node.Serve(ctx, ln); err != nil {
		return fail("serve", err)
	}
	return 0
}

// ---------------------------------------------------------------------------------------
// The parent side

// testDSN returns the test database's DSN, or skips.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("SIGSHARE_TEST_POSTGRES")
	if dsn == "" {
		tb.Skip("SIGSHARE_TEST_POSTGRES is not set: PostgreSQL backend tests skipped (see .ci/run)")
	}
	return dsn
}

// syncBuffer collects a node's standard error.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// node is one transmitter node process.
type node struct {
	name   string
	url    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *syncBuffer
	exited chan struct{} // closed when the process exited; err is then set
	err    error
	dead   atomic.Bool // killed or stopped: emit skips it
}

// cluster is a shared schema, its nodes, and the parent's own Store on it.
type cluster struct {
	tb      testing.TB
	dsn     string
	schema  string
	keyJWK  string
	signing *keys.SigningKeys
	lease   time.Duration
	nodes   []*node
	st      *postgres.Store
}

// newCluster creates a schema with a random name (dropped at the end) and starts n
// nodes on it, all at once (they migrate the new schema concurrently).
func newCluster(tb testing.TB, n int, lease time.Duration) *cluster {
	tb.Helper()
	c := &cluster{tb: tb, dsn: testDSN(tb), lease: lease}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	c.schema = "sigshare_multinode_" + hex.EncodeToString(b[:])
	tb.Cleanup(c.dropSchema)
	key, err := keys.Generate("ES256")
	if err != nil {
		tb.Fatal(err)
	}
	jwk, err := key.MarshalJWK()
	if err != nil {
		tb.Fatal(err)
	}
	c.keyJWK = string(jwk)
	if c.signing, err = keys.NewSigningKeys(key); err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	c.nodes = make([]*node, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { c.nodes[i], errs[i] = c.start(fmt.Sprintf("node-%d", i)) })
	}
	wg.Wait()
	tb.Cleanup(c.stopAll)
	for _, err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if c.st, err = postgres.Open(ctx, c.dsn, postgres.Options{Schema: c.schema}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.st.Close() })
	return c
}

// start runs a node process and waits until it listens.
func (c *cluster) start(name string) (*node, error) {
	n := &node{name: name, stderr: &syncBuffer{}, exited: make(chan struct{})}
	n.cmd = exec.Command(os.Args[0])
	n.cmd.Env = append(os.Environ(), envNode+"="+name, envDSN+"="+c.dsn, envSchema+"="+c.schema,
		envKey+"="+c.keyJWK, envLease+"="+c.lease.String())
	n.cmd.Stderr = n.stderr
	stdout, err := n.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if n.stdin, err = n.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				addr <- a
			}
		}
	}()
	go func() {
		n.err = n.cmd.Wait()
		n.dead.Store(true)
		close(n.exited)
	}()
	select {
	case a := <-addr:
		n.url = "http://" + a
		return n, nil
	case <-n.exited:
		return nil, fmt.Errorf("%s exited before listening (%v); its log:\n%s", name, n.err, n.stderr.String())
	case <-time.After(time.Minute):
		_ = n.cmd.Process.Kill()
		return nil, fmt.Errorf("%s did not listen within a minute; its log:\n%s", name, n.stderr.String())
	}
}

// kill ends the node with SIGKILL, as a crash would: no shutdown, leases left behind.
func (n *node) kill(tb testing.TB) {
	tb.Helper()
	n.dead.Store(true)
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatalf("kill %s: %v", n.name, err)
	}
	<-n.exited
}

// stop ends the node with SIGTERM (it lets its requests in flight finish) and fails the
// test unless it exits cleanly (a data race in the node exits with status 66).
func (n *node) stop(tb testing.TB) {
	tb.Helper()
	select {
	case <-n.exited:
		return
	default:
	}
	n.dead.Store(true)
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exited
		tb.Errorf("%s did not stop within 30s of SIGTERM; its log:\n%s", n.name, n.stderr.String())
		return
	}
	if n.err != nil {
		tb.Errorf("%s exited with %v; its log:\n%s", n.name, n.err, n.stderr.String())
	}
}

// stopAll stops the nodes still running (cleanup).
func (c *cluster) stopAll() {
	for _, n := range c.nodes {
		if n != nil {
			n.stop(c.tb)
			n.stdin.Close()
		}
	}
}

func (c *cluster) dropSchema() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.dsn)
	if err != nil {
		c.tb.Errorf("drop schema %s: %v", c.schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{c.schema}.Sanitize()+" CASCADE"); err != nil {
		c.tb.Errorf("drop schema %s: %v", c.schema, err)
	}
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// call sends a JSON request to a node and decodes a 2xx answer into out (when not nil).
func call(ctx context.Context, method, url, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &httpError{status: resp.StatusCode, body: string(data)}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// httpError is a non-2xx answer (as opposed to a connection failure).
type httpError struct {
	status int
	body   string
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

// createPushStreams creates n push streams of the receiver client through node 0's
// management API (SSF §8.1.1.1), each to its own path of rcv, and returns their IDs.
func (c *cluster) createPushStreams(rcv *receiver, n int) []string {
	c.tb.Helper()
	var ids []string
	for i := range n {
		var cfg ssf.StreamConfig
		req := map[string]any{"delivery": map[string]any{"method": ssf.DeliveryPush, "endpoint_url": fmt.Sprintf("%s/events/%d", rcv.srv.URL, i)}}
		if err := call(context.Background(), http.MethodPost, c.nodes[0].url+"/ssf/stream", receiverToken, req, &cfg); err != nil {
			c.tb.Fatalf("create stream %d: %v", i, err)
		}
		ids = append(ids, cfg.StreamID)
	}
	return ids
}

// emitted is the answer of POST /admin/events.
type emitted struct {
	SETs []struct {
		StreamID string `json:"stream_id"`
		JTI      string `json:"jti"`
	} `json:"sets"`
}

// emit sends events through the nodes (event i to node i mod n first) from workers
// goroutines, using the operator API. When a node does not answer (killed), the event
// is sent to the next live node: an event whose first attempt was cut off may be queued
// twice, which at-least-once allows. It returns the jtis of the SETs the nodes reported
// queued, with their streams.
func (c *cluster) emit(ctx context.Context, events, workers int) (map[string]string, error) {
	var mu sync.Mutex
	queued := map[string]string{}
	next := atomic.Int64{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < events; i = int(next.Add(1)) - 1 {
				body := map[string]any{
					"subject":    map[string]string{"format": "email", "email": fmt.Sprintf("user-%d@example.com", i)},
					"event_type": caep.EventTypeSessionRevoked,
					"txn":        fmt.Sprintf("event-%d", i),
				}
				var res emitted
				var err error
				for k := range len(c.nodes) {
					n := c.nodes[(i+k)%len(c.nodes)]
					if n.dead.Load() {
						continue
					}
					if err = call(ctx, http.MethodPost, n.url+"/admin/events", adminToken, body, &res); err == nil {
						break
					}
					var he *httpError
					if errors.As(err, &he) {
						break // the node answered: not a connection failure
					}
				}
				if err != nil {
					errs <- fmt.Errorf("event %d: %w", i, err)
					return
				}
				mu.Lock()
				for _, s := range res.SETs {
					queued[s.JTI] = s.StreamID
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	return queued, <-errs
}

// leasedBy counts the SETs under an unexpired lease of node's push engine.
func (c *cluster) leasedBy(ctx context.Context, n *node) (int, error) {
	conn, err := pgx.Connect(ctx, c.dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var count int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{c.schema, "outbox"}.Sanitize()+
		` WHERE lease_owner = $1 AND lease_until > now()`, "push/"+n.name).Scan(&count)
	return count, err
}

// receiver is the push endpoint (RFC 8935) of every stream: it verifies each SET (when it
// has a verifier), answers 202 and counts deliveries per jti.
type receiver struct {
	srv      *httptest.Server
	verifier *set.Verifier
	mu       sync.Mutex
	got      map[string]int
	total    atomic.Int64
	bad      atomic.Int64
}

func newReceiver(tb testing.TB, signing *keys.SigningKeys) *receiver {
	tb.Helper()
	r := &receiver{got: map[string]int{}}
	if signing != nil {
		v, err := set.NewVerifier(signing, set.Config{Issuer: issuer, Audiences: []string{clientID}})
		if err != nil {
			tb.Fatal(err)
		}
		r.verifier = v
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var jti string
	if r.verifier != nil {
		tok, err := r.verifier.Verify(req.Context(), string(body))
		if err != nil {
			r.bad.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"err":"invalid_request","description":%q}`, err.Error())
			return
		}
		jti = tok.JTI
	} else if jti = jtiOf(string(body)); jti == "" {
		r.bad.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.got[jti]++
	r.mu.Unlock()
	r.total.Add(1)
	w.WriteHeader(http.StatusAccepted)
}

// jtiOf reads the jti of a compact SET without verifying it (benchmarks).
func jtiOf(compact string) string {
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		JTI string `json:"jti"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.JTI
}

// count returns how often jti was delivered.
func (r *receiver) count(jti string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[jti]
}

// missing returns how many of jtis were not delivered yet.
func (r *receiver) missing(jtis map[string]string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for j := range jtis {
		if r.got[j] == 0 {
			n++
		}
	}
	return n
}

// waitAll waits until every SET of jtis was delivered at least once. When some are
// not, it logs their outbox rows (dump) and fails.
func (r *receiver) waitAll(tb testing.TB, jtis map[string]string, within time.Duration, dump func(missing []string)) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		m := r.missing(jtis)
		if m == 0 {
			return
		}
		if time.Now().After(deadline) {
			if dump != nil {
				var missing []string
				r.mu.Lock()
				for j := range jtis {
					if r.got[j] == 0 {
						missing = append(missing, j)
					}
				}
				r.mu.Unlock()
				dump(missing)
			}
			tb.Fatalf("%d of %d SETs not delivered within %v (%d deliveries, %d refused)", m, len(jtis), within, r.total.Load(), r.bad.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dumpOutbox logs the outbox rows of the given jtis (diagnostics).
func (c *cluster) dumpOutbox(jtis []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.dsn)
	if err != nil {
		c.tb.Logf("dump outbox: %v", err)
		return
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT seq, stream_id, jti, attempts, next_attempt_at, lease_owner, lease_until, last_error, dead, dead_reason, now()
		FROM `+pgx.Identifier{c.schema, "outbox"}.Sanitize()+` WHERE jti = ANY($1) ORDER BY seq`, jtis)
	if err != nil {
		c.tb.Logf("dump outbox: %v", err)
		return
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			c.tb.Logf("dump outbox: %v", err)
			return
		}
		found++
		c.tb.Logf("outbox row: %v", v)
	}
	c.tb.Logf("%d of %d missing SETs are in the outbox", found, len(jtis))
	for _, n := range c.nodes {
		c.tb.Logf("log of %s:\n%s", n.name, n.stderr.String())
	}
}

// outboxEmpty fails unless the streams' outboxes hold nothing: every SET acknowledged,
// none dead-lettered.
func (c *cluster) outboxEmpty(streams []string) {
	c.tb.Helper()
	for _, id := range streams {
		counts, err := c.st.CountOutbox(context.Background(), id, time.Now())
		if err != nil {
			c.tb.Fatal(err)
		}
		if counts != (store.OutboxCounts{}) {
			dead, _ := c.st.DeadLetters(context.Background(), id, 3)
			for _, d := range dead {
				c.tb.Logf("dead letter %s: %s (last error %s)", d.JTI, d.DeadReason, d.LastError)
			}
			c.tb.Fatalf("outbox of stream %s after delivery: %+v, want empty", id, counts)
		}
	}
}
