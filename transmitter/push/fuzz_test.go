package push

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
)

// FuzzClassifyResponse feeds arbitrary answers to the outcome table: it never panics,
// 2xx always delivers, other answers never do, and the recorded text is printable and
// bounded.
func FuzzClassifyResponse(f *testing.F) {
	f.Add(400, []byte(`{"err":"invalid_request","description":"bad"}`), "", "")
	f.Add(400, []byte(`{"err":"authentication_failed","description":"x"}`), "", "")
	f.Add(429, []byte(""), "120", "")
	f.Add(503, []byte("down"), "Wed, 21 Oct 2015 07:28:00 GMT", "")
	f.Add(302, []byte(""), "", "https://u:p@x.example/a?b=c")
	f.Add(202, []byte("{}"), "", "")
	f.Add(400, []byte("{\"err\":\"a\x00b\",\"description\":\"\\u0000\\n\"}"), "", "")
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter, location string) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		resp.Header.Set("Retry-After", retryAfter)
		resp.Header.Set("Location", location)
		o := classifyResponse(resp, body, "https://rx.example/hook", now)
		is2xx := status >= 200 && status < 300
		if (o.verdict == delivered) != is2xx {
			t.Fatalf("status %d: verdict %d", status, o.verdict)
		}
		if is2xx {
			return
		}
		if o.reason == "" || o.detail == "" {
			t.Fatalf("status %d: empty reason or detail: %+v", status, o)
		}
		if o.retryAfter < 0 || o.retryAfter > 366*24*time.Hour {
			t.Fatalf("retryAfter %v", o.retryAfter)
		}
		if strings.IndexFunc(o.detail, unicode.IsControl) >= 0 {
			t.Fatalf("control character in detail %q", o.detail)
		}
		if len(o.detail) > 3000 {
			t.Fatalf("detail of %d bytes", len(o.detail))
		}
	})
}
