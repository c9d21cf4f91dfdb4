package poll

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

func jtis(r ssf.PollResponse) []string { return slices.Sorted(maps.Keys(r.Sets)) }

// POLL-1, POLL-3, TV22: a poll returns the outstanding SETs keyed by jti, as compact
// strings, oldest first up to the limit.
func TestPollReturnsSETs(t *testing.T) {
	e := newEnv(t, nil)
	e.stream("s", ssf.DeliveryPoll)
	e.enqueue("s", "j1", "j2", "j3")
	r := e.mustPoll("s", `{"returnImmediately":true}`)
	if got := jtis(r); !slices.Equal(got, []string{"j1", "j2", "j3"}) {
		t.Fatalf("sets %v", got)
	}
	for jti, set := range r.Sets {
		if set != fakeSET(jti) {
			t.Errorf("%s: SET %q", jti, set)
		}
	}
	if r.MoreAvailable {
		t.Error("moreAvailable with nothing more")
	}
	if c := e.counts("s"); c.Leased != 3 {
		t.Errorf("counts %+v, want 3 leased", c)
	}
	// Leased SETs are not returned again before the lease expires.
	if r := e.mustPoll("s", `{"returnImmediately":true}`); len(r.Sets) != 0 {
		t.Errorf("second poll returned %v", jtis(r))
	}
}

// POLL-3: "sets" is always present, {} when nothing is outstanding.
func TestPollEmptyAnswerHasSets(t *testing.T) {
	e := newEnv(t, nil)
	e.stream("s", ssf.DeliveryPoll)
	a := e.poll("s", `{"returnImmediately":true}`)
	if a.Status != http.StatusOK || a.Body != `{"sets":{}}` {
		t.Errorf("answer %d %s, want 200 {\"sets\":{}}", a.Status, a.Body)
	}
	if cc := a.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
}

// POLL-2, POLL-4, POLL-5, AMB-25: every combination of ack / setErrs / maxEvents
// (absent, 0, n) / returnImmediately.
func TestPollRequestVariants(t *testing.T) {
	type variant struct {
		ack, setErrs bool
		maxEvents    string // "" absent, "0", "2"
		immediate    bool
	}
	var variants []variant
	for _, ack := range []bool{false, true} {
		for _, se := range []bool{false, true} {
			for _, me := range []string{"", "0", "2"} {
				for _, imm := range []bool{false, true} {
					variants = append(variants, variant{ack, se, me, imm})
				}
			}
		}
	}
	for _, v := range variants {
		name := fmt.Sprintf("ack=%v/setErrs=%v/maxEvents=%q/returnImmediately=%v", v.ack, v.setErrs, v.maxEvents, v.immediate)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *Config) { c.LongPollTimeout = 50 * time.Millisecond; c.MaxEvents = 3 })
			e.stream("s", ssf.DeliveryPoll)
			e.enqueue("s", "old1", "old2")
			if r := e.mustPoll("s", `{"returnImmediately":true}`); len(r.Sets) != 2 {
				t.Fatalf("setup poll got %v", jtis(r))
			}
			e.enqueue("s", "n1", "n2", "n3", "n4")

			var members []string
			if v.ack {
				members = append(members, `"ack":["old1"]`)
			}
			if v.setErrs {
				members = append(members, `"setErrs":{"old2":{"err":"invalid_key","description":"unknown kid"}}`)
			}
			if v.maxEvents != "" {
				members = append(members, `"maxEvents":`+v.maxEvents)
			}
			members = append(members, fmt.Sprintf(`"returnImmediately":%v`, v.immediate))
			body := "{" + strings.Join(members, ",") + "}"
			r := e.mustPoll("s", body)

			// Acknowledgements and error reports are applied in every variant.
			c := e.counts("s")
			wantPending := 6
			if v.ack {
				wantPending--
			}
			if v.setErrs {
				wantPending--
				if c.Dead != 1 {
					t.Errorf("dead %d, want the reported SET parked", c.Dead)
				}
			}
			if c.Pending != wantPending {
				t.Errorf("pending %d, want %d", c.Pending, wantPending)
			}

			var want []string
			switch v.maxEvents {
			case "0":
				// Acknowledge-only: nothing leased, even though SETs wait.
			case "2":
				want = []string{"n1", "n2"}
			default:
				want = []string{"n1", "n2", "n3"} // the server cap (MaxEvents 3)
			}
			if got := jtis(r); !slices.Equal(got, want) {
				t.Errorf("sets %v, want %v", got, want)
			}
			if wantMore := v.maxEvents != "0"; r.MoreAvailable != wantMore {
				t.Errorf("moreAvailable %v, want %v", r.MoreAvailable, wantMore)
			}
			// Exactly the returned SETs were leased, besides the old ones still held.
			wantLeased := len(want)
			if !v.ack {
				wantLeased++
			}
			if !v.setErrs {
				wantLeased++
			}
			if c := e.counts("s"); c.Leased != wantLeased {
				t.Errorf("leased %d, want %d", c.Leased, wantLeased)
			}
		})
	}
}

