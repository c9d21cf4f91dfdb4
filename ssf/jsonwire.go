package ssf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/sigshare/sigshare/internal/jsonwire"
)

// MemberError reports a JSON member that is missing, has the wrong JSON type or an
// invalid value. Decoding and every Validate method in this package return it (several
// of them joined with errors.Join when more than one member is wrong), so a caller can
// tell exactly which member to fix.
type MemberError struct {
	// Object names the object, e.g. "stream configuration" or "poll request".
	Object string
	// Member is the path of the member inside Object, e.g. "delivery.endpoint_url",
	// "events_requested[2]" or "setErrs.4d35…" ; empty when the problem is the object
	// itself (for example a JSON array where an object was expected).
	Member string
	// Err says what is wrong.
	Err error
}

// Error implements error.
func (e *MemberError) Error() string {
	if e.Member == "" {
		return "ssf: " + e.Object + ": " + e.Err.Error()
	}
	return "ssf: " + e.Object + " member " + strconv.Quote(e.Member) + ": " + e.Err.Error()
}

// Unwrap returns the underlying problem.
func (e *MemberError) Unwrap() error { return e.Err }

func memberErr(object, member, format string, args ...any) *MemberError {
	return &MemberError{Object: object, Member: member, Err: fmt.Errorf(format, args...)}
}

// jsonKind names the JSON type of a raw value for error messages.
func jsonKind(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

func isNull(raw []byte) bool { return jsonKind(raw) == "null" }

// decoder decodes the members of one JSON object, recording the first problem per
// member. Members it consumes are removed; whatever is left is the object's Extra.
type decoder struct {
	object  string // name of the outermost object, for MemberError.Object
	prefix  string // path of this object inside the outermost one, "" or "delivery."
	members map[string]json.RawMessage
	errs    []error
}

// newDecoder parses data as a JSON object. A top-level value that is not an object
// (including null) is an error.
func newDecoder(object, prefix string, data []byte) (*decoder, error) {
	d := &decoder{object: object, prefix: prefix}
	if k := jsonKind(data); k != "object" {
		return nil, d.fail("", "want a JSON object, got %s", k)
	}
	if err := json.Unmarshal(data, &d.members); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &MemberError{Object: object, Member: trimDot(prefix), Err: fmt.Errorf("malformed JSON at offset %d: %w", se.Offset, err)}
		}
		return nil, &MemberError{Object: object, Member: trimDot(prefix), Err: err}
	}
	return d, nil
}

func trimDot(p string) string {
	if len(p) > 0 && p[len(p)-1] == '.' {
		return p[:len(p)-1]
	}
	return p
}

func (d *decoder) fail(name, format string, args ...any) *MemberError {
	return memberErr(d.object, trimDot(d.prefix+name), format, args...)
}

func (d *decoder) addErr(err error) {
	if err != nil {
		d.errs = append(d.errs, err)
	}
}

// take removes and returns the member name; ok is false when it is absent or null.
func (d *decoder) take(name string) (json.RawMessage, bool) {
	raw, ok := d.members[name]
	if !ok {
		return nil, false
	}
	delete(d.members, name)
	if isNull(raw) {
		return nil, false
	}
	return raw, true
}

// str decodes a string member; ok reports presence.
func (d *decoder) str(name string) (string, bool) {
	raw, ok := d.take(name)
	if !ok {
		return "", false
	}
	s, err := decodeString(raw)
	if err != nil {
		d.addErr(d.fail(name, "%v", err))
		return "", false
	}
	return s, true
}

// strs decodes an array-of-strings member. A present empty array yields an empty,
// non-nil slice; an absent member yields nil.
func (d *decoder) strs(name string) []string {
	raw, ok := d.take(name)
	if !ok {
		return nil
	}
	v, idx, err := decodeStrings(raw)
	if err != nil {
		if idx >= 0 {
			d.addErr(d.fail(name+"["+strconv.Itoa(idx)+"]", "%v", err))
		} else {
			d.addErr(d.fail(name, "%v", err))
		}
		return nil
	}
	return v
}

