package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// TestContextEndsWhileWaiting: a write waiting for a row lock returns an error wrapping
// the context's error when its context ends; here it had not written anything, and the
// store keeps working.
func TestContextEndsWhileWaiting(t *testing.T) {
	schema := freshSchema(t)
	st := openStore(t, schema, Options{})
	mkStream(t, st, "s1", ssf.DeliveryPush, ssf.StatusEnabled)
	conn := adminConn(t, schema)
	tx, err := conn.Begin(t.Context())
	must(t, err)
	if _, err := tx.Exec(t.Context(), `SELECT 1 FROM streams WHERE id = 's1' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	s, err := st.GetStream(t.Context(), "s1")
	must(t, err)
	s.StatusReason = "changed"
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err = st.UpdateStream(ctx, s, store.StreamChange{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("UpdateStream blocked on a row lock until its deadline = %v, want context.DeadlineExceeded", err)
	}
	must(t, tx.Rollback(t.Context()))
	got, err := st.GetStream(t.Context(), "s1")
	must(t, err)
	if got.Revision != 1 || got.StatusReason == "changed" {
		t.Fatalf("stream after the abandoned update: revision %d reason %q", got.Revision, got.StatusReason)
	}
	s.Revision = 1
	must(t, st.UpdateStream(t.Context(), s, store.StreamChange{}))
}

// TestListenerKeepalive: the listener's keepalive (a timed-out wait, then a ping) keeps
// the same connection, and notifications still arrive on it.
func TestListenerKeepalive(t *testing.T) {
	schema := freshSchema(t)
	a := openStore(t, schema, Options{ListenerKeepalive: 20 * time.Millisecond})
	b := openStore(t, schema, Options{})
	mkStream(t, b, "s1", ssf.DeliveryPush, ssf.StatusEnabled)
	ch, cancel := a.Subscribe("s1")
	defer cancel()
	pid := a.listener.pid()
	time.Sleep(200 * time.Millisecond) // several keepalive rounds
	if p := a.listener.pid(); p != pid {
		t.Fatalf("listener connection changed from pid %d to %d during keepalives", pid, p)
	}
	select {
	case <-a.listener.connected:
		t.Fatal("listener reconnected during keepalives")
	default:
	}
	must(t, b.Enqueue(t.Context(), []*store.OutboxSET{set("s1", "a")}))
	wantSignal(t, "A's subscriber after keepalives", ch)
}

// TestCloseStopsListener: Close ends the listener's session (the server sees it go).
func TestCloseStopsListener(t *testing.T) {
	schema := freshSchema(t)
	st := openStore(t, schema, Options{})
	pid := st.listener.pid()
	must(t, st.Close())
	conn := adminConn(t, "")
	deadline := time.Now().Add(signalWait)
	for {
		var n int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, int64(pid)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("listener backend %d still connected %v after Close", pid, signalWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
