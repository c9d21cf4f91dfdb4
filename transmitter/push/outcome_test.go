package push

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestClassifyResponse(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		status     int
		body       string
		header     map[string]string
		verdict    verdict
		reason     Reason
		streamWide bool
		retryAfter time.Duration
		detail     string
	}{
		{200, "", nil, delivered, "", false, 0, ""},
		{202, "ignored", nil, delivered, "", false, 0, ""},
		{204, "", nil, delivered, "", false, 0, ""},
		{400, `{"err":"invalid_request","description":"bad"}`, nil, permanent, ReasonRejected, false, 0, "invalid_request: bad"},
		{400, `{"err":"invalid_key","description":""}`, nil, permanent, ReasonRejected, false, 0, "invalid_key"},
		{400, `{"err":"invalid_issuer","description":"x"}`, nil, permanent, ReasonRejected, false, 0, "invalid_issuer"},
		{400, `{"err":"invalid_audience","description":"x"}`, nil, permanent, ReasonRejected, false, 0, "invalid_audience"},
		{400, `{"err":"invalid_state","description":"x"}`, nil, permanent, ReasonRejected, false, 0, "invalid_state"},
		{400, `{"err":"authentication_failed","description":"expired"}`, nil, retry, ReasonUnauthorized, true, 0, "authentication_failed: expired"},
		{400, `{"err":"access_denied","description":"no"}`, nil, retry, ReasonUnauthorized, false, 0, "access_denied: no"},
		{400, `{"err":"bad code!","description":"x"}`, nil, permanent, ReasonRejected, false, 0, "without an RFC 8935 error body"},
		{400, `{"error":"invalid_request","error_description":"oauth style"}`, nil, permanent, ReasonRejected, false, 0, "oauth style"},
		{400, "plain text problem", nil, permanent, ReasonRejected, false, 0, "plain text problem"},
		{400, "<html>big page</html>", nil, permanent, ReasonRejected, false, 0, "HTTP 400 Bad Request from"},
		{401, "", map[string]string{"WWW-Authenticate": "Bearer"}, retry, ReasonUnauthorized, true, 0, "authorization_header"},
		{403, `{"err":"access_denied","description":"revoked"}`, nil, retry, ReasonUnauthorized, true, 0, "access_denied: revoked"},
		{404, "", nil, retry, ReasonNotFound, true, 0, "endpoint_url"},
		{405, "", nil, retry, ReasonNotFound, true, 0, "HTTP 405"},
		{301, "", map[string]string{"Location": "https://x.example/a?k=secret"}, retry, ReasonRedirect, true, 0, "to https://x.example/a?…"},
		{307, "", nil, retry, ReasonRedirect, true, 0, "not followed"},
		{408, "", nil, retry, ReasonTimeout, false, 0, "HTTP 408"},
		{410, "", nil, permanent, ReasonRejected, false, 0, "HTTP 410 Gone"},
		{413, "", nil, permanent, ReasonRejected, false, 0, "HTTP 413"},
		{422, "", nil, permanent, ReasonRejected, false, 0, "HTTP 422"},
		{429, "", map[string]string{"Retry-After": "12"}, retry, ReasonRateLimited, true, 12 * time.Second, "Retry-After 12s"},
		{503, "", map[string]string{"Retry-After": now.Add(time.Minute).Format(http.TimeFormat)}, retry, ReasonServerError, true, time.Minute, "HTTP 503"},
		{500, "", map[string]string{"Retry-After": "3"}, retry, ReasonServerError, false, 3 * time.Second, "HTTP 500"},
		{502, "", nil, retry, ReasonServerError, false, 0, "HTTP 502"},
		{600, "", nil, retry, ReasonServerError, false, 0, "HTTP 600"},
	}
	for _, c := range cases {
		resp := &http.Response{StatusCode: c.status, Header: http.Header{}}
		for k, v := range c.header {
			resp.Header.Set(k, v)
		}
		o := classifyResponse(resp, []byte(c.body), "https://rx.example/hook", now)
		if o.verdict != c.verdict || o.reason != c.reason || o.streamWide != c.streamWide || o.retryAfter != c.retryAfter {
			t.Errorf("%d %s: got verdict %d reason %q streamWide %v retryAfter %v; want %d %q %v %v",
				c.status, c.body, o.verdict, o.reason, o.streamWide, o.retryAfter, c.verdict, c.reason, c.streamWide, c.retryAfter)
		}
		if !strings.Contains(o.detail, c.detail) {
			t.Errorf("%d %s: detail %q lacks %q", c.status, c.body, o.detail, c.detail)
		}
		if strings.Contains(o.detail, "secret") {
			t.Errorf("%d: detail leaks a secret: %q", c.status, o.detail)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                  0,
		"0":                 0,
		"-5":                0,
		"120":               2 * time.Minute,
		" 7 ":               7 * time.Second,
		"1.5":               0,
		"soon":              0,
		"99999999999999999": 365 * 24 * time.Hour,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	}
	// The RFC 850 form is one of the obsolete forms http.ParseTime accepts.
	cases["Tuesday, 01-Jan-30 00:00:30 GMT"] = 30 * time.Second
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"https://rx.example/hook":                      "https://rx.example/hook",
		"https://user:pw@rx.example/hook?token=s#frag": "https://rx.example/hook?…",
		"http://127.0.0.1:8080/s/x":                    "http://127.0.0.1:8080/s/x",
		"://bad":                                       "(invalid URL)",
	}
	for in, want := range cases {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// Full jitter: the delay after the n-th failure is in [0, min(Max, Initial·2ⁿ⁻¹)], and
// not below Retry-After (capped at Max).
func TestBackoffBounds(t *testing.T) {
	e, err := New(Config{Store: newStore(t), Backoff: Backoff{Initial: time.Second, Max: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	bound := func(n int) time.Duration { return min(time.Minute, time.Second<<(n-1)) }
	for n := 1; n <= 80; n++ {
		for range 20 {
			d := e.backoff(n, 0)
			if d < 0 || d > bound(min(n, 10)) {
				t.Fatalf("attempt %d: delay %v outside [0, %v]", n, d, bound(min(n, 10)))
			}
		}
	}
	e.randN = func(n int64) int64 { return 0 }
	if d := e.backoff(1, 30*time.Second); d != 30*time.Second {
		t.Errorf("Retry-After not honoured: %v", d)
	}
	if d := e.backoff(1, time.Hour); d != time.Minute {
		t.Errorf("Retry-After not capped at Max: %v", d)
	}
	e.randN = func(n int64) int64 { return n - 1 }
	if d := e.backoff(3, 0); d != 4*time.Second {
		t.Errorf("bound after the third failure: %v, want 4s", d)
	}
	if d := e.backoff(1000, 0); d != time.Minute {
		t.Errorf("bound after many failures: %v, want Max", d)
	}
}
