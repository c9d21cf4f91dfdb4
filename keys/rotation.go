package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"
)

// SigningKeys is a transmitter's signing keys: the active key, which signs new SETs, and
// retired keys, which no longer sign but stay published so that receivers can still
// verify SETs signed before a rotation (SSF §4.1.4; IOP-4: jwks_uri serves the current
// signing key).
//
// SigningKeys is safe for concurrent use; reads (Active, Keys, JWKS, MarshalJWKS) take no
// lock. It implements [KeySet] over the public keys, so a transmitter can verify its own
// SETs in process.
type SigningKeys struct {
	mu    sync.Mutex // serialises writers
	state atomic.Pointer[signingState]
}

var _ KeySet = (*SigningKeys)(nil)

// signingState is one immutable generation of a SigningKeys.
type signingState struct {
	active  *SigningKey
	retired []*SigningKey // most recently retired first
	index   *keyIndex     // public keys, active first
	json    []byte        // the JWK Set document
}

// NewSigningKeys returns a key set whose active key is active and whose retired (still
// published) keys are retired, in the order given. Every kid must be distinct.
func NewSigningKeys(active *SigningKey, retired ...*SigningKey) (*SigningKeys, error) {
	st, err := newSigningState(active, retired)
	if err != nil {
		return nil, err
	}
	s := &SigningKeys{}
	s.state.Store(st)
	return s, nil
}

func newSigningState(active *SigningKey, retired []*SigningKey) (*signingState, error) {
	if active == nil {
		return nil, errors.New("keys: SigningKeys needs an active key, got nil")
	}
	all := append([]*SigningKey{active}, retired...)
	seen := make(map[string]bool, len(all))
	pub := make([]jose.JSONWebKey, 0, len(all))
	for i, k := range all {
		if k == nil {
			return nil, fmt.Errorf("keys: SigningKeys: retired key %d is nil", i-1)
		}
		if seen[k.kid] {
			return nil, fmt.Errorf("%w: %q is used by more than one signing key", ErrDuplicateKeyID, shortKID(k.kid))
		}
		seen[k.kid] = true
		pub = append(pub, k.Public())
	}
	doc, err := json.Marshal(jose.JSONWebKeySet{Keys: pub})
	if err != nil {
		return nil, fmt.Errorf("keys: encoding the JWK Set: %w", err)
	}
	return &signingState{
		active:  active,
		retired: slices.Clip(slices.Clone(retired)),
		index:   newKeyIndex(pub, nil),
		json:    doc,
	}, nil
}

// Active returns the key that signs new SETs.
func (s *SigningKeys) Active() *SigningKey { return s.state.Load().active }

// Retired returns the retired keys still published, most recently retired first.
func (s *SigningKeys) Retired() []*SigningKey { return slices.Clone(s.state.Load().retired) }

// Rotate makes next the active key. The previous active key becomes the most recently
// retired key and stays published until [SigningKeys.Remove] removes it. next's kid must
// not be published already.
func (s *SigningKeys) Rotate(next *SigningKey) error {
	if next == nil {
		return errors.New("keys: Rotate: next key is nil")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.state.Load()
	retired := append([]*SigningKey{cur.active}, cur.retired...)
	st, err := newSigningState(next, retired)
	if err != nil {
		return fmt.Errorf("keys: Rotate: %w", err)
	}
	s.state.Store(st)
	return nil
}

// Remove stops publishing the retired key with kid. Removing the active key fails with
// [ErrActiveKey]; an unknown kid fails with [ErrUnknownKeyID].
func (s *SigningKeys) Remove(kid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.state.Load()
	if cur.active.kid == kid {
		return fmt.Errorf("%w: %q; rotate to a new key first", ErrActiveKey, shortKID(kid))
	}
	i := slices.IndexFunc(cur.retired, func(k *SigningKey) bool { return k.kid == kid })
	if i < 0 {
		return fmt.Errorf("keys: Remove: %w: %q", ErrUnknownKeyID, shortKID(kid))
	}
	st, err := newSigningState(cur.active, slices.Delete(slices.Clone(cur.retired), i, i+1))
	if err != nil {
		return fmt.Errorf("keys: Remove: %w", err)
	}
	s.state.Store(st)
	return nil
}

// Keys returns the public key with kid (active or retired), or every published public key
// when kid is empty. The returned slice is shared and must not be modified; it does not
// allocate.
func (s *SigningKeys) Keys(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	ix := s.state.Load().index
	if ks, ok := ix.lookup(kid); ok {
		return ks, nil
	}
	return nil, ix.missError(kid)
}

// JWKS returns the published JWK Set: public keys only, the active key first, then the
// retired keys, most recently retired first. Every key has kid, alg and use "sig".
func (s *SigningKeys) JWKS() jose.JSONWebKeySet { return s.state.Load().index.jwks() }

// MarshalJWKS returns the JSON document of [SigningKeys.JWKS], to serve at the jwks_uri
// (content type application/jwk-set+json or application/json).
func (s *SigningKeys) MarshalJWKS() ([]byte, error) {
	return bytes.Clone(s.state.Load().json), nil
}
