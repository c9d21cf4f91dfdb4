package ssf

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sigshare/sigshare/internal/peertext"
)

// Sentinel errors of the stream management API (SSF §8.1, digest §5.8). A [Manager]
// returns errors that match one of them with errors.Is; [HTTPStatus] maps them to the
// status code a server writes and [ErrorFromResponse] maps a status code back, so the
// in-process transmitter and the HTTP client report the same conditions the same way.
var (
	// ErrBadRequest (400): the request could not be parsed or is invalid, including an
	// incorrect Transmitter-supplied property and an unsupported delivery method.
	ErrBadRequest = errors.New("ssf: bad request")
	// ErrUnauthorized (401): authorization is missing or invalid.
	ErrUnauthorized = errors.New("ssf: unauthorized")
	// ErrForbidden (403): the Receiver is not allowed to perform the operation.
	ErrForbidden = errors.New("ssf: forbidden")
	// ErrNotFound (404): no stream with that stream_id for this Receiver (or, for the
	// subject endpoints, a subject the Transmitter does not recognise).
	ErrNotFound = errors.New("ssf: not found")
	// ErrConflict (409): the Transmitter does not support multiple streams per Receiver
	// and this Receiver already has one (SSF §8.1.1.1).
	ErrConflict = errors.New("ssf: conflict")
	// ErrTooManyRequests (429): the Receiver sends requests too fast (for verification:
	// faster than min_verification_interval). The error is a [*RateLimitError] when
	// it came from [ErrorFromResponse] or the Transmitter set a retry time.
	ErrTooManyRequests = errors.New("ssf: too many requests")
	// ErrAccepted (202): the Transmitter accepted the request but has not processed it
	// yet; the Receiver may repeat the same request later to obtain the result
	// (SSF §8.1.1.3, §8.1.1.4, §8.1.2.2).
	ErrAccepted = errors.New("ssf: accepted, not yet processed")
)

// sentinelStatus returns the HTTP status of a sentinel error, or 0.
func sentinelStatus(err error) int {
	switch err {
	case ErrBadRequest:
		return http.StatusBadRequest
	case ErrUnauthorized:
		return http.StatusUnauthorized
	case ErrForbidden:
		return http.StatusForbidden
	case ErrNotFound:
		return http.StatusNotFound
	case ErrConflict:
		return http.StatusConflict
	case ErrTooManyRequests:
		return http.StatusTooManyRequests
	case ErrAccepted:
		return http.StatusAccepted
	}
	return 0
}

// sentinelFor returns the sentinel error for an HTTP status, or nil.
func sentinelFor(status int) error {
	switch status {
	case http.StatusBadRequest:
		return ErrBadRequest
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusTooManyRequests:
		return ErrTooManyRequests
	case http.StatusAccepted:
		return ErrAccepted
	}
	return nil
}

var sentinels = [...]error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict, ErrTooManyRequests, ErrAccepted}

// Error is a management-API error with its HTTP status code. errors.Is(err, ErrNotFound)
// is true for an *Error whose Status is 404, and likewise for the other sentinels.
type Error struct {
	// Status is the HTTP status code, e.g. 404.
	Status int
	// Code is the "error" member of the JSON error body (see [ErrorResponse]); empty
	// means the code that belongs to Status.
	Code string
	// Description says what was wrong, for the Receiver's operator.
	Description string
	// Err is the underlying error, if any; it is not sent over HTTP.
	Err error
}

// Errorf returns an *Error with the given status whose Description is formatted from
// format and args. An error operand wrapped with %w becomes Err.
func Errorf(status int, format string, args ...any) *Error {
	wrapped := fmt.Errorf(format, args...)
	e := &Error{Status: status, Description: wrapped.Error()}
	if u := errors.Unwrap(wrapped); u != nil {
		e.Err = u
	}
	return e
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	if s := sentinelFor(e.Status); s != nil {
		b.WriteString(s.Error())
	} else {
		b.WriteString("ssf: HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
		if t := http.StatusText(e.Status); t != "" {
			b.WriteString(" ")
			b.WriteString(t)
		}
	}
	if e.Code != "" && e.Code != codeForStatus(e.Status) {
		b.WriteString(" (")
		b.WriteString(e.Code)
		b.WriteString(")")
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	return b.String()
}

// Is reports whether target is the sentinel error for e.Status.
func (e *Error) Is(target error) bool {
	s := sentinelStatus(target)
	return s != 0 && s == e.Status
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// RateLimitError is a 429 Too Many Requests answer. It matches [ErrTooManyRequests].
type RateLimitError struct {
	// RetryAfter is how long the Transmitter asked the Receiver to wait (the
	// Retry-After header); zero when it gave no time.
	RetryAfter time.Duration
	// Description says what was wrong.
	Description string
}

// Error implements error.
func (e *RateLimitError) Error() string {
	msg := ErrTooManyRequests.Error()
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.RetryAfter > 0 {
		msg += " (retry after " + e.RetryAfter.String() + ")"
	}
	return msg
}

// Unwrap returns ErrTooManyRequests.
func (e *RateLimitError) Unwrap() error { return ErrTooManyRequests }

// ErrorResponse is the JSON body sigshare writes with a management-API error. SSF
// defines no error body (digest §5.8); sigshare uses the OAuth 2.0 shape
// {"error": "<code>", "error_description": "<what was wrong>"} (RFC 6749 §5.2) so that
// generic OAuth tooling can display it. Codes: 400 invalid_request, 401 unauthorized,
// 403 forbidden, 404 not_found, 409 conflict, 429 too_many_requests, 500 server_error,
// 503 temporarily_unavailable, other statuses "http_<status>".
type ErrorResponse struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusTooManyRequests:
		return "too_many_requests"
	case http.StatusInternalServerError:
		return "server_error"
	case http.StatusServiceUnavailable:
		return "temporarily_unavailable"
	}
	return "http_" + strconv.Itoa(status)
}

// HTTPStatus returns the HTTP status code a server writes for err: the Status of an
// [*Error] in the chain, 429 for a [*RateLimitError], the code of a sentinel error
// matched with errors.Is, 400 for a decoding or validation error of this package
// ([*MemberError]) and for malformed JSON, 200 for nil, and 500 for anything else.
func HTTPStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	if e, ok := errors.AsType[*Error](err); ok && e.Status >= 100 && e.Status <= 999 {
		return e.Status
	}
	if _, ok := errors.AsType[*RateLimitError](err); ok {
		return http.StatusTooManyRequests
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return sentinelStatus(s)
		}
	}
	if _, ok := errors.AsType[*MemberError](err); ok {
		return http.StatusBadRequest
	}
	if _, ok := errors.AsType[*json.SyntaxError](err); ok {
		return http.StatusBadRequest
	}
	if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// NewErrorResponse returns the JSON error body for err. The description of a 5xx
