package event_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sigshare/sigshare/event"
)

func TestTimestampJSON(t *testing.T) {
	for in, want := range map[string]event.Timestamp{
		`1615304991`:          1615304991,
		` 1615304991 `:        1615304991,
		`1615304991.999`:      1615304991,
		`-1.5`:                -2,
		`0`:                   0,
		`1e3`:                 1000,
		`9223372036854775807`: 9223372036854775807,
	} {
		var ts event.Timestamp
		if err := json.Unmarshal([]byte(in), &ts); err != nil || ts != want {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d", in, ts, err, want)
		}
	}
	for _, in := range []string{`"1615304991"`, `true`, `{}`, `[]`, `9223372036854775808`, `1e19`, `-1e19`} {
		var ts event.Timestamp
		if err := json.Unmarshal([]byte(in), &ts); err == nil {
			t.Errorf("Unmarshal(%s) succeeded: %d", in, ts)
		}
	}
	ts := event.Timestamp(5)
	if err := json.Unmarshal([]byte(`null`), &ts); err != nil || ts != 5 {
		t.Errorf("null changed the value: %d %v", ts, err)
	}
	b, _ := json.Marshal(event.Timestamp(1615304991))
	if string(b) != `1615304991` {
		t.Errorf("Marshal = %s", b)
	}
	now := time.Date(2021, 3, 9, 15, 49, 51, 999, time.UTC)
	if got := event.TimestampOf(now); got != 1615304991 || !got.Time().Equal(now.Truncate(time.Second)) || got.IsZero() {
		t.Errorf("TimestampOf / Time: %d %v", got, got.Time())
	}
}

func TestLanguageTags(t *testing.T) {
	for _, tag := range []string{"en", "de", "es-410", "es-419", "zh-Hant-TW", "de-CH-1901", "x-private", "i-default", "sgn-BE-FR", "EN-us", "abcdefgh"} {
		if !event.ValidLanguageTag(tag) {
			t.Errorf("ValidLanguageTag(%q) = false", tag)
		}
	}
	for _, tag := range []string{"", "en_US", "-en", "en-", "en--US", "1en", "abcdefghi", "en-abcdefghi", "en US", "é", "en-US "} {
		if event.ValidLanguageTag(tag) {
			t.Errorf("ValidLanguageTag(%q) = true", tag)
		}
	}
}

func TestLocalizedJSON(t *testing.T) {
	var l event.Localized
	if err := json.Unmarshal([]byte(`{"en":"Land speed violation.","es":"Violaci\u00f3n","it":"non è"}`), &l); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(event.Localized{"en": "Land speed violation.", "es": "Violación", "it": "non è"}, l); d != "" {
		t.Error(d)
	}
	if err := l.Validate(); err != nil {
		t.Error(err)
	}
	if d := cmp.Diff([]string{"en", "es", "it"}, l.Tags()); d != "" {
		t.Error(d)
	}
	for in, want := range map[string]string{
		`"Policy Violation"`: "must be a JSON object, not a string",
		`{"en":1}`:           `"en" maps to a number`,
		`{"en":null}`:        `"en" maps to null`,
		`[]`:                 "not an array",
	} {
		var l event.Localized
		err := json.Unmarshal([]byte(in), &l)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Unmarshal(%s) = %v, want %q", in, err, want)
		}
	}
	if err := (event.Localized{}).Validate(); err == nil {
		t.Error("empty Localized is valid")
	}
	if err := (event.Localized{"en_US": "x"}).Validate(); err == nil || !strings.Contains(err.Error(), `"en_US"`) {
		t.Errorf("Validate = %v", err)
	}
}