// moreAvailable is true only when SETs beyond the returned ones wait (AMB-25), and
// maxEvents caps the batch.
func TestPollMoreAvailable(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxEvents = 2 })
	e.stream("s", ssf.DeliveryPoll)
	e.enqueue("s", "j1", "j2", "j3", "j4", "j5")
	var got []string
	var more []bool
	for range 3 {
		r := e.mustPoll("s", `{"returnImmediately":true}`)
		got = append(got, jtis(r)...)
		more = append(more, r.MoreAvailable)
	}
	if !slices.Equal(got, []string{"j1", "j2", "j3", "j4", "j5"}) || !slices.Equal(more, []bool{true, true, false}) {
		t.Errorf("sets %v, moreAvailable %v", got, more)
	}

	e.enqueue("s", "k1", "k2")
	r := e.mustPoll("s", `{"returnImmediately":true,"maxEvents":2}`)
	if len(r.Sets) != 2 || r.MoreAvailable {
		t.Errorf("exactly maxEvents outstanding: %v more=%v", jtis(r), r.MoreAvailable)
	}
	e.enqueue("s", "m1", "m2")
	r = e.mustPoll("s", `{"returnImmediately":true,"maxEvents":1}`)
	if !slices.Equal(jtis(r), []string{"m1"}) || !r.MoreAvailable {
		t.Errorf("maxEvents 1: %v more=%v", jtis(r), r.MoreAvailable)
	}
}

// Combined acknowledge and poll: the acknowledged SETs are gone for good, the next
// batch comes back.
func TestPollAckAndPoll(t *testing.T) {
	e := newEnv(t, nil)
	e.stream("s", ssf.DeliveryPoll)
	e.enqueue("s", "j1", "j2")
	r := e.mustPoll("s", `{"returnImmediately":true,"maxEvents":1}`)
	e.enqueue("s", "j3")
	r = e.mustPoll("s", fmt.Sprintf(`{"returnImmediately":true,"ack":%q}`, jtis(r)))
	if got := jtis(r); !slices.Equal(got, []string{"j2", "j3"}) {
		t.Errorf("sets %v", got)
	}
	r = e.mustPoll("s", `{"returnImmediately":true,"ack":["j2","j3","unknown"],"maxEvents":0}`)
	if len(r.Sets) != 0 {
		t.Errorf("ack-only returned %v", jtis(r))
	}
	if c := e.counts("s"); c.Pending != 0 {
		t.Errorf("counts %+v after acknowledging everything", c)
	}
	if got := e.hooks.list(&e.hooks.acked); len(got) != 2 {
		t.Errorf("Acknowledged hook calls %v", got)
	}
	// Repeating an acknowledgement is harmless (RFC 8936 §2.4).
	if a := e.poll("s", `{"returnImmediately":true,"ack":["j1"]}`); a.Status != http.StatusOK {
		t.Errorf("repeated ack: %d %s", a.Status, a.Body)
	}
}

