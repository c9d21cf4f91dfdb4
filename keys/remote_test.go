package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// jwksServer is a transmitter's jwks_uri on loopback whose answers a test controls.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	body    []byte
	header  http.Header   // sent with every 200 and 304
	status  int           // 0 means 200 (or 304 on a matching If-None-Match)
	block   chan struct{} // when non-nil, requests wait until it is closed
	fetches atomic.Int64
	// conditional counts requests that carried If-None-Match; notModified those answered 304.
	conditional, notModified atomic.Int64
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{body: body, header: http.Header{}}
	s.Server = httptest.NewTLSServer(s)
	t.Cleanup(func() {
		s.release()
		s.Close()
	})
	return s
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.fetches.Add(1)
	s.mu.Lock()
	block := s.block
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			panic(http.ErrAbortHandler) // drop the connection without an answer
		}
	}
	s.mu.Lock()
	body, status := s.body, s.status
	header := s.header.Clone()
	s.mu.Unlock()
	if status != 0 && status != http.StatusOK {
		http.Error(w, "transmitter trouble", status)
		return
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		s.conditional.Add(1)
		if inm == header.Get("ETag") {
			s.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// update changes what the server answers from now on.
func (s *jwksServer) update(fn func(s *jwksServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s)
}

// hold makes requests wait until release.
func (s *jwksServer) hold() {
	s.update(func(s *jwksServer) { s.block = make(chan struct{}) })
}

func (s *jwksServer) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.block != nil {
		close(s.block)
		s.block = nil
	}
}

func (s *jwksServer) jwksURI() string { return s.URL + "/jwks.json" }

// newRemote builds a RemoteKeySet on srv with the fake clock (unless opts.Now is set) and
// the server's TLS client (unless opts.HTTPClient is set); it is closed by t.Cleanup.
func newRemote(t *testing.T, srv *jwksServer, clock *fakeClock, opts RemoteOptions) *RemoteKeySet {
	t.Helper()
	if opts.HTTPClient == nil {
		opts.HTTPClient = srv.Client()
	}
	if opts.Now == nil && clock != nil {
		opts.Now = clock.Now
	}
	r, err := NewRemoteKeySet(srv.jwksURI(), opts)
	if err != nil {
		t.Fatalf("NewRemoteKeySet: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// waitIdle waits for a fetch in flight (a refresh-ahead) to finish.
func waitIdle(t *testing.T, r *RemoteKeySet) {
	t.Helper()
	r.mu.Lock()
	c := r.inflight
	r.mu.Unlock()
	if c == nil {
		return
	}
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("fetch in flight did not finish")
	}
}

// transmitterKeys returns a SigningKeys of fresh-per-name ES256 keys and its JWK Set.
func transmitterKeys(t *testing.T, names ...string) (*SigningKeys, []*SigningKey) {
	t.Helper()
	var ks []*SigningKey
	for _, n := range names {
		ks = append(ks, testSigningKeyNamed(t, "ES256", n))
	}
	s, err := NewSigningKeys(ks[0], ks[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return s, ks
}

func marshalJWKS(t *testing.T, s *SigningKeys) []byte {
	t.Helper()
	doc, err := s.MarshalJWKS()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func expectFetches(t *testing.T, srv *jwksServer, want int64) {
	t.Helper()
	if got := srv.fetches.Load(); got != want {
		t.Fatalf("server saw %d fetches, want %d", got, want)
	}
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func testLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestRemoteFetchesOnceAndCaches: nothing is fetched before first use; then the keys are
// served from the cache.
func TestRemoteFetchesOnceAndCaches(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	clock := newFakeClock()
	r := newRemote(t, srv, clock, RemoteOptions{})
	expectFetches(t, srv, 0)
	ctx := context.Background()
	for range 10 {
		got, err := r.Keys(ctx, ks[0].KeyID())
		if err != nil || len(got) != 1 || got[0].KeyID != ks[0].KeyID() || !got[0].IsPublic() {
			t.Fatalf("Keys = %v, %v", got, err)
		}
	}
	if all, err := r.Keys(ctx, ""); err != nil || len(all) != 1 {
		t.Errorf("Keys(\"\") = %d keys, %v", len(all), err)
	}
	// An unknown kid right after a fetch does not fetch again (MinRefreshInterval).
	if _, err := r.Keys(ctx, "unknown"); !errors.Is(err, ErrUnknownKeyID) {
		t.Errorf("Keys(unknown) = %v, want ErrUnknownKeyID", err)
	}
	expectFetches(t, srv, 1)
}

// TestRemoteConcurrentColdStart: 50 concurrent first callers share one fetch.
func TestRemoteConcurrentColdStart(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	r := newRemote(t, srv, newFakeClock(), RemoteOptions{})
	srv.hold()
	errs := make(chan error, 50)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := r.Keys(context.Background(), ks[0].KeyID())
			errs <- err
		})
	}
	time.Sleep(20 * time.Millisecond) // let callers pile up on the held fetch
	srv.release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	expectFetches(t, srv, 1)
}

// TestRemoteConcurrentUnknownKid (SEC-2): 50 concurrent lookups of a kid that is not
// cached cause exactly one refresh, which finds the transmitter's new key.
func TestRemoteConcurrentUnknownKid(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	clock := newFakeClock()
	r := newRemote(t, srv, clock, RemoteOptions{})
	ctx := context.Background()
	if _, err := r.Keys(ctx, ks[0].KeyID()); err != nil {
		t.Fatal(err)
	}
	next := testSigningKeyNamed(t, "ES256", "b")
	if err := tk.Rotate(next); err != nil {
		t.Fatal(err)
	}
	srv.update(func(s *jwksServer) { s.body = marshalJWKS(t, tk) })
	clock.Advance(2 * time.Minute)

	srv.hold()
	errs := make(chan error, 50)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			got, err := r.Keys(ctx, next.KeyID())
			if err == nil && (len(got) != 1 || got[0].KeyID != next.KeyID()) {
				err = fmt.Errorf("got %v", got)
			}
			errs <- err
		})
	}
	time.Sleep(20 * time.Millisecond)
	srv.release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	expectFetches(t, srv, 2)
}

// TestRemoteUnknownKidRateLimit (SEC-2): refreshes caused by unknown kids happen at most
// once per MinRefreshInterval.
func TestRemoteUnknownKidRateLimit(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	clock := newFakeClock()
	r := newRemote(t, srv, clock, RemoteOptions{MinRefreshInterval: time.Minute})
	ctx := context.Background()
	if _, err := r.Keys(ctx, ks[0].KeyID()); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		fetches int64
	}{
		{0, 1},                // just fetched
		{30 * time.Second, 1}, // 30 s after the fetch
		{29 * time.Second, 1}, // 59 s
		{2 * time.Second, 2},  // 61 s: one refresh
		{0, 2},                // and not again
		{59 * time.Second, 2}, // 59 s after that refresh
		{time.Second, 3},      // 60 s: the next one
		{10 * time.Second, 3}, //
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		for _, kid := range []string{"attacker-1", "attacker-2"} {
			if _, err := r.Keys(ctx, kid); !errors.Is(err, ErrUnknownKeyID) {
				t.Fatalf("step %d: Keys(%s) = %v, want ErrUnknownKeyID", i, kid, err)
			}
		}
		if got := srv.fetches.Load(); got != st.fetches {
			t.Fatalf("step %d: %d fetches, want %d", i, got, st.fetches)
		}
	}
	// The known key still answers from the cache without fetching.
	if _, err := r.Keys(ctx, ks[0].KeyID()); err != nil {
		t.Fatal(err)
	}
	expectFetches(t, srv, 3)
}

