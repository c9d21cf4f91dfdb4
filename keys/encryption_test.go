package keys

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// TestDecryptionKeyRoundTrips: generate → PEM/JWK → parse keeps kid and alg, and a JWE
// encrypted to Public() (A256GCM, as the set package does) decrypts with the parsed key.
func TestDecryptionKeyRoundTrips(t *testing.T) {
	for _, alg := range []string{"RSA-OAEP-256", "ECDH-ES"} {
		t.Run(alg, func(t *testing.T) {
			k := testDecryptionKey(t, alg)
			if k.Algorithm() != alg || k.KeyID() != k.Thumbprint() {
				t.Errorf("alg %q kid %q thumbprint %q", k.Algorithm(), k.KeyID(), k.Thumbprint())
			}
			pub := k.Public()
			if !pub.IsPublic() || pub.Use != "enc" || pub.Algorithm != alg {
				t.Errorf("Public() = use %q alg %q public %v", pub.Use, pub.Algorithm, pub.IsPublic())
			}
			doc, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
			if err != nil {
				t.Fatal(err)
			}
			assertNoPrivateMembers(t, doc)

			pemData, err := k.MarshalPEM()
			if err != nil {
				t.Fatal(err)
			}
			fromPEM, err := ParseDecryptionKeyPEM(pemData, "")
			if err != nil {
				t.Fatalf("ParseDecryptionKeyPEM: %v", err)
			}
			jwkData, err := k.WithKeyID("receiver-enc-1").MarshalJWK()
			if err != nil {
				t.Fatal(err)
			}
			fromJWK, err := ParseDecryptionKeyJWK(jwkData)
			if err != nil {
				t.Fatalf("ParseDecryptionKeyJWK: %v", err)
			}
			if fromPEM.KeyID() != k.KeyID() || fromPEM.Algorithm() != alg {
				t.Errorf("PEM round trip: kid %q alg %q", fromPEM.KeyID(), fromPEM.Algorithm())
			}
			if fromJWK.KeyID() != "receiver-enc-1" || fromJWK.Algorithm() != alg {
				t.Errorf("JWK round trip: kid %q alg %q", fromJWK.KeyID(), fromJWK.Algorithm())
			}

			enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.KeyAlgorithm(alg), Key: pub}, nil)
			if err != nil {
				t.Fatalf("NewEncrypter: %v", err)
			}
			jwe, err := enc.Encrypt([]byte("signed SET"))
			if err != nil {
				t.Fatal(err)
			}
			compact, err := jwe.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			for name, dk := range map[string]*DecryptionKey{"PEM": fromPEM, "JWK": fromJWK} {
				parsed, err := jose.ParseEncryptedCompact(compact, []jose.KeyAlgorithm{jose.KeyAlgorithm(alg)}, []jose.ContentEncryption{jose.A256GCM})
				if err != nil {
					t.Fatal(err)
				}
				plain, err := parsed.Decrypt(dk.PrivateJWK())
				if err != nil || string(plain) != "signed SET" {
					t.Errorf("%s key: Decrypt = %q, %v", name, plain, err)
				}
			}
			var logged strings.Builder
			slog.New(slog.NewTextHandler(&logged, nil)).Info("key", "key", k)
			for _, s := range []string{k.String(), fmt.Sprintf("%v %+v %#v", k, *k, k), logged.String()} {
				if !strings.Contains(s, k.KeyID()) || strings.Contains(s, "PRIVATE") || strings.Contains(s, "{0x") {
					t.Errorf("output shows more than kid and alg: %q", s)
				}
			}
		})
	}
}

func TestDecryptionKeyErrors(t *testing.T) {
	rsaKey := testSigningKey(t, "RS256").Signer()
	ecKey := testSigningKey(t, "ES256").Signer()
	edKey := testSigningKey(t, "EdDSA").Signer()
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"generate A256KW", func() error { _, err := GenerateEncryptionKey("A256KW"); return err }, ErrUnsupportedAlgorithm},
		{"generate RS256", func() error { _, err := GenerateEncryptionKey("RS256"); return err }, ErrUnsupportedAlgorithm},
		{"generate short RSA", func() error { _, err := GenerateEncryptionKeyRSA(1024); return err }, ErrWeakKey},
		{"Ed25519 key", func() error { _, err := NewDecryptionKey(edKey, ""); return err }, ErrUnsupportedKey},
		{"Ed25519 PEM", func() error { _, err := ParseDecryptionKeyPEM(pkcs8(t, edKey.(ed25519.PrivateKey)), ""); return err }, ErrUnsupportedKey},
		{"ECDH-ES with RSA key", func() error { _, err := NewDecryptionKey(rsaKey, "ECDH-ES"); return err }, ErrAlgorithmMismatch},
		{"RSA-OAEP-256 with EC key", func() error { _, err := NewDecryptionKey(ecKey, "RSA-OAEP-256"); return err }, ErrAlgorithmMismatch},
		{"short RSA", func() error { _, err := NewDecryptionKey(weakRSAKey(t), ""); return err }, ErrWeakKey},
		{"public key", func() error { _, err := NewDecryptionKey(ecKey.Public(), ""); return err }, ErrNotPrivateKey},
		{"JWK with use sig", func() error {
			_, err := ParseDecryptionKeyJWK(jwkJSON(t, jose.JSONWebKey{Key: ecKey, Use: "sig"}))
			return err
		}, ErrKeyUse},
		{"public JWK", func() error {
			_, err := ParseDecryptionKeyJWK(jwkJSON(t, jose.JSONWebKey{Key: ecKey.Public()}))
			return err
		}, ErrNotPrivateKey},
		{"garbage PEM", func() error { _, err := ParseDecryptionKeyPEM([]byte("x"), ""); return err }, ErrInvalidPEM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
}
