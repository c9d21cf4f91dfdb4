package jsonwire

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// Unquote decodes raw, a JSON string with its quotes that the scanner accepted under r,
// exactly as encoding/json does: escapes are decoded, and (when r allows them) each byte
// of invalid UTF-8 and each escaped surrogate that is not part of a pair becomes U+FFFD.
func (r Rules) Unquote(raw []byte) string {
	body := raw[1 : len(raw)-1]
	if r.isPlain(body) {
		return string(body)
	}
	return string(appendUnquoted(make([]byte, 0, len(body)), body))
}

// UnquoteBytes is Unquote returning bytes: a slice of raw when the contents are the value
// as they stand (no escapes, valid UTF-8), else a new slice.
func (r Rules) UnquoteBytes(raw []byte) []byte {
	body := raw[1 : len(raw)-1]
	if r.isPlain(body) {
		return body
	}
	return appendUnquoted(make([]byte, 0, len(body)), body)
}

// unquoted decodes raw, an accepted JSON string with its quotes; plain says that its
// contents are its value.
func unquoted(raw []byte, plain bool) string {
	body := raw[1 : len(raw)-1]
	if plain {
		return string(body)
	}
	return string(appendUnquoted(make([]byte, 0, len(body)), body))
}

// isPlain reports whether the contents of a string accepted under r are its value.
func (r Rules) isPlain(body []byte) bool {
	if r.StrictStrings { // accepted strings are valid UTF-8
		return bytes.IndexByte(body, '\\') < 0
	}
	return isPlain(body)
}

// isPlain reports whether the contents of a string are its value: no escapes and valid
// UTF-8. ASCII without a backslash, the common case, is recognised eight bytes at a time.
func isPlain(body []byte) bool {
	const bs = '\\' * ones
	i := 0
	for ; i+8 <= len(body); i += 8 {
		w := binary.LittleEndian.Uint64(body[i:])
		x := w ^ bs // a zero byte where w has a backslash
		if (w|(x-ones)&^x)&highs != 0 {
			return bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body)
		}
	}
	for ; i < len(body); i++ {
		if c := body[i]; c == '\\' || c >= utf8.RuneSelf {
			return bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body)
		}
	}
	return true
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
