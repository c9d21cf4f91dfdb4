package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/sigshare/sigshare/internal/jsonwire"
)

// PayloadReader walks the members of one event payload, a JSON object, in document
// order. Typed events use it in their UnmarshalJSON methods: the payload is validated and
// split in a single pass, each member is decoded straight into its field, and members the
// event type does not define are kept verbatim (SSF §4.2.3, SET-12):
//
//	func (e *AccountDisabled) UnmarshalJSON(data []byte) error {
//		r, err := event.NewPayloadReader(EventTypeAccountDisabled, data)
//		if err != nil {
//			return err
//		}
//		for r.Next() {
//			switch r.Name() {
//			case "reason":
//				e.Reason = DisabledReason(r.ReadString())
//			default:
//				r.Keep(&e.Extra)
//			}
//		}
//		return r.Err()
//	}
//
// The Read methods decode the current member's value. A value of the wrong JSON type is
// recorded as an error (an *Error wrapping ErrInvalid that names the member), after which
// Next returns false and Err returns that error; the Read method then returns the zero
// value. Every Read method treats JSON null as an absent member and returns the zero
// value. When a member name occurs more than once, each occurrence is visited in turn, so
// the last one wins (as with encoding/json, and as RFC 7519 §4 permits).
//
// The whole object, nested values included, is checked to be well-formed JSON while it
// is walked; malformed JSON is reported by Err once Next returns false. A PayloadReader
// reads data in place: Raw returns a slice of it; Keep copies.
type PayloadReader struct {
	typ  string
	r    jsonwire.ObjectReader
	name string // the current member's name, once asked for
	err  error
}

// NewPayloadReader starts reading data, which must be a JSON object, as the payload of
// an event of type typeURI (used in error messages). It fails when data does not start
// with a JSON object.
func NewPayloadReader(typeURI string, data []byte) (*PayloadReader, error) {
	if i := jsonwire.SkipSpace(data, 0); i < len(data) && data[i] != '{' {
		if _, err := payloadRules().Skip(data, i); err != nil {
			return nil, &Error{Type: typeURI, Reason: "is not valid JSON", Err: err}
		}
		return nil, &Error{Type: typeURI, Reason: "must be a JSON object, not " + kind(data[i:])}
	}
	r := &PayloadReader{typ: typeURI}
	if err := r.r.Reset(data, payloadRules()); err != nil {
		return nil, r.syntax(err)
	}
	return r, nil
}

// Next moves to the next member. It returns false at the end of the object or after an
// error; Err tells which.
func (r *PayloadReader) Next() bool {
	if r.err != nil {
		return false
	}
	if !r.r.Next() {
		if err := r.r.Err(); err != nil {
			r.err = r.syntax(err)
		}
		return false
	}
	r.name = ""
	return true
}

func (r *PayloadReader) syntax(err error) *Error {
	return &Error{Type: r.typ, Reason: "is not valid JSON", Err: err}
}

// Err returns the first error met: malformed JSON or a member of the wrong type.
func (r *PayloadReader) Err() error { return r.err }

// Key returns the current member's name as bytes, without allocating unless the name
// holds escape sequences or invalid UTF-8. Use it to dispatch on the name:
// `switch string(r.Key())` compares without converting. The slice aliases the data being
// read and must not be modified.
func (r *PayloadReader) Key() []byte { return r.r.Name() }

// Name returns the current member's name.
func (r *PayloadReader) Name() string {
	if r.name == "" {
		r.name = string(r.r.Name())
	}
	return r.name
}

// Raw returns the current member's value as raw JSON. It aliases the data being read:
// copy it to keep it beyond the UnmarshalJSON call.
func (r *PayloadReader) Raw() json.RawMessage { return r.r.Value() }

// Keep stores a copy of the current member in *extra under its name, allocating the map
// when it is nil. Typed events use it for members their event type does not define.
func (r *PayloadReader) Keep(extra *map[string]json.RawMessage) {
	if *extra == nil {
		*extra = make(map[string]json.RawMessage, 2)
	}
	(*extra)[r.Name()] = bytes.Clone(r.r.Value())
}

