package receiver

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/subject"
)

// withJWKSAndPoll makes the fake transmitter serve its JWK Set and the poll endpoints
// (all streams share poll).
func withJWKSAndPoll(t *testing.T, f *fakeTransmitter) *fakePollServer {
	key, _ := testKeys()
	jwks := newJWKSServer(t, key)
	poll := newFakePollServer(t)
	f.setOverride(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		switch {
		case r.URL.Path == "/jwks":
			jwks.srv.Config.Handler.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/poll/"):
			r.Body = io.NopCloser(bytes.NewReader(body))
			poll.serve(w, r)
		default:
			return false
		}
		return true
	})
	return poll
}

func TestReceiver_Poll(t *testing.T) {
	f := newFakeTransmitter(t)
	f.token = "tok"
	poll := withJWKSAndPoll(t, f)
	mux := NewMux()
	handled := make(chan string, 10)
	On(mux, func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error {
		handled <- tok.JTI
		return nil
	})
	inbox := memory.New()
	defer inbox.Close()
	r, err := New(Config{
		Issuer: f.URL(), Credentials: BearerToken("tok"), HTTPClient: f.srv.Client(),
		Stream: ssf.StreamConfig{EventsRequested: []string{sessionRevoked}},
		Inbox:  inbox, Mux: mux, Audience: []string{"https://receiver.example.com"},
		Poller: PollerConfig{PollInterval: 5 * time.Millisecond, MaxPollInterval: 20 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for r.Stream() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	s := r.Stream()
	if s == nil || !s.Delivery.IsPoll() || r.Poller() == nil {
		t.Fatalf("stream %+v", s)
	}
	tt := newTestTransmitter(t, f.URL(), "https://receiver.example.com", s.StreamID, nil)
	raw, jti := tt.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	poll.add(jti, raw)
	select {
	case got := <-handled:
		if got != jti {
			t.Errorf("handled %s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not handled")
	}
	waitAcked(t, poll, []string{jti}, 5*time.Second)
	// A verification requested by the Receiver is accepted with its state.
	state, err := r.RequestVerification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, jti = tt.sign(t, &ssf.Verification{State: state}, nil)
	poll.add(jti, raw)
	waitAcked(t, poll, []string{jti}, 5*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A restart finds the same stream (EnsureStream is idempotent).
	r2, _ := New(Config{Issuer: f.URL(), Credentials: BearerToken("tok"), HTTPClient: f.srv.Client(),
		Stream: ssf.StreamConfig{EventsRequested: []string{sessionRevoked}}, Inbox: inbox, Mux: mux})
	if err := r2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r2.Stream().StreamID != s.StreamID {
		t.Errorf("restart created stream %s", r2.Stream().StreamID)
	}
}

func TestReceiver_Push(t *testing.T) {
	f := newFakeTransmitter(t)
	withJWKSAndPoll(t, f)
	mux := NewMux()
	handled := make(chan string, 10)
	On(mux, func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error {
		handled <- tok.JTI
		return nil
	})
	inbox := memory.New()
	defer inbox.Close()
	r, err := New(Config{
		Issuer: f.URL(), HTTPClient: f.srv.Client(),
		Stream: ssf.StreamConfig{Delivery: &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: "https://receiver.example.com/push"}},
		Inbox:  inbox, Mux: mux,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := r.Handler()
	if w := push(h, "x.y.z", MediaTypeSET, ""); w.Code != http.StatusServiceUnavailable {
		t.Errorf("before start: %d", w.Code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.Run(ctx) }()
	s := r.Stream()
	authz := s.Delivery.AuthorizationHeader
	if !strings.HasPrefix(authz, "Bearer ") || len(authz) < 40 {
		t.Fatalf("generated authorization_header %q", authz)
	}
	tt := newTestTransmitter(t, f.URL(), "https://receiver.example.com", s.StreamID, nil)
	raw, jti := tt.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	if w := push(h, raw, MediaTypeSET, ""); w.Code != http.StatusUnauthorized {
		t.Errorf("without authorization: %d", w.Code)
	}
	if w := push(h, raw, MediaTypeSET, authz); w.Code != http.StatusAccepted {
		t.Fatalf("push: %d %s", w.Code, w.Body)
	}
	select {
	case got := <-handled:
		if got != jti {
			t.Errorf("handled %s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not handled")
	}
}

func TestReceiver_Config(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no issuer":        {Inbox: memory.New(), Mux: NewMux()},
		"no inbox":         {Issuer: "https://tr.example.com", Mux: NewMux()},
		"push without url": {Issuer: "https://tr.example.com", Inbox: memory.New(), Mux: NewMux(), Stream: ssf.StreamConfig{Delivery: &ssf.Delivery{Method: ssf.DeliveryPush}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
