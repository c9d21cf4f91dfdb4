package set

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the JSON scanner the verifier runs on every SET: it validates a whole
// JSON document (RFC 8259 grammar, UTF-8 strings without lone surrogates, bounded nesting)
// and walks the members of one object, handing back each name and the raw bytes of each
// value as slices of the input. The JOSE header and the claims set are read with it so
// that duplicate member names can be rejected (SEC-19), which encoding/json cannot do,
// and so that a claims set is parsed once, without reflection.

// maxDepth is the deepest nesting of arrays and objects accepted in a JOSE header or a
// claims set (SEC-19: cap nesting depth).
const maxDepth = 64

// errJSON is wrapped by every syntax error of the scanner.
var errJSON = errors.New("malformed JSON")

func syntaxErr(data []byte, i int, what string) error {
	if i >= len(data) {
		return fmt.Errorf("%w: %s at end of input", errJSON, what)
	}
	return fmt.Errorf("%w: %s at offset %d", errJSON, what, i)
}

func skipWS(data []byte, i int) int {
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

// scanValue checks the JSON value starting at data[i] (no leading white space) and
// returns the offset just after it.
func scanValue(data []byte, i, depth int) (int, error) {
	if i >= len(data) {
		return i, syntaxErr(data, i, "value expected")
	}
	switch c := data[i]; {
	case c == '"':
		end, _, err := scanString(data, i)
		return end, err
	case c == '{':
		if depth >= maxDepth {
			return i, syntaxErr(data, i, "nesting too deep")
		}
		return scanObject(data, i, depth+1)
	case c == '[':
		if depth >= maxDepth {
			return i, syntaxErr(data, i, "nesting too deep")
		}
		return scanArray(data, i, depth+1)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(data, i)
	case c == 't':
		return scanLiteral(data, i, "true")
	case c == 'f':
		return scanLiteral(data, i, "false")
	case c == 'n':
		return scanLiteral(data, i, "null")
	}
	return i, syntaxErr(data, i, "invalid character")
}

func scanLiteral(data []byte, i int, lit string) (int, error) {
	if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	return i, syntaxErr(data, i, "invalid literal")
}

func scanObject(data []byte, i, depth int) (int, error) {
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return i, syntaxErr(data, i, "member name expected")
		}
		end, _, err := scanString(data, i)
		if err != nil {
			return end, err
		}
		i = skipWS(data, end)
		if i >= len(data) || data[i] != ':' {
			return i, syntaxErr(data, i, "':' expected")
		}
		i = skipWS(data, i+1)
		if i, err = scanValue(data, i, depth); err != nil {
			return i, err
		}
		i = skipWS(data, i)
		if i < len(data) && data[i] == ',' {
			i = skipWS(data, i+1)
			continue
		}
		if i < len(data) && data[i] == '}' {
			return i + 1, nil
		}
		return i, syntaxErr(data, i, "',' or '}' expected")
	}
}

func scanArray(data []byte, i, depth int) (int, error) {
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = scanValue(data, i, depth); err != nil {
			return i, err
		}
		i = skipWS(data, i)
		if i < len(data) && data[i] == ',' {
			i = skipWS(data, i+1)
			continue
		}
		if i < len(data) && data[i] == ']' {
			return i + 1, nil
		}
		return i, syntaxErr(data, i, "',' or ']' expected")
	}
}

// scanString checks the string starting at data[i] ('"') and returns the offset after
// its closing quote and whether it holds escape sequences. Strings must be valid UTF-8
// without control characters; escaped surrogates must pair up.
func scanString(data []byte, i int) (int, bool, error) {
	start := i
	i++
	escaped := false
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				return i, escaped, syntaxErr(data, i, "unterminated escape")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				r, ok := hex4(data, i+2)
				if !ok {
					return i, escaped, syntaxErr(data, i, "invalid \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if r >= 0xDC00 || i+1 >= len(data) || data[i] != '\\' || data[i+1] != 'u' {
						return i, escaped, syntaxErr(data, i, "lone surrogate in \\u escape")
					}
					r2, ok := hex4(data, i+2)
					if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
						return i, escaped, syntaxErr(data, i, "lone surrogate in \\u escape")
					}
					i += 6
				}
			default:
				return i, escaped, syntaxErr(data, i, "invalid escape")
			}
		case c < 0x20:
			return i, escaped, syntaxErr(data, i, "control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				return i, escaped, syntaxErr(data, i, "invalid UTF-8 in string")
			}
			i += size
		}
	}
	return start, escaped, syntaxErr(data, len(data), "unterminated string")
}

func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func scanNumber(data []byte, i int) (int, error) {
	start := i
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	default:
		return start, syntaxErr(data, start, "invalid number")
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return start, syntaxErr(data, start, "invalid number")
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			return start, syntaxErr(data, start, "invalid number")
		}
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	return i, nil
}

// unquote decodes a JSON string literal (with its quotes) that scanString accepted.
func unquote(raw []byte, escaped bool) string {
	s := raw[1 : len(raw)-1]
	if !escaped {
		return string(s)
	}
	return string(unescape(make([]byte, 0, len(s)), s))
}

