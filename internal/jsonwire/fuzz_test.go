package jsonwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

var fuzzSeeds = []string{
	`{}`, `[]`, `{"a":1}`, ` {"a" : [1, 2, {"b": null}], "c": "\u00e9\n"} `, `{"a":1,"a":2}`,
	`{"a":{"b":1,"b":2}}`, `{"a":1,"\u0061":2}`, `{"x":-0.5e+10,"y":true,"z":false}`, `"x"`,
	`{"a":}`, `{"a":1,}`, `{"a" 1}`, `{"\ud83d\ude00":"\ud800"}`, "{\"a\":\"\xff\"}",
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":[1,]}`, `{"a":tru}`, `{"a":"\x"}`, `{} x`, ``,
	`{"a":"b"`, `"\udc00"`, `"\ud800\u0041"`, `[[[[]]]]`, `{"a":1e700}`, "\"\xed\xa0\x80\"", `["a","b\n"]`,
}

// FuzzScanner compares the scanner with encoding/json on arbitrary input: the zero Rules
// accept exactly what encoding/json accepts; strict strings additionally reject invalid
// UTF-8 and lone surrogates; unique names reject exactly the objects with a repeated
// name. ObjectReader yields the members encoding/json decodes (last duplicate wins),
// ArrayReader the elements, and Unquote the strings encoding/json decodes.
func FuzzScanner(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		stdValid := json.Valid(data)
		if err := loose.Valid(data); (err == nil) != stdValid {
			t.Fatalf("Valid = %v, encoding/json valid = %v for %q", err, stdValid, data)
		}
		goodStrings := stdValid && utf8.Valid(data) && !hasLoneSurrogate(data)
		if err := (Rules{StrictStrings: true}).Valid(data); (err == nil) != goodStrings {
			t.Fatalf("strict Valid = %v, want valid %v for %q", err, goodStrings, data)
		}
		unique := goodStrings && !hasDuplicateNames(t, data)
		err := (Rules{StrictStrings: true, UniqueNames: true}).Valid(data)
		if (err == nil) != unique {
			t.Fatalf("unique Valid = %v, want valid %v for %q", err, unique, data)
		}
		var de *DuplicateNameError
		if err != nil && goodStrings && !errors.As(err, &de) {
			t.Fatalf("a document rejected for a duplicate gives %v", err)
		}
		if !stdValid {
			return
		}
		end, err := loose.Skip(data, SkipSpace(data, 0))
		if err != nil || SkipSpace(data, end) != len(data) {
			t.Fatalf("Skip = %d, %v on a valid document", end, err)
		}
		checkObject(t, data)
		checkArray(t, data)
		checkStrings(t, data, goodStrings)
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			t.Fatal(err)
		}
		if got := AppendCompact(nil, bytes.TrimLeft(data, " \t\r\n")); !bytes.Equal(got, compact.Bytes()) {
			t.Fatalf("AppendCompact = %s, encoding/json %s", got, compact.Bytes())
		}
	})
}

func checkObject(t *testing.T, data []byte) {
	var want map[string]json.RawMessage
	isObject := json.Unmarshal(data, &want) == nil && want != nil
	var r ObjectReader
	got := map[string]json.RawMessage{}
	if r.Reset(data, loose) == nil {
		for r.Next() {
			got[string(r.Name())] = r.Value()
			if r.Kind() != KindOfValue(r.Value()) {
				t.Fatalf("Kind %v for %s", r.Kind(), r.Value())
			}
			if !bytes.Equal(loose.UnquoteBytes([]byte(`"`+string(r.RawName())+`"`)), r.Name()) {
				t.Fatalf("Name %q does not decode RawName %q", r.Name(), r.RawName())
			}
			checkUnquoted(t, r.Value())(r.Unquoted())
		}
	}
	if (r.Err() == nil) != isObject {
		t.Fatalf("ObjectReader err = %v, encoding/json object %v", r.Err(), isObject)
	}
	if isObject {
		if d := cmp.Diff(want, got, cmp.Comparer(func(a, b json.RawMessage) bool { return bytes.Equal(a, b) })); d != "" {
			t.Fatalf("members differ (-encoding/json +reader):\n%s", d)
		}
	}
}

func checkArray(t *testing.T, data []byte) {
	var want []json.RawMessage
	isArray := json.Unmarshal(data, &want) == nil && want != nil
	var r ArrayReader
	var got []json.RawMessage
	if r.Reset(data, loose) == nil {
		got = []json.RawMessage{}
		for r.Next() {
			got = append(got, r.Value())
			checkUnquoted(t, r.Value())(r.Unquoted())
		}
	}
	if (r.Err() == nil) != isArray {
		t.Fatalf("ArrayReader err = %v, encoding/json array %v", r.Err(), isArray)
	}
	if isArray {
		if d := cmp.Diff(want, got, cmp.Comparer(func(a, b json.RawMessage) bool { return bytes.Equal(a, b) })); d != "" {
			t.Fatalf("elements differ (-encoding/json +reader):\n%s", d)
		}
	}
}

