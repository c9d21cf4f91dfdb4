package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sigshare/sigshare/keys"
)

// OAuth mode end to end: the transmitter accepts JWT access tokens of an authorization
// server (--oauth-issuer, --oauth-jwks); the stream commands and the receiver obtain them
// with the client credentials grant (--oauth-token-url, --oauth-client-id,
// --oauth-client-secret); a token without ssf.manage cannot create a stream.
func TestOAuthMode(t *testing.T) {
	key, err := keys.Generate("RS256")
	if err != nil {
		t.Fatal(err)
	}
	signing, _ := keys.NewSigningKeys(key)
	jwks, _ := signing.MarshalJWKS()
	signer, err := jose.NewSigner(key.JOSESigningKey(), (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	txAddr := freeAddr(t)
	txIssuer := "http://" + txAddr
	var asURL string
	clients := map[string]struct{ secret, scope string }{
		"app":    {"app-secret", "ssf.read ssf.manage"},
		"reader": {"reader-secret", "ssf.read"},
	}
	asURL = httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/jwks":
			w.Header().Set("Content-Type", "application/json")
			w.Write(jwks)
		case "/token":
			id, secret, ok := r.BasicAuth()
			c, known := clients[id]
			if !ok || !known || secret != c.secret || r.FormValue("grant_type") != "client_credentials" {
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"error":"invalid_client"}`))
				return
			}
			now := time.Now()
			tok, err := jwt.Signed(signer).Claims(map[string]any{
				"iss": asURL, "aud": txIssuer, "client_id": id, "sub": id, "scope": c.scope,
				"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": id + now.String(),
			}).Serialize()
			if err != nil {
				t.Error(err)
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 300})
		default:
			http.NotFound(w, r)
		}
	}))

	dir := t.TempDir()
	tx := start(t, dir, nil, "transmitter", "--addr", txAddr, "--insecure-http", "--admin-token", "admin-token",
		"--oauth-issuer", asURL, "--oauth-jwks", asURL+"/jwks")
	tx.waitReady(http.DefaultClient, txIssuer+"/readyz")

	env := []string{"SIGSHARE_INSECURE_HTTP=true", "SIGSHARE_OAUTH_TOKEN_URL=" + asURL + "/token", "SIGSHARE_OAUTH_CLIENT_ID=app", "SIGSHARE_OAUTH_CLIENT_SECRET=app-secret"}
	out := mustRun(t, dir, env, "", "stream", "create", "--issuer", txIssuer, "--events", "session-revoked", "--description", "oauth").stdout
	if !strings.Contains(out, `"aud": "app"`) {
		t.Errorf("created stream:\n%s", out)
	}
	out = mustRun(t, dir, env, "", "stream", "list", "--metadata-url", txIssuer+"/.well-known/ssf-configuration").stdout
	if !strings.Contains(out, `"description": "oauth"`) {
		t.Errorf("stream list --metadata-url:\n%s", out)
	}

	rcv := start(t, dir, env, "receiver", "--issuer", txIssuer, "--events", "session-revoked", "--description", "oauth", "--format", "text")
	waitStderr(t, rcv, "receiver started")
	mustRun(t, dir, nil, "", "emit", "--transmitter", txIssuer, "--insecure-http", "--admin-token", "admin-token",
		"--type", "session-revoked", "--subject-email", "grace@example.com")
	waitStdout(t, rcv, "grace@example.com")
	if code := rcv.stop(); code != 0 {
		t.Errorf("receiver exit %d", code)
	}
	if out := mustRun(t, dir, env, "", "stream", "list", "--issuer", txIssuer).stdout; strings.Count(out, `"stream_id"`) != 1 {
		t.Errorf("the receiver did not reuse the stream created with the same description:\n%s", out)
	}

	reader := []string{"SIGSHARE_INSECURE_HTTP=true", "SIGSHARE_OAUTH_TOKEN_URL=" + asURL + "/token", "SIGSHARE_OAUTH_CLIENT_ID=reader", "SIGSHARE_OAUTH_CLIENT_SECRET=reader-secret"}
	checkOneLineError(t, runCLI(t, dir, reader, "", "stream", "create", "--issuer", txIssuer), 1, "insufficient_scope")
	mustRun(t, dir, reader, "", "stream", "list", "--issuer", txIssuer)
	bad := []string{"SIGSHARE_INSECURE_HTTP=true", "SIGSHARE_OAUTH_TOKEN_URL=" + asURL + "/token", "SIGSHARE_OAUTH_CLIENT_ID=app", "SIGSHARE_OAUTH_CLIENT_SECRET=wrong"}
	r := runCLI(t, dir, bad, "", "stream", "list", "--issuer", txIssuer)
	checkOneLineError(t, r, 1, "sigshare: ")
	if strings.Contains(r.stderr, "wrong") {
		t.Error("the error shows the client secret")
	}
	tx.stop()
}
