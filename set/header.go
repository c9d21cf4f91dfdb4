package set

import (
	"bytes"
	"encoding/json"

	"github.com/sigshare/sigshare/internal/jsonwire"
)

// Header is the JOSE header of a SET (RFC 7515 §4, RFC 7516 §4), as ParseUnverified
// reports it: the registered parameters this package reads, and every other one verbatim.
type Header struct {
	// Algorithm is "alg": the JWS signature algorithm (or, for a JWE, the key
	// management algorithm).
	Algorithm string
	// Type is "typ"; a SET has "secevent+jwt" (SSF §4.1.1).
	Type string
	// KeyID is "kid".
	KeyID string
	// ContentType is "cty" ("JWT" on the JWE that wraps a signed SET).
	ContentType string
	// Critical is "crit": extensions the recipient must understand (this package
	// understands none, so Verify rejects any).
	Critical []string
	// Encryption is "enc" of a JWE.
	Encryption string
	// Extra holds every other parameter, verbatim.
	Extra map[string]json.RawMessage
}

// joseHeader is a JOSE header as Verify reads it: the values it checks, without
// building maps.
type joseHeader struct {
	alg, typ, kid, cty, enc []byte // decoded string values; nil when absent
	hasAlg, hasTyp          bool
	crit                    []byte // raw value; nil when absent
	zip                     bool   // a "zip" parameter is present
	// embeddedKey names the first of jwk, jku, x5u, x5c present (SEC-2), else "".
	embeddedKey string
	extra       []member
	// keepExtra makes parse collect the other parameters (for ParseUnverified).
	keepExtra bool
}

// parse reads a decoded JOSE header: a JSON object without duplicate parameter names
// (SEC-19) whose alg, typ, kid, cty and enc are strings. Values alias data.
func (h *joseHeader) parse(data []byte) error {
	var r jsonwire.ObjectReader
	if err := r.Reset(data, jsonRules()); err != nil {
		return requestErr(err, "the JOSE header is not a JSON object")
	}
	var seen []string // names other than the ones with a field, for duplicates
	for r.Next() {
		name := r.Name()
		var slot *[]byte
		switch string(name) {
		case "alg":
			slot = &h.alg
		case "typ":
			slot = &h.typ
		case "kid":
			slot = &h.kid
		case "cty":
			slot = &h.cty
		case "enc":
			slot = &h.enc
		case "crit":
			if h.crit != nil {
				return requestErr(nil, "the JOSE header parameter \"crit\" appears more than once (SEC-19)")
			}
			h.crit = r.Value()
			continue
		}
		if slot != nil {
			if *slot != nil {
				return requestErr(nil, "the JOSE header parameter %q appears more than once (SEC-19)", name)
			}
			if r.Kind() != jsonwire.String {
				return requestErr(nil, "the JOSE header parameter %q must be a string, not %s", name, r.Kind())
			}
			v := jsonRules().UnquoteBytes(r.Value()) // without copying when it has no escapes
			*slot = v
			continue
		}
		n := string(name)
		for _, s := range seen {
			if s == n {
				return requestErr(nil, "the JOSE header parameter %s appears more than once (SEC-19)", quote(n))
			}
		}
		seen = append(seen, n)
		switch n {
		case "jwk", "jku", "x5u", "x5c":
			if h.embeddedKey == "" {
				h.embeddedKey = n
			}
		case "zip":
			h.zip = true
		}
		if h.keepExtra {
			h.extra = append(h.extra, member{name: n, value: r.Value()})
		}
	}
	if err := r.Err(); err != nil {
		return requestErr(err, "the JOSE header is not valid JSON: %v", err)
	}
	h.hasAlg, h.hasTyp = h.alg != nil, h.typ != nil
	return nil
}

// isSETType reports whether a "typ" value names the SET media type
// application/secevent+jwt: "secevent+jwt" or "application/secevent+jwt" in any case
// (RFC 7515 §4.1.9: a typ without "/" has "application/" implied; media type names are
// case-insensitive; SET-16, TV-GEN-2).
func isSETType(typ []byte) bool {
	const short, long = "secevent+jwt", "application/secevent+jwt"
	return bytes.EqualFold(typ, []byte(short)) || bytes.EqualFold(typ, []byte(long))
}

// isJWTType reports whether a "typ" (or "cty") value is "JWT" or "application/jwt" in
// any case (RFC 7519 §5.1, §5.2).
func isJWTType(typ []byte) bool {
	return bytes.EqualFold(typ, []byte("JWT")) || bytes.EqualFold(typ, []byte("application/jwt"))
}

// export returns the header as a Header.
func (h *joseHeader) export() *Header {
	out := &Header{
		Algorithm:   string(h.alg),
		Type:        string(h.typ),
		KeyID:       string(h.kid),
		ContentType: string(h.cty),
		Encryption:  string(h.enc),
	}
	if h.crit != nil {
		var crit []string
		if json.Unmarshal(h.crit, &crit) == nil {
			out.Critical = crit
		} else {
			out.Critical = []string{string(h.crit)}
		}
	}
	if len(h.extra) > 0 {
		out.Extra = make(map[string]json.RawMessage, len(h.extra))
		for _, m := range h.extra {
			out.Extra[m.name] = append(json.RawMessage(nil), m.value...)
		}
	}
	return out
}
