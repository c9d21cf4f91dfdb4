package poll

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/transmitter/internal/deliverytest"
)

// loadVector is deliverytest.LoadVector.
var loadVector = deliverytest.LoadVector

// The request bodies of RFC 8936 §2.4 (Figures 1–5) against the handler, with the
// published SETs of Figure 6, and the answers compared with Figures 6 and 7
// (POLL-2..POLL-6, TV22).
func TestVectorPollExchange(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LongPollTimeout = 50 * time.Millisecond })
	e.stream("s", ssf.DeliveryPoll)
	body := func(name string) string { return string(loadVector(t, name).JSON) }
	headers := func(name string) map[string]string {
		h := map[string]string{}
		for _, kv := range loadVector(t, name).HTTP.Headers {
			if kv[0] != "Host" {
				h[kv[0]] = kv[1]
			}
		}
		return h
	}
	var fig6 ssf.PollResponse
	if err := json.Unmarshal(loadVector(t, "rfc8936-2.5-fig6-poll-response.json").JSON, &fig6); err != nil {
		t.Fatal(err)
	}
	var fig7 ssf.PollResponse
	if err := json.Unmarshal(loadVector(t, "rfc8936-2.5-fig7-no-sets-response.json").JSON, &fig7); err != nil {
		t.Fatal(err)
	}
	const first, second = "4d3559ec67504aaba65d40b0363faad8", "3d0c3cf797584bd193bd0fb1bd4e7d30"
	var sets []*store.OutboxSET
	for _, jti := range []string{first, second} {
		sets = append(sets, &store.OutboxSET{StreamID: "s", JTI: jti, SET: fig6.Sets[jti], CreatedAt: time.Now()})
	}
	if err := e.st.Enqueue(context.Background(), sets); err != nil {
		t.Fatal(err)
	}
	check := func(step string, a answer, want ssf.PollResponse) {
		t.Helper()
		if a.Status != http.StatusOK {
			t.Fatalf("%s: status %d %s", step, a.Status, a.Body)
		}
		if d := cmp.Diff(want, a.Resp); d != "" {
			t.Errorf("%s: answer differs (-want +got):\n%s", step, d)
		}
	}

	// Figure 1 (initial poll, returnImmediately) → Figure 6.
	check("figure 1", e.pollAs("c-s", "s", body("rfc8936-2.4.1-fig1-initial-poll.json"), headers("rfc8936-2.4.1-fig1-initial-poll.json")), fig6)

	// Figure 5: acknowledge one, report the other; with its Content-Language.
	f5 := "rfc8936-2.4.4-fig5-ack-with-error.json"
	check("figure 5", e.pollAs("c-s", "s", body(f5), headers(f5)), fig7)
	dl, _ := e.st.DeadLetters(context.Background(), "s", 0)
	if len(dl) != 1 || dl[0].JTI != first || dl[0].DeadReason != "receiver reported authentication_failed: The SET could not be authenticated" {
		t.Errorf("dead letters after figure 5: %+v", dl)
	}
	if c := e.counts("s"); c.Pending != 0 || c.Dead != 1 {
		t.Errorf("counts after figure 5: %+v", c)
	}

	// Replayed, the reported SET is acknowledged by Figure 4 (acknowledge and long poll),
	// which then waits and answers as Figure 7.
	if _, err := e.st.Replay(context.Background(), "s", nil); err != nil {
		t.Fatal(err)
	}
	check("figure 4", e.pollAs("c-s", "s", body("rfc8936-2.4.3-fig4-ack-and-poll.json"), nil), fig7)
	if c := e.counts("s"); c.Pending != 0 || c.Dead != 0 {
		t.Errorf("counts after figure 4: %+v", c)
	}

	// Figure 3 (acknowledge only, returnImmediately) → Figure 7.
	check("figure 3", e.pollAs("c-s", "s", body("rfc8936-2.4.2-fig3-ack-only.json"), nil), fig7)

	// Figure 2 (the default poll, {}) long-polls and returns a SET enqueued meanwhile.
	done := make(chan answer, 1)
	go func() { done <- e.pollAs("c-s", "s", body("rfc8936-2.4.1-fig2-default-poll.json"), nil) }()
	eventually(t, "the default poll waits", func() bool { return e.waiting("s") == 1 })
	if err := e.st.Enqueue(context.Background(), []*store.OutboxSET{{StreamID: "s", JTI: "later", SET: fakeSET("later"), CreatedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	check("figure 2", <-done, ssf.PollResponse{Sets: map[string]string{"later": fakeSET("later")}})

	// Figure 8: an invalid poll request is answered 400.
	if a := e.poll("s", `{"maxEvents":"ten"}`); a.Status != loadVector(t, "rfc8936-2.5.1-fig8-error-response.json").HTTP.Status {
		t.Errorf("invalid request: %d", a.Status)
	}
}
