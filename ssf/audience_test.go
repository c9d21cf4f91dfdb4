package ssf

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAudienceDecode(t *testing.T) {
	for _, tc := range []struct {
		json string
		want Audience
	}{
		{`"https://r.example"`, Audience{"https://r.example"}},
		{` "a" `, Audience{"a"}},
		{`["a","b"]`, Audience{"a", "b"}},
		{`[ "a" , "b" ]`, Audience{"a", "b"}},
		{`[]`, Audience{}},
		{`["a\"b","\u00e9"]`, Audience{`a"b`, "é"}},
		{`"é\/"`, Audience{"é/"}},
		{`""`, Audience{""}},
	} {
		var a Audience
		if err := json.Unmarshal([]byte(tc.json), &a); err != nil {
			t.Errorf("%s: %v", tc.json, err)
			continue
		}
		if d := cmp.Diff(tc.want, a); d != "" || a == nil {
			t.Errorf("%s (-want +got):\n%s", tc.json, d)
		}
	}
	a := Audience{"kept"}
	if err := json.Unmarshal([]byte(`null`), &a); err != nil || len(a) != 1 {
		t.Errorf("null must leave the value unchanged: %v %q", err, a)
	}
	for _, tc := range []struct{ json, msg string }{
		{`7`, "want a string or an array of strings, got number"},
		{`{"a":1}`, "got object"},
		{`true`, "got boolean"},
		{`["a", 7]`, "element 1: want a string, got number"},
		{`["a", null]`, "element 1: want a string, got null"},
		{`[["a"]]`, "element 0: want a string, got array"},
	} {
		var a Audience
		err := json.Unmarshal([]byte(tc.json), &a)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want %q", tc.json, err, tc.msg)
		}
	}
	// Direct calls with malformed input fail cleanly.
	for _, bad := range []string{`["a"`, `["a",]`, `["a" "b"]`, `"a`, `["a"]x`} {
		var a Audience
		if err := a.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestAudienceEncode(t *testing.T) {
	for _, tc := range []struct {
		a    Audience
		want string
	}{
		{Audience{"https://r.example"}, `"https://r.example"`},
		{Audience{"a", "b"}, `["a","b"]`},
		{Audience{}, `[]`},
		{nil, `[]`},
		{Audience{"<&>"}, `"\u003c\u0026\u003e"`},
	} {
		if got := string(mustMarshal(t, tc.a)); got != tc.want {
			t.Errorf("%q: %s, want %s", []string(tc.a), got, tc.want)
		}
	}
}

func TestAudienceContains(t *testing.T) {
	a := Audience{"https://r.example/web", "https://r.example/mobile"}
	if !a.Contains("https://r.example/mobile") || a.Contains("https://r.example") || a.Contains("") {
		t.Error("Contains")
	}
	if !a.ContainsAny("x", "https://r.example/web") || a.ContainsAny("x", "y") || a.ContainsAny() {
		t.Error("ContainsAny")
	}
	if !a.Equal(Audience{"https://r.example/mobile", "https://r.example/web", "https://r.example/web"}) || a.Equal(Audience{"https://r.example/web"}) {
		t.Error("Equal")
	}
	if n := testing.AllocsPerRun(100, func() { _ = a.Contains("https://r.example/mobile") }); n != 0 {
		t.Errorf("Contains allocates %v times", n)
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "\x00\x01\x1f\n\r\t", "<a&b>", "é ü 中", "\u2028\u2029", "bad \xff utf8", "\xed\xa0\x80"} {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	}
}
