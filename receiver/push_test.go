package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
)

// push sends body to h and returns the recorded answer.
func push(h http.Handler, body, contentType, authz string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "https://receiver.example.com/push", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	r.Header.Set("Accept", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// counters records hook calls.
type counters struct {
	mu        sync.Mutex
	rejected  map[string]int
	verified  int
	dups      int
	discarded int
	tolerated []string
	handled   map[Outcome]int
	polls     int
}

func (c *counters) hooks() Hooks {
	c.rejected = map[string]int{}
	c.handled = map[Outcome]int{}
	return Hooks{
		Rejected: func(_ Transport, code string) { c.mu.Lock(); c.rejected[code]++; c.mu.Unlock() },
		Verified: func(Transport, string, set.Leniency) { c.mu.Lock(); c.verified++; c.mu.Unlock() },
		Duplicate: func(Transport) {
			c.mu.Lock()
			c.dups++
			c.mu.Unlock()
		},
		Discarded: func(Transport, string) { c.mu.Lock(); c.discarded++; c.mu.Unlock() },
		Tolerated: func(_ Transport, what string) { c.mu.Lock(); c.tolerated = append(c.tolerated, what); c.mu.Unlock() },
		Handled:   func(_ string, o Outcome, _ time.Duration) { c.mu.Lock(); c.handled[o]++; c.mu.Unlock() },
		PollRequest: func(int, int, int, int, time.Duration, error) {
			c.mu.Lock()
			c.polls++
			c.mu.Unlock()
		},
	}
}

func (c *counters) get(f func(*counters) int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return f(c)
}

// Every RFC 8935 error code path through the push endpoint, from the generated receiver
// vectors (TV-GEN-1..22), expecting exactly push_status and push_err; then the same SETs
// in compatibility mode.
func TestPush_NegativeVectors(t *testing.T) {
	ctx := context.Background()
	for _, c := range loadNegative(t) {
		for _, compat := range []bool{false, true} {
			name := c.file
			if compat {
				name += "/compat"
			}
			t.Run(name, func(t *testing.T) {
				var cnt counters
				st := memory.New()
				defer st.Close()
				rec, err := NewRecipient(RecipientConfig{
					Verifier: c.verifier(t, compat), Inbox: st, StreamID: c.Context.Stream.StreamID,
					States: c.states(t), Hooks: cnt.hooks(),
				})
				if err != nil {
					t.Fatal(err)
				}
				h, err := NewPushHandler(PushHandlerConfig{Recipient: rec, Compatibility: compat})
				if err != nil {
					t.Fatal(err)
				}
				raw := c.compact(t)
				deliveries := 1
				if strings.HasPrefix(c.Expect, "accept-twice") {
					deliveries = 2
				}
				var w *httptest.ResponseRecorder
				for range deliveries {
					w = push(h, raw, MediaTypeSET, "")
					if compat && !c.wantAccept(false) && c.CompatExpect == "" {
						// No compatibility expectation: only keys, issuer, audience
						// and state failures must stay failures.
						if c.PushErr != nil && *c.PushErr != ssf.CodeInvalidRequest && w.Code != 400 {
							t.Fatalf("compat: status %d, want 400 %s", w.Code, *c.PushErr)
						}
						t.Logf("compat: %d %s", w.Code, w.Body)
						return
					}
					if c.wantAccept(compat) {
						if w.Code != http.StatusAccepted || w.Body.Len() != 0 {
							t.Fatalf("status %d body %q, want 202 and no body", w.Code, w.Body)
						}
						continue
					}
					if w.Code != c.PushStatus {
						t.Fatalf("status %d, want %d (%s)", w.Code, c.PushStatus, w.Body)
					}
					var body ssf.SETError
					if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
						t.Fatal(err)
					}
					if body.Err != *c.PushErr || body.Description == "" {
						t.Errorf("body %+v, want err %s", body, *c.PushErr)
					}
					if w.Header().Get("Content-Language") != "en" || w.Header().Get("Content-Type") != "application/json" {
						t.Errorf("headers %v (PUSH-5, PUSH-6)", w.Header())
					}
					if cnt.get(func(c *counters) int { return c.rejected[body.Err] }) != 1 {
						t.Errorf("rejection not counted: %v", cnt.rejected)
					}
					if strings.Contains(body.Description, raw) {
						t.Error("the description holds the SET")
					}
				}
				if !c.wantAccept(compat) {
					return
				}
				leased, err := st.InboxLease(ctx, "t", 10, time.Minute, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case c.Expect == "accept-discard-event" && !compat || c.Expect == "accept-discard-event" && compat:
					if len(leased) != 0 || cnt.get(func(c *counters) int { return c.discarded }) != 1 {
						t.Errorf("discarded SET dispatchable: %d leased, %d discarded", len(leased), cnt.discarded)
					}
					// Still de-duplicated: the record is kept as processed.
					if dup, _ := st.InboxAdd(ctx, &store.InboxSET{Issuer: c.Context.TransmitterIssuer, JTI: c.jti(t)}); dup == nil || dup.State != store.InboxProcessed {
						t.Errorf("discarded record %+v", dup)
					}
				default:
					if len(leased) != 1 || leased[0].JTI != c.jti(t) || leased[0].SET != raw || leased[0].StreamID != c.Context.Stream.StreamID {
						t.Fatalf("inbox holds %+v", leased)
					}
					if deliveries == 2 && cnt.get(func(c *counters) int { return c.dups }) != 1 {
						t.Errorf("duplicate not detected")
					}
				}
			})
		}
	}
}

func newPushFixture(t *testing.T, cfg PushHandlerConfig) (*PushHandler, *testTransmitter, *memory.Store, *counters) {
	t.Helper()
	tt := newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	var cnt counters
	hooks := cnt.hooks()
	rec, st := newTestRecipient(t, tt, nil, func(c *RecipientConfig) { c.Hooks = hooks })
	cfg.Recipient = rec
	cfg.Hooks = hooks
	h, err := NewPushHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h, tt, st, &cnt
}

func TestPush_Transport(t *testing.T) {
	h, tt, _, cnt := newPushFixture(t, PushHandlerConfig{})
	raw, _ := tt.sign(t, &caep.SessionRevoked{}, nil)

	t.Run("method", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/push", nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" {
			t.Errorf("%d %v", w.Code, w.Header())
		}
	})
	t.Run("content types, strict", func(t *testing.T) {
		for _, ct := range []string{"application/jwt", "text/plain", "application/json", "", "application/xml"} {
			if w := push(h, raw, ct, ""); w.Code != http.StatusUnsupportedMediaType {
				t.Errorf("%q: %d", ct, w.Code)
			}
		}
		for _, ct := range []string{"application/secevent+jwt", "Application/SecEvent+JWT", "application/secevent+jwt; charset=utf-8"} {
			if w := push(h, raw, ct, ""); w.Code != http.StatusAccepted {
				t.Errorf("%q: %d %s", ct, w.Code, w.Body)
			}
		}
	})
	t.Run("empty body", func(t *testing.T) {
		w := push(h, "", MediaTypeSET, "")
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"err":"invalid_request"`) {
			t.Errorf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("too large", func(t *testing.T) {
		small, _, _, _ := newPushFixture(t, PushHandlerConfig{MaxBodyBytes: 100})
		if w := push(small, raw, MediaTypeSET, ""); w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%d", w.Code)
		}
	})
	_ = cnt
}

// Vendors §5.1 item 6: legacy Content-Types and a JSON-string body in compatibility mode.
func TestPush_CompatibilityTransport(t *testing.T) {
	h, tt, st, cnt := newPushFixture(t, PushHandlerConfig{Compatibility: true})
	for _, tc := range []struct {
		ct, body, tolerated string
	}{
		{"application/jwt", "%s", "Content-Type application/jwt"},
		{"text/plain", " %s\r\n", "whitespace around the SET"},
		{"application/json", `"%s"`, "SET as a JSON string"},
		{"application/json", " \"%s\"\n", "SET as a JSON string"},
		{"", "%s", "no Content-Type"},
		{MediaTypeSET, "%s", ""},
	} {
		raw, jti := tt.sign(t, &caep.SessionRevoked{}, nil)
		cnt.mu.Lock()
		cnt.tolerated = nil
		cnt.mu.Unlock()
		w := push(h, strings.Replace(tc.body, "%s", raw, 1), tc.ct, "")
		if w.Code != http.StatusAccepted {
			t.Errorf("%q %q: %d %s", tc.ct, tc.body, w.Code, w.Body)
			continue
		}
		if dup, _ := st.InboxAdd(context.Background(), &store.InboxSET{Issuer: tt.issuer, JTI: jti}); dup == nil || dup.SET != raw {
			t.Errorf("%q: recorded %+v", tc.ct, dup)
		}
		cnt.mu.Lock()
		got := strings.Join(cnt.tolerated, ",")
		cnt.mu.Unlock()
		if !strings.Contains(got, tc.tolerated) || (tc.tolerated == "" && got != "") {
			t.Errorf("%q %q: tolerated %q, want %q", tc.ct, tc.body, got, tc.tolerated)
		}
	}
	if w := push(h, "x", "application/xml", ""); w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("xml: %d", w.Code)
	}
}

// AMB-18: the configured Authorization is required; 401 with a challenge otherwise.
func TestPush_Authorization(t *testing.T) {
	h, tt, _, _ := newPushFixture(t, PushHandlerConfig{Authorization: "Bearer push-secret"})
	raw, _ := tt.sign(t, &caep.SessionRevoked{}, nil)
	for _, tc := range []struct {
		authz     string
		status    int
		challenge string
	}{
		{"", 401, `Bearer realm="sigshare receiver"`},
		{"Bearer wrong", 401, `Bearer realm="sigshare receiver", error="invalid_token"`},
		{"bearer push-secret", 401, `Bearer realm="sigshare receiver", error="invalid_token"`},
		{"Bearer push-secret ", 401, `Bearer realm="sigshare receiver", error="invalid_token"`},
		{"Bearer push-secret", 202, ""},
	} {
		w := push(h, raw, MediaTypeSET, tc.authz)
		if w.Code != tc.status || w.Header().Get("WWW-Authenticate") != tc.challenge {
			t.Errorf("%q: %d %q", tc.authz, w.Code, w.Header().Get("WWW-Authenticate"))
		}
		if strings.Contains(w.Body.String(), "push-secret") {
			t.Error("the answer shows the secret")
		}
	}
}

// failingInbox fails InboxAdd: the push is answered 503 so that the transmitter retries.
type failingInbox struct {
	store.InboxStore
	err error
}

func (f *failingInbox) InboxAdd(ctx context.Context, s *store.InboxSET) (*store.InboxSET, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.InboxStore.InboxAdd(ctx, s)
}

func TestPush_TemporaryFailure(t *testing.T) {
	tt := newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	inbox := &failingInbox{InboxStore: memory.New(), err: errors.New("disk full")}
	v, err := set.NewVerifier(testKeySet(t), set.Config{Issuer: tt.issuer, Audiences: []string{tt.aud}})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := NewRecipient(RecipientConfig{Verifier: v, Inbox: inbox, StreamID: "stream-1"})
	h, _ := NewPushHandler(PushHandlerConfig{Recipient: rec})
	raw, _ := tt.sign(t, &caep.SessionRevoked{}, nil)
	w := push(h, raw, MediaTypeSET, "")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || strings.Contains(w.Body.String(), "disk full") {
		t.Errorf("%d %v %q", w.Code, w.Header(), w.Body)
	}
	inbox.err = nil
	if w := push(h, raw, MediaTypeSET, ""); w.Code != http.StatusAccepted {
		t.Errorf("after recovery: %d", w.Code)
	}
}
