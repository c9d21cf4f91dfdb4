package keys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// SkippedKey is a key of a JWK Set that was ignored because it cannot verify SETs: an
// unknown "kty", an unsupported curve, missing or malformed members (RFC 7517 §5 says to
// ignore such keys), an RSA key under 2048 bits (IOP-16), a "use" other than "sig",
// "key_ops" without "verify", or an "alg" that does not fit the key type.
type SkippedKey struct {
	// Index is the key's position in the "keys" array.
	Index int
	// KeyID is the key's "kid", "" when it has none (or it could not be read).
	KeyID string
	// Err says why the key was ignored; it wraps one of this package's errors.
	Err error
}

// keyIndex is an immutable set of public verification keys, indexed by kid. Lookups do
// not allocate.
type keyIndex struct {
	all     []jose.JSONWebKey
	byKid   map[string][]jose.JSONWebKey
	skipped []SkippedKey
	// skippedByKid keeps the first reason a published kid was ignored, to explain a miss.
	skippedByKid map[string]error
}

func newKeyIndex(keys []jose.JSONWebKey, skipped []SkippedKey) *keyIndex {
	ix := &keyIndex{
		all:     slices.Clip(slices.Clone(keys)),
		byKid:   make(map[string][]jose.JSONWebKey, len(keys)),
		skipped: slices.Clip(skipped),
	}
	for _, k := range ix.all {
		if k.KeyID != "" {
			ix.byKid[k.KeyID] = append(ix.byKid[k.KeyID], k)
		}
	}
	for kid, ks := range ix.byKid {
		ix.byKid[kid] = slices.Clip(ks)
	}
	for _, s := range skipped {
		if s.KeyID == "" {
			continue
		}
		if ix.skippedByKid == nil {
			ix.skippedByKid = make(map[string]error)
		}
		if _, ok := ix.skippedByKid[s.KeyID]; !ok {
			ix.skippedByKid[s.KeyID] = s.Err
		}
	}
	return ix
}

// lookup returns the keys carrying kid, or every key when kid is empty. The slice is
// shared: its capacity equals its length, so appending copies, and callers must not
// modify its elements.
func (ix *keyIndex) lookup(kid string) ([]jose.JSONWebKey, bool) {
	if kid == "" {
		return ix.all, len(ix.all) > 0
	}
	ks, ok := ix.byKid[kid]
	return ks, ok
}

// missError explains why lookup(kid) found nothing; it wraps ErrUnknownKeyID.
func (ix *keyIndex) missError(kid string) error {
	if kid == "" {
		return fmt.Errorf("%w: the key set holds no usable key", ErrUnknownKeyID)
	}
	if reason, ok := ix.skippedByKid[kid]; ok {
		return fmt.Errorf("%w: %q (a key with this kid is published but was ignored: %w)", ErrUnknownKeyID, shortKID(kid), reason)
	}
	return fmt.Errorf("%w: %q", ErrUnknownKeyID, shortKID(kid))
}

// jwks returns a fresh JWK Set of the keys (callers may modify it). An empty set has an
// empty, non-nil slice so that it encodes as {"keys":[]}.
func (ix *keyIndex) jwks() jose.JSONWebKeySet {
	keys := make([]jose.JSONWebKey, len(ix.all))
	copy(keys, ix.all)
	return jose.JSONWebKeySet{Keys: keys}
}

// refuseJWK reports keys that make a whole verification JWK Set invalid: symmetric keys
// (SEC-2) and private keys (a leak).
func refuseJWK(jwk *jose.JSONWebKey) error {
	switch jwk.Key.(type) {
	case []byte:
		return fmt.Errorf("%w: published keys must be asymmetric; HMAC with a published key lets anyone forge SETs (SEC-2)", ErrSymmetricKey)
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return fmt.Errorf("%w: a %s (the set leaks its private key; publish public keys only)", ErrPrivateKeyMaterial, describeKey(jwk.Key))
	}
	return nil
}

// checkVerificationJWK reports why a public JWK cannot verify SETs, or nil.
func checkVerificationJWK(jwk *jose.JSONWebKey) error {
	if err := checkPublicKey(jwk.Key, false); err != nil {
		return err
	}
	if jwk.Use != "" && jwk.Use != useSig {
		return fmt.Errorf("%w: use %q, want %q", ErrKeyUse, jwk.Use, useSig)
	}
	if alg := jwk.Algorithm; alg != "" {
		if slices.Contains(keyEncryptionAlgs, alg) {
			return fmt.Errorf("%w: alg %q is a key encryption algorithm", ErrKeyUse, alg)
		}
		if fits := signatureAlgs(jwk.Key, true); !slices.Contains(fits, alg) {
			return fmt.Errorf("%w: %s needs %s, not %q", ErrAlgorithmMismatch, describeType(jwk.Key), strings.Join(fits, " or "), alg)
		}
	}
	return nil
}