// Fail records an error about the current member (unless one is recorded already), e.g.
// a value of the right JSON type that the event type does not allow. Next then returns
// false.
func (r *PayloadReader) Fail(reason string, err error) {
	if r.err == nil {
		r.err = &Error{Type: r.typ, Member: r.Name(), Reason: reason, Err: err}
	}
}

func (r *PayloadReader) wrongType(want string) {
	r.Fail("must be "+want+", not "+r.r.Kind().String(), nil)
}

func (r *PayloadReader) isNull() bool { return r.r.Kind() == jsonwire.Null }

// ReadString returns the current member's value, which must be a JSON string.
func (r *PayloadReader) ReadString() string {
	if s, ok := r.r.Unquoted(); ok {
		return s
	}
	if !r.isNull() {
		r.wrongType("a JSON string")
	}
	return ""
}

// ReadTimestamp returns the current member's value, which must be a JSON number of
// seconds since the epoch; see Timestamp.
func (r *PayloadReader) ReadTimestamp() Timestamp {
	if r.isNull() {
		return 0
	}
	t, err := parseTimestamp(r.r.Value())
	if err != nil {
		r.Fail(err.Error(), nil)
	}
	return t
}

// ReadLocalized returns the current member's value, which must be a JSON object whose
// values are JSON strings; see Localized. (An empty object decodes to an empty, non-nil
// map, which Localized.Validate rejects.)
func (r *PayloadReader) ReadLocalized() Localized {
	v := r.r.Value()
	switch v[0] {
	case '{':
		l, err := parseLocalized(v)
		if err != nil {
			r.Fail(err.Error(), nil)
			return nil
		}
		return l
	case 'n':
		return nil
	}
	r.wrongType("a JSON object of language-tagged strings")
	return nil
}

// ReadStrings returns the current member's value, which must be a JSON array of strings.
// An empty array decodes to an empty, non-nil slice.
func (r *PayloadReader) ReadStrings() []string {
	v := r.r.Value()
	switch v[0] {
	case '[':
		var a jsonwire.ArrayReader
		if err := a.Reset(v, payloadRules()); err != nil {
			r.Fail(err.Error(), nil)
			return nil
		}
		out := []string{}
		for a.Next() {
			s, ok := a.Unquoted()
			if !ok {
				r.Fail(fmt.Sprintf("must be an array of JSON strings, but element %d is %s", a.Index(), a.Kind()), nil)
				return nil
			}
			out = append(out, s)
		}
		if err := a.Err(); err != nil {
			r.Fail(err.Error(), nil)
			return nil
		}
		return out
	case 'n':
		return nil
	}
	r.wrongType("a JSON array of strings")
	return nil
}

// ReadObject returns the current member's value, which must be a JSON object, decoded
// with encoding/json into a map whose numbers are json.Number (so that they keep their
// exact text). An empty object decodes to an empty, non-nil map.
func (r *PayloadReader) ReadObject() map[string]any {
	v := r.r.Value()
	switch v[0] {
	case '{':
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			r.Fail("is malformed", err)
			return nil
		}
		return m
	case 'n':
		return nil
	}
	r.wrongType("a JSON object")
	return nil
}

// ReadInto decodes the current member's value into v with encoding/json, for members of
// other types.
func (r *PayloadReader) ReadInto(v any) {
	if err := json.Unmarshal(r.r.Value(), v); err != nil {
		r.Fail("is malformed", err)
	}
}

// parseTimestamp parses a JSON number as whole seconds.
func parseTimestamp(v []byte) (Timestamp, error) {
	if jsonwire.KindOfValue(v) != jsonwire.Number {
		return 0, fmt.Errorf("must be a JSON number of seconds, not %s", kind(v))
	}
	if !bytes.ContainsAny(v, ".eE") {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("is out of range (%s)", v)
		}
		return Timestamp(n), nil
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, fmt.Errorf("is out of range (%s)", v)
	}
	return Timestamp(math.Floor(f)), nil
}
