package ssf

import (
	"encoding/json"
	"strconv"
	"testing"
)

func BenchmarkAudienceUnmarshal(b *testing.B) {
	for _, bc := range []struct{ name, json string }{
		{"string", `"https://receiver.example.com/web"`},
		{"array2", `["https://receiver.example.com/web","https://receiver.example.com/mobile"]`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			data := []byte(bc.json)
			b.ReportAllocs()
			for b.Loop() {
				var a Audience
				if err := a.UnmarshalJSON(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAudienceContains(b *testing.B) {
	a := Audience{"https://receiver.example.com/web", "https://receiver.example.com/mobile"}
	b.ReportAllocs()
	for b.Loop() {
		if !a.Contains("https://receiver.example.com/mobile") {
			b.Fatal("not found")
		}
	}
}

func BenchmarkStreamConfig(b *testing.B) {
	c := pushConfig()
	data, err := json.Marshal(c)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v StreamConfig
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkPollResponseMarshal(b *testing.B) {
	r := PollResponse{Sets: map[string]string{}, MoreAvailable: true}
	set := "eyJ0eXAiOiJzZWNldmVudCtqd3QiLCJhbGciOiJSUzI1NiJ9." + "eyJpc3MiOiJodHRwczovL3RyLmV4YW1wbGUuY29tIn0.c2lnbmF0dXJl"
	for i := range 100 {
		r.Sets["jti-"+strconv.Itoa(i)] = set
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPollRequestUnmarshal(b *testing.B) {
	data := []byte(`{"maxEvents":10,"returnImmediately":true,"ack":["4d3559ec67504aaba65d40b0363faad8","3d0c3cf797584bd193bd0fb1bd4e7d30"],"setErrs":{"a1":{"err":"invalid_key","description":"Key ID 12345 has been revoked."}}}`)
	b.ReportAllocs()
	for b.Loop() {
		var r PollRequest
		if err := json.Unmarshal(data, &r); err != nil {
			b.Fatal(err)
		}
	}
}
