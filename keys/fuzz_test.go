package keys

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// FuzzParseJWKS: no input panics; a parsed set re-marshals into a JWK Set that parses to
// the same keys, with no private member.
func FuzzParseJWKS(f *testing.F) {
	var all []jose.JSONWebKey
	for _, alg := range signingAlgs {
		pub := testSigningKey(f, alg).Public()
		all = append(all, pub)
		doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
		f.Add(doc)
	}
	doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: all})
	f.Add(doc)
	priv, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{testSigningKey(f, "ES256").PrivateJWK()}})
	f.Add(priv)
	weak, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &weakRSAKey(f).PublicKey, KeyID: "weak"}}})
	f.Add(weak)
	for _, s := range []string{
		`{"keys":[]}`, `{"keys":null}`, `{}`, `[]`, `null`, `{"keys":[{"kty":"oct","k":"AA"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`, `{"keys":[42,"x",null,{}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"a","key_ops":["verify"]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := ParseJWKS(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(set.JWKS())
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		again, err := ParseJWKS(out)
		if err != nil {
			t.Fatalf("re-parse %s: %v", out, err)
		}
		if s := again.Skipped(); len(s) != 0 {
			t.Fatalf("re-parse skipped %+v", s)
		}
		a, b := set.JWKS().Keys, again.JWKS().Keys
		if len(a) != len(b) {
			t.Fatalf("re-parse: %d keys, want %d", len(b), len(a))
		}
		for i := range a {
			ta, _ := thumbprint(a[i].Key)
			tb, _ := thumbprint(b[i].Key)
			if a[i].KeyID != b[i].KeyID || ta != tb || a[i].Algorithm != b[i].Algorithm {
				t.Fatalf("key %d changed: %q %s → %q %s", i, a[i].KeyID, ta, b[i].KeyID, tb)
			}
		}
		if len(a) > 0 {
			var doc struct{ Keys []map[string]json.RawMessage }
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			for _, k := range doc.Keys {
				for _, m := range privateMembers {
					if _, ok := k[m]; ok {
						t.Fatalf("output has private member %q: %s", m, out)
					}
				}
			}
		}
	})
}

// FuzzParsePEM: no input panics; a parsed key re-marshals to PEM and JWK that parse to the
// same key.
//
// Seeds: one key per key type. RSA parsing is slow under the fuzzer's coverage
// instrumentation, so a single RSA seed keeps the fuzzer productive.
func FuzzParsePEM(f *testing.F) {
	for _, alg := range []string{"RS256", "ES256", "ES384", "ES512", "EdDSA"} {
		pemData, err := testSigningKey(f, alg).MarshalPEM()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pemData, alg)
	}
	rsaKey := testSigningKey(f, "RS256").Signer().(*rsa.PrivateKey)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), "")
	sec1, err := x509.MarshalECPrivateKey(testSigningKey(f, "ES256").Signer().(*ecdsa.PrivateKey))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), "")
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"), "ES256")
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), "")
	f.Add([]byte("garbage"), "RS256")
	f.Fuzz(func(t *testing.T, data []byte, alg string) {
		k, err := ParsePEM(data, alg)
		if err != nil {
			return
		}
		if alg != "" && k.Algorithm() != alg {
			t.Fatalf("Algorithm() = %q, asked for %q", k.Algorithm(), alg)
		}
		out, err := k.MarshalPEM()
		if err != nil {
			t.Fatalf("MarshalPEM: %v", err)
		}
		again, err := ParsePEM(out, k.Algorithm())
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if again.KeyID() != k.KeyID() || again.Algorithm() != k.Algorithm() {
			t.Fatalf("round trip: %v → %v", k, again)
		}
		jwk, err := k.MarshalJWK()
		if err != nil {
			t.Fatalf("MarshalJWK: %v", err)
		}
		fromJWK, err := ParseJWK(jwk)
		if err != nil {
			t.Fatalf("ParseJWK(MarshalJWK()): %v", err)
		}
		if fromJWK.KeyID() != k.KeyID() {
			t.Fatalf("JWK round trip: kid %q, want %q", fromJWK.KeyID(), k.KeyID())
		}
	})
}

// FuzzParseJWK: no input panics; a parsed key re-marshals to a JWK that parses to the
// same key, and its public JWK holds no private member.
func FuzzParseJWK(f *testing.F) {
	for _, alg := range []string{"RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"} {
		b, err := testSigningKey(f, alg).WithKeyID("k-" + alg).MarshalJWK()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"kty":"oct","k":"AA"}`))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseJWK(data)
		if err != nil {
			return
		}
		out, err := k.MarshalJWK()
		if err != nil {
			t.Fatalf("MarshalJWK: %v", err)
		}
		again, err := ParseJWK(out)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if again.KeyID() != k.KeyID() || again.Algorithm() != k.Algorithm() || again.Thumbprint() != k.Thumbprint() {
			t.Fatalf("round trip: %v → %v", k, again)
		}
		pub, err := json.Marshal(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(pub, &m); err != nil {
			t.Fatal(err)
		}
		for _, p := range privateMembers {
			if _, ok := m[p]; ok {
				t.Fatalf("public JWK has %q", p)
			}
		}
	})
}

// FuzzFreshnessLifetime: no header value panics or yields a negative lifetime.
func FuzzFreshnessLifetime(f *testing.F) {
	f.Add("public, max-age=300", "10", "", "")
	f.Add("no-store", "", "", "")
	f.Add("", "", "Thu, 01 Jan 2099 00:00:00 GMT", "Sat, 01 Mar 2025 12:00:00 GMT")
	f.Fuzz(func(t *testing.T, cc, age, expires, date string) {
		h := http.Header{}
		for _, kv := range [][2]string{{"Cache-Control", cc}, {"Age", age}, {"Expires", expires}, {"Date", date}} {
			if kv[1] != "" && !strings.ContainsAny(kv[1], "\r\n") {
				h.Set(kv[0], kv[1])
			}
		}
		d, _ := freshnessLifetime(h, time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
		if d < 0 {
			t.Fatalf("negative lifetime %v", d)
		}
	})
}
