package event

import (
	"errors"
	"fmt"
)

// maxDepth bounds the nesting of arrays and objects, as encoding/json does.
const maxDepth = 10000

// scanner validates and splits JSON text in a single pass. It accepts exactly what
// encoding/json.Valid accepts (strings may hold invalid UTF-8, which decoding replaces
// with U+FFFD, as encoding/json does).
type scanner struct {
	data  []byte
	pos   int
	depth int
}

// syntaxError reports malformed JSON at an offset.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.offset, e.msg)
}

var errDepth = errors.New("JSON nested too deeply")

func (s *scanner) fail(msg string) error {
	return &syntaxError{msg: msg, offset: s.pos}
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

// peek returns the next byte after white space, or 0 at the end of the input.
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

// str validates the string that starts at s.pos (which holds '"') and moves past its
// closing quote. plain reports that it holds no escape sequence and only ASCII, so that
// its bytes are its value.
func (s *scanner) str() (plain bool, err error) {
	s.pos++ // opening quote
	plain = true
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return plain, nil
		case c == '\\':
			plain = false
			s.pos++
			if s.pos >= len(s.data) {
				return false, s.fail("unterminated string")
			}
			switch s.data[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos++
			case 'u':
				s.pos++
				for range 4 {
					if s.pos >= len(s.data) || !isHex(s.data[s.pos]) {
						return false, s.fail(`malformed \u escape in string`)
					}
					s.pos++
				}
			default:
				return false, s.fail("invalid escape in string")
			}
		case c < 0x20:
			return false, s.fail("control character in string")
		default:
			if c >= 0x80 {
				plain = false
			}
			s.pos++
		}
	}
	return false, s.fail("unterminated string")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number validates the number that starts at s.pos.
func (s *scanner) number() error {
	d := s.data
	if s.pos < len(d) && d[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos >= len(d) || !isDigit(d[s.pos]):
		return s.fail("malformed number")
	case d[s.pos] == '0':
		s.pos++
	default:
		for s.pos < len(d) && isDigit(d[s.pos]) {
			s.pos++
		}
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if s.pos >= len(d) || !isDigit(d[s.pos]) {
			return s.fail("malformed number")
		}
		for s.pos < len(d) && isDigit(d[s.pos]) {
			s.pos++
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if s.pos >= len(d) || !isDigit(d[s.pos]) {
			return s.fail("malformed number")
		}
		for s.pos < len(d) && isDigit(d[s.pos]) {
			s.pos++
		}
	}
	return nil
}

func (s *scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return s.fail("invalid literal")
	}
	s.pos += len(lit)
	return nil
}

// value validates the value that starts at the next non-space byte and moves past it.
// It returns the offset where the value starts.
func (s *scanner) value() (start int, err error) {
	c := s.peek()
	start = s.pos
	switch {
	case c == '"':
		_, err = s.str()
	case c == '{':
		err = s.object(nil)
	case c == '[':
		err = s.array(nil)
	case c == 't':
		err = s.literal("true")
	case c == 'f':
		err = s.literal("false")
	case c == 'n':
		err = s.literal("null")
	case c == '-' || isDigit(c):
		err = s.number()
	case c == 0 && s.pos >= len(s.data):
		err = s.fail("unexpected end of JSON input")
	default:
		err = s.fail(fmt.Sprintf("unexpected character %q", c))
	}
	return start, err
}

// member is one member of an object: the raw key (without its quotes) and the raw value.
type member struct {
	key      []byte
	keyPlain bool
	val      []byte
}

// object validates the object that starts at s.pos (which holds '{'), calling each (when
// not nil) for every member in document order.
func (s *scanner) object(each func(member) error) error {
	if s.depth++; s.depth > maxDepth {
		return errDepth
	}
	defer func() { s.depth-- }()
	s.pos++ // '{'
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		m, err := s.member()
		if err != nil {
			return err
		}
		if each != nil {
			if err := each(m); err != nil {
				return err
			}
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("expected ',' or '}' after object member")
		}
	}
}

// member reads `"key": value` starting at the next non-space byte.
func (s *scanner) member() (member, error) {
	var m member
	if s.peek() != '"' {
		return m, s.fail("expected string for object key")
	}
	ks := s.pos
	plain, err := s.str()
	if err != nil {
		return m, err
	}
	m.key, m.keyPlain = s.data[ks+1:s.pos-1], plain
	if s.peek() != ':' {
		return m, s.fail("expected ':' after object key")
	}
	s.pos++
	vs, err := s.value()
	if err != nil {
		return m, err
	}
	m.val = s.data[vs:s.pos]
	return m, nil
}

// array validates the array that starts at s.pos (which holds '['), calling each (when
// not nil) with every element's raw value.
func (s *scanner) array(each func(i int, val []byte) error) error {
	if s.depth++; s.depth > maxDepth {
		return errDepth
	}
	defer func() { s.depth-- }()
	s.pos++ // '['
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		vs, err := s.value()
		if err != nil {
			return err
		}
		if each != nil {
			if err := each(i, s.data[vs:s.pos]); err != nil {
				return err
			}
		}
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.fail("expected ',' or ']' after array element")
		}
	}
}

// end checks that only white space follows.
func (s *scanner) end() error {
	if s.peek() != 0 || s.pos < len(s.data) {
		return s.fail("unexpected data after top-level value")
	}
	return nil
}

// kind names the JSON type of a raw value for error messages.
func kind(val []byte) string {
	if len(val) == 0 {
		return "nothing"
	}
	switch val[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// validObject checks that data is exactly one JSON object (with optional surrounding
// white space).
func validObject(data []byte) error {
	s := scanner{data: data}
	switch c := s.peek(); c {
	case '{':
	case 0:
		return s.fail("unexpected end of JSON input")
	default:
		if _, err := s.value(); err != nil {
			return err
		}
		return errNotObject(data[s.skipStart():])
	}
	if err := s.object(nil); err != nil {
		return err
	}
	return s.end()
}

func (s *scanner) skipStart() int {
	t := scanner{data: s.data}
	t.skipSpace()
	return t.pos
}

type notObjectError struct{ kind string }

func (e *notObjectError) Error() string { return "is " + e.kind + ", not a JSON object" }

func errNotObject(val []byte) error { return &notObjectError{kind: kind(val)} }
