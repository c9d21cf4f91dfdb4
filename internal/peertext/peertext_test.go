package peertext

import "testing"

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