// POLL-7, RFC 8936 §2.4.4: setErrs park the SET as a dead letter with the receiver's
// error; it is not delivered again by itself, stays visible and can be replayed.
func TestPollSetErrsDeadLetterAndReplay(t *testing.T) {
	e := newEnv(t, nil)
	e.stream("s", ssf.DeliveryPoll)
	e.enqueue("s", "j1", "j2")
	e.mustPoll("s", `{"returnImmediately":true}`)
	a := e.pollAs("c-s", "s", `{"returnImmediately":true,"maxEvents":0,"ack":["j2"],
		"setErrs":{"j1":{"err":"invalid_key","description":"kid \"k1\" unknown\n"},"j2":{"err":"invalid_request","description":"x"},"nope":{"err":"invalid_request","description":"y"}}}`,
		map[string]string{"Content-Language": "en"})
	if a.Status != http.StatusOK {
		t.Fatalf("status %d %s", a.Status, a.Body)
	}
	dl, err := e.st.DeadLetters(context.Background(), "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dl) != 1 || dl[0].JTI != "j1" {
		t.Fatalf("dead letters %v, want j1 only (j2 was acknowledged)", dl)
	}
	if want := `receiver reported invalid_key: kid "k1" unknown`; dl[0].DeadReason != want {
		t.Errorf("DeadReason %q, want %q", dl[0].DeadReason, want)
	}
	if got := e.hooks.list(&e.hooks.receiverErr); !slices.Equal(got, []string{"s:invalid_key"}) {
		t.Errorf("ReceiverError hook %v", got)
	}
	e.clock.advance(2 * time.Minute) // past the lease: a dead letter is still not redelivered
	if r := e.mustPoll("s", `{"returnImmediately":true}`); len(r.Sets) != 0 {
		t.Errorf("dead letter redelivered: %v", jtis(r))
	}
	if n, err := e.st.Replay(context.Background(), "s", nil); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v", n, err)
	}
	if r := e.mustPoll("s", `{"returnImmediately":true}`); !slices.Equal(jtis(r), []string{"j1"}) {
		t.Errorf("after replay: %v", jtis(r))
	}
}

// Unregistered error codes are recorded as sent and counted as "other".
func TestPollSetErrsUnregisteredCode(t *testing.T) {
	e := newEnv(t, nil)
	e.stream("s", ssf.DeliveryPoll)
	e.enqueue("s", "j1")
	e.mustPoll("s", `{"returnImmediately":true}`)
	e.mustPoll("s", `{"returnImmediately":true,"setErrs":{"j1":{"err":"vendor_thing","description":""}}}`)
	dl, _ := e.st.DeadLetters(context.Background(), "s", 0)
	if len(dl) != 1 || dl[0].DeadReason != "receiver reported vendor_thing" {
		t.Errorf("dead letters %+v", dl)
	}
	if got := e.hooks.list(&e.hooks.receiverErr); !slices.Equal(got, []string{"s:other"}) {
		t.Errorf("ReceiverError hook %v", got)
	}
}

// POLL-6: a long poll returns promptly when a SET is enqueued during the wait.
func TestPollLongPollWakesOnEnqueue(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LongPollTimeout = time.Minute })
	e.stream("s", ssf.DeliveryPoll)
	done := make(chan ssf.PollResponse, 1)
	go func() { done <- e.mustPoll("s", `{}`) }()
	eventually(t, "the poll waits", func() bool { return e.waiting("s") == 1 })
	e.enqueue("s", "j1")
	select {
	case r := <-done:
		if !slices.Equal(jtis(r), []string{"j1"}) {
			t.Errorf("sets %v", jtis(r))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the long poll did not return after a SET was enqueued")
	}
	if e.waiting("s") != 0 {
		t.Error("waiting counter not released")
	}
}

// Another stream's SETs do not end a long poll with an empty answer early (they wake it,
// it finds nothing and waits on).
func TestPollLongPollIgnoresOtherStreams(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LongPollTimeout = time.Minute })
	e.stream("s", ssf.DeliveryPoll)
	e.stream("other", ssf.DeliveryPoll)
	done := make(chan ssf.PollResponse, 1)
	go func() { done <- e.mustPoll("s", `{"maxEvents":5}`) }()
	eventually(t, "the poll waits", func() bool { return e.waiting("s") == 1 })
	e.enqueue("other", "o1")
	select {
	case r := <-done:
		t.Fatalf("returned early with %v", jtis(r))
	case <-time.After(50 * time.Millisecond):
	}
	e.enqueue("s", "j1")
	if r := <-done; !slices.Equal(jtis(r), []string{"j1"}) {
		t.Errorf("sets %v", jtis(r))
	}
}

