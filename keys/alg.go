package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"slices"
	"strings"
)

// MinRSABits is the smallest RSA modulus this package accepts anywhere: generating,
// loading, and in key sets (CAEP-IOP §2.6, IOP-16).
const MinRSABits = 2048

// MaxRSABits is the largest RSA modulus this package generates or loads as a private
// key. go-jose ignores larger keys when it parses a JWK Set, so a receiver using it could
// not verify with one.
const MaxRSABits = 4096

// Key use values (RFC 7517 §4.2).
const (
	useSig = "sig"
	useEnc = "enc"
)

// Supported signature algorithms (RFC 7518 §3, RFC 8037 §3.1), per key type. The first
// of each list is the one inferred when no algorithm is given.
var (
	rsaSignatureAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	p256SignatureAlg = "ES256"
	p384SignatureAlg = "ES384"
	p521SignatureAlg = "ES512"
	edSignatureAlg   = "EdDSA"
	// edVerifyAlgs are the "alg" values a published Ed25519 key may carry: EdDSA (RFC
	// 8037) and the fully specified Ed25519 (RFC 9864).
	edVerifyAlgs = []string{"EdDSA", "Ed25519"}
)

// Supported key management algorithms for JWE (RFC 7518 §4).
const (
	algRSAOAEP256 = "RSA-OAEP-256"
	algECDHES     = "ECDH-ES"
)

// keyEncryptionAlgs are "alg" values that mark a key as an encryption key (RFC 7518 §4.1).
var keyEncryptionAlgs = []string{
	"RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "RSA-OAEP-384", "RSA-OAEP-512",
	"ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW",
}

// describeKey names a key for error messages without any of its material: "RSA 2048-bit",
// "EC P-256", "Ed25519".
func describeKey(key any) string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d-bit public key", rsaBits(k))
	case *rsa.PrivateKey:
		return fmt.Sprintf("RSA %d-bit private key", rsaBits(&k.PublicKey))
	case *ecdsa.PublicKey:
		return "EC " + curveName(k.Curve) + " public key"
	case *ecdsa.PrivateKey:
		return "EC " + curveName(k.Curve) + " private key"
	case ed25519.PublicKey:
		return "Ed25519 public key"
	case ed25519.PrivateKey:
		return "Ed25519 private key"
	case []byte:
		return "symmetric key"
	case nil:
		return "no key"
	default:
		return fmt.Sprintf("%T", key)
	}
}

// describeType names a public key's type without saying "public": "EC P-256 key".
func describeType(pub crypto.PublicKey) string {
	return strings.TrimSuffix(describeKey(pub), " public key") + " key"
}

func rsaBits(k *rsa.PublicKey) int {
	if k == nil || k.N == nil {
		return 0
	}
	return k.N.BitLen()
}

func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "(no curve)"
	}
	return c.Params().Name
}

// checkRSASize enforces MinRSABits always and MaxRSABits when limitMax is set (for
// private keys this package loads or generates).
func checkRSASize(bits int, limitMax bool) error {
	if bits < MinRSABits {
		return fmt.Errorf("%w: RSA key has %d bits, at least %d are required (CAEP-IOP §2.6)", ErrWeakKey, bits, MinRSABits)
	}
	if limitMax && bits > MaxRSABits {
		return fmt.Errorf("%w: RSA key has %d bits, at most %d are supported (go-jose receivers ignore larger keys)", ErrUnsupportedKey, bits, MaxRSABits)
	}
	return nil
}

// checkPublicKey reports whether pub is a supported, well-formed asymmetric public key:
// RSA (at least MinRSABits; at most MaxRSABits when limitMax), EC on P-256, P-384 or
// P-521, or Ed25519.
func checkPublicKey(pub crypto.PublicKey, limitMax bool) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil || k.E < 2 {
			return fmt.Errorf("%w: malformed RSA public key", ErrUnsupportedKey)
		}
		return checkRSASize(k.N.BitLen(), limitMax)
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return fmt.Errorf("%w: malformed EC public key", ErrUnsupportedKey)
		}
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("%w: EC curve %s (supported: P-256, P-384, P-521)", ErrUnsupportedKey, curveName(k.Curve))
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: Ed25519 public key of %d bytes", ErrUnsupportedKey, len(k))
		}
		return nil
	case []byte:
		return fmt.Errorf("%w (SEC-2)", ErrSymmetricKey)
	default:
		return fmt.Errorf("%w: %s", ErrUnsupportedKey, describeKey(pub))
	}
}

