package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// Tests with several Store values ("nodes") on one schema: what a single-node conformance
// suite cannot see.

// signalWait bounds waits for something that must happen soon (a notification crossing
// the server, a reconnection). It is generous on purpose: these tests check that a
// signal arrives, not how fast.
const signalWait = 30 * time.Second

var t0 = time.Date(2030, 5, 6, 7, 8, 9, 123456000, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func mkStream(t testing.TB, st *Store, id, method string, status ssf.Status) *store.Stream {
	t.Helper()
	s := &store.Stream{
		ID: id, ClientID: "client-1", Status: status, CreatedAt: at(0), UpdatedAt: at(0),
		Config: ssf.StreamConfig{StreamID: id, Issuer: "https://tx.example.com", Audience: ssf.Audience{"rx"},
			Delivery: &ssf.Delivery{Method: method, EndpointURL: "https://rx.example.com/" + id, AuthorizationHeader: "Bearer secret"}},
	}
	if err := st.CreateStream(context.Background(), s); err != nil {
		t.Fatalf("CreateStream(%s): %v", id, err)
	}
	return s
}

func set(stream, jti string) *store.OutboxSET {
	return &store.OutboxSET{StreamID: stream, JTI: jti, SET: "h.p-" + jti + ".s", EventType: "https://schemas.openid.net/secevent/caep/event-type/session-revoked", CreatedAt: at(0)}
}

func wantSignal(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(signalWait):
		t.Fatalf("%s: no signal within %v", what, signalWait)
	}
}

func wantNoSignal(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s: unexpected signal", what)
	default:
	}
}

func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// TestNodesLeaseExclusive: workers on two nodes lease concurrently from one outbox. No
// SET is handed out twice while its lease holds, and every SET is leased exactly once;
// after the leases expired, the same holds again.
func TestNodesLeaseExclusive(t *testing.T) {
	schema := freshSchema(t)
	nodes := []*Store{openStore(t, schema, Options{}), openStore(t, schema, Options{})}
	const streams, per = 4, 150
	var want []string
	for i := range streams {
		mkStream(t, nodes[0], fmt.Sprintf("s%d", i), ssf.DeliveryPush, ssf.StatusEnabled)
	}
	for j := range per {
		var batch []*store.OutboxSET
		for i := range streams {
			s := set(fmt.Sprintf("s%d", i), fmt.Sprintf("j%d", j))
			batch = append(batch, s)
			want = append(want, s.StreamID+"/"+s.JTI)
		}
		if err := nodes[j%2].Enqueue(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	for round, now := range []time.Time{at(0), at(3600)} {
		got := leaseRace(t, nodes, now, false)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: leased %d SETs (%d distinct), want each of %d exactly once", round, len(got), len(slices.Compact(slices.Clone(got))), len(want))
		}
	}
	// With acknowledgements: each SET once, and the outbox empty afterwards.
	got := leaseRace(t, nodes, at(7200), true)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("lease and ack: leased %d SETs, want each of %d exactly once", len(got), len(want))
	}
	for i := range streams {
		c, err := nodes[1].CountOutbox(t.Context(), fmt.Sprintf("s%d", i), at(7200))
		if err != nil || c != (store.OutboxCounts{}) {
			t.Fatalf("CountOutbox after all acknowledged = %+v, %v", c, err)
		}
	}
}

