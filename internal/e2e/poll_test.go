package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/receiver"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
)

// rawPoller speaks RFC 8936 itself (every request shape, not only those the receiver
// package's Poller sends) to one poll stream of a transmitter node, and verifies every
// SET it gets with the receiver package's stream verifier.
type rawPoller struct {
	tx       *txNode
	stream   *ssf.StreamConfig
	client   *receiver.Client
	verifier *set.Verifier
	subject  subject.Identifier
	email    string
}

// newRawPoller creates a poll stream (management API) that receives the events about
// email only (the node must use default_subjects NONE).
func newRawPoller(tb testing.TB, tx *txNode, ca *server.DevCA, email string) *rawPoller {
	tb.Helper()
	ctx := context.Background()
	hc := tlsClient(ca)
	disc, err := receiver.Discover(ctx, tx.issuer, receiver.DiscoveryOptions{HTTPClient: hc})
	if err != nil {
		tb.Fatal(err)
	}
	client, err := receiver.NewClient(receiver.ClientConfig{Metadata: disc.Metadata, Credentials: receiver.BearerToken(clientToken), HTTPClient: hc})
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := client.CreateStream(ctx, ssf.StreamConfig{EventsRequested: []string{caep.EventTypeSessionRevoked}, Description: email})
	if err != nil {
		tb.Fatal(err)
	}
	subj := &subject.Email{Email: email}
	if err := client.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: cfg.StreamID, Subject: subj}); err != nil {
		tb.Fatal(err)
	}
	v, jwks, err := receiver.NewStreamVerifier(disc.Metadata, cfg, receiver.VerifierOptions{RemoteKeys: keys.RemoteOptions{HTTPClient: hc}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = jwks.Close() })
	return &rawPoller{tx: tx, stream: cfg, client: client, verifier: v, subject: subj, email: email}
}

// emit emits n events about the poller's subject and returns their jtis in order.
func (p *rawPoller) emit(tb testing.TB, n int) []string {
	tb.Helper()
	var out []string
	for range n {
		out = append(out, jtiFor(tb, p.tx.emit(tb, sessionRevoked(p.email)), p.stream.StreamID))
	}
	return out
}

// emitLater emits one event about the poller's subject after d, from another goroutine,
// and sends its jti (or "" when the emission failed) on the returned channel.
func (p *rawPoller) emitLater(d time.Duration) <-chan []string {
	ch := make(chan []string, 1)
	go func() {
		time.Sleep(d)
		var res struct {
			SETs []struct {
				StreamID string `json:"stream_id"`
				JTI      string `json:"jti"`
			} `json:"sets"`
		}
		status, body, err := tryCall(context.Background(), p.tx.client, http.MethodPost, p.tx.issuer+"/admin/events", adminToken, sessionRevoked(p.email))
		if err == nil && status == http.StatusOK && json.Unmarshal(body, &res) == nil {
			for _, s := range res.SETs {
				if s.StreamID == p.stream.StreamID {
					ch <- []string{s.JTI}
					return
				}
			}
		}
		ch <- nil
	}()
	return ch
}

// poll sends body to the stream's poll endpoint and returns the status and the answer;
// every SET of a 200 answer must verify and carry its key as jti.
func (p *rawPoller) poll(tb testing.TB, body string) (int, ssf.PollResponse) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, p.stream.Delivery.EndpointURL, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+clientToken)
	req.Header.Set("Content-Type", "application/json")
	if strings.Contains(body, "setErrs") {
		req.Header.Set("Content-Language", "en")
	}
	resp, err := p.tx.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var pr ssf.PollResponse
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, pr
	}
	if !bytes.Contains(data, []byte(`"sets":`)) {
		tb.Errorf("answer without \"sets\": %s", data)
	}
	if err := json.Unmarshal(data, &pr); err != nil {
		tb.Fatalf("poll answer %s: %v", data, err)
	}
	for jti, raw := range pr.Sets {
		tok, err := p.verifier.Verify(context.Background(), raw)
		if err != nil {
			tb.Errorf("SET %s does not verify: %v", jti, err)
			continue
		}
		if tok.JTI != jti {
			tb.Errorf("SET under key %s has jti %s", jti, tok.JTI)
		}
	}
	return resp.StatusCode, pr
}

// mustPoll is poll expecting 200.
func (p *rawPoller) mustPoll(tb testing.TB, body string) ssf.PollResponse {
	tb.Helper()
	status, pr := p.poll(tb, body)
	if status != http.StatusOK {
		tb.Fatalf("poll %s: status %d", body, status)
	}
	return pr
}

