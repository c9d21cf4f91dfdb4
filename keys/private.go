package keys

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// checkPrivateKey validates an in-memory private key and returns it as a crypto.Signer
// with its public key. It accepts *rsa.PrivateKey (two primes, MinRSABits to MaxRSABits),
// *ecdsa.PrivateKey (P-256, P-384, P-521) and ed25519.PrivateKey.
func checkPrivateKey(priv crypto.PrivateKey) (crypto.Signer, crypto.PublicKey, error) {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if k == nil || k.N == nil {
			return nil, nil, fmt.Errorf("%w: malformed RSA private key", ErrUnsupportedKey)
		}
		if err := checkRSASize(k.N.BitLen(), true); err != nil {
			return nil, nil, err
		}
		if len(k.Primes) != 2 {
			return nil, nil, fmt.Errorf("%w: RSA private key with %d primes (only two-prime RSA is supported)", ErrUnsupportedKey, len(k.Primes))
		}
		if err := k.Validate(); err != nil {
			// crypto/rsa's validation errors describe the inconsistency, never the values.
			return nil, nil, fmt.Errorf("%w: inconsistent RSA private key: %v", ErrUnsupportedKey, err)
		}
		k.Precompute()
		return k, &k.PublicKey, nil
	case *ecdsa.PrivateKey:
		if k == nil {
			return nil, nil, fmt.Errorf("%w: malformed EC private key", ErrUnsupportedKey)
		}
		if err := checkPublicKey(&k.PublicKey, true); err != nil {
			return nil, nil, err
		}
		return k, &k.PublicKey, nil
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return nil, nil, fmt.Errorf("%w: Ed25519 private key of %d bytes", ErrUnsupportedKey, len(k))
		}
		return k, k.Public(), nil
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, *ecdh.PublicKey:
		return nil, nil, fmt.Errorf("%w: got a %s", ErrNotPrivateKey, describeKey(priv))
	case []byte:
		return nil, nil, fmt.Errorf("%w: keys here are asymmetric keys meant for publication (SEC-2)", ErrSymmetricKey)
	case *ecdh.PrivateKey:
		return nil, nil, fmt.Errorf("%w: ECDH key on %s (JOSE uses EC keys of crypto/ecdsa; X25519 is not supported)", ErrUnsupportedKey, k.Curve())
	default:
		return nil, nil, fmt.Errorf("%w: %s", ErrUnsupportedKey, describeKey(priv))
	}
}

