package subject

import (
	"github.com/sigshare/sigshare/internal/jsonwire"
)

// This file adapts the shared JSON scanner (internal/jsonwire) to subject documents.
// Parse runs it on every SET's hot path: it validates the complete document (RFC 8259
// grammar, UTF-8 strings, no lone surrogates), rejects duplicate member names in every
// object at every depth (SEC-19) and hands back the members of one object as slices of
// the input, so that decoding an identifier allocates little more than the strings it
// keeps. encoding/json (v1) cannot report duplicate names.

// maxDepth is the deepest nesting of arrays and objects a subject document may have
// (SEC-19: cap nesting depth). A Complex Subject holding an aliases member whose
// identifier carries an extra object member needs 5 levels; the rest is headroom for
// members of unknown formats.
const maxDepth = 64

// jsonRules are the rules every subject document is held to: strict strings, unique
// member names at every depth (SEC-19), nesting up to maxDepth.
func jsonRules() jsonwire.Rules {
	return jsonwire.Rules{MaxDepth: maxDepth, StrictStrings: true, UniqueNames: true}
}

// member is one member of a scanned JSON object: its decoded name (a slice of the input
// when it has no escapes), its value exactly as written and the value's JSON type.
type member = jsonwire.Member

// named reports whether the member's name is name, without allocating.
func named(m *member, name string) bool { return string(m.Name) == name }

// jsonError turns a scanner error into an *Error: a duplicate name names the member.
func jsonError(err error) error {
	if d, ok := err.(*jsonwire.DuplicateNameError); ok {
		return &Error{Member: d.Name, Reason: "appears more than once (duplicate member name)"}
	}
	return &Error{Reason: err.Error()}
}

// scanObject validates data as one JSON object (surrounding whitespace allowed) and
// appends its members to dst. Every nested value is validated too.
func scanObject(data []byte, dst []member) ([]member, error) {
	dst, err := jsonRules().AppendMembers(dst, data)
	if err != nil {
		i := jsonwire.SkipSpace(data, 0)
		switch {
		case i >= len(data):
			return nil, &Error{Reason: "empty input, want a JSON object"}
		case data[i] != '{' && jsonwire.KindOf(data[i]) != jsonwire.Invalid:
			return nil, &Error{Reason: "is " + jsonwire.KindOf(data[i]).String() + ", want a JSON object"}
		}
		return nil, jsonError(err)
	}
	return dst, nil
}

// scanArray validates data as one JSON array and appends the raw elements to dst.
func scanArray(data []byte, dst [][]byte) ([][]byte, error) {
	var r jsonwire.ArrayReader
	if err := r.Reset(data, jsonRules()); err != nil {
		return nil, jsonError(err)
	}
	for r.Next() {
		dst = append(dst, r.Value())
	}
	if err := r.Err(); err != nil {
		return nil, jsonError(err)
	}
	return dst, nil
}

// validJSON reports whether data is exactly one valid JSON value under the scanner's
// rules (including duplicate-name rejection).
func validJSON(data []byte) error {
	if err := jsonRules().Valid(data); err != nil {
		return jsonError(err)
	}
	return nil
}

// appendString appends s as a JSON string. It escapes only what JSON requires: the quote,
// the backslash and control characters (short forms where JSON has them). Other
// characters, including non-ASCII ones, are written as UTF-8. The output is the same for
// every input spelling of the same string, which Canonical relies on.
func appendString(dst []byte, s string) []byte {
	return jsonwire.AppendString(dst, s, jsonwire.ShortControlEscapes)
}
