package receiver

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

const (
	testSAEmail = "risc-admin@my-project.iam.gserviceaccount.com"
	testSAKeyID = "0123456789abcdef0123456789abcdef01234567"
)

// testSAPriv is the service-account key of the tests, generated once per test process
// (no private key is kept in the source).
var testSAPriv = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// testOtherPriv is another RSA key, generated once.
var testOtherPriv = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func pkcs8PEM(t testing.TB, key any) string {
	t.Helper()
	s, err := pkcs8PEMString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pkcs8PEMString(key any) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// keyFile returns a Google service-account JSON key file; mod may change its members
// (a nil value deletes one).
func keyFile(t testing.TB, key *rsa.PrivateKey, mod func(m map[string]any)) []byte {
	t.Helper()
	m := map[string]any{
		"type":                        "service_account",
		"project_id":                  "my-project",
		"private_key_id":              testSAKeyID,
		"private_key":                 pkcs8PEM(t, key),
		"client_email":                testSAEmail,
		"client_id":                   "112233445566778899000",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   "https://oauth2.googleapis.com/token",
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"universe_domain":             "googleapis.com",
	}
	if mod != nil {
		mod(m)
		for k, v := range m {
			if v == nil {
				delete(m, k)
			}
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testSAKey(t testing.TB) *ServiceAccountKey {
	t.Helper()
	k, err := ParseServiceAccountKey(keyFile(t, testSAPriv(), nil))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseServiceAccountKey(t *testing.T) {
	priv := testSAPriv()
	k, err := ParseServiceAccountKey(keyFile(t, priv, nil))
	if err != nil {
		t.Fatal(err)
	}
	if k.ClientEmail != testSAEmail || k.PrivateKeyID != testSAKeyID || k.ProjectID != "my-project" || k.ClientID != "112233445566778899000" {
		t.Errorf("members: %+v", k)
	}
	if !k.PrivateKey.Equal(priv) {
		t.Error("private key differs")
	}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k)} {
		if strings.Contains(s, "PRIVATE") || strings.Contains(s, priv.N.String()[:20]) || !strings.Contains(s, "[redacted]") {
			t.Errorf("the key prints its private key: %s", s)
		}
	}
}

// TestParseServiceAccountKey_Rejects: every rejection of a key file, with the member at
// fault named and the key never quoted.
func TestParseServiceAccountKey_Rejects(t *testing.T) {
	rsaKey := testSAPriv()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	set := func(name string, v any) func(map[string]any) { return func(m map[string]any) { m[name] = v } }
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not JSON", []byte("not json"), "not a JSON object"},
		{"array", []byte(`[{"type":"service_account"}]`), "not a JSON object"},
		{"empty", nil, "not a JSON object"},
		{"type missing", keyFile(t, rsaKey, set("type", nil)), `"type" is missing`},
		{"type authorized_user", keyFile(t, rsaKey, set("type", "authorized_user")), `"authorized_user", not "service_account"`},
		{"type external_account", keyFile(t, rsaKey, set("type", "external_account")), `not "service_account"`},
		{"type number", keyFile(t, rsaKey, set("type", 1)), `member "type" must be a string`},
		{"private_key number", keyFile(t, rsaKey, set("private_key", 5)), `member "private_key" must be a string`},
		{"client_email missing", keyFile(t, rsaKey, set("client_email", nil)), "client_email missing"},
		{"private_key_id empty", keyFile(t, rsaKey, set("private_key_id", "")), "private_key_id missing"},
		{"private_key missing", keyFile(t, rsaKey, set("private_key", nil)), "private_key missing"},
		{"all three missing", keyFile(t, rsaKey, func(m map[string]any) {
			m["client_email"], m["private_key_id"], m["private_key"] = nil, nil, nil
		}), "client_email, private_key_id, private_key missing"},
		{"client_email not an email", keyFile(t, rsaKey, set("client_email", "risc-admin")), "not an email address"},
		{"private_key_id with quote", keyFile(t, rsaKey, set("private_key_id", `a"b`)), "private_key_id contains"},
		{"private_key not PEM", keyFile(t, rsaKey, set("private_key", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")), "private_key: no PEM block"},
		{"PKCS #1 PEM", keyFile(t, rsaKey, set("private_key", pkcs1)), `PEM block "RSA PRIVATE KEY", want "PRIVATE KEY"`},
		{"EC key", keyFile(t, rsaKey, set("private_key", pkcs8PEM(t, ecKey))), "*ecdsa.PrivateKey key, want RSA"},
		{"Ed25519 key", keyFile(t, rsaKey, set("private_key", pkcs8PEM(t, edKey))), "ed25519.PrivateKey key, want RSA"},
		{"1024-bit RSA", keyFile(t, rsaKey, set("private_key", pkcs8PEM(t, small))), "RSA key of 1024 bits, want at least 2048"},
		{"corrupt PKCS #8", keyFile(t, rsaKey, set("private_key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("garbage")})))), "not a valid PKCS #8 private key"},
		{"two PEM blocks", keyFile(t, rsaKey, set("private_key", pkcs8PEM(t, rsaKey)+pkcs8PEM(t, rsaKey))), "data after the PEM block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseServiceAccountKey(tc.data)
			if err == nil {
				t.Fatalf("accepted: %v", k)
			}
			if !errors.Is(err, ErrInvalidServiceAccountKey) {
				t.Errorf("error %v does not wrap ErrInvalidServiceAccountKey", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "MII") || strings.Contains(err.Error(), "BEGIN") {
				t.Errorf("error quotes the key: %v", err)
			}
		})
	}
}

// verifiedJWT is a service-account JWT checked with the public key.
type verifiedJWT struct {
	Alg, Typ, Kid string
	Claims        map[string]any
}

// verifyServiceAccountJWT checks the signature of "Bearer <jwt>" with pub and returns
// its header members and claims.
func verifyServiceAccountJWT(authz string, pub *rsa.PublicKey) (*verifiedJWT, error) {
	tok, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok {
		return nil, fmt.Errorf("authorization %q is not a bearer token", authz)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return nil, err
	}
	h := jws.Signatures[0].Header
	out := &verifiedJWT{Alg: h.Algorithm, Kid: h.KeyID}
	if typ, ok := h.ExtraHeaders[jose.HeaderType].(string); ok {
		out.Typ = typ
	}
	if err := json.Unmarshal(payload, &out.Claims); err != nil {
		return nil, err
	}
	return out, nil
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestServiceAccountCredentials_JWT: the JWT of vendors §2.3 (RS256, kid = private key
// id, iss = sub = client_email, aud = the RISC management service, exp = iat + 3600).
func TestServiceAccountCredentials_JWT(t *testing.T) {
	clock := &testClock{t: time.Unix(1_800_000_000, 0)}
	key := testSAKey(t)
	for _, tc := range []struct {
		aud, want string
	}{
		{"", GoogleRISCAudience},
		{"https://example.com/other-api", "https://example.com/other-api"},
	} {
		c, err := NewServiceAccountCredentials(ServiceAccountCredentialsConfig{Key: key, Audience: tc.aud, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		authz, err := c.Authorization(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got, err := verifyServiceAccountJWT(authz, &testSAPriv().PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		want := &verifiedJWT{Alg: "RS256", Typ: "JWT", Kid: testSAKeyID, Claims: map[string]any{
			"iss": testSAEmail, "sub": testSAEmail, "aud": tc.want,
			"iat": float64(1_800_000_000), "exp": float64(1_800_003_600),
		}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("JWT (-want +got):\n%s", diff)
		}
		if _, err := verifyServiceAccountJWT(authz, &testOtherPriv().PublicKey); err == nil {
			t.Error("the JWT verifies with another key")
		}
		if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, strings.TrimPrefix(authz, "Bearer ")[:30]) || strings.Contains(s, "PRIVATE") {
			t.Errorf("credentials print a secret: %s", s)
		}
	}
}

// TestServiceAccountCredentials_Cache: the JWT is reused until ExpiryMargin before its
// expiry, then re-minted; Invalidate forces a new one.
func TestServiceAccountCredentials_Cache(t *testing.T) {
	clock := &testClock{t: time.Unix(1_800_000_000, 0)}
	c, err := NewServiceAccountCredentials(ServiceAccountCredentialsConfig{Key: testSAKey(t), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	iat := func() float64 {
		t.Helper()
		a, err := c.Authorization(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		v, err := verifyServiceAccountJWT(a, &testSAPriv().PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return v.Claims["iat"].(float64)
	}
	if got := iat(); got != 1_800_000_000 {
		t.Fatalf("iat %v", got)
	}
	clock.Add(54*time.Minute + 59*time.Second) // default margin: 5 minutes
	if got := iat(); got != 1_800_000_000 {
		t.Errorf("re-minted %v before the margin", got)
	}
	clock.Add(time.Second)
	if got := iat(); got != 1_800_003_300 {
		t.Errorf("iat %v after 55 minutes, want a new JWT", got)
	}
	clock.Add(time.Minute)
	c.Invalidate()
	if got := iat(); got != 1_800_003_360 {
		t.Errorf("iat %v after Invalidate, want a new JWT", got)
	}

	// The margin is at most half the lifetime.
	c2, _ := NewServiceAccountCredentials(ServiceAccountCredentialsConfig{Key: testSAKey(t), Now: clock.Now, ExpiryMargin: 2 * time.Hour})
	if c2.margin != 30*time.Minute {
		t.Errorf("margin %v", c2.margin)
	}
}

func TestServiceAccountCredentials_Concurrent(t *testing.T) {
	c, err := NewServiceAccountCredentials(ServiceAccountCredentialsConfig{Key: testSAKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() {
			if i%3 == 0 {
				c.Invalidate()
			}
			a, err := c.Authorization(t.Context())
			if err != nil {
				t.Error(err)
			}
			got[i] = a
		})
	}
	wg.Wait()
	for _, a := range got {
		if _, err := verifyServiceAccountJWT(a, &testSAPriv().PublicKey); err != nil {
			t.Error(err)
		}
	}
}

func TestServiceAccountCredentials_Rejects(t *testing.T) {
	if _, err := NewServiceAccountCredentials(ServiceAccountCredentialsConfig{}); err == nil || !strings.Contains(err.Error(), "Key is required") {
		t.Errorf("no key: %v", err)
	}
	if _, err := NewServiceAccountCredentials(ServiceAccountCredentialsConfig{Key: &ServiceAccountKey{ClientEmail: testSAEmail}}); !errors.Is(err, ErrInvalidServiceAccountKey) {
		t.Errorf("incomplete key: %v", err)
	}
	c, _ := NewServiceAccountCredentials(ServiceAccountCredentialsConfig{Key: testSAKey(t)})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Authorization(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// FuzzParseServiceAccountKey: any input is either a usable key or an error wrapping
// ErrInvalidServiceAccountKey; never a panic.
func FuzzParseServiceAccountKey(f *testing.F) {
	// The seeds hold no parseable RSA key: checking a 2048-bit key costs about a second
	// under the fuzzer's instrumentation, which would leave no time for the JSON and PEM
	// paths (the valid key is covered by TestParseServiceAccountKey).
	key := testSAPriv()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		f.Fatal(err)
	}
	broken := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der[:40]}))
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	f.Add(keyFile(f, key, func(m map[string]any) { m["private_key"] = broken }))
	f.Add(keyFile(f, key, func(m map[string]any) { m["private_key"] = pkcs8PEM(f, ed) }))
	f.Add(keyFile(f, key, func(m map[string]any) { m["type"], m["private_key"] = "authorized_user", broken }))
	f.Add(keyFile(f, key, func(m map[string]any) {
		m["private_key"] = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"
	}))
	f.Add(keyFile(f, key, func(m map[string]any) { m["client_email"], m["private_key"] = nil, broken }))
	f.Add([]byte(`{"type":"service_account","client_email":"a@b","private_key_id":"k","private_key":"x"}`))
	f.Add([]byte(`{"type":null}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"type":"service_account","type":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseServiceAccountKey(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidServiceAccountKey) {
				t.Fatalf("error %v does not wrap ErrInvalidServiceAccountKey", err)
			}
			return
		}
		if k.ClientEmail == "" || k.PrivateKeyID == "" || k.PrivateKey == nil || k.PrivateKey.N.BitLen() < minRSABits {
			t.Fatalf("accepted an unusable key: %v", k)
		}
	})
}
