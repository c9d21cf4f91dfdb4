// Package jsonwire is the JSON machinery of the SDK core: a validating scanner and a
// writer for the JSON text of SETs (RFC 8417), subject identifiers (RFC 9493, SSF §3),
// event payloads (SSF §4.2) and the SSF wire model (SSF §7, §8).
//
// The scanner checks the RFC 8259 grammar and, as [Rules] select, the I-JSON string
// rules (RFC 7493 §2.1: UTF-8, no unpaired surrogates), unique member names (SEC-19) and
// a nesting limit (SEC-19). It reads in place: member names and values are slices of the
// input, so that reading an object allocates nothing but what the caller keeps.
// encoding/json (v1) can do neither: it does not report duplicate member names and
// decodes through reflection. With the zero Rules the scanner accepts exactly what
// encoding/json accepts, and [Rules.Unquote] decodes strings exactly as encoding/json
// does.
//
//   - [Rules.Valid] checks one whole JSON text; [Rules.Skip] checks one value and finds
//     its end; [FindEnd] only finds the end of a value another parser checks.
//   - [ObjectReader] walks the members of an object in one pass, [ArrayReader] the
//     elements of an array.
//   - [Rules.Unquote] and [Rules.UnquoteBytes] decode a JSON string.
//   - [AppendString], [AppendStrings] and [AppendCompact] write JSON; [Escaping] selects
//     how strings are escaped.
//
// Policy stays with the callers: which Rules apply, what a duplicate name means, which
// messages an error becomes.
package jsonwire
