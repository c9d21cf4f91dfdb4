package keys

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// publicJWK returns the public JWK of a cached key with the given kid as JSON members.
func publicJWK(t *testing.T, alg, kid string) map[string]any {
	t.Helper()
	pub := testSigningKey(t, alg).Public()
	pub.KeyID = kid
	var m map[string]any
	mustUnmarshal(t, jwkJSON(t, pub), &m)
	return m
}

func jwksDoc(t *testing.T, keys ...map[string]any) []byte {
	t.Helper()
	if keys == nil {
		keys = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func with(m map[string]any, kv ...any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
			continue
		}
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

// TestParseJWKSVectors uses the kids of the generated SET vectors TV-GEN-1 (test-key-1 is
// published: found) and TV-GEN-6 (test-key-unknown: ErrUnknownKeyID, invalid_key).
func TestParseJWKSVectors(t *testing.T) {
	var vec struct {
		Header  struct{ Kid string } `json:"header"`
		Context struct {
			JWKSKids []string `json:"jwks_kids"`
		} `json:"context"`
	}
	read := func(name string) {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		mustUnmarshal(t, data, &vec)
	}
	read("tv-gen-1-valid-rs256.json")
	var published []map[string]any
	for _, kid := range vec.Context.JWKSKids {
		published = append(published, publicJWK(t, "RS256", kid))
	}
	set, err := ParseJWKS(jwksDoc(t, published...))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if ks, err := set.Keys(ctx, vec.Header.Kid); err != nil || len(ks) != 1 {
		t.Errorf("TV-GEN-1: Keys(%q) = %d keys, %v", vec.Header.Kid, len(ks), err)
	}
	read("tv-gen-6-unknown-kid.json")
	if _, err := set.Keys(ctx, vec.Header.Kid); !errors.Is(err, ErrUnknownKeyID) {
		t.Errorf("TV-GEN-6: Keys(%q) = %v, want ErrUnknownKeyID", vec.Header.Kid, err)
	}
}

// TestParseJWKSAccepts: RSA, EC and Ed25519 keys with or without alg/use/key_ops; every
// key returned for kid "", duplicates kept in document order (RFC 7517 §4.5), unknown
// top-level members ignored.
func TestParseJWKSAccepts(t *testing.T) {
	rsa := publicJWK(t, "RS256", "rsa")
	ec := publicJWK(t, "ES256", "ec")
	ec384 := publicJWK(t, "ES384", "dup")
	ed := publicJWK(t, "EdDSA", "dup")
	doc, _ := json.Marshal(map[string]any{
		"keys": []map[string]any{
			with(rsa, "alg", nil, "use", nil),
			with(ec, "key_ops", []string{"verify"}),
			ec384,
			ed,
			with(publicJWK(t, "PS256", ""), "kid", nil),
		},
		"extra": "ignored",
	})
	set, err := ParseJWKS(doc)
	if err != nil {
		t.Fatal(err)
	}
	if s := set.Skipped(); len(s) != 0 {
		t.Fatalf("skipped %v", s)
	}
	ctx := context.Background()
	all, err := set.Keys(ctx, "")
	if err != nil || len(all) != 5 {
		t.Fatalf("Keys(\"\") = %d keys, %v; want 5", len(all), err)
	}
	dups, err := set.Keys(ctx, "dup")
	if err != nil || len(dups) != 2 || dups[0].Algorithm != "ES384" || dups[1].Algorithm != "EdDSA" {
		t.Errorf("Keys(dup) = %v, %v; want the ES384 then the EdDSA key", dups, err)
	}
	if ks, err := set.Keys(ctx, "rsa"); err != nil || len(ks) != 1 || ks[0].Algorithm != "" {
		t.Errorf("Keys(rsa) = %v, %v", ks, err)
	}
	// Appending to a returned slice must not clobber the set.
	ks, _ := set.Keys(ctx, "rsa")
	_ = append(ks, jose.JSONWebKey{KeyID: "x"})
	if again, _ := set.Keys(ctx, ""); again[1].KeyID != "ec" {
		t.Errorf("append to a returned slice changed the set: %q", again[1].KeyID)
	}
	out, err := json.Marshal(set.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	assertNoPrivateMembers(t, out)
}

// TestParseJWKSRejects: symmetric keys (SEC-2) and private members invalidate the set.
func TestParseJWKSRejects(t *testing.T) {
	good := publicJWK(t, "RS256", "good")
	rsaPriv := jwkJSON(t, testSigningKey(t, "RS256").PrivateJWK())
	var rsaPrivM map[string]any
	mustUnmarshal(t, rsaPriv, &rsaPrivM)

	tests := []struct {
		name string
		doc  []byte
		want error
	}{
		{"not JSON", []byte("{"), ErrInvalidJWKS},
		{"array", []byte("[]"), ErrInvalidJWKS},
		{"null", []byte("null"), ErrInvalidJWKS},
		{"no keys member", []byte(`{"kids":[]}`), ErrInvalidJWKS},
		{"single JWK", jwkJSON(t, testSigningKey(t, "ES256").Public()), ErrInvalidJWKS},
		{"keys not an array", []byte(`{"keys":{}}`), ErrInvalidJWKS},
		{"keys null", []byte(`{"keys":null}`), ErrInvalidJWKS},
		{"oct key (SEC-2)", jwksDoc(t, good, map[string]any{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}), ErrSymmetricKey},
		{"oct key without k", jwksDoc(t, map[string]any{"kty": "oct"}), ErrSymmetricKey},
		{"private RSA key", jwksDoc(t, good, rsaPrivM), ErrPrivateKeyMaterial},
	}
	for _, m := range privateMembers {
		tests = append(tests, struct {
			name string
			doc  []byte
			want error
		}{"member " + m, jwksDoc(t, with(good, m, "AQAB")), ErrPrivateKeyMaterial})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := ParseJWKS(tt.doc)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseJWKS = %v, %v; want %v", set, err, tt.want)
			}
			if !errors.Is(err, ErrInvalidJWKS) {
				t.Errorf("error %v does not wrap ErrInvalidJWKS", err)
			}
			if v, ok := rsaPrivM["d"].(string); ok && strings.Contains(err.Error(), v[:16]) {
				t.Errorf("error leaks d: %v", err)
			}
		})
	}
}

