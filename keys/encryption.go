package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"log/slog"

	"github.com/go-jose/go-jose/v4"
)

// DecryptionKey is a receiver's private key for SETs encrypted with JWE (RFC 8417 §5.1,
// SEC-3), with its "kid" and JWE key management algorithm: "RSA-OAEP-256" (RSA) or
// "ECDH-ES" (EC P-256, P-384 or P-521). The transmitter encrypts to [DecryptionKey.Public].
//
// A DecryptionKey is immutable and safe for concurrent use; fmt and log/slog show its kid
// and algorithm only.
type DecryptionKey struct {
	keyMeta
	private crypto.PrivateKey
}

// GenerateEncryptionKey creates a new decryption key for alg: "RSA-OAEP-256" (RSA, 2048
// bits; see [GenerateEncryptionKeyRSA] for larger keys) or "ECDH-ES" (P-256). Its kid is
// its RFC 7638 thumbprint.
func GenerateEncryptionKey(alg string) (*DecryptionKey, error) {
	switch alg {
	case algRSAOAEP256:
		return GenerateEncryptionKeyRSA(MinRSABits)
	case algECDHES:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("keys: generating a P-256 key: %w", err)
		}
		return NewDecryptionKey(priv, alg)
	}
	return nil, fmt.Errorf("%w: %q (supported key management algorithms: RSA-OAEP-256, ECDH-ES)", ErrUnsupportedAlgorithm, alg)
}

// GenerateEncryptionKeyRSA creates a new RSA-OAEP-256 decryption key of bits bits
// (MinRSABits to MaxRSABits).
func GenerateEncryptionKeyRSA(bits int) (*DecryptionKey, error) {
	if err := checkRSASize(bits, true); err != nil {
		return nil, err
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("keys: generating a %d-bit RSA key: %w", bits, err)
	}
	return NewDecryptionKey(priv, algRSAOAEP256)
}

// NewDecryptionKey wraps an in-memory private key: *rsa.PrivateKey or *ecdsa.PrivateKey.
// An empty alg is inferred (RSA → RSA-OAEP-256, EC → ECDH-ES); an explicit alg must fit
// the key type. The kid is the key's RFC 7638 thumbprint.
func NewDecryptionKey(priv crypto.PrivateKey, alg string) (*DecryptionKey, error) {
	if _, ok := priv.(ed25519.PrivateKey); ok {
		return nil, fmt.Errorf("%w: Ed25519 keys only sign; JWE needs an RSA or EC key", ErrUnsupportedKey)
	}
	_, pub, err := checkPrivateKey(priv)
	if err != nil {
		return nil, err
	}
	meta, err := newKeyMeta(pub, alg, resolveEncryptionAlg)
	if err != nil {
		return nil, err
	}
	return &DecryptionKey{keyMeta: meta, private: priv}, nil
}

// ParseDecryptionKeyPEM loads a decryption key from PEM (PKCS#8, PKCS#1 RSA or SEC1 EC).
// alg "" infers the algorithm (RSA → RSA-OAEP-256, EC → ECDH-ES); an explicit alg must fit
// the key type. The kid is the RFC 7638 thumbprint.
func ParseDecryptionKeyPEM(data []byte, alg string) (*DecryptionKey, error) {
	return loadPEM(data, alg, NewDecryptionKey)
}

// ParseDecryptionKeyJWK loads a decryption key from a private JWK. The algorithm is the
// JWK's "alg" or inferred; the kid is the JWK's "kid" or the RFC 7638 thumbprint. A JWK
// whose "use" is not "enc" is refused.
func ParseDecryptionKeyJWK(data []byte) (*DecryptionKey, error) {
	return loadJWK(data, useEnc, NewDecryptionKey)
}

// KeyID returns the key's "kid".
func (k *DecryptionKey) KeyID() string { return k.kid }

// Thumbprint returns the RFC 7638 thumbprint of the public key, the default kid.
func (k *DecryptionKey) Thumbprint() string { return k.thumbprint }

// Algorithm returns the JWE key management algorithm, "RSA-OAEP-256" or "ECDH-ES".
func (k *DecryptionKey) Algorithm() string { return k.alg }

// Public returns the public key as a JWK with kid, alg and use "enc": what a transmitter
// encrypts to. It holds no private member.
func (k *DecryptionKey) Public() jose.JSONWebKey { return k.jwk(k.public, useEnc) }

// PrivateJWK returns the private key as a JWK (kid, alg, use "enc") for go-jose
// decryption. It contains private key material: never publish it.
func (k *DecryptionKey) PrivateJWK() jose.JSONWebKey { return k.jwk(k.private, useEnc) }

// WithKeyID returns a copy of k with another kid; an empty kid restores the thumbprint.
func (k *DecryptionKey) WithKeyID(kid string) *DecryptionKey {
	c := *k
	c.setKeyID(kid)
	return &c
}

// MarshalPEM encodes the private key as PKCS#8 PEM. PEM carries neither kid nor alg.
func (k *DecryptionKey) MarshalPEM() ([]byte, error) {
	return marshalPrivatePEM(k.private)
}

// MarshalJWK encodes the private key as a JWK with kid, alg and use "enc". The result
// contains private key material: store it as a secret.
func (k *DecryptionKey) MarshalJWK() ([]byte, error) { return k.marshalJWK(k.PrivateJWK()) }

// String describes the key by kid and algorithm; it never shows key material.
func (k DecryptionKey) String() string { return k.describe("DecryptionKey") }

// GoString is like String, so that %#v shows no key material either.
func (k DecryptionKey) GoString() string { return k.String() }

// LogValue makes log/slog record the kid and algorithm only.
func (k DecryptionKey) LogValue() slog.Value { return k.logValue() }
