package subject

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
)

// seeds returns every subject of the vectors, the matching corpus and some malformed and
// legacy inputs.
func seeds(t testing.TB) [][]byte {
	var out [][]byte
	files, _ := filepath.Glob(filepath.Join("testdata", "vectors", "subject", "*.json"))
	for _, f := range files {
		out = append(out, subjectOf(t, readVector(t, filepath.Join("subject", filepath.Base(f)))))
	}
	for _, v := range subjectVectors {
		out = append(out, at(t, readVector(t, v.file).JSON, v.path))
	}
	for _, s := range corpus {
		out = append(out, []byte(s))
	}
	for _, s := range []string{
		``, `{}`, `[]`, `{"format":"email","email":"a@b","email":"c@d"}`,
		`{"format":"aliases","identifiers":[{"format":"aliases","identifiers":[]}]}`,
		`{"subject_type":"iss-sub","iss":"i","sub":"s"}`, `{"format":"opaque","sub":"x"}`,
		`{"user":{"subject_type":"phone","phone_number":"+1"},"device":{"format":"opaque","sub":"d"}}`,
		`{"format":"x","a":"\ud83d\ude00","b":-1.5E-7,"c":[{},[],null]}`,
		`{"format":"complex","team":{"format":"aliases","identifiers":[{"format":"jwt_id","iss":"i","jti":"j"}]}}`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

// genericJSON decodes JSON keeping numbers as written, for comparing documents.
func genericJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// FuzzParse: whatever Parse accepts is valid JSON, encodes, re-decodes to an Equal
// identifier, re-encodes byte-identically, equals the input as a JSON document (AMB-6:
// what we decode re-encodes unchanged) and has a canonical form. Parse accepts exactly
// the inputs ParseLenient accepts without tolerating anything.
func FuzzParse(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := Parse(data)
		lid, l, lerr := ParseLenient(data)
		if (err == nil) != (lerr == nil && l == 0) {
			t.Fatalf("Parse error %v, but ParseLenient leniency %v error %v", err, l, lerr)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("Parse accepted invalid JSON %q", data)
		}
		if err := id.Validate(); err != nil {
			t.Fatalf("Validate after Parse: %v", err)
		}
		// MarshalJSON directly: json.Marshal would also HTML-escape "<", ">" and "&".
		out, err := id.MarshalJSON()
		if err != nil {
			t.Fatalf("Marshal after Parse: %v", err)
		}
		if _, err := json.Marshal(id); err != nil {
			t.Fatalf("json.Marshal after Parse: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(x)) of %s: %v", out, err)
		}
		if !Equal(id, back) || !Equal(back, id) || !Equal(id, lid) {
			t.Fatalf("Parse(Marshal(x)) is not Equal to x: %s", out)
		}
		out2, err := back.MarshalJSON()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("re-encoding is not stable: %s then %s (%v)", out, out2, err)
		}
		in, err1 := genericJSON(data)
		got, err2 := genericJSON(out)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(in, got) {
			t.Fatalf("encoding %s is not the input %s as JSON (%v, %v)", out, data, err1, err2)
		}
		k1, err := Canonical(id)
		if err != nil {
			t.Fatalf("Canonical: %v", err)
		}
		k2, err := Canonical(back)
		if err != nil || !bytes.Equal(k1, k2) {
			t.Fatalf("Canonical differs after a round trip: %s, %s", k1, k2)
		}
		if !Match(id, back) {
			t.Fatalf("identifier does not match itself")
		}
	})
}

// FuzzParseLenient: whatever ParseLenient accepts is valid JSON and normalizes to SSF
// 1.0 Final: its encoding parses strictly to an Equal identifier, needing no tolerance.
func FuzzParseLenient(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		id, l, err := ParseLenient(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if l != 0 {
				t.Fatalf("leniency %v reported with an error", l)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("ParseLenient accepted invalid JSON %q", data)
		}
		if l.String() == "" || (l == 0) != (l.String() == "none") {
			t.Fatalf("Leniency.String() = %q for %d", l.String(), l)
		}
		out, err := json.Marshal(id)
		if err != nil {
			t.Fatalf("Marshal after ParseLenient: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("normalized output %s does not parse strictly: %v", out, err)
		}
		if !Equal(id, back) {
			t.Fatalf("Parse(Marshal(x)) is not Equal to x: %s", out)
		}
		if _, l2, err := ParseLenient(out); err != nil || l2 != 0 {
			t.Fatalf("normalized output %s still needs leniency %v (%v)", out, l2, err)
		}
	})
}

// FuzzMatch: for any two subjects, Match is symmetric, Equal implies Match, and Equal
// holds exactly when the canonical forms are equal.
func FuzzMatch(f *testing.F) {
	s := seeds(f)
	for i := range s {
		f.Add(s[i], s[(i*7+3)%len(s)])
	}
	f.Fuzz(func(t *testing.T, x, y []byte) {
		a, _, err := ParseLenient(x)
		if err != nil {
			return
		}
		b, _, err := ParseLenient(y)
		if err != nil {
			return
		}
		for _, m := range []Matcher{{}, {FoldEmailLocalCase: true}, {AllowDisjointComplex: true}, {SeparateSimpleAndComplex: true}} {
			if m.Match(a, b) != m.Match(b, a) {
				t.Fatalf("%+v: Match not symmetric", m)
			}
			eq := m.Equal(a, b)
			if eq != m.Equal(b, a) {
				t.Fatalf("%+v: Equal not symmetric", m)
			}
			if eq && !m.Match(a, b) && m.AllowDisjointComplex {
				t.Fatalf("%+v: Equal but not Match", m)
			}
			ka, err1 := m.Canonical(a)
			kb, err2 := m.Canonical(b)
			if err1 != nil || err2 != nil {
				t.Fatalf("Canonical: %v, %v", err1, err2)
			}
			if eq != bytes.Equal(ka, kb) {
				t.Fatalf("%+v: Equal = %v but canonical forms %s and %s", m, eq, ka, kb)
			}
		}
	})
}