func keysOf(pr ssf.PollResponse) []string { return slices.Sorted(maps.Keys(pr.Sets)) }

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// pollNode is a node for the poll tests: default_subjects NONE (so that each raw poller
// sees its own events), short long polls, at most 3 SETs per answer.
func pollNode(tb testing.TB, ca *server.DevCA, mutate func(*server.TransmitterOptions)) *txNode {
	return startTx(tb, ca, "ES256", func(o *server.TransmitterOptions) {
		o.Transmitter.DefaultSubjects = ssf.DefaultSubjectsNone
		o.Transmitter.Poll.MaxEvents = 3
		o.Transmitter.Poll.LongPollTimeout = time.Second
		if mutate != nil {
			mutate(o)
		}
	})
}

// RFC 8936 §2.2–§2.5 (POLL-2, POLL-4, POLL-5, POLL-7, AMB-25) against the real node and
// real signed SETs: every combination of ack / setErrs / maxEvents (absent, 0, 2) /
// returnImmediately. Acknowledged SETs leave the outbox; reported ones become dead
// letters with the receiver's error, visible through the operator API; the answer holds
// the oldest maxEvents SETs (the node caps at 3), moreAvailable says more wait, and
// maxEvents 0 returns nothing even with a long poll while SETs are waiting.
func TestPollRequestMatrix(t *testing.T) {
	ca := newCA(t)
	tx := pollNode(t, ca, nil)
	i := 0
	for _, ack := range []bool{false, true} {
		for _, setErrs := range []bool{false, true} {
			for _, maxEvents := range []string{"", "0", "2"} {
				for _, immediate := range []bool{false, true} {
					i++
					name := fmt.Sprintf("ack=%v/setErrs=%v/maxEvents=%q/returnImmediately=%v", ack, setErrs, maxEvents, immediate)
					t.Run(name, func(t *testing.T) {
						p := newRawPoller(t, tx, ca, fmt.Sprintf("matrix-%d@example.com", i))
						old := p.emit(t, 2)
						if got := keysOf(p.mustPoll(t, `{"returnImmediately":true}`)); !slices.Equal(got, sorted(old)) {
							t.Fatalf("first poll got %v, want %v", got, old)
						}
						fresh := p.emit(t, 4)

						var members []string
						if ack {
							members = append(members, `"ack":["`+old[0]+`"]`)
						}
						if setErrs {
							members = append(members, `"setErrs":{"`+old[1]+`":{"err":"invalid_key","description":"unknown kid"}}`)
						}
						if maxEvents != "" {
							members = append(members, `"maxEvents":`+maxEvents)
						}
						members = append(members, fmt.Sprintf(`"returnImmediately":%v`, immediate))
						start := time.Now()
						pr := p.mustPoll(t, "{"+strings.Join(members, ",")+"}")
						if d := time.Since(start); d > 800*time.Millisecond {
							t.Errorf("answered after %v although SETs were waiting", d)
						}

						var want []string
						switch maxEvents {
						case "0":
						case "2":
							want = fresh[:2]
						default:
							want = fresh[:3]
						}
						if got := keysOf(pr); !slices.Equal(got, sorted(want)) {
							t.Errorf("sets %v, want %v", got, want)
						}
						if wantMore := maxEvents != "0"; pr.MoreAvailable != wantMore {
							t.Errorf("moreAvailable %v, want %v", pr.MoreAvailable, wantMore)
						}
						info := tx.streamInfo(t, p.stream.StreamID)
						wantPending, wantDead := 6, 0
						if ack {
							wantPending--
						}
						if setErrs {
							wantPending--
							wantDead = 1
						}
						if info.Outbox.Pending != wantPending || info.Outbox.Dead != wantDead {
							t.Errorf("outbox %+v, want pending %d, dead %d", info.Outbox, wantPending, wantDead)
						}
						if setErrs {
							var dead []struct {
								JTI        string `json:"jti"`
								DeadReason string `json:"dead_reason"`
							}
							tx.admin(t, http.MethodGet, "/streams/"+p.stream.StreamID+"/dead-letters", nil, &dead)
							if len(dead) != 1 || dead[0].JTI != old[1] || !strings.Contains(dead[0].DeadReason, "invalid_key") {
								t.Errorf("dead letters %+v, want %s with the receiver's invalid_key", dead, old[1])
							}
						}
					})
				}
			}
		}
	}
}