// leaseRace lets 6 workers per node lease (Limit 4, one hour) at now until nothing is
// deliverable and returns the keys leased; with ack the workers acknowledge what they
// leased.
func leaseRace(t *testing.T, nodes []*Store, now time.Time, ack bool) []string {
	t.Helper()
	var mu sync.Mutex
	var all []string
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for n, st := range nodes {
		for w := range 6 {
			owner := fmt.Sprintf("node-%d/worker-%d", n, w)
			wg.Go(func() {
				for {
					got, err := st.Lease(context.Background(), store.LeaseRequest{Owner: owner, Method: ssf.DeliveryPush, Limit: 4, Duration: time.Hour, Now: now})
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					var keys []string
					for _, s := range got {
						if s.LeaseOwner != owner {
							errs <- fmt.Errorf("%s got %s/%s leased to %q", owner, s.StreamID, s.JTI, s.LeaseOwner)
							return
						}
						keys = append(keys, s.StreamID+"/"+s.JTI)
						if ack {
							if found, err := st.Ack(context.Background(), s.StreamID, []string{s.JTI}); err != nil || len(found) != 1 {
								errs <- fmt.Errorf("%s acknowledging its own %s/%s: found %v, %v", owner, s.StreamID, s.JTI, found, err)
								return
							}
						}
					}
					mu.Lock()
					all = append(all, keys...)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return all
}

// TestNodeDiesMidDelivery: a node leases SETs and dies (its Store is closed without
// acknowledging); another node takes them over once the leases expired, not before, and
// the dead node's late Retry fails with ErrLeaseLost.
func TestNodeDiesMidDelivery(t *testing.T) {
	schema := freshSchema(t)
	a, b := openStore(t, schema, Options{}), openStore(t, schema, Options{})
	mkStream(t, a, "s1", ssf.DeliveryPush, ssf.StatusEnabled)
	for j := range 10 {
		if err := a.Enqueue(t.Context(), []*store.OutboxSET{set("s1", fmt.Sprint(j))}); err != nil {
			t.Fatal(err)
		}
	}
	leased, err := a.Lease(t.Context(), store.LeaseRequest{Owner: "a", Limit: 6, Duration: 30 * time.Second, Now: at(0)})
	if err != nil || len(leased) != 6 {
		t.Fatalf("Lease on a = %d, %v", len(leased), err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := b.Lease(t.Context(), store.LeaseRequest{Owner: "b", Limit: 100, Duration: 30 * time.Second, Now: at(29)})
	if err != nil || len(got) != 4 {
		t.Fatalf("Lease on b while a's leases hold = %d SETs, %v; want the 4 free ones", len(got), err)
	}
	got, err = b.Lease(t.Context(), store.LeaseRequest{Owner: "b", Limit: 100, Duration: 30 * time.Second, Now: at(30)})
	if err != nil || len(got) != 6 {
		t.Fatalf("Lease on b after a's leases expired = %d SETs, %v; want a's 6", len(got), err)
	}
	for i, s := range got {
		if s.JTI != leased[i].JTI || s.LeaseOwner != "b" {
			t.Fatalf("taken over %d: %s owner %q, want %s owner b", i, s.JTI, s.LeaseOwner, leased[i].JTI)
		}
	}
	// a comes back (a new Store on the same schema) and reports its stale attempt.
	a2 := openStore(t, schema, Options{})
	err = a2.Retry(t.Context(), "s1", leased[0].JTI, "a", at(31), "timeout")
	if !errorsIs(err, store.ErrLeaseLost) {
		t.Fatalf("Retry by the dead node's owner = %v, want ErrLeaseLost", err)
	}
}

// TestCrossNodeSubscribe (LISTEN/NOTIFY): a subscriber on node A is signalled when node B
// makes SETs of its stream deliverable (Enqueue, Replay, UpdateStream with Enqueue or to
// enabled); subscribers of other streams are not.
func TestCrossNodeSubscribe(t *testing.T) {
	schema := freshSchema(t)
	a, b := openStore(t, schema, Options{}), openStore(t, schema, Options{})
	mkStream(t, b, "s1", ssf.DeliveryPoll, ssf.StatusEnabled)
	mkStream(t, b, "s2", ssf.DeliveryPoll, ssf.StatusEnabled)
	s1, cancel1 := a.Subscribe("s1")
	defer cancel1()
	s2, cancel2 := a.Subscribe("s2")
	defer cancel2()
	all, cancelAll := a.Subscribe("")
	defer cancelAll()

	if err := b.Enqueue(t.Context(), []*store.OutboxSET{set("s1", "a")}); err != nil {
		t.Fatal(err)
	}
	wantSignal(t, "A's s1 subscriber after B enqueued to s1", s1)
	wantSignal(t, "A's all-stream subscriber after B enqueued to s1", all)
	// Both arrive from one notification, so s2 would have been signalled by now.
	wantNoSignal(t, "A's s2 subscriber after B enqueued to s1", s2)

	if err := b.DeadLetter(t.Context(), "s1", "a", "", "x", at(1)); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Replay(t.Context(), "s1", nil); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v", n, err)
	}
	wantSignal(t, "A's s1 subscriber after B replayed", s1)

	st, err := b.GetStream(t.Context(), "s2")
	if err != nil {
		t.Fatal(err)
	}
	st.Status = ssf.StatusPaused
	if err := b.UpdateStream(t.Context(), st, store.StreamChange{Enqueue: []*store.OutboxSET{set("s2", "paused")}}); err != nil {
		t.Fatal(err)
	}
	wantSignal(t, "A's s2 subscriber after B's UpdateStream enqueued", s2)
	st.Status = ssf.StatusEnabled
	if err := b.UpdateStream(t.Context(), st, store.StreamChange{}); err != nil {
		t.Fatal(err)
	}
	wantSignal(t, "A's s2 subscriber after B enabled s2", s2)

	// A long poll waiting on A returns when B accepts an event for its stream.
	drain(s1)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), signalWait)
		defer cancel()
		for {
			got, err := a.Lease(ctx, store.LeaseRequest{Owner: "poller", StreamID: "s1", Limit: 10, Duration: time.Minute, Now: at(100)})
			if err != nil {
				done <- err
				return
			}
			for _, s := range got {
				if s.JTI == "late" {
					done <- nil
					return
				}
			}
			select {
			case <-s1:
			case <-ctx.Done():
				done <- ctx.Err()
				return
			}
		}
	}()
	if err := b.Enqueue(t.Context(), []*store.OutboxSET{set("s1", "late")}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("long poll on A for an event accepted by B: %v", err)
	}
}

// TestListenerReconnects: after its connection is terminated (pg_terminate_backend), the
// listener reconnects, signals every subscriber once (notifications may have been
// missed), and receives other nodes' notifications again.
func TestListenerReconnects(t *testing.T) {
	schema := freshSchema(t)
	a, b := openStore(t, schema, Options{}), openStore(t, schema, Options{})
	mkStream(t, b, "s1", ssf.DeliveryPush, ssf.StatusEnabled)
	ch, cancel := a.Subscribe("s1")
	defer cancel()
	other, cancelOther := a.Subscribe("unrelated")
	defer cancelOther()

	pid := a.listener.pid()
	if pid == 0 {
		t.Fatal("listener has no connection")
	}
	var ok bool
	if err := adminConn(t, "").QueryRow(t.Context(), `SELECT pg_terminate_backend($1)`, int64(pid)).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
	}
	select {
	case <-a.listener.connected:
	case <-time.After(signalWait):
		t.Fatalf("listener did not reconnect within %v", signalWait)
	}
	if p := a.listener.pid(); p == pid || p == 0 {
		t.Fatalf("listener pid after reconnecting = %d (was %d)", p, pid)
	}
	wantSignal(t, "s1 subscriber after the listener reconnected", ch)
	wantSignal(t, "unrelated subscriber after the listener reconnected", other)

	if err := b.Enqueue(t.Context(), []*store.OutboxSET{set("s1", "after")}); err != nil {
		t.Fatal(err)
	}
	wantSignal(t, "s1 subscriber after B enqueued, on the new connection", ch)
}

// TestOwnNotificationsIgnored: a node's own writes signal its subscribers once (locally,
// before the write returns); the echo of its own notification does not signal them again.
func TestOwnNotificationsIgnored(t *testing.T) {
	schema := freshSchema(t)
	a, b := openStore(t, schema, Options{}), openStore(t, schema, Options{})
	mkStream(t, a, "s1", ssf.DeliveryPush, ssf.StatusEnabled)
	mkStream(t, b, "probe", ssf.DeliveryPush, ssf.StatusEnabled)
	ch, cancel := a.Subscribe("s1")
	defer cancel()
	bch, bcancel := b.Subscribe("s1")
	defer bcancel()
	probe, pcancel := a.Subscribe("probe")
	defer pcancel()
	if err := a.Enqueue(t.Context(), []*store.OutboxSET{set("s1", "own")}); err != nil {
		t.Fatal(err)
	}
	wantSignal(t, "A's subscriber, signalled locally", ch)
	wantSignal(t, "B's subscriber, by A's notification", bch)
	// Let a notification from B pass through A's listener. PostgreSQL delivers
	// notifications in commit order, so A's listener has handled the echo of A's own
	// notification (committed earlier) by the time B's arrives.
	if err := b.Enqueue(t.Context(), []*store.OutboxSET{set("probe", "p")}); err != nil {
		t.Fatal(err)
	}
	wantSignal(t, "A's probe subscriber, by B's notification", probe)
	wantNoSignal(t, "A's s1 subscriber: the echo of its own notification", ch)
}

// TestConcurrentOpenMigratesOnce: nodes starting together on an empty schema apply each
// migration once (the advisory lock serializes them) and all open.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	schema := freshSchema(t)
	const n = 4
	var wg sync.WaitGroup
	logs := make([]*countHandler, n)
	errs := make([]error, n)
	for i := range n {
		logs[i] = &countHandler{}
		wg.Go(func() {
			st, err := Open(context.Background(), testDSN(t), Options{Schema: schema, Logger: newLogger(logs[i])})
			if err == nil {
				err = st.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	applied := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		applied += logs[i].count("postgres: applied schema migration")
	}
	if applied != len(migrations) {
		t.Fatalf("%d migrations applied by %d concurrent Opens, want %d", applied, n, len(migrations))
	}
	if v := versions(t, schema); len(v) != len(migrations) {
		t.Fatalf("schema_migrations = %v", v)
	}
}

// TestRestartKeepsEverything: Close and Open (a node restart) keep every record.
func TestRestartKeepsEverything(t *testing.T) {
	schema := freshSchema(t)
	ctx := t.Context()
	st := openStore(t, schema, Options{})
	s := mkStream(t, st, "s1", ssf.DeliveryPush, ssf.StatusEnabled)
	sub := &store.Subject{StreamID: "s1", Subject: []byte(`{"format":"opaque","id":"u1"}`), Included: true, Verified: true, UpdatedAt: at(1)}
	must(t, st.PutSubject(ctx, sub))
	must(t, st.Enqueue(ctx, []*store.OutboxSET{set("s1", "a"), set("s1", "b"), set("s1", "c")}))
	leased, err := st.Lease(ctx, store.LeaseRequest{Owner: "w", Limit: 1, Duration: time.Minute, Now: at(0)})
	must(t, err)
	must(t, st.DeadLetter(ctx, "s1", "c", "", "gone", at(2)))
	in := &store.InboxSET{Issuer: "https://tx", JTI: "i1", StreamID: "rs", AckStream: "p", SET: "x.y.z", ReceivedAt: at(3)}
	if _, err := st.InboxAdd(ctx, in); err != nil {
		t.Fatal(err)
	}
	must(t, st.AddPendingAcks(ctx, "p", []string{"k2", "k1"}))
	must(t, st.Close())

	st2 := openStore(t, schema, Options{})
	got, err := st2.GetStream(ctx, "s1")
	must(t, err)
	if got.Revision != 1 || got.Config.Delivery.AuthorizationHeader != s.Config.Delivery.AuthorizationHeader || !got.CreatedAt.Equal(s.CreatedAt) {
		t.Fatalf("stream after restart: %+v", got)
	}
	if _, err := st2.GetSubject(ctx, "s1", sub.Subject); err != nil {
		t.Fatalf("subject after restart: %v", err)
	}
	c, err := st2.CountOutbox(ctx, "s1", at(1))
	if err != nil || c != (store.OutboxCounts{Pending: 2, Leased: 1, Dead: 1}) {
		t.Fatalf("CountOutbox after restart = %+v, %v", c, err)
	}
	again, err := st2.Lease(ctx, store.LeaseRequest{Owner: "w2", Limit: 10, Duration: time.Minute, Now: at(60)})
	must(t, err)
	if len(again) != 2 || again[0].JTI != leased[0].JTI || again[0].Seq != leased[0].Seq {
		t.Fatalf("Lease after restart = %v", again)
	}
	// Seq continues after the restart: never reused.
	must(t, st2.Enqueue(ctx, []*store.OutboxSET{set("s1", "d")}))
	dl, err := st2.DeadLetters(ctx, "s1", 0)
	if err != nil || len(dl) != 1 || dl[0].DeadReason != "gone" {
		t.Fatalf("dead letters after restart = %v, %v", dl, err)
	}
	dup, err := st2.InboxAdd(ctx, in)
	if err != nil || dup == nil || dup.SET != "x.y.z" {
		t.Fatalf("inbox after restart = %+v, %v", dup, err)
	}
	acks, err := st2.PendingAcks(ctx, "p", 0)
	if err != nil || !slices.Equal(acks, []string{"k2", "k1"}) {
		t.Fatalf("pending acks after restart = %v, %v", acks, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestOverlappingBatchesAcrossNodes: two nodes enqueue batches with the same keys in
// opposite orders at the same time (a retried Enqueue meeting its first attempt). One
// batch is stored, the other fails with ErrExists (not a deadlock), and nothing of the
// failed one is written. The same for pending acknowledgements (no error at all).
func TestOverlappingBatchesAcrossNodes(t *testing.T) {
	schema := freshSchema(t)
	a, b := openStore(t, schema, Options{}), openStore(t, schema, Options{})
	mkStream(t, a, "s1", ssf.DeliveryPush, ssf.StatusEnabled)
	for round := range 20 {
		var fwd, rev []*store.OutboxSET
		var jtis, revJTIs []string
		for i := range 40 {
			j := fmt.Sprintf("r%d-%d", round, i)
			fwd = append(fwd, set("s1", j))
			jtis = append(jtis, j)
		}
		for i := len(fwd) - 1; i >= 0; i-- {
			rev = append(rev, set("s1", fwd[i].JTI))
			revJTIs = append(revJTIs, jtis[i])
		}
		var wg sync.WaitGroup
		var errA, errB, ackA, ackB error
		wg.Go(func() { errA = a.Enqueue(context.Background(), fwd) })
		wg.Go(func() { errB = b.Enqueue(context.Background(), rev) })
		wg.Go(func() { ackA = a.AddPendingAcks(context.Background(), "p", jtis) })
		wg.Go(func() { ackB = b.AddPendingAcks(context.Background(), "p", revJTIs) })
		wg.Wait()
		if ackA != nil || ackB != nil {
			t.Fatalf("round %d: concurrent AddPendingAcks: %v, %v", round, ackA, ackB)
		}
		ok := 0
		for _, err := range []error{errA, errB} {
			switch {
			case err == nil:
				ok++
			case !errorsIs(err, store.ErrExists):
				t.Fatalf("round %d: overlapping Enqueue failed with %v, want ErrExists", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of two overlapping batches stored, want 1 (errors %v, %v)", round, ok, errA, errB)
		}
	}
	c, err := a.CountOutbox(t.Context(), "s1", at(0))
	if err != nil || c.Pending != 20*40 {
		t.Fatalf("CountOutbox = %+v, %v; want %d pending", c, err, 20*40)
	}
	acks, err := b.PendingAcks(t.Context(), "p", 0)
	if err != nil || len(acks) != 20*40 {
		t.Fatalf("PendingAcks = %d, %v", len(acks), err)
	}
}
