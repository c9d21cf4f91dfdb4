package transmitter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"

	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Test credentials.
const (
	tokenA     = "token-of-receiver-a"
	tokenB     = "token-of-receiver-b"
	tokenRead  = "token-read-only"
	tokenAdmin = "operator-token"
	pushURL    = "https://127.0.0.1:9/events"
)

var (
	testKeyOnce sync.Once
	testKey     *keys.SigningKey
)

// sharedKey is one ES256 key for the whole test binary (generating RSA keys is slow).
func sharedKey(t testing.TB) *keys.SigningKeys {
	testKeyOnce.Do(func() {
		k, err := keys.Generate("ES256")
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	ks, err := keys.NewSigningKeys(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func staticAuth(t testing.TB) *StaticTokens {
	st, err := NewStaticTokens(map[string]Client{
		tokenA:    {ID: "receiver-a"},
		tokenB:    {ID: "receiver-b", ClientPolicy: ClientPolicy{Audience: []string{"https://b.example/aud", "urn:b"}}},
		tokenRead: {ID: "receiver-r", Scopes: []string{ScopeRead}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// env is a Transmitter with an in-memory store and a fake clock.
type env struct {
	tr    *Transmitter
	store store.Store
	clock *clock
}

// newEnv builds a Transmitter for issuer with cfg's non-zero fields applied.
func newEnv(t testing.TB, issuer string, tweak func(*Config)) *env {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	clk := newClock()
	cfg := Config{
		Issuer:        issuer,
		Store:         st,
		Keys:          sharedKey(t),
		Now:           clk.Now,
		Logger:        discard(),
		Push:          PushPolicy{AllowLoopback: true},
		Authenticator: staticAuth(t),
		AdminToken:    tokenAdmin,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &env{tr: tr, store: st, clock: clk}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// asClient is the Transmitter acting for one client: an ssf.Manager in process.
type asClient struct {
	t *Transmitter
	c *Client // nil: no client in the context
}

func (m asClient) ctx(ctx context.Context) context.Context {
	if m.c == nil {
		return ctx
	}
	return WithClient(ctx, m.c)
}

func (m asClient) CreateStream(ctx context.Context, req ssf.StreamConfig) (*ssf.StreamConfig, error) {
	return m.t.CreateStream(m.ctx(ctx), req)
}
func (m asClient) GetStream(ctx context.Context, id string) (*ssf.StreamConfig, error) {
	return m.t.GetStream(m.ctx(ctx), id)
}
func (m asClient) ListStreams(ctx context.Context) ([]ssf.StreamConfig, error) {
	return m.t.ListStreams(m.ctx(ctx))
}
func (m asClient) UpdateStream(ctx context.Context, req ssf.StreamUpdate) (*ssf.StreamConfig, error) {
	return m.t.UpdateStream(m.ctx(ctx), req)
}
func (m asClient) ReplaceStream(ctx context.Context, req ssf.StreamConfig) (*ssf.StreamConfig, error) {
	return m.t.ReplaceStream(m.ctx(ctx), req)
}
func (m asClient) DeleteStream(ctx context.Context, id string) error {
	return m.t.DeleteStream(m.ctx(ctx), id)
}
func (m asClient) GetStatus(ctx context.Context, id string) (*ssf.StreamStatus, error) {
	return m.t.GetStatus(m.ctx(ctx), id)
}
func (m asClient) UpdateStatus(ctx context.Context, req ssf.StreamStatus) (*ssf.StreamStatus, error) {
	return m.t.UpdateStatus(m.ctx(ctx), req)
}
func (m asClient) AddSubject(ctx context.Context, req ssf.AddSubjectRequest) error {
	return m.t.AddSubject(m.ctx(ctx), req)
}
func (m asClient) RemoveSubject(ctx context.Context, req ssf.RemoveSubjectRequest) error {
	return m.t.RemoveSubject(m.ctx(ctx), req)
}
func (m asClient) Verify(ctx context.Context, req ssf.VerifyRequest) error {
	return m.t.Verify(m.ctx(ctx), req)
}

var clientA = &Client{ID: "receiver-a", Scopes: allScopes}
var clientB = &Client{ID: "receiver-b", Scopes: allScopes, ClientPolicy: ClientPolicy{Audience: []string{"https://b.example/aud", "urn:b"}}}

// server is a Transmitter served over TLS by httptest, its issuer the server's URL
// (plus path).
type server struct {
	*env
	srv    *httptest.Server
	issuer string
	base   string // issuer path
	as     *authServer
}

func httptestTLS(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newServer(t testing.TB, path string, tweak func(*Config)) *server {
	t.Helper()
	var h http.Handler
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	issuer := srv.URL + path
	e := newEnv(t, issuer, tweak)
	h = e.tr.Handler()
	return &server{env: e, srv: srv, issuer: issuer, base: path}
}

// url returns the absolute URL of an issuer-relative path.
func (s *server) url(p string) string { return s.srv.URL + s.base + p }

// do sends a request with an optional bearer token and body, and returns the status,
// header and body.
func (s *server) do(t testing.TB, method, rawURL, token string, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

// httpManager is a minimal ssf.Manager over HTTP, written for these tests only (the
// real client is receiver.Client).
type httpManager struct {
	hc    *http.Client
	base  string // issuer URL
	token string
}

func (m *httpManager) call(ctx context.Context, method, path string, query url.Values, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding the request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	u := m.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if m.token != "" {
		req.Header.Set("Authorization", "Bearer "+m.token)
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if err := ssf.ErrorFromResponse(resp.StatusCode, resp.Header, data); err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("status %d, want %d", resp.StatusCode, want)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func idQuery(id string) url.Values { return url.Values{"stream_id": {id}} }

func (m *httpManager) CreateStream(ctx context.Context, req ssf.StreamConfig) (*ssf.StreamConfig, error) {
	var out ssf.StreamConfig
	if err := m.call(ctx, http.MethodPost, pathStream, nil, req, http.StatusCreated, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
func (m *httpManager) GetStream(ctx context.Context, id string) (*ssf.StreamConfig, error) {
	var out ssf.StreamConfig
	if err := m.call(ctx, http.MethodGet, pathStream, idQuery(id), nil, http.StatusOK, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
func (m *httpManager) ListStreams(ctx context.Context) ([]ssf.StreamConfig, error) {
	var out []ssf.StreamConfig
	if err := m.call(ctx, http.MethodGet, pathStream, nil, nil, http.StatusOK, &out); err != nil {
		return nil, err
	}
	return out, nil
}
func (m *httpManager) UpdateStream(ctx context.Context, req ssf.StreamUpdate) (*ssf.StreamConfig, error) {
	var out ssf.StreamConfig
	if err := m.call(ctx, http.MethodPatch, pathStream, nil, req, http.StatusOK, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
func (m *httpManager) ReplaceStream(ctx context.Context, req ssf.StreamConfig) (*ssf.StreamConfig, error) {
	var out ssf.StreamConfig
	if err := m.call(ctx, http.MethodPut, pathStream, nil, req, http.StatusOK, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
func (m *httpManager) DeleteStream(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("httpManager: DeleteStream needs a stream_id")
	}
	return m.call(ctx, http.MethodDelete, pathStream, idQuery(id), nil, http.StatusNoContent, nil)
}
func (m *httpManager) GetStatus(ctx context.Context, id string) (*ssf.StreamStatus, error) {
	var out ssf.StreamStatus
	if err := m.call(ctx, http.MethodGet, pathStatus, idQuery(id), nil, http.StatusOK, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
func (m *httpManager) UpdateStatus(ctx context.Context, req ssf.StreamStatus) (*ssf.StreamStatus, error) {
	var out ssf.StreamStatus
	if err := m.call(ctx, http.MethodPost, pathStatus, nil, req, http.StatusOK, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
func (m *httpManager) AddSubject(ctx context.Context, req ssf.AddSubjectRequest) error {
	return m.call(ctx, http.MethodPost, pathSubjectAdd, nil, req, http.StatusOK, nil)
}
func (m *httpManager) RemoveSubject(ctx context.Context, req ssf.RemoveSubjectRequest) error {
	return m.call(ctx, http.MethodPost, pathSubjectRemove, nil, req, http.StatusNoContent, nil)
}
func (m *httpManager) Verify(ctx context.Context, req ssf.VerifyRequest) error {
	return m.call(ctx, http.MethodPost, pathVerify, nil, req, http.StatusNoContent, nil)
}

// snapshot is everything the store holds about streams, for before/after comparisons.
type snapshot struct {
	Streams  []*store.Stream
	Subjects map[string][]*store.Subject
	Outbox   map[string]store.OutboxCounts
	Dead     map[string][]*store.OutboxSET
}

func takeSnapshot(t testing.TB, st store.Store, now time.Time) snapshot {
	t.Helper()
	ctx := context.Background()
	streams, err := st.ListStreams(ctx, store.StreamFilter{})
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot{Streams: streams, Subjects: map[string][]*store.Subject{}, Outbox: map[string]store.OutboxCounts{}, Dead: map[string][]*store.OutboxSET{}}
	for _, x := range streams {
		if s.Subjects[x.ID], err = st.ListSubjects(ctx, x.ID); err != nil {
			t.Fatal(err)
		}
		if s.Outbox[x.ID], err = st.CountOutbox(ctx, x.ID, now); err != nil {
			t.Fatal(err)
		}
		if s.Dead[x.ID], err = st.DeadLetters(ctx, x.ID, 0); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (a snapshot) diff(b snapshot) string {
	return cmp.Diff(a, b, cmp.Comparer(func(x, y json.RawMessage) bool { return bytes.Equal(x, y) }))
}

// leaseAll leases every deliverable SET of a stream (a long lease, so later calls do not
// see them again).
func leaseAll(t testing.TB, st store.Store, streamID string, now time.Time) []*store.OutboxSET {
	t.Helper()
	sets, err := st.Lease(context.Background(), store.LeaseRequest{Owner: "test", StreamID: streamID, Limit: 1000, Duration: time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

// ---------------------------------------------------------------------------------------
// OAuth authorization server for tests

type authServer struct {
	key    *keys.SigningKey
	keySet *keys.StaticKeySet
	issuer string
	signer jose.Signer
}

func newAuthServer(t testing.TB) *authServer {
	t.Helper()
	k, err := keys.Generate("ES256")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := keys.NewStaticKeySet(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.Public()}})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := jose.NewSigner(k.JOSESigningKey(), (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	return &authServer{key: k, keySet: ks, issuer: "https://as.example.com", signer: sg}
}

// token mints an access token; claims override the defaults (iss, aud, exp, iat,
// client_id, scope); a nil value removes a claim.
func (a *authServer) token(t testing.TB, now time.Time, aud string, claims map[string]any) string {
	t.Helper()
	c := map[string]any{
		"iss":       a.issuer,
		"aud":       aud,
		"iat":       now.Unix(),
		"exp":       now.Add(10 * time.Minute).Unix(),
		"client_id": "receiver-a",
		"scope":     "ssf.manage ssf.read",
		"jti":       "at-" + fmt.Sprint(now.UnixNano()),
	}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	tok, err := jwt.Signed(a.signer).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (a *authServer) authenticator(t testing.TB, aud string, now func() time.Time) *OAuthTokens {
	t.Helper()
	o, err := NewOAuthTokens(OAuthConfig{
		Issuer:   a.issuer,
		Audience: []string{aud},
		KeySet:   a.keySet,
		Now:      now,
		Policy: func(id string) (ClientPolicy, bool) {
			return ClientPolicy{}, !slices.Contains([]string{"banned"}, id)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}