// TestParseJWKSSkips: keys that cannot verify are ignored (RFC 7517 §5) and reported; a
// lookup of their kid says why.
func TestParseJWKSSkips(t *testing.T) {
	good := publicJWK(t, "ES256", "good")
	weak := jose.JSONWebKey{Key: &weakRSAKey(t).PublicKey, KeyID: "weak", Algorithm: "RS256"}
	var weakM map[string]any
	mustUnmarshal(t, jwkJSON(t, weak), &weakM)

	tests := []struct {
		name string
		key  map[string]any
		kid  string
		want error
	}{
		{"short RSA (IOP-16)", weakM, "weak", ErrWeakKey},
		{"unknown kty", map[string]any{"kty": "LWE", "kid": "pq"}, "pq", ErrUnsupportedKey},
		{"unknown curve", map[string]any{"kty": "EC", "crv": "secp256k1", "kid": "k1", "x": "AA", "y": "AA"}, "k1", ErrUnsupportedKey},
		{"X25519", map[string]any{"kty": "OKP", "crv": "X25519", "kid": "x", "x": "AA"}, "x", ErrUnsupportedKey},
		{"missing n", with(publicJWK(t, "RS256", "nn"), "n", nil), "nn", ErrInvalidJWK},
		{"point not on curve", with(good, "kid", "bad", "y", good["x"]), "bad", ErrInvalidJWK},
		{"use enc", with(good, "kid", "enc", "use", "enc"), "enc", ErrKeyUse},
		{"encryption alg", with(good, "kid", "ecdh", "alg", "ECDH-ES"), "ecdh", ErrKeyUse},
		{"alg mismatch", with(good, "kid", "mis", "alg", "RS256"), "mis", ErrAlgorithmMismatch},
		{"HMAC alg on EC key", with(good, "kid", "hs", "alg", "HS256"), "hs", ErrAlgorithmMismatch},
		{"key_ops without verify", with(good, "kid", "ops", "key_ops", []string{"encrypt"}), "ops", ErrKeyUse},
		{"key_ops not an array", with(good, "kid", "ops2", "key_ops", "verify"), "ops2", ErrInvalidJWK},
		{"kid not a string", with(good, "kid", 7), "", ErrInvalidJWK},
		{"not an object", nil, "", ErrInvalidJWK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc []byte
			if tt.key == nil {
				doc, _ = json.Marshal(map[string]any{"keys": []any{good, 42}})
			} else {
				doc = jwksDoc(t, good, tt.key)
			}
			set, err := ParseJWKS(doc)
			if err != nil {
				t.Fatalf("ParseJWKS: %v", err)
			}
			skipped := set.Skipped()
			if len(skipped) != 1 || skipped[0].Index != 1 || skipped[0].KeyID != tt.kid || !errors.Is(skipped[0].Err, tt.want) {
				t.Fatalf("Skipped() = %+v; want index 1, kid %q, %v", skipped, tt.kid, tt.want)
			}
			ctx := context.Background()
			if ks, err := set.Keys(ctx, "good"); err != nil || len(ks) != 1 {
				t.Errorf("the good key is gone: %v", err)
			}
			if all, _ := set.Keys(ctx, ""); len(all) != 1 {
				t.Errorf("Keys(\"\") = %d keys, want 1", len(all))
			}
			if tt.kid != "" {
				_, err := set.Keys(ctx, tt.kid)
				if !errors.Is(err, ErrUnknownKeyID) || !errors.Is(err, tt.want) {
					t.Errorf("Keys(%q) = %v; want ErrUnknownKeyID and %v", tt.kid, err, tt.want)
				}
			}
		})
	}
}

