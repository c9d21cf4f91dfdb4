package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/subject"
)

// pollRecord is one poll request the fake poll endpoint saw.
type pollRecord struct {
	req             ssf.PollRequest
	contentLanguage string
	authorization   string
	at              time.Time
}

// fakePollServer is an RFC 8936 poll endpoint over TLS: it keeps SETs until they are
// acknowledged (or reported in setErrs), redelivers unacknowledged ones after
// redeliverAfter, and long-polls.
type fakePollServer struct {
	srv *httptest.Server

	mu             sync.Mutex
	order          []string
	sets           map[string]string
	deliveredAt    map[string]time.Time
	acked          map[string]int
	errs           map[string]ssf.SETError
	requests       []pollRecord
	down           bool // answer 503
	ignoreAcks     int  // ignore the acknowledgements of that many requests
	redeliverAfter time.Duration
	longPoll       time.Duration
	keyFor         func(jti string) string
	added          chan struct{}
	token          string
}

func newFakePollServer(t testing.TB) *fakePollServer {
	p := &fakePollServer{
		sets: map[string]string{}, deliveredAt: map[string]time.Time{}, acked: map[string]int{},
		errs: map[string]ssf.SETError{}, redeliverAfter: 200 * time.Millisecond, longPoll: 300 * time.Millisecond,
		added: make(chan struct{}, 1),
	}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakePollServer) URL() string { return p.srv.URL + "/poll/stream-1" }

func (p *fakePollServer) add(jti, raw string) {
	p.mu.Lock()
	p.order = append(p.order, jti)
	p.sets[jti] = raw
	p.mu.Unlock()
	select {
	case p.added <- struct{}{}:
	default:
	}
}

func (p *fakePollServer) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
}

func (p *fakePollServer) snapshot() (requests []pollRecord, acked map[string]int, errs map[string]ssf.SETError, pending int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	acked = map[string]int{}
	for k, v := range p.acked {
		acked[k] = v
	}
	errs = map[string]ssf.SETError{}
	for k, v := range p.errs {
		errs[k] = v
	}
	return slices.Clone(p.requests), acked, errs, len(p.sets)
}

