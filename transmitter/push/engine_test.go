package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// PUSH-1, TV19, TV20, TV21, SSF-DELIV-3, AMB-12: the request carries the SET as its
// body, the RFC 8935 headers, and Authorization exactly when the stream has an
// authorization_header, verbatim.
func TestPushRequest_HeadersAndAuthorization(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	const auth = "Bearer  tok.en/with=odd chars"
	createStream(t, st, "with-auth", rc.url("with-auth"), auth)
	createStream(t, st, "no-auth", rc.url("no-auth"), "")
	enqueue(t, st, "with-auth", "a1", "a2")
	enqueue(t, st, "no-auth", "n1")
	hl := newHookLog()
	cfg := testConfig(st)
	cfg.Hooks = hl.hooks()
	start(t, cfg)
	eventually(t, "all delivered", func() bool {
		return counts(t, st, "with-auth").Pending == 0 && counts(t, st, "no-auth").Pending == 0
	})

	for _, r := range rc.requests("") {
		if r.Method != http.MethodPost {
			t.Errorf("%s: method %s, want POST", r.JTI, r.Method)
		}
		if got := r.Header.Get("Content-Type"); got != "application/secevent+jwt" {
			t.Errorf("%s: Content-Type %q", r.JTI, got)
		}
		if got := r.Header.Get("Accept"); got != "application/json" {
			t.Errorf("%s: Accept %q", r.JTI, got)
		}
		if r.Body != fakeSET(r.JTI) {
			t.Errorf("%s: body is not the compact SET: %q", r.JTI, r.Body)
		}
		vals, has := r.Header["Authorization"]
		switch r.Stream {
		case "with-auth":
			if len(vals) != 1 || vals[0] != auth {
				t.Errorf("TV19: Authorization = %q, want exactly %q", vals, auth)
			}
		case "no-auth":
			if has {
				t.Errorf("TV20: Authorization header sent without authorization_header: %q", vals)
			}
		}
	}
	if got := rc.jtis(""); len(got) != 3 {
		t.Fatalf("receiver got %v, want 3 SETs", got)
	}
	eventually(t, "Delivered hooks called", func() bool {
		hl.mu.Lock()
		defer hl.mu.Unlock()
		return hl.delivered["with-auth"] == 2 && hl.delivered["no-auth"] == 1
	})
}

// PUSH-3, vendors §5.2 item 7: any 2xx delivers.
func TestPushAny2xxDelivers(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	for _, code := range []int{200, 201, 202, 204} {
		id := fmt.Sprintf("s%d", code)
		createStream(t, st, id, rc.url(id), "")
		rc.handle(id, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(code) })
		enqueue(t, st, id, id+"-1")
	}
	start(t, testConfig(st))
	for _, code := range []int{200, 201, 202, 204} {
		eventually(t, fmt.Sprintf("%d delivers", code), drained(t, st, fmt.Sprintf("s%d", code)))
	}
}

// PUSH-9: 5xx answers are retried with backoff until they succeed; attempts are
// recorded in the store.
func TestPushRetriesUntilSuccess(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	rc.handle("s", func(w http.ResponseWriter, _ *http.Request, n int) {
		if n <= 3 {
			http.Error(w, "overloaded", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	enqueue(t, st, "s", "j1")
	hl := newHookLog()
	cfg := testConfig(st)
	cfg.Hooks = hl.hooks()
	start(t, cfg)
	eventually(t, "delivered after retries", drained(t, st, "s"))
	if got := rc.jtis("s"); !slices.Equal(got, []string{"j1", "j1", "j1", "j1"}) {
		t.Errorf("requests %v, want j1 four times", got)
	}
	if r, f := hl.get(hl.retried, ReasonServerError), hl.get(hl.failed, ReasonServerError); r != 3 || f != 3 {
		t.Errorf("hooks: retried %d, failed %d, want 3 each", r, f)
	}
}

// The attempt state of a failing SET: Attempts, LastError (with the receiver's
// description), NextAttemptAt from the backoff.
func TestPushRetryRecordsState(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "Bearer secret-token")
	rc.handle("s", func(w http.ResponseWriter, _ *http.Request, _ int) {
		http.Error(w, "database unavailable", http.StatusBadGateway)
	})
	enqueue(t, st, "s", "j1")
	cfg := testConfig(st)
	cfg.Backoff = Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond}
	cfg.MaxAttempts = -1
	r := start(t, cfg)
	eventually(t, "three attempts", func() bool { return len(rc.requests("s")) >= 3 })
	r.stop(t)
	sets := peek(t, st, "s")
	if len(sets) != 1 {
		t.Fatalf("pending %d SETs, want 1", len(sets))
	}
	s := sets[0]
	if s.Attempts < 3 || s.Attempts > len(rc.requests("s")) {
		t.Errorf("Attempts %d, requests %d", s.Attempts, len(rc.requests("s")))
	}
	for _, want := range []string{"HTTP 502 Bad Gateway", rc.url("s"), "database unavailable"} {
		if !strings.Contains(s.LastError, want) {
			t.Errorf("LastError %q lacks %q", s.LastError, want)
		}
	}
	if strings.Contains(s.LastError, "secret-token") {
		t.Errorf("LastError leaks the authorization header: %q", s.LastError)
	}
}

// Retry-After in both forms (RFC 9110 §10.2.3), capped at Backoff.Max.
func TestPushRetryAfter(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name       string
		retryAfter string
		want       time.Duration
	}{
		{"delta-seconds", "7", 7 * time.Second},
		{"http-date", t0.Add(9 * time.Second).Format(http.TimeFormat), 9 * time.Second},
		{"capped at Backoff.Max", "86400", time.Minute},
	}
	for _, c := range cases {
		for _, code := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
			t.Run(fmt.Sprintf("%s/%d", c.name, code), func(t *testing.T) {
				st := newStore(t)
				rc := newReceiver(t)
				createStream(t, st, "s", rc.url("s"), "")
				rc.handle("s", func(w http.ResponseWriter, _ *http.Request, _ int) {
					w.Header().Set("Retry-After", c.retryAfter)
					w.WriteHeader(code)
				})
				st.Enqueue(context.Background(), []*store.OutboxSET{outboxSET("s", "j1", t0)})
				hl := newHookLog()
				cfg := testConfig(st)
				cfg.Now = func() time.Time { return t0 } // frozen: the schedule is exact
				cfg.Backoff = Backoff{Initial: time.Millisecond, Max: time.Minute}
				cfg.Hooks = hl.hooks()
				r := start(t, cfg)
				eventually(t, "first attempt recorded", func() bool { return hl.handled("s") == 1 })
				r.stop(t)
				due, _, _ := st.NextDue(context.Background(), ssf.DeliveryPush, t0)
				if got := due.Sub(t0); got != c.want {
					t.Errorf("next attempt after %v, want %v", got, c.want)
				}
				if n := len(rc.requests("s")); n != 1 {
					t.Errorf("%d requests, want 1", n)
				}
			})
		}
	}
}

