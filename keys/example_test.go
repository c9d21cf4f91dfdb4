package keys_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/sigshare/sigshare/keys"
)

// A transmitter generates its signing key and publishes the JWK Set at its jwks_uri.
func ExampleGenerate() {
	key, err := keys.Generate("ES256")
	if err != nil {
		log.Fatal(err)
	}
	published, err := keys.NewSigningKeys(key)
	if err != nil {
		log.Fatal(err)
	}
	doc, err := published.MarshalJWKS()
	if err != nil {
		log.Fatal(err)
	}
	// doc is served at the jwks_uri. It holds the public key only:
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(doc, &jwks); err != nil {
		log.Fatal(err)
	}
	k := jwks.Keys[0]
	_, hasD := k["d"]
	fmt.Println("kty:", k["kty"], "crv:", k["crv"], "alg:", k["alg"], "use:", k["use"])
	fmt.Println("kid is the RFC 7638 thumbprint:", k["kid"] == key.Thumbprint())
	fmt.Println("private member d published:", hasD)
	// Output:
	// kty: EC crv: P-256 alg: ES256 use: sig
	// kid is the RFC 7638 thumbprint: true
	// private member d published: false
}

// Rotation keeps the previous key published until it is removed.
func ExampleSigningKeys_Rotate() {
	first, _ := keys.Generate("EdDSA")
	second, _ := keys.Generate("EdDSA")
	set, err := keys.NewSigningKeys(first.WithKeyID("2025-01"))
	if err != nil {
		log.Fatal(err)
	}
	if err := set.Rotate(second.WithKeyID("2025-02")); err != nil {
		log.Fatal(err)
	}
	for _, k := range set.JWKS().Keys {
		fmt.Println(k.KeyID)
	}
	fmt.Println("active:", set.Active().KeyID())
	fmt.Println(set.Remove("2025-02"))
	fmt.Println(set.Remove("2025-01"), len(set.JWKS().Keys))
	// Output:
	// 2025-02
	// 2025-01
	// active: 2025-02
	// keys: cannot remove the active signing key: "2025-02"; rotate to a new key first
	// <nil> 1
}

// A receiver verifies SETs with the keys at the transmitter's jwks_uri.
func ExampleNewRemoteKeySet() {
	// A transmitter's jwks_uri (on loopback for the example).
	key, _ := keys.Generate("RS256")
	published, _ := keys.NewSigningKeys(key.WithKeyID("test-key-1"))
	transmitter := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, _ := published.MarshalJWKS()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(doc)
	}))
	defer transmitter.Close()

	jwks, err := keys.NewRemoteKeySet(transmitter.URL+"/jwks.json", keys.RemoteOptions{
		HTTPClient:         transmitter.Client(), // production: leave nil
		Timeout:            5 * time.Second,
		MinRefreshInterval: time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer jwks.Close()

	ctx := context.Background()
	found, err := jwks.Keys(ctx, "test-key-1") // the kid of a SET's JWS header
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(found), found[0].Algorithm, found[0].IsPublic())

	_, err = jwks.Keys(ctx, "test-key-unknown")
	fmt.Println(err)
	// Output:
	// 1 RS256 true
	// keys: no key with that kid: "test-key-unknown"
}

// A configured JWK Set; private or symmetric keys are refused.
func ExampleParseJWKS() {
	_, err := keys.ParseJWKS([]byte(`{"keys":[{"kty":"oct","kid":"shared","k":"c2VjcmV0"}]}`))
	fmt.Println(err)
	// Output:
	// keys: invalid JWK Set: key 0 (kid "shared"): keys: symmetric (oct) key not allowed: published keys must be asymmetric; HMAC with a published key lets anyone forge SETs (SEC-2)
}
