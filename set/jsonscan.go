package set

import (
	"bytes"
	"strconv"

	"github.com/sigshare/sigshare/internal/jsonwire"
)

// This file adapts the shared JSON scanner (internal/jsonwire) to JOSE headers and
// claims sets. The verifier runs it on every SET: it validates a whole JSON document
// (RFC 8259 grammar, UTF-8 strings without lone surrogates, bounded nesting) and walks
// the members of one object, handing back each name and the raw bytes of each value as
// slices of the input, so that duplicate member names can be rejected (SEC-19), which
// encoding/json cannot do, and so that a claims set is parsed once, without reflection.

// maxDepth is the deepest nesting of arrays and objects accepted in a JOSE header or a
// claims set (SEC-19: cap nesting depth).
const maxDepth = 64

// jsonRules are the rules a JOSE header, a claims set and the values written into them
// are held to: strict strings, nesting up to maxDepth. Duplicate member names are
// rejected where the top-level objects are read (parseClaimsSet, joseHeader.parse,
// decoder.events), each with a message naming the claim or parameter (SEC-19). Nested
// objects are not checked for duplicates here: subject.Parse rejects them in sub_id, and
// inside an event payload the last one wins (docs/spec-decisions.md).
func jsonRules() jsonwire.Rules {
	return jsonwire.Rules{MaxDepth: maxDepth, StrictStrings: true}
}

// claimsEscaping is how strings are written into claims and headers: '"', '\\' and
// control characters escaped, invalid UTF-8 replaced with U+FFFD, like encoding/json,
// without HTML escaping.
const claimsEscaping = jsonwire.ReplaceInvalidUTF8

// appendString appends s as a JSON string escaped as claimsEscaping says.
func appendString(dst []byte, s string) []byte {
	return jsonwire.AppendString(dst, s, claimsEscaping)
}

// member is one member of a JSON object: its name (decoded) and its raw value.
type member struct {
	name  string
	value []byte
}

// jsonType names the JSON type of a raw value for error messages.
func jsonType(raw []byte) string { return jsonwire.KindOfValue(raw).String() }

// stringValue decodes a raw JSON value that must be a string.
func stringValue(raw []byte) (string, bool) {
	if jsonwire.KindOfValue(raw) != jsonwire.String {
		return "", false
	}
	return jsonRules().Unquote(raw), true
}

// numericDate decodes a JSON number of seconds (RFC 7519 §2 NumericDate): an integer,
// or a number with a fraction or exponent, truncated towards zero. It fails for other
// JSON types and for values outside the int64 range.
func numericDate(raw []byte) (int64, bool) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	if !bytes.ContainsAny(raw, ".eE") {
		return parseInt(raw)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f >= 9.2e18 || f <= -9.2e18 {
		return 0, false
	}
	return int64(f), true
}

// parseInt decodes a JSON integer (optional '-', digits) that fits an int64, without
// allocating.
func parseInt(raw []byte) (int64, bool) {
	neg := false
	if len(raw) > 0 && raw[0] == '-' {
		neg, raw = true, raw[1:]
	}
	if len(raw) == 0 || len(raw) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<63-1 {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}
