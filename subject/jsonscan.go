package subject

import (
	"bytes"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the small JSON scanner Parse runs on every SET's hot path. It validates
// the complete document (RFC 8259 grammar, UTF-8 strings, no lone surrogates), rejects
// duplicate member names in every object at every depth (SEC-19) and hands back the
// members of one object as slices of the input, so that decoding an identifier allocates
// little more than the strings it keeps. encoding/json (v1) cannot report duplicate names.

// maxDepth is the deepest nesting of arrays and objects a subject document may have
// (SEC-19: cap nesting depth). A Complex Subject holding an aliases member whose
// identifier carries an extra object member needs 5 levels; the rest is headroom for
// members of unknown formats.
const maxDepth = 64

// smallNames is how many member names an object may have before duplicate detection
// switches from a linear scan to a map.
const smallNames = 16

// jsonKind is the type of a JSON value, known from its first byte.
type jsonKind uint8

const (
	kindInvalid jsonKind = iota
	kindString
	kindNumber
	kindObject
	kindArray
	kindBool
	kindNull
)

// String names the JSON type, for error messages.
func (k jsonKind) String() string {
	switch k {
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindObject:
		return "an object"
	case kindArray:
		return "an array"
	case kindBool:
		return "a boolean"
	case kindNull:
		return "null"
	}
	return "invalid"
}

// member is one member of a scanned JSON object.
type member struct {
	name  []byte   // the decoded name (a slice of the input when it has no escapes)
	value []byte   // the value exactly as written in the input
	kind  jsonKind // the value's JSON type
}

// is reports whether the member's name is name, without allocating.
func (m *member) is(name string) bool { return string(m.name) == name }

// nameSet detects duplicate member names within one object.
type nameSet struct {
	small [smallNames][]byte
	n     int
	big   map[string]struct{}
}

// add records name and reports whether it was already present.
func (s *nameSet) add(name []byte) (dup bool) {
	if s.big != nil {
		if _, ok := s.big[string(name)]; ok {
			return true
		}
		s.big[string(name)] = struct{}{}
		return false
	}
	for _, have := range s.small[:s.n] {
		if bytes.Equal(have, name) {
			return true
		}
	}
	if s.n < smallNames {
		s.small[s.n] = name
		s.n++
		return false
	}
	s.big = make(map[string]struct{}, 2*smallNames)
	for _, have := range s.small[:s.n] {
		s.big[string(have)] = struct{}{}
	}
	s.big[string(name)] = struct{}{}
	return false
}

// scanner walks one JSON text.
type scanner struct {
	data []byte
	pos  int
}

// syntaxError reports malformed JSON at the scanner's position.
func (s *scanner) syntaxError(what string) error {
	return &Error{Reason: "invalid JSON at offset " + strconv.Itoa(s.pos) + ": " + what}
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// scanObject validates data as one JSON object (surrounding whitespace allowed) and
// appends its members to dst. Every nested value is validated too.
func scanObject(data []byte, dst []member) ([]member, error) {
	s := scanner{data: data}
	s.skipSpace()
	if s.pos >= len(data) {
		return nil, &Error{Reason: "empty input, want a JSON object"}
	}
	if data[s.pos] != '{' {
		if k := kindOf(data[s.pos]); k != kindInvalid {
			return nil, &Error{Reason: "is " + k.String() + ", want a JSON object"}
		}
		return nil, s.syntaxError("want a JSON object")
	}
	s.pos++
	dst, err := s.objectMembers(dst, 1)
	if err != nil {
		return nil, err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return nil, s.syntaxError("data after the JSON object")
	}
	return dst, nil
}

// scanArray validates data as one JSON array and appends the raw elements to dst.
func scanArray(data []byte, dst [][]byte) ([][]byte, error) {
	s := scanner{data: data}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '[' {
		return nil, s.syntaxError("want a JSON array")
	}
	s.pos++
	s.skipSpace()
	if s.pos < len(data) && data[s.pos] == ']' {
		s.pos++
		return dst, nil
	}
	for {
		s.skipSpace()
		start := s.pos
		if _, err := s.skipValue(1); err != nil {
			return nil, err
		}
		dst = append(dst, data[start:s.pos])
		s.skipSpace()
		if s.pos >= len(data) {
			return nil, s.syntaxError("unterminated array")
		}
		switch data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return dst, nil
		default:
			return nil, s.syntaxError("want ',' or ']' in array")
		}
	}
}

// validJSON reports whether data is exactly one valid JSON value under the scanner's
// rules (including duplicate-name rejection).
func validJSON(data []byte) error {
	s := scanner{data: data}
	s.skipSpace()
	if _, err := s.skipValue(0); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return s.syntaxError("data after the JSON value")
	}
	return nil
}

