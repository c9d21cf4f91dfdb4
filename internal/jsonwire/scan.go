package jsonwire

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// DefaultMaxDepth is the nesting limit of the zero Rules, the one encoding/json has.
const DefaultMaxDepth = 10000

// Rules select what the scanner checks beyond the RFC 8259 grammar. The zero value
// accepts exactly what encoding/json (v1) accepts.
type Rules struct {
	// MaxDepth is the deepest nesting of arrays and objects accepted; the outermost
	// array or object is level 1. Zero means DefaultMaxDepth.
	MaxDepth int
	// StrictStrings rejects strings that are not valid UTF-8 or hold an escaped
	// surrogate that is not part of a pair (RFC 7493 §2.1). When false such strings are
	// accepted, as encoding/json does, and Unquote replaces the bad parts with U+FFFD.
	StrictStrings bool
	// UniqueNames rejects an object that has a member name twice (compared after
	// decoding escapes), at every depth, with a *DuplicateNameError. When false
	// duplicates are accepted; ObjectReader then visits each occurrence.
	UniqueNames bool
}

func (r Rules) maxDepth() int {
	if r.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return r.MaxDepth
}

// Kind is the JSON type of a value, known from its first byte.
type Kind uint8

// The JSON types.
const (
	Invalid Kind = iota // not the start of a JSON value, or no value at all
	String
	Number
	Object
	Array
	Bool
	Null
)

// String names the type for error messages: "a string", "an object", "null", …
// ("nothing" for Invalid).
func (k Kind) String() string {
	switch k {
	case String:
		return "a string"
	case Number:
		return "a number"
	case Object:
		return "an object"
	case Array:
		return "an array"
	case Bool:
		return "a boolean"
	case Null:
		return "null"
	}
	return "nothing"
}

// KindOf returns the kind of the value that starts with c.
func KindOf(c byte) Kind {
	switch {
	case c == '"':
		return String
	case c == '{':
		return Object
	case c == '[':
		return Array
	case c == 't' || c == 'f':
		return Bool
	case c == 'n':
		return Null
	case c == '-' || (c >= '0' && c <= '9'):
		return Number
	}
	return Invalid
}

// KindOfValue returns the kind of a raw value without leading white space (Invalid when
// raw is empty).
func KindOfValue(raw []byte) Kind {
	if len(raw) == 0 {
		return Invalid
	}
	return KindOf(raw[0])
}

// SyntaxError reports JSON that breaks the grammar or the Rules.
type SyntaxError struct {
	// Offset is the byte offset in the input where the problem was found.
	Offset int
	// Reason says what is wrong, e.g. "want ':' after member name".
	Reason string
}

// Error returns "invalid JSON at offset N: reason".
func (e *SyntaxError) Error() string {
	return "invalid JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// DuplicateNameError reports a member name that occurs twice in one object, under
// Rules.UniqueNames.
type DuplicateNameError struct {
	// Name is the member name, decoded.
	Name string
	// Offset is the byte offset of the second occurrence.
	Offset int
}

// Error returns "invalid JSON at offset N: duplicate member name "x"".
func (e *DuplicateNameError) Error() string {
	return "invalid JSON at offset " + strconv.Itoa(e.Offset) + ": duplicate member name " + strconv.Quote(e.Name)
}

// SkipSpace returns the offset of the first byte at or after i that is not JSON white
// space (len(data) when there is none).
func SkipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// TrimSpace returns data without the JSON white space around it.
func TrimSpace(data []byte) []byte {
	data = data[SkipSpace(data, 0):]
	n := len(data)
	for n > 0 && (data[n-1] == ' ' || data[n-1] == '\t' || data[n-1] == '\n' || data[n-1] == '\r') {
		n--
	}
	return data[:n]
}

// Valid checks that data is exactly one JSON value, with optional white space around it.
func (r Rules) Valid(data []byte) error {
	s := scanner{data: data}
	s.init(r)
	s.skipSpace()
	if _, err := s.value(0); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return s.fail("data after the JSON value")
	}
	return nil
}