// outcomeCase is one row of the outcome table, end to end: the stream gets two SETs.
type outcomeCase struct {
	name    string
	handler func(w http.ResponseWriter, r *http.Request, n int)
	// endpoint overrides the stream's endpoint URL (transport failures).
	endpoint string
	// dead: both SETs are dead-lettered at once; otherwise both wait for a retry.
	dead   bool
	reason Reason
	// requests is how many requests reach the receiver: 1 for stream-wide failures (the
	// second SET is not sent), 2 otherwise.
	requests int
	// detail must appear in LastError / DeadReason.
	detail []string
}

func setErrorHandler(status int, code, desc string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		if code == "" {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Language", "en")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"err":%q,"description":%q}`, code, desc)
	}
}

func statusHandler(status int, body string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

// AMB-18, PUSH-5, PUSH-7, PUSH-9: every outcome class of the table in doc.go.
func TestPushOutcomeTable(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL + "/s/x"
	closed.Close() // connection refused from now on
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	cases := []outcomeCase{
		{name: "invalid_request", handler: setErrorHandler(400, "invalid_request", "events claim missing"), dead: true, reason: ReasonRejected, requests: 2,
			detail: []string{"HTTP 400", "invalid_request", "events claim missing", "replay"}},
		{name: "invalid_key", handler: setErrorHandler(400, "invalid_key", "unknown kid"), dead: true, reason: ReasonRejected, requests: 2, detail: []string{"invalid_key", "unknown kid"}},
		{name: "invalid_issuer", handler: setErrorHandler(400, "invalid_issuer", "issuer not allowed"), dead: true, reason: ReasonRejected, requests: 2, detail: []string{"invalid_issuer"}},
		{name: "invalid_audience", handler: setErrorHandler(400, "invalid_audience", "not us"), dead: true, reason: ReasonRejected, requests: 2, detail: []string{"invalid_audience"}},
		{name: "invalid_state", handler: setErrorHandler(400, "invalid_state", "state mismatch"), dead: true, reason: ReasonRejected, requests: 2, detail: []string{"invalid_state"}},
		{name: "unregistered code", handler: setErrorHandler(400, "vendor_specific", "nope"), dead: true, reason: ReasonRejected, requests: 2, detail: []string{"vendor_specific"}},
		{name: "400 without body", handler: statusHandler(400, ""), dead: true, reason: ReasonRejected, requests: 2, detail: []string{"HTTP 400", "without an RFC 8935 error body"}},
		{name: "authentication_failed", handler: setErrorHandler(400, "authentication_failed", "token expired"), reason: ReasonUnauthorized, requests: 1,
			detail: []string{"authentication_failed", "token expired", "authorization_header"}},
		{name: "access_denied", handler: setErrorHandler(400, "access_denied", "not allowed"), reason: ReasonUnauthorized, requests: 2, detail: []string{"access_denied"}},
		{name: "401", handler: statusHandler(401, ""), reason: ReasonUnauthorized, requests: 1, detail: []string{"HTTP 401", "authorization_header"}},
		{name: "403 with err", handler: setErrorHandler(403, "access_denied", "revoked"), reason: ReasonUnauthorized, requests: 1, detail: []string{"HTTP 403", "revoked"}},
		{name: "404", handler: statusHandler(404, "no such endpoint"), reason: ReasonNotFound, requests: 1, detail: []string{"HTTP 404", "endpoint_url"}},
		{name: "405", handler: statusHandler(405, ""), reason: ReasonNotFound, requests: 1, detail: []string{"HTTP 405"}},
		{name: "302", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Redirect(w, r, "https://elsewhere.example/hook?token=secret", http.StatusFound)
		}, reason: ReasonRedirect, requests: 1, detail: []string{"HTTP 302", "https://elsewhere.example/hook", "not followed"}},
		{name: "408", handler: statusHandler(408, ""), reason: ReasonTimeout, requests: 2, detail: []string{"HTTP 408"}},
		{name: "410", handler: statusHandler(410, ""), dead: true, reason: ReasonRejected, requests: 2, detail: []string{"HTTP 410"}},
		{name: "413", handler: statusHandler(413, ""), dead: true, reason: ReasonRejected, requests: 2, detail: []string{"HTTP 413"}},
		{name: "415", handler: statusHandler(415, ""), dead: true, reason: ReasonRejected, requests: 2, detail: []string{"HTTP 415"}},
		{name: "429", handler: statusHandler(429, ""), reason: ReasonRateLimited, requests: 1, detail: []string{"HTTP 429"}},
		{name: "503", handler: statusHandler(503, ""), reason: ReasonServerError, requests: 1, detail: []string{"HTTP 503"}},
		{name: "500", handler: setErrorHandler(500, "server_error", "boom"), reason: ReasonServerError, requests: 2, detail: []string{"HTTP 500", "boom"}},
		{name: "599", handler: statusHandler(599, ""), reason: ReasonServerError, requests: 2, detail: []string{"HTTP 599"}},
		{name: "connection refused", endpoint: closedURL, reason: ReasonConnection, detail: []string{"connecting to"}},
		{name: "tls", endpoint: tlsSrv.URL + "/s/x", reason: ReasonTLS, detail: []string{"TLS handshake"}},
		{name: "user info in endpoint_url", endpoint: "http://user:pw@127.0.0.1:1/s/x", reason: ReasonInvalidEndpoint, detail: []string{"user information"}},
	}

	st := newStore(t)
	rc := newReceiver(t)
	for i, c := range cases {
		id := fmt.Sprintf("case%02d", i)
		ep := rc.url(id)
		if c.endpoint != "" {
			ep = c.endpoint
		}
		createStream(t, st, id, ep, "")
		rc.handle(id, c.handler)
		enqueue(t, st, id, id+"-first", id+"-second")
	}
	hl := newHookLog()
	cfg := testConfig(st)
	cfg.RequestTimeout = 5 * time.Second // a TLS handshake under -race on a busy machine needs a while
	cfg.LeaseDuration = 20 * time.Second
	cfg.Backoff = Backoff{Initial: time.Hour, Max: time.Hour} // one attempt only
	cfg.Concurrency = len(cases)
	cfg.Hooks = hl.hooks()
	r := start(t, cfg)

	for i, c := range cases {
		id := fmt.Sprintf("case%02d", i)
		eventually(t, c.name+" settled", func() bool { return hl.handled(id) == 2 })
	}
	r.stop(t)

	for i, c := range cases {
		id := fmt.Sprintf("case%02d", i)
		t.Run(c.name, func(t *testing.T) {
			if c.endpoint == "" {
				if got := len(rc.requests(id)); got != c.requests {
					t.Errorf("receiver got %d requests, want %d", got, c.requests)
				}
			}
			var texts []string
			if c.dead {
				dl := deadLetters(t, st, id)
				if len(dl) != 2 {
					t.Fatalf("%d dead letters, want 2", len(dl))
				}
				for _, d := range dl {
					texts = append(texts, d.DeadReason)
				}
			} else {
				if c := counts(t, st, id); c.Dead != 0 || c.Pending != 2 {
					t.Fatalf("counts %+v, want 2 pending", c)
				}
				sets := peek(t, st, id)
				if len(sets) != 2 {
					t.Fatalf("peek: %d SETs", len(sets))
				}
				for _, s := range sets {
					if s.Attempts != 1 {
						t.Errorf("%s: Attempts %d, want 1", s.JTI, s.Attempts)
					}
				}
				texts = append(texts, sets[0].LastError)
				if c.requests == 1 || c.endpoint != "" {
					// Stream-wide: the second SET was rescheduled without a request, for
					// the same time, so it stays behind the first.
					if !strings.HasPrefix(sets[1].LastError, "not sent: ") {
						t.Errorf("second SET LastError %q, want a not-sent note", sets[1].LastError)
					}
					if !sets[1].NextAttemptAt.Equal(sets[0].NextAttemptAt) {
						t.Errorf("second SET due %v, first %v: want the same time", sets[1].NextAttemptAt, sets[0].NextAttemptAt)
					}
				} else {
					texts = append(texts, sets[1].LastError)
				}
			}
			for _, text := range texts {
				for _, want := range c.detail {
					if !strings.Contains(text, want) {
						t.Errorf("reason %q lacks %q", text, want)
					}
				}
				if strings.Contains(text, "secret") || strings.Contains(text, "pw@") {
					t.Errorf("reason leaks a secret: %q", text)
				}
			}
		})
	}
	for _, c := range cases {
		m := hl.retried
		if c.dead {
			m = hl.dead
		}
		if hl.get(m, c.reason) == 0 {
			t.Errorf("%s: no hook call with reason %s", c.name, c.reason)
		}
	}
}