// POLL-6: at the long-poll timeout the answer is {"sets":{}}.
func TestPollLongPollTimeout(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LongPollTimeout = 30 * time.Millisecond })
	e.stream("s", ssf.DeliveryPoll)
	a := e.poll("s", `{}`)
	if a.Status != http.StatusOK || a.Body != `{"sets":{}}` {
		t.Errorf("answer %d %s", a.Status, a.Body)
	}
}

// POLL-5: an acknowledge-only request with returnImmediately false long-polls until a
// SET is ready, and then returns no SET.
func TestPollAckOnlyLongPolls(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LongPollTimeout = time.Minute })
	e.stream("s", ssf.DeliveryPoll)
	e.enqueue("s", "j1")
	e.mustPoll("s", `{"returnImmediately":true}`)
	done := make(chan ssf.PollResponse, 1)
	go func() { done <- e.mustPoll("s", `{"maxEvents":0,"ack":["j1"]}`) }()
	eventually(t, "the ack-only poll waits", func() bool { return e.waiting("s") == 1 })
	eventually(t, "the ack is applied while the poll waits", func() bool { return e.counts("s").Pending == 0 })
	e.enqueue("s", "j2")
	select {
	case r := <-done:
		if len(r.Sets) != 0 {
			t.Errorf("ack-only returned %v", jtis(r))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ack-only long poll did not return when a SET became ready")
	}
	if c := e.counts("s"); c.Leased != 0 || c.Pending != 1 {
		t.Errorf("counts %+v: the ready SET must not be leased", c)
	}
	// SETs already ready: the ack-only long poll returns at once.
	if r := e.mustPoll("s", `{"maxEvents":0}`); len(r.Sets) != 0 {
		t.Errorf("sets %v", jtis(r))
	}
}

// POLL-8: an unacknowledged SET comes back, with the same jti, after the lease.
func TestPollRedeliveryAfterLease(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LeaseDuration = time.Minute })
	e.stream("s", ssf.DeliveryPoll)
	e.enqueue("s", "j1", "j2")
	first := e.mustPoll("s", `{"returnImmediately":true}`)
	e.clock.advance(59 * time.Second)
	if r := e.mustPoll("s", `{"returnImmediately":true,"ack":["j2"]}`); len(r.Sets) != 0 {
		t.Fatalf("redelivered before the lease ended: %v", jtis(r))
	}
	e.clock.advance(2 * time.Second)
	again := e.mustPoll("s", `{"returnImmediately":true}`)
	if !slices.Equal(jtis(again), []string{"j1"}) || again.Sets["j1"] != first.Sets["j1"] {
		t.Errorf("redelivery %v, want j1 with the same SET", again.Sets)
	}
}

// SSF-STATUS-3: a paused or disabled stream hands out its Control SET only.
func TestPollPausedAndDisabledStreams(t *testing.T) {
	for _, status := range []ssf.Status{ssf.StatusPaused, ssf.StatusDisabled} {
		t.Run(string(status), func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.LongPollTimeout = 30 * time.Millisecond })
			e.stream("s", ssf.DeliveryPoll)
			e.enqueue("s", "j1")
			control := &store.OutboxSET{StreamID: "s", JTI: "control", SET: fakeSET("control"), Control: true, CreatedAt: time.Now()}
			e.setStatus("s", status, control)
			e.enqueue("s", "j2")
			if r := e.mustPoll("s", `{"returnImmediately":true,"maxEvents":1}`); !slices.Equal(jtis(r), []string{"control"}) || r.MoreAvailable {
				t.Errorf("sets %v more=%v, want the Control SET only", jtis(r), r.MoreAvailable)
			}
			if r := e.mustPoll("s", `{}`); len(r.Sets) != 0 {
				t.Errorf("long poll on a %s stream returned %v", status, jtis(r))
			}
			if status == ssf.StatusPaused {
				e.setStatus("s", ssf.StatusEnabled)
				if r := e.mustPoll("s", `{"returnImmediately":true}`); !slices.Equal(jtis(r), []string{"j1", "j2"}) {
					t.Errorf("after resuming: %v", jtis(r))
				}
			}
		})
	}
}