// Skip checks the JSON value that starts at data[i] (no leading white space) and returns
// the offset just after it. Nesting is counted from that value.
func (r Rules) Skip(data []byte, i int) (end int, err error) {
	s := scanner{data: data, pos: i}
	s.init(r)
	_, err = s.value(0)
	return s.pos, err
}

// scanner walks one JSON text.
type scanner struct {
	data     []byte
	pos      int
	maxDepth int32
	strict   bool
	unique   bool
	strFlags strFlags // of the last string value scanned
}

func (s *scanner) init(r Rules) {
	s.maxDepth, s.strict, s.unique = int32(min(r.maxDepth(), math.MaxInt32)), r.StrictStrings, r.UniqueNames
}

// fail reports malformed JSON at the scanner's position.
func (s *scanner) fail(reason string) error {
	return &SyntaxError{Offset: s.pos, Reason: reason}
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

// value checks one value starting at s.pos and returns its kind. depth is the nesting
// level of the container holding the value (0 at the top).
func (s *scanner) value(depth int) (Kind, error) {
	if s.pos >= len(s.data) {
		return Invalid, s.fail("unexpected end of input, want a value")
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		var err error
		s.strFlags, err = s.str()
		return String, err
	case c == '{':
		if depth >= int(s.maxDepth) {
			return Invalid, s.fail("nesting deeper than " + strconv.Itoa(int(s.maxDepth)))
		}
		s.pos++
		return Object, s.objectBody(depth + 1)
	case c == '[':
		if depth >= int(s.maxDepth) {
			return Invalid, s.fail("nesting deeper than " + strconv.Itoa(int(s.maxDepth)))
		}
		s.pos++
		return Array, s.arrayBody(depth + 1)
	case c == 't':
		return Bool, s.literal("true")
	case c == 'f':
		return Bool, s.literal("false")
	case c == 'n':
		return Null, s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return Number, s.number()
	}
	return Invalid, s.fail("want a value")
}

// objectBody checks the members of an object at nesting level depth whose '{' was
// consumed, through the closing '}'.
func (s *scanner) objectBody(depth int) error {
	var names nameSet
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if _, _, err := s.memberName(&names, false); err != nil {
			return err
		}
		s.skipSpace()
		if _, err := s.value(depth); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.fail("unterminated object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("want ',' or '}' in object")
		}
	}
}

// arrayBody checks the elements of an array at nesting level depth whose '[' was
// consumed, through the closing ']'.
func (s *scanner) arrayBody(depth int) error {
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if _, err := s.value(depth); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.fail("unterminated array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.fail("want ',' or ']' in array")
		}
	}
}

// memberName scans `"name" :` and returns the name as written (between the quotes) and
// the name decoded: a slice of the input when it needs no decoding, else decoded only when
// decode is set or names must be unique (raw otherwise). With unique names it records
// the name in names and fails on a duplicate.
func (s *scanner) memberName(names *nameSet, decode bool) (raw, name []byte, err error) {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, nil, s.fail("want a member name")
	}
	start := s.pos
	f, err := s.str()
	if err != nil {
		return nil, nil, err
	}
	raw = s.data[start+1 : s.pos-1]
	name = raw
	if f != 0 && (decode || s.unique) {
		name = appendUnquoted(make([]byte, 0, len(raw)), raw)
	}
	if s.unique && names.add(s.data, start+1, f == 0, name) {
		return nil, nil, &DuplicateNameError{Name: string(name), Offset: start}
	}
	if s.pos >= len(s.data) || s.data[s.pos] != ':' {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return nil, nil, s.fail("want ':' after member name")
		}
	}
	s.pos++
	return raw, name, nil
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.fail("invalid literal")
	}
	s.pos += len(lit)
	return nil
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
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
		return s.fail("invalid number")
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if s.pos >= len(d) || d[s.pos] < '0' || d[s.pos] > '9' {
			return s.fail("invalid number: no digit after '.'")
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
			return s.fail("invalid number: no digit in exponent")
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
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	ones  = 0x0101010101010101 // 0x01 in every byte of a word
	highs = 0x8080808080808080 // 0x80 in every byte of a word
)

