package set

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"

	"github.com/sigshare/sigshare/keys"
)

// This file signs and verifies the JWS signature of a compact SET (RFC 7515 §5, RFC 7518
// §3, RFC 8037 §3.1) directly with crypto/rsa, crypto/ecdsa and crypto/ed25519: on the
// hot path a SET is parsed once by this package rather than again by a JOSE library.
// The checks are those of RFC 7518: RSA signatures are exactly the modulus size, RSA
// keys have at least 2048 bits (IOP-16), RSASSA-PSS uses a salt as long as the hash
// (RFC 7518 §3.5), ECDSA signatures are exactly R || S, each the size of the curve's
// coordinates (RFC 7518 §3.4) and on the curve the algorithm names, Ed25519 signatures
// are 64 bytes over the signing input itself.

type keyKind uint8

const (
	kindRSA keyKind = iota + 1
	kindEC
	kindEd25519
)

// algorithm is a JWS algorithm this package signs and verifies with.
type algorithm struct {
	name  string
	kind  keyKind
	hash  crypto.Hash    // zero for EdDSA
	pss   bool           // RSASSA-PSS rather than PKCS #1 v1.5
	curve elliptic.Curve // for ECDSA
	size  int            // ECDSA coordinate size in bytes
}

var (
	algRS256 = &algorithm{name: "RS256", kind: kindRSA, hash: crypto.SHA256}
	algRS384 = &algorithm{name: "RS384", kind: kindRSA, hash: crypto.SHA384}
	algRS512 = &algorithm{name: "RS512", kind: kindRSA, hash: crypto.SHA512}
	algPS256 = &algorithm{name: "PS256", kind: kindRSA, hash: crypto.SHA256, pss: true}
	algPS384 = &algorithm{name: "PS384", kind: kindRSA, hash: crypto.SHA384, pss: true}
	algPS512 = &algorithm{name: "PS512", kind: kindRSA, hash: crypto.SHA512, pss: true}
	algES256 = &algorithm{name: "ES256", kind: kindEC, hash: crypto.SHA256, curve: elliptic.P256(), size: 32}
	algES384 = &algorithm{name: "ES384", kind: kindEC, hash: crypto.SHA384, curve: elliptic.P384(), size: 48}
	algES512 = &algorithm{name: "ES512", kind: kindEC, hash: crypto.SHA512, curve: elliptic.P521(), size: 66}
	algEdDSA = &algorithm{name: "EdDSA", kind: kindEd25519}
)

// DefaultAlgorithms returns the algorithm allow-list of a Verifier whose Config names
// none: RS256 (required by CAEP-IOP §2.6), PS256, ES256, ES384 and EdDSA (Ed25519).
func DefaultAlgorithms() []string {
	return []string{"RS256", "PS256", "ES256", "ES384", "EdDSA"}
}

// algorithmByName returns the algorithm called name (exact, case-sensitive, RFC 7515
// §4.1.1), or nil. name may alias a buffer: the comparison does not keep it.
func algorithmByName(name []byte) *algorithm {
	switch string(name) {
	case "RS256":
		return algRS256
	case "RS384":
		return algRS384
	case "RS512":
		return algRS512
	case "PS256":
		return algPS256
	case "PS384":
		return algPS384
	case "PS512":
		return algPS512
	case "ES256":
		return algES256
	case "ES384":
		return algES384
	case "ES512":
		return algES512
	case "EdDSA":
		return algEdDSA
	}
	return nil
}

// digest hashes the signing input with the algorithm's hash into buf.
func (a *algorithm) digest(buf *[64]byte, input []byte) []byte {
	switch a.hash {
	case crypto.SHA256:
		h := sha256.Sum256(input)
		return append(buf[:0], h[:]...)
	case crypto.SHA384:
		h := sha512.Sum384(input)
		return append(buf[:0], h[:]...)
	case crypto.SHA512:
		h := sha512.Sum512(input)
		return append(buf[:0], h[:]...)
	}
	return nil
}

// errSignature is the cause of a signature that does not verify.
var errSignature = errors.New("signature does not verify")

// fits reports why the public key cannot verify a's signatures, or nil when it can.
func (a *algorithm) fits(pub any) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if a.kind != kindRSA {
			return fmt.Errorf("%s needs %s, the key is RSA", a.name, a.keyType())
		}
		if k == nil || k.N == nil || k.N.BitLen() < keys.MinRSABits {
			return fmt.Errorf("the RSA key has fewer than %d bits (CAEP-IOP §2.6)", keys.MinRSABits)
		}
	case *ecdsa.PublicKey:
		if a.kind != kindEC {
			return fmt.Errorf("%s needs %s, the key is EC", a.name, a.keyType())
		}
		if k == nil || k.Curve != a.curve {
			return fmt.Errorf("%s needs %s, the key is on another curve", a.name, a.keyType())
		}
	case ed25519.PublicKey:
		if a.kind != kindEd25519 {
			return fmt.Errorf("%s needs %s, the key is Ed25519", a.name, a.keyType())
		}
		if len(k) != ed25519.PublicKeySize {
			return errors.New("the Ed25519 key is malformed")
		}
	default:
		return fmt.Errorf("%s needs %s, the key is not a supported public key", a.name, a.keyType())
	}
	return nil
}

