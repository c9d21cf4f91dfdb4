package e2e

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/transmitter"
	"github.com/sigshare/sigshare/transmitter/push"
)

// fastRetries makes the push engine retry within tens of milliseconds.
func fastRetries(o *server.TransmitterOptions) {
	o.Push.Backoff = push.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}
}

// metric sums the samples of the metric name whose labels contain every one of labels
// (e.g. `reason="server_error"`), read from the node's /metrics.
func (tx *txNode) metric(tb testing.TB, name string, labels ...string) float64 {
	tb.Helper()
	_, body := call(tb, tx.client, http.MethodGet, tx.issuer+"/metrics", "", nil, nil)
	sum := 0.0
	for line := range strings.SplitSeq(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			tb.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// SSF §6.1.1, AMB-12, PUSH-1: with authorization_header every push carries exactly that
// value as its Authorization header; without it, pushes carry none. The receiver's push
// endpoint (package receiver) enforces the header it expects and verifies each SET.
func TestPushAuthorizationHeader(t *testing.T) {
	ca := newCA(t)
	tx := startTx(t, ca, "RS256", nil)
	site := startSite(t, ca)

	t.Run("with", func(t *testing.T) {
		g := &gate{}
		r := startReceiver(t, tx.issuer, ca, rcvOptions{site: site, path: "/with", authorization: "Bearer e2e push secret", wrap: g.wrap, description: "with"})
		jti := jtiFor(t, tx.emit(t, sessionRevoked("with@example.com")), r.streamID())
		r.rec.waitJTIs(t, 10*time.Second, jti)
		for _, req := range g.requests() {
			if req.auth != "Bearer e2e push secret" {
				t.Errorf("Authorization %q, want the stream's authorization_header verbatim", req.auth)
			}
			if req.ctype != "application/secevent+jwt" {
				t.Errorf("Content-Type %q", req.ctype)
			}
		}
		if n := r.rec.rejected.Load(); n != 0 {
			t.Errorf("%d SETs rejected", n)
		}
	})

	t.Run("without", func(t *testing.T) {
		g := &gate{}
		b := startBareReceiver(t, tx, ca, site, "/without", "", ssf.StreamConfig{
			Delivery:        &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: site.url("/without")},
			EventsRequested: []string{caep.EventTypeSessionRevoked},
		}, g.wrap)
		if b.stream.Delivery.AuthorizationHeader != "" {
			t.Fatalf("the stream has authorization_header %q", b.stream.Delivery.AuthorizationHeader)
		}
		jti := jtiFor(t, tx.emit(t, sessionRevoked("without@example.com")), b.stream.StreamID)
		b.rec.waitJTIs(t, 10*time.Second, jti)
		for _, req := range g.requests() {
			if req.auth != "" {
				t.Errorf("Authorization %q sent for a stream without authorization_header", req.auth)
			}
		}
	})
}

// AMB-18, SSF-STREAM-22: the receiver answers 401 because the stream's
// authorization_header is wrong; the transmitter retries (the whole stream, not SET by
// SET) until the receiver PATCHes the right value, then delivers every held SET once,
// in order.
func TestPushCredentialFixedByPatch(t *testing.T) {
	ca := newCA(t)
	tx := startTx(t, ca, "ES256", fastRetries)
	site := startSite(t, ca)
	g := &gate{}
	url := site.url("/patched")
	b := startBareReceiver(t, tx, ca, site, "/patched", "Bearer right", ssf.StreamConfig{
		Delivery:        &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: url, AuthorizationHeader: "Bearer wrong"},
		EventsRequested: []string{caep.EventTypeSessionRevoked},
	}, g.wrap)
	var want []string
	for i := range 3 {
		want = append(want, jtis(tx.emit(t, sessionRevoked("p"+strconv.Itoa(i)+"@example.com")))...)
	}
	// Wait for a few refused attempts.
	deadline := time.Now().Add(10 * time.Second)
	for len(g.requests()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if b.rec.count() != 0 {
		t.Fatal("a SET was accepted with the wrong Authorization")
	}
	// Each refused request is recorded as a retry (the refused SET, and the stream's other
	// held SETs while the retry time has not come); the last may still be being recorded.
	var retries float64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if retries = tx.metric(t, "sigshare_transmitter_push_retries_total", `reason="unauthorized"`); retries >= 3 || time.Now().After(deadline) {
			break
		}
	}
	if retries < 3 {
		t.Errorf("push_retries_total{reason=unauthorized} = %v after %d refused requests, want at least 3", retries, len(g.requests()))
	}
	if _, err := b.client.UpdateStream(context.Background(), ssf.StreamUpdate{StreamID: b.stream.StreamID,
		Delivery: &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: url, AuthorizationHeader: "Bearer right"}}); err != nil {
		t.Fatal(err)
	}
	b.rec.waitJTIs(t, 10*time.Second, want...)
	var order []string
	for _, tok := range b.rec.snapshot() {
		order = append(order, tok.JTI)
	}
	if strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("handled %v, want %v (SET-22: per-stream order after a stream-wide failure)", order, want)
	}
	// Stream-wide: while failing, the engine did not send one request per SET and retry.
	var refused int
	for _, r := range g.requests() {
		if r.auth == "Bearer wrong" {
			refused++
		}
	}
	if refused == 0 {
		t.Error("no request with the old credentials was seen")
	}
	tx.waitOutbox(t, b.stream.StreamID, "an empty outbox", func(p, d int) bool { return p == 0 && d == 0 })
}

