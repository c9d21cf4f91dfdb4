package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"
)

// StaticKeySet is a fixed set of public verification keys, e.g. a transmitter's JWK Set
// from configuration. It is immutable and safe for concurrent use.
//
// It holds public asymmetric keys only. A symmetric ("oct") key (SEC-2) or a key with
// private members makes the whole set invalid: a JWK Set meant for publication that
// carries a private or secret key has leaked it, and silently dropping the key would hide
// that. Keys that merely cannot verify (see [SkippedKey]) are ignored, as RFC 7517 §5
// asks, and reported by [StaticKeySet.Skipped]. Duplicate kids are kept (RFC 7517 §4.5
// allows them, e.g. one kid for equivalent keys of different types): Keys returns every
// key with the kid, in document order, and the verifier tries each.
type StaticKeySet struct {
	index *keyIndex
}

var _ KeySet = (*StaticKeySet)(nil)

// NewStaticKeySet builds a key set from go-jose keys, applying the rules of
// [StaticKeySet]. The keys are copied; the key material is shared.
func NewStaticKeySet(set jose.JSONWebKeySet) (*StaticKeySet, error) {
	var keep []jose.JSONWebKey
	var skipped []SkippedKey
	for i := range set.Keys {
		jwk := set.Keys[i]
		if err := refuseJWK(&jwk); err != nil {
			return nil, fmt.Errorf("%w: key %d (kid %q): %w", ErrInvalidJWKS, i, shortKID(jwk.KeyID), err)
		}
		if err := checkVerificationJWK(&jwk); err != nil {
			skipped = append(skipped, SkippedKey{Index: i, KeyID: jwk.KeyID, Err: err})
			continue
		}
		keep = append(keep, jwk)
	}
	return &StaticKeySet{index: newKeyIndex(keep, skipped)}, nil
}

// ParseJWKS decodes a JWK Set (RFC 7517 §5), applying the rules of [StaticKeySet]. The
// data must be a JSON object with a "keys" array; other top-level members are ignored.
func ParseJWKS(data []byte) (*StaticKeySet, error) {
	keys, skipped, err := parseJWKSet(data)
	if err != nil {
		return nil, err
	}
	return &StaticKeySet{index: newKeyIndex(keys, skipped)}, nil
}

// Keys returns the keys whose kid is kid, or every key when kid is empty. It returns an
// error wrapping [ErrUnknownKeyID] when there is none; when a key with that kid was
// published but ignored, the error also wraps the reason (e.g. [ErrWeakKey]).
//
// The returned slice is shared and must not be modified; it does not allocate.
func (s *StaticKeySet) Keys(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	if ks, ok := s.index.lookup(kid); ok {
		return ks, nil
	}
	return nil, s.index.missError(kid)
}

// JWKS returns the usable keys as a JWK Set (a fresh copy).
func (s *StaticKeySet) JWKS() jose.JSONWebKeySet { return s.index.jwks() }

// Skipped returns the keys that were ignored and why (a fresh copy).
func (s *StaticKeySet) Skipped() []SkippedKey { return slices.Clone(s.index.skipped) }

// privateJWKMembers are the JWK members that carry private or secret key material
// (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2; "priv" of ML-DSA AKP keys).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// parseJWKSet decodes a JWK Set into usable verification keys and skipped keys.
func parseJWKSet(data []byte) ([]jose.JSONWebKey, []SkippedKey, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidJWKS, err)
	}
	rawKeys, ok := doc["keys"]
	if !ok {
		if _, single := doc["kty"]; single {
			return nil, nil, fmt.Errorf("%w: this is a single JWK; a JWK Set is {\"keys\":[...]}", ErrInvalidJWKS)
		}
		return nil, nil, fmt.Errorf("%w: missing member \"keys\"", ErrInvalidJWKS)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(rawKeys, &items); err != nil || items == nil {
		return nil, nil, fmt.Errorf("%w: member \"keys\" is not an array", ErrInvalidJWKS)
	}
	var keys []jose.JSONWebKey
	var skipped []SkippedKey
	for i, item := range items {
		jwk, kid, skip, err := parseVerificationJWK(item)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: key %d (kid %q): %w", ErrInvalidJWKS, i, shortKID(kid), err)
		}
		if skip != nil {
			skipped = append(skipped, SkippedKey{Index: i, KeyID: kid, Err: skip})
			continue
		}
		keys = append(keys, jwk)
	}
	return keys, skipped, nil
}

// parseVerificationJWK decodes one member of a JWK Set's "keys" array. err is set when the
// key invalidates the whole set; skip when the key is merely not usable for verification.
func parseVerificationJWK(data []byte) (jwk jose.JSONWebKey, kid string, skip, err error) {
	members, merr := jwkMembers(data)
	if merr != nil {
		return jwk, "", fmt.Errorf("%w: %v", ErrInvalidJWK, merr), nil
	}
	kid, kerr := stringMember(members, "kid")
	if kerr != nil {
		return jwk, "", fmt.Errorf("%w: %v", ErrInvalidJWK, kerr), nil
	}
	kty, terr := stringMember(members, "kty")
	if terr != nil {
		return jwk, kid, fmt.Errorf("%w: %v", ErrInvalidJWK, terr), nil
	}
	if kty == "oct" {
		return jwk, kid, nil, fmt.Errorf("%w: published keys must be asymmetric; HMAC with a published key lets anyone forge SETs (SEC-2)", ErrSymmetricKey)
	}
	var private []string
	for _, m := range privateJWKMembers {
		if _, ok := members[m]; ok {
			private = append(private, m)
		}
	}
	if len(private) > 0 {
		return jwk, kid, nil, fmt.Errorf("%w: %s key with private members %q (the set leaks its private key; publish public keys only)", ErrPrivateKeyMaterial, kty, private)
	}
	if err := jwk.UnmarshalJSON(data); err != nil {
		if errors.Is(err, jose.ErrUnsupportedKeyType) {
			crv, _ := stringMember(members, "crv")
			return jwk, kid, fmt.Errorf("%w: kty %q crv %q: %v", ErrUnsupportedKey, kty, crv, err), nil
		}
		return jwk, kid, fmt.Errorf("%w: %v", ErrInvalidJWK, err), nil
	}
	if err := refuseJWK(&jwk); err != nil {
		return jwk, kid, nil, err
	}
	if err := checkVerificationJWK(&jwk); err != nil {
		return jwk, kid, err, nil
	}
	if raw, ok := members["key_ops"]; ok {
		var ops []string
		if json.Unmarshal(raw, &ops) != nil {
			return jwk, kid, fmt.Errorf("%w: member \"key_ops\" is not an array of strings", ErrInvalidJWK), nil
		}
		if !slices.Contains(ops, "verify") {
			return jwk, kid, fmt.Errorf("%w: key_ops %q lacks \"verify\"", ErrKeyUse, ops), nil
		}
	}
	return jwk, kid, nil, nil
}
