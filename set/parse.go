package set

import (
	"bytes"
	"strings"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
)

// DecodeOptions configures ParseClaims and ParseUnverified.
type DecodeOptions struct {
	// Registry decodes the event. Nil means a new ssf.DefaultRegistry() for each call
	// (building it costs some microseconds: pass one when decoding many SETs).
	Registry *event.Registry
	// Compatibility enables named tolerances; zero value: strict SSF 1.0 Final.
	Compatibility Compatibility
	// DecryptionKeys open an encrypted SET (ParseUnverified only). Nil means none: an
	// encrypted SET then fails with invalid_key.
	DecryptionKeys []*keys.DecryptionKey
}

func (o *DecodeOptions) decoder() *decoder {
	reg := o.Registry
	if reg == nil {
		reg = ssf.DefaultRegistry()
	}
	return newDecoder(reg, o.Compatibility)
}

// ParseClaims builds a Token from a JSON claims set, with the claim checks of
// Verifier.Verify that need no configuration (Verify's step 5, see there): a JSON object
// without duplicate claims, iss, iat and jti present, no sub or exp, exactly one event
// valid for its type, a valid sub_id. It checks no signature, issuer, audience or clock.
// Errors are *Error values. Use it to build a SET from JSON (the CLI's "token sign") and
// in tests.
func ParseClaims(claims []byte, opts DecodeOptions) (*Token, error) {
	claims = bytes.Clone(claims) // the token keeps slices of it
	return parseClaims(claims, opts.decoder())
}

func parseClaims(claims []byte, d *decoder) (*Token, error) {
	var cs claimsSet
	if err := parseClaimsSet(claims, &cs); err != nil {
		return nil, err
	}
	tok := &Token{}
	if err := d.envelope(&cs, tok); err != nil {
		return nil, err
	}
	if err := d.claims(&cs, tok); err != nil {
		return nil, err
	}
	return tok, nil
}

// ParseUnverified decodes a SET without verifying its signature: the result is not
// authenticated and must not be acted upon. It is meant for inspection (the CLI's
// "token decode") and debugging. The header is returned as it is, with no check; the
// claims are checked as ParseClaims checks them. An encrypted SET is decrypted with
// opts.DecryptionKeys and the header returned is the inner (JWS) one. The header is
// returned whenever it could be decoded, also when the claims fail.
func ParseUnverified(raw string, opts DecodeOptions) (*Header, *Token, error) {
	switch strings.Count(raw, ".") {
	case 2:
	case 4:
		var dks []decryptionKey
		for _, k := range opts.DecryptionKeys {
			if k != nil {
				dks = append(dks, decryptionKey{kid: k.KeyID(), alg: k.Algorithm(), jwk: k.PrivateJWK()})
			}
		}
		if len(dks) == 0 {
			return nil, nil, keyErr(nil, "the SET is encrypted (JWE) and no decryption key was given")
		}
		inner, err := decryptJWE(raw, dks)
		if err != nil {
			return nil, nil, err
		}
		raw = string(inner)
	default:
		return nil, nil, requestErr(nil, "the SET is neither a compact JWS (3 parts) nor a compact JWE (5 parts)")
	}
	hseg, rest, _ := strings.Cut(raw, ".")
	pseg, _, _ := strings.Cut(rest, ".")
	hdata, err := decodeSegment(nil, []byte(hseg), "JOSE header")
	if err != nil {
		return nil, nil, err
	}
	h := joseHeader{keepExtra: true}
	if err := h.parse(hdata); err != nil {
		return nil, nil, err
	}
	header := h.export()
	payload, err := decodeSegment(nil, []byte(pseg), "JWS payload")
	if err != nil {
		return header, nil, err
	}
	tok, err := parseClaims(payload, opts.decoder())
	if err != nil {
		return header, nil, err
	}
	if header.Type == "" || !isSETType([]byte(header.Type)) {
		if opts.Compatibility.AllowJWTType && (header.Type == "" || isJWTType([]byte(header.Type))) {
			tok.Leniency |= LenientType
		}
	}
	return header, tok, nil
}