// TestRemoteMaxAge: Cache-Control max-age sets the freshness lifetime; a read after three
// quarters of it refreshes in the background without waiting; a read after expiry waits
// for the refresh.
func TestRemoteMaxAge(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	srv.update(func(s *jwksServer) { s.header.Set("Cache-Control", "public, max-age=600") })
	clock := newFakeClock()
	r := newRemote(t, srv, clock, RemoteOptions{})
	ctx := context.Background()
	kid := ks[0].KeyID()
	if _, err := r.Keys(ctx, kid); err != nil {
		t.Fatal(err)
	}
	clock.Advance(449 * time.Second)
	if _, err := r.Keys(ctx, kid); err != nil {
		t.Fatal(err)
	}
	expectFetches(t, srv, 1)

	// Refresh-ahead: with the server held, Keys still answers at once from the cache.
	clock.Advance(2 * time.Second) // 451 s > 3/4 of 600 s
	srv.hold()
	if _, err := r.Keys(ctx, kid); err != nil {
		t.Fatal(err)
	}
	srv.release()
	waitIdle(t, r)
	expectFetches(t, srv, 2)

	// That refresh restarted the lifetime: 600 s from 451 s. After expiry, the read waits.
	clock.Advance(449 * time.Second)
	if _, err := r.Keys(ctx, kid); err != nil {
		t.Fatal(err)
	}
	expectFetches(t, srv, 2)
	clock.Advance(200 * time.Second)
	if _, err := r.Keys(ctx, kid); err != nil {
		t.Fatal(err)
	}
	expectFetches(t, srv, 3)
}

