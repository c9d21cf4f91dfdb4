package set

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/sigshare/sigshare/keys"
)

// Encrypted SETs (RFC 8417 §5.1, SEC-3) are nested JWTs (RFC 7519 §5.2): the signed SET
// is the plaintext of a compact JWE. The JWE header written by Signer is
//
//	{"alg":"RSA-OAEP-256"|"ECDH-ES", "enc":"A256GCM", "kid":<recipient key id, if any>,
//	 "cty":"JWT", "typ":"secevent+jwt"}
//
// "cty":"JWT" says the plaintext is a JWT (RFC 7519 §5.2: MUST for nested JWTs).
// "typ":"secevent+jwt" on the outer header too lets a recipient see, before decrypting,
// that the token is a SET (RFC 8417 §2.3 explicit typing applies to the SET however it is
// secured); the inner JWS carries the same "typ", and that is the one Verify enforces.
// On input the outer "typ" may be absent, "JWT" or the SET type, "cty" absent or "JWT";
// "zip" (compression) and "crit" are refused.

// JWE algorithms this package accepts.
const (
	jweRSAOAEP256 = "RSA-OAEP-256"
	jweECDHES     = "ECDH-ES"
)

// acceptedContentEncryption are the "enc" values Verify decrypts; Signer writes A256GCM.
var acceptedContentEncryption = []jose.ContentEncryption{
	jose.A256GCM, jose.A192GCM, jose.A128GCM, jose.A256CBC_HS512, jose.A192CBC_HS384, jose.A128CBC_HS256,
}

// decrypt opens a compact JWE and returns the compact JWS inside.
func (v *Verifier) decrypt(raw string) ([]byte, error) {
	if len(v.decryption) == 0 {
		return nil, keyErr(nil, "the SET is encrypted (JWE) and this recipient has no decryption key")
	}
	return decryptJWE(raw, v.decryption)
}

func decryptJWE(raw string, dks []decryptionKey) ([]byte, error) {
	hseg, _, _ := strings.Cut(raw, ".")
	hdata, err := decodeSegment(nil, []byte(hseg), "JWE protected header")
	if err != nil {
		return nil, err
	}
	var h joseHeader
	if err := h.parse(hdata); err != nil {
		return nil, err
	}
	switch {
	case h.crit != nil:
		return nil, requestErr(nil, "the JWE header lists critical extensions (crit), which this recipient does not understand (RFC 7516 §4.1.13)")
	case h.zip:
		return nil, requestErr(nil, `the JWE is compressed ("zip"); this recipient does not accept compressed SETs`)
	case h.hasTyp && !isSETType(h.typ) && !isJWTType(h.typ):
		return nil, requestErr(nil, `the JWE header "typ" is %s, not "secevent+jwt"`, quote(string(h.typ)))
	case h.cty != nil && !isJWTType(h.cty):
		return nil, requestErr(nil, `the JWE header "cty" is %s: an encrypted SET holds a signed JWT ("cty":"JWT", RFC 7519 §5.2)`, quote(string(h.cty)))
	}
	alg := string(h.alg)
	if alg != jweRSAOAEP256 && alg != jweECDHES {
		return nil, keyErr(nil, "the JWE key management algorithm %s is not accepted (RSA-OAEP-256, ECDH-ES)", quote(alg))
	}
	enc := jose.ContentEncryption(h.enc)
	if !containsEnc(enc) {
		return nil, keyErr(nil, "the JWE content encryption %s is not accepted", quote(string(h.enc)))
	}
	kid := string(h.kid)
	var candidates []*decryptionKey
	for i := range dks {
		if dks[i].alg == alg && (kid == "" || dks[i].kid == kid) {
			candidates = append(candidates, &dks[i])
		}
	}
	if len(candidates) == 0 {
		if kid != "" {
			return nil, keyErr(nil, "the SET is encrypted to key %s with %s; this recipient has no such decryption key", quote(kid), alg)
		}
		return nil, keyErr(nil, "the SET is encrypted with %s; this recipient has no decryption key for it", alg)
	}
	obj, err := jose.ParseEncryptedCompact(raw, []jose.KeyAlgorithm{jose.KeyAlgorithm(alg)}, acceptedContentEncryption)
	if err != nil {
		return nil, requestErr(err, "the JWE is malformed")
	}
	var last error
	for _, k := range candidates {
		pt, err := obj.Decrypt(k.jwk.Key)
		if err != nil {
			last = err
			continue
		}
		if bytes.Count(pt, []byte{'.'}) != 2 {
			return nil, requestErr(nil, "the JWE does not hold a signed SET in compact serialization (RFC 7519 §5.2)")
		}
		return pt, nil
	}
	return nil, keyErr(last, "the JWE cannot be decrypted with this recipient's key")
}

func containsEnc(enc jose.ContentEncryption) bool {
	for _, e := range acceptedContentEncryption {
		if e == enc {
			return true
		}
	}
	return false
}

// newEncrypter checks the recipient's public key and returns the encrypter Signer uses.
func newEncrypter(jwk *jose.JSONWebKey) (jose.Encrypter, error) {
	if jwk == nil || jwk.Key == nil {
		return nil, errors.New("set: SignerOptions.EncryptTo has no key")
	}
	if !jwk.IsPublic() {
		return nil, errors.New("set: SignerOptions.EncryptTo must be the recipient's public key, not a private key")
	}
	if jwk.Use != "" && jwk.Use != "enc" {
		return nil, fmt.Errorf("set: SignerOptions.EncryptTo has use %q; an encryption key has use \"enc\"", jwk.Use)
	}
	alg := jwk.Algorithm
	switch k := jwk.Key.(type) {
	case *rsa.PublicKey:
		if alg == "" {
			alg = jweRSAOAEP256
		}
		if alg != jweRSAOAEP256 {
			return nil, fmt.Errorf("set: SignerOptions.EncryptTo: an RSA key encrypts with RSA-OAEP-256, not %q", alg)
		}
		if k.N.BitLen() < keys.MinRSABits {
			return nil, fmt.Errorf("set: SignerOptions.EncryptTo: the RSA key has %d bits, fewer than %d", k.N.BitLen(), keys.MinRSABits)
		}
	case *ecdsa.PublicKey:
		if alg == "" {
			alg = jweECDHES
		}
		if alg != jweECDHES {
			return nil, fmt.Errorf("set: SignerOptions.EncryptTo: an EC key encrypts with ECDH-ES, not %q", alg)
		}
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return nil, errors.New("set: SignerOptions.EncryptTo: the EC key must be on P-256, P-384 or P-521")
		}
	default:
		return nil, fmt.Errorf("set: SignerOptions.EncryptTo: unsupported key type %T (RSA or EC public keys)", jwk.Key)
	}
	opts := (&jose.EncrypterOptions{}).WithContentType("JWT").WithType(typeSET)
	return jose.NewEncrypter(jose.A256GCM, jose.Recipient{
		Algorithm: jose.KeyAlgorithm(alg),
		Key:       jwk.Key,
		KeyID:     jwk.KeyID,
	}, opts)
}
