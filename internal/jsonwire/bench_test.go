package jsonwire

import (
	"bytes"
	"testing"
)

var benchObject = []byte(`{"format":"complex","user":{"format":"email","email":"user@example.com"},` +
	`"device":{"format":"iss_sub","iss":"https://idp.example.com/","sub":"e9a7b6f0-device-31"},` +
	`"tenant":{"format":"opaque","id":"tenant-8c2d1f"},"n":[1,2.5,-3e2,true,false,null]}`)

// BenchmarkValid: one pass over a subject-like document under each rule set.
func BenchmarkValid(b *testing.B) {
	for _, bc := range []struct {
		name  string
		rules Rules
	}{{"loose", loose}, {"strict", strict}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(benchObject)))
			for b.Loop() {
				if err := bc.rules.Valid(benchObject); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkObjectReader: walking the members of the document.
func BenchmarkObjectReader(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchObject)))
	for b.Loop() {
		var r ObjectReader
		if err := r.Reset(benchObject, strict); err != nil {
			b.Fatal(err)
		}
		for r.Next() {
		}
		if r.Err() != nil {
			b.Fatal(r.Err())
		}
	}
}

var sink string

// BenchmarkUnquote: the common case, a short plain string, and one with escapes.
func BenchmarkUnquote(b *testing.B) {
	for _, bc := range []struct{ name, raw string }{
		{"plain", `"https://idp.example.com/"`},
		{"escaped", `"caf\u00e9 \"quoted\" text"`},
	} {
		raw := []byte(bc.raw)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink = strict.Unquote(raw)
			}
		})
	}
	b.Run("plain-indexbyte-only", func(b *testing.B) { // what a strict-only decoder needs
		raw := []byte(`"https://idp.example.com/"`)
		for b.Loop() {
			body := raw[1 : len(raw)-1]
			if bytes.IndexByte(body, '\\') < 0 {
				sink = string(body)
			}
		}
	})
}

// BenchmarkAppendString: a typical claim value.
func BenchmarkAppendString(b *testing.B) {
	buf := make([]byte, 0, 128)
	for b.Loop() {
		buf = AppendString(buf[:0], "https://receiver.example.com/events?x=1", ReplaceInvalidUTF8)
	}
}
