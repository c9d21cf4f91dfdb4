package poll

import (
	"context"
	"encoding/json"
	"errors"
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

// clock is a settable clock; zero offset means real time.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// env is a poll endpoint over loopback with a store and two clients.
type env struct {
	t     testing.TB
	st    store.Store
	h     *Handler
	srv   *httptest.Server
	clock *clock
	hooks *hookLog
}

// authorize accepts "Bearer <client>" and lets a client poll only its own streams
// (another client's stream is reported as not found).
func authorize(st store.Store) func(r *http.Request, streamID string) error {
	return func(r *http.Request, streamID string) error {
		client, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || client == "" {
			return ssf.Errorf(http.StatusUnauthorized, "a bearer token is required")
		}
		if client == "expired" {
			return challengeErr{}
		}
		s, err := st.GetStream(r.Context(), streamID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && s.ClientID != client) {
			return ssf.Errorf(http.StatusNotFound, "no stream %q", streamID)
		}
		return err
	}
}

type challengeErr struct{}

func (challengeErr) Error() string { return "token expired" }
func (challengeErr) Is(target error) bool {
	return target == ssf.ErrUnauthorized
}
func (challengeErr) WWWAuthenticate() string {
	return `Bearer error="invalid_token", error_description="token expired"`
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	e := &env{t: t, st: newStore(t), clock: &clock{}, hooks: &hookLog{}}
	cfg := Config{
		Store:           e.st,
		Authorize:       authorize(e.st),
		LongPollTimeout: 5 * time.Second,
		LeaseDuration:   time.Minute,
		Owner:           "poll-test",
		Now:             e.clock.now,
		Hooks:           e.hooks.hooks(),
	}
	if mod != nil {
		mod(&cfg)
	}
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	e.h = h
	mux := http.NewServeMux()
	mux.Handle("/poll/{stream_id}", h)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// stream creates a stream of client "c-<id>" with the given delivery method.
func (e *env) stream(id, method string) {
	e.t.Helper()
	now := time.Now()
	d := &ssf.Delivery{Method: method, EndpointURL: e.srv.URL + "/poll/" + id}
	if method == ssf.DeliveryPush {
		d.EndpointURL = "https://rx.example/push"
	}
	s := &store.Stream{
		ID: id, ClientID: "c-" + id, Status: ssf.StatusEnabled, CreatedAt: now, UpdatedAt: now,
		Config: ssf.StreamConfig{StreamID: id, Issuer: "https://tx.example", Audience: ssf.Audience{"https://rx.example"}, Delivery: d},
	}
	if err := e.st.CreateStream(context.Background(), s); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) enqueue(stream string, jtis ...string) {
	e.t.Helper()
	var sets []*store.OutboxSET
	for _, j := range jtis {
		sets = append(sets, &store.OutboxSET{StreamID: stream, JTI: j, SET: fakeSET(j), EventType: "x", CreatedAt: time.Now()})
	}
	if err := e.st.Enqueue(context.Background(), sets); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) setStatus(id string, status ssf.Status, enqueue ...*store.OutboxSET) {
	e.t.Helper()
	s, err := e.st.GetStream(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	s.Status = status
	if err := e.st.UpdateStream(context.Background(), s, store.StreamChange{Enqueue: enqueue}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) counts(stream string) store.OutboxCounts {
	e.t.Helper()
	c, err := e.st.CountOutbox(context.Background(), stream, e.clock.now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// answer is a poll answer.
type answer struct {
	Status int
	Header http.Header
	Body   string
	Resp   ssf.PollResponse // for 200
	Err    ssf.ErrorResponse
}

// poll sends body to the stream's poll endpoint as client "c-<stream>".
func (e *env) poll(stream, body string) answer {
	e.t.Helper()
	return e.pollAs("c-"+stream, stream, body, nil)
}

func (e *env) pollAs(client, stream, body string, hdr map[string]string) answer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/poll/"+stream, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if client != "" {
		req.Header.Set("Authorization", "Bearer "+client)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("poll: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &a.Resp); err != nil {
			e.t.Fatalf("poll answer %s: %v", b, err)
		}
		if err := a.Resp.Validate(); err != nil {
			e.t.Errorf("poll answer %s invalid: %v", b, err)
		}
	} else if len(b) > 0 {
		_ = json.Unmarshal(b, &a.Err)
	}
	return a
}

// mustPoll polls and fails the test unless the answer is 200.
func (e *env) mustPoll(stream, body string) ssf.PollResponse {
	e.t.Helper()
	a := e.poll(stream, body)
	if a.Status != http.StatusOK {
		e.t.Fatalf("poll %s: status %d: %s", body, a.Status, a.Body)
	}
	if ct := a.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Errorf("Content-Type %q", ct)
	}
	return a.Resp
}

// waiting returns the number of long polls in progress on the stream.
func (e *env) waiting(stream string) int {
	e.h.mu.Lock()
	defer e.h.mu.Unlock()
	return e.h.waiting[stream]
}

// eventually is deliverytest.Eventually.
var eventually = deliverytest.Eventually

type hookLog struct {
	mu                                   sync.Mutex
	served, acked, rejected, receiverErr []string
}

func (h *hookLog) hooks() Hooks {
	add := func(list *[]string, s string) { h.mu.Lock(); *list = append(*list, s); h.mu.Unlock() }
	return Hooks{
		Served:        func(s string, n int, _ time.Duration) { add(&h.served, s) },
		Acknowledged:  func(s string, n int) { add(&h.acked, s) },
		ReceiverError: func(s, code string) { add(&h.receiverErr, s+":"+code) },
		Rejected:      func(s string, status int) { add(&h.rejected, s+":"+http.StatusText(status)) },
	}
}

func (h *hookLog) list(l *[]string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), *l...)
}

// failingLease makes Lease fail (after acks were applied).
type failingLease struct{ store.Store }

func (failingLease) Lease(context.Context, store.LeaseRequest) ([]*store.OutboxSET, error) {
	return nil, errors.New("injected lease failure")
}
