package set

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/sigshare/sigshare/keys"
)

// fuzzKey is a fixed Ed25519 key (fast to sign and verify), derived from a constant
// seed so that the corpus stays valid between runs.
func fuzzKey(t testing.TB) *keys.SigningKey {
	t.Helper()
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	k, err := keys.NewSigningKey(ed25519.NewKeyFromSeed(seed), "EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	return k.WithKeyID("fuzz")
}

// fuzzClaimSeeds returns the claims sets of the published vectors.
func fuzzClaimSeeds(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, dir := range []string{"set", "caep", "risc", "ssf", "vendor"} {
		files, _ := filepath.Glob(filepath.Join("testdata", "vectors", dir, "*.json"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v claimsVector
			if err := json.Unmarshal(b, &v); err == nil && len(v.JSON) > 0 && v.JSON[0] == '{' {
				out = append(out, v.JSON)
			}
		}
	}
	return out
}

// fuzzVerifiers are a strict and a fully compatible verifier that accept any issuer and
// audience, with the fuzz key.
func fuzzVerifiers(t testing.TB) []*Verifier {
	t.Helper()
	ks, err := keys.NewStaticKeySet(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{fuzzKey(t).Public()}})
	if err != nil {
		t.Fatal(err)
	}
	var out []*Verifier
	for _, c := range []Compatibility{{}, FullCompatibility()} {
		out = append(out, newTestVerifier(t, ks, Config{
			SkipIssuerCheck: true, SkipAudienceCheck: true, Compatibility: c,
			CriticalSubjectMembers: []string{"user", "badge"},
		}))
	}
	return out
}

// checkOutcome asserts the invariants of a Verify result: the error is an *Error or
// ErrDiscard (the key set cannot fail), and an accepted token re-encodes, and decodes
// again to the same encoding.
func checkOutcome(t *testing.T, tok *Token, err error, strict bool) {
	t.Helper()
	var e *Error
	switch {
	case err == nil:
	case errors.Is(err, ErrDiscard):
		if tok == nil || errors.As(err, &e) {
			t.Fatalf("discard without token or as *Error: %v", err)
		}
	case errors.As(err, &e):
		if tok != nil || e.Description == "" || sentinel(e.Code) == nil {
			t.Fatalf("bad rejection: %v (token %v)", err, tok)
		}
		return
	default:
		t.Fatalf("error that is neither *Error nor ErrDiscard: %v", err)
	}
	if tok.Subject == nil {
		return // compatibility: verification without sub_id
	}
	b, err := tok.MarshalJSON()
	if err != nil {
		t.Fatalf("an accepted token does not re-encode: %v", err)
	}
	if !strict {
		return
	}
	again, err := ParseClaims(b, DecodeOptions{})
	if err != nil {
		t.Fatalf("the re-encoded claims do not parse: %v\n%s", err, b)
	}
	b2, err := again.MarshalJSON()
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("re-encoding is not stable: %v\n%s\n%s", err, b, b2)
	}
}

// FuzzVerify feeds arbitrary strings to Verify: it never panics and reports only *Error
// values (or ErrDiscard with a token).
func FuzzVerify(f *testing.F) {
	key := fuzzKey(f)
	s := newTestSigner(f, key, SignerOptions{})
	for _, claims := range fuzzClaimSeeds(f) {
		tok, err := ParseClaims(claims, DecodeOptions{Compatibility: FullCompatibility()})
		if err != nil {
			f.Add(craft(f, key, `{"alg":"EdDSA","kid":"fuzz","typ":"secevent+jwt"}`, string(claims)))
			continue
		}
		tok.OtherEvents = nil
		if raw, err := s.Sign(tok); err == nil {
			f.Add(raw)
		}
	}
	f.Add("a.b.c")
	f.Add("a.b.c.d.e")
	f.Add("")
	vs := fuzzVerifiers(f)
	f.Fuzz(func(t *testing.T, raw string) {
		for i, v := range vs {
			tok, err := v.Verify(bg, raw)
			checkOutcome(t, tok, err, i == 0)
		}
	})
}

// FuzzVerifySigned signs arbitrary headers and claims with the verifier's key, so that
// every input reaches the header, claim and event checks behind the signature.
func FuzzVerifySigned(f *testing.F) {
	key := fuzzKey(f)
	for _, claims := range fuzzClaimSeeds(f) {
		f.Add([]byte(`{"alg":"EdDSA","kid":"fuzz","typ":"secevent+jwt"}`), claims)
	}
	f.Add([]byte(`{"alg":"EdDSA","typ":"JWT"}`), []byte(validClaims))
	vs := fuzzVerifiers(f)
	sg, err := newSigner(algEdDSA, key.Signer())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header, claims []byte) {
		input := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
		sig, err := sg.sign(nil, []byte(input))
		if err != nil {
			t.Fatal(err)
		}
		raw := input + "." + enc.EncodeToString(sig)
		for i, v := range vs {
			tok, err := v.Verify(bg, raw)
			checkOutcome(t, tok, err, i == 0)
		}
		if h, tok, err := ParseUnverified(raw, DecodeOptions{Compatibility: FullCompatibility()}); err == nil && (h == nil || tok == nil) {
			t.Fatal("ParseUnverified returned nil without error")
		}
	})
}

// FuzzParseClaims feeds arbitrary claims sets to ParseClaims, strict and compatible.
func FuzzParseClaims(f *testing.F) {
	for _, claims := range fuzzClaimSeeds(f) {
		f.Add(claims)
	}
	f.Add([]byte(validClaims))
	f.Add([]byte(`{"iss":"a","jti":"b","iat":1,"sub_id":{"format":"opaque","id":"x"},"events":{"urn:x":{},"urn:y":{"subject":{"user":{"format":"email","email":"a@b.c"}}}},"txn":5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, c := range []Compatibility{{}, FullCompatibility()} {
			tok, err := ParseClaims(data, DecodeOptions{Compatibility: c})
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || tok != nil {
					t.Fatalf("error that is not an *Error: %v", err)
				}
				continue
			}
			checkOutcome(t, tok, nil, i == 0)
		}
	})
}
