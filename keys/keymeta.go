package keys

import (
	"crypto"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/go-jose/go-jose/v4"
)

// keyMeta is what a SigningKey and a DecryptionKey hold besides their private key: the
// kid, the RFC 7638 thumbprint of the public key (the default kid), the algorithm and
// the public key.
type keyMeta struct {
	kid        string
	thumbprint string
	alg        string
	public     crypto.PublicKey
}

// newKeyMeta resolves alg for pub with resolve (which infers an empty alg and refuses
// one that does not fit the key) and takes the thumbprint as the kid.
func newKeyMeta(pub crypto.PublicKey, alg string, resolve func(alg string, pub crypto.PublicKey) (string, error)) (keyMeta, error) {
	alg, err := resolve(alg, pub)
	if err != nil {
		return keyMeta{}, err
	}
	tp, err := thumbprint(pub)
	if err != nil {
		return keyMeta{}, err
	}
	return keyMeta{kid: tp, thumbprint: tp, alg: alg, public: pub}, nil
}

// setKeyID sets the kid; an empty kid restores the thumbprint.
func (m *keyMeta) setKeyID(kid string) {
	m.kid = kid
	if kid == "" {
		m.kid = m.thumbprint
	}
}

// jwk returns key, the public or the private key, as a JWK with the kid, the algorithm
// and use.
func (m *keyMeta) jwk(key any, use string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: key, KeyID: m.kid, Algorithm: m.alg, Use: use}
}

// marshalJWK encodes jwk, a private JWK of the key.
func (m *keyMeta) marshalJWK(jwk jose.JSONWebKey) ([]byte, error) {
	b, err := json.Marshal(jwk)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding a %s as JWK: %v", ErrUnsupportedKey, describeKey(m.public), err)
	}
	return b, nil
}

// describe is the String of a key of type typeName: its kid and algorithm, never key
// material.
func (m *keyMeta) describe(typeName string) string {
	return fmt.Sprintf("keys.%s{kid: %q, alg: %s}", typeName, m.kid, m.alg)
}

// logValue is the LogValue of a key: its kid and algorithm only.
func (m *keyMeta) logValue() slog.Value {
	return slog.GroupValue(slog.String("kid", m.kid), slog.String("alg", m.alg))
}

// loadPEM loads a private key from PEM with newKey (NewSigningKey or NewDecryptionKey).
func loadPEM[K any](data []byte, alg string, newKey func(crypto.PrivateKey, string) (K, error)) (K, error) {
	priv, err := parsePrivatePEM(data)
	if err != nil {
		var none K
		return none, err
	}
	return newKey(priv, alg)
}

// loadJWK loads a private key from a JWK whose "use" is use (or absent) with newKey: the
// algorithm is the JWK's "alg" or inferred, the kid the JWK's "kid" or the thumbprint.
func loadJWK[K interface{ WithKeyID(string) K }](data []byte, use string, newKey func(crypto.PrivateKey, string) (K, error)) (K, error) {
	var none K
	jwk, err := parsePrivateJWK(data, use)
	if err != nil {
		return none, err
	}
	k, err := newKey(jwk.Key, jwk.Algorithm)
	if err != nil {
		return none, err
	}
	return k.WithKeyID(jwk.KeyID), nil
}