// TestRemoteLifetimeRules: no-store → MinTTL, no header → DefaultTTL, a huge max-age →
// MaxTTL.
func TestRemoteLifetimeRules(t *testing.T) {
	tests := []struct {
		name         string
		cacheControl string
		opts         RemoteOptions
		stillFresh   time.Duration // no fetch when reading after this
		expired      time.Duration // a fetch when reading after this
	}{
		{"no-store means MinTTL", "no-store", RemoteOptions{MinTTL: 2 * time.Minute}, 89 * time.Second, 121 * time.Second},
		{"no-cache means MinTTL", "no-cache", RemoteOptions{}, 44 * time.Second, 61 * time.Second},
		{"max-age=0 means MinTTL", "max-age=0", RemoteOptions{}, 44 * time.Second, 61 * time.Second},
		{"no header means DefaultTTL", "", RemoteOptions{DefaultTTL: 20 * time.Minute}, 14 * time.Minute, 21 * time.Minute},
		{"default DefaultTTL is 1h", "", RemoteOptions{}, 44 * time.Minute, 61 * time.Minute},
		{"max-age clamped to MaxTTL", "max-age=31536000", RemoteOptions{MaxTTL: 2 * time.Hour}, 89 * time.Minute, 121 * time.Minute},
		{"max-age clamped to MinTTL", "max-age=5", RemoteOptions{MinTTL: 10 * time.Minute}, 7 * time.Minute, 11 * time.Minute},
	}
	tk, ks := transmitterKeys(t, "a")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, marshalJWKS(t, tk))
			if tt.cacheControl != "" {
				srv.update(func(s *jwksServer) { s.header.Set("Cache-Control", tt.cacheControl) })
			}
			clock := newFakeClock()
			r := newRemote(t, srv, clock, tt.opts)
			ctx := context.Background()
			if _, err := r.Keys(ctx, ks[0].KeyID()); err != nil {
				t.Fatal(err)
			}
			clock.Advance(tt.stillFresh)
			if _, err := r.Keys(ctx, ks[0].KeyID()); err != nil {
				t.Fatal(err)
			}
			expectFetches(t, srv, 1)
			clock.Advance(tt.expired - tt.stillFresh)
			if _, err := r.Keys(ctx, ks[0].KeyID()); err != nil {
				t.Fatal(err)
			}
			expectFetches(t, srv, 2)
		})
	}
}

// TestRemoteETag: refreshes revalidate with If-None-Match; a 304 keeps the keys and
// restarts their lifetime.
func TestRemoteETag(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	srv.update(func(s *jwksServer) {
		s.header.Set("ETag", `"v1"`)
		s.header.Set("Cache-Control", "max-age=300")
	})
	clock := newFakeClock()
	r := newRemote(t, srv, clock, RemoteOptions{})
	ctx := context.Background()
	kid := ks[0].KeyID()
	if _, err := r.Keys(ctx, kid); err != nil {
		t.Fatal(err)
	}
	if srv.conditional.Load() != 0 {
		t.Fatal("the first fetch was conditional")
	}
	clock.Advance(301 * time.Second)
	got, err := r.Keys(ctx, kid)
	if err != nil || len(got) != 1 {
		t.Fatalf("after 304: Keys = %v, %v", got, err)
	}
	if srv.notModified.Load() != 1 {
		t.Fatalf("304 answers = %d, want 1", srv.notModified.Load())
	}
	clock.Advance(200 * time.Second) // within the lifetime restarted by the 304
	if _, err := r.Keys(ctx, kid); err != nil {
		t.Fatal(err)
	}
	expectFetches(t, srv, 2)

	// The transmitter changes its keys and ETag: the next revalidation gets a 200.
	next := testSigningKeyNamed(t, "ES256", "b")
	if err := tk.Rotate(next); err != nil {
		t.Fatal(err)
	}
	srv.update(func(s *jwksServer) {
		s.body = marshalJWKS(t, tk)
		s.header.Set("ETag", `"v2"`)
	})
	clock.Advance(101 * time.Second)
	if _, err := r.Keys(ctx, next.KeyID()); err != nil {
		t.Fatal(err)
	}
	if srv.conditional.Load() != 2 || srv.notModified.Load() != 1 {
		t.Errorf("conditional %d, 304 %d; want 2, 1", srv.conditional.Load(), srv.notModified.Load())
	}
	if got := r.snap.Load().etag; got != `"v2"` {
		t.Errorf("cached ETag = %s, want \"v2\"", got)
	}
}

