package push

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/transmitter/internal/deliverytest"
)

// newStore returns the backend the end-to-end tests run on (TestEndToEndOnSQLite
// switches it).
var newStore = deliverytest.MemoryStore

// fakeSET is deliverytest.FakeSET.
var fakeSET = deliverytest.FakeSET

// jtiOf extracts the jti from a fakeSET.
func jtiOf(set string) string {
	parts := strings.Split(set, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	_, rest, ok := strings.Cut(string(b), `"jti":"`)
	if !ok {
		return ""
	}
	jti, _, _ := strings.Cut(rest, `"`)
	return jti
}

// received is one request the fake receiver got.
type received struct {
	Stream string
	Method string
	Header http.Header
	Body   string
	JTI    string
}

// receiver is a fake push endpoint. Streams are routed by path: /s/{stream}. The
// answer comes from the stream's handler (default 202).
type receiver struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	reqs     []received
	handlers map[string]func(w http.ResponseWriter, r *http.Request, n int)
	counts   map[string]int

	inflight, maxInflight atomic.Int64
}

func newReceiver(t testing.TB) *receiver {
	rc := &receiver{t: t, handlers: map[string]func(http.ResponseWriter, *http.Request, int){}, counts: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/s/{stream}", rc.serve)
	rc.srv = httptest.NewServer(mux)
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	n := rc.inflight.Add(1)
	defer rc.inflight.Add(-1)
	for {
		m := rc.maxInflight.Load()
		if n <= m || rc.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	body, _ := io.ReadAll(r.Body)
	stream := r.PathValue("stream")
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, received{Stream: stream, Method: r.Method, Header: r.Header.Clone(), Body: string(body), JTI: jtiOf(string(body))})
	rc.counts[stream]++
	n2 := rc.counts[stream]
	h := rc.handlers[stream]
	rc.mu.Unlock()
	if h == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	h(w, r, n2)
}

// handle sets the handler of a stream; n counts the stream's requests from 1.
func (rc *receiver) handle(stream string, h func(w http.ResponseWriter, r *http.Request, n int)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.handlers[stream] = h
}

func (rc *receiver) url(stream string) string { return rc.srv.URL + "/s/" + stream }

func (rc *receiver) requests(stream string) []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []received
	for _, r := range rc.reqs {
		if stream == "" || r.Stream == stream {
			out = append(out, r)
		}
	}
	return out
}

func (rc *receiver) jtis(stream string) []string {
	var out []string
	for _, r := range rc.requests(stream) {
		out = append(out, r.JTI)
	}
	return out
}

// createStream creates an enabled push stream.
func createStream(t testing.TB, st store.Store, id, endpointURL, auth string) *store.Stream {
	t.Helper()
	now := time.Now()
	s := &store.Stream{
		ID:       id,
		ClientID: "client-" + id,
		Config: ssf.StreamConfig{
			StreamID: id,
			Issuer:   "https://tx.example",
			Audience: ssf.Audience{"https://rx.example"},
			Delivery: &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: endpointURL, AuthorizationHeader: auth},
		},
		Status:    ssf.StatusEnabled,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if err := st.CreateStream(context.Background(), s); err != nil {
		t.Fatalf("CreateStream(%s): %v", id, err)
	}
	return s
}

// setStatus changes a stream's status (and enqueues sets in the same update).
func setStatus(t testing.TB, st store.Store, id string, status ssf.Status, enqueue ...*store.OutboxSET) {
	t.Helper()
	s, err := st.GetStream(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	s.Status = status
	if err := st.UpdateStream(context.Background(), s, store.StreamChange{Enqueue: enqueue}); err != nil {
		t.Fatalf("UpdateStream(%s, %s): %v", id, status, err)
	}
}

func outboxSET(stream, jti string, created time.Time) *store.OutboxSET {
	return &store.OutboxSET{StreamID: stream, JTI: jti, SET: fakeSET(jti), EventType: "https://schemas.openid.net/secevent/caep/event-type/session-revoked", CreatedAt: created}
}

// enqueue adds SETs with the given jtis to a stream.
func enqueue(t testing.TB, st store.Store, stream string, jtis ...string) {
	t.Helper()
	var sets []*store.OutboxSET
	for _, j := range jtis {
		sets = append(sets, outboxSET(stream, j, time.Now()))
	}
	if err := st.Enqueue(context.Background(), sets); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
}

func jtiRange(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return out
}

// testConfig is a Config for loopback tests with short timings.
func testConfig(st store.Store) Config {
	return Config{
		Store:                 st,
		InsecureAllowLoopback: true,
		InsecureAllowHTTP:     true,
		Owner:                 "engine-A",
		RequestTimeout:        2 * time.Second,
		LeaseDuration:         30 * time.Second,
		Backoff:               Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond},
	}
}