// thumbprint returns the RFC 7638 JWK thumbprint of pub (SHA-256, base64url without
// padding).
func thumbprint(pub crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("%w: computing the RFC 7638 thumbprint of a %s: %v", ErrUnsupportedKey, describeKey(pub), err)
	}
	if len(sum) != sha256.Size {
		return "", fmt.Errorf("%w: thumbprint of %d bytes", ErrUnsupportedKey, len(sum))
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// PEM block types this package reads.
const (
	pemPKCS8     = "PRIVATE KEY"
	pemPKCS1     = "RSA PRIVATE KEY"
	pemSEC1      = "EC PRIVATE KEY"
	pemEncrypted = "ENCRYPTED PRIVATE KEY"
)

// parsePrivatePEM finds the one private key block in data (PKCS#8, PKCS#1 RSA or SEC1 EC)
// and parses it. Other blocks (EC PARAMETERS, certificates) are skipped; data holding
// only public keys or certificates gives ErrNotPrivateKey.
func parsePrivatePEM(data []byte) (crypto.PrivateKey, error) {
	var found *pem.Block
	var others []string
	rest := data
	for {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		rest = r
		switch block.Type {
		case pemPKCS8, pemPKCS1, pemSEC1:
			if found != nil {
				return nil, fmt.Errorf("%w: more than one private key block (%s and %s)", ErrInvalidPEM, found.Type, block.Type)
			}
			found = block
		case pemEncrypted:
			return nil, fmt.Errorf("%w: encrypted PKCS#8 keys are not supported; decrypt the key first", ErrInvalidPEM)
		default:
			others = append(others, block.Type)
		}
	}
	if found == nil {
		for _, t := range others {
			if strings.Contains(t, "PUBLIC KEY") || t == "CERTIFICATE" {
				return nil, fmt.Errorf("%w: the PEM data holds a %s block and no private key", ErrNotPrivateKey, t)
			}
		}
		if len(others) > 0 {
			return nil, fmt.Errorf("%w: no private key block (found %s; want %s, %s or %s)", ErrInvalidPEM, strings.Join(others, ", "), pemPKCS8, pemPKCS1, pemSEC1)
		}
		return nil, fmt.Errorf("%w: no PEM block found", ErrInvalidPEM)
	}
	if strings.Contains(found.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, fmt.Errorf("%w: legacy encrypted PEM (Proc-Type: ENCRYPTED) is not supported; decrypt the key first", ErrInvalidPEM)
	}
	var key any
	var err error
	switch found.Type {
	case pemPKCS8:
		key, err = x509.ParsePKCS8PrivateKey(found.Bytes)
	case pemPKCS1:
		key, err = x509.ParsePKCS1PrivateKey(found.Bytes)
	case pemSEC1:
		key, err = x509.ParseECPrivateKey(found.Bytes)
	}
	if err != nil {
		// crypto/x509 parse errors describe the structure, never key material.
		return nil, fmt.Errorf("%w: %s block: %v", ErrInvalidPEM, found.Type, err)
	}
	return key, nil
}

// marshalPrivatePEM encodes priv as a PKCS#8 "PRIVATE KEY" PEM block.
func marshalPrivatePEM(priv crypto.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding a %s as PKCS#8: %v", ErrUnsupportedKey, describeKey(priv), err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: der}), nil
}

// jwkMembers decodes the top-level members of one JWK without interpreting them.
func jwkMembers(data []byte) (map[string]json.RawMessage, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return nil, err
	}
	if members == nil {
		return nil, errors.New("JWK is null, want a JSON object")
	}
	return members, nil
}

// stringMember returns the string value of a member, "" when absent, and an error when
// present but not a string.
func stringMember(members map[string]json.RawMessage, name string) (string, error) {
	raw, ok := members[name]
	if !ok {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("member %q is not a string", name)
	}
	return s, nil
}

// parsePrivateJWK decodes a single private JWK (RFC 7517 §4) and checks that its "use",
// when present, is wantUse.
func parsePrivateJWK(data []byte, wantUse string) (jose.JSONWebKey, error) {
	var none jose.JSONWebKey
	members, err := jwkMembers(data)
	if err != nil {
		return none, fmt.Errorf("%w: %v", ErrInvalidJWK, err)
	}
	if _, ok := members["keys"]; ok {
		return none, fmt.Errorf("%w: this is a JWK Set; give a single JWK", ErrInvalidJWK)
	}
	kty, err := stringMember(members, "kty")
	if err != nil {
		return none, fmt.Errorf("%w: %v", ErrInvalidJWK, err)
	}
	if kty == "oct" {
		return none, fmt.Errorf("%w: keys here are asymmetric keys meant for publication (SEC-2)", ErrSymmetricKey)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		// go-jose's JWK errors name the malformed member, never its value.
		if errors.Is(err, jose.ErrUnsupportedKeyType) {
			crv, _ := stringMember(members, "crv")
			return none, fmt.Errorf("%w: kty %q crv %q: %v", ErrUnsupportedKey, kty, crv, err)
		}
		return none, fmt.Errorf("%w: %v", ErrInvalidJWK, err)
	}
	if jwk.IsPublic() {
		return none, fmt.Errorf("%w: the JWK (kty %q) has no private members", ErrNotPrivateKey, kty)
	}
	if jwk.Use != "" && jwk.Use != wantUse {
		return none, fmt.Errorf("%w: JWK has use %q, want %q", ErrKeyUse, jwk.Use, wantUse)
	}
	return jwk, nil
}

// shortKID shortens an untrusted kid for error messages.
func shortKID(kid string) string {
	const limit = 80
	if len(kid) <= limit {
		return kid
	}
	return kid[:limit] + "..."
}