// TestRemoteUnexpected304: a 304 to an unconditional request is a failed fetch.
func TestRemoteUnexpected304(t *testing.T) {
	srv := newJWKSServer(t, nil)
	srv.update(func(s *jwksServer) { s.status = http.StatusNotModified })
	r := newRemote(t, srv, newFakeClock(), RemoteOptions{})
	if _, err := r.Keys(context.Background(), "x"); !errors.Is(err, ErrFetch) {
		t.Errorf("Keys = %v, want ErrFetch", err)
	}
}

// TestRemoteOversizedBody (SEC-17): bodies over MaxResponseBytes are refused, whether the
// server declares the length or streams.
func TestRemoteOversizedBody(t *testing.T) {
	tk, _ := transmitterKeys(t, "a")
	doc := marshalJWKS(t, tk)
	big := append(bytes.TrimSuffix(doc, []byte("}")), []byte(`,"padding":"`+strings.Repeat("x", 4096)+`"}`)...)

	t.Run("Content-Length", func(t *testing.T) {
		srv := newJWKSServer(t, big)
		r := newRemote(t, srv, newFakeClock(), RemoteOptions{MaxResponseBytes: 1024})
		if _, err := r.Keys(context.Background(), ""); !errors.Is(err, ErrResponseTooLarge) {
			t.Errorf("Keys = %v, want ErrResponseTooLarge", err)
		}
	})
	t.Run("streamed", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < len(big); i += 512 {
				_, _ = w.Write(big[i:min(i+512, len(big))])
				w.(http.Flusher).Flush()
			}
		}))
		t.Cleanup(srv.Close)
		r, err := NewRemoteKeySet(srv.URL, RemoteOptions{HTTPClient: srv.Client(), MaxResponseBytes: 1024})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		if _, err := r.Keys(context.Background(), ""); !errors.Is(err, ErrResponseTooLarge) {
			t.Errorf("Keys = %v, want ErrResponseTooLarge", err)
		}
	})
	t.Run("at the limit", func(t *testing.T) {
		srv := newJWKSServer(t, doc)
		r := newRemote(t, srv, newFakeClock(), RemoteOptions{MaxResponseBytes: int64(len(doc))})
		if _, err := r.Keys(context.Background(), ""); err != nil {
			t.Errorf("Keys = %v", err)
		}
	})
}

