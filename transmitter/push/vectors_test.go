package push

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/transmitter/internal/deliverytest"
)

// loadVector is deliverytest.LoadVector.
var loadVector = deliverytest.LoadVector

// PUSH-1 (RFC 8935 §2.1 Figure 1): the published SET goes out with the framing of the
// figure: POST, Content-Type application/secevent+jwt, Accept application/json, the
// compact SET as the whole body.
func TestVectorTransmissionRequest(t *testing.T) {
	v := loadVector(t, "rfc8935-2.1-fig1-transmission-request.json")
	st := newStore(t)
	rc := newReceiver(t)
	createStream(t, st, "s", rc.url("s"), "")
	set := outboxSET("s", "756E69717565206964656E746966696572", time.Now())
	set.SET = v.Compact
	if err := st.Enqueue(t.Context(), []*store.OutboxSET{set}); err != nil {
		t.Fatal(err)
	}
	start(t, testConfig(st))
	eventually(t, "delivered", drained(t, st, "s"))
	reqs := rc.requests("s")
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Body != v.Compact {
		t.Errorf("method %s body %q", r.Method, r.Body)
	}
	for _, h := range v.HTTP.Headers {
		switch h[0] {
		case "Content-Type", "Accept":
			if got := r.Header.Get(h[0]); got != h[1] {
				t.Errorf("%s: %q, the figure has %q", h[0], got, h[1])
			}
		}
	}
}

// PUSH-3, PUSH-5, PUSH-7, AMB-18 (RFC 8935 §2.2–§2.3 Figures 2–5): the published
// answers, replayed by a receiver, lead to the outcomes of the table.
func TestVectorResponses(t *testing.T) {
	cases := []struct {
		file   string
		dead   bool
		reason Reason
		done   bool // delivered
	}{
		{"rfc8935-2.2-fig2-accepted-response.json", false, "", true},
		{"rfc8935-2.3-fig3-error-invalid-key.json", true, ReasonRejected, false},
		{"rfc8935-2.3-fig4-error-authentication-failed.json", false, ReasonUnauthorized, false},
		{"rfc8935-2.3-fig5-error-invalid-issuer.json", true, ReasonRejected, false},
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.file, ".json"), func(t *testing.T) {
			v := loadVector(t, c.file)
			st := newStore(t)
			rc := newReceiver(t)
			createStream(t, st, "s", rc.url("s"), "")
			rc.handle("s", func(w http.ResponseWriter, _ *http.Request, _ int) {
				for _, h := range v.HTTP.Headers {
					w.Header().Set(h[0], h[1])
				}
				w.WriteHeader(v.HTTP.Status)
				if len(v.JSON) > 0 {
					w.Write(v.JSON)
				}
			})
			enqueue(t, st, "s", "j1")
			hl := newHookLog()
			cfg := testConfig(st)
			cfg.Backoff = Backoff{Initial: time.Hour, Max: time.Hour}
			cfg.Hooks = hl.hooks()
			r := start(t, cfg)
			if c.done {
				eventually(t, "delivered", drained(t, st, "s"))
				return
			}
			eventually(t, "handled", func() bool { return hl.handled("s") == 1 })
			r.stop(t)
			var desc struct{ Err, Description string }
			json.Unmarshal(v.JSON, &desc)
			var text string
			if c.dead {
				d := deadLetters(t, st, "s")
				if len(d) != 1 {
					t.Fatalf("%d dead letters", len(d))
				}
				text = d[0].DeadReason
				if hl.get(hl.dead, c.reason) != 1 {
					t.Errorf("DeadLettered hook %v", hl.dead)
				}
			} else {
				s := peek(t, st, "s")
				if len(s) != 1 {
					t.Fatalf("%d pending", len(s))
				}
				text = s[0].LastError
				if hl.get(hl.retried, c.reason) != 1 {
					t.Errorf("Retried hook %v", hl.retried)
				}
			}
			if !strings.Contains(text, desc.Err+": "+desc.Description) {
				t.Errorf("recorded %q, want the receiver's %q and %q", text, desc.Err, desc.Description)
			}
		})
	}
}
