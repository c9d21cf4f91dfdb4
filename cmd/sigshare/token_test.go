package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keys generate → keys jwks → token sign → token decode → token verify, and a SET
// for another audience is refused with its RFC 8935 code.
func TestKeysAndTokens(t *testing.T) {
	dir := t.TempDir()
	r := mustRun(t, dir, nil, "", "keys", "generate", "--alg", "ES256", "--out", "k.pem")
	if !strings.Contains(r.stderr, "generated ES256 key kid=") {
		t.Errorf("keys generate said %q", r.stderr)
	}
	if fi, err := os.Stat(filepath.Join(dir, "k.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	checkOneLineError(t, runCLI(t, dir, nil, "", "keys", "generate", "--out", "k.pem"), 1, "k.pem")

	jwks := mustRun(t, dir, nil, "", "keys", "jwks", "--key", "k.pem").stdout
	if strings.Contains(jwks, `"d"`) {
		t.Fatalf("the JWK Set has a private member: %s", jwks)
	}
	os.WriteFile(filepath.Join(dir, "jwks.json"), []byte(jwks), 0o644)

	claims := `{"sub_id":{"format":"email","email":"alice@example.com"},
	  "events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{"event_timestamp":1700000000}}}`
	tok := strings.TrimSpace(mustRun(t, dir, nil, claims, "token", "sign", "--key", "k.pem",
		"--issuer", "https://tr.example.com", "--audience", "app1", "--claims", "-").stdout)
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("token sign printed %q", tok)
	}

	var dec tokenView
	if err := json.Unmarshal([]byte(mustRun(t, dir, nil, tok, "token", "decode").stdout), &dec); err != nil {
		t.Fatal(err)
	}
	if dec.Verified || dec.EventName != "caep:session-revoked" || !strings.Contains(string(dec.Subject), "alice@example.com") ||
		!strings.Contains(string(dec.Header), "secevent+jwt") || dec.Problem != "" {
		t.Errorf("decode: %+v", dec)
	}

	var ver tokenView
	out := mustRun(t, dir, nil, "", "token", "verify", "--jwks", "jwks.json", "--issuer", "https://tr.example.com", "--audience", "app1", tok).stdout
	if err := json.Unmarshal([]byte(out), &ver); err != nil || !ver.Verified {
		t.Errorf("verify: %v %s", err, out)
	}
	checkOneLineError(t, runCLI(t, dir, nil, "", "token", "verify", "--jwks", "jwks.json", "--issuer", "https://tr.example.com", "--audience", "app2", tok), 1, "invalid_audience")
	checkOneLineError(t, runCLI(t, dir, nil, "", "token", "verify", "--jwks", "jwks.json", "--issuer", "https://other.example.com", "--audience", "app1", tok), 1, "invalid_issuer")

	// Claims that break the SET profile are refused before signing.
	checkOneLineError(t, runCLI(t, dir, nil, "", "token", "sign", "--key", "k.pem", "--issuer", "https://tr.example.com", "--audience", "a",
		"--claims", `{"sub":"x","events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{}}}`), 1, "not a valid SET")
}

// token verify against a running transmitter's jwks_uri, with a SET taken from its poll
// endpoint.
func TestTokenVerifyWithRemoteJWKS(t *testing.T) {
	dir := t.TempDir()
	tx := startTransmitter(t, dir)
	var cfg struct {
		StreamID string `json:"stream_id"`
		Delivery struct {
			EndpointURL string `json:"endpoint_url"`
		} `json:"delivery"`
	}
	if s := tx.call(t, "POST", "/ssf/stream", "rcv-token", `{}`, &cfg); s != 201 {
		t.Fatalf("create: %d", s)
	}
	mustRun(t, dir, nil, "", "emit", "--transmitter", tx.url, "--insecure-http", "--admin-token", "admin-token",
		"--type", "session-revoked", "--subject-email", "heidi@example.com")
	var answer struct {
		Sets map[string]string `json:"sets"`
	}
	if s := tx.call(t, "POST", strings.TrimPrefix(cfg.Delivery.EndpointURL, tx.url), "rcv-token", `{"returnImmediately":true}`, &answer); s != 200 || len(answer.Sets) != 1 {
		t.Fatalf("poll: %d %+v", s, answer)
	}
	var raw string
	for _, v := range answer.Sets {
		raw = v
	}
	out := mustRun(t, dir, nil, raw, "token", "verify", "--jwks", tx.url+"/jwks.json", "--insecure-http",
		"--issuer", tx.url, "--audience", "rcv", "-").stdout
	var v tokenView
	if err := json.Unmarshal([]byte(out), &v); err != nil || !v.Verified || !strings.Contains(string(v.Subject), "heidi@example.com") {
		t.Errorf("verify: %v %s", err, out)
	}
	checkOneLineError(t, runCLI(t, dir, nil, "", "token", "verify", "--jwks", tx.url+"/jwks.json", "--issuer", tx.url, "--audience", "rcv", raw), 2, "not https")
	tx.stop()
}