// unescape appends the decoded content of a valid JSON string body (without quotes).
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := bytes.IndexByte(s[i:], '\\')
			if j < 0 {
				return append(dst, s[i:]...)
			}
			dst = append(dst, s[i:i+j]...)
			i += j
			continue
		}
		switch s[i+1] {
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
			r, _ := hex4(s, i+2)
			if utf16.IsSurrogate(r) {
				r2, _ := hex4(s, i+8)
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

// member is one member of a JSON object: its name (decoded) and its raw value.
type member struct {
	name  string
	value []byte
}

// objectReader walks the members of one JSON object, checking the whole object.
type objectReader struct {
	data []byte
	pos  int
	end  bool
	err  error

	// name is the current member's name as it appears in the input, without quotes;
	// nameEscaped reports whether it holds escape sequences.
	name        []byte
	nameEscaped bool
	// value is the current member's raw value.
	value []byte

	// defer_ selects values whose syntax is not checked here because the caller hands
	// them, exactly as sliced, to a parser that checks them completely; skipValue only
	// finds their end. deferSubjectAndEvents applies to the members "sub_id" (checked by
	// subject.Parse) and "events" (checked member by member by the decoder).
	defer_ deferMode
}

type deferMode uint8

const (
	deferNone deferMode = iota
	deferSubjectAndEvents
)

func (r *objectReader) reset(data []byte) error {
	*r = objectReader{data: data, defer_: r.defer_}
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		r.end = true
		r.err = fmt.Errorf("%w: not a JSON object", errJSON)
		return r.err
	}
	r.pos = skipWS(data, i+1)
	if r.pos < len(data) && data[r.pos] == '}' {
		r.end = true
		r.finish(r.pos + 1)
	}
	return r.err
}

func (r *objectReader) finish(i int) {
	if i = skipWS(r.data, i); i != len(r.data) {
		r.err = syntaxErr(r.data, i, "data after the object")
	}
}

// next moves to the next member; it returns false at the end of the object or on error.
func (r *objectReader) next() bool {
	if r.end || r.err != nil {
		return false
	}
	data, i := r.data, r.pos
	if i >= len(data) || data[i] != '"' {
		r.fail(syntaxErr(data, i, "member name expected"))
		return false
	}
	end, escaped, err := scanString(data, i)
	if err != nil {
		r.fail(err)
		return false
	}
	r.name, r.nameEscaped = data[i+1:end-1], escaped
	i = skipWS(data, end)
	if i >= len(data) || data[i] != ':' {
		r.fail(syntaxErr(data, i, "':' expected"))
		return false
	}
	i = skipWS(data, i+1)
	var vend int
	switch r.defer_ {
	case deferSubjectAndEvents:
		if n := r.name; string(n) == "sub_id" || string(n) == "events" {
			vend, err = skipValue(data, i)
		} else {
			vend, err = scanValue(data, i, 1)
		}
	default:
		vend, err = scanValue(data, i, 1)
	}
	if err != nil {
		r.fail(err)
		return false
	}
	r.value = data[i:vend]
	i = skipWS(data, vend)
	switch {
	case i < len(data) && data[i] == ',':
		r.pos = skipWS(data, i+1)
	case i < len(data) && data[i] == '}':
		r.end = true
		r.finish(i + 1)
	default:
		r.fail(syntaxErr(data, i, "',' or '}' expected"))
		return false
	}
	return true
}

func (r *objectReader) fail(err error) {
	r.err = err
	r.end = true
}

// key returns the current member name decoded. Its result aliases nothing.
func (r *objectReader) key() string {
	if !r.nameEscaped {
		return string(r.name)
	}
	return string(unescape(make([]byte, 0, len(r.name)), r.name))
}

// keyBytes returns the current member name decoded, without allocating unless it holds
// escape sequences. The result may alias the input.
func (r *objectReader) keyBytes() []byte {
	if !r.nameEscaped {
		return r.name
	}
	return unescape(make([]byte, 0, len(r.name)), r.name)
}

// jsonType names the JSON type of a raw value for error messages.
func jsonType(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
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
	}
	return "a number"
}

// stringValue decodes a raw JSON value that must be a string.
func stringValue(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	// The scanner validated the string; only escapes need another look.
	return unquote(raw, bytes.IndexByte(raw, '\\') >= 0), true
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

// skipValue returns the offset just after the JSON value starting at data[i], without
// checking its syntax beyond what finding its end needs: strings (with escapes) are
// skipped as a whole and brackets are counted. The caller must have the value checked
// completely by another parser. It fails when the value does not end before the data
// does, or nests deeper than maxDepth.
func skipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return i, syntaxErr(data, i, "value expected")
	}
	depth := 0
	for i < len(data) {
		switch c := data[i]; c {
		case '"':
			j := i + 1
			for j < len(data) && data[j] != '"' {
				if data[j] == '\\' {
					j++ // the escaped character
				}
				j++
			}
			if j >= len(data) {
				return i, syntaxErr(data, len(data), "unterminated string")
			}
			i = j + 1
		case '{', '[':
			depth++
			if depth > maxDepth {
				return i, syntaxErr(data, i, "nesting too deep")
			}
			i++
			continue
		case '}', ']':
			if depth == 0 {
				return i, syntaxErr(data, i, "unexpected closing bracket")
			}
			depth--
			i++
		default:
			if depth == 0 {
				// A scalar: it ends at a delimiter.
				j := i
				for j < len(data) {
					if d := data[j]; d == ',' || d == '}' || d == ']' || d == ' ' || d == '\t' || d == '\n' || d == '\r' {
						break
					}
					j++
				}
				if j == i {
					return i, syntaxErr(data, i, "value expected")
				}
				return j, nil
			}
			i++
			continue
		}
		if depth == 0 {
			return i, nil
		}
	}
	return i, syntaxErr(data, len(data), "unterminated value")
}
