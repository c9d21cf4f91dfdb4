package main

import (
	"context"
	"crypto/rand"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Two transmitter processes on one PostgreSQL database (--postgres, --postgres-schema):
// a stream created through one node receives an event emitted through the other. Skips
// unless SIGSHARE_TEST_POSTGRES names a database (.ci/run sets it).
func TestTransmittersSharePostgres(t *testing.T) {
	dsn := os.Getenv("SIGSHARE_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("SIGSHARE_TEST_POSTGRES is not set")
	}
	schema := "sigshare_cli_" + strings.ToLower(rand.Text()[:10])
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
		}
	})
	dir := t.TempDir()
	mustRun(t, dir, nil, "", "keys", "generate", "--out", "shared-key.pem")
	node := func() *txProcess {
		addr := freeAddr(t)
		p := start(t, dir, nil, "transmitter", "--addr", addr, "--issuer", "http://shared.invalid:8417", "--insecure-http",
			"--postgres", dsn, "--postgres-schema", schema, "--key", "shared-key.pem",
			"--client", "rcv=rcv-token", "--admin-token", "admin-token")
		tx := &txProcess{process: p, url: "http://" + addr, dir: dir}
		p.waitReady(http.DefaultClient, tx.url+"/readyz")
		return tx
	}
	a, b := node(), node()
	var cfg struct {
		StreamID string `json:"stream_id"`
		Delivery struct {
			EndpointURL string `json:"endpoint_url"`
		} `json:"delivery"`
	}
	if s := a.call(t, "POST", "/ssf/stream", "rcv-token", `{}`, &cfg); s != 201 {
		t.Fatalf("create on node a: %d", s)
	}
	mustRun(t, dir, nil, "", "emit", "--transmitter", b.url, "--insecure-http", "--admin-token", "admin-token",
		"--type", "session-revoked", "--subject-email", "ivan@example.com")
	var answer struct {
		Sets map[string]string `json:"sets"`
	}
	pollPath := strings.TrimPrefix(cfg.Delivery.EndpointURL, "http://shared.invalid:8417")
	if s := a.call(t, "POST", pollPath, "rcv-token", `{"returnImmediately":true}`, &answer); s != 200 || len(answer.Sets) != 1 {
		t.Fatalf("poll on node a after emitting on node b: %d %+v", s, answer)
	}
	for _, p := range []*txProcess{a, b} {
		if code := p.stop(); code != 0 {
			_, stderr := p.output()
			t.Errorf("exit %d:\n%s", code, stderr)
		}
	}
}
