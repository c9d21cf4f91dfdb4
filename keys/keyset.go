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
// the set. It returns an error wrapping ErrUnknownKeyID when no key has that kid (a remote
// set may refresh once before giving up). The returned keys are public keys only.
type KeySet interface {
	Keys(ctx context.Context, kid string) ([]jose.JSONWebKey, error)
}

// ErrUnknownKeyID is wrapped by KeySet implementations when no key carries the requested
// "kid". Verifiers map it to the RFC 8935 error code invalid_key.
var ErrUnknownKeyID = errors.New("keys: no key with that kid")
