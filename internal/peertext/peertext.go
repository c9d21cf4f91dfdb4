// Package peertext makes text that came from a peer (an error code or description in a
// response body, an error a receiver reported) fit to log and to show: SSF §8.1.7 and
// RFC 8935/8936 error descriptions are free text a peer chooses (SEC-13: bound what is
// kept from a peer).
package peertext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean replaces control characters (line breaks and terminal escapes included) with
// spaces, trims white space and cuts the text to at most limit bytes at a rune boundary,
// marking a cut with "…".
func Clean(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
