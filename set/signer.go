package set

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sigshare/sigshare/keys"
)

// typeSET is the "typ" every SET this package writes carries (SSF §4.1.1, SET-16).
const typeSET = "secevent+jwt"

// SignerOptions configures a Signer. The zero value signs SSF 1.0 Final SETs without
// encryption, using the system clock.
type SignerOptions struct {
	// Profile is the shape of the subject (see Profile). Zero value: ProfileFinal.
	Profile Profile
	// Now returns the current time, used for a token without IssuedAt. Nil means
	// time.Now.
	Now func() time.Time
	// EncryptTo, when set, is the recipient's public key: the signed SET is then
	// encrypted to it (sign-then-encrypt, RFC 7519 §5.2 nested JWT) as a compact JWE
	// with "enc":"A256GCM". Its "alg" must be "RSA-OAEP-256" (RSA key, at least 2048
	// bits) or "ECDH-ES" (EC key on P-256, P-384 or P-521), or empty to infer it from the
	// key type; its "kid", if any, is written into the JWE header. See the package
	// documentation for the JWE header. Nil means no encryption.
	EncryptTo *jose.JSONWebKey
}

// Signer signs SETs with one key (RFC 8417 §5.1, SSF §4.1.4). It is safe for concurrent
// use.
type Signer struct {
	key       *keys.SigningKey
	signer    *signer
	header    []byte // base64url of the JOSE header, then "."
	profile   Profile
	now       func() time.Time
	encrypter jose.Encrypter
}

// NewSigner returns a Signer that signs with key, using the key's algorithm (RS256,
// RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA; CAEP-IOP §2.6 requires
// RS256) and its kid. Every SET gets the JOSE header
// {"alg":<alg>,"kid":<kid>,"typ":"secevent+jwt"} (SET-16, vendors.md §5.2 item 2).
func NewSigner(key *keys.SigningKey, opts SignerOptions) (*Signer, error) {
	if key == nil {
		return nil, errors.New("set: NewSigner needs a signing key")
	}
	if opts.Profile < ProfileFinal || opts.Profile > ProfileLegacy {
		return nil, fmt.Errorf("set: unknown profile %d", int(opts.Profile))
	}
	alg := algorithmByName([]byte(key.Algorithm()))
	if alg == nil {
		return nil, fmt.Errorf("set: the key's algorithm %q is not supported", key.Algorithm())
	}
	sg, err := newSigner(alg, key.Signer())
	if err != nil {
		return nil, err
	}
	if key.KeyID() == "" {
		return nil, errors.New("set: the signing key has no kid")
	}
	hdr := appendString(append([]byte(nil), `{"alg":`...), alg.name)
	hdr = append(hdr, `,"kid":`...)
	hdr = appendString(hdr, key.KeyID())
	hdr = append(hdr, `,"typ":"`+typeSET+`"}`...)
	header := make([]byte, b64.EncodedLen(len(hdr)), b64.EncodedLen(len(hdr))+1)
	b64.Encode(header, hdr)
	s := &Signer{
		key:     key,
		signer:  sg,
		header:  append(header, '.'),
		profile: opts.Profile,
		now:     opts.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.EncryptTo != nil {
		if s.encrypter, err = newEncrypter(opts.EncryptTo); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// KeyID returns the kid the Signer writes into every SET.
func (s *Signer) KeyID() string { return s.key.KeyID() }

// Algorithm returns the JWS algorithm the Signer signs with.
func (s *Signer) Algorithm() string { return s.signer.alg.name }

// Sign returns the SET for tok in compact serialization: a JWS, or a JWE wrapping it
// when the Signer encrypts.
//
// A token without JTI gets a random one (crypto/rand.Text: 26 base32 characters, 130
// bits; SET-4, SEC-19) and a token without IssuedAt gets the current time; Sign writes
// both into tok, so that the caller learns the jti (e.g. to track acknowledgements). It
// then checks the token with Token.Validate (which refuses deprecated event types such
// as RISC sessions-revoked) and encodes it in the Signer's Profile: never with "sub" or
// "exp", always with exactly one event. Errors are *Error values (invalid_request) for
// an invalid token, plain errors otherwise.
func (s *Signer) Sign(tok *Token) (string, error) {
	if tok == nil {
		return "", errors.New("set: Sign needs a token")
	}
	if tok.JTI == "" {
		tok.JTI = rand.Text()
	}
	if tok.IssuedAt.IsZero() {
		tok.IssuedAt = s.now().Truncate(time.Second)
	}
	if err := tok.Validate(); err != nil {
		return "", err
	}
	var scratch [1024]byte
	claims, err := tok.AppendClaims(scratch[:0], s.profile)
	if err != nil {
		return "", err
	}
	jws, err := s.sign(claims)
	if err != nil {
		return "", err
	}
	if s.encrypter == nil {
		return string(jws), nil
	}
	obj, err := s.encrypter.Encrypt(jws)
	if err != nil {
		return "", fmt.Errorf("set: encrypting: %w", err)
	}
	return obj.CompactSerialize()
}

// sign returns the compact JWS of claims.
func (s *Signer) sign(claims []byte) ([]byte, error) {
	var sigLen int
	switch s.signer.alg.kind {
	case kindRSA:
		sigLen = s.signer.rsa.Size()
	case kindEC:
		sigLen = 2 * s.signer.alg.size
	default:
		sigLen = ed25519.SignatureSize
	}
	n := len(s.header) + b64.EncodedLen(len(claims)) + 1 + b64.EncodedLen(sigLen)
	out := make([]byte, n)
	copy(out, s.header)
	b64.Encode(out[len(s.header):], claims)
	input := out[:len(s.header)+b64.EncodedLen(len(claims))]
	var sbuf [512]byte
	sig, err := s.signer.sign(sbuf[:0], input)
	if err != nil {
		return nil, err
	}
	out[len(input)] = '.'
	b64.Encode(out[len(input)+1:], sig)
	return out[:len(input)+1+b64.EncodedLen(len(sig))], nil
}
