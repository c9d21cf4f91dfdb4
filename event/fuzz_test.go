package event_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sigshare/sigshare/event"
)

var fuzzSeeds = []string{
	`{}`, `{"a":1}`, ` {"a" : [1, 2, {"b": null}], "c": "\u00e9\n"} `, `{"a":1,"a":2}`,
	`{"x":-0.5e+10,"y":true,"z":false}`, `[]`, `"x"`, `{"a":}`, `{"a":1,}`, `{"a" 1}`,
	`{"\ud83d\ude00":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":01}`, `{"a":1.}`, `{"a":.5}`,
	`{"a":[1,]}`, `{"a":tru}`, `{"a":"\x"}`, `{} x`, ``, `{"a":"b"`,
}

// FuzzPayloadReader checks the one-pass scanner against encoding/json: it accepts
// exactly the JSON objects encoding/json accepts, and yields the same members (last
// duplicate wins) with the same values.
func FuzzPayloadReader(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]json.RawMessage
		stdErr := json.Unmarshal(data, &want)
		isObject := stdErr == nil && want != nil

		got := map[string]json.RawMessage{}
		strs := map[string]string{}
		r, err := event.NewPayloadReader("urn:x", data)
		if err == nil {
			for r.Next() {
				v := r.Raw()
				got[r.Name()] = bytes.Clone(v)
				if !bytes.Equal(r.Key(), []byte(r.Name())) {
					t.Fatalf("Key %q != Name %q", r.Key(), r.Name())
				}
				if len(v) > 0 && v[0] == '"' {
					strs[r.Name()] = r.ReadString()
				}
			}
			err = r.Err()
		}
		if (err == nil) != isObject {
			t.Fatalf("reader err = %v, encoding/json err = %v (object %v) for %q", err, stdErr, isObject, data)
		}
		if err != nil {
			return
		}
		if d := cmp.Diff(want, got, cmp.Comparer(func(a, b json.RawMessage) bool { return bytes.Equal(a, b) })); d != "" {
			t.Fatalf("members differ (-encoding/json +reader):\n%s", d)
		}
		for name, s := range strs {
			var std string
			if err := json.Unmarshal(want[name], &std); err == nil && std != s {
				t.Fatalf("ReadString(%s) = %q, encoding/json %q", name, s, std)
			}
		}
		var raw event.Raw
		if rawErr := raw.UnmarshalJSON(data); rawErr != nil {
			t.Fatalf("Raw rejects an object the reader accepts: %v", rawErr)
		}
	})
}

// FuzzWriterString: the writer's string encoding decodes to what encoding/json's does.
func FuzzWriterString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\u2028", "\xff", "\x00<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkString(t, s) })
}
