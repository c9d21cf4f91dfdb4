package jsonwire

import (
	"bytes"
	"encoding/json"
	"math/bits"
	"testing"
)

// encodingJSON is the Escaping that writes strings exactly as encoding/json does.
const encodingJSON = EscapeHTML | EscapeLineTerminators | ReplaceInvalidUTF8 | ShortControlEscapes

func TestAppendString(t *testing.T) {
	in := "a\"\\/\x00\x1f\b\f\n\r\t<>&\x7fé\u2028\u2029\xff\xed\xa0\x80"
	for _, tc := range []struct {
		e    Escaping
		want string
	}{
		{0, `"a\"\\/\u0000\u001f\u0008\u000c\n\r\t<>&` + "\x7fé\u2028\u2029\xff\xed\xa0\x80" + `"`},
		{ShortControlEscapes, `"a\"\\/\u0000\u001f\b\f\n\r\t<>&` + "\x7fé\u2028\u2029\xff\xed\xa0\x80" + `"`},
		{ReplaceInvalidUTF8, `"a\"\\/\u0000\u001f\u0008\u000c\n\r\t<>&` + "\x7fé\u2028\u2029" + `\ufffd\ufffd\ufffd\ufffd"`},
		{EscapeLineTerminators | ReplaceInvalidUTF8, `"a\"\\/\u0000\u001f\u0008\u000c\n\r\t<>&` + "\x7fé" + `\u2028\u2029\ufffd\ufffd\ufffd\ufffd"`},
		{EscapeHTML | EscapeLineTerminators | ReplaceInvalidUTF8, `"a\"\\/\u0000\u001f\u0008\u000c\n\r\t\u003c\u003e\u0026` + "\x7fé" + `\u2028\u2029\ufffd\ufffd\ufffd\ufffd"`},
		{EscapeLineTerminators, `"a\"\\/\u0000\u001f\u0008\u000c\n\r\t<>&` + "\x7fé" + `\u2028\u2029` + "\xff\xed\xa0\x80" + `"`},
	} {
		if got := string(AppendString([]byte("x"), in, tc.e)); got != "x"+tc.want {
			t.Errorf("%04b:\n got %s\nwant %s", tc.e, got, "x"+tc.want)
		}
	}
	for _, s := range []string{"", "plain", in, "<a&b>", "é ü 中 😀", "\u2028", "bad \xff utf8", "\xed\xa0\x80", "\xe2\x82"} {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s, encodingJSON); string(got) != string(want) {
			t.Errorf("%q: %s, encoding/json %s", s, got, want)
		}
	}
}

func TestAppendStrings(t *testing.T) {
	if got := string(AppendStrings(nil, nil, 0)); got != "[]" {
		t.Errorf("nil: %s", got)
	}
	if got := string(AppendStrings([]byte("x"), []string{"a", "<"}, EscapeHTML)); got != `x["a","\u003c"]` {
		t.Errorf("two: %s", got)
	}
}

func TestAppendCompact(t *testing.T) {
	in := " { \"a b\" : [ 1 , 2.50 , \"x \\\" y\" ] ,\n\t\"c\":\"\\u00e9 \" } "
	want := `{"a b":[1,2.50,"x \" y"],"c":"\u00e9 "}`
	if got := string(AppendCompact([]byte("x"), []byte(in))); got != "x"+want {
		t.Errorf("got %s", got)
	}
}

func TestUnquote(t *testing.T) {
	for in, want := range map[string]string{
		`""`:                          "",
		`"plain"`:                     "plain",
		`"a\"\\\/\b\f\n\r\tz"`:        "a\"\\/\b\f\n\r\tz",
		`"\u00e9\u4E2D"`:              "é中",
		`"\ud83d\ude00"`:              "😀",
		`"\ud800"`:                    "\uFFFD",
		`"\ud800x"`:                   "\uFFFDx",
		`"\udc00\ud83d\ude00"`:        "\uFFFD😀",
		`"\ud800\u0041"`:              "\uFFFDA",
		`"\ud800\ud800\udc00"`:        "\uFFFD𐀀",
		"\"a\xffb\"":                  "a\uFFFDb",
		"\"\xe2\x82\"":                "\uFFFD\uFFFD",
		"\"\xed\xa0\x80\"":            "\uFFFD\uFFFD\uFFFD",
		"\"é\\n\"":                    "é\n",
		"\"\xef\xbf\xbd\"":            "\uFFFD",
		`"\u0000"`:                    "\x00",
		"\"ab\\u0063" + "\xff" + "\"": "abc\uFFFD",
	} {
		if err := loose.Valid([]byte(in)); err != nil {
			t.Fatalf("%q is not valid: %v", in, err)
		}
		if got := loose.Unquote([]byte(in)); got != want {
			t.Errorf("Unquote(%q) = %q, want %q", in, got, want)
		}
		if got := loose.UnquoteBytes([]byte(in)); string(got) != want {
			t.Errorf("UnquoteBytes(%q) = %q, want %q", in, got, want)
		}
		if strict.Valid([]byte(in)) == nil {
			if got := strict.Unquote([]byte(in)); got != want {
				t.Errorf("strict Unquote(%q) = %q, want %q", in, got, want)
			}
		}
		var std string
		if err := json.Unmarshal([]byte(in), &std); err != nil || std != want {
			t.Errorf("encoding/json decodes %q to %q (%v), the table says %q", in, std, err, want)
		}
	}
	raw := []byte(`"no escapes"`)
	if got := loose.UnquoteBytes(raw); &got[0] != &raw[1] {
		t.Error("UnquoteBytes copied a plain string")
	}
}

// TestIsPlain puts a backslash, a non-ASCII byte and invalid UTF-8 at every position of
// strings around the eight-byte stride.
func TestIsPlain(t *testing.T) {
	for n := range 20 {
		base := bytes.Repeat([]byte("a"), n)
		if !isPlain(base) {
			t.Errorf("%q: not plain", base)
		}
		for i := range n {
			for _, c := range []struct {
				b     byte
				plain bool
			}{{'\\', false}, {0xff, false}, {'"', true}, {0x7f, true}, {0x80, false}} {
				s := bytes.Clone(base)
				s[i] = c.b
				if got := isPlain(s); got != c.plain {
					t.Errorf("%q: isPlain = %v", s, got)
				}
			}
			s := append(bytes.Clone(base[:i]), "é"...)
			if !isPlain(append(s, base[i:]...)) {
				t.Errorf("%q: valid UTF-8 not plain", s)
			}
		}
	}
}

// TestEscapeMask compares the word-at-a-time test with safeBytes for every Escaping, byte
// value and position.
func TestEscapeMask(t *testing.T) {
	for k := range 4 {
		html, raw8 := k&1 != 0, k&2 != 0
		for pos := range 8 {
			for c := range 256 {
				for _, fill := range []byte{'a', 0x00, '"', '<', 0xe2} {
					w := []byte("aaaaaaaa")
					for i := pos + 1; i < 8; i++ {
						w[i] = fill
					}
					w[pos] = byte(c)
					m := escapeMask(load64(string(w), 0), html, raw8)
					want := -1
					for i, b := range w {
						if !safeBytes[k][b] {
							want = i
							break
						}
					}
					got := -1
					if m != 0 {
						got = bits.TrailingZeros64(m) / 8
					}
					if got != want {
						t.Fatalf("html %v raw8 %v %q: first unsafe at %d, want %d", html, raw8, w, got, want)
					}
				}
			}
		}
	}
}