// TestReaderWriter exercises the reader and writer on escapes, Unicode and duplicates.
func TestReaderWriter(t *testing.T) {
	data := []byte(`{ "n\u0061me" : "a\"b\\c\u00e9\ud83d\ude00\n" , "dup":"1", "dup":"2", "n":null, "list":["x","\u0079"], "obj":{"k":[1,{"m":2.50}]}, "num": -0.5e+10 }`)
	r, err := event.NewPayloadReader("urn:x", data)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	var extra map[string]json.RawMessage
	for r.Next() {
		switch r.Name() {
		case "name", "dup", "n":
			got[r.Name()] = r.ReadString()
		case "list":
			got["list"] = r.ReadStrings()
		case "obj":
			got["obj"] = r.ReadObject()
		default:
			r.Keep(&extra)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"name": "a\"b\\cé😀\n", "dup": "2", "n": "", "list": []string{"x", "y"},
		"obj": map[string]any{"k": []any{json.Number("1"), map[string]any{"m": json.Number("2.50")}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if string(extra["num"]) != `-0.5e+10` {
		t.Errorf("extra = %v", extra)
	}

	w := event.NewPayloadWriter("urn:x", map[string]json.RawMessage{"num": json.RawMessage(`-0.5e+10`), "name": json.RawMessage(`"shadowed"`)})
	w.String("name", want["name"].(string))
	w.String("empty", "")
	w.Strings("list", []string{"x", "y"})
	w.Timestamp("ts", 0)
	w.Object("obj", want["obj"].(map[string]any))
	w.Raw("raw", json.RawMessage(`[true]`))
	w.Localized("l", event.Localized{"it": "è", "en": "<b>"})
	out, err := w.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	const wantOut = `{"name":"a\"b\\cé😀\n","list":["x","y"],"obj":{"k":[1,{"m":2.50}]},"raw":[true],"l":{"en":"<b>","it":"è"},"num":-0.5e+10}`
	if string(out) != wantOut {
		t.Errorf("writer output\n got %s\nwant %s", out, wantOut)
	}

	w = event.NewPayloadWriter("urn:x", map[string]json.RawMessage{"bad": json.RawMessage(`{`)})
	if _, err := w.Bytes(); err == nil || !strings.Contains(err.Error(), `member "bad" is not valid JSON`) {
		t.Errorf("invalid extra: %v", err)
	}
	w = event.NewPayloadWriter("urn:x", nil)
	w.Object("o", map[string]any{"c": make(chan int)})
	if _, err := w.Bytes(); err == nil || !strings.Contains(err.Error(), `member "o" cannot be encoded`) {
		t.Errorf("unencodable object: %v", err)
	}
}

// TestWriterStringEscaping: the writer's strings decode back to the same value as
// encoding/json's, for control characters, U+2028/2029 and invalid UTF-8.
func TestWriterStringEscaping(t *testing.T) {
	for _, s := range []string{"\x00\x01\x1f\t\r\n\"\\", "\u2028\u2029", "bad \xff utf8 \xc3", "plain", "日本語"} {
		checkString(t, s)
	}
}

func checkString(t *testing.T, s string) {
	t.Helper()
	w := event.NewPayloadWriter("urn:x", nil)
	w.String("s", s)
	out, err := w.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var got, want struct{ S string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%q: writer produced invalid JSON %s: %v", s, out, err)
	}
	ref, _ := json.Marshal(struct{ S string }{s})
	_ = json.Unmarshal(ref, &want)
	if got.S != want.S {
		t.Errorf("%q: writer round-trips to %q, encoding/json to %q", s, got.S, want.S)
	}
}

// TestReaderTypeErrors: each Read method records a wrong JSON type against the member.
func TestReaderTypeErrors(t *testing.T) {
	for _, tt := range []struct {
		payload string
		read    func(*event.PayloadReader)
		want    string
	}{
		{`{"m":"x"}`, func(r *event.PayloadReader) { r.ReadTimestamp() }, `member "m" must be a JSON number of seconds, not a string`},
		{`{"m":[1]}`, func(r *event.PayloadReader) { r.ReadLocalized() }, `member "m" must be a JSON object of language-tagged strings, not an array`},
		{`{"m":{}}`, func(r *event.PayloadReader) { r.ReadStrings() }, `member "m" must be a JSON array of strings, not an object`},
		{`{"m":[]}`, func(r *event.PayloadReader) { r.ReadObject() }, `member "m" must be a JSON object, not an array`},
		{`{"m":"x"}`, func(r *event.PayloadReader) { var n int; r.ReadInto(&n) }, `member "m" is malformed: json: cannot unmarshal`},
		{`{"m":1}`, func(r *event.PayloadReader) { r.Fail("is not allowed here", nil) }, `member "m" is not allowed here`},
	} {
		r, err := event.NewPayloadReader("urn:x", []byte(tt.payload))
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			tt.read(r)
		}
		if err := r.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Err() = %v, want %q", tt.payload, err, tt.want)
		}
	}
	// null is absent for every Read method; ReadInto decodes numbers into any type.
	r, _ := event.NewPayloadReader("urn:x", []byte(`{"a":null,"b":null,"c":null,"d":null,"e":null,"f":3}`))
	for r.Next() {
		switch r.Name() {
		case "a":
			if r.ReadTimestamp() != 0 {
				t.Error("a")
			}
		case "b":
			if r.ReadLocalized() != nil {
				t.Error("b")
			}
		case "c":
			if r.ReadStrings() != nil {
				t.Error("c")
			}
		case "d":
			if r.ReadObject() != nil {
				t.Error("d")
			}
		case "e":
			if r.ReadString() != "" {
				t.Error("e")
			}
		case "f":
			var n int
			if r.ReadInto(&n); n != 3 {
				t.Error("f")
			}
		}
	}
	if err := r.Err(); err != nil {
		t.Error(err)
	}
	w := event.NewPayloadWriter("urn:x", nil)
	w.Raw("r", json.RawMessage(`{`))
	if _, err := w.Bytes(); err == nil || !strings.Contains(err.Error(), `member "r" is not valid JSON`) {
		t.Errorf("Raw with invalid JSON: %v", err)
	}
}
