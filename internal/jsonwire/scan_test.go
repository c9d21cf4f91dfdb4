package jsonwire

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	strict = Rules{MaxDepth: 64, StrictStrings: true, UniqueNames: true}
	loose  = Rules{}
)

// TestValidErrors pins the message and offset of every rejection (SEC-19: grammar,
// UTF-8, surrogates, duplicates, depth).
func TestValidErrors(t *testing.T) {
	deep := strings.Repeat("[", 65) + strings.Repeat("]", 65)
	for _, tc := range []struct {
		name, in string
		rules    Rules
		want     string
	}{
		{"empty", ``, strict, `invalid JSON at offset 0: unexpected end of input, want a value`},
		{"space only", "  \n", strict, `invalid JSON at offset 3: unexpected end of input, want a value`},
		{"garbage", `<x/>`, strict, `invalid JSON at offset 0: want a value`},
		{"two values", `1 2`, strict, `invalid JSON at offset 2: data after the JSON value`},
		{"unterminated object", `{"a":1`, strict, `invalid JSON at offset 6: unterminated object`},
		{"unterminated string", `{"a":"b`, strict, `invalid JSON at offset 7: unterminated string`},
		{"trailing comma", `{"a":1,}`, strict, `invalid JSON at offset 7: want a member name`},
		{"missing colon", `{"a" 1}`, strict, `invalid JSON at offset 5: want ':' after member name`},
		{"single quotes", `{'a':1}`, strict, `invalid JSON at offset 1: want a member name`},
		{"bad escape", `"a\x"`, strict, `invalid JSON at offset 2: invalid escape`},
		{"unterminated escape", `"a\`, strict, `invalid JSON at offset 2: unterminated escape`},
		{"bad unicode escape", `"\u00g1"`, strict, `invalid JSON at offset 1: invalid \u escape`},
		{"short unicode escape", `"\u00"`, loose, `invalid JSON at offset 1: invalid \u escape`},
		{"lone high surrogate", `"\ud800@"`, strict, `invalid JSON at offset 7: lone high surrogate in string`},
		{"high then bad low", `"\ud800\u0041"`, strict, `invalid JSON at offset 7: lone high surrogate in string`},
		{"lone low surrogate", `"\udc00"`, strict, `invalid JSON at offset 1: lone low surrogate in string`},
		{"control character", "\"a\tb\"", strict, `invalid JSON at offset 2: control character in string`},
		{"control character loose", "\"a\x00b\"", loose, `invalid JSON at offset 2: control character in string`},
		{"invalid UTF-8", "\"ab\xffc\"", strict, `invalid JSON at offset 3: string is not valid UTF-8`},
		{"leading zero", `{"n":01}`, strict, `invalid JSON at offset 6: want ',' or '}' in object`},
		{"bad number", `-}`, strict, `invalid JSON at offset 1: invalid number`},
		{"bad fraction", `1.}`, strict, `invalid JSON at offset 2: invalid number: no digit after '.'`},
		{"bad exponent", `1e}`, strict, `invalid JSON at offset 2: invalid number: no digit in exponent`},
		{"bad literal", `nul`, strict, `invalid JSON at offset 0: invalid literal`},
		{"unterminated array", `[1,2}`, strict, `invalid JSON at offset 4: want ',' or ']' in array`},
		{"open array", `[1,2`, strict, `invalid JSON at offset 4: unterminated array`},
		{"too deep", deep, strict, `invalid JSON at offset 64: nesting deeper than 64`},
		{"duplicate", `{"a":1,"a":2}`, strict, `invalid JSON at offset 7: duplicate member name "a"`},
		{"duplicate nested", `[{"x":{"a":1,"b":{},"a":2}}]`, strict, `invalid JSON at offset 20: duplicate member name "a"`},
		{"duplicate escaped", `{"a":1,"\u0061":2}`, strict, `invalid JSON at offset 7: duplicate member name "a"`},
	} {
		err := tc.rules.Valid([]byte(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: Valid(%q) = %v, want %s", tc.name, tc.in, err, tc.want)
		}
	}
}

func TestValidAccepts(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, ` {"a" : [1, -2.5e+3, {"b": null}], "c": "\u00e9\n\"\\\/", "d": true, "e": false} `,
		`"\ud83d\ude00"`, `0`, `-0.0E-0`, "\"é 中\"", `{"a":1,"b":2}`, `{"":1}`,
	} {
		for _, r := range []Rules{strict, loose} {
			if err := r.Valid([]byte(in)); err != nil {
				t.Errorf("%+v: Valid(%q) = %v", r, in, err)
			}
		}
	}
}

// TestLooseRules: the zero Rules accept what encoding/json accepts: invalid UTF-8, lone
// surrogates, duplicate names.
func TestLooseRules(t *testing.T) {
	for _, in := range []string{"\"\xff\"", `"\ud800"`, `"\udc00x"`, `{"a":1,"a":2}`, `"\ud800\u0041"`} {
		if err := loose.Valid([]byte(in)); err != nil {
			t.Errorf("Valid(%q) = %v", in, err)
		}
		if err := strict.Valid([]byte(in)); err == nil {
			t.Errorf("strict Valid(%q) accepted", in)
		}
	}
}

func TestMaxDepth(t *testing.T) {
	nest := func(n int) []byte {
		return []byte(strings.Repeat(`{"a":[`, n) + strings.Repeat(`]}`, n))
	}
	// nest(n) has 2n levels.
	if err := (Rules{MaxDepth: 10}).Valid(nest(5)); err != nil {
		t.Errorf("10 levels with MaxDepth 10: %v", err)
	}
	if err := (Rules{MaxDepth: 9}).Valid(nest(5)); err == nil {
		t.Error("10 levels with MaxDepth 9 accepted")
	}
	if err := loose.Valid(nest(DefaultMaxDepth / 2)); err != nil {
		t.Errorf("DefaultMaxDepth levels: %v", err)
	}
	for _, n := range []int{DefaultMaxDepth, DefaultMaxDepth + 1} {
		deep := []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
		if got, std := loose.Valid(deep) == nil, json.Valid(deep); got != std || got != (n == DefaultMaxDepth) {
			t.Errorf("%d levels: valid %v, encoding/json %v", n, got, std)
		}
	}
}

// TestManyNames crosses the switch of the duplicate detection from offsets to a map.
func TestManyNames(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 40 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"n%d":%d`, i, i)
	}
	ok := b.String() + "}"
	if err := strict.Valid([]byte(ok)); err != nil {
		t.Fatalf("40 distinct names: %v", err)
	}
	for _, dup := range []string{`"n0"`, `"n39"`, `"\u006e5"`, `"n1\u0037"`} {
		in := ok[:len(ok)-1] + "," + dup + ":0}"
		var de *DuplicateNameError
		if err := strict.Valid([]byte(in)); !errors.As(err, &de) {
			t.Errorf("duplicate %s: %v", dup, err)
		}
	}
	// An escaped name first, its plain spelling later.
	var de *DuplicateNameError
	if err := strict.Valid([]byte(`{"\u0061":1,"b":2,"a":3}`)); !errors.As(err, &de) || de.Name != "a" {
		t.Errorf("escaped then plain: %v", err)
	}
}

