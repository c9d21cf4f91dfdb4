package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// txEnv is a transmitter node on loopback TLS with a SQLite store in a temporary
// directory.
type txEnv struct {
	node   *TransmitterNode
	store  store.Store
	ca     *DevCA
	client *http.Client
	keys   *keys.SigningKeys
}

func newTxEnv(t *testing.T, mutate func(*TransmitterOptions)) *txEnv {
	t.Helper()
	ctx := context.Background()
	ca, err := NewDevCA()
	if err != nil {
		t.Fatal(err)
	}
	tlsConf, err := ca.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "tx.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, _, err := LoadOrGenerateSigningKey(filepath.Join(t.TempDir(), "key.pem"), "ES256")
	if err != nil {
		t.Fatal(err)
	}
	sk, err := keys.NewSigningKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := TransmitterOptions{
		Issuer:                    BaseURL(l, true),
		Store:                     st,
		Keys:                      sk,
		StaticClients:             []StaticClient{{Name: "rcv-a", Token: "token-a"}},
		AdminToken:                "admin-secret",
		TLS:                       TLSOptions{Config: tlsConf},
		InsecureAllowLoopbackPush: true,
		PushRootCAs:               ca.Pool(),
		Logger:                    quietLogger(),
	}
	if mutate != nil {
		mutate(&opts)
	}
	node, err := NewTransmitter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(l); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := node.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &txEnv{node: node, store: st, ca: ca, keys: sk, client: &http.Client{Transport: ClientTransport(ca.Pool()), Timeout: 10 * time.Second}}
}