func TestStaticKeySetEmpty(t *testing.T) {
	set, err := ParseJWKS([]byte(`{"keys":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Keys(context.Background(), ""); !errors.Is(err, ErrUnknownKeyID) {
		t.Errorf("Keys(\"\") on an empty set = %v, want ErrUnknownKeyID", err)
	}
	// Found by FuzzParseJWKS: an empty set must encode as {"keys":[]}, not null.
	if out, err := json.Marshal(set.JWKS()); err != nil || string(out) != `{"keys":[]}` {
		t.Errorf("empty JWKS encodes as %s, %v", out, err)
	}
}

func TestNewStaticKeySet(t *testing.T) {
	ec := testSigningKey(t, "ES256")
	set, err := NewStaticKeySet(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		ec.Public(),
		{Key: &weakRSAKey(t).PublicKey, KeyID: "weak"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if ks, err := set.Keys(context.Background(), ec.KeyID()); err != nil || len(ks) != 1 {
		t.Errorf("Keys = %v, %v", ks, err)
	}
	if s := set.Skipped(); len(s) != 1 || !errors.Is(s[0].Err, ErrWeakKey) {
		t.Errorf("Skipped = %+v", s)
	}
	for name, tc := range map[string]struct {
		key  jose.JSONWebKey
		want error
	}{
		"symmetric": {jose.JSONWebKey{Key: []byte("secret"), KeyID: "h"}, ErrSymmetricKey},
		"private":   {ec.PrivateJWK(), ErrPrivateKeyMaterial},
	} {
		if _, err := NewStaticKeySet(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{tc.key}}); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// publicOfWeak returns the public JWK of a 1024-bit RSA key.
func publicOfWeak(t *testing.T, kid string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: &weakRSAKey(t).PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}
}

// TestLongKidTruncated: an attacker-chosen kid is shortened in errors.
func TestLongKidTruncated(t *testing.T) {
	set, err := ParseJWKS([]byte(`{"keys":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("k", 10000)
	_, err = set.Keys(context.Background(), long)
	if !errors.Is(err, ErrUnknownKeyID) || len(err.Error()) > 200 {
		t.Errorf("error of %d bytes: %.120v", len(err.Error()), err)
	}
}
