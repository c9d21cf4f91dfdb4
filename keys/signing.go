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
	"slices"

	"github.com/go-jose/go-jose/v4"
)

// SigningKey is a private key that signs SETs, with its "kid" and JWS algorithm.
//
// A SigningKey is immutable and safe for concurrent use. It never prints or logs its
// private key: fmt and log/slog show the kid and the algorithm only. The public half goes
// into a JWK Set through [SigningKey.Public] or [SigningKeys]; the private half leaves
// only through [SigningKey.Signer], [SigningKey.PrivateJWK], [SigningKey.JOSESigningKey],
// [SigningKey.MarshalPEM] and [SigningKey.MarshalJWK].
type SigningKey struct {
	keyMeta
	signer crypto.Signer
}

// Generate creates a new signing key for alg: RS256, RS384, RS512, PS256, PS384, PS512
// (RSA, 2048 bits; use [GenerateRSA] for larger keys), ES256 (P-256), ES384 (P-384),
// ES512 (P-521) or EdDSA (Ed25519). Its kid is its RFC 7638 thumbprint. CAEP-IOP §2.6
// (IOP-16) requires RS256.
func Generate(alg string) (*SigningKey, error) {
	var priv crypto.PrivateKey
	var err error
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return GenerateRSA(alg, MinRSABits)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, unsupportedSignatureAlg(alg)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: generating a %s key: %w", alg, err)
	}
	return NewSigningKey(priv, alg)
}

// GenerateRSA creates a new RSA signing key of bits bits (MinRSABits to MaxRSABits) for
// alg: RS256, RS384, RS512, PS256, PS384 or PS512.
func GenerateRSA(alg string, bits int) (*SigningKey, error) {
	if !slices.Contains(rsaSignatureAlgs, alg) {
		if isSignatureAlg(alg) {
			return nil, fmt.Errorf("%w: %s is not an RSA algorithm", ErrAlgorithmMismatch, alg)
		}
		return nil, unsupportedSignatureAlg(alg)
	}
	if err := checkRSASize(bits, true); err != nil {
		return nil, err
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("keys: generating a %d-bit RSA key: %w", bits, err)
	}
	return NewSigningKey(priv, alg)
}

// NewSigningKey wraps an in-memory private key: *rsa.PrivateKey, *ecdsa.PrivateKey or
// ed25519.PrivateKey. An empty alg is inferred from the key (RSA → RS256, P-256 → ES256,
// P-384 → ES384, P-521 → ES512, Ed25519 → EdDSA); an explicit alg must fit the key type.
// The kid is the key's RFC 7638 thumbprint; see [SigningKey.WithKeyID] to set another.
func NewSigningKey(priv crypto.PrivateKey, alg string) (*SigningKey, error) {
	signer, pub, err := checkPrivateKey(priv)
	if err != nil {
		return nil, err
	}
	meta, err := newKeyMeta(pub, alg, resolveSignatureAlg)
	if err != nil {
		return nil, err
	}
	return &SigningKey{keyMeta: meta, signer: signer}, nil
}

// ParsePEM loads a signing key from PEM: PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE
// KEY") or SEC1 ("EC PRIVATE KEY"). Other blocks such as "EC PARAMETERS" are skipped.
// alg "" infers the algorithm (RSA → RS256, P-256 → ES256, P-384 → ES384, P-521 → ES512,
// Ed25519 → EdDSA); an explicit alg must fit the key type. The kid is the RFC 7638
// thumbprint (PEM carries no kid).
func ParsePEM(data []byte, alg string) (*SigningKey, error) {
	return loadPEM(data, alg, NewSigningKey)
}

// ParseJWK loads a signing key from a private JWK (RFC 7517 §4). The algorithm is the
// JWK's "alg" or, when absent, inferred from the key type; the kid is the JWK's "kid" or,
// when absent, the RFC 7638 thumbprint. A JWK whose "use" is not "sig" is refused.
func ParseJWK(data []byte) (*SigningKey, error) {
	return loadJWK(data, useSig, NewSigningKey)
}

// KeyID returns the key's "kid".
func (k *SigningKey) KeyID() string { return k.kid }

// Thumbprint returns the RFC 7638 JWK thumbprint of the public key (SHA-256,
// base64url), which is also the default kid.
func (k *SigningKey) Thumbprint() string { return k.thumbprint }

// Algorithm returns the JWS "alg" this key signs with, e.g. "RS256".
func (k *SigningKey) Algorithm() string { return k.alg }

// Signer returns the private key as a crypto.Signer.
func (k *SigningKey) Signer() crypto.Signer { return k.signer }

// Public returns the public key as a JWK with kid, alg and use "sig": the entry for the
// transmitter's JWK Set. It holds no private member.
func (k *SigningKey) Public() jose.JSONWebKey { return k.jwk(k.public, useSig) }

// PrivateJWK returns the private key as a JWK (with kid, alg and use "sig") for go-jose
// signing. It contains private key material: never publish it; publish
// [SigningKey.Public] instead.
func (k *SigningKey) PrivateJWK() jose.JSONWebKey { return k.jwk(k.signer, useSig) }

// JOSESigningKey returns the key as a go-jose signing key; signatures made with it carry
// the key's kid in their protected header.
func (k *SigningKey) JOSESigningKey() jose.SigningKey {
	return jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.alg), Key: k.PrivateJWK()}
}

// WithKeyID returns a copy of k with another kid, e.g. a kid a peer expects. An empty kid
// restores the default, the RFC 7638 thumbprint.
func (k *SigningKey) WithKeyID(kid string) *SigningKey {
	c := *k
	c.setKeyID(kid)
	return &c
}

// MarshalPEM encodes the private key as PKCS#8 PEM ("PRIVATE KEY"). PEM carries neither
// kid nor alg: a key whose kid is not its thumbprint needs [SigningKey.MarshalJWK] to keep
// it.
func (k *SigningKey) MarshalPEM() ([]byte, error) {
	return marshalPrivatePEM(k.signer)
}

// MarshalJWK encodes the private key as a JWK with kid, alg and use "sig". The result
// contains private key material: store it as a secret.
func (k *SigningKey) MarshalJWK() ([]byte, error) { return k.marshalJWK(k.PrivateJWK()) }

// String describes the key by kid and algorithm; it never shows key material.
func (k SigningKey) String() string { return k.describe("SigningKey") }

// GoString is like String, so that %#v shows no key material either.
func (k SigningKey) GoString() string { return k.String() }

// LogValue makes log/slog record the kid and algorithm only.
func (k SigningKey) LogValue() slog.Value { return k.logValue() }