// A receiver that does not answer within RequestTimeout: the SET is retried; the next
// SET of the stream is still sent (a SET-scope failure); after three in a row the
// stream's remaining SETs are rescheduled without requests.
func TestPushTimeout(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	rc.handle("s", func(w http.ResponseWriter, r *http.Request, _ int) {
		<-r.Context().Done()
	})
	enqueue(t, st, "s", jtiRange("j", 5)...)
	hl := newHookLog()
	cfg := testConfig(st)
	cfg.RequestTimeout = 200 * time.Millisecond
	cfg.Backoff = Backoff{Initial: time.Hour, Max: time.Hour}
	cfg.Hooks = hl.hooks()
	r := start(t, cfg)
	eventually(t, "all rescheduled", func() bool { return hl.handled("s") == 5 })
	r.stop(t)
	if got := rc.jtis("s"); !slices.Equal(got, jtiRange("j", 3)) {
		t.Errorf("requests %v, want the first three only", got)
	}
	sets := peek(t, st, "s")
	if len(sets) != 5 {
		t.Fatalf("%d pending", len(sets))
	}
	for i, s := range sets {
		want := "no answer from " + rc.url("s") + " within the request timeout"
		if i >= 3 {
			want = notSent + "3 consecutive failures, the last: " + want
		}
		if s.LastError != want || s.Attempts != 1 {
			t.Errorf("%s: Attempts %d, LastError %q; want 1, %q", s.JTI, s.Attempts, s.LastError, want)
		}
	}
	if n := hl.get(hl.failed, ReasonTimeout); n != 3 {
		t.Errorf("%d timeouts reported, want 3", n)
	}
}

