package transmitter

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
)

// SEC-13: a client's add/remove-subject requests beyond its burst are refused with a
// *ssf.RateLimitError naming the wait, other clients are unaffected, and the bucket
// refills with time.
func TestClientLimiter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := newClientLimiter(2, 3)
	for i := range 3 {
		if err := l.allow("a", "add-subject", now); err != nil {
			t.Fatalf("request %d within the burst: %v", i+1, err)
		}
	}
	err := l.allow("a", "add-subject", now)
	var rl *ssf.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ssf.ErrTooManyRequests) {
		t.Fatalf("request beyond the burst = %v, want a *ssf.RateLimitError", err)
	}
	if rl.RetryAfter != 500*time.Millisecond {
		t.Errorf("RetryAfter = %v, want 500ms (one token at 2/s)", rl.RetryAfter)
	}
	if !strings.Contains(rl.Description, "add-subject") {
		t.Errorf("description %q does not name the operation", rl.Description)
	}
	// A refused request takes no token: it is still refused a moment later, and admitted
	// once the wait has passed.
	if err := l.allow("a", "remove-subject", now.Add(100*time.Millisecond)); err == nil {
		t.Error("refused request consumed no wait: admitted 100ms later")
	}
	if err := l.allow("b", "add-subject", now); err != nil {
		t.Errorf("another client is limited by a's requests: %v", err)
	}
	if err := l.allow("a", "add-subject", now.Add(500*time.Millisecond)); err != nil {
		t.Errorf("after the Retry-After wait: %v", err)
	}
}

func TestClientLimiterDefaultsAndOff(t *testing.T) {
	now := time.Now()
	def := newClientLimiter(0, 0)
	if def.limit != DefaultSubjectRate || def.burst != DefaultSubjectBurst {
		t.Errorf("zero config = %v/s burst %d, want the defaults", def.limit, def.burst)
	}
	off := newClientLimiter(-1, 0)
	for range 10 * DefaultSubjectBurst {
		if err := off.allow("a", "add-subject", now); err != nil {
			t.Fatalf("disabled limiter refused: %v", err)
		}
	}
}

// The limiters of idle clients are forgotten once maxIdleLimiters are held, those of
// clients still within a drained bucket are kept.
func TestClientLimiterSweep(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := newClientLimiter(1, 1)
	if err := l.allow("busy", "add-subject", now); err != nil {
		t.Fatal(err)
	}
	for i := range maxIdleLimiters {
		_ = l.allow("idle-"+strconv.Itoa(i), "add-subject", now.Add(-time.Hour))
	}
	_ = l.allow("new", "add-subject", now)
	l.mu.Lock()
	n := len(l.clients)
	_, busy := l.clients["busy"]
	l.mu.Unlock()
	if n > maxIdleLimiters {
		t.Errorf("%d limiters kept, want at most %d", n, maxIdleLimiters)
	}
	if !busy {
		t.Error("the limiter of a client with a drained bucket was forgotten")
	}
}

// SEC-13 over HTTP: the add- and remove-subject endpoints share one bucket per client and
// answer 429 with Retry-After and an error body naming the limit; the client's other
// requests and other clients' requests still work.
func TestSubjectRequestsRateLimitedHTTP(t *testing.T) {
	s := newServer(t, "", func(c *Config) { c.SubjectRate = 1; c.SubjectBurst = 2 })
	create := func(token string) string {
		t.Helper()
		status, _, b := s.do(t, http.MethodPost, s.url("/ssf/stream"), token, `{"delivery":{"method":"`+ssf.DeliveryPoll+`"}}`)
		var c ssf.StreamConfig
		if status != http.StatusCreated || json.Unmarshal(b, &c) != nil {
			t.Fatalf("create = %d %s", status, b)
		}
		return c.StreamID
	}
	id := create(tokenA)
	body := `{"stream_id":"` + id + `","subject":{"format":"email","email":"user@example.com"}}`
	if status, _, b := s.do(t, http.MethodPost, s.url("/ssf/subjects:add"), tokenA, body); status != http.StatusOK {
		t.Fatalf("first add = %d %s", status, b)
	}
	if status, _, b := s.do(t, http.MethodPost, s.url("/ssf/subjects:remove"), tokenA, body); status != http.StatusNoContent {
		t.Fatalf("first remove = %d %s", status, b)
	}
	status, h, b := s.do(t, http.MethodPost, s.url("/ssf/subjects:add"), tokenA, body)
	if status != http.StatusTooManyRequests {
		t.Fatalf("third subject request = %d %s, want 429", status, b)
	}
	if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q, want a positive number of seconds", h.Get("Retry-After"))
	}
	var e struct {
		Description string `json:"error_description"`
	}
	if json.Unmarshal(b, &e) != nil || !strings.Contains(e.Description, "add-subject") {
		t.Errorf("429 body %s does not say which requests were limited", b)
	}
	if status, _, b := s.do(t, http.MethodGet, s.url("/ssf/stream?stream_id="+id), tokenA, nil); status != http.StatusOK {
		t.Errorf("stream read while subject requests are limited = %d %s", status, b)
	}
	otherBody := `{"stream_id":"` + create(tokenB) + `","subject":{"format":"email","email":"user@example.com"}}`
	if status, _, b := s.do(t, http.MethodPost, s.url("/ssf/subjects:add"), tokenB, otherBody); status != http.StatusOK {
		t.Errorf("another client's add = %d %s", status, b)
	}
	s.clock.Advance(time.Second)
	if status, _, b := s.do(t, http.MethodPost, s.url("/ssf/subjects:add"), tokenA, body); status != http.StatusOK {
		t.Errorf("add after the wait = %d %s", status, b)
	}
}