// checkUnquoted returns a check that a reader's Unquoted result for the value raw is
// what encoding/json decodes for a string, and nothing for another value.
func checkUnquoted(t *testing.T, raw []byte) func(string, bool) {
	return func(got string, ok bool) {
		var std string
		isString := KindOfValue(raw) == String && json.Unmarshal(raw, &std) == nil
		if ok != isString || got != std {
			t.Fatalf("Unquoted of %s = %q, %v; encoding/json %q, %v", raw, got, ok, std, isString)
		}
	}
}

// checkStrings decodes every string of a valid document, names included, with Unquote
// and with encoding/json (under strict rules too when the document is strictly valid).
func checkStrings(t *testing.T, data []byte, strictValid bool) {
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		end, err := loose.Skip(data, i)
		if err != nil {
			t.Fatalf("Skip of a string in a valid document: %v", err)
		}
		raw := data[i:end]
		var std string
		if err := json.Unmarshal(raw, &std); err != nil {
			t.Fatal(err)
		}
		if got := loose.Unquote(raw); got != std {
			t.Fatalf("Unquote(%q) = %q, encoding/json %q", raw, got, std)
		}
		if got := (Rules{StrictStrings: true}).Unquote(raw); strictValid && got != std {
			t.Fatalf("strict Unquote(%q) = %q, encoding/json %q", raw, got, std)
		}
		i = end - 1
	}
}

// hasLoneSurrogate reports whether a valid JSON document has an escaped surrogate that
// is not part of a pair. Outside strings valid JSON has no backslash.
func hasLoneSurrogate(data []byte) bool {
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		if data[i+1] != 'u' {
			i++
			continue
		}
		r, _ := hex4(data[i+2:])
		i += 5
		if !utf16.IsSurrogate(r) {
			continue
		}
		if r >= 0xDC00 || !bytes.HasPrefix(data[i+1:], []byte(`\u`)) {
			return true
		}
		r2, _ := hex4(data[i+3:])
		if r2 < 0xDC00 || r2 > 0xDFFF {
			return true
		}
		i += 6
	}
	return false
}

// hasDuplicateNames reports whether any object of a valid document repeats a name, using
// encoding/json's tokenizer.
func hasDuplicateNames(t *testing.T, data []byte) bool {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber() // numbers such as 1e700 are valid JSON but no float64
	type level struct {
		object bool
		names  map[string]bool
		key    bool // the next string token is a name
	}
	var stack []*level
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return false
		}
		if err != nil {
			t.Fatalf("tokenizing a valid document: %v", err)
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		isKey := top != nil && top.object && top.key
		if top != nil && top.object {
			top.key = !top.key
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &level{object: true, names: map[string]bool{}, key: true})
			case '[':
				stack = append(stack, &level{})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					// The closed container was a value: the next token is a name.
					stack[len(stack)-1].key = true
				}
			}
		case string:
			if isKey {
				if top.names[v] {
					return true
				}
				top.names[v] = true
			}
		}
	}
}

// FuzzAppendString: every Escaping gives a JSON string that decodes to s (to s with
// invalid UTF-8 replaced where the input is not valid UTF-8 and it is replaced), and the
// encoding/json Escaping gives exactly encoding/json's bytes.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\u2028", "\xff", "\x00<>&\b\f", "é\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s, encodingJSON); !bytes.Equal(got, want) {
			t.Fatalf("%q: %s, encoding/json %s", s, got, want)
		}
		var std string // s, with each byte of invalid UTF-8 replaced
		if err := json.Unmarshal(want, &std); err != nil {
			t.Fatal(err)
		}
		for e := range Escaping(16) {
			out := AppendString(nil, s, e)
			if !utf8.ValidString(s) && e&ReplaceInvalidUTF8 == 0 {
				// Invalid UTF-8 is copied through; the rest must still be JSON.
				if err := loose.Valid(out); err != nil {
					t.Fatalf("%04b %q: %s is not JSON: %v", e, s, out, err)
				}
				continue
			}
			if err := (Rules{StrictStrings: true}).Valid(out); err != nil {
				t.Fatalf("%04b %q: %s is not strict JSON: %v", e, s, out, err)
			}
			if got := loose.Unquote(out); got != std {
				t.Fatalf("%04b %q: %s decodes to %q, want %q", e, s, out, got, std)
			}
		}
	})
}

// FuzzFindEnd checks that FindEnd, which only finds the end of a value whose syntax
// another parser checks, agrees with Skip on every valid value.
func FuzzFindEnd(f *testing.F) {
	for _, s := range []string{`{"a":[1,"]",{"b":"\""}]}`, `"x\\"`, `123,`, `[]`, `{}`, `tru`, `"\u00e9"`, `[[[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		end, err := Rules{MaxDepth: 64, StrictStrings: true}.Skip(data, 0)
		send, serr := FindEnd(data, 0, 64)
		// A scalar ends where its grammar ends for Skip but at the next delimiter for
		// FindEnd; in an object both are the same, or the object is malformed.
		complete := err == nil && (end == len(data) || strings.IndexByte(",}] \t\n\r", data[end]) >= 0)
		if complete && (serr != nil || send != end) {
			t.Fatalf("Skip ends at %d, FindEnd at %d (%v)", end, send, serr)
		}
		if serr == nil && (send <= 0 || send > len(data)) {
			t.Fatalf("FindEnd returned %d for %d bytes", send, len(data))
		}
	})
}