func kindOf(c byte) jsonKind {
	switch {
	case c == '"':
		return kindString
	case c == '{':
		return kindObject
	case c == '[':
		return kindArray
	case c == 't' || c == 'f':
		return kindBool
	case c == 'n':
		return kindNull
	case c == '-' || (c >= '0' && c <= '9'):
		return kindNumber
	}
	return kindInvalid
}

// objectMembers scans the members of an object whose '{' was consumed, through the
// closing '}'.
func (s *scanner) objectMembers(dst []member, depth int) ([]member, error) {
	var names nameSet
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return dst, nil
	}
	for {
		s.skipSpace()
		name, err := s.memberName(&names)
		if err != nil {
			return nil, err
		}
		s.skipSpace()
		start := s.pos
		kind, err := s.skipValue(depth)
		if err != nil {
			return nil, err
		}
		dst = append(dst, member{name: name, value: s.data[start:s.pos], kind: kind})
		s.skipSpace()
		if s.pos >= len(s.data) {
			return nil, s.syntaxError("unterminated object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return dst, nil
		default:
			return nil, s.syntaxError("want ',' or '}' in object")
		}
	}
}

// memberName scans `"name" :`, records the decoded name in names and returns it.
func (s *scanner) memberName(names *nameSet) ([]byte, error) {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, s.syntaxError("want a member name")
	}
	start := s.pos
	escaped, err := s.skipString()
	if err != nil {
		return nil, err
	}
	name := s.data[start+1 : s.pos-1]
	if escaped {
		name = unescape(nil, name)
	}
	if names.add(name) {
		return nil, &Error{Member: string(name), Reason: "appears more than once (duplicate member name)"}
	}
	s.skipSpace()
	if s.pos >= len(s.data) || s.data[s.pos] != ':' {
		return nil, s.syntaxError("want ':' after member name")
	}
	s.pos++
	return name, nil
}

// skipValue validates one value starting at s.pos and returns its kind. depth is the
// nesting level of the container holding the value.
func (s *scanner) skipValue(depth int) (jsonKind, error) {
	if s.pos >= len(s.data) {
		return kindInvalid, s.syntaxError("unexpected end of input, want a value")
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		_, err := s.skipString()
		return kindString, err
	case c == '{':
		if depth+1 > maxDepth {
			return kindInvalid, s.syntaxError("nesting deeper than " + strconv.Itoa(maxDepth))
		}
		s.pos++
		var names nameSet
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == '}' {
			s.pos++
			return kindObject, nil
		}
		for {
			s.skipSpace()
			if _, err := s.memberName(&names); err != nil {
				return kindInvalid, err
			}
			s.skipSpace()
			if _, err := s.skipValue(depth + 1); err != nil {
				return kindInvalid, err
			}
			s.skipSpace()
			if s.pos >= len(s.data) {
				return kindInvalid, s.syntaxError("unterminated object")
			}
			switch s.data[s.pos] {
			case ',':
				s.pos++
			case '}':
				s.pos++
				return kindObject, nil
			default:
				return kindInvalid, s.syntaxError("want ',' or '}' in object")
			}
		}
	case c == '[':
		if depth+1 > maxDepth {
			return kindInvalid, s.syntaxError("nesting deeper than " + strconv.Itoa(maxDepth))
		}
		s.pos++
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == ']' {
			s.pos++
			return kindArray, nil
		}
		for {
			s.skipSpace()
			if _, err := s.skipValue(depth + 1); err != nil {
				return kindInvalid, err
			}
			s.skipSpace()
			if s.pos >= len(s.data) {
				return kindInvalid, s.syntaxError("unterminated array")
			}
			switch s.data[s.pos] {
			case ',':
				s.pos++
			case ']':
				s.pos++
				return kindArray, nil
			default:
				return kindInvalid, s.syntaxError("want ',' or ']' in array")
			}
		}
	case c == 't':
		return kindBool, s.literal("true")
	case c == 'f':
		return kindBool, s.literal("false")
	case c == 'n':
		return kindNull, s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return kindNumber, s.skipNumber()
	}
	return kindInvalid, s.syntaxError("want a value")
}

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(lit)) {
		return s.syntaxError("invalid literal")
	}
	s.pos += len(lit)
	return nil
}

