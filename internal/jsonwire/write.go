package jsonwire

import (
	"math/bits"
	"unicode/utf8"
)

// Escaping selects how AppendString writes the characters a JSON writer has a choice
// for. Whatever it says, the quote, the backslash and the control characters U+0000 to
// U+001F are escaped (\n, \r and \t in their short forms), and every other character is
// written as it is. The zero value escapes only what JSON requires and copies invalid
// UTF-8 through unchanged.
type Escaping uint8

const (
	// EscapeHTML writes <, > and & as \u003c, \u003e and \u0026, as encoding/json does
	// by default, so that the text can sit inside HTML.
	EscapeHTML Escaping = 1 << iota
	// EscapeLineTerminators writes U+2028 and U+2029 as \u2028 and \u2029, as
	// encoding/json does, for JavaScript consumers.
	EscapeLineTerminators
	// ReplaceInvalidUTF8 writes each byte of invalid UTF-8 as \ufffd, as encoding/json
	// does, so that the output is valid UTF-8 whatever the input.
	ReplaceInvalidUTF8
	// ShortControlEscapes writes U+0008 and U+000C as \b and \f instead of \u0008 and
	// \u000c.
	ShortControlEscapes
)

// safeBytes[k] marks the bytes AppendString copies unescaped; k has bit 0 for
// EscapeHTML and bit 1 when bytes from U+0080 up are copied without decoding.
var safeBytes = func() (t [4][256]bool) {
	for k := range t {
		html, raw8 := k&1 != 0, k&2 != 0
		for c := 0x20; c < 256; c++ {
			switch {
			case c == '"' || c == '\\':
			case html && (c == '<' || c == '>' || c == '&'):
			case c >= utf8.RuneSelf:
				t[k][c] = raw8
			default:
				t[k][c] = true
			}
		}
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string escaped as e says.
func AppendString(dst []byte, s string, e Escaping) []byte {
	html := e&EscapeHTML != 0
	raw8 := e&(EscapeLineTerminators|ReplaceInvalidUTF8) == 0
	k := 0
	if html {
		k |= 1
	}
	if raw8 {
		k |= 2
	}
	safe := &safeBytes[k]
	dst = append(dst, '"')
	start := 0
	for i := 0; ; {
		if i = nextUnsafe(s, i, safe, html, raw8); i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c == '\b' && e&ShortControlEscapes != 0:
				dst = append(dst, '\\', 'b')
			case c == '\f' && e&ShortControlEscapes != 0:
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1 && e&ReplaceInvalidUTF8 != 0:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case (r == '\u2028' || r == '\u2029') && e&EscapeLineTerminators != 0:
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// nextUnsafe returns the offset of the first byte of s from i that safe does not mark
// (len(s) when there is none), eight bytes at a time.
func nextUnsafe(s string, i int, safe *[256]bool, html, raw8 bool) int {
	for ; i+8 <= len(s); i += 8 {
		if m := escapeMask(load64(s, i), html, raw8); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(s) && safe[s[i]] {
		i++
	}
	return i
}

// escapeMask is stopMask for AppendString: it flags the bytes of w that safeBytes does
// not mark as safe (with bytes from 0x80 up safe when raw8, and <, > and & not safe
// when html).
func escapeMask(w uint64, html, raw8 bool) uint64 {
	q := w ^ ('"' * ones)
	b := w ^ ('\\' * ones)
	m := (w-0x20*ones)&^w | (q-ones)&^q | (b-ones)&^b
	if !raw8 {
		m |= w
	}
	if html {
		lt, gt, amp := w^('<'*ones), w^('>'*ones), w^('&'*ones)
		m |= (lt-ones)&^lt | (gt-ones)&^gt | (amp-ones)&^amp
	}
	return m & highs
}

// load64 reads the eight bytes of s from i as a little-endian word.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// AppendStrings appends v as a JSON array of strings escaped as e says; nil is written
// as [].
func AppendStrings(dst []byte, v []string, e Escaping) []byte {
	dst = append(dst, '[')
	for i, s := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, s, e)
	}
	return append(dst, ']')
}

// AppendCompact appends raw, one valid JSON value, without insignificant white space,
// keeping every token (string escapes and number spellings included) as written.
func AppendCompact(dst, raw []byte) []byte {
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
