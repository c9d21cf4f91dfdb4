package ssf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestErrorMappingRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		sentinel error
		status   int
	}{
		{ErrBadRequest, 400},
		{ErrUnauthorized, 401},
		{ErrForbidden, 403},
		{ErrNotFound, 404},
		{ErrConflict, 409},
		{ErrTooManyRequests, 429},
		{ErrAccepted, 202},
	} {
		t.Run(tc.sentinel.Error(), func(t *testing.T) {
			for _, server := range []error{
				tc.sentinel,
				fmt.Errorf("stream %q: %w", "s1", tc.sentinel),
				Errorf(tc.status, "described"),
				fmt.Errorf("outer: %w", Errorf(tc.status, "described")),
			} {
				if got := HTTPStatus(server); got != tc.status {
					t.Errorf("HTTPStatus(%v) = %d, want %d", server, got, tc.status)
				}
				if !errors.Is(server, tc.sentinel) {
					t.Errorf("errors.Is(%v, sentinel) = false", server)
				}
				// Server writes it, client reads it back.
				rec := httptest.NewRecorder()
				WriteError(rec, server)
				if rec.Code != tc.status {
					t.Errorf("WriteError status %d", rec.Code)
				}
				client := ErrorFromResponse(rec.Code, rec.Header(), rec.Body.Bytes())
				if !errors.Is(client, tc.sentinel) {
					t.Errorf("ErrorFromResponse(%d) = %v, does not match the sentinel", rec.Code, client)
				}
				for _, other := range sentinels {
					if other != tc.sentinel && errors.Is(client, other) {
						t.Errorf("ErrorFromResponse(%d) also matches %v", rec.Code, other)
					}
				}
				if got := HTTPStatus(client); got != tc.status {
					t.Errorf("HTTPStatus(ErrorFromResponse(%d)) = %d", tc.status, got)
				}
			}
		})
	}
}