func (a *algorithm) keyType() string {
	switch a.kind {
	case kindRSA:
		return "an RSA key"
	case kindEC:
		return "an EC " + a.curve.Params().Name + " key"
	}
	return "an Ed25519 key"
}

// verify checks sig over input (whose digest is digest, nil for EdDSA) with pub, which
// a.fits accepted.
func (a *algorithm) verify(pub any, input, digest, sig []byte) error {
	switch a.kind {
	case kindRSA:
		k := pub.(*rsa.PublicKey)
		if len(sig) != k.Size() {
			return fmt.Errorf("%w: an %s signature with this key has %d bytes, not %d", errSignature, a.name, k.Size(), len(sig))
		}
		var err error
		if a.pss {
			err = rsa.VerifyPSS(k, a.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: a.hash})
		} else {
			err = rsa.VerifyPKCS1v15(k, a.hash, digest, sig)
		}
		if err != nil {
			return errSignature
		}
	case kindEC:
		k := pub.(*ecdsa.PublicKey)
		if len(sig) != 2*a.size {
			return fmt.Errorf("%w: an %s signature is R || S, %d bytes, not %d", errSignature, a.name, 2*a.size, len(sig))
		}
		var der [2*(66+3) + 3]byte
		if !ecdsa.VerifyASN1(k, digest, appendDERSignature(der[:0], sig[:a.size], sig[a.size:])) {
			return errSignature
		}
	case kindEd25519:
		if len(sig) != ed25519.SignatureSize {
			return fmt.Errorf("%w: an EdDSA signature has %d bytes, not %d", errSignature, ed25519.SignatureSize, len(sig))
		}
		if !ed25519.Verify(pub.(ed25519.PublicKey), input, sig) {
			return errSignature
		}
	}
	return nil
}

// appendDERSignature appends the ASN.1 DER encoding of the ECDSA signature (r, s)
// (SEQUENCE of two INTEGERs), given as big-endian unsigned integers.
func appendDERSignature(dst, r, s []byte) []byte {
	lr, ls := derIntLen(r), derIntLen(s)
	body := 2 + lr + 2 + ls
	dst = append(dst, 0x30)
	if body >= 0x80 {
		dst = append(dst, 0x81)
	}
	dst = append(dst, byte(body))
	dst = appendDERInt(dst, r, lr)
	return appendDERInt(dst, s, ls)
}

// derIntLen returns the length of the DER INTEGER content of the unsigned integer b.
func derIntLen(b []byte) int {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) == 0 {
		return 1
	}
	if b[0]&0x80 != 0 {
		return len(b) + 1
	}
	return len(b)
}

func appendDERInt(dst, b []byte, n int) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	dst = append(dst, 0x02, byte(n))
	if len(b) == 0 {
		return append(dst, 0)
	}
	if n > len(b) {
		dst = append(dst, 0)
	}
	return append(dst, b...)
}

// signer signs with one private key.
type signer struct {
	alg *algorithm
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
	ed  ed25519.PrivateKey
}

func newSigner(alg *algorithm, priv crypto.Signer) (*signer, error) {
	s := &signer{alg: alg}
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		s.rsa = k
	case *ecdsa.PrivateKey:
		s.ec = k
	case ed25519.PrivateKey:
		s.ed = k
	default:
		return nil, fmt.Errorf("set: unsupported private key type %T", priv)
	}
	if err := alg.fits(priv.Public()); err != nil {
		return nil, fmt.Errorf("set: %s", err)
	}
	return s, nil
}

// sign appends the signature of input to dst.
func (s *signer) sign(dst, input []byte) ([]byte, error) {
	a := s.alg
	var buf [64]byte
	switch a.kind {
	case kindRSA:
		digest := a.digest(&buf, input)
		var (
			sig []byte
			err error
		)
		if a.pss {
			sig, err = rsa.SignPSS(rand.Reader, s.rsa, a.hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(nil, s.rsa, a.hash, digest)
		}
		if err != nil {
			return dst, fmt.Errorf("set: signing: %w", err)
		}
		return append(dst, sig...), nil
	case kindEC:
		der, err := ecdsa.SignASN1(rand.Reader, s.ec, a.digest(&buf, input))
		if err != nil {
			return dst, fmt.Errorf("set: signing: %w", err)
		}
		return appendRawSignature(dst, der, a.size)
	default:
		return append(dst, ed25519.Sign(s.ed, input)...), nil
	}
}

// appendRawSignature converts a DER ECDSA signature to R || S, each size bytes.
func appendRawSignature(dst, der []byte, size int) ([]byte, error) {
	bad := errors.New("set: signing: malformed ECDSA signature")
	if len(der) < 2 || der[0] != 0x30 {
		return dst, bad
	}
	body := der[2:]
	if der[1] == 0x81 {
		if len(der) < 3 {
			return dst, bad
		}
		body = der[3:]
	}
	for range 2 {
		if len(body) < 2 || body[0] != 0x02 || int(body[1]) > len(body)-2 {
			return dst, bad
		}
		n := int(body[1])
		v := body[2 : 2+n]
		for len(v) > 0 && v[0] == 0 {
			v = v[1:]
		}
		if len(v) > size {
			return dst, bad
		}
		for range size - len(v) {
			dst = append(dst, 0)
		}
		dst = append(dst, v...)
		body = body[2+n:]
	}
	return dst, nil
}
