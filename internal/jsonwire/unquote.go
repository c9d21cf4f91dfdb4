package jsonwire

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// Unquote decodes raw, a JSON string with its quotes that the scanner accepted (under
// any Rules), exactly as encoding/json does: escapes are decoded, and each byte of
// invalid UTF-8 and each escaped surrogate that is not part of a pair becomes U+FFFD.
func Unquote(raw []byte) string {
	body := raw[1 : len(raw)-1]
	if isPlain(body) {
		return string(body)
	}
	return string(appendUnquoted(make([]byte, 0, len(body)), body))
}

// UnquoteBytes is Unquote returning bytes: a slice of raw when the contents are the value
// as they stand (no escapes, valid UTF-8), else a new slice.
func UnquoteBytes(raw []byte) []byte {
	body := raw[1 : len(raw)-1]
	if isPlain(body) {
		return body
	}
	return appendUnquoted(make([]byte, 0, len(body)), body)
}

// isPlain reports whether the contents of an accepted string are its value.
func isPlain(body []byte) bool {
	return bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body)
}

// appendUnquoted appends the value of body, the contents of an accepted string (between
// the quotes).
func appendUnquoted(dst, body []byte) []byte {
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '\\':
			switch e := body[i+1]; e {
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
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+1 < len(body) && body[i] == '\\' && body[i+1] == 'u' {
						if v, ok := hex4(body[i+2:]); ok {
							r2 = v
						}
					}
					if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
						r = pair
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			j := i + 1
			for j < len(body) && body[j] != '\\' && body[j] < utf8.RuneSelf {
				j++
			}
			dst = append(dst, body[i:j]...)
			i = j
		default:
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, body[i:i+size]...)
			}
			i += size
		}
	}
	return dst
}
