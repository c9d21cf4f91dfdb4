package receiver

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/risc"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/subject"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type workerFixture struct {
	tt    *testTransmitter
	rec   *Recipient
	inbox store.InboxStore
	mux   *Mux
	w     *Worker
	clock *fakeClock
	cnt   *counters
	logs  *bytes.Buffer
}

func newWorkerFixture(t *testing.T, mod func(*WorkerConfig)) *workerFixture {
	t.Helper()
	f := &workerFixture{clock: newFakeClock(), mux: NewMux(), cnt: &counters{}, logs: &bytes.Buffer{}}
	f.tt = newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	hooks := f.cnt.hooks()
	var st store.InboxStore
	f.rec, st = newTestRecipient(t, f.tt, nil, func(c *RecipientConfig) { c.Hooks = hooks; c.Now = f.clock.Now })
	f.inbox = st
	cfg := WorkerConfig{
		Inbox: st, Mux: f.mux, Hooks: hooks, Now: f.clock.Now,
		Logger: slog.New(slog.NewTextHandler(syncWriter{w: f.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	w, err := NewWorker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.w = w
	return f
}

type syncWriter struct{ w *bytes.Buffer }

var logMu sync.Mutex

func (s syncWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return s.w.Write(p)
}

func (f *workerFixture) logText() string {
	logMu.Lock()
	defer logMu.Unlock()
	return f.logs.String()
}

// deliver signs ev and records it as if it had been pushed.
func (f *workerFixture) deliver(t *testing.T, ev event.Event, sub subject.Identifier) string {
	t.Helper()
	raw, jti := f.tt.sign(t, ev, sub)
	if _, err := f.rec.Receive(context.Background(), TransportPush, raw, ""); err != nil {
		t.Fatal(err)
	}
	return jti
}

func (f *workerFixture) state(t *testing.T, jti string) *store.InboxSET {
	t.Helper()
	rec, err := f.inbox.InboxAdd(context.Background(), &store.InboxSET{Issuer: f.tt.issuer, JTI: jti})
	if err != nil || rec == nil {
		t.Fatalf("no record for %s: %v", jti, err)
	}
	return rec
}

func TestWorker_TypedDispatch(t *testing.T) {
	f := newWorkerFixture(t, nil)
	ctx := context.Background()
	var got []string
	On(f.mux, func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error {
		got = append(got, "session-revoked:"+tok.Subject.(*subject.Email).Email+":"+ev.ReasonAdmin["en"])
		return nil
	})
	On(f.mux, func(ctx context.Context, tok *set.Token, ev risc.AccountDisabled) error { // value type
		got = append(got, "account-disabled:"+string(ev.Reason))
		return nil
	})
	On(f.mux, func(ctx context.Context, tok *set.Token, ev *ssf.Verification) error {
		got = append(got, "verification:"+ev.State)
		return nil
	})
	f.mux.HandleType("https://vendor.example.com/event-type/custom", func(ctx context.Context, tok *set.Token) error {
		got = append(got, "custom:"+string(tok.Event.(*event.Raw).Payload))
		return nil
	})
	f.deliver(t, &caep.SessionRevoked{Common: caep.Common{ReasonAdmin: event.Localized{"en": "policy"}}}, &subject.Email{Email: "a@example.com"})
	f.deliver(t, &risc.AccountDisabled{Reason: risc.ReasonHijacking}, &subject.Email{Email: "a@example.com"})
	f.deliver(t, &ssf.Verification{}, nil)
	f.deliver(t, &event.Raw{EventType: "https://vendor.example.com/event-type/custom", Payload: []byte(`{"x":1}`)}, &subject.Email{Email: "a@example.com"})
	other := f.deliver(t, &caep.CredentialChange{CredentialType: event.CredentialTypePassword, ChangeType: caep.ChangeTypeUpdate}, &subject.Email{Email: "a@example.com"})
	if n, err := f.w.RunOnce(ctx); err != nil || n != 5 {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	want := []string{"session-revoked:a@example.com:policy", "account-disabled:hijacking", "verification:", `custom:{"x":1}`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("dispatched %q, want %q", got, want)
	}
	// No handler: processed anyway (AMB-28).
	if s := f.state(t, other); s.State != store.InboxProcessed {
		t.Errorf("unhandled SET state %s", s.State)
	}
	if f.cnt.get(func(c *counters) int { return c.handled[OutcomeUnhandled] }) != 1 || f.cnt.get(func(c *counters) int { return c.handled[OutcomeSuccess] }) != 4 {
		t.Errorf("outcomes %v", f.cnt.handled)
	}
	// The fallback takes what no handler takes.
	var fell []string
	f.mux.Fallback(func(ctx context.Context, tok *set.Token) error { fell = append(fell, tok.Event.Type()); return nil })
	f.deliver(t, &caep.CredentialChange{CredentialType: event.CredentialTypePassword, ChangeType: caep.ChangeTypeUpdate}, &subject.Email{Email: "a@example.com"})
	if _, err := f.w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if len(fell) != 1 || fell[0] != caep.EventTypeCredentialChange {
		t.Errorf("fallback got %q", fell)
	}
}

// A failing handler is retried with backoff, then parked dead; a replay runs it again.
func TestWorker_RetryThenDead(t *testing.T) {
	f := newWorkerFixture(t, func(c *WorkerConfig) { c.MaxAttempts = 4 })
	ctx := context.Background()
	var calls atomic.Int32
	fail := true
	On(f.mux, func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error {
		calls.Add(1)
		if fail {
			return errors.New("downstream unavailable")
		}
		return nil
	})
	jti := f.deliver(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	var delays []time.Duration
	for attempt := 1; attempt <= 4; attempt++ {
		n, err := f.w.RunOnce(ctx)
		if err != nil || n != 1 {
			t.Fatalf("attempt %d: RunOnce = %d, %v", attempt, n, err)
		}
		s := f.state(t, jti)
		if attempt < 4 {
			if s.State != store.InboxPending || s.Attempts != attempt || s.LastError != "downstream unavailable" {
				t.Fatalf("attempt %d: %+v", attempt, s)
			}
			d := s.NextAttemptAt.Sub(f.clock.Now())
			delays = append(delays, d)
			// Not due yet.
			if n, _ := f.w.RunOnce(ctx); n != 0 {
				t.Fatalf("leased before NextAttemptAt")
			}
			f.clock.Advance(d)
		} else if s.State != store.InboxDead || !strings.Contains(s.LastError, "after 4 attempt(s): downstream unavailable") {
			t.Fatalf("final: %+v", s)
		}
	}
	for i, d := range delays {
		base := time.Second << i
		if d < base/2 || d > base {
			t.Errorf("delay %d = %s, want in [%s, %s]", i+1, d, base/2, base)
		}
	}
	if !strings.Contains(f.logText(), "SET parked as dead letter") || !strings.Contains(f.logText(), "level=ERROR") {
		t.Errorf("dead letter not logged at Error:\n%s", f.logText())
	}
	dead, err := f.w.DeadLetters(ctx, 0)
	if err != nil || len(dead) != 1 || dead[0].JTI != jti || dead[0].SET == "" {
		t.Fatalf("dead letters %+v %v", dead, err)
	}
	fail = false
	if n, err := f.w.Replay(ctx); err != nil || n != 1 {
		t.Fatalf("replay %d %v", n, err)
	}
	if _, err := f.w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if s := f.state(t, jti); s.State != store.InboxProcessed || calls.Load() != 5 {
		t.Errorf("after replay: %+v, %d calls", s, calls.Load())
	}
}

func TestWorker_PermanentAndPanic(t *testing.T) {
	f := newWorkerFixture(t, nil)
	ctx := context.Background()
	On(f.mux, func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error {
		return Permanent(errors.New("unknown user"))
	})
	On(f.mux, func(ctx context.Context, tok *set.Token, ev *caep.CredentialChange) error {
		panic("boom")
	})
	perm := f.deliver(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	pan := f.deliver(t, &caep.CredentialChange{CredentialType: event.CredentialTypePassword, ChangeType: caep.ChangeTypeUpdate}, &subject.Email{Email: "a@example.com"})
	if _, err := f.w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if s := f.state(t, perm); s.State != store.InboxDead || s.Attempts != 0 && s.Attempts != 1 {
		t.Errorf("permanent: %+v", s)
	}
	s := f.state(t, pan)
	if s.State != store.InboxPending || s.Attempts != 1 || !strings.Contains(s.LastError, "handler panicked: boom") {
		t.Errorf("panic: %+v", s)
	}
	if !strings.Contains(f.logText(), "worker_test.go") {
		t.Error("the panic's stack is not logged")
	}
}

// A discarded SET (SSF §3.6) is never dispatched, even when a worker finds its record
// still pending (a crash between recording and finishing it).
func TestWorker_DiscardMarker(t *testing.T) {
	f := newWorkerFixture(t, nil)
	ctx := context.Background()
	called := false
	f.mux.Fallback(func(context.Context, *set.Token) error { called = true; return nil })
	raw, jti := f.tt.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	if _, err := f.inbox.InboxAdd(ctx, &store.InboxSET{Issuer: f.tt.issuer, JTI: jti, SET: raw, ReceivedAt: f.clock.Now(), LastError: discardMarker + "critical member"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if called || f.state(t, jti).State != store.InboxProcessed {
		t.Errorf("called %v, state %s", called, f.state(t, jti).State)
	}
}

// Shutting down while a handler runs records nothing: the SET is handled again after
// its lease, without counting an attempt.
func TestWorker_ShutdownDuringHandler(t *testing.T) {
	f := newWorkerFixture(t, func(c *WorkerConfig) { c.HandlerTimeout = time.Second })
	started := make(chan struct{})
	On(f.mux, func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	jti := f.deliver(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.w.Run(ctx) }()
	<-started
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s := f.state(t, jti); s.State != store.InboxPending || s.Attempts != 0 || s.LeaseOwner == "" {
		t.Errorf("after shutdown: %+v", s)
	}
}

// Run wakes on Notify, purges the de-duplication window, and stops cleanly.
func TestWorker_RunNotifyAndPurge(t *testing.T) {
	f := newWorkerFixture(t, func(c *WorkerConfig) {
		c.IdleInterval = time.Hour // only Notify wakes it
		c.DedupeWindow = 24 * time.Hour
		c.PurgeInterval = time.Nanosecond
	})
	handled := make(chan string, 10)
	On(f.mux, func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error {
		handled <- tok.JTI
		return nil
	})
	f.rec.notify = f.w.Notify
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.w.Run(ctx) }()
	jti := f.deliver(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	select {
	case got := <-handled:
		if got != jti {
			t.Errorf("handled %s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Notify did not wake the worker")
	}
	// Within the window a duplicate is detected; after it the record is purged.
	for f.state(t, jti).State != store.InboxProcessed {
		time.Sleep(5 * time.Millisecond)
	}
	f.clock.Advance(25 * time.Hour)
	f.w.Notify()
	deadline := time.Now().Add(5 * time.Second)
	for {
		// InboxAdd stores nothing while the processed record exists.
		if rec, _ := f.inbox.InboxAdd(context.Background(), &store.InboxSET{Issuer: f.tt.issuer, JTI: jti, ReceivedAt: f.clock.Now()}); rec == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not purge")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWorker_Config(t *testing.T) {
	st := &failingInbox{}
	if _, err := NewWorker(WorkerConfig{Inbox: st}); err == nil {
		t.Error("no mux accepted")
	}
	if _, err := NewWorker(WorkerConfig{Mux: NewMux()}); err == nil {
		t.Error("no inbox accepted")
	}
	if _, err := NewWorker(WorkerConfig{Inbox: st, Mux: NewMux(), HandlerTimeout: time.Minute, LeaseDuration: time.Minute}); err == nil {
		t.Error("lease not longer than the handler timeout accepted")
	}
}
