package keys

import (
	"context"
	"errors"

	"github.com/go-jose/go-jose/v4"
)

// KeySet resolves the public keys that verify a transmitter's signatures (SSF §4.1.4:
// the keys published at the transmitter's jwks_uri).
//
// Keys returns the keys whose "kid" equals kid; when kid is empty it returns every key in
// the set. It returns an error wrapping ErrUnknownKeyID when no key has that kid, or when
// kid is empty and the set holds no usable key (a remote set may refresh once before
// giving up). The returned keys are public asymmetric keys only (never symmetric keys,
// SEC-2), and more than one key may carry the same kid (RFC 7517 §4.5): a verifier tries
// each, and checks that the JWS "alg" fits the key. The returned slice may be shared with
// the set: callers must not modify it or its keys.
//
// Implementations in this package: [StaticKeySet], [RemoteKeySet], [SigningKeys]; all are
// safe for concurrent use.
type KeySet interface {
	Keys(ctx context.Context, kid string) ([]jose.JSONWebKey, error)
}

// ErrUnknownKeyID is wrapped by KeySet implementations when no key carries the requested
// "kid" (TV-GEN-6). Verifiers map it to the RFC 8935 error code invalid_key.
var ErrUnknownKeyID = errors.New("keys: no key with that kid")