// skipNumber validates -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) skipNumber() error {
	d := s.data
	if s.pos < len(d) && d[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(d) && d[s.pos] == '0':
		s.pos++
	case s.pos < len(d) && d[s.pos] >= '1' && d[s.pos] <= '9':
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
		}
	default:
		return s.syntaxError("invalid number")
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if s.pos >= len(d) || d[s.pos] < '0' || d[s.pos] > '9' {
			return s.syntaxError("invalid number: no digit after '.'")
		}
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if s.pos >= len(d) || d[s.pos] < '0' || d[s.pos] > '9' {
			return s.syntaxError("invalid number: no digit in exponent")
		}
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
		}
	}
	return nil
}

// plainByte marks the bytes a string can contain that need no further check: printable
// ASCII other than the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipString validates a string starting at the opening quote and leaves s.pos after the
// closing quote. It reports whether the string contains escape sequences.
func (s *scanner) skipString() (escaped bool, err error) {
	d := s.data
	s.pos++ // opening quote
	start := s.pos
	nonASCII := false
	for {
		i := s.pos
		for i < len(d) && plainByte[d[i]] {
			i++
		}
		s.pos = i
		if s.pos >= len(d) {
			return false, s.syntaxError("unterminated string")
		}
		c := d[s.pos]
		switch {
		case c == '"':
			if nonASCII && !utf8.Valid(d[start:s.pos]) {
				for s.pos = start; ; {
					r, size := utf8.DecodeRune(d[s.pos:])
					if r == utf8.RuneError && size <= 1 {
						return false, s.syntaxError("string is not valid UTF-8")
					}
					s.pos += size
				}
			}
			s.pos++
			return escaped, nil
		case c == '\\':
			escaped = true
			if err := s.skipEscape(); err != nil {
				return false, err
			}
		case c < 0x20:
			return false, s.syntaxError("control character in string")
		default:
			if c >= utf8.RuneSelf {
				nonASCII = true
			}
			s.pos++
		}
	}
}

// skipEscape validates one escape sequence at s.pos (the backslash).
func (s *scanner) skipEscape() error {
	d := s.data
	if s.pos+1 >= len(d) {
		return s.syntaxError("unterminated escape")
	}
	switch d[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return nil
	case 'u':
		r, ok := hex4(d[s.pos+2:])
		if !ok {
			return s.syntaxError(`invalid \u escape`)
		}
		if r >= 0xDC00 && r <= 0xDFFF {
			return s.syntaxError("lone low surrogate in string")
		}
		s.pos += 6
		if utf16.IsSurrogate(r) {
			var r2 rune
			if s.pos+1 < len(d) && d[s.pos] == '\\' && d[s.pos+1] == 'u' {
				r2, ok = hex4(d[s.pos+2:])
			} else {
				ok = false
			}
			if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
				return s.syntaxError("lone high surrogate in string")
			}
			s.pos += 6
		}
		return nil
	}
	return s.syntaxError("invalid escape")
}

// hex4 decodes four hexadecimal digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unescape appends the decoded content of a validated string body (without quotes).
func unescape(dst, body []byte) []byte {
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			j := bytes.IndexByte(body[i:], '\\')
			if j < 0 {
				return append(dst, body[i:]...)
			}
			dst = append(dst, body[i:i+j]...)
			i += j
			continue
		}
		switch e := body[i+1]; e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(body[i+2:])
			if utf16.IsSurrogate(r) {
				r2, _ := hex4(body[i+8:])
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		}
		i += 2
	}
	return dst
}

// stringValue decodes a validated JSON string value (with its quotes).
func stringValue(raw []byte) string {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body)
	}
	return string(unescape(make([]byte, 0, len(body)), body))
}

// appendString appends s as a JSON string. It escapes only what JSON requires: the quote,
// the backslash and control characters (short forms where JSON has them). Other
// characters, including non-ASCII ones, are written as UTF-8. The output is the same for
// every input spelling of the same string, which Canonical relies on.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			const hex = "0123456789abcdef"
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// compactJSON appends a validated JSON value without insignificant whitespace, keeping
// every token (including string escapes and number spellings) as written.
func compactJSON(dst, raw []byte) []byte {
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inString {
			dst = append(dst, c)
			switch c {
			case '\\':
				i++
				dst = append(dst, raw[i])
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inString = true
		}
		dst = append(dst, c)
	}
	return dst
}