// A long poll on a paused stream returns when the stream is enabled again.
func TestPollLongPollWakesOnResume(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LongPollTimeout = time.Minute })
	e.stream("s", ssf.DeliveryPoll)
	e.setStatus("s", ssf.StatusPaused)
	e.enqueue("s", "j1")
	done := make(chan ssf.PollResponse, 1)
	go func() { done <- e.mustPoll("s", `{}`) }()
	eventually(t, "the poll waits", func() bool { return e.waiting("s") == 1 })
	e.setStatus("s", ssf.StatusEnabled)
	if r := <-done; !slices.Equal(jtis(r), []string{"j1"}) {
		t.Errorf("sets %v", jtis(r))
	}
}

// POLL-12, SSF-AUTH-3: no credentials → 401 with WWW-Authenticate; another client's
// stream looks like no stream and its SETs are neither returned nor acknowledged.
func TestPollAuthorization(t *testing.T) {
	e := newEnv(t, nil)
	e.stream("s", ssf.DeliveryPoll)
	e.stream("t", ssf.DeliveryPoll)
	e.enqueue("s", "j1")

	a := e.pollAs("", "s", `{"returnImmediately":true}`, nil)
	if a.Status != http.StatusUnauthorized || a.Header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("no credentials: %d, WWW-Authenticate %q", a.Status, a.Header.Get("WWW-Authenticate"))
	}
	if a.Err.Code != "unauthorized" {
		t.Errorf("error body %s", a.Body)
	}
	a = e.pollAs("expired", "s", `{"returnImmediately":true}`, nil)
	if a.Status != http.StatusUnauthorized || !strings.Contains(a.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("expired token: %d, WWW-Authenticate %q", a.Status, a.Header.Get("WWW-Authenticate"))
	}

	// Client of stream t polls stream s, acknowledging s's SET.
	a = e.pollAs("c-t", "s", `{"returnImmediately":true,"ack":["j1"]}`, nil)
	if a.Status != http.StatusNotFound {
		t.Errorf("foreign stream: %d %s", a.Status, a.Body)
	}
	if c := e.counts("s"); c.Pending != 1 || c.Leased != 0 {
		t.Errorf("foreign poll touched the stream: %+v", c)
	}
	// Acknowledging another stream's jti through one's own stream does nothing to it.
	e.mustPoll("t", `{"returnImmediately":true,"ack":["j1"],"setErrs":{"j1":{"err":"invalid_request","description":"x"}}}`)
	if c := e.counts("s"); c.Pending != 1 || c.Dead != 0 {
		t.Errorf("ack through another stream affected s: %+v", c)
	}
	if got := e.hooks.list(&e.hooks.rejected); len(got) != 3 {
		t.Errorf("Rejected hook calls %v", got)
	}
}

// Unknown streams and streams that use push delivery have no poll endpoint.
func TestPollUnknownAndPushStreams(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Authorize = func(*http.Request, string) error { return nil }
	})
	e.stream("pushed", ssf.DeliveryPush)
	for _, id := range []string{"missing", "pushed"} {
		a := e.poll(id, `{"returnImmediately":true}`)
		if a.Status != http.StatusNotFound || a.Err.Code != "not_found" {
			t.Errorf("%s: %d %s", id, a.Status, a.Body)
		}
	}
	if a := e.poll("pushed", `{}`); !strings.Contains(a.Err.Description, "does not use poll delivery") {
		t.Errorf("push stream: %s", a.Body)
	}
}

