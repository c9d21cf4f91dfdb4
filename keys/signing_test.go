package keys

import (
	"crypto"
	"crypto/ecdh"
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
	"log/slog"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

// TestGenerateRoundTrips covers every algorithm: generate → PEM → parse, and generate →
// JWK → parse, keep the kid (the RFC 7638 thumbprint) and the algorithm, and the key
// signs a JWS that its public JWK verifies.
func TestGenerateRoundTrips(t *testing.T) {
	for _, alg := range signingAlgs {
		t.Run(alg, func(t *testing.T) {
			k := testSigningKey(t, alg)
			if k.Algorithm() != alg {
				t.Errorf("Algorithm() = %q, want %q", k.Algorithm(), alg)
			}
			if k.KeyID() == "" || k.KeyID() != k.Thumbprint() {
				t.Errorf("KeyID() = %q, want the thumbprint %q", k.KeyID(), k.Thumbprint())
			}
			pub := k.Public()
			if !pub.IsPublic() || pub.Use != "sig" || pub.Algorithm != alg || pub.KeyID != k.KeyID() {
				t.Errorf("Public() = kid %q alg %q use %q public %v", pub.KeyID, pub.Algorithm, pub.Use, pub.IsPublic())
			}

			pemData, err := k.MarshalPEM()
			if err != nil {
				t.Fatalf("MarshalPEM: %v", err)
			}
			if !strings.HasPrefix(string(pemData), "-----BEGIN PRIVATE KEY-----") {
				t.Errorf("MarshalPEM is not PKCS#8: %.40s", pemData)
			}
			fromPEM, err := ParsePEM(pemData, alg)
			if err != nil {
				t.Fatalf("ParsePEM: %v", err)
			}
			if fromPEM.KeyID() != k.KeyID() || fromPEM.Algorithm() != alg {
				t.Errorf("ParsePEM gave kid %q alg %q, want %q %q", fromPEM.KeyID(), fromPEM.Algorithm(), k.KeyID(), alg)
			}

			jwkData, err := k.MarshalJWK()
			if err != nil {
				t.Fatalf("MarshalJWK: %v", err)
			}
			fromJWK, err := ParseJWK(jwkData)
			if err != nil {
				t.Fatalf("ParseJWK: %v", err)
			}
			if fromJWK.KeyID() != k.KeyID() || fromJWK.Algorithm() != alg {
				t.Errorf("ParseJWK gave kid %q alg %q, want %q %q", fromJWK.KeyID(), fromJWK.Algorithm(), k.KeyID(), alg)
			}
			again, err := fromJWK.MarshalJWK()
			if err != nil {
				t.Fatalf("MarshalJWK again: %v", err)
			}
			var a, b map[string]any
			mustUnmarshal(t, jwkData, &a)
			mustUnmarshal(t, again, &b)
			if diff := cmp.Diff(a, b); diff != "" {
				t.Errorf("JWK round trip changed the key (-first +second):\n%s", diff)
			}

			signAndVerify(t, fromPEM, pub)
			signAndVerify(t, fromJWK, pub)
		})
	}
}

func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
}

// signAndVerify signs with k through go-jose and verifies with pub; the JWS header must
// carry k's kid.
func signAndVerify(t *testing.T, k *SigningKey, pub jose.JSONWebKey) {
	t.Helper()
	signer, err := jose.NewSigner(k.JOSESigningKey(), nil)
	if err != nil {
		t.Fatalf("jose.NewSigner: %v", err)
	}
	jws, err := signer.Sign([]byte("payload"))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		t.Fatalf("CompactSerialize: %v", err)
	}
	parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.Algorithm())})
	if err != nil {
		t.Fatalf("ParseSigned: %v", err)
	}
	if got := parsed.Signatures[0].Header.KeyID; got != k.KeyID() {
		t.Errorf("JWS kid = %q, want %q", got, k.KeyID())
	}
	if _, err := parsed.Verify(pub); err != nil {
		t.Errorf("Verify with the public JWK: %v", err)
	}
}

