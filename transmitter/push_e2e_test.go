package transmitter

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
	"github.com/sigshare/sigshare/transmitter/push"
)

// pushed is one request a test Receiver got.
type pushed struct {
	auth, contentType string
	tok               *set.Token
}

// The Transmitter and the push engine meet only at the store: verification (TV2–TV19),
// an event, a pause (the stream-updated SET still goes out, AMB-15), an event held while
// paused and released, in order, when the stream is enabled again.
func TestPushEndToEnd(t *testing.T) {
	got := make(chan pushed, 16)
	var verifier *set.Verifier
	rcv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tok, err := verifier.Verify(r.Context(), string(body))
		if err != nil {
			t.Errorf("the pushed SET does not verify: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got <- pushed{auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type"), tok: tok}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer rcv.Close()

	e := newEnv(t, "https://tr.example.com", func(c *Config) { c.Now = time.Now })
	v, err := set.NewVerifier(e.tr.cfg.Keys, set.Config{Issuer: e.tr.Issuer(), Audiences: []string{"receiver-a"}})
	if err != nil {
		t.Fatal(err)
	}
	verifier = v
	engine, err := push.New(push.Config{
		Store:                 e.store,
		Transport:             rcv.Client().Transport.(*http.Transport),
		InsecureAllowLoopback: true,
		Logger:                discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- engine.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("push engine: %v", err)
		}
	}()

	m := asClient{t: e.tr, c: clientA}
	cfg := mustCreate(t, m, ssf.StreamConfig{Delivery: &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: rcv.URL + "/events", AuthorizationHeader: "Bearer push-token-1"}})
	next := func(step string) pushed {
		t.Helper()
		select {
		case p := <-got:
			return p
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: nothing pushed", step)
		}
		return pushed{}
	}

	if err := m.Verify(ctx, ssf.VerifyRequest{StreamID: cfg.StreamID, State: "s-1"}); err != nil {
		t.Fatal(err)
	}
	p := next("verification")
	if p.auth != "Bearer push-token-1" || p.contentType != "application/secevent+jwt" {
		t.Errorf("TV19: Authorization %q, Content-Type %q", p.auth, p.contentType)
	}
	if err := set.CheckVerification(p.tok, cfg.StreamID, "s-1"); err != nil {
		t.Errorf("TV16/TV17: %v", err)
	}

	if _, err := e.tr.Emit(ctx, alice, sessionRevoked(), EmitOptions{}); err != nil {
		t.Fatal(err)
	}
	if p := next("event"); p.tok.Event.Type() != caep.EventTypeSessionRevoked {
		t.Errorf("pushed %s", p.tok.Event.Type())
	}

	if _, err := m.UpdateStatus(ctx, ssf.StreamStatus{StreamID: cfg.StreamID, Status: ssf.StatusPaused, Reason: "maintenance"}); err != nil {
		t.Fatal(err)
	}
	p = next("stream-updated paused")
	if err := set.CheckStreamUpdated(p.tok, cfg.StreamID); err != nil || p.tok.Event.(*ssf.StreamUpdated).Status != ssf.StatusPaused {
		t.Errorf("pause announcement: %v %+v", err, p.tok.Event)
	}
	if _, err := e.tr.Emit(ctx, bob, sessionRevoked(), EmitOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		t.Fatalf("a paused stream pushed %s", p.tok.Event.Type())
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := m.UpdateStatus(ctx, ssf.StreamStatus{StreamID: cfg.StreamID, Status: ssf.StatusEnabled}); err != nil {
		t.Fatal(err)
	}
	held := next("held event")
	if held.tok.Event.Type() != caep.EventTypeSessionRevoked || !subject.Equal(held.tok.Subject, bob) {
		t.Errorf("first after enabling: %s, want the held event", held.tok.Event.Type())
	}
	if p := next("stream-updated enabled"); p.tok.Event.(*ssf.StreamUpdated).Status != ssf.StatusEnabled {
		t.Errorf("second after enabling: %+v, want the enabled announcement", p.tok.Event)
	}
}