// RFC 8935 §4 (PUSH-9): a receiver answering 500 is retried with exponential backoff
// and full jitter until it accepts; the SET is delivered (and handled) once, and each
// delay stays within the backoff bound of its attempt.
func TestPushRetriesWithBackoff(t *testing.T) {
	ca := newCA(t)
	const initial = 100 * time.Millisecond
	tx := startTx(t, ca, "RS256", func(o *server.TransmitterOptions) {
		o.Push.Backoff = push.Backoff{Initial: initial, Max: 2 * time.Second}
	})
	site := startSite(t, ca)
	g := &gate{answer: func(n int, _ *http.Request) (int, map[string]string, string) {
		if n < 4 {
			return http.StatusInternalServerError, nil, "try later"
		}
		return 0, nil, ""
	}}
	r := startReceiver(t, tx.issuer, ca, rcvOptions{site: site, path: "/flaky", wrap: g.wrap})
	sets := tx.emit(t, sessionRevoked("flaky@example.com"))
	r.rec.waitJTIs(t, 15*time.Second, jtis(sets)...)
	reqs := g.requests()
	if len(reqs) != 5 {
		t.Fatalf("%d push requests, want 4 failures and 1 success", len(reqs))
	}
	const slack = 400 * time.Millisecond // scheduling, lease and wake-up latency
	for i := 1; i < len(reqs); i++ {
		gap := reqs[i].at.Sub(reqs[i-1].at)
		bound := initial << (i - 1)
		if gap > bound+slack {
			t.Errorf("attempt %d came %v after the previous one, beyond the backoff bound %v", i+1, gap, bound)
		}
	}
	if got := tx.metric(t, "sigshare_transmitter_push_request_failures_total", `reason="server_error"`); got != 4 {
		t.Errorf("push_request_failures_total{reason=server_error} = %v, want 4", got)
	}
	if got := tx.metric(t, "sigshare_transmitter_push_retries_total", `reason="server_error"`); got != 4 {
		t.Errorf("push_retries_total{reason=server_error} = %v, want 4", got)
	}
	if n := r.rec.duplicates.Load(); n != 0 {
		t.Errorf("%d duplicates", n)
	}
}

// PUSH-9, AMB-18: 503 and 429 with Retry-After (seconds, HTTP date) are honoured: the
// next attempt comes no sooner, although the backoff alone would retry at once.
func TestPushRetryAfter(t *testing.T) {
	ca := newCA(t)
	tx := startTx(t, ca, "ES256", func(o *server.TransmitterOptions) {
		o.Push.Backoff = push.Backoff{Initial: time.Millisecond, Max: 10 * time.Second}
	})
	site := startSite(t, ca)
	cases := []struct {
		name   string
		status int
		value  func() (string, time.Duration) // header value, least wait
	}{
		{"503 seconds", http.StatusServiceUnavailable, func() (string, time.Duration) { return "2", 2 * time.Second }},
		{"429 HTTP date", http.StatusTooManyRequests, func() (string, time.Duration) {
			at := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second)
			return at.Format(http.TimeFormat), time.Until(at)
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var least atomic.Int64
			g := &gate{answer: func(n int, _ *http.Request) (int, map[string]string, string) {
				if n == 0 {
					v, d := c.value()
					least.Store(int64(d))
					return c.status, map[string]string{"Retry-After": v}, ""
				}
				return 0, nil, ""
			}}
			path := "/retry-after-" + strconv.Itoa(i)
			r := startReceiver(t, tx.issuer, ca, rcvOptions{site: site, path: path, wrap: g.wrap, description: path})
			jti := jtiFor(t, tx.emit(t, sessionRevoked("ra@example.com")), r.streamID())
			r.rec.waitJTIs(t, 15*time.Second, jti)
			reqs := g.requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			// Retry-After has whole seconds; allow the truncation of the HTTP date.
			if gap, least := reqs[1].at.Sub(reqs[0].at), time.Duration(least.Load()); gap < least-50*time.Millisecond {
				t.Errorf("retried after %v, before Retry-After (%v)", gap, least)
			}
		})
	}
	if got := tx.metric(t, "sigshare_transmitter_push_retries_total", `reason="rate_limited"`); got < 1 {
		t.Errorf("push_retries_total{reason=rate_limited} = %v", got)
	}
}