func TestSkip(t *testing.T) {
	data := []byte(`{"a":[1,"x",{"b":null}]} , 5`)
	end, err := strict.Skip(data, 0)
	if err != nil || end != 24 {
		t.Errorf("Skip = %d, %v; want 24", end, err)
	}
	end, err = strict.Skip(data, 27)
	if err != nil || end != 28 {
		t.Errorf("Skip(number) = %d, %v; want 28", end, err)
	}
	if _, err := strict.Skip([]byte(`[1,]`), 0); err == nil {
		t.Error("Skip accepted [1,]")
	}
}

type member struct {
	Name, Raw, Value string
	Kind             Kind
}

func TestObjectReader(t *testing.T) {
	in := " {\"a\" : 1, \"b\\u00e9\":\"x\" ,\"c\":{\"d\":[true]},\"e\":null , \"f\":false} \n"
	var r ObjectReader
	if err := r.Reset([]byte(in), strict); err != nil {
		t.Fatal(err)
	}
	var got []member
	for r.Next() {
		got = append(got, member{string(r.Name()), string(r.RawName()), string(r.Value()), r.Kind()})
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	want := []member{
		{"a", "a", "1", Number},
		{"bé", `b\u00e9`, `"x"`, String},
		{"c", "c", `{"d":[true]}`, Object},
		{"e", "e", "null", Null},
		{"f", "f", "false", Bool},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("members (-want +got):\n%s", d)
	}
	if r.Next() {
		t.Error("Next after the end")
	}
	var u ObjectReader
	if err := u.Reset([]byte(`{"a":"x\u00e9","b":"plain","c":1}`), strict); err != nil {
		t.Fatal(err)
	}
	var strs []string
	for u.Next() {
		s, ok := u.Unquoted()
		strs = append(strs, fmt.Sprintf("%s %v", s, ok))
	}
	if d := cmp.Diff([]string{"xé true", "plain true", " false"}, strs); d != "" {
		t.Errorf("Unquoted (-want +got):\n%s", d)
	}
}

func TestObjectReaderErrors(t *testing.T) {
	for _, tc := range []struct {
		in    string
		rules Rules
		n     int // members visited before the error
		want  string
	}{
		{`[]`, strict, 0, `invalid JSON at offset 0: want a JSON object`},
		{``, strict, 0, `invalid JSON at offset 0: want a JSON object`},
		{`{} x`, strict, 0, `invalid JSON at offset 3: data after the JSON object`},
		{`{"a":1} {`, strict, 1, `invalid JSON at offset 8: data after the JSON object`},
		{`{"a":1,"a":2}`, strict, 1, `invalid JSON at offset 7: duplicate member name "a"`},
		{`{"a":1 "b":2}`, strict, 1, `invalid JSON at offset 7: want ',' or '}' in object`},
		{`{"a":1,`, strict, 1, `invalid JSON at offset 7: want a member name`},
		{`{"a":{"b":1,"b":2}}`, strict, 0, `invalid JSON at offset 12: duplicate member name "b"`},
		{`{"a":1,"a":2}`, loose, 2, ``},
	} {
		var r ObjectReader
		n := 0
		if r.Reset([]byte(tc.in), tc.rules) == nil {
			for r.Next() {
				n++
			}
		}
		got := ""
		if r.Err() != nil {
			got = r.Err().Error()
		}
		if got != tc.want || n != tc.n {
			t.Errorf("%q: %d members, %q; want %d, %q", tc.in, n, got, tc.n, tc.want)
		}
	}
}

// TestObjectReaderUnchecked: selected values are only delimited, the others checked.
func TestObjectReaderUnchecked(t *testing.T) {
	r := ObjectReader{Unchecked: func(name []byte) bool { return string(name) == "lazy" }}
	in := `{"lazy":{"x":[1,2,}],"ok":"\ud800"}`
	if err := r.Reset([]byte(in), strict); err != nil {
		t.Fatal(err)
	}
	if !r.Next() || string(r.Value()) != `{"x":[1,2,}]` || r.Kind() != Object {
		t.Fatalf("lazy member: %q %v %v", r.Value(), r.Kind(), r.Err())
	}
	if _, ok := r.Unquoted(); ok {
		t.Error("Unquoted decoded an unchecked value")
	}
	if r.Next() {
		t.Fatal("the checked member with a lone surrogate was accepted")
	}
	if r.Unchecked == nil {
		t.Error("Reset dropped Unchecked")
	}
}

func TestObjectReaderAllocs(t *testing.T) {
	data := []byte(`{"format":"email","email":"user@example.com","x":{"a":[1,2,{"b":null}]},"n":12}`)
	for _, rules := range []Rules{strict, loose} {
		n := testing.AllocsPerRun(100, func() {
			var r ObjectReader
			if r.Reset(data, rules) != nil {
				t.Fatal("reset")
			}
			for r.Next() {
			}
			if r.Err() != nil {
				t.Fatal(r.Err())
			}
		})
		if n != 0 {
			t.Errorf("%+v: %v allocations", rules, n)
		}
	}
}

func TestArrayReader(t *testing.T) {
	var r ArrayReader
	if err := r.Reset([]byte(` [ "a" , 1,{"b":[]} ,null] `), strict); err != nil {
		t.Fatal(err)
	}
	var got []string
	var kinds []Kind
	for r.Next() {
		if r.Index() != len(got) {
			t.Errorf("Index %d, want %d", r.Index(), len(got))
		}
		got = append(got, string(r.Value()))
		kinds = append(kinds, r.Kind())
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	if d := cmp.Diff([]string{`"a"`, "1", `{"b":[]}`, "null"}, got); d != "" {
		t.Error(d)
	}
	if d := cmp.Diff([]Kind{String, Number, Object, Null}, kinds); d != "" {
		t.Error(d)
	}
	for in, want := range map[string]string{
		`{}`:    `invalid JSON at offset 0: want a JSON array`,
		`[1,]`:  `invalid JSON at offset 3: want a value`,
		`[1 2]`: `invalid JSON at offset 3: want ',' or ']' in array`,
		`[1`:    `invalid JSON at offset 2: unterminated array`,
		`[] 1`:  `invalid JSON at offset 3: data after the JSON array`,
	} {
		var r ArrayReader
		if r.Reset([]byte(in), strict) == nil {
			for r.Next() {
			}
		}
		if r.Err() == nil || r.Err().Error() != want {
			t.Errorf("%q: %v, want %s", in, r.Err(), want)
		}
	}
	var empty ArrayReader
	if empty.Reset([]byte(`[]`), strict) != nil || empty.Next() || empty.Err() != nil {
		t.Error("empty array")
	}
}

func TestKind(t *testing.T) {
	for raw, want := range map[string]string{
		`"x"`: "a string", `1`: "a number", `-1`: "a number", `{}`: "an object", `[]`: "an array",
		`true`: "a boolean", `false`: "a boolean", `null`: "null", ``: "nothing", `x`: "nothing",
	} {
		if got := KindOfValue([]byte(raw)).String(); got != want {
			t.Errorf("%q: %s, want %s", raw, got, want)
		}
	}
}

func TestSkipSpace(t *testing.T) {
	if got := SkipSpace([]byte(" \t\r\nx "), 0); got != 4 {
		t.Errorf("SkipSpace = %d", got)
	}
	if got := SkipSpace([]byte("  "), 1); got != 2 {
		t.Errorf("SkipSpace at end = %d", got)
	}
}

func TestTrimSpace(t *testing.T) {
	for in, want := range map[string]string{"": "", " \t": "", " \r\n1 \n": "1", "[ ]": "[ ]", "\v1\f": "\v1\f"} {
		if got := string(TrimSpace([]byte(in))); got != want {
			t.Errorf("TrimSpace(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFindEnd(t *testing.T) {
	for _, tc := range []struct {
		in   string
		end  int
		fail bool
	}{
		{`{"a":[1,"]",{"b":"\""}]} x`, 24, false},
		{`"x\\" y`, 5, false},
		{`123,`, 3, false},
		{`tru}`, 3, false}, // not checked: the caller's parser rejects it
		{`[[[`, 0, true},
		{`"abc`, 0, true},
		{`]`, 0, true},
		{``, 0, true},
		{`,`, 0, true},
		{strings.Repeat("[", 65) + strings.Repeat("]", 65), 0, true},
	} {
		end, err := FindEnd([]byte(tc.in), 0, 64)
		if (err != nil) != tc.fail || (!tc.fail && end != tc.end) {
			t.Errorf("FindEnd(%q) = %d, %v; want %d (fail %v)", tc.in, end, err, tc.end, tc.fail)
		}
	}
}

// TestStopMask compares the word-at-a-time test with plainByte for every byte value at
// every position of a word, behind plain bytes and behind other stop bytes.
func TestStopMask(t *testing.T) {
	for _, fill := range []byte{'a', ' ', '~', '!', '#', '[', ']', '"', '\\', 0x1f, 0x00, 0x80, 0xff} {
		for pos := range 8 {
			for c := range 256 {
				var w [8]byte
				for i := range w {
					w[i] = 'a'
				}
				for i := pos + 1; i < 8; i++ {
					w[i] = fill
				}
				w[pos] = byte(c)
				m := stopMask(binary.LittleEndian.Uint64(w[:]))
				want := -1
				for i, b := range w {
					if !plainByte[b] {
						want = i
						break
					}
				}
				got := -1
				if m != 0 {
					got = bits.TrailingZeros64(m) / 8
				}
				if got != want {
					t.Fatalf("%q: first stop at %d, want %d", w, got, want)
				}
			}
		}
	}
}
