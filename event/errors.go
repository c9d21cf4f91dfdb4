package event

import (
	"errors"
	"strings"
)

// ErrInvalid is wrapped by every error that reports an event payload that does not
// conform to its event-type definition: malformed JSON, a member of the wrong JSON type,
// a missing required member or a value outside an enumeration. Callers test for it with
// errors.Is; a SET receiver maps it to the RFC 8935 error code invalid_request.
var ErrInvalid = errors.New("invalid event payload")

// Error describes what is wrong with one event payload. It wraps ErrInvalid and, when
// set, Err.
//
// Its message names the event type and the member, e.g.
//
//	caep credential-change: member "change_type" is required
type Error struct {
	// Type is the event type URI of the payload.
	Type string
	// Member is the payload member at fault; empty when the problem concerns the payload
	// as a whole (e.g. it is not a JSON object).
	Member string
	// Reason says what is wrong, phrased to follow the member name: "is required",
	// "must be a JSON string, not a number", ...
	Reason string
	// Err is the underlying cause, if any.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Type == "" {
		b.WriteString("event")
	} else {
		b.WriteString(TypeName(e.Type))
	}
	b.WriteString(": ")
	if e.Member != "" {
		b.WriteString("member ")
		b.WriteString(quote(e.Member))
		b.WriteByte(' ')
	} else {
		b.WriteString("payload ")
	}
	b.WriteString(e.Reason)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns ErrInvalid and, when set, Err.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalid}
	}
	return []error{ErrInvalid, e.Err}
}

// TypeName returns a short, human-readable name for an event type URI, used in error
// messages: "caep credential-change" for
// https://schemas.openid.net/secevent/caep/event-type/credential-change, likewise for the
// risc, ssf and sse namespaces; any other URI is returned unchanged.
func TypeName(typeURI string) string {
	const prefix = "https://schemas.openid.net/secevent/"
	rest, ok := strings.CutPrefix(typeURI, prefix)
	if !ok {
		return typeURI
	}
	ns, name, ok := strings.Cut(rest, "/event-type/")
	if !ok || ns == "" || name == "" || strings.ContainsRune(ns, '/') {
		return typeURI
	}
	return ns + " " + name
}

// Required returns the error for a required member that is absent (or null, or empty).
func Required(typeURI, member string) *Error {
	return &Error{Type: typeURI, Member: member, Reason: "is required"}
}

// NotOneOf returns the error for a member whose value is outside a closed enumeration.
func NotOneOf[S ~string](typeURI, member string, got S, allowed ...S) *Error {
	var b strings.Builder
	b.WriteString("must be one of ")
	for i, a := range allowed {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(a))
	}
	b.WriteString(" (got ")
	b.WriteString(quote(string(got)))
	b.WriteByte(')')
	return &Error{Type: typeURI, Member: member, Reason: b.String()}
}

// quote returns s in double quotes, escaping only what a message needs.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
