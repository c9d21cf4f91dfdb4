package keys

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func kidsOf(set jose.JSONWebKeySet) []string {
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	return kids
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSigningKeysRotation: rotate keeps the old key published (retired), active first;
// Remove drops retired keys but never the active one.
func TestSigningKeysRotation(t *testing.T) {
	k1 := testSigningKeyNamed(t, "RS256", "rot1")
	k2 := testSigningKeyNamed(t, "ES256", "rot2")
	k3 := testSigningKeyNamed(t, "EdDSA", "rot3")
	ctx := context.Background()

	s, err := NewSigningKeys(k1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Active() != k1 || len(s.Retired()) != 0 {
		t.Fatalf("new set: active %v retired %v", s.Active(), s.Retired())
	}
	if err := s.Rotate(k2); err != nil {
		t.Fatal(err)
	}
	if err := s.Rotate(k3); err != nil {
		t.Fatal(err)
	}
	if s.Active() != k3 {
		t.Errorf("Active() = %v, want %v", s.Active(), k3)
	}
	want := []string{k3.KeyID(), k2.KeyID(), k1.KeyID()}
	if got := kidsOf(s.JWKS()); !equalStrings(got, want) {
		t.Errorf("JWKS kids = %v, want %v (active first, then most recently retired)", got, want)
	}
	// The old keys still verify (they are published).
	for _, k := range []*SigningKey{k1, k2, k3} {
		ks, err := s.Keys(ctx, k.KeyID())
		if err != nil || len(ks) != 1 || ks[0].Algorithm != k.Algorithm() || !ks[0].IsPublic() {
			t.Errorf("Keys(%s) = %v, %v", k.KeyID(), ks, err)
		}
	}
	if all, err := s.Keys(ctx, ""); err != nil || len(all) != 3 {
		t.Errorf("Keys(\"\") = %d keys, %v; want 3", len(all), err)
	}

	if err := s.Remove(k3.KeyID()); !errors.Is(err, ErrActiveKey) {
		t.Errorf("Remove(active) = %v, want ErrActiveKey", err)
	}
	if err := s.Remove("nope"); !errors.Is(err, ErrUnknownKeyID) {
		t.Errorf("Remove(unknown) = %v, want ErrUnknownKeyID", err)
	}
	if err := s.Remove(k1.KeyID()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Keys(ctx, k1.KeyID()); !errors.Is(err, ErrUnknownKeyID) {
		t.Errorf("Keys(removed) = %v, want ErrUnknownKeyID", err)
	}
	if got := kidsOf(s.JWKS()); !equalStrings(got, []string{k3.KeyID(), k2.KeyID()}) {
		t.Errorf("after Remove: kids %v", got)
	}
	doc, err := s.MarshalJWKS()
	if err != nil {
		t.Fatal(err)
	}
	assertNoPrivateMembers(t, doc)
	parsed, err := ParseJWKS(doc)
	if err != nil || len(parsed.Skipped()) != 0 {
		t.Fatalf("ParseJWKS(MarshalJWKS()) = %v, skipped %v", err, parsed.Skipped())
	}
	if got := kidsOf(parsed.JWKS()); !equalStrings(got, []string{k3.KeyID(), k2.KeyID()}) {
		t.Errorf("parsed kids %v", got)
	}
}

func TestSigningKeysErrors(t *testing.T) {
	k1 := testSigningKeyNamed(t, "ES256", "rot1")
	k2 := testSigningKeyNamed(t, "ES256", "rot2")
	if _, err := NewSigningKeys(nil); err == nil {
		t.Error("NewSigningKeys(nil) succeeded")
	}
	if _, err := NewSigningKeys(k1, k1.WithKeyID(k1.KeyID())); !errors.Is(err, ErrDuplicateKeyID) {
		t.Errorf("duplicate kid: %v, want ErrDuplicateKeyID", err)
	}
	if _, err := NewSigningKeys(k1, k2.WithKeyID(k1.KeyID())); !errors.Is(err, ErrDuplicateKeyID) {
		t.Errorf("two keys, one kid: %v, want ErrDuplicateKeyID", err)
	}
	s, err := NewSigningKeys(k1, k2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Rotate(k2); !errors.Is(err, ErrDuplicateKeyID) {
		t.Errorf("Rotate to a published kid: %v, want ErrDuplicateKeyID", err)
	}
	if err := s.Rotate(nil); err == nil {
		t.Error("Rotate(nil) succeeded")
	}
	if s.Active() != k1 {
		t.Error("failed Rotate changed the active key")
	}
}

// TestJWKSNeverHoldsPrivateMembers: for every key type, before and after rotation.
func TestJWKSNeverHoldsPrivateMembers(t *testing.T) {
	var prev *SigningKeys
	for i, alg := range signingAlgs {
		k := testSigningKey(t, alg)
		s, err := NewSigningKeys(k)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := s.MarshalJWKS()
		if err != nil {
			t.Fatal(err)
		}
		assertNoPrivateMembers(t, doc)
		if i == 0 {
			prev = s
			continue
		}
		if err := prev.Rotate(k); err != nil {
			t.Fatal(err)
		}
		doc, err = prev.MarshalJWKS()
		if err != nil {
			t.Fatal(err)
		}
		assertNoPrivateMembers(t, doc)
	}
	if n := len(prev.JWKS().Keys); n != len(signingAlgs) {
		t.Errorf("after rotating through every algorithm: %d keys, want %d", n, len(signingAlgs))
	}
}

// TestSigningKeysConcurrent: readers and a rotating writer, for the race detector.
func TestSigningKeysConcurrent(t *testing.T) {
	a := testSigningKeyNamed(t, "ES256", "rot1")
	b := testSigningKeyNamed(t, "ES256", "rot2")
	s, err := NewSigningKeys(a)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				active := s.Active()
				if _, err := s.Keys(ctx, active.KeyID()); err != nil && !errors.Is(err, ErrUnknownKeyID) {
					t.Error(err)
				}
				_ = s.JWKS()
				if _, err := s.MarshalJWKS(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range 200 {
		next, old := b, a
		if i%2 == 1 {
			next, old = a, b
		}
		if err := s.Rotate(next); err != nil {
			t.Fatal(err)
		}
		if err := s.Remove(old.KeyID()); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}