// POLL-10: malformed requests get 400 (or a more specific status) with a body that
// names the problem, and change nothing.
func TestPollMalformedRequests(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 256 })
	e.stream("s", ssf.DeliveryPoll)
	e.enqueue("s", "j1")
	cases := []struct {
		name, body string
		hdr        map[string]string
		status     int
		want       string
	}{
		{"empty body", "", nil, 400, "send {} for a default poll"},
		{"not JSON", "maxEvents=1", nil, 400, "invalid poll request"},
		{"truncated", `{"ack":[`, nil, 400, "invalid poll request"},
		{"trailing data", `{} {}`, nil, 400, "invalid poll request"},
		{"array", `[]`, nil, 400, "invalid poll request"},
		{"negative maxEvents", `{"maxEvents":-1}`, nil, 400, "maxEvents"},
		{"fractional maxEvents", `{"maxEvents":1.5}`, nil, 400, "maxEvents"},
		{"string maxEvents", `{"maxEvents":"5"}`, nil, 400, "maxEvents"},
		{"string returnImmediately", `{"returnImmediately":"true"}`, nil, 400, "returnImmediately"},
		{"ack not an array", `{"ack":"j1"}`, nil, 400, "ack"},
		{"ack with a number", `{"ack":[1]}`, nil, 400, "ack"},
		{"empty jti", `{"ack":[""]}`, nil, 400, "empty jti"},
		{"setErrs array", `{"setErrs":[]}`, nil, 400, "setErrs"},
		{"setErrs without err", `{"setErrs":{"j1":{"description":"x"}}}`, nil, 400, "err"},
		{"setErrs bad code", `{"setErrs":{"j1":{"err":"a b","description":"x"}}}`, nil, 400, "err"},
		{"wrong content type", `{}`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"},
		{"too large", `{"ack":["` + strings.Repeat("x", 300) + `"]}`, nil, 413, "exceeds 256 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.pollAs("c-s", "s", c.body, c.hdr)
			if a.Status != c.status {
				t.Fatalf("status %d, want %d (%s)", a.Status, c.status, a.Body)
			}
			if !strings.Contains(a.Err.Description, c.want) {
				t.Errorf("description %q lacks %q", a.Err.Description, c.want)
			}
			if a.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", a.Header.Get("Content-Type"))
			}
		})
	}
	if c := e.counts("s"); c.Pending != 1 || c.Leased != 0 || c.Dead != 0 {
		t.Errorf("a malformed request changed the outbox: %+v", c)
	}
	// No Content-Type at all is read as JSON; other methods are refused.
	if a := e.pollAs("c-s", "s", `{"returnImmediately":true,"maxEvents":0}`, map[string]string{"Content-Type": ""}); a.Status != http.StatusOK {
		t.Errorf("without Content-Type: %d %s", a.Status, a.Body)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/poll/s", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// SEC-13: beyond MaxWaitingPolls long polls per stream, 429 with Retry-After; short
// polls and other streams are unaffected.
func TestPollTooManyWaitingPolls(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxWaitingPolls = 2; c.LongPollTimeout = time.Minute })
	e.stream("s", ssf.DeliveryPoll)
	e.stream("t", ssf.DeliveryPoll)
	e.enqueue("s", "j0")
	e.mustPoll("s", `{"returnImmediately":true}`)
	done := make(chan ssf.PollResponse, 2)
	for range 2 {
		go func() { done <- e.mustPoll("s", `{}`) }()
	}
	eventually(t, "two polls wait", func() bool { return e.waiting("s") == 2 })
	a := e.poll("s", `{"ack":["j0"]}`)
	if a.Status != http.StatusTooManyRequests || a.Header.Get("Retry-After") == "" {
		t.Errorf("third long poll: %d Retry-After %q %s", a.Status, a.Header.Get("Retry-After"), a.Body)
	}
	if c := e.counts("s"); c.Pending != 1 {
		t.Errorf("a refused request applied its ack: %+v", c)
	}
	if a := e.poll("s", `{"returnImmediately":true}`); a.Status != http.StatusOK {
		t.Errorf("short poll: %d", a.Status)
	}
	done2 := make(chan ssf.PollResponse, 1)
	go func() { done2 <- e.mustPoll("t", `{}`) }()
	eventually(t, "other stream's poll waits", func() bool { return e.waiting("t") == 1 })
	e.enqueue("s", "j1")
	got := jtis(<-done)
	e.enqueue("s", "j2")
	got = append(got, jtis(<-done)...)
	if !slices.Equal(got, []string{"j1", "j2"}) {
		t.Errorf("waiting polls got %v", got)
	}
	e.enqueue("t", "t1")
	if r := <-done2; !slices.Equal(jtis(r), []string{"t1"}) {
		t.Errorf("stream t got %v", jtis(r))
	}
}