// running is an Engine running in the background.
type running struct {
	e      *Engine
	cancel context.CancelFunc
	done   chan error
}

func start(t testing.TB, cfg Config) *running {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.randN = func(n int64) int64 { return n - 1 } // jitter picks the bound: deterministic
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{e: e, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- e.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the engine and waits for Run to return.
func (r *running) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("Run returned %v", err)
		}
		if ok {
			close(r.done)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancellation")
	}
}

// eventually polls cond until it holds or 10 s pass.
// eventually is deliverytest.Eventually.
var eventually = deliverytest.Eventually

func counts(t testing.TB, st store.Store, stream string) store.OutboxCounts {
	t.Helper()
	c, err := st.CountOutbox(context.Background(), stream, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// settled reports whether the stream's outbox has no pending SET.
func drained(t testing.TB, st store.Store, stream string) func() bool {
	return func() bool { return counts(t, st, stream).Pending == 0 }
}

// peek returns the stream's pending SETs with their attempt state, by leasing them far
// in the future under another owner. Stop the engine first.
func peek(t testing.TB, st store.Store, stream string) []*store.OutboxSET {
	t.Helper()
	sets, err := st.Lease(context.Background(), store.LeaseRequest{
		Owner: "inspector", StreamID: stream, Limit: 1000, Duration: time.Hour,
		Now: time.Now().Add(1000 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

// peekAt returns the stream's SETs deliverable at now (unleased), leasing them to
// "inspector" for an hour; releaseInspector gives them back.
func peekAt(t testing.TB, st store.Store, stream string, now time.Time) []*store.OutboxSET {
	t.Helper()
	sets, err := st.Lease(context.Background(), store.LeaseRequest{
		Owner: "inspector", StreamID: stream, Limit: 1000, Duration: time.Hour, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

func releaseInspector(t testing.TB, st store.Store) {
	t.Helper()
	if _, err := st.ReleaseOwner(context.Background(), "inspector"); err != nil {
		t.Fatal(err)
	}
}

func deadLetters(t testing.TB, st store.Store, stream string) []*store.OutboxSET {
	t.Helper()
	d, err := st.DeadLetters(context.Background(), stream, 0)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// hookLog records hook calls.
type hookLog struct {
	mu        sync.Mutex
	delivered map[string]int
	retried   map[Reason]int
	dead      map[Reason]int
	failed    map[Reason]int
	perStream map[string]int // retried plus dead-lettered
}

func newHookLog() *hookLog {
	return &hookLog{delivered: map[string]int{}, retried: map[Reason]int{}, dead: map[Reason]int{}, failed: map[Reason]int{}, perStream: map[string]int{}}
}

func (h *hookLog) hooks() Hooks {
	return Hooks{
		Delivered: func(s string, latency time.Duration) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if latency < 0 {
				panic("negative latency")
			}
			h.delivered[s]++
		},
		Retried:       func(s string, r Reason) { h.mu.Lock(); h.retried[r]++; h.perStream[s]++; h.mu.Unlock() },
		DeadLettered:  func(s string, r Reason) { h.mu.Lock(); h.dead[r]++; h.perStream[s]++; h.mu.Unlock() },
		RequestFailed: func(_ string, r Reason) { h.mu.Lock(); h.failed[r]++; h.mu.Unlock() },
	}
}

func (h *hookLog) handled(stream string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.perStream[stream]
}

func (h *hookLog) get(m map[Reason]int, r Reason) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return m[r]
}

// flakyStore fails Lease a number of times.
type flakyStore struct {
	store.Store
	leaseFailures atomic.Int64
}

func (f *flakyStore) Lease(ctx context.Context, req store.LeaseRequest) ([]*store.OutboxSET, error) {
	if f.leaseFailures.Add(-1) >= 0 {
		return nil, errors.New("injected lease failure")
	}
	return f.Store.Lease(ctx, req)
}