func (d *decoder) boolean(name string) (bool, bool) {
	raw, ok := d.take(name)
	if !ok {
		return false, false
	}
	switch string(bytes.TrimSpace(raw)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	d.addErr(d.fail(name, "want a boolean, got %s", jsonKind(raw)))
	return false, false
}

// nonNegInt decodes a non-negative integer member. Integral numbers written with a
// fraction or exponent (30.0, 3e1) are accepted.
func (d *decoder) nonNegInt(name string) *int {
	raw, ok := d.take(name)
	if !ok {
		return nil
	}
	n, err := decodeNonNegInt(raw)
	if err != nil {
		d.addErr(d.fail(name, "%v", err))
		return nil
	}
	return &n
}

// rest returns the remaining members (nil when none) and the collected errors.
func (d *decoder) rest() (map[string]json.RawMessage, error) {
	var extra map[string]json.RawMessage
	if len(d.members) > 0 {
		extra = d.members
	}
	return extra, errors.Join(d.errs...)
}

// wireRules are the JSON rules of the SSF wire model: exactly what encoding/json accepts,
// which decodes every message before its members are looked at.
func wireRules() jsonwire.Rules { return jsonwire.Rules{} }

// wireEscaping is how strings are written: exactly as encoding/json writes them
// (HTML-safe, invalid UTF-8 replaced by U+FFFD, U+2028/U+2029 escaped), except that
// U+0008 and U+000C are written \u0008 and \u000c.
const wireEscaping = jsonwire.EscapeHTML | jsonwire.EscapeLineTerminators | jsonwire.ReplaceInvalidUTF8

func decodeString(raw []byte) (string, error) {
	raw = bytes.TrimSpace(raw)
	if k := jsonKind(raw); k != "string" {
		return "", fmt.Errorf("want a string, got %s", k)
	}
	if end, err := wireRules().Skip(raw, 0); err != nil || end != len(raw) {
		var s string
		return "", json.Unmarshal(raw, &s) // says what is wrong, as encoding/json does
	}
	return wireRules().Unquote(raw), nil
}

// decodeStrings decodes an array of strings; idx is the index of a non-string element
// or -1.
func decodeStrings(raw []byte) ([]string, int, error) {
	if k := jsonKind(raw); k != "array" {
		return nil, -1, fmt.Errorf("want an array of strings, got %s", k)
	}
	var r jsonwire.ArrayReader
	_ = r.Reset(raw, wireRules()) // raw starts with '[': failures show in Err
	out := []string{}
	bad, badKind := -1, ""
	for r.Next() {
		if bad >= 0 {
			continue // the rest is only checked: malformed JSON is reported first
		}
		s, ok := r.Unquoted()
		if !ok {
			bad, badKind = r.Index(), jsonKind(r.Value())
			continue
		}
		out = append(out, s)
	}
	if r.Err() != nil {
		var elems []json.RawMessage
		return nil, -1, json.Unmarshal(raw, &elems) // says what is wrong, as encoding/json does
	}
	if bad >= 0 {
		return nil, bad, fmt.Errorf("want a string, got %s", badKind)
	}
	return out, -1, nil
}

func decodeNonNegInt(raw []byte) (int, error) {
	if k := jsonKind(raw); k != "number" {
		return 0, fmt.Errorf("want a non-negative integer, got %s", k)
	}
	s := string(bytes.TrimSpace(raw))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("want a non-negative integer, got %d", n)
		}
		return int(n), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f >= 1<<63 {
		return 0, fmt.Errorf("want a non-negative integer, got %s", s)
	}
	return int(f), nil
}

// encoder writes one JSON object member by member.
type encoder struct {
	buf   []byte
	first bool
}

func newEncoder() *encoder { return newEncoderSize(256) }

// newEncoderSize returns an encoder whose buffer starts with capacity n.
func newEncoderSize(n int) *encoder {
	return &encoder{buf: append(make([]byte, 0, n), '{'), first: true}
}

func (e *encoder) name(n string) {
	if !e.first {
		e.buf = append(e.buf, ',')
	}
	e.first = false
	e.buf = appendJSONString(e.buf, n)
	e.buf = append(e.buf, ':')
}

func (e *encoder) str(n, v string) {
	e.name(n)
	e.buf = appendJSONString(e.buf, v)
}

// optStr writes the member only when v is not empty.
func (e *encoder) optStr(n, v string) {
	if v != "" {
		e.str(n, v)
	}
}

func (e *encoder) strs(n string, v []string) {
	e.name(n)
	e.buf = appendStrings(e.buf, v)
}

func (e *encoder) integer(n string, v int) {
	e.name(n)
	e.buf = strconv.AppendInt(e.buf, int64(v), 10)
}

func (e *encoder) boolean(n string, v bool) {
	e.name(n)
	e.buf = strconv.AppendBool(e.buf, v)
}

func (e *encoder) raw(n string, v []byte) {
	e.name(n)
	e.buf = append(e.buf, v...)
}

// extra writes the Extra members in sorted order. A member whose name is reserved
// (defined by the type, or a legacy synonym it consumes on input) or whose value is not
// valid JSON is an error.
func (e *encoder) extra(object string, extra map[string]json.RawMessage, reserved func(string) bool) error {
	if len(extra) == 0 {
		return nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if reserved(k) {
			return memberErr(object, k, "extra member collides with a member this type defines or consumes")
		}
		v := extra[k]
		if !json.Valid(v) {
			return memberErr(object, k, "extra member is not valid JSON")
		}
		e.name(k)
		e.buf = append(e.buf, bytes.TrimSpace(v)...)
	}
	return nil
}

func (e *encoder) bytes() []byte { return append(e.buf, '}') }

func appendStrings(b []byte, v []string) []byte {
	return jsonwire.AppendStrings(b, v, wireEscaping)
}

// appendJSONString appends s as a JSON string the way encoding/json writes it; see
// wireEscaping.
func appendJSONString(b []byte, s string) []byte {
	return jsonwire.AppendString(b, s, wireEscaping)
}