// SSF-STREAM-13, POLL-14: every poll is receiver activity.
func TestPollTouchesStream(t *testing.T) {
	e := newEnv(t, nil)
	e.stream("s", ssf.DeliveryPoll)
	e.clock.advance(time.Hour)
	e.mustPoll("s", `{"returnImmediately":true}`)
	s, err := e.st.GetStream(context.Background(), "s")
	if err != nil {
		t.Fatal(err)
	}
	if d := e.clock.now().Sub(s.LastActivityAt); d < 0 || d > time.Minute {
		t.Errorf("LastActivityAt %v, now %v", s.LastActivityAt, e.clock.now())
	}
}

// Acknowledgements are committed first: a request that fails afterwards loses none.
func TestPollAcksSurviveLaterFailure(t *testing.T) {
	st := newStore(t)
	e := newEnv(t, func(c *Config) {
		c.Store = failingLease{st}
		c.Authorize = func(*http.Request, string) error { return nil }
	})
	e.st = st
	now := time.Now()
	if err := st.CreateStream(context.Background(), &store.Stream{ID: "s", Status: ssf.StatusEnabled, CreatedAt: now,
		Config: ssf.StreamConfig{StreamID: "s", Delivery: &ssf.Delivery{Method: ssf.DeliveryPoll, EndpointURL: "https://tx.example/poll/s"}}}); err != nil {
		t.Fatal(err)
	}
	e.enqueue("s", "j1", "j2")
	a := e.poll("s", `{"returnImmediately":true,"ack":["j1"]}`)
	if a.Status != http.StatusInternalServerError {
		t.Fatalf("status %d %s", a.Status, a.Body)
	}
	if strings.Contains(a.Body, "injected") {
		t.Errorf("a 500 answer leaks internals: %s", a.Body)
	}
	if c := e.counts("s"); c.Pending != 1 {
		t.Errorf("ack lost: %+v", c)
	}
}

// A client that goes away during a long poll leaves nothing leased.
func TestPollClientGoesAway(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LongPollTimeout = time.Minute })
	e.stream("s", ssf.DeliveryPoll)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/poll/s", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer c-s")
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	eventually(t, "the poll waits", func() bool { return e.waiting("s") == 1 })
	cancel()
	<-errc
	eventually(t, "the handler returns", func() bool { return e.waiting("s") == 0 })
	e.enqueue("s", "j1")
	if r := e.mustPoll("s", `{"returnImmediately":true}`); !slices.Equal(jtis(r), []string{"j1"}) {
		t.Errorf("sets %v", jtis(r))
	}
}

func TestNewHandlerValidates(t *testing.T) {
	st := newStore(t)
	ok := func(*http.Request, string) error { return nil }
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no store", Config{Authorize: ok}, "Store is required"},
		{"no authorize", Config{Store: st}, "Authorize is required"},
		{"negative timeout", Config{Store: st, Authorize: ok, LongPollTimeout: -1}, "LongPollTimeout is negative"},
		{"negative max events", Config{Store: st, Authorize: ok, MaxEvents: -1}, "MaxEvents is negative"},
	}
	for _, c := range cases {
		if _, err := NewHandler(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	h, err := NewHandler(Config{Store: st, Authorize: ok, LongPollTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if h.cfg.LongPollTimeout != MaxLongPollTimeout || h.cfg.MaxEvents != DefaultMaxEvents || h.cfg.LeaseDuration != DefaultLease ||
		h.cfg.MaxBodyBytes != DefaultMaxBody || h.cfg.MaxWaitingPolls != DefaultMaxWaiting || !strings.HasPrefix(h.cfg.Owner, "poll/") {
		t.Errorf("defaults: %+v", h.cfg)
	}
}