// signatureAlgs returns the signature algorithms that fit pub, the default first.
// verify widens the Ed25519 list to the names a published key may carry.
func signatureAlgs(pub crypto.PublicKey, verify bool) []string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsaSignatureAlgs
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []string{p256SignatureAlg}
		case elliptic.P384():
			return []string{p384SignatureAlg}
		case elliptic.P521():
			return []string{p521SignatureAlg}
		}
	case ed25519.PublicKey:
		if verify {
			return edVerifyAlgs
		}
		return []string{edSignatureAlg}
	}
	return nil
}

// isSignatureAlg reports whether this package signs with alg.
func isSignatureAlg(alg string) bool {
	return slices.Contains(rsaSignatureAlgs, alg) || alg == p256SignatureAlg ||
		alg == p384SignatureAlg || alg == p521SignatureAlg || alg == edSignatureAlg
}

// unsupportedSignatureAlg explains why alg is not a signature algorithm of this package.
func unsupportedSignatureAlg(alg string) error {
	switch {
	case alg == "none":
		return fmt.Errorf("%w: %q: unsecured SETs are not signed (SET-17)", ErrUnsupportedAlgorithm, alg)
	case strings.HasPrefix(alg, "HS"):
		return fmt.Errorf("%w: %q is an HMAC algorithm; keys here are asymmetric keys meant for publication (SEC-2)", ErrUnsupportedAlgorithm, alg)
	case slices.Contains(keyEncryptionAlgs, alg):
		return fmt.Errorf("%w: %q is a key encryption algorithm, not a signature algorithm", ErrUnsupportedAlgorithm, alg)
	}
	return fmt.Errorf("%w: %q (supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)", ErrUnsupportedAlgorithm, alg)
}

// resolveSignatureAlg checks that alg fits pub, or infers it when alg is empty.
func resolveSignatureAlg(alg string, pub crypto.PublicKey) (string, error) {
	fits := signatureAlgs(pub, false)
	if len(fits) == 0 {
		return "", fmt.Errorf("%w: %s cannot sign", ErrUnsupportedKey, describeType(pub))
	}
	if alg == "" {
		return fits[0], nil
	}
	if !isSignatureAlg(alg) {
		return "", unsupportedSignatureAlg(alg)
	}
	if !slices.Contains(fits, alg) {
		return "", fmt.Errorf("%w: %s needs %s, not %s", ErrAlgorithmMismatch, describeType(pub), strings.Join(fits, " or "), alg)
	}
	return alg, nil
}

// encryptionAlgs returns the key management algorithms that fit pub, default first.
func encryptionAlgs(pub crypto.PublicKey) []string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return []string{algRSAOAEP256}
	case *ecdsa.PublicKey:
		return []string{algECDHES}
	}
	return nil
}

// resolveEncryptionAlg checks that alg fits pub, or infers it when alg is empty.
func resolveEncryptionAlg(alg string, pub crypto.PublicKey) (string, error) {
	fits := encryptionAlgs(pub)
	if len(fits) == 0 {
		return "", fmt.Errorf("%w: %s cannot be used for JWE key management (supported: RSA for RSA-OAEP-256, EC for ECDH-ES)", ErrUnsupportedKey, describeType(pub))
	}
	if alg == "" {
		return fits[0], nil
	}
	if alg != algRSAOAEP256 && alg != algECDHES {
		return "", fmt.Errorf("%w: %q (supported key management algorithms: RSA-OAEP-256, ECDH-ES)", ErrUnsupportedAlgorithm, alg)
	}
	if !slices.Contains(fits, alg) {
		return "", fmt.Errorf("%w: %s needs %s, not %s", ErrAlgorithmMismatch, describeType(pub), strings.Join(fits, " or "), alg)
	}
	return alg, nil
}