// RFC 8936 §2.5 (POLL-3, POLL-5, POLL-6): a long poll waits until a SET is emitted and
// answers at once then; without events it answers {"sets":{}} at the node's long-poll
// timeout; an acknowledge-only long poll (maxEvents 0) returns when a SET becomes
// available, without it.
func TestPollLongPoll(t *testing.T) {
	ca := newCA(t)
	tx := pollNode(t, ca, func(o *server.TransmitterOptions) { o.Transmitter.Poll.LongPollTimeout = 2 * time.Second })

	t.Run("receiver Poller", func(t *testing.T) {
		// First, while it is the only poll stream of the client (EnsureStream). The
		// receiver package's Poller long-polls: an event arrives well before its
		// poll interval would have elapsed.
		r := startReceiver(t, tx.issuer, ca, rcvOptions{description: "poller",
			poller: receiver.PollerConfig{PollInterval: 10 * time.Second, MaxPollInterval: 10 * time.Second}})
		ctx := context.Background()
		if err := r.r.Client().AddSubject(ctx, ssf.AddSubjectRequest{StreamID: r.streamID(), Subject: &subject.Email{Email: "poller@example.com"}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // the Poller is waiting in a long poll
		start := time.Now()
		jti := jtiFor(t, tx.emit(t, sessionRevoked("poller@example.com")), r.streamID())
		r.rec.waitJTIs(t, 5*time.Second, jti)
		if d := time.Since(start); d > time.Second {
			t.Errorf("received %v after the emission", d)
		}
		tx.waitOutbox(t, r.streamID(), "the acknowledgement", func(p, d int) bool { return p == 0 && d == 0 })
	})

	t.Run("wakes on emit", func(t *testing.T) {
		p := newRawPoller(t, tx, ca, "wake@example.com")
		emitted := p.emitLater(300 * time.Millisecond)
		start := time.Now()
		pr := p.mustPoll(t, `{}`)
		d := time.Since(start)
		want := <-emitted
		if !slices.Equal(keysOf(pr), want) {
			t.Errorf("sets %v, want %v", keysOf(pr), want)
		}
		if d < 250*time.Millisecond || d > 1500*time.Millisecond {
			t.Errorf("answered after %v; want soon after the emission at 300ms", d)
		}
	})

	t.Run("times out empty", func(t *testing.T) {
		p := newRawPoller(t, tx, ca, "idle@example.com")
		start := time.Now()
		pr := p.mustPoll(t, `{"returnImmediately":false}`)
		if d := time.Since(start); d < 1900*time.Millisecond || d > 4*time.Second {
			t.Errorf("empty long poll answered after %v, want the 2s long-poll timeout", d)
		}
		if len(pr.Sets) != 0 || pr.MoreAvailable {
			t.Errorf("answer %+v, want empty", pr)
		}
	})

	t.Run("acknowledge-only waits for a SET", func(t *testing.T) {
		p := newRawPoller(t, tx, ca, "ackonly@example.com")
		first := p.emit(t, 1)
		p.mustPoll(t, `{"returnImmediately":true}`)
		emitted := p.emitLater(300 * time.Millisecond)
		start := time.Now()
		pr := p.mustPoll(t, `{"ack":["`+first[0]+`"],"maxEvents":0,"returnImmediately":false}`)
		d := time.Since(start)
		second := <-emitted
		if len(pr.Sets) != 0 {
			t.Errorf("acknowledge-only answer carries SETs %v", keysOf(pr))
		}
		if d < 250*time.Millisecond || d > 1500*time.Millisecond {
			t.Errorf("acknowledge-only long poll answered after %v; want when the SET was emitted (300ms)", d)
		}
		if got := keysOf(p.mustPoll(t, `{"returnImmediately":true}`)); !slices.Equal(got, second) {
			t.Errorf("next poll %v, want %v", got, second)
		}
		if info := tx.streamInfo(t, p.stream.StreamID); info.Outbox.Pending != 1 {
			t.Errorf("outbox %+v: the acknowledged SET is still there", info.Outbox)
		}
	})

}

// RFC 8936 §2.4 (POLL-8): a SET returned and not acknowledged is returned again, with
// the same jti, once its lease ran out, and not before.
func TestPollRedeliveryAfterLease(t *testing.T) {
	ca := newCA(t)
	tx := pollNode(t, ca, func(o *server.TransmitterOptions) { o.Transmitter.Poll.LeaseDuration = time.Second })
	p := newRawPoller(t, tx, ca, "lease@example.com")
	want := p.emit(t, 2)
	if got := keysOf(p.mustPoll(t, `{"returnImmediately":true}`)); !slices.Equal(got, sorted(want)) {
		t.Fatalf("first poll %v, want %v", got, want)
	}
	if got := keysOf(p.mustPoll(t, `{"returnImmediately":true}`)); len(got) != 0 {
		t.Errorf("leased SETs returned again at once: %v", got)
	}
	time.Sleep(1100 * time.Millisecond)
	pr := p.mustPoll(t, `{"returnImmediately":true}`)
	if got := keysOf(pr); !slices.Equal(got, sorted(want)) {
		t.Fatalf("after the lease %v, want %v again", got, want)
	}
	p.mustPoll(t, `{"ack":["`+want[0]+`","`+want[1]+`"],"maxEvents":0,"returnImmediately":true}`)
	if info := tx.streamInfo(t, p.stream.StreamID); info.Outbox.Pending != 0 {
		t.Errorf("outbox %+v after the acknowledgement", info.Outbox)
	}
}
