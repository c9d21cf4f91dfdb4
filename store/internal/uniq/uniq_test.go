package uniq

import (
	"slices"
	"testing"
)

func TestStrings(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{nil, []string{}},
		{[]string{"a"}, []string{"a"}},
		{[]string{"b", "a", "b", "c", "a"}, []string{"b", "a", "c"}},
	} {
		in := slices.Clone(tc.in)
		got := Strings(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Strings(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !slices.Equal(tc.in, in) {
			t.Errorf("Strings changed its argument to %q", tc.in)
		}
	}
}
