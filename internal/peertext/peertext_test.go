package peertext

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int
		want  string
	}{
		{"", 10, ""},
		{"  plain  ", 10, "plain"},
		{"a\x1b[31mb\r\nc\td", 20, "a [31mb  c d"},
		{"abcdef", 3, "abc…"},
		{"ééé", 3, "é…"}, // 3 bytes would split the second é
		{"ééé", 4, "éé…"},
		{"\u0085x\u009f", 10, "x"},
		{"exact", 5, "exact"},
	} {
		if got := Clean(tc.in, tc.limit); got != tc.want {
			t.Errorf("Clean(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
	}
}

// FuzzClean: whatever a peer sends comes out valid to log: no control characters, at
// most limit bytes plus the cut mark, no surrounding white space, and valid UTF-8 when
// the input was.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "plain", "a\nb\x1b[31mred", "héllo wörld", "\xff\xfe", strings.Repeat("é", 300)} {
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 0 || limit > 1<<12 {
			t.Skip()
		}
		got := Clean(s, limit)
		body := strings.TrimSuffix(got, "…")
		if len(body) > limit {
			t.Fatalf("Clean(%q, %d) = %q: longer than the limit", s, limit, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) {
				t.Fatalf("Clean(%q, %d) = %q: control character %U", s, limit, got, r)
			}
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Clean(%q, %d) = %q: invalid UTF-8 from valid input", s, limit, got)
		}
	})
}