// PUSH-5, PUSH-7, AMB-18, RFC 8935 §4: a SET the receiver rejects (400 invalid_key) is
// parked at once; SETs the receiver keeps failing (500) are parked after MaxAttempts.
// The operator lists the dead letters and replays them through the operator API
// (GET /admin/streams/{id}/dead-letters, POST /admin/streams/{id}/replay), one by jti,
// then all; each is then delivered once.
func TestPushDeadLetterAndReplay(t *testing.T) {
	ca := newCA(t)
	tx := startTx(t, ca, "RS256", func(o *server.TransmitterOptions) {
		fastRetries(o)
		o.Push.MaxAttempts = 2
	})
	site := startSite(t, ca)
	g := &gate{}
	r := startReceiver(t, tx.issuer, ca, rcvOptions{site: site, path: "/dl", wrap: g.wrap})
	id := r.streamID()

	// Phase 1: rejected for good.
	g.setAnswer(func(int, *http.Request) (int, map[string]string, string) {
		return http.StatusBadRequest, map[string]string{"Content-Type": "application/json"}, `{"err":"invalid_key","description":"unknown kid"}`
	})
	rejected := jtis(tx.emit(t, sessionRevoked("a@example.com")))
	rejected = append(rejected, jtis(tx.emit(t, sessionRevoked("b@example.com")))...)
	tx.waitOutbox(t, id, "two dead letters", func(p, d int) bool { return d == 2 })
	// Phase 2: failing until the attempts run out.
	g.setAnswer(func(int, *http.Request) (int, map[string]string, string) {
		return http.StatusInternalServerError, nil, ""
	})
	exhausted := jtis(tx.emit(t, sessionRevoked("c@example.com")))
	tx.waitOutbox(t, id, "three dead letters", func(p, d int) bool { return d == 3 })

	var dead []transmitter.DeadLetter
	if status, body := tx.admin(t, http.MethodGet, "/streams/"+id+"/dead-letters", nil, &dead); status != http.StatusOK || len(dead) != 3 {
		t.Fatalf("dead letters: %d %s", status, body)
	}
	for _, d := range dead {
		switch d.JTI {
		case rejected[0], rejected[1]:
			if !strings.Contains(d.DeadReason, "invalid_key") {
				t.Errorf("rejected SET: reason %q", d.DeadReason)
			}
		case exhausted[0]:
			if !strings.Contains(d.DeadReason, "gave up after 2 failed attempts") || !strings.Contains(d.DeadReason, "500") {
				t.Errorf("exhausted SET: reason %q", d.DeadReason)
			}
		default:
			t.Errorf("unexpected dead letter %+v", d)
		}
		if d.EventType != caep.EventTypeSessionRevoked {
			t.Errorf("dead letter event type %q", d.EventType)
		}
	}
	if got := tx.metric(t, "sigshare_transmitter_sets_dead_lettered_total", `stream_id="`+id+`"`); got != 3 {
		t.Errorf("sets_dead_lettered_total = %v, want 3", got)
	}
	if r.rec.count() != 0 {
		t.Fatal("a refused SET was handled")
	}

	// The receiver is fixed; replay one, then the rest.
	g.setAnswer(nil)
	var replayed map[string]int
	if status, body := tx.admin(t, http.MethodPost, "/streams/"+id+"/replay", map[string][]string{"jtis": {rejected[0]}}, &replayed); status != http.StatusOK || replayed["replayed"] != 1 {
		t.Fatalf("replay one: %d %s", status, body)
	}
	r.rec.waitJTIs(t, 10*time.Second, rejected[0])
	if status, body := tx.admin(t, http.MethodPost, "/streams/"+id+"/replay", nil, &replayed); status != http.StatusOK || replayed["replayed"] != 2 {
		t.Fatalf("replay all: %d %s", status, body)
	}
	r.rec.waitJTIs(t, 10*time.Second, rejected[1], exhausted[0])
	tx.waitOutbox(t, id, "an empty outbox", func(p, d int) bool { return p == 0 && d == 0 })
	if status, _ := tx.admin(t, http.MethodGet, "/streams/"+id+"/dead-letters", nil, &dead); status != http.StatusOK || len(dead) != 0 {
		t.Errorf("dead letters after replay: %+v", dead)
	}
	if n := r.rec.duplicates.Load(); n != 0 {
		t.Errorf("%d duplicates", n)
	}
}
