package event

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/sigshare/sigshare/internal/jsonwire"
)

// PayloadWriter builds the JSON object of one event payload. Typed events use it in
// their MarshalJSON methods, the counterpart of PayloadReader:
//
//	func (e AccountDisabled) MarshalJSON() ([]byte, error) {
//		if err := e.Validate(); err != nil {
//			return nil, err
//		}
//		w := event.NewPayloadWriter(EventTypeAccountDisabled, e.Extra)
//		w.String("reason", string(e.Reason))
//		return w.Bytes()
//	}
//
// Each method writes one member the event type defines, or omits it when its value is
// the zero value (absent). Bytes then appends the extra members, sorted by name, except
// those whose name is one the event type defines (a method was called for that name):
// a defined member is always written from its field, never from the extra members.
type PayloadWriter struct {
	typ   string
	buf   []byte
	n     int // members written
	extra map[string]json.RawMessage
	known []string // names of defined members, tracked only when there are extras
	err   error
}

// NewPayloadWriter starts the payload of an event of type typeURI (used in error
// messages) whose unknown members are extra (may be nil).
func NewPayloadWriter(typeURI string, extra map[string]json.RawMessage) *PayloadWriter {
	w := &PayloadWriter{typ: typeURI, buf: make([]byte, 1, 128), extra: extra}
	w.buf[0] = '{'
	return w
}

func (w *PayloadWriter) name(name string) {
	if len(w.extra) > 0 {
		w.known = append(w.known, name)
	}
	if w.n > 0 {
		w.buf = append(w.buf, ',')
	}
	w.n++
	w.buf = appendString(w.buf, name)
	w.buf = append(w.buf, ':')
}

func (w *PayloadWriter) skip(name string) {
	if len(w.extra) > 0 {
		w.known = append(w.known, name)
	}
}

// String writes a string member; an empty value is omitted.
func (w *PayloadWriter) String(name, value string) {
	if value == "" {
		w.skip(name)
		return
	}
	w.name(name)
	w.buf = appendString(w.buf, value)
}

// Timestamp writes a Timestamp member as an integer; zero is omitted.
func (w *PayloadWriter) Timestamp(name string, t Timestamp) {
	if t == 0 {
		w.skip(name)
		return
	}
	w.name(name)
	w.buf = strconv.AppendInt(w.buf, int64(t), 10)
}

// Localized writes a Localized member with its tags sorted; nil or empty is omitted.
func (w *PayloadWriter) Localized(name string, l Localized) {
	if len(l) == 0 {
		w.skip(name)
		return
	}
	w.name(name)
	w.buf = append(w.buf, '{')
	for i, tag := range l.Tags() {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = appendString(w.buf, tag)
		w.buf = append(w.buf, ':')
		w.buf = appendString(w.buf, l[tag])
	}
	w.buf = append(w.buf, '}')
}

// Strings writes an array of strings; nil is omitted (an empty, non-nil slice is
// written as []).
func (w *PayloadWriter) Strings(name string, s []string) {
	if s == nil {
		w.skip(name)
		return
	}
	w.name(name)
	w.buf = jsonwire.AppendStrings(w.buf, s, payloadEscaping)
}

// Object writes a JSON object member encoded with encoding/json; nil is omitted.
func (w *PayloadWriter) Object(name string, m map[string]any) {
	if m == nil {
		w.skip(name)
		return
	}
	b, err := json.Marshal(m)
	if err != nil {
		w.fail(name, "cannot be encoded", err)
		w.skip(name)
		return
	}
	w.name(name)
	w.buf = append(w.buf, b...)
}

// Raw writes a member whose value is raw JSON; nil is omitted. The value must be valid
// JSON.
func (w *PayloadWriter) Raw(name string, v json.RawMessage) {
	if v == nil {
		w.skip(name)
		return
	}
	if !json.Valid(v) {
		w.fail(name, "is not valid JSON", nil)
		w.skip(name)
		return
	}
	w.name(name)
	w.buf = append(w.buf, v...)
}

func (w *PayloadWriter) fail(name, reason string, err error) {
	if w.err == nil {
		w.err = &Error{Type: w.typ, Member: name, Reason: reason, Err: err}
	}
}

// Bytes appends the extra members and returns the payload, or the first error met (an
// *Error wrapping ErrInvalid: a value that cannot be encoded or an extra member that is
// not valid JSON).
func (w *PayloadWriter) Bytes() ([]byte, error) {
	if len(w.extra) > 0 {
		names := make([]string, 0, len(w.extra))
		for name := range w.extra {
			if !slices.Contains(w.known, name) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			v := w.extra[name]
			if !json.Valid(v) {
				w.fail(name, "is not valid JSON", nil)
				continue
			}
			w.name(name)
			w.buf = append(w.buf, v...)
		}
	}
	if w.err != nil {
		return nil, w.err
	}
	return append(w.buf, '}'), nil
}

// payloadEscaping is how the writer escapes strings: as encoding/json does (invalid UTF-8
// replaced with U+FFFD, U+2028 and U+2029 escaped) but without HTML escaping.
const payloadEscaping = jsonwire.EscapeLineTerminators | jsonwire.ReplaceInvalidUTF8

// appendString appends s as a JSON string escaped as payloadEscaping says.
func appendString(b []byte, s string) []byte {
	return jsonwire.AppendString(b, s, payloadEscaping)
}