// TestRemoteSlowServer: a server slower than Timeout gives a timeout error; a caller's ctx
// ending first gives the ctx error while the fetch goes on for others.
func TestRemoteSlowServer(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	t.Run("Timeout", func(t *testing.T) {
		srv := newJWKSServer(t, marshalJWKS(t, tk))
		srv.hold()
		r := newRemote(t, srv, newFakeClock(), RemoteOptions{Timeout: 100 * time.Millisecond})
		_, err := r.Keys(context.Background(), ks[0].KeyID())
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrFetch) {
			t.Errorf("Keys = %v, want ErrFetch wrapping context.DeadlineExceeded", err)
		}
	})
	t.Run("caller ctx", func(t *testing.T) {
		srv := newJWKSServer(t, marshalJWKS(t, tk))
		srv.hold()
		r := newRemote(t, srv, newFakeClock(), RemoteOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := r.Keys(ctx, ks[0].KeyID())
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrFetch) {
			t.Fatalf("Keys = %v, want the caller's context.DeadlineExceeded", err)
		}
		// The fetch carried on; once the server answers, the keys are there.
		srv.release()
		waitIdle(t, r)
		if _, err := r.Keys(context.Background(), ks[0].KeyID()); err != nil {
			t.Errorf("after the fetch finished: %v", err)
		}
		expectFetches(t, srv, 1)
	})
	t.Run("canceled ctx", func(t *testing.T) {
		srv := newJWKSServer(t, marshalJWKS(t, tk))
		srv.hold()
		r := newRemote(t, srv, newFakeClock(), RemoteOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := r.Keys(ctx, ks[0].KeyID()); !errors.Is(err, context.Canceled) {
			t.Errorf("Keys = %v, want context.Canceled", err)
		}
		if err := r.Refresh(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Refresh = %v, want context.Canceled", err)
		}
	})
}

// TestRemoteTransmitterRotation: the transmitter rotates (new kid published, old kid
// retired but still published): the new kid is picked up by the unknown-kid refresh, the
// old kid stays valid while published and disappears once the transmitter removes it and
// the cache expires.
func TestRemoteTransmitterRotation(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	old := ks[0]
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	srv.update(func(s *jwksServer) { s.header.Set("Cache-Control", "max-age=3600") })
	clock := newFakeClock()
	r := newRemote(t, srv, clock, RemoteOptions{})
	ctx := context.Background()
	if _, err := r.Keys(ctx, old.KeyID()); err != nil {
		t.Fatal(err)
	}

	next := testSigningKeyNamed(t, "RS256", "rotated")
	if err := tk.Rotate(next); err != nil {
		t.Fatal(err)
	}
	srv.update(func(s *jwksServer) { s.body = marshalJWKS(t, tk) })
	clock.Advance(5 * time.Minute)
	got, err := r.Keys(ctx, next.KeyID())
	if err != nil || len(got) != 1 || got[0].Algorithm != "RS256" {
		t.Fatalf("new kid: Keys = %v, %v", got, err)
	}
	if _, err := r.Keys(ctx, old.KeyID()); err != nil {
		t.Errorf("retired kid still published: %v", err)
	}
	expectFetches(t, srv, 2)

	if err := tk.Remove(old.KeyID()); err != nil {
		t.Fatal(err)
	}
	srv.update(func(s *jwksServer) { s.body = marshalJWKS(t, tk) })
	clock.Advance(61 * time.Minute)
	if _, err := r.Keys(ctx, old.KeyID()); !errors.Is(err, ErrUnknownKeyID) {
		t.Errorf("removed kid after expiry: %v, want ErrUnknownKeyID", err)
	}
	if _, err := r.Keys(ctx, next.KeyID()); err != nil {
		t.Error(err)
	}
}