func (p *fakePollServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req ssf.PollRequest
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &req) != nil || req.Validate() != nil {
		http.Error(w, "bad poll request", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.requests = append(p.requests, pollRecord{req: req, contentLanguage: r.Header.Get("Content-Language"), authorization: r.Header.Get("Authorization"), at: time.Now()})
	if p.token != "" && r.Header.Get("Authorization") != "Bearer "+p.token {
		p.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if p.down {
		p.mu.Unlock()
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if p.ignoreAcks > 0 {
		p.ignoreAcks--
	} else {
		for _, jti := range req.Ack {
			p.acked[jti]++
			delete(p.sets, jti)
		}
	}
	for jti, e := range req.SetErrs {
		p.errs[jti] = e
		delete(p.sets, jti)
	}
	p.mu.Unlock()
	deadline := time.Now().Add(p.longPoll)
	for {
		out := p.take(req.MaxEvents)
		if len(out) > 0 || req.ReturnImmediately || (req.MaxEvents != nil && *req.MaxEvents == 0) || time.Now().After(deadline) {
			b, _ := json.Marshal(ssf.PollResponse{Sets: out})
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
			return
		}
		select {
		case <-p.added:
		case <-time.After(20 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	}
}

// take returns the SETs due for (re)delivery.
func (p *fakePollServer) take(maxEvents *int) map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]string{}
	now := time.Now()
	for _, jti := range p.order {
		raw, ok := p.sets[jti]
		if !ok {
			continue
		}
		if maxEvents != nil && len(out) >= *maxEvents {
			break
		}
		if at, ok := p.deliveredAt[jti]; ok && now.Sub(at) < p.redeliverAfter {
			continue
		}
		p.deliveredAt[jti] = now
		key := jti
		if p.keyFor != nil {
			key = p.keyFor(jti)
		}
		out[key] = raw
	}
	return out
}

func newTestPoller(t testing.TB, srv *fakePollServer, rec *Recipient, mod func(*PollerConfig)) *Poller {
	t.Helper()
	cfg := PollerConfig{
		Endpoint: srv.URL(), Recipient: rec, HTTPClient: srv.srv.Client(),
		PollInterval: 5 * time.Millisecond, MaxPollInterval: 20 * time.Millisecond,
		ErrorBackoff: 5 * time.Millisecond, MaxErrorBackoff: 50 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	p, err := NewPoller(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Every generated receiver vector by poll: accepted SETs are acknowledged after their
// handler ran, refused ones reported in setErrs with poll_err and Content-Language
// (RFC 8936 §2.4.4, POLL-11).
func TestPoll_NegativeVectors(t *testing.T) {
	ctx := context.Background()
	for _, c := range loadNegative(t) {
		t.Run(c.file, func(t *testing.T) {
			st := memory.New()
			defer st.Close()
			rec, err := NewRecipient(RecipientConfig{Verifier: c.verifier(t, false), Inbox: st, StreamID: c.Context.Stream.StreamID, States: c.states(t)})
			if err != nil {
				t.Fatal(err)
			}
			srv := newFakePollServer(t)
			srv.redeliverAfter = 0
			jti := c.jti(t)
			srv.add(jti, c.compact(t))
			p := newTestPoller(t, srv, rec, func(cfg *PollerConfig) { cfg.ReturnImmediately = true })
			mux := NewMux()
			calls := 0
			mux.Fallback(func(context.Context, *set.Token) error { calls++; return nil })
			w, err := NewWorker(WorkerConfig{Inbox: st, Mux: mux})
			if err != nil {
				t.Fatal(err)
			}
			deliveries := 1
			if strings.HasPrefix(c.Expect, "accept-twice") {
				deliveries = 2
			}
			for range deliveries {
				if res, err := p.PollOnce(ctx); err != nil || res.Sets != 1 {
					t.Fatalf("poll: %+v %v", res, err)
				}
			}
			if _, err := w.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := p.PollOnce(ctx); err != nil {
				t.Fatal(err)
			}
			reqs, acked, errs, _ := srv.snapshot()
			last := reqs[len(reqs)-1]
			switch {
			case c.wantAccept(false):
				if acked[jti] == 0 || len(errs) != 0 {
					t.Fatalf("acked %v, errs %v", acked, errs)
				}
				want := 1
				if c.Expect == "accept-discard-event" {
					want = 0
				}
				if calls != want {
					t.Errorf("handler called %d times, want %d", calls, want)
				}
			default:
				if errs[jti].Err != *c.PollErr || errs[jti].Description == "" || acked[jti] != 0 {
					t.Fatalf("errs %v acked %v, want %s", errs, acked, *c.PollErr)
				}
				if last.contentLanguage != "en" {
					t.Errorf("Content-Language %q with setErrs (POLL-11)", last.contentLanguage)
				}
			}
			// Requests without setErrs carry no Content-Language.
			if reqs[0].contentLanguage != "" {
				t.Errorf("first request Content-Language %q", reqs[0].contentLanguage)
			}
		})
	}
}

// pipeline runs a poller and a worker against srv until stop is called.
type pipeline struct {
	rec     *Recipient
	inbox   store.InboxStore
	mux     *Mux
	poller  *Poller
	worker  *Worker
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	handled chan string
	cnt     *counters
}

func startPipeline(t testing.TB, srv *fakePollServer, tt *testTransmitter, inbox store.InboxStore, pmod func(*PollerConfig), handler func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error) *pipeline {
	t.Helper()
	pl := &pipeline{mux: NewMux(), handled: make(chan string, 1000), cnt: &counters{}}
	hooks := pl.cnt.hooks()
	if inbox == nil {
		m := memory.New()
		t.Cleanup(func() { _ = m.Close() })
		inbox = m
	}
	pl.inbox = inbox
	v, err := set.NewVerifier(testKeySet(t), set.Config{Issuer: tt.issuer, Audiences: []string{tt.aud}})
	if err != nil {
		t.Fatal(err)
	}
	var w *Worker
	pl.rec, err = NewRecipient(RecipientConfig{Verifier: v, Inbox: inbox, StreamID: tt.streamID, Hooks: hooks, Notify: func() { w.Notify() }})
	if err != nil {
		t.Fatal(err)
	}
	pl.poller = newTestPoller(t, srv, pl.rec, func(c *PollerConfig) {
		c.Hooks = hooks
		if pmod != nil {
			pmod(c)
		}
	})
	if handler == nil {
		handler = func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error { return nil }
	}
	On(pl.mux, func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error {
		if err := handler(ctx, tok, ev); err != nil {
			return err
		}
		pl.handled <- tok.JTI
		return nil
	})
	w, err = NewWorker(WorkerConfig{Inbox: inbox, Mux: pl.mux, AckReady: pl.poller.AckNow, Hooks: hooks, IdleInterval: 20 * time.Millisecond,
		RetryBackoff: time.Millisecond, MaxRetryBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pl.worker = w
	ctx, cancel := context.WithCancel(context.Background())
	pl.cancel = cancel
	pl.wg.Go(func() {
		if err := pl.poller.Run(ctx); err != nil {
			t.Error(err)
		}
	})
	pl.wg.Go(func() {
		if err := w.Run(ctx); err != nil {
			t.Error(err)
		}
	})
	return pl
}

func (pl *pipeline) stop() {
	pl.cancel()
	pl.wg.Wait()
}

// waitAcked waits until srv has been told about every jti.
func waitAcked(t testing.TB, srv *fakePollServer, jtis []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, acked, _, _ := srv.snapshot()
		missing := 0
		for _, j := range jtis {
			if acked[j] == 0 {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d SETs not acknowledged", missing, len(jtis))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The transmitter is down for a while: the poller backs off, recovers, and everything
// queued meanwhile is delivered, handled once and acknowledged.
func TestPoll_OutageRecovery(t *testing.T) {
	tt := newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	srv := newFakePollServer(t)
	srv.setDown(true)
	var jtis []string
	for range 30 {
		raw, jti := tt.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
		srv.add(jti, raw)
		jtis = append(jtis, jti)
	}
	var failures atomic.Int32
	pl := startPipeline(t, srv, tt, nil, func(c *PollerConfig) {
		c.MaxEvents = 7
		c.Hooks.PollRequest = func(status, sets, acks, errs int, d time.Duration, err error) {
			if err != nil {
				failures.Add(1)
			}
		}
	}, nil)
	defer pl.stop()
	time.Sleep(200 * time.Millisecond)
	if failures.Load() < 2 {
		t.Errorf("%d failed polls during the outage", failures.Load())
	}
	reqs, _, _, _ := srv.snapshot()
	if n := len(reqs); n > 30 {
		t.Errorf("%d requests in 200 ms of outage: no backoff", n)
	}
	srv.setDown(false)
	waitAcked(t, srv, jtis, 10*time.Second)
	seen := map[string]int{}
	for len(seen) < len(jtis) {
		select {
		case j := <-pl.handled:
			seen[j]++
		case <-time.After(5 * time.Second):
			t.Fatalf("handled %d of %d", len(seen), len(jtis))
		}
	}
	select {
	case j := <-pl.handled:
		t.Errorf("%s handled twice", j)
	case <-time.After(100 * time.Millisecond):
	}
}

// POLL-8: a SET redelivered after it was processed is acknowledged again and not
// handled twice.
func TestPoll_RedeliveredProcessedSETIsAcknowledgedAgain(t *testing.T) {
	tt := newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	srv := newFakePollServer(t)
	srv.redeliverAfter = 50 * time.Millisecond
	srv.mu.Lock()
	srv.ignoreAcks = 1000 // the transmitter loses every acknowledgement for now
	srv.mu.Unlock()
	raw, jti := tt.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	srv.add(jti, raw)
	pl := startPipeline(t, srv, tt, nil, func(c *PollerConfig) { c.ReturnImmediately = true }, nil)
	defer pl.stop()
	select {
	case <-pl.handled:
	case <-time.After(5 * time.Second):
		t.Fatal("not handled")
	}
	// Wait for two requests acknowledging it (the first lost), then let acks through.
	deadline := time.Now().Add(5 * time.Second)
	for {
		reqs, _, _, _ := srv.snapshot()
		n := 0
		for _, r := range reqs {
			if slices.Contains(r.req.Ack, jti) {
				n++
			}
		}
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acknowledged in %d requests", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.mu.Lock()
	srv.ignoreAcks = 0
	srv.mu.Unlock()
	waitAcked(t, srv, []string{jti}, 5*time.Second)
	if pl.cnt.get(func(c *counters) int { return c.dups }) == 0 {
		t.Error("no duplicate seen")
	}
	select {
	case <-pl.handled:
		t.Error("handled twice")
	case <-time.After(100 * time.Millisecond):
	}
}

// While a long poll waits, a finished SET is acknowledged at once with an
// acknowledge-only request (maxEvents 0, returnImmediately true; POLL-5).
func TestPoll_AcknowledgeOnlyDuringLongPoll(t *testing.T) {
	tt := newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	srv := newFakePollServer(t)
	srv.longPoll = 3 * time.Second
	srv.redeliverAfter = time.Hour
	// The handler takes a while, so that the next long poll is waiting when it ends.
	slow := func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error {
		time.Sleep(150 * time.Millisecond)
		return nil
	}
	pl := startPipeline(t, srv, tt, nil, nil, slow)
	defer pl.stop()
	time.Sleep(50 * time.Millisecond) // the first long poll is waiting
	raw, jti := tt.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	srv.add(jti, raw)
	start := time.Now()
	waitAcked(t, srv, []string{jti}, 2*time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("acknowledged after %s", d)
	}
	reqs, _, _, _ := srv.snapshot()
	found := false
	for _, r := range reqs {
		if slices.Contains(r.req.Ack, jti) {
			found = r.req.MaxEvents != nil && *r.req.MaxEvents == 0 && r.req.ReturnImmediately
		}
	}
	if !found {
		t.Error("the acknowledgement did not go in an acknowledge-only request")
	}
	for _, r := range reqs {
		if r.req.MaxEvents == nil || (*r.req.MaxEvents != 100 && *r.req.MaxEvents != 0) {
			t.Errorf("maxEvents %v", r.req.MaxEvents)
		}
	}
}

// Run stops promptly on cancellation, during a long poll, and leaves no goroutine.
func TestPoll_StopsCleanly(t *testing.T) {
	before := runtime.NumGoroutine()
	tt := newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	srv := newFakePollServer(t)
	srv.longPoll = time.Minute
	pl := startPipeline(t, srv, tt, nil, nil, nil)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	pl.stop()
	if d := time.Since(start); d > time.Second {
		t.Errorf("stop took %s", d)
	}
	srv.srv.CloseClientConnections()
	pl.poller.http.CloseIdleConnections()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+3 {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// Answers that are not RFC 8936 poll responses are errors, and nothing is acknowledged.
func TestPoll_BadAnswers(t *testing.T) {
	ctx := context.Background()
	tt := newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	rec, st := newTestRecipient(t, tt, nil, nil)
	if err := st.AddPendingAcks(ctx, "stream-1", []string{"j1"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		status int
		body   string
		header map[string]string
		retry  time.Duration
	}{
		{200, `{"set":{}}`, nil, 0},
		{200, `[]`, nil, 0},
		{200, `{"sets":{"j":"not-a-jwt"}}`, nil, 0},
		{200, `{"sets":{"j":1}}`, nil, 0},
		{400, `{"err":"x"}`, nil, 0},
		{401, ``, nil, 0},
		{429, ``, map[string]string{"Retry-After": "3"}, 3 * time.Second},
		{503, ``, map[string]string{"Retry-After": "4"}, 4 * time.Second},
		{202, ``, nil, 0},
	} {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for k, v := range tc.header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		p, err := NewPoller(PollerConfig{Endpoint: srv.URL, Recipient: rec, HTTPClient: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.PollOnce(ctx)
		var pe *PollError
		if !errors.As(err, &pe) || pe.RetryAfter != tc.retry {
			t.Errorf("%d %s: %v", tc.status, tc.body, err)
		}
		if acks, _ := st.PendingAcks(ctx, "stream-1", 0); len(acks) != 1 {
			t.Errorf("%d %s: acknowledgements forgotten after a failed request", tc.status, tc.body)
		}
		srv.Close()
	}
}

// A SET delivered under another name than its jti is refused (invalid_request).
func TestPoll_KeyMustBeTheJTI(t *testing.T) {
	ctx := context.Background()
	tt := newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	rec, _ := newTestRecipient(t, tt, nil, nil)
	srv := newFakePollServer(t)
	srv.keyFor = func(jti string) string { return "other-" + jti }
	raw, jti := tt.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	srv.add(jti, raw)
	p := newTestPoller(t, srv, rec, func(c *PollerConfig) { c.ReturnImmediately = true })
	if _, err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, errs, _ := srv.snapshot()
	if e := errs["other-"+jti]; e.Err != ssf.CodeInvalidRequest {
		t.Errorf("errs %v", errs)
	}
}

// The poll endpoint gets the Receiver's credentials (SSF-AUTH-2); a 401 refreshes them.
func TestPoll_Credentials(t *testing.T) {
	ctx := context.Background()
	tt := newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	rec, _ := newTestRecipient(t, tt, nil, nil)
	srv := newFakePollServer(t)
	srv.token = "second"
	creds := &countingCreds{tokens: []string{"first", "second"}}
	p := newTestPoller(t, srv, rec, func(c *PollerConfig) { c.Credentials = creds; c.ReturnImmediately = true })
	if _, err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	reqs, _, _, _ := srv.snapshot()
	if len(reqs) != 2 || reqs[1].authorization != "Bearer second" || creds.invalidated != 1 {
		t.Errorf("requests %+v, invalidated %d", reqs, creds.invalidated)
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range []time.Duration{time.Second, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if n == 0 {
			continue
		}
		if got := backoffDelay(time.Second, 5*time.Second, n); got != min(want, 5*time.Second) {
			t.Errorf("backoffDelay(%d) = %s", n, got)
		}
	}
	if got := backoffDelay(time.Second, time.Minute, 1000); got != time.Minute {
		t.Errorf("large n: %s", got)
	}
	for range 1000 {
		if d := jitter(10 * time.Second); d < 5*time.Second || d > 10*time.Second {
			t.Fatalf("jitter %s", d)
		}
	}
}
