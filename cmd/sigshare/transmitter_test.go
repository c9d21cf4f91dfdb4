package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// txProcess is a "sigshare transmitter" process on loopback without TLS
// (--insecure-http), with a static client and an admin token.
type txProcess struct {
	*process
	url string
	dir string
}

func startTransmitter(t *testing.T, dir string, extra ...string) *txProcess {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"transmitter", "--addr", addr, "--insecure-http", "--client", "rcv=rcv-token",
		"--admin-token", "admin-token", "--log-level", "debug"}, extra...)
	p := start(t, dir, nil, args...)
	tx := &txProcess{process: p, url: "http://" + addr, dir: dir}
	p.waitReady(http.DefaultClient, tx.url+"/readyz")
	return tx
}

// call sends a request to the transmitter and decodes a JSON answer into out.
func (tx *txProcess) call(t *testing.T, method, path, token, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, tx.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// --key: generated with permission 0600 at the first start, the same key (kid) the
// next time; the database is created beside it.
func TestTransmitterKeyGeneratedAndReused(t *testing.T) {
	dir := t.TempDir()
	kid := func() string {
		tx := startTransmitter(t, dir)
		var jwks struct {
			Keys []struct {
				Kid string `json:"kid"`
				Alg string `json:"alg"`
			} `json:"keys"`
		}
		if s := tx.call(t, "GET", "/jwks.json", "", "", &jwks); s != 200 || len(jwks.Keys) != 1 {
			t.Fatalf("jwks: %d %+v", s, jwks)
		}
		if jwks.Keys[0].Alg != "RS256" {
			t.Errorf("default algorithm %s, want RS256", jwks.Keys[0].Alg)
		}
		if code := tx.stop(); code != 0 {
			_, stderr := tx.output()
			t.Fatalf("exit %d after SIGTERM:\n%s", code, stderr)
		}
		return jwks.Keys[0].Kid
	}
	first := kid()
	fi, err := os.Stat(filepath.Join(dir, "sigshare-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file permission %v, want 0600", fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dir, "sigshare.db")); err != nil {
		t.Errorf("the default database was not created: %v", err)
	}
	if second := kid(); second != first {
		t.Errorf("second start published kid %s, want the saved key's %s", second, first)
	}
}

// SIGTERM while a push is in flight: the process waits for the receiver's answer,
// records the delivery, and exits 0; after a restart nothing is pushed again.
func TestTransmitterSIGTERMFinishesInFlightPush(t *testing.T) {
	var mu sync.Mutex
	pushes := 0
	inFlight := make(chan struct{}, 1)
	rcv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		mu.Lock()
		pushes++
		mu.Unlock()
		select {
		case inFlight <- struct{}{}:
		default:
		}
		time.Sleep(1500 * time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
	}))
	dir := t.TempDir()
	tx := startTransmitter(t, dir, "--allow-private-push")
	var cfg struct {
		StreamID string `json:"stream_id"`
	}
	if s := tx.call(t, "POST", "/ssf/stream", "rcv-token",
		`{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"`+rcv+`/push"},"events_requested":["https://schemas.openid.net/secevent/caep/event-type/session-revoked"]}`, &cfg); s != 201 {
		t.Fatalf("create: %d", s)
	}
	mustRun(t, "", nil, "", "emit", "--transmitter", tx.url, "--insecure-http", "--admin-token", "admin-token",
		"--type", "session-revoked", "--subject-email", "alice@example.com")
	select {
	case <-inFlight:
	case <-time.After(15 * time.Second):
		t.Fatal("nothing was pushed")
	}
	start := time.Now()
	if code := tx.stop(); code != 0 {
		_, stderr := tx.output()
		t.Fatalf("exit %d after SIGTERM:\n%s", code, stderr)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("the process exited after %v, before the push in flight was answered", d)
	}
	_, stderr := tx.output()
	if !strings.Contains(stderr, "transmitter stopped") {
		t.Errorf("no clean shutdown in the log:\n%s", stderr)
	}

	tx2 := startTransmitter(t, dir, "--allow-private-push")
	var streams []struct {
		StreamID string `json:"stream_id"`
		Outbox   struct {
			Pending, Dead int
		} `json:"outbox"`
	}
	if s := tx2.call(t, "GET", "/admin/streams", "admin-token", "", &streams); s != 200 || len(streams) != 1 {
		t.Fatalf("admin streams: %d %+v", s, streams)
	}
	if streams[0].Outbox.Pending != 0 || streams[0].Outbox.Dead != 0 {
		t.Errorf("after the restart the outbox holds %+v: the in-flight delivery was not recorded", streams[0].Outbox)
	}
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if pushes != 1 {
		t.Errorf("the receiver got %d pushes, want 1", pushes)
	}
}

// /metrics of the transmitter process has the delivery series after a push, and the
// health endpoints answer.
func TestTransmitterMetrics(t *testing.T) {
	rcv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	tx := startTransmitter(t, t.TempDir(), "--allow-private-push")
	var cfg struct {
		StreamID string `json:"stream_id"`
	}
	if s := tx.call(t, "POST", "/ssf/stream", "rcv-token",
		`{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"`+rcv+`/push"}}`, &cfg); s != 201 {
		t.Fatalf("create: %d", s)
	}
	mustRun(t, "", nil, "", "emit", "--transmitter", tx.url, "--insecure-http", "--admin-token", "admin-token",
		"--type", "account-disabled", "--subject-email", "bob@example.com", "--payload", `{"reason":"hijacking"}`)
	want := []string{
		`sigshare_transmitter_events_accepted_total{event_type="https://schemas.openid.net/secevent/risc/event-type/account-disabled"} 1`,
		`sigshare_transmitter_sets_queued_total{event_type="https://schemas.openid.net/secevent/risc/event-type/account-disabled",stream_id="` + cfg.StreamID + `"} 1`,
		`sigshare_transmitter_sets_delivered_total{method="push",stream_id="` + cfg.StreamID + `"} 1`,
		`sigshare_transmitter_push_delivery_latency_seconds_bucket{stream_id="` + cfg.StreamID + `",le="+Inf"} 1`,
		`sigshare_transmitter_streams_created_total 1`,
		`process_start_time_seconds`,
	}
	deadline := time.Now().Add(10 * time.Second)
	var text string
	for {
		resp, err := http.Get(tx.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text = string(data)
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %s", missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(tx.url + p)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", p, err, resp)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
}

// Key rotation: --retired-key keeps the previous key published after the active one.
func TestTransmitterRetiredKey(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, nil, "", "keys", "generate", "--out", "old.pem")
	tx := startTransmitter(t, dir, "--key", "new.pem", "--retired-key", "old.pem")
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if s := tx.call(t, "GET", "/jwks.json", "", "", &jwks); s != 200 || len(jwks.Keys) != 2 {
		t.Fatalf("jwks: %d %+v", s, jwks)
	}
	want := mustRun(t, dir, nil, "", "keys", "jwks", "--key", "new.pem", "--key", "old.pem").stdout
	for _, k := range jwks.Keys {
		if !strings.Contains(want, k.Kid) {
			t.Errorf("kid %s is not in the JWK Set of the key files", k.Kid)
		}
	}
	if !strings.Contains(want, `"kid": "`+jwks.Keys[0].Kid) || strings.Index(want, jwks.Keys[0].Kid) > strings.Index(want, jwks.Keys[1].Kid) {
		t.Errorf("the active (new) key is not first")
	}
	tx.stop()
}