// do sends a JSON request with a bearer token and returns the status and body.
func (e *txEnv) do(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.node.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func (e *txEnv) emit(t *testing.T, email string) {
	t.Helper()
	status, body := e.do(t, "POST", "/admin/events", "admin-secret", map[string]any{
		"subject":    map[string]string{"format": "email", "email": email},
		"event_type": caep.EventTypeSessionRevoked,
		"payload":    map[string]any{"event_timestamp": time.Now().Unix()},
	})
	if status != 200 {
		t.Fatalf("emit: %d %s", status, body)
	}
}

// The node serves the SSF surface over TLS, pushes to a TLS receiver it trusts through
// PushRootCAs, serves polls, and counts all of it on /metrics (issue 7: events accepted,
// SETs queued, delivered, poll requests, latency histograms per stream).
func TestTransmitterNodeDeliversAndCounts(t *testing.T) {
	var mu sync.Mutex
	var pushed []string
	rcv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		pushed = append(pushed, string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer rcv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(rcv.Certificate())
	e := newTxEnv(t, func(o *TransmitterOptions) { o.PushRootCAs = roots })

	for _, p := range []string{"/healthz", "/readyz"} {
		if status, body := e.do(t, "GET", p, "", nil); status != 200 {
			t.Errorf("%s: %d %s", p, status, body)
		}
	}
	status, body := e.do(t, "GET", "/.well-known/ssf-configuration", "", nil)
	if status != 200 {
		t.Fatalf("metadata: %d %s", status, body)
	}
	var md ssf.Metadata
	if err := json.Unmarshal(body, &md); err != nil || md.Issuer != e.node.Issuer() {
		t.Fatalf("metadata issuer %q (%v), want %q", md.Issuer, err, e.node.Issuer())
	}

	status, body = e.do(t, "POST", "/ssf/stream", "token-a", map[string]any{
		"delivery":         map[string]string{"method": ssf.DeliveryPush, "endpoint_url": rcv.URL + "/push"},
		"events_requested": []string{caep.EventTypeSessionRevoked},
	})
	if status != 201 {
		t.Fatalf("create push stream: %d %s", status, body)
	}
	var pushStream ssf.StreamConfig
	if err := json.Unmarshal(body, &pushStream); err != nil {
		t.Fatal(err)
	}
	status, body = e.do(t, "POST", "/ssf/stream", "token-a", map[string]any{"events_requested": []string{caep.EventTypeSessionRevoked}})
	if status != 201 {
		t.Fatalf("create poll stream: %d %s", status, body)
	}
	var pollStream ssf.StreamConfig
	if err := json.Unmarshal(body, &pollStream); err != nil {
		t.Fatal(err)
	}

	e.emit(t, "alice@example.com")
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(pushed)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pushed %d SETs, want 1", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	v, err := set.NewVerifier(e.keys, set.Config{Issuer: e.node.Issuer(), Audiences: []string{"rcv-a"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), pushed[0]); err != nil {
		t.Fatalf("the pushed SET does not verify: %v", err)
	}

	pollPath := strings.TrimPrefix(pollStream.Delivery.EndpointURL, e.node.Issuer())
	status, body = e.do(t, "POST", pollPath, "token-a", map[string]any{"returnImmediately": true})
	if status != 200 {
		t.Fatalf("poll: %d %s", status, body)
	}
	var pr ssf.PollResponse
	if err := json.Unmarshal(body, &pr); err != nil || len(pr.Sets) != 1 {
		t.Fatalf("poll answer %s (%v), want one SET", body, err)
	}
	var acks []string
	for jti := range pr.Sets {
		acks = append(acks, jti)
	}
	if status, body = e.do(t, "POST", pollPath, "token-a", map[string]any{"returnImmediately": true, "maxEvents": 0, "ack": acks}); status != 200 {
		t.Fatalf("ack: %d %s", status, body)
	}
	e.do(t, "GET", "/ssf/stream", "wrong-token", nil)

	status, body = e.do(t, "GET", "/metrics", "", nil)
	if status != 200 {
		t.Fatalf("metrics: %d", status)
	}
	text := string(body)
	for _, want := range []string{
		`sigshare_transmitter_events_accepted_total{event_type="` + caep.EventTypeSessionRevoked + `"} 1`,
		`sigshare_transmitter_sets_queued_total{event_type="` + caep.EventTypeSessionRevoked + `",stream_id="` + pushStream.StreamID + `"} 1`,
		`sigshare_transmitter_sets_delivered_total{method="push",stream_id="` + pushStream.StreamID + `"} 1`,
		`sigshare_transmitter_sets_delivered_total{method="poll",stream_id="` + pollStream.StreamID + `"} 1`,
		`sigshare_transmitter_push_delivery_latency_seconds_count{stream_id="` + pushStream.StreamID + `"} 1`,
		`sigshare_transmitter_poll_requests_total{stream_id="` + pollStream.StreamID + `"} 2`,
		`sigshare_transmitter_poll_sets_served_total{stream_id="` + pollStream.StreamID + `"} 1`,
		`sigshare_transmitter_auth_failures_total{api="management",code="invalid_token"} 1`,
		`sigshare_transmitter_streams_created_total 2`,
		`sigshare_transmitter_outbox_sets{state="pending",stream_id="` + pollStream.StreamID + `"} 0`,
		`sigshare_transmitter_outbox_sets{state="dead",stream_id="` + pollStream.StreamID + `"} 0`,
		`sigshare_transmitter_streams{status="enabled"} 2`,
		`sigshare_transmitter_outbox_collect_success 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A deleted stream's series go away (stream ids are never reused).
	if status, body := e.do(t, "DELETE", "/ssf/stream?stream_id="+pushStream.StreamID, "token-a", nil); status != 204 {
		t.Fatalf("delete: %d %s", status, body)
	}
	_, body = e.do(t, "GET", "/metrics", "", nil)
	if strings.Contains(string(body), pushStream.StreamID) {
		t.Errorf("/metrics still has series of the deleted stream")
	}
}

// Shutdown ends a waiting long poll at once instead of waiting for its timeout, and
// lets a request in flight finish.
func TestTransmitterNodeShutdownEndsLongPolls(t *testing.T) {
	e := newTxEnv(t, nil)
	status, body := e.do(t, "POST", "/ssf/stream", "token-a", map[string]any{})
	if status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	var cfg ssf.StreamConfig
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatal(err)
	}
	pollPath := strings.TrimPrefix(cfg.Delivery.EndpointURL, e.node.Issuer())
	polled := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", e.node.URL()+pollPath, strings.NewReader(`{"returnImmediately": false}`))
		req.Header.Set("Authorization", "Bearer token-a")
		resp, err := e.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		polled <- err
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.node.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v: it waited for the long poll", d)
	}
	<-polled
	select {
	case <-e.node.Done():
	default:
		t.Error("Done is not closed after Shutdown")
	}
	if err := e.node.Err(); err != nil {
		t.Errorf("Err after Shutdown: %v", err)
	}
}

func TestNewTransmitterRefusesIncompleteOptions(t *testing.T) {
	ctx := context.Background()
	if _, err := NewTransmitter(ctx, TransmitterOptions{Issuer: "https://tr.example.com"}); err == nil || !strings.Contains(err.Error(), "store") {
		t.Errorf("no store: %v", err)
	}
	st, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "x.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, err := keys.Generate("ES256")
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := keys.NewSigningKeys(k)
	if _, err := NewTransmitter(ctx, TransmitterOptions{Issuer: "http://127.0.0.1:1", Store: st, Keys: sk, Logger: quietLogger()}); err == nil {
		t.Error("an http issuer without InsecureAllowHTTP was accepted")
	}
	if _, err := NewTransmitter(ctx, TransmitterOptions{Issuer: "https://tr.example.com", Store: st, Keys: sk, TLS: TLSOptions{CertFile: "/nonexistent.pem", KeyFile: "/nonexistent.key"}}); err == nil || !strings.Contains(err.Error(), "nonexistent") {
		t.Errorf("missing TLS files: %v", err)
	}
	if _, err := NewTransmitter(ctx, TransmitterOptions{Issuer: "https://tr.example.com", Store: st, Keys: sk, StaticClients: []StaticClient{{Name: "a"}}}); err == nil {
		t.Error("a static client without token was accepted")
	}
}

// --key: a missing key file is generated with permission 0600, and the same key is
// loaded the next time.
func TestLoadOrGenerateSigningKey(t *testing.T) {
	for _, name := range []string{"key.pem", "key.jwk"} {
		path := filepath.Join(t.TempDir(), name)
		k1, generated, err := LoadOrGenerateSigningKey(path, "")
		if err != nil || !generated {
			t.Fatalf("%s: generated=%v err=%v", name, generated, err)
		}
		if k1.Algorithm() != DefaultAlgorithm {
			t.Errorf("%s: algorithm %s, want %s", name, k1.Algorithm(), DefaultAlgorithm)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: permission %v, want 0600", name, fi.Mode().Perm())
		}
		k2, generated, err := LoadOrGenerateSigningKey(path, "")
		if err != nil || generated {
			t.Fatalf("%s second time: generated=%v err=%v", name, generated, err)
		}
		if k2.KeyID() != k1.KeyID() {
			t.Errorf("%s: reloaded kid %s, want %s", name, k2.KeyID(), k1.KeyID())
		}
		if _, err := LoadSigningKey(path, "ES256"); err == nil {
			t.Errorf("%s: an RSA key loaded as ES256", name)
		}
	}
	if _, err := LoadSigningKey(filepath.Join(t.TempDir(), "absent.pem"), ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, _, err := LoadOrGenerateSigningKey(bad, ""); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("garbage key file: %v", err)
	}
}