// AMB-18: 401 is retried, and a PATCH of authorization_header (a new stream revision)
// is picked up by the next attempt, which then succeeds.
func TestPushCredentialsFixedByPatch(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "Bearer old")
	rc.handle("s", func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Header.Get("Authorization") != "Bearer new" {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	enqueue(t, st, "s", "j1")
	hl := newHookLog()
	cfg := testConfig(st)
	cfg.Backoff = Backoff{Initial: 50 * time.Millisecond, Max: 50 * time.Millisecond}
	cfg.MaxAttempts = -1
	cfg.Hooks = hl.hooks()
	start(t, cfg)
	eventually(t, "a 401", func() bool { return hl.get(hl.retried, ReasonUnauthorized) >= 1 })
	s, err := st.GetStream(context.Background(), "s")
	if err != nil {
		t.Fatal(err)
	}
	s.Config.Delivery.AuthorizationHeader = "Bearer new"
	if err := st.UpdateStream(context.Background(), s, store.StreamChange{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivered with the new credentials", drained(t, st, "s"))
	reqs := rc.requests("s")
	if got := reqs[len(reqs)-1].Header.Get("Authorization"); got != "Bearer new" {
		t.Errorf("last request Authorization %q", got)
	}
}

// SEC-17: the default client refuses loopback; the SET is retried (the owner can PATCH
// the endpoint) and the receiver never sees a request.
func TestPushSSRFGuardRefusesLoopbackByDefault(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "Bearer x")
	enqueue(t, st, "s", "j1", "j2")
	hl := newHookLog()
	cfg := testConfig(st)
	cfg.InsecureAllowLoopback = false
	cfg.Backoff = Backoff{Initial: time.Hour, Max: time.Hour}
	cfg.Hooks = hl.hooks()
	r := start(t, cfg)
	eventually(t, "both rescheduled", func() bool { return hl.get(hl.retried, ReasonForbiddenAddress) == 2 })
	r.stop(t)
	if n := len(rc.requests("")); n != 0 {
		t.Fatalf("the receiver on loopback got %d requests", n)
	}
	sets := peek(t, st, "s")
	if len(sets) != 2 {
		t.Fatalf("%d pending, want 2", len(sets))
	}
	for _, want := range []string{"SSRF guard", "loopback", "delivery.endpoint_url"} {
		if !strings.Contains(sets[0].LastError, want) {
			t.Errorf("LastError %q lacks %q", sets[0].LastError, want)
		}
	}
	if n := hl.get(hl.failed, ReasonForbiddenAddress); n != 1 {
		t.Errorf("%d RequestFailed calls with forbidden_address, want 1", n)
	}
}

// PUSH-11: endpoint_url must be https unless InsecureAllowHTTP; https works with the
// configured roots.
func TestPushRequiresHTTPS(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	tlsRc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer tlsRc.Close()
	createStream(t, st, "plain", rc.url("plain"), "")
	createStream(t, st, "tls", tlsRc.URL+"/events", "")
	enqueue(t, st, "plain", "p1")
	enqueue(t, st, "tls", "t1")
	hl := newHookLog()
	cfg := testConfig(st)
	cfg.InsecureAllowHTTP = false
	cfg.Transport = tlsRc.Client().Transport.(*http.Transport)
	cfg.Backoff = Backoff{Initial: time.Hour, Max: time.Hour}
	cfg.Hooks = hl.hooks()
	r := start(t, cfg)
	eventually(t, "https stream delivered", drained(t, st, "tls"))
	eventually(t, "http stream refused", func() bool { return hl.get(hl.retried, ReasonInvalidEndpoint) == 1 })
	r.stop(t)
	if n := len(rc.requests("plain")); n != 0 {
		t.Errorf("http endpoint got %d requests", n)
	}
	if s := peek(t, st, "plain"); len(s) != 1 || !strings.Contains(s[0].LastError, "must use https") {
		t.Errorf("plain stream state %+v", s)
	}
}

// After MaxAttempts failed attempts the SET is parked with an actionable reason;
// Replay makes it deliverable again and the engine delivers it.
func TestPushDeadLetterAfterMaxAttemptsThenReplay(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	var mu sync.Mutex
	healthy := false
	rc.handle("s", func(w http.ResponseWriter, _ *http.Request, _ int) {
		mu.Lock()
		defer mu.Unlock()
		if !healthy {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	enqueue(t, st, "s", "j1")
	hl := newHookLog()
	cfg := testConfig(st)
	cfg.MaxAttempts = 3
	cfg.Hooks = hl.hooks()
	start(t, cfg)
	eventually(t, "dead-lettered", func() bool { return counts(t, st, "s").Dead == 1 })
	if n := len(rc.requests("s")); n != 3 {
		t.Errorf("%d requests before giving up, want 3", n)
	}
	d := deadLetters(t, st, "s")[0]
	for _, want := range []string{"gave up after 3 failed attempts", "MaxAttempts", "HTTP 500", "down"} {
		if !strings.Contains(d.DeadReason, want) {
			t.Errorf("DeadReason %q lacks %q", d.DeadReason, want)
		}
	}
	eventually(t, "DeadLettered hook called", func() bool { return hl.get(hl.dead, ReasonMaxAttempts) == 1 })

	mu.Lock()
	healthy = true
	mu.Unlock()
	if n, err := st.Replay(context.Background(), "s", nil); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v", n, err)
	}
	eventually(t, "replayed SET delivered", func() bool { c := counts(t, st, "s"); return c.Pending == 0 && c.Dead == 0 })
	if got := rc.jtis("s"); len(got) != 4 || got[3] != "j1" {
		t.Errorf("requests %v", got)
	}
}

// MaxAge: a SET older than MaxAge is parked without a request; a SET whose next attempt
// would fall beyond MaxAge is parked after its failure.
func TestPushDeadLetterAfterMaxAge(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "old", rc.url("old"), "")
	createStream(t, st, "late", rc.url("late"), "")
	rc.handle("late", func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "7200")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	now := time.Now()
	if err := st.Enqueue(context.Background(), []*store.OutboxSET{
		outboxSET("old", "o1", now.Add(-2*time.Hour)),
		outboxSET("late", "l1", now),
	}); err != nil {
		t.Fatal(err)
	}
	hl := newHookLog()
	cfg := testConfig(st)
	cfg.MaxAge = time.Hour
	cfg.Backoff = Backoff{Initial: time.Millisecond, Max: 3 * time.Hour}
	cfg.Hooks = hl.hooks()
	start(t, cfg)
	eventually(t, "both dead", func() bool { return counts(t, st, "old").Dead == 1 && counts(t, st, "late").Dead == 1 })
	if n := len(rc.requests("old")); n != 0 {
		t.Errorf("an expired SET was sent (%d requests)", n)
	}
	if r := deadLetters(t, st, "old")[0].DeadReason; !strings.Contains(r, "beyond MaxAge (1h0m0s)") {
		t.Errorf("old DeadReason %q", r)
	}
	if r := deadLetters(t, st, "late")[0].DeadReason; !strings.Contains(r, "next attempt would come") || !strings.Contains(r, "HTTP 503") {
		t.Errorf("late DeadReason %q", r)
	}
	eventually(t, "DeadLettered hooks called", func() bool { return hl.get(hl.dead, ReasonMaxAge) == 2 })
}

// SETs of one stream arrive in Seq order, including SETs enqueued during delivery.
func TestPushOrderWithinStream(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	first := jtiRange("a", 150)
	second := jtiRange("b", 150)
	enqueue(t, st, "s", first...)
	cfg := testConfig(st)
	cfg.BatchSize = 16
	start(t, cfg)
	eventually(t, "some delivered", func() bool { return len(rc.requests("s")) > 10 })
	for _, j := range second {
		enqueue(t, st, "s", j)
	}
	eventually(t, "all delivered", drained(t, st, "s"))
	if got, want := rc.jtis("s"), append(first, second...); !slices.Equal(got, want) {
		t.Errorf("order differs: got %d SETs, first mismatch at %d", len(got), firstMismatch(got, want))
	}
}

func firstMismatch(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// Order survives a stream-wide failure: the rescheduled SETs share the failed SET's
// time and come back in order.
func TestPushOrderAfterStreamWideFailure(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	rc.handle("s", func(w http.ResponseWriter, _ *http.Request, n int) {
		if n <= 2 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	jtis := jtiRange("j", 20)
	enqueue(t, st, "s", jtis...)
	start(t, testConfig(st))
	eventually(t, "all delivered", drained(t, st, "s"))
	got := rc.jtis("s")
	if !slices.Equal(got[2:], jtis) {
		t.Errorf("after two 429s the SETs went out as %v", got)
	}
}

// Many streams are delivered concurrently, at most Concurrency at a time, each in
// order.
func TestPushManyStreamsConcurrently(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	const streams, per = 40, 15
	for i := range streams {
		id := fmt.Sprintf("s%02d", i)
		createStream(t, st, id, rc.url(id), "")
		rc.handle(id, func(w http.ResponseWriter, _ *http.Request, _ int) {
			time.Sleep(time.Millisecond)
			w.WriteHeader(http.StatusAccepted)
		})
	}
	for j := range per {
		for i := range streams {
			id := fmt.Sprintf("s%02d", i)
			enqueue(t, st, id, fmt.Sprintf("%s-%03d", id, j))
		}
	}
	cfg := testConfig(st)
	cfg.Concurrency = 6
	start(t, cfg)
	for i := range streams {
		eventually(t, "all delivered", drained(t, st, fmt.Sprintf("s%02d", i)))
	}
	for i := range streams {
		id := fmt.Sprintf("s%02d", i)
		want := make([]string, per)
		for j := range want {
			want[j] = fmt.Sprintf("%s-%03d", id, j)
		}
		if got := rc.jtis(id); !slices.Equal(got, want) {
			t.Errorf("%s: got %v", id, got)
		}
	}
	if m := rc.maxInflight.Load(); m > 6 || m < 2 {
		t.Errorf("max concurrent requests %d, want 2..6", m)
	}
}

// Shutdown mid-delivery: Run returns only after the request in flight finished and its
// outcome is recorded, and gives back the leases of the SETs it held but did not send
// (no attempt counted), so that another engine delivers them at once, long before the
// lease would have expired: at-least-once, nothing lost, nothing held up.
func TestPushShutdownGivesBackUnsentSETs(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	inFlight := make(chan struct{})
	release := make(chan struct{})
	rc.handle("s", func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			close(inFlight)
			<-release
		}
		w.WriteHeader(http.StatusAccepted)
	})
	jtis := jtiRange("j", 10)
	enqueue(t, st, "s", jtis...)
	cfg := testConfig(st)
	cfg.RequestTimeout = time.Second
	cfg.LeaseDuration = time.Hour
	a := start(t, cfg)
	<-inFlight
	a.cancel()
	select {
	case <-a.done:
		t.Fatal("Run returned while a request was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	a.stop(t)
	if c := counts(t, st, "s"); c.Pending != 9 || c.Leased != 0 {
		t.Fatalf("after shutdown %+v, want 9 pending (the in-flight SET acknowledged), none leased", c)
	}
	for _, s := range peekAt(t, st, "s", time.Now()) {
		if s.Attempts != 0 {
			t.Errorf("%s: Attempts %d after a shutdown, want 0", s.JTI, s.Attempts)
		}
	}
	releaseInspector(t, st)

	cfgB := cfg
	cfgB.Owner = "engine-B"
	start(t, cfgB)
	eventually(t, "engine B delivered the rest", drained(t, st, "s"))
	got := rc.jtis("s")
	for _, j := range jtis {
		if !slices.Contains(got, j) {
			t.Errorf("%s never delivered", j)
		}
	}
}

// A node that crashed left SETs leased under its owner name; restarted with the same
// owner name, the engine reclaims them at once instead of waiting for the leases (an
// hour here) to expire. Another owner's leases are left alone.
func TestPushReclaimsItsOwnLeasesAtStart(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	createStream(t, st, "other", rc.url("other"), "")
	enqueue(t, st, "s", jtiRange("j", 5)...)
	enqueue(t, st, "other", "o1")
	for _, owner := range []string{"engine-A", "engine-X"} {
		stream := map[string]string{"engine-A": "s", "engine-X": "other"}[owner]
		if _, err := st.Lease(context.Background(), store.LeaseRequest{Owner: owner, StreamID: stream, Limit: 100, Duration: time.Hour, Now: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	start(t, testConfig(st)) // Owner engine-A
	eventually(t, "the crashed run's SETs delivered", drained(t, st, "s"))
	time.Sleep(50 * time.Millisecond)
	if c := counts(t, st, "other"); c.Pending != 1 || c.Leased != 1 {
		t.Errorf("another owner's lease: counts %+v, want still leased", c)
	}
}

// A SET is sent only while its lease covers the request. The engine renews the leases of
// exactly the SETs it holds (store.Renew) before they end, so a slow receiver with many
// held SETs gets each exactly once, in order, although the lease covers only a few
// requests.
func TestPushRenewsExpiringLeases(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	rc.handle("s", func(w http.ResponseWriter, _ *http.Request, _ int) {
		time.Sleep(100 * time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
	})
	jtis := jtiRange("j", 10)
	enqueue(t, st, "s", jtis...)
	cfg := testConfig(st)
	cfg.RequestTimeout = 400 * time.Millisecond
	cfg.LeaseDuration = 600 * time.Millisecond // covers about 3 of the 10 requests
	start(t, cfg)
	eventually(t, "all delivered", drained(t, st, "s"))
	if got := rc.jtis("s"); !slices.Equal(got, jtis) {
		t.Errorf("got %v, want each SET once, in order", got)
	}
}

// When another engine leased a SET this engine holds (its renewal came too late), the
// renewal reports the SET lost and this engine drops it instead of sending it too.
func TestPushDropsSETsTakenOverByAnotherEngine(t *testing.T) {
	base := newStore(t)
	st := &stealingStore{Store: base}
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	rc.handle("s", func(w http.ResponseWriter, _ *http.Request, _ int) {
		time.Sleep(100 * time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
	})
	jtis := jtiRange("j", 10)
	enqueue(t, st, "s", jtis...)
	cfg := testConfig(st)
	cfg.RequestTimeout = 400 * time.Millisecond
	cfg.LeaseDuration = 600 * time.Millisecond
	st.armed.Store(true) // at the first Renew, a thief takes over every unsent SET
	r := start(t, cfg)
	eventually(t, "the thief took SETs", func() bool { return st.stolen.Load() > 0 })
	eventually(t, "the engine let them go", func() bool { return r.e.Held() == 0 })
	r.stop(t)
	got := rc.jtis("s")
	stolen := st.jtis()
	// Every SET went one way; only the SET in flight when the thief struck (whose
	// request could not be called back) went both ways.
	both := 0
	for _, j := range jtis {
		sent, took := slices.Contains(got, j), slices.Contains(stolen, j)
		switch {
		case sent && took:
			both++
		case !sent && !took:
			t.Errorf("%s neither sent nor taken over", j)
		}
	}
	if both > 1 {
		t.Errorf("engine sent %v and the thief took %v: %d SETs both ways, want at most the one in flight", got, stolen, both)
	}
	if !slices.Equal(got, jtis[:len(got)]) {
		t.Errorf("engine sent %v, not a prefix in order", got)
	}
}

// stealingStore, once armed, lets "thief" lease every SET of the stream, whoever holds
// it, just before the engine's first Renew (as another engine would after a lease
// expired).
type stealingStore struct {
	store.Store
	armed  atomic.Bool
	stolen atomic.Int64
	mu     sync.Mutex
	taken  []string
}

func (s *stealingStore) jtis() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.taken)
}

func (s *stealingStore) Renew(ctx context.Context, streamID string, jtis []string, owner string, until time.Time) ([]string, error) {
	if s.armed.CompareAndSwap(true, false) {
		stolen, err := s.Store.Lease(ctx, store.LeaseRequest{Owner: "thief", StreamID: streamID, Limit: 1000,
			Duration: 24 * time.Hour, Now: time.Now().Add(time.Hour)})
		if err != nil {
			return nil, err
		}
		s.stolen.Add(int64(len(stolen)))
		s.mu.Lock()
		for _, set := range stolen {
			s.taken = append(s.taken, set.JTI)
		}
		s.mu.Unlock()
	}
	return s.Store.Renew(ctx, streamID, jtis, owner, until)
}

// Under a slow receiver, many streams and leases far shorter than the backlog takes, the
// engine holds at most max(2×BatchSize, Concurrency) SETs, in its own count and in the
// store, and delivers every SET exactly once.
func TestPushHoldsNoMoreThanItsBound(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	const streams, per = 12, 10
	var want []string
	for i := range streams {
		id := fmt.Sprintf("s%02d", i)
		createStream(t, st, id, rc.url(id), "")
		rc.handle(id, func(w http.ResponseWriter, _ *http.Request, _ int) {
			time.Sleep(15 * time.Millisecond)
			w.WriteHeader(http.StatusAccepted)
		})
		jtis := jtiRange(id, per)
		enqueue(t, st, id, jtis...)
		want = append(want, jtis...)
	}
	cfg := testConfig(st)
	cfg.BatchSize = 4
	cfg.Concurrency = 3
	cfg.RequestTimeout = 100 * time.Millisecond
	cfg.LeaseDuration = 250 * time.Millisecond
	// A request that times out after the receiver recorded the SET (a loaded machine)
	// is retried: at-least-once delivery, so each such failure may add one duplicate.
	var failures atomic.Int64
	cfg.Hooks.RequestFailed = func(string, Reason) { failures.Add(1) }
	r := start(t, cfg)
	const bound = 8
	deadline := time.Now().Add(20 * time.Second)
	for {
		if n := r.e.Held(); n > bound {
			t.Fatalf("engine holds %d SETs, bound %d", n, bound)
		}
		leased := 0
		for i := range streams {
			leased += counts(t, st, fmt.Sprintf("s%02d", i)).Leased
		}
		if leased > bound {
			t.Fatalf("%d SETs leased in the store, bound %d", leased, bound)
		}
		pending := 0
		for i := range streams {
			pending += counts(t, st, fmt.Sprintf("s%02d", i)).Pending
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d SETs still pending", pending)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var got []string
	for i := range streams {
		got = append(got, rc.jtis(fmt.Sprintf("s%02d", i))...)
	}
	slices.Sort(want)
	distinct := slices.Compact(slices.Sorted(slices.Values(got)))
	if !slices.Equal(distinct, want) {
		t.Errorf("delivered %d distinct SETs, want the %d enqueued", len(distinct), len(want))
	}
	if dup, failed := len(got)-len(distinct), failures.Load(); int64(dup) > failed {
		t.Errorf("%d SETs delivered twice after %d failed requests: a duplicate without a failed attempt", dup, failed)
	}
}

// Deliveries are acknowledged in the store in batches, not one commit per SET: while
// one Ack is written, the next SETs are sent and wait for the next Ack. Every SET is
// acknowledged, and Delivered is called once per SET after its Ack.
func TestPushAcknowledgesInBatches(t *testing.T) {
	st := &slowAckStore{Store: newStore(t), delay: 30 * time.Millisecond}
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	jtis := jtiRange("j", 60)
	enqueue(t, st, "s", jtis...)
	hl := newHookLog()
	cfg := testConfig(st)
	cfg.Hooks = hl.hooks()
	start(t, cfg)
	eventually(t, "all delivered and acknowledged", drained(t, st, "s"))
	eventually(t, "Delivered hooks", func() bool {
		hl.mu.Lock()
		defer hl.mu.Unlock()
		return hl.delivered["s"] == len(jtis)
	})
	if got := rc.jtis("s"); !slices.Equal(got, jtis) {
		t.Errorf("got %v, want each SET once, in order", got)
	}
	if n := st.acks.Load(); n >= int64(len(jtis))/2 {
		t.Errorf("%d Ack calls for %d SETs: want batches", n, len(jtis))
	}
}

// slowAckStore counts Ack calls and makes each take delay.
type slowAckStore struct {
	store.Store
	delay time.Duration
	acks  atomic.Int64
}

func (s *slowAckStore) Ack(ctx context.Context, streamID string, jtis []string) ([]string, error) {
	s.acks.Add(1)
	time.Sleep(s.delay)
	return s.Store.Ack(ctx, streamID, jtis)
}

// Dead letters count every failed attempt, the one that made the engine give up
// included; a SET given up without an attempt (MaxAge) counts none.
func TestPushDeadLetterAttempts(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "rejected", rc.url("rejected"), "")
	createStream(t, st, "failing", rc.url("failing"), "")
	createStream(t, st, "old", rc.url("old"), "")
	rc.handle("rejected", setErrorHandler(http.StatusBadRequest, "invalid_key", "unknown kid"))
	rc.handle("failing", statusHandler(http.StatusInternalServerError, "down"))
	enqueue(t, st, "rejected", "r1")
	enqueue(t, st, "failing", "f1")
	if err := st.Enqueue(context.Background(), []*store.OutboxSET{outboxSET("old", "o1", time.Now().Add(-2*time.Hour))}); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(st)
	cfg.MaxAttempts = 3
	cfg.MaxAge = time.Hour
	start(t, cfg)
	for stream, want := range map[string]int{"rejected": 1, "failing": 3, "old": 0} {
		eventually(t, stream+" dead-lettered", func() bool { return counts(t, st, stream).Dead == 1 })
		if d := deadLetters(t, st, stream)[0]; d.Attempts != want {
			t.Errorf("%s: dead letter with Attempts %d, want %d (%s)", stream, d.Attempts, want, d.DeadReason)
		}
	}
}

// SSF-STATUS-3: a paused stream sends nothing but its Control SET; held SETs are
// released and, once the stream is enabled again, delivered in their original order.
func TestPushPausedStream(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	inFlight := make(chan struct{})
	release := make(chan struct{})
	rc.handle("s", func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			close(inFlight)
			<-release
		}
		w.WriteHeader(http.StatusAccepted)
	})
	jtis := jtiRange("j", 6)
	enqueue(t, st, "s", jtis...)
	cfg := testConfig(st)
	start(t, cfg)
	<-inFlight
	// Pause while the first SET is in flight, with the Control SET announcing it.
	control := outboxSET("s", "control", time.Now())
	control.Control = true
	setStatus(t, st, "s", ssf.StatusPaused, control)
	close(release)
	eventually(t, "control SET delivered", func() bool { return slices.Contains(rc.jtis("s"), "control") })
	enqueue(t, st, "s", "while-paused")
	time.Sleep(100 * time.Millisecond) // give the engine a chance to misbehave
	if got := rc.jtis("s"); !slices.Equal(got, []string{"j-0000", "control"}) {
		t.Fatalf("while paused the receiver got %v", got)
	}
	for _, s := range peekAt(t, st, "s", time.Now()) {
		if s.Attempts != 0 || s.LeaseOwner != "inspector" {
			t.Errorf("held SET %s of the paused stream: Attempts %d, leased before by someone: %q; want given back without an attempt",
				s.JTI, s.Attempts, s.LastError)
		}
	}
	releaseInspector(t, st)
	setStatus(t, st, "s", ssf.StatusEnabled)
	eventually(t, "held SETs delivered", drained(t, st, "s"))
	want := append([]string{"j-0000", "control"}, jtis[1:]...)
	want = append(want, "while-paused")
	if got := rc.jtis("s"); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// A disabled stream delivers only its Control SET.
func TestPushDisabledStreamOnlyControl(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	control := outboxSET("s", "control", time.Now())
	control.Control = true
	setStatus(t, st, "s", ssf.StatusDisabled, control)
	enqueue(t, st, "s", "j1")
	start(t, testConfig(st))
	eventually(t, "control delivered", func() bool { return slices.Contains(rc.jtis("s"), "control") })
	time.Sleep(100 * time.Millisecond)
	if got := rc.jtis("s"); !slices.Equal(got, []string{"control"}) {
		t.Errorf("got %v", got)
	}
}

// A stream switched to poll delivery is left to the poll endpoint.
func TestPushSkipsStreamsSwitchedToPoll(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	s, _ := st.GetStream(context.Background(), "s")
	s.Config.Delivery = &ssf.Delivery{Method: ssf.DeliveryPoll, EndpointURL: "https://tx.example/poll/s"}
	if err := st.UpdateStream(context.Background(), s, store.StreamChange{}); err != nil {
		t.Fatal(err)
	}
	enqueue(t, st, "s", "j1")
	start(t, testConfig(st))
	time.Sleep(100 * time.Millisecond)
	if n := len(rc.requests("s")); n != 0 {
		t.Errorf("a poll stream got %d pushes", n)
	}
	if c := counts(t, st, "s"); c.Pending != 1 || c.Leased != 0 {
		t.Errorf("counts %+v", c)
	}
}

// New SETs wake the engine promptly (store.Subscribe), also after a long idle.
func TestPushWakesOnEnqueue(t *testing.T) {
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	start(t, testConfig(st))
	for i := range 5 {
		time.Sleep(20 * time.Millisecond)
		j := fmt.Sprintf("j%d", i)
		enqueue(t, st, "s", j)
		eventually(t, j+" delivered", drained(t, st, "s"))
	}
}

// The engine survives store failures while leasing and stops on a closed store.
func TestPushLeaseErrors(t *testing.T) {
	st := &flakyStore{Store: newStore(t)}
	st.leaseFailures.Store(2)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	enqueue(t, st, "s", "j1")
	e, err := New(testConfig(st))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background()) }()
	eventually(t, "delivered despite lease errors", drained(t, st, "s"))
	st.Close()
	select {
	case err := <-done:
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("Run = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the store closed")
	}
}

func TestRunTwice(t *testing.T) {
	st := newStore(t)
	e, err := New(testConfig(st))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	eventually(t, "running", e.running.Load)
	if err := e.Run(ctx); err == nil {
		t.Error("a second concurrent Run succeeded")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	st := newStore(t)
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no store", func(c *Config) { c.Store = nil }, "Store is required"},
		{"lease not above timeout", func(c *Config) { c.LeaseDuration, c.RequestTimeout = time.Second, time.Second }, "must exceed"},
		{"default lease vs long timeout", func(c *Config) { c.LeaseDuration, c.RequestTimeout = 0, 10*time.Minute }, ""},
		{"negative concurrency", func(c *Config) { c.Concurrency = -1 }, "Concurrency is negative"},
		{"negative timeout", func(c *Config) { c.RequestTimeout = -time.Second }, "RequestTimeout is negative"},
		{"initial above max", func(c *Config) { c.Backoff = Backoff{Initial: time.Hour, Max: time.Minute} }, "exceeds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{Store: st}
			c.mod(&cfg)
			_, err := New(cfg)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("New: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("New error %v, want %q", err, c.want)
			}
		})
	}
	e, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	s := e.s
	if s.Concurrency != DefaultConcurrency || s.BatchSize != DefaultBatchSize || s.RequestTimeout != DefaultRequestTimeout ||
		s.LeaseDuration != DefaultLeaseDuration || s.MaxAttempts != DefaultMaxAttempts || s.MaxAge != DefaultMaxAge ||
		s.Backoff.Initial != DefaultBackoffInitial || s.Backoff.Max != DefaultBackoffMax {
		t.Errorf("defaults not applied: %+v", s.Config)
	}
	if s.quantum != 29 || s.maxHeld != 200 {
		t.Errorf("quantum %d, maxHeld %d; want 5m/10s-1 = 29 and 2×100", s.quantum, s.maxHeld)
	}
	if !strings.HasPrefix(e.Owner(), "push/") {
		t.Errorf("Owner %q", e.Owner())
	}
}

// The dialer error of the SSRF guard is recognised through the client's wrapping.
func TestClassifyForbiddenAddress(t *testing.T) {
	c := newGuardedClient(Config{RequestTimeout: time.Second})
	_, err := c.Get("http://127.0.0.1:9/")
	o := classifyError(err, "http://127.0.0.1:9/")
	if o.reason != ReasonForbiddenAddress || !o.streamWide || o.verdict != retry {
		t.Errorf("outcome %+v for %v", o, err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("unexpected error type %T", err)
	}
}
