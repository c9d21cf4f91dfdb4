package keys

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// signingAlgs are every signature algorithm Generate supports.
var signingAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// testKeys caches generated keys: RSA generation is slow on a shared machine.
var testKeys = struct {
	sync.Mutex
	sig     map[string]*SigningKey
	enc     map[string]*DecryptionKey
	rsa1024 *rsa.PrivateKey
}{sig: map[string]*SigningKey{}, enc: map[string]*DecryptionKey{}}

// testSigningKey returns a cached signing key for alg (one per alg and name).
func testSigningKey(t testing.TB, alg string) *SigningKey {
	return testSigningKeyNamed(t, alg, "")
}

// testSigningKeyNamed returns a cached signing key for alg; different names give different
// keys.
func testSigningKeyNamed(t testing.TB, alg, name string) *SigningKey {
	t.Helper()
	testKeys.Lock()
	defer testKeys.Unlock()
	if k, ok := testKeys.sig[alg+"/"+name]; ok {
		return k
	}
	k, err := Generate(alg)
	if err != nil {
		t.Fatalf("Generate(%q): %v", alg, err)
	}
	testKeys.sig[alg+"/"+name] = k
	return k
}

func testDecryptionKey(t testing.TB, alg string) *DecryptionKey {
	t.Helper()
	testKeys.Lock()
	defer testKeys.Unlock()
	if k, ok := testKeys.enc[alg]; ok {
		return k
	}
	k, err := GenerateEncryptionKey(alg)
	if err != nil {
		t.Fatalf("GenerateEncryptionKey(%q): %v", alg, err)
	}
	testKeys.enc[alg] = k
	return k
}

// weakRSAKey returns a cached 1024-bit RSA key (the smallest crypto/rsa generates).
func weakRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	testKeys.Lock()
	defer testKeys.Unlock()
	if testKeys.rsa1024 == nil {
		k, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatalf("generating a 1024-bit RSA key: %v", err)
		}
		testKeys.rsa1024 = k
	}
	return testKeys.rsa1024
}

// privateMembers are the JWK members that must never appear in a published JWK Set.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth", "priv"}

// assertNoPrivateMembers fails when the JWK Set document holds any private member.
func assertNoPrivateMembers(t *testing.T, doc []byte) {
	t.Helper()
	var set struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatalf("JWK Set is not JSON: %v", err)
	}
	if len(set.Keys) == 0 {
		t.Fatalf("JWK Set has no keys: %s", doc)
	}
	for i, k := range set.Keys {
		for _, m := range privateMembers {
			if _, ok := k[m]; ok {
				t.Errorf("key %d (kid %s) has private member %q", i, k["kid"], m)
			}
		}
	}
}

// fakeClock is a settable clock for RemoteOptions.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