// TestThumbprintRFC7638 checks the default kid against the published thumbprint examples:
// RFC 7638 §3.1 (RSA) and RFC 8037 Appendix A.3 (Ed25519).
func TestThumbprintRFC7638(t *testing.T) {
	tests := []struct {
		name, jwk, want string
	}{
		{
			name: "RFC 7638 §3.1 RSA",
			jwk:  `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`,
			want: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
		},
		{
			name: "RFC 8037 A.3 Ed25519",
			jwk:  `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
			want: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var jwk jose.JSONWebKey
			if err := jwk.UnmarshalJSON([]byte(tt.jwk)); err != nil {
				t.Fatalf("UnmarshalJSON: %v", err)
			}
			got, err := thumbprint(jwk.Key)
			if err != nil {
				t.Fatalf("thumbprint: %v", err)
			}
			if got != tt.want {
				t.Errorf("thumbprint = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSameKeySameKID: the kid depends on the key only.
func TestSameKeySameKID(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewSigningKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSigningKey(priv, "ES256")
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() != b.KeyID() {
		t.Errorf("kids differ for the same key: %q, %q", a.KeyID(), b.KeyID())
	}
	other := testSigningKey(t, "ES256")
	if other.KeyID() == a.KeyID() {
		t.Errorf("two different keys share kid %q", a.KeyID())
	}
}

func TestGenerateRSASizes(t *testing.T) {
	if testing.Short() {
		t.Skip("RSA-3072 generation is slow")
	}
	k, err := GenerateRSA("PS256", 3072)
	if err != nil {
		t.Fatalf("GenerateRSA(PS256, 3072): %v", err)
	}
	if bits := k.Signer().Public().(*rsa.PublicKey).N.BitLen(); bits != 3072 {
		t.Errorf("modulus has %d bits, want 3072", bits)
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name string
		gen  func() error
		want error
	}{
		{"HS256", func() error { _, err := Generate("HS256"); return err }, ErrUnsupportedAlgorithm},
		{"none", func() error { _, err := Generate("none"); return err }, ErrUnsupportedAlgorithm},
		{"empty", func() error { _, err := Generate(""); return err }, ErrUnsupportedAlgorithm},
		{"RSA-OAEP-256 as signature", func() error { _, err := Generate("RSA-OAEP-256"); return err }, ErrUnsupportedAlgorithm},
		{"RSA 1024 (IOP-16)", func() error { _, err := GenerateRSA("RS256", 1024); return err }, ErrWeakKey},
		{"RSA 2047 (IOP-16)", func() error { _, err := GenerateRSA("RS256", 2047); return err }, ErrWeakKey},
		{"RSA 8192", func() error { _, err := GenerateRSA("RS256", 8192); return err }, ErrUnsupportedKey},
		{"GenerateRSA with ES256", func() error { _, err := GenerateRSA("ES256", 2048); return err }, ErrAlgorithmMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.gen(); !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("MarshalPKCS8PrivateKey: %v", err)
	}
	return pemOf(t, "PRIVATE KEY", der)
}

// TestParsePEMFormats: PKCS#8, PKCS#1 and SEC1 all load, alg "" infers, and extra blocks
// (EC PARAMETERS as written by openssl ecparam -genkey) are skipped.
func TestParsePEMFormats(t *testing.T) {
	rsaKey := testSigningKey(t, "RS256").Signer().(*rsa.PrivateKey)
	p256 := testSigningKey(t, "ES256").Signer().(*ecdsa.PrivateKey)
	p384 := testSigningKey(t, "ES384").Signer().(*ecdsa.PrivateKey)
	p521 := testSigningKey(t, "ES512").Signer().(*ecdsa.PrivateKey)
	ed := testSigningKey(t, "EdDSA").Signer().(ed25519.PrivateKey)
	sec1 := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pemOf(t, "EC PRIVATE KEY", der)
	}
	ecParams := pemOf(t, "EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})

	tests := []struct {
		name    string
		data    []byte
		alg     string
		wantAlg string
	}{
		{"PKCS#8 RSA", pkcs8(t, rsaKey), "", "RS256"},
		{"PKCS#8 RSA as PS256", pkcs8(t, rsaKey), "PS256", "PS256"},
		{"PKCS#1 RSA", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), "", "RS256"},
		{"PKCS#8 P-256", pkcs8(t, p256), "", "ES256"},
		{"SEC1 P-256", sec1(p256), "", "ES256"},
		{"SEC1 P-256 after EC PARAMETERS", append(ecParams, sec1(p256)...), "", "ES256"},
		{"SEC1 P-384", sec1(p384), "ES384", "ES384"},
		{"PKCS#8 P-521", pkcs8(t, p521), "", "ES512"},
		{"PKCS#8 Ed25519", pkcs8(t, ed), "", "EdDSA"},
		{"text around the block", append([]byte("key:\n"), append(pkcs8(t, ed), "\ntrailer"...)...), "", "EdDSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParsePEM(tt.data, tt.alg)
			if err != nil {
				t.Fatalf("ParsePEM: %v", err)
			}
			if k.Algorithm() != tt.wantAlg {
				t.Errorf("Algorithm() = %q, want %q", k.Algorithm(), tt.wantAlg)
			}
		})
	}
}

// TestParsePEMErrors: every rejection names its cause.
func TestParsePEMErrors(t *testing.T) {
	rsaKey := testSigningKey(t, "RS256").Signer().(*rsa.PrivateKey)
	p256 := testSigningKey(t, "ES256").Signer().(*ecdsa.PrivateKey)
	ed := testSigningKey(t, "EdDSA").Signer().(ed25519.PrivateKey)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	weak := weakRSAKey(t)

	tests := []struct {
		name string
		data []byte
		alg  string
		want error
	}{
		{"garbage", []byte("not a key"), "", ErrInvalidPEM},
		{"empty", nil, "", ErrInvalidPEM},
		{"garbage inside the block", pemOf(t, "PRIVATE KEY", []byte("garbage")), "", ErrInvalidPEM},
		{"PKCS#1 bytes labelled EC", pemOf(t, "EC PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), "", ErrInvalidPEM},
		{"unknown block type only", pemOf(t, "OPENSSH PRIVATE KEY", []byte{1, 2, 3}), "", ErrInvalidPEM},
		{"encrypted PKCS#8", pemOf(t, "ENCRYPTED PRIVATE KEY", []byte{1, 2, 3}), "", ErrInvalidPEM},
		{"legacy encrypted PEM", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00000000000000000000000000000000"}, Bytes: []byte{1}}), "", ErrInvalidPEM},
		{"two private keys", append(pkcs8(t, ed), pkcs8(t, p256)...), "", ErrInvalidPEM},
		{"public key", pemOf(t, "PUBLIC KEY", pubDER), "", ErrNotPrivateKey},
		{"PKCS#1 public key", pemOf(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), "", ErrNotPrivateKey},
		{"short RSA PKCS#8 (IOP-16)", pkcs8(t, weak), "", ErrWeakKey},
		{"short RSA PKCS#1 (IOP-16)", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(weak)), "RS256", ErrWeakKey},
		{"ES256 with RSA key", pkcs8(t, rsaKey), "ES256", ErrAlgorithmMismatch},
		{"RS256 with EC key", pkcs8(t, p256), "RS256", ErrAlgorithmMismatch},
		{"ES384 with P-256 key", pkcs8(t, p256), "ES384", ErrAlgorithmMismatch},
		{"EdDSA with P-256 key", pkcs8(t, p256), "EdDSA", ErrAlgorithmMismatch},
		{"HS256", pkcs8(t, p256), "HS256", ErrUnsupportedAlgorithm},
		{"unknown curve P-224", pkcs8(t, p224), "", ErrUnsupportedKey},
		{"X25519", pkcs8(t, x25519), "", ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParsePEM(tt.data, tt.alg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParsePEM = %v, %v; want error %v", k, err, tt.want)
			}
		})
	}
}

func jwkJSON(t *testing.T, jwk jose.JSONWebKey) []byte {
	t.Helper()
	b, err := json.Marshal(jwk)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseJWK: alg and kid come from the JWK when present, else inferred / thumbprint.
func TestParseJWK(t *testing.T) {
	base := testSigningKey(t, "ES256")
	priv := base.Signer()

	t.Run("kid and alg from the JWK", func(t *testing.T) {
		k, err := ParseJWK(jwkJSON(t, jose.JSONWebKey{Key: priv, KeyID: "test-key-1", Algorithm: "ES256", Use: "sig"}))
		if err != nil {
			t.Fatal(err)
		}
		if k.KeyID() != "test-key-1" || k.Algorithm() != "ES256" || k.Thumbprint() != base.KeyID() {
			t.Errorf("got kid %q alg %q thumbprint %q", k.KeyID(), k.Algorithm(), k.Thumbprint())
		}
		if k.Public().KeyID != "test-key-1" {
			t.Errorf("Public().KeyID = %q", k.Public().KeyID)
		}
	})
	t.Run("kid and alg inferred", func(t *testing.T) {
		k, err := ParseJWK(jwkJSON(t, jose.JSONWebKey{Key: priv}))
		if err != nil {
			t.Fatal(err)
		}
		if k.KeyID() != base.KeyID() || k.Algorithm() != "ES256" {
			t.Errorf("got kid %q alg %q, want %q ES256", k.KeyID(), k.Algorithm(), base.KeyID())
		}
	})
	t.Run("WithKeyID", func(t *testing.T) {
		named := base.WithKeyID("custom")
		if named.KeyID() != "custom" || base.KeyID() == "custom" {
			t.Errorf("WithKeyID changed the original or did not apply")
		}
		if named.WithKeyID("").KeyID() != base.Thumbprint() {
			t.Errorf("WithKeyID(\"\") does not restore the thumbprint")
		}
	})
}

func TestParseJWKErrors(t *testing.T) {
	rsaPriv := testSigningKey(t, "RS256").Signer()
	ecPriv := testSigningKey(t, "ES256").Signer()
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"garbage", []byte("{"), ErrInvalidJWK},
		{"null", []byte("null"), ErrInvalidJWK},
		{"array", []byte("[]"), ErrInvalidJWK},
		{"no kty", []byte(`{"x":"1"}`), ErrInvalidJWK},
		{"a JWK Set", []byte(`{"keys":[]}`), ErrInvalidJWK},
		{"public RSA key", jwkJSON(t, jose.JSONWebKey{Key: rsaPriv.Public()}), ErrNotPrivateKey},
		{"public EC key", jwkJSON(t, jose.JSONWebKey{Key: ecPriv.Public()}), ErrNotPrivateKey},
		{"symmetric key", []byte(`{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}`), ErrSymmetricKey},
		{"short RSA (IOP-16)", jwkJSON(t, jose.JSONWebKey{Key: weakRSAKey(t)}), ErrWeakKey},
		{"alg mismatch", jwkJSON(t, jose.JSONWebKey{Key: ecPriv, Algorithm: "RS256"}), ErrAlgorithmMismatch},
		{"HMAC alg", jwkJSON(t, jose.JSONWebKey{Key: ecPriv, Algorithm: "HS256"}), ErrUnsupportedAlgorithm},
		{"use enc", jwkJSON(t, jose.JSONWebKey{Key: ecPriv, Use: "enc"}), ErrKeyUse},
		{"unknown curve", []byte(`{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA","d":"AA"}`), ErrUnsupportedKey},
		{"X25519", []byte(`{"kty":"OKP","crv":"X25519","x":"AA","d":"AA"}`), ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseJWK(tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseJWK = %v, %v; want error %v", k, err, tt.want)
			}
		})
	}
}

// TestNewSigningKeyErrors covers in-memory keys of the wrong kind.
func TestNewSigningKeyErrors(t *testing.T) {
	ecPriv := testSigningKey(t, "ES256").Signer()
	tests := []struct {
		name string
		key  crypto.PrivateKey
		want error
	}{
		{"public key", ecPriv.Public(), ErrNotPrivateKey},
		{"symmetric", []byte("secret"), ErrSymmetricKey},
		{"nil", nil, ErrUnsupportedKey},
		{"short RSA", weakRSAKey(t), ErrWeakKey},
		{"short ed25519", ed25519.PrivateKey(make([]byte, 10)), ErrUnsupportedKey},
		{"unknown type", struct{}{}, ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewSigningKey(tt.key, ""); !errors.Is(err, tt.want) {
				t.Errorf("NewSigningKey error = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestNoPrivateMaterialInOutput: fmt, slog and errors never show private key material.
func TestNoPrivateMaterialInOutput(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		k := testSigningKey(t, alg)
		jwk, err := k.MarshalJWK()
		if err != nil {
			t.Fatal(err)
		}
		var members map[string]string
		mustUnmarshal(t, jwk, &members)
		secret := members["d"]
		if secret == "" {
			t.Fatalf("%s: private JWK has no d", alg)
		}
		var logged strings.Builder
		logger := slog.New(slog.NewJSONHandler(&logged, nil))
		logger.Info("key", "key", k, "deref", *k)
		outputs := []string{
			fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), fmt.Sprintf("%+v %#v", *k, *k), logged.String(),
		}
		for _, out := range outputs {
			if !strings.Contains(out, k.KeyID()) {
				t.Errorf("%s: output does not name the kid: %s", alg, out)
			}
			for _, m := range []string{"d", "p", "q"} {
				if v := members[m]; v != "" && strings.Contains(out, v[:16]) {
					t.Errorf("%s: output leaks %s: %s", alg, m, out)
				}
			}
		}
		// A broken private JWK: the error must not echo the value.
		members["p"] = members["d"]
		broken, _ := json.Marshal(members)
		if _, err := ParseJWK(broken); err != nil && strings.Contains(err.Error(), secret[:16]) {
			t.Errorf("%s: ParseJWK error leaks d: %v", alg, err)
		}
	}
}