// error is generic unless err carries an [*Error] with a Description (internal details
// are never sent); for other errors it is the error text.
func NewErrorResponse(err error) ErrorResponse {
	status := HTTPStatus(err)
	r := ErrorResponse{Code: codeForStatus(status)}
	if e, ok := errors.AsType[*Error](err); ok {
		if e.Code != "" {
			r.Code = e.Code
		}
		if e.Description != "" {
			r.Description = e.Description
			return r
		}
	}
	if rl, ok := errors.AsType[*RateLimitError](err); ok && rl.Description != "" {
		r.Description = rl.Description
		return r
	}
	if status >= 500 {
		r.Description = http.StatusText(status)
		return r
	}
	r.Description = err.Error()
	return r
}

// WriteError writes err as a management-API error response: the status from
// [HTTPStatus], Cache-Control: no-store, a Retry-After header for a [*RateLimitError]
// with a RetryAfter, and the [ErrorResponse] body. For 202 (ErrAccepted) it writes the
// status with an empty body. Authentication challenges (WWW-Authenticate) are the
// caller's to set before calling WriteError.
func WriteError(w http.ResponseWriter, err error) {
	status := HTTPStatus(err)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if status == http.StatusAccepted {
		w.WriteHeader(status)
		return
	}
	if rl, ok := errors.AsType[*RateLimitError](err); ok && rl.RetryAfter > 0 {
		secs := int64((rl.RetryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	body, mErr := json.Marshal(NewErrorResponse(err))
	if mErr != nil { // cannot happen: two strings
		body = []byte(`{"error":"server_error"}`)
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// maxDescription bounds the description taken from a peer's error body.
const maxDescription = 1024

// ErrorFromResponse turns a management-API response into an error, the inverse of
// [HTTPStatus]: nil for 2xx other than 202 (SSF answers 200, 201 or 204; any 2xx is
// success, AMB-10); an error matching [ErrAccepted] for 202 (callers of operations for
// which 202 has no special meaning, such as add subject, may treat it as success); a
// [*RateLimitError] for 429, with RetryAfter from the Retry-After header (delta-seconds
// or HTTP date); and an [*Error] otherwise.
//
// The body is read leniently for a description: the sigshare/OAuth shape
// (error, error_description), the RFC 8935 shape (err, description), Okta's
// errorSummary, a "message" member, or short plain text. Pass a nil body where the
// body must be ignored (RFC 8936 §2.5.1 poll errors).
func ErrorFromResponse(status int, header http.Header, body []byte) error {
	if status >= 200 && status < 300 && status != http.StatusAccepted {
		return nil
	}
	code, desc := describeBody(body)
	if status == http.StatusTooManyRequests {
		return &RateLimitError{RetryAfter: parseRetryAfter(header.Get("Retry-After"), time.Now()), Description: desc}
	}
	return &Error{Status: status, Code: code, Description: desc}
}

func describeBody(body []byte) (code, desc string) {
	body = []byte(strings.TrimSpace(string(body)))
	if len(body) == 0 {
		return "", ""
	}
	if body[0] == '{' {
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) == nil {
			str := func(name string) string {
				s, err := decodeString(m[name])
				if err != nil {
					return ""
				}
				return s
			}
			code = firstNonEmpty(str("error"), str("err"), str("errorCode"))
			desc = firstNonEmpty(str("error_description"), str("description"), str("errorSummary"), str("message"))
			return peertext.Clean(code, 64), peertext.Clean(desc, maxDescription)
		}
	}
	if !utf8.Valid(body) {
		return "", ""
	}
	return "", peertext.Clean(string(body), 256)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// ParseRetryAfter reads a Retry-After header value (RFC 9110 §10.2.3): delta-seconds
// or an HTTP-date, taken relative to now. It returns how long to wait: zero for a number
// that is not positive or a date that has passed, and at most the longest time.Duration.
// ok is false when the value is empty or neither form; surrounding white space is
// ignored. Callers bound the delay as their protocol needs.
func ParseRetryAfter(header string, now time.Time) (wait time.Duration, ok bool) {
	v := strings.TrimSpace(header)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		switch {
		case secs <= 0:
			return 0, true
		case secs > int64(math.MaxInt64/time.Second):
			return math.MaxInt64, true
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// maxRetryAfter bounds the wait a Retry-After asks of a Receiver.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter is the wait for a RateLimitError: ParseRetryAfter, in whole seconds,
// at most maxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	wait, _ := ParseRetryAfter(v, now)
	return min(wait, maxRetryAfter).Round(time.Second)
}