func TestErrorFromResponse(t *testing.T) {
	for _, status := range []int{200, 201, 204, 299} {
		if err := ErrorFromResponse(status, nil, []byte(`{"error":"x"}`)); err != nil {
			t.Errorf("%d: %v, want success (AMB-10)", status, err)
		}
	}
	for _, tc := range []struct {
		name     string
		status   int
		body     string
		wantCode string
		wantDesc string
	}{
		{"sigshare shape", 404, `{"error":"not_found","error_description":"no stream \"s1\""}`, "not_found", `no stream "s1"`},
		{"RFC 8935 shape", 400, `{"err":"invalid_request","description":"bad body"}`, "invalid_request", "bad body"},
		{"Okta shape", 400, `{"errorCode":"E0000001","errorSummary":"Api validation failed: delivery","errorLink":"E0000001"}`, "E0000001", "Api validation failed: delivery"},
		{"message", 403, `{"message":"forbidden for client"}`, "", "forbidden for client"},
		{"plain text", 401, "invalid token\n", "", "invalid token"},
		{"control characters", 400, "a\x1b[31mb", "", "a [31mb"},
		{"binary", 500, "\xff\xfe\x00", "", ""},
		{"empty", 404, "", "", ""},
		{"JSON with wrong types", 400, `{"error":1,"error_description":["x"]}`, "", ""},
		{"JSON array", 400, `["x"]`, "", `["x"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ErrorFromResponse(tc.status, nil, []byte(tc.body))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%T, want *Error", err)
			}
			if e.Status != tc.status || e.Code != tc.wantCode || e.Description != tc.wantDesc {
				t.Errorf("got %+v, want code %q desc %q", e, tc.wantCode, tc.wantDesc)
			}
		})
	}
	long := strings.Repeat("é", 2000)
	err := ErrorFromResponse(400, nil, []byte(`{"error_description":"`+long+`"}`))
	if e := err.(*Error); len(e.Description) > maxDescription+len("…") || !strings.HasSuffix(e.Description, "…") {
		t.Errorf("long description not bounded: %d bytes", len(e.Description))
	}
	// A status without a sentinel matches none.
	err = ErrorFromResponse(503, nil, nil)
	for _, s := range sentinels {
		if errors.Is(err, s) {
			t.Errorf("503 matches %v", s)
		}
	}
	if HTTPStatus(err) != 503 || err.Error() != "ssf: HTTP 503 Service Unavailable" {
		t.Errorf("503: %d %q", HTTPStatus(err), err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"30", 30 * time.Second},
		{" 5 ", 5 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"abc", 0},
		{"999999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		if got := parseRetryAfter(tc.v, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
	h := http.Header{}
	h.Set("Retry-After", "12")
	err := ErrorFromResponse(429, h, []byte(`{"error":"too_many_requests","error_description":"min_verification_interval is 60"}`))
	rl, ok := errors.AsType[*RateLimitError](err)
	if !ok || rl.RetryAfter != 12*time.Second || rl.Description != "min_verification_interval is 60" {
		t.Fatalf("got %#v", err)
	}
	if !errors.Is(err, ErrTooManyRequests) {
		t.Error("RateLimitError must match ErrTooManyRequests")
	}
	if got := err.Error(); got != "ssf: too many requests: min_verification_interval is 60 (retry after 12s)" {
		t.Errorf("Error() = %q", got)
	}
}

func TestWriteError(t *testing.T) {
	t.Run("rate limit", func(t *testing.T) {
		rec := httptest.NewRecorder()
		WriteError(rec, &RateLimitError{RetryAfter: 1500 * time.Millisecond, Description: "slow down"})
		if rec.Code != 429 || rec.Header().Get("Retry-After") != "2" {
			t.Errorf("%d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
		}
		sameJSON(t, []byte(`{"error":"too_many_requests","error_description":"slow down"}`), rec.Body.Bytes())
		back := ErrorFromResponse(rec.Code, rec.Header(), rec.Body.Bytes()).(*RateLimitError)
		if back.RetryAfter != 2*time.Second || back.Description != "slow down" {
			t.Errorf("round trip %+v", back)
		}
	})
	t.Run("accepted has no body", func(t *testing.T) {
		rec := httptest.NewRecorder()
		WriteError(rec, ErrAccepted)
		if rec.Code != 202 || rec.Body.Len() != 0 {
			t.Errorf("%d %q", rec.Code, rec.Body.String())
		}
	})
	t.Run("internal errors are not leaked", func(t *testing.T) {
		rec := httptest.NewRecorder()
		WriteError(rec, errors.New("pq: password authentication failed for user admin"))
		if rec.Code != 500 || strings.Contains(rec.Body.String(), "password") {
			t.Errorf("%d %s", rec.Code, rec.Body.String())
		}
		sameJSON(t, []byte(`{"error":"server_error","error_description":"Internal Server Error"}`), rec.Body.Bytes())
		if rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("headers %v", rec.Header())
		}
	})
	t.Run("decoding error is 400 with the member named", func(t *testing.T) {
		var c StreamConfig
		err := c.UnmarshalJSON([]byte(`{"delivery":{"method":1}}`))
		rec := httptest.NewRecorder()
		WriteError(rec, err)
		var body ErrorResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if rec.Code != 400 || body.Code != "invalid_request" || !strings.Contains(body.Description, `"delivery.method"`) {
			t.Errorf("%d %+v", rec.Code, body)
		}
	})
	t.Run("explicit code", func(t *testing.T) {
		rec := httptest.NewRecorder()
		WriteError(rec, &Error{Status: 401, Code: "invalid_token", Description: "token expired"})
		sameJSON(t, []byte(`{"error":"invalid_token","error_description":"token expired"}`), rec.Body.Bytes())
		back := ErrorFromResponse(rec.Code, rec.Header(), rec.Body.Bytes())
		if !errors.Is(back, ErrUnauthorized) || back.Error() != "ssf: unauthorized (invalid_token): token expired" {
			t.Errorf("%v", back)
		}
	})
}

func TestHTTPStatus(t *testing.T) {
	var syntax *json.SyntaxError
	err := json.Unmarshal([]byte(`{`), &struct{}{})
	if !errors.As(err, &syntax) {
		t.Fatal("want a syntax error")
	}
	typeErr := json.Unmarshal([]byte(`{"a":1}`), &struct{ A string }{})
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 200},
		{errors.New("boom"), 500},
		{context.DeadlineExceeded, 500},
		{err, 400},
		{typeErr, 400},
		{&MemberError{Object: "x", Member: "y", Err: errors.New("z")}, 400},
		{errors.Join(errors.New("a"), fmt.Errorf("b: %w", ErrNotFound)), 404},
		{&Error{Status: 0}, 500},
		{&Error{Status: 418}, 418},
	} {
		if got := HTTPStatus(tc.err); got != tc.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestErrorf(t *testing.T) {
	cause := &MemberError{Object: "stream configuration", Member: "iss", Err: errors.New("differs")}
	e := Errorf(http.StatusBadRequest, "replace request: %w", cause)
	if e.Err != cause || !errors.Is(e, ErrBadRequest) {
		t.Errorf("%+v", e)
	}
	if mes := memberErrors(e); len(mes) != 1 || mes[0] != cause {
		t.Error("cause not reachable with errors.As")
	}
	if got := e.Error(); got != `ssf: bad request: replace request: ssf: stream configuration member "iss": differs` {
		t.Errorf("Error() = %q", got)
	}
	if e := Errorf(404, "stream %q", "s"); e.Err != nil || e.Description != `stream "s"` {
		t.Errorf("%+v", e)
	}
	if got := NewErrorResponse(fmt.Errorf("%w: stream s1", ErrNotFound)); got.Code != "not_found" || got.Description != "ssf: not found: stream s1" {
		t.Errorf("NewErrorResponse = %+v", got)
	}
	if got := NewErrorResponse(&Error{Status: 409}); got.Code != "conflict" || got.Description != "ssf: conflict" {
		t.Errorf("NewErrorResponse = %+v", got)
	}
	if got := codeForStatus(418); got != "http_418" {
		t.Error(got)
	}
}
