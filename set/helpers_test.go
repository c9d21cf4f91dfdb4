package set

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sigshare/sigshare/keys"
)

// testNow is the clock of the tests: 2026-01-01T00:00:00Z.
var testNow = time.Unix(1767225600, 0).UTC()

func fixedNow() time.Time { return testNow }

var (
	pemOnce  sync.Once
	pemKeys  map[string][]byte
	genMu    sync.Mutex
	genCache = map[string]*keys.SigningKey{}
	encCache = map[string]*keys.DecryptionKey{}
)

// testPEM returns the PEM of a committed test key: "test-key-1" or "test-key-unknown".
func testPEM(t testing.TB, name string) []byte {
	t.Helper()
	pemOnce.Do(func() {
		pemKeys = map[string][]byte{}
		for _, n := range []string{"test-key-1", "test-key-unknown"} {
			b, err := os.ReadFile(filepath.Join("testdata", "keys", n+".pem"))
			if err == nil {
				pemKeys[n] = b
			}
		}
	})
	b, ok := pemKeys[name]
	if !ok {
		t.Fatalf("test key %s missing", name)
	}
	return b
}

// testKey returns a committed RSA test key, for alg (RS256, PS256, …), with kid name.
func testKey(t testing.TB, name, alg string) *keys.SigningKey {
	t.Helper()
	k, err := keys.ParsePEM(testPEM(t, name), alg)
	if err != nil {
		t.Fatalf("ParsePEM(%s): %v", name, err)
	}
	return k.WithKeyID(name)
}

// genKey returns a generated signing key for alg (cached per alg and name), with kid name.
func genKey(t testing.TB, alg, name string) *keys.SigningKey {
	t.Helper()
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return testKey(t, "test-key-1", alg).WithKeyID(name)
	}
	genMu.Lock()
	defer genMu.Unlock()
	k, ok := genCache[alg+"/"+name]
	if !ok {
		var err error
		if k, err = keys.Generate(alg); err != nil {
			t.Fatalf("Generate(%s): %v", alg, err)
		}
		k = k.WithKeyID(name)
		genCache[alg+"/"+name] = k
	}
	return k
}

// encKey returns a generated decryption key for alg (cached).
func encKey(t testing.TB, alg string) *keys.DecryptionKey {
	t.Helper()
	genMu.Lock()
	defer genMu.Unlock()
	k, ok := encCache[alg]
	if !ok {
		var err error
		if k, err = keys.GenerateEncryptionKey(alg); err != nil {
			t.Fatalf("GenerateEncryptionKey(%s): %v", alg, err)
		}
		encCache[alg] = k
	}
	return k
}

// keySet returns a static key set with the public halves of ks.
func keySet(t testing.TB, ks ...*keys.SigningKey) *keys.StaticKeySet {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range ks {
		set.Keys = append(set.Keys, k.Public())
	}
	s, err := keys.NewStaticKeySet(set)
	if err != nil {
		t.Fatalf("NewStaticKeySet: %v", err)
	}
	return s
}

var enc = base64.RawURLEncoding

// compactJWS builds a compact JWS by hand: header and claims as given (JSON), signed
// with key's algorithm directly with crypto (independently of this package's signer).
func compactJWS(t testing.TB, key *keys.SigningKey, header, claims []byte) string {
	t.Helper()
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	var sig []byte
	switch key.Algorithm() {
	case "RS256":
		h := sha256.Sum256([]byte(input))
		var err error
		sig, err = rsa.SignPKCS1v15(nil, key.Signer().(*rsa.PrivateKey), crypto.SHA256, h[:])
		if err != nil {
			t.Fatal(err)
		}
	default:
		// Other algorithms go through go-jose, with the header rebuilt from the JSON.
		var extra map[string]any
		if err := json.Unmarshal(header, &extra); err != nil {
			t.Fatal(err)
		}
		opts := &jose.SignerOptions{}
		for k, v := range extra {
			if k != "alg" && k != "kid" {
				opts = opts.WithHeader(jose.HeaderKey(k), v)
			}
		}
		s, err := jose.NewSigner(key.JOSESigningKey(), opts)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := s.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		out, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return input + "." + enc.EncodeToString(sig)
}

// unsecured builds an "alg":"none" compact SET.
func unsecured(header, claims []byte) string {
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "."
}

// hmacConfusion builds an HS256 SET keyed with the PEM of the public key (TV-GEN-4).
func hmacConfusion(t testing.TB, pub crypto.PublicKey, header, claims []byte) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + enc.EncodeToString(m.Sum(nil))
}

// flipLastSignatureBit flips the lowest bit of the last signature byte (TV-GEN-5).
func flipLastSignatureBit(t testing.TB, compact string) string {
	t.Helper()
	i := bytes.LastIndexByte([]byte(compact), '.')
	sig, err := enc.DecodeString(compact[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)-1] ^= 1
	return compact[:i+1] + enc.EncodeToString(sig)
}

// mustJSON encodes v.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonValue decodes JSON into a generic value with json.Number, for go-cmp comparisons.
func jsonValue(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

// newTestVerifier builds a verifier or fails the test.
func newTestVerifier(t testing.TB, ks keys.KeySet, cfg Config) *Verifier {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	v, err := NewVerifier(ks, cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

var bg = context.Background()
