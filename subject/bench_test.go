package subject

import (
	"encoding/json"
	"testing"
)

var (
	benchEmail   = []byte(`{"format":"email","email":"user@example.com"}`)
	benchComplex = []byte(`{"format":"complex","user":{"format":"iss_sub","iss":"https://idp.example.com/3957ea72-1b66-44d6-a044-d805712b9288/","sub":"jane.smith@example.com"},"device":{"format":"iss_sub","iss":"https://idp.example.com/3957ea72-1b66-44d6-a044-d805712b9288/","sub":"e9297990-14d2-42ec-a4a9-4036db86509a"}}`)
	benchLegacy  = []byte(`{"subject_type":"iss-sub","iss":"https://accounts.google.com/","sub":"7375626A656374"}`)
)

// BenchmarkParseEmail: strict Parse of a simple email subject (SSF §5 example 1).
func BenchmarkParseEmail(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEmail)))
	for b.Loop() {
		if _, err := Parse(benchEmail); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStdlibUnmarshalEmail is a reference point: encoding/json into a plain struct,
// with no validation and no duplicate-name detection.
func BenchmarkStdlibUnmarshalEmail(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEmail)))
	for b.Loop() {
		var v struct {
			Format string `json:"format"`
			Email  string `json:"email"`
		}
		if err := json.Unmarshal(benchEmail, &v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseComplex: strict Parse of the SSF §5 example 4 Complex Subject.
func BenchmarkParseComplex(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchComplex)))
	for b.Loop() {
		if _, err := Parse(benchComplex); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseLenientLegacy: ParseLenient of Google's legacy RISC subject.
func BenchmarkParseLenientLegacy(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseLenient(benchLegacy); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalComplex: MarshalJSON of a Complex Subject.
func BenchmarkMarshalComplex(b *testing.B) {
	id := mustParse(b, string(benchComplex))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := id.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatchComplex: Match of the SSF §8.1.3.1 M1 pair (tenant added, tenant+user
// event).
func BenchmarkMatchComplex(b *testing.B) {
	added := mustParse(b, `{"format":"complex","tenant":{"format":"opaque","id":"example-a38h4792-uw2"}}`)
	event := mustParse(b, `{"format":"complex","tenant":{"format":"opaque","id":"example-a38h4792-uw2"},"user":{"format":"email","email":"jdoe@example.com"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if !Match(added, event) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkMatchComplexNoMatch: Match of the M3 pair (user equal, group differs).
func BenchmarkMatchComplexNoMatch(b *testing.B) {
	added := mustParse(b, `{"format":"complex","user":{"format":"email","email":"jdoe@example.com"},"group":{"format":"did","url":"did:example:123456"}}`)
	event := mustParse(b, `{"format":"complex","user":{"format":"email","email":"jdoe@Example.com"},"group":{"format":"did","url":"did:example:9999999"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if Match(added, event) {
			b.Fatal("match")
		}
	}
}

// BenchmarkCanonical: Canonical of a Complex Subject (a database key).
func BenchmarkCanonical(b *testing.B) {
	id := mustParse(b, string(benchComplex))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Canonical(id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCanonicalEmail: Canonical of an email subject.
func BenchmarkCanonicalEmail(b *testing.B) {
	id := mustParse(b, string(benchEmail))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Canonical(id); err != nil {
			b.Fatal(err)
		}
	}
}