// TestRemoteStaleOnError: after a good fetch, failures keep the cached keys in service,
// are logged, and are retried no sooner than MinRefreshInterval.
func TestRemoteStaleOnError(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	srv.update(func(s *jwksServer) { s.header.Set("Cache-Control", "max-age=600") })
	clock := newFakeClock()
	var logs syncBuffer
	r := newRemote(t, srv, clock, RemoteOptions{Logger: testLogger(&logs)})
	ctx := context.Background()
	kid := ks[0].KeyID()
	if _, err := r.Keys(ctx, kid); err != nil {
		t.Fatal(err)
	}
	for name, fail := range map[string]func(s *jwksServer){
		"HTTP 500":     func(s *jwksServer) { s.status = http.StatusInternalServerError },
		"invalid body": func(s *jwksServer) { s.status = 0; s.body = []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`) },
	} {
		t.Run(name, func(t *testing.T) {
			srv.update(fail)
			before := srv.fetches.Load()
			clock.Advance(11 * time.Minute) // expired
			got, err := r.Keys(ctx, kid)
			if err != nil || len(got) != 1 {
				t.Fatalf("stale keys not served: %v, %v", got, err)
			}
			expectFetches(t, srv, before+1)
			clock.Advance(30 * time.Second)
			if _, err := r.Keys(ctx, kid); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Keys(ctx, "other"); !errors.Is(err, ErrUnknownKeyID) {
				t.Errorf("Keys(other) = %v", err)
			}
			expectFetches(t, srv, before+1) // backing off
			clock.Advance(31 * time.Second)
			if _, err := r.Keys(ctx, kid); err != nil {
				t.Fatal(err)
			}
			expectFetches(t, srv, before+2) // retried after MinRefreshInterval
			if !strings.Contains(logs.String(), "serving the cached keys") {
				t.Errorf("failure not logged: %s", logs.String())
			}
		})
	}
	// The server recovers: a forced refresh gets fresh keys again.
	srv.update(func(s *jwksServer) { s.status = 0; s.body = marshalJWKS(t, tk) })
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if exp := r.snap.Load().expiresAt; !exp.After(clock.Now()) {
		t.Errorf("not fresh after recovery: expires %v, now %v", exp, clock.Now())
	}
}

// TestRemoteMaxStale: keys that cannot be refreshed are served for at most MaxStale past
// their expiry; then Keys fails with ErrStaleKeySet (wrapping the fetch error) instead of
// trusting them further, and a successful refresh restores service. Negative MaxStale
// serves them without limit.
func TestRemoteMaxStale(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxStale time.Duration
		after    time.Duration // past expiry
		wantErr  bool
	}{
		{"default, within a day", 0, 23 * time.Hour, false},
		{"default, beyond a day", 0, 25 * time.Hour, true},
		{"one hour, beyond", time.Hour, 90 * time.Minute, true},
		{"no limit", -1, 30 * 24 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk, ks := transmitterKeys(t, "a")
			srv := newJWKSServer(t, marshalJWKS(t, tk))
			srv.update(func(s *jwksServer) { s.header.Set("Cache-Control", "max-age=600") })
			clock := newFakeClock()
			r := newRemote(t, srv, clock, RemoteOptions{MaxStale: tc.maxStale})
			ctx := context.Background()
			kid := ks[0].KeyID()
			if _, err := r.Keys(ctx, kid); err != nil {
				t.Fatal(err)
			}
			srv.update(func(s *jwksServer) { s.status = http.StatusServiceUnavailable })
			clock.Advance(10*time.Minute + tc.after)
			_, err := r.Keys(ctx, kid)
			if tc.wantErr {
				if !errors.Is(err, ErrStaleKeySet) || !strings.Contains(err.Error(), "503") {
					t.Fatalf("Keys = %v, want ErrStaleKeySet naming the fetch failure", err)
				}
				// Also while fetching is paused after the failure.
				clock.Advance(time.Second)
				if _, err := r.Keys(ctx, kid); !errors.Is(err, ErrStaleKeySet) {
					t.Fatalf("second Keys = %v, want ErrStaleKeySet", err)
				}
			} else if err != nil {
				t.Fatalf("Keys = %v, want the stale keys", err)
			}
			srv.update(func(s *jwksServer) { s.status = 0 })
			clock.Advance(2 * time.Minute) // past MinRefreshInterval
			if _, err := r.Keys(ctx, kid); err != nil {
				t.Fatalf("after the jwks_uri recovered: %v", err)
			}
		})
	}
}

// TestRemoteFirstFetchFails: without cached keys the error is returned, and repeated at
// once without a fetch until MinRefreshInterval has passed.
func TestRemoteFirstFetchFails(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	srv.update(func(s *jwksServer) { s.status = http.StatusServiceUnavailable })
	clock := newFakeClock()
	var logs syncBuffer
	r := newRemote(t, srv, clock, RemoteOptions{Logger: testLogger(&logs)})
	ctx := context.Background()
	_, err := r.Keys(ctx, ks[0].KeyID())
	if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("Keys = %v, want ErrFetch naming status 503", err)
	}
	_, err = r.Keys(ctx, ks[0].KeyID())
	if !errors.Is(err, ErrFetch) {
		t.Fatalf("second Keys = %v, want ErrFetch", err)
	}
	expectFetches(t, srv, 1)
	if !strings.Contains(logs.String(), "no keys yet") {
		t.Errorf("failure not logged: %s", logs.String())
	}
	srv.update(func(s *jwksServer) { s.status = 0 })
	clock.Advance(time.Minute)
	if _, err := r.Keys(ctx, ks[0].KeyID()); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	expectFetches(t, srv, 2)
}

// TestRemoteSkippedKeysLogged: ignored keys of a fetched JWK Set are logged and explain a
// miss.
func TestRemoteSkippedKeysLogged(t *testing.T) {
	good := publicJWK(t, "ES256", "good")
	var weak map[string]any
	mustUnmarshal(t, jwkJSON(t, publicOfWeak(t, "weak")), &weak)
	srv := newJWKSServer(t, jwksDoc(t, good, weak))
	var logs syncBuffer
	r := newRemote(t, srv, newFakeClock(), RemoteOptions{Logger: testLogger(&logs)})
	if _, err := r.Keys(context.Background(), "weak"); !errors.Is(err, ErrUnknownKeyID) || !errors.Is(err, ErrWeakKey) {
		t.Errorf("Keys(weak) = %v, want ErrUnknownKeyID and ErrWeakKey", err)
	}
	if out := logs.String(); !strings.Contains(out, "ignoring a key") || !strings.Contains(out, "kid=weak") {
		t.Errorf("skipped key not logged: %s", out)
	}
}

// TestRemoteURLRules (SSF-DISC-3): jwks_uri must be an absolute https URL unless
// AllowInsecureHTTP.
func TestRemoteURLRules(t *testing.T) {
	for _, u := range []string{"http://idp.example.com/jwks", "ftp://idp.example.com/jwks", "/jwks", "https://", "::"} {
		if _, err := NewRemoteKeySet(u, RemoteOptions{}); err == nil {
			t.Errorf("NewRemoteKeySet(%q) succeeded", u)
		}
	}
	if _, err := NewRemoteKeySet("http://idp.example.com/jwks", RemoteOptions{}); !errors.Is(err, ErrInsecureURL) {
		t.Errorf("http: %v, want ErrInsecureURL", err)
	}
	// AllowInsecureHTTP: plain http on loopback.
	tk, ks := transmitterKeys(t, "a")
	doc := marshalJWKS(t, tk)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(doc) }))
	t.Cleanup(srv.Close)
	r, err := NewRemoteKeySet(srv.URL, RemoteOptions{AllowInsecureHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Keys(context.Background(), ks[0].KeyID()); err != nil {
		t.Error(err)
	}
}

func TestRemoteOptionsValidation(t *testing.T) {
	for name, opts := range map[string]RemoteOptions{
		"negative Timeout":           {Timeout: -1},
		"negative MinRefresh":        {MinRefreshInterval: -time.Second},
		"negative MaxResponseBytes":  {MaxResponseBytes: -1},
		"MinTTL over MaxTTL":         {MinTTL: 2 * time.Hour, MaxTTL: time.Hour},
		"MinTTL over default MaxTTL": {MinTTL: 48 * time.Hour},
	} {
		if _, err := NewRemoteKeySet("https://idp.example.com/jwks", opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestRemoteRedirects (SEC-17): redirects to the same host are followed, to another host
// refused.
func TestRemoteRedirects(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	target := newJWKSServer(t, marshalJWKS(t, tk))
	hop := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/jwks", http.StatusFound)
		case "/jwks":
			doc, _ := tk.MarshalJWKS()
			_, _ = w.Write(doc)
		case "/other":
			http.Redirect(w, r, target.jwksURI(), http.StatusFound)
		}
	}))
	t.Cleanup(hop.Close)
	ctx := context.Background()

	same, err := NewRemoteKeySet(hop.URL+"/same", RemoteOptions{HTTPClient: hop.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer same.Close()
	if _, err := same.Keys(ctx, ks[0].KeyID()); err != nil {
		t.Errorf("same-host redirect: %v", err)
	}

	other, err := NewRemoteKeySet(hop.URL+"/other", RemoteOptions{HTTPClient: hop.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Keys(ctx, ks[0].KeyID()); !errors.Is(err, ErrRedirectRefused) {
		t.Errorf("cross-host redirect: %v, want ErrRedirectRefused", err)
	}
	if n := target.fetches.Load(); n != 0 {
		t.Errorf("the other host was contacted %d times", n)
	}
}

func TestRedirectPolicy(t *testing.T) {
	req := func(raw string) *http.Request {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return &http.Request{URL: u}
	}
	first := []*http.Request{req("https://idp.example.com/jwks")}
	tests := []struct {
		name     string
		to       string
		via      []*http.Request
		insecure bool
		want     error
	}{
		{"same host", "https://idp.example.com/keys", first, false, nil},
		{"same host, other case", "https://IDP.example.com/keys", first, false, nil},
		{"other host", "https://evil.example.com/jwks", first, false, ErrRedirectRefused},
		{"other port", "https://idp.example.com:8443/jwks", first, false, ErrRedirectRefused},
		{"downgrade to http", "http://idp.example.com/jwks", first, false, ErrInsecureURL},
		{"downgrade allowed when insecure", "http://idp.example.com/jwks", first, true, nil},
		{"too many", "https://idp.example.com/jwks", []*http.Request{first[0], first[0], first[0], first[0], first[0]}, false, ErrRedirectRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := redirectPolicy(tt.insecure)(req(tt.to), tt.via)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("redirectPolicy = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRemoteClose: Close cancels a fetch in flight and returns; afterwards nothing is
// fetched, and Keys answers from the cache or with ErrClosed.
func TestRemoteClose(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	srv.hold()
	r := newRemote(t, srv, newFakeClock(), RemoteOptions{})
	errc := make(chan error, 1)
	go func() {
		_, err := r.Keys(context.Background(), ks[0].KeyID())
		errc <- err
	}()
	for srv.fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("Keys during Close = %v, want ErrClosed", err)
	}
	if _, err := r.Keys(context.Background(), ks[0].KeyID()); err == nil {
		t.Error("Keys after Close succeeded without keys")
	}
	if err := r.Refresh(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Refresh after Close = %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	expectFetches(t, srv, 1)
}

// TestRemoteCloseKeepsCache: a closed set still answers from the cache, never fetching.
func TestRemoteCloseKeepsCache(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	clock := newFakeClock()
	r := newRemote(t, srv, clock, RemoteOptions{})
	ctx := context.Background()
	if _, err := r.Keys(ctx, ks[0].KeyID()); err != nil {
		t.Fatal(err)
	}
	r.Close()
	clock.Advance(48 * time.Hour)
	if _, err := r.Keys(ctx, ks[0].KeyID()); err != nil {
		t.Errorf("cached keys after Close: %v", err)
	}
	if _, err := r.Keys(ctx, "new"); !errors.Is(err, ErrUnknownKeyID) {
		t.Errorf("unknown kid after Close: %v", err)
	}
	expectFetches(t, srv, 1)
}

// TestRemoteRealClock exercises the default clock, client and logger.
func TestRemoteRealClock(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	r, err := NewRemoteKeySet(srv.jwksURI(), RemoteOptions{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Keys(context.Background(), ks[0].KeyID()); err != nil {
		t.Fatal(err)
	}
	// The default client verifies certificates: the test server's is not trusted.
	d, err := NewRemoteKeySet(srv.jwksURI(), RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Keys(context.Background(), ks[0].KeyID()); !errors.Is(err, ErrFetch) {
		t.Errorf("untrusted certificate: %v, want ErrFetch", err)
	}
}

// TestRemoteUnknownKidRefreshFails: when the refresh an unknown kid causes fails, the
// error says both things, and the cached keys stay.
func TestRemoteUnknownKidRefreshFails(t *testing.T) {
	tk, ks := transmitterKeys(t, "a")
	srv := newJWKSServer(t, marshalJWKS(t, tk))
	clock := newFakeClock()
	r := newRemote(t, srv, clock, RemoteOptions{})
	ctx := context.Background()
	if _, err := r.Keys(ctx, ks[0].KeyID()); err != nil {
		t.Fatal(err)
	}
	srv.update(func(s *jwksServer) { s.status = http.StatusBadGateway })
	clock.Advance(2 * time.Minute)
	_, err := r.Keys(ctx, "rotated")
	if !errors.Is(err, ErrUnknownKeyID) || !errors.Is(err, ErrFetch) {
		t.Errorf("Keys(rotated) = %v, want ErrUnknownKeyID and ErrFetch", err)
	}
	if _, err := r.Keys(ctx, ks[0].KeyID()); err != nil {
		t.Errorf("cached key lost: %v", err)
	}
	expectFetches(t, srv, 2)
}
