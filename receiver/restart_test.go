package receiver

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/store/sqlite"
	"github.com/sigshare/sigshare/subject"
)

// A Receiver restarted on the same SQLite inbox neither processes a SET twice nor
// forgets to acknowledge one: acknowledgements pending at the crash go with the first
// poll after it, SETs recorded but not handled are handled, and redelivered SETs that
// were handled are acknowledged again without running their handler.
func TestRestart_SQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inbox.db")
	tt := newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	srv := newFakePollServer(t)
	srv.redeliverAfter = 0 // every poll returns everything unacknowledged
	rawA, jtiA := tt.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	rawB, jtiB := tt.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "b@example.com"})
	srv.add(jtiA, rawA)
	srv.add(jtiB, rawB)

	var mu sync.Mutex
	calls := map[string]int{}
	handler := func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error {
		mu.Lock()
		defer mu.Unlock()
		calls[tok.JTI]++
		return nil
	}
	start := func() (*Poller, *Worker, *sqlite.Store) {
		st, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := set.NewVerifier(testKeySet(t), set.Config{Issuer: tt.issuer, Audiences: []string{tt.aud}})
		rec, _ := NewRecipient(RecipientConfig{Verifier: v, Inbox: st, StreamID: "stream-1"})
		mux := NewMux()
		On(mux, handler)
		w, _ := NewWorker(WorkerConfig{Inbox: st, Mux: mux, BatchSize: 1})
		p := newTestPoller(t, srv, rec, func(c *PollerConfig) { c.ReturnImmediately = true })
		return p, w, st
	}

	// First life: both SETs recorded, A handled (its acknowledgement pending), then a
	// crash before the next poll and before B is handled.
	p, w, st := start()
	if res, err := p.PollOnce(ctx); err != nil || res.Sets != 2 {
		t.Fatalf("poll: %+v %v", res, err)
	}
	if n, err := w.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("worker: %d %v", n, err)
	}
	mu.Lock()
	var handledFirst []string
	for k := range calls {
		handledFirst = append(handledFirst, k)
	}
	mu.Unlock()
	if len(handledFirst) != 1 {
		t.Fatalf("handled %v", handledFirst)
	}
	done, pending := handledFirst[0], jtiB
	if done == jtiB {
		pending = jtiA
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, acked, _, _ := srv.snapshot(); len(acked) != 0 {
		t.Fatalf("acknowledged before the crash: %v", acked)
	}

	// Second life on the same file.
	p, w, st = start()
	defer st.Close()
	if _, err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	reqs, acked, _, _ := srv.snapshot()
	if last := reqs[len(reqs)-1]; !slices.Contains(last.req.Ack, done) {
		t.Errorf("the first poll after the restart acknowledges %q, want %s", last.req.Ack, done)
	}
	if acked[pending] != 0 {
		t.Errorf("%s acknowledged before it was handled", pending)
	}
	for {
		n, err := w.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if _, err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	_, acked, _, remaining := srv.snapshot()
	if acked[jtiA] == 0 || acked[jtiB] == 0 || remaining != 0 {
		t.Errorf("acknowledged %v, %d left at the transmitter", acked, remaining)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls[jtiA] != 1 || calls[jtiB] != 1 {
		t.Errorf("handler calls %v, want one each", calls)
	}
}

// By push: a SET delivered again after a restart is answered 202 and not processed
// again (PUSH-8 across restarts).
func TestRestart_SQLitePush(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inbox.db")
	tt := newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	raw, _ := tt.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	calls := 0
	for life := range 2 {
		st, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := set.NewVerifier(testKeySet(t), set.Config{Issuer: tt.issuer, Audiences: []string{tt.aud}})
		rec, _ := NewRecipient(RecipientConfig{Verifier: v, Inbox: st, StreamID: "stream-1"})
		h, _ := NewPushHandler(PushHandlerConfig{Recipient: rec})
		mux := NewMux()
		On(mux, func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error { calls++; return nil })
		w, _ := NewWorker(WorkerConfig{Inbox: st, Mux: mux})
		if resp := push(h, raw, MediaTypeSET, ""); resp.Code != 202 {
			t.Fatalf("life %d: %d %s", life, resp.Code, resp.Body)
		}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Errorf("handled %d times", calls)
	}
}