// stopMask returns, for the eight bytes of w in input order (little-endian), a mask
// whose lowest set bit is the high bit of the first byte that is not a plainByte: a
// quote, a backslash, a control character or a byte from 0x80 up; zero when all are
// plain. (x-ones)&^x&highs flags the zero bytes of x, and (w-0x20*ones)&^w&highs the
// bytes of w below 0x20; a borrow can flag a byte above a flagged one, never below, so
// the lowest flag is exact.
func stopMask(w uint64) uint64 {
	q := w ^ ('"' * ones)
	b := w ^ ('\\' * ones)
	return (w | (w-0x20*ones)&^w | (q-ones)&^q | (b-ones)&^b) & highs
}

// strFlags say why a scanned string's contents are not its value.
type strFlags uint8

const (
	strEscaped strFlags = 1 << iota // holds escape sequences
	strBadUTF8                      // holds invalid UTF-8 (only when not strict)
)

// str checks a string starting at the opening quote and leaves s.pos after the closing
// quote. Its flags are zero when the contents are the value as they stand.
func (s *scanner) str() (f strFlags, err error) {
	d := s.data
	s.pos++ // opening quote
	start := s.pos
	nonASCII := false
	for {
		// Find the next byte that is not a plainByte, eight bytes at a time.
		i := s.pos
		for {
			if i+8 > len(d) {
				for i < len(d) && plainByte[d[i]] {
					i++
				}
				break
			}
			if m := stopMask(binary.LittleEndian.Uint64(d[i:])); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		s.pos = i
		if s.pos >= len(d) {
			return 0, s.fail("unterminated string")
		}
		c := d[s.pos]
		switch {
		case c == '"':
			if nonASCII && !utf8.Valid(d[start:s.pos]) {
				if !s.strict {
					f |= strBadUTF8
				} else {
					for s.pos = start; ; {
						r, size := utf8.DecodeRune(d[s.pos:])
						if r == utf8.RuneError && size <= 1 {
							return 0, s.fail("string is not valid UTF-8")
						}
						s.pos += size
					}
				}
			}
			s.pos++
			return f, nil
		case c == '\\':
			f |= strEscaped
			if err := s.escape(); err != nil {
				return 0, err
			}
		case c < 0x20:
			return 0, s.fail("control character in string")
		default:
			nonASCII = true
			s.pos++
		}
	}
}

// escape checks one escape sequence at s.pos (the backslash).
func (s *scanner) escape() error {
	d := s.data
	if s.pos+1 >= len(d) {
		return s.fail("unterminated escape")
	}
	switch d[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return nil
	case 'u':
		r, ok := hex4(d[s.pos+2:])
		if !ok {
			return s.fail(`invalid \u escape`)
		}
		if !s.strict {
			s.pos += 6
			return nil
		}
		if r >= 0xDC00 && r <= 0xDFFF {
			return s.fail("lone low surrogate in string")
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
				return s.fail("lone high surrogate in string")
			}
			s.pos += 6
		}
		return nil
	}
	return s.fail("invalid escape")
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

// smallNames is how many member names a nameSet keeps as offsets into the input before
// it switches to a map.
const smallNames = 8

// nameSet detects duplicate member names within one object. Names that are the input as
// it stands are kept as offsets, so that the set costs no allocation for small objects.
type nameSet struct {
	small [smallNames]struct{ start, end int32 }
	n     int
	big   map[string]struct{}
}

// add records name, which starts at data[start] and is the input as it stands when
// plain, and reports whether it was already present.
func (s *nameSet) add(data []byte, start int, plain bool, name []byte) (dup bool) {
	if s.big == nil {
		for _, h := range s.small[:s.n] {
			if int(h.end-h.start) == len(name) && string(data[h.start:h.end]) == string(name) {
				return true
			}
		}
		end := start + len(name)
		if plain && s.n < smallNames && end <= math.MaxInt32 {
			s.small[s.n] = struct{ start, end int32 }{int32(start), int32(end)}
			s.n++
			return false
		}
		s.big = make(map[string]struct{}, 2*smallNames)
		for _, h := range s.small[:s.n] {
			s.big[string(data[h.start:h.end])] = struct{}{}
		}
	}
	if _, ok := s.big[string(name)]; ok {
		return true
	}
	s.big[string(name)] = struct{}{}
	return false
}
