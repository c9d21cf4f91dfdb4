package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// signalWait bounds the wait for a signal that must come; a backend signals its own
// writes before they return, so this only matters for a broken backend.
const signalWait = 5 * time.Second

func wantSignal(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("%s: the subscription channel was closed", what)
		}
	case <-time.After(signalWait):
		t.Fatalf("%s: no signal", what)
	}
}

func wantNoSignal(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("%s: the subscription channel was closed", what)
		}
		t.Fatalf("%s: unexpected signal", what)
	default:
	}
}

// drain empties a subscription channel.
func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

func subscribeCases() []testCase {
	return []testCase{
		{"Enqueue/SignalsStreamAndAllStreamSubscribers", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pushStream(t, st, "s2")
			all, cancelAll := st.Subscribe("")
			defer cancelAll()
			s1, cancel1 := st.Subscribe("s1")
			defer cancel1()
			s2, cancel2 := st.Subscribe("s2")
			defer cancel2()
			mustEnqueue(t, st, outSET("s1", "a"))
			wantSignal(t, "all-stream subscriber after Enqueue(s1)", all)
			wantSignal(t, "s1 subscriber after Enqueue(s1)", s1)
			wantNoSignal(t, "s2 subscriber after Enqueue(s1)", s2)
		}},
		{"Coalesced", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			ch, cancel := st.Subscribe("s1")
			defer cancel()
			mustEnqueue(t, st, outSET("s1", "a"))
			mustEnqueue(t, st, outSET("s1", "b"))
			mustEnqueue(t, st, outSET("s1", "c"))
			wantSignal(t, "after three Enqueue calls", ch)
			wantNoSignal(t, "second receive (values are coalesced)", ch)
		}},
		{"Replay", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", "a", "", "x", at(0)))
			ch, cancel := st.Subscribe("s1")
			defer cancel()
			drain(ch)
			n, err := st.Replay(t.Context(), "s1", nil)
			if err != nil || n != 1 {
				t.Fatalf("Replay = %d, %v", n, err)
			}
			wantSignal(t, "after Replay", ch)
		}},
		{"UpdateStreamWithEnqueue", func(t *testing.T, st store.Store) {
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			pushStream(t, st, "s2")
			ch1, cancel1 := st.Subscribe("s1")
			defer cancel1()
			ch2, cancel2 := st.Subscribe("s2")
			defer cancel2()
			s := mustGet(t, st, "s1")
			s.Status = ssf.StatusPaused
			err := st.UpdateStream(t.Context(), s, store.StreamChange{Enqueue: []*store.OutboxSET{controlSET("s1", "paused"), outSET("s2", "x")}})
			wantNoErr(t, "UpdateStream", err)
			wantSignal(t, "s1 subscriber after UpdateStream enqueuing to s1", ch1)
			wantSignal(t, "s2 subscriber after UpdateStream enqueuing to s2", ch2)
		}},
		{"UpdateStreamBecameEnabled", func(t *testing.T, st store.Store) {
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusPaused))
			mustEnqueue(t, st, outSET("s1", "held"))
			ch, cancel := st.Subscribe("s1")
			defer cancel()
			drain(ch)
			setStatus(t, st, "s1", ssf.StatusEnabled)
			wantSignal(t, "after the status became enabled", ch)
		}},
		{"Cancel", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			ch, cancel := st.Subscribe("s1")
			all, cancelAll := st.Subscribe("")
			cancel()
			cancel() // idempotent
			cancelAll()
			mustEnqueue(t, st, outSET("s1", "a"))
			wantNoSignal(t, "cancelled s1 subscription", ch)
			wantNoSignal(t, "cancelled all-stream subscription", all)
			other, cancelOther := st.Subscribe("s1")
			defer cancelOther()
			mustEnqueue(t, st, outSET("s1", "b"))
			wantSignal(t, "a live subscription after others were cancelled", other)
		}},
		{"NotBeforeTheWrite", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			ch, cancel := st.Subscribe("")
			defer cancel()
			wantNoSignal(t, "fresh subscription", ch)
			err := st.Enqueue(t.Context(), []*store.OutboxSET{outSET("nope", "a")})
			wantErr(t, "Enqueue to an unknown stream", err, store.ErrNotFound)
			mustEnqueue(t, st, outSET("s1", "a"))
			wantSignal(t, "after a successful Enqueue", ch)
		}},
	}
}

// ---------------------------------------------------------------------------------------
// Concurrency

const workers = 16

// parallel runs f on n goroutines and waits; the first error fails the test.
func parallel(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// wantEachOnce fails unless got holds every key of want exactly once.
func wantEachOnce(t *testing.T, what string, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, k := range got {
		seen[k]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("%s: %s returned %d times", what, k, n)
		}
	}
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	got = slices.Compact(got)
	if !slices.Equal(got, want) {
		t.Fatalf("%s: %d distinct keys, want %d", what, len(got), len(want))
	}
}

// leaseRace lets workers goroutines lease (Limit 3, one hour) at now until the outbox
// has nothing deliverable, and returns every key leased; ack also acknowledges them.
func leaseRace(t *testing.T, st store.Store, now time.Time, ack bool) []string {
	t.Helper()
	var mu sync.Mutex
	var all []string
	parallel(t, workers, func(i int) error {
		owner := fmt.Sprintf("worker-%d", i)
		for {
			got, err := st.Lease(context.Background(), store.LeaseRequest{Owner: owner, Limit: 3, Duration: time.Hour, Now: now})
			if err != nil {
				return fmt.Errorf("lease by %s: %w", owner, err)
			}
			if len(got) == 0 {
				return nil
			}
			for _, s := range got {
				if s.LeaseOwner != owner {
					return fmt.Errorf("lease by %s returned %s leased to %q", owner, key(s), s.LeaseOwner)
				}
			}
			if ack {
				byStream := map[string][]string{}
				for _, s := range got {
					byStream[s.StreamID] = append(byStream[s.StreamID], s.JTI)
				}
				for stream, jtis := range byStream {
					found, err := st.Ack(context.Background(), stream, jtis)
					if err != nil {
						return fmt.Errorf("ack by %s: %w", owner, err)
					}
					if len(found) != len(jtis) {
						return fmt.Errorf("ack by %s of its own leased SETs %v found only %v", owner, jtis, found)
					}
				}
			}
			mu.Lock()
			all = append(all, keys(got)...)
			mu.Unlock()
		}
	})
	return all
}

// fillOutbox enqueues per SETs on each of n streams, interleaved, and returns their keys.
func fillOutbox(t *testing.T, st store.Store, n, per int) []string {
	t.Helper()
	var want []string
	for s := range n {
		pushStream(t, st, fmt.Sprintf("s%d", s))
	}
	for i := range per {
		var batch []*store.OutboxSET
		for s := range n {
			set := outSET(fmt.Sprintf("s%d", s), fmt.Sprintf("j%d", i))
			batch = append(batch, set)
			want = append(want, key(set))
		}
		mustEnqueue(t, st, batch...)
	}
	return want
}

func concurrencyCases() []testCase {
	return []testCase{
		{"Lease/ExclusiveWhileLeaseHolds", func(t *testing.T, st store.Store) {
			want := fillOutbox(t, st, 4, 50)
			wantEachOnce(t, "concurrent Lease", leaseRace(t, st, at(0), false), want)
			// After the leases expired every SET is leased again, again exactly once.
			wantEachOnce(t, "concurrent Lease after expiry", leaseRace(t, st, at(3600), false), want)
		}},
		{"Lease/WithAck", func(t *testing.T, st store.Store) {
			want := fillOutbox(t, st, 4, 50)
			wantEachOnce(t, "concurrent Lease and Ack", leaseRace(t, st, at(0), true), want)
			for s := range 4 {
				wantEqual(t, "CountOutbox after all acknowledged", counts(t, st, fmt.Sprintf("s%d", s), at(0)), store.OutboxCounts{})
			}
		}},
		{"Lease/WhileEnqueueing", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			const producers, per = 4, 40
			var want []string
			for p := range producers {
				for i := range per {
					want = append(want, fmt.Sprintf("s1/p%d-%d", p, i))
				}
			}
			var mu sync.Mutex
			var got []string
			var produced sync.WaitGroup
			produced.Add(producers)
			done := make(chan struct{})
			go func() { produced.Wait(); close(done) }()
			parallel(t, producers+workers, func(i int) error {
				if i < producers {
					defer produced.Done()
					for j := range per {
						if err := st.Enqueue(context.Background(), []*store.OutboxSET{outSET("s1", fmt.Sprintf("p%d-%d", i, j))}); err != nil {
							return fmt.Errorf("enqueue: %w", err)
						}
					}
					return nil
				}
				owner := fmt.Sprintf("worker-%d", i)
				for {
					finished := false
					select {
					case <-done:
						finished = true
					default:
					}
					leased, err := st.Lease(context.Background(), store.LeaseRequest{Owner: owner, Limit: 2, Duration: time.Hour, Now: at(0)})
					if err != nil {
						return fmt.Errorf("lease: %w", err)
					}
					mu.Lock()
					got = append(got, keys(leased)...)
					mu.Unlock()
					if len(leased) == 0 && finished {
						return nil
					}
				}
			})
			wantEachOnce(t, "Lease while enqueueing", got, want)
		}},
		{"Enqueue/SeqUniqueAndIncreasing", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pushStream(t, st, "s2")
			seqs := make([][]int64, 8)
			parallel(t, 8, func(i int) error {
				for j := range 25 {
					s := outSET(fmt.Sprintf("s%d", 1+i%2), fmt.Sprintf("g%d-%d", i, j))
					if err := st.Enqueue(context.Background(), []*store.OutboxSET{s}); err != nil {
						return err
					}
					seqs[i] = append(seqs[i], s.Seq)
				}
				return nil
			})
			seen := map[int64]bool{}
			for i, ss := range seqs {
				if !slices.IsSorted(ss) {
					t.Fatalf("goroutine %d got Seqs %v, want increasing", i, ss)
				}
				for _, s := range ss {
					if seen[s] {
						t.Fatalf("Seq %d assigned twice", s)
					}
					seen[s] = true
				}
			}
			got := leaseAll(t, st, "w", at(0))
			if len(got) != 200 || !slices.IsSortedFunc(got, func(a, b *store.OutboxSET) int { return int(a.Seq - b.Seq) }) {
				t.Fatalf("Lease returned %d SETs, sorted by Seq: %v", len(got), slices.IsSortedFunc(got, func(a, b *store.OutboxSET) int { return int(a.Seq - b.Seq) }))
			}
		}},
		{"Enqueue/SameKeyOnce", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			var mu sync.Mutex
			ok, exists := 0, 0
			parallel(t, workers, func(int) error {
				err := st.Enqueue(context.Background(), []*store.OutboxSET{outSET("s1", "same")})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, store.ErrExists):
					exists++
				default:
					return err
				}
				return nil
			})
			if ok != 1 || exists != workers-1 {
				t.Fatalf("concurrent Enqueue of one key: %d succeeded, %d ErrExists; want 1 and %d", ok, exists, workers-1)
			}
		}},
		{"UpdateStream/OneWinsTheRevision", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			var mu sync.Mutex
			ok, conflict := 0, 0
			parallel(t, workers, func(i int) error {
				s, err := st.GetStream(context.Background(), "s1")
				if err != nil {
					return err
				}
				s.Revision = 1 // every writer read revision 1
				s.StatusReason = fmt.Sprintf("writer %d", i)
				err = st.UpdateStream(context.Background(), s, store.StreamChange{})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, store.ErrConflict):
					conflict++
				default:
					return err
				}
				return nil
			})
			if ok != 1 || conflict != workers-1 {
				t.Fatalf("concurrent UpdateStream from revision 1: %d succeeded, %d ErrConflict; want 1 and %d", ok, conflict, workers-1)
			}
			if r := mustGet(t, st, "s1").Revision; r != 2 {
				t.Fatalf("revision after one successful update = %d, want 2", r)
			}
		}},
		{"InboxLease/Exclusive", func(t *testing.T, st store.Store) {
			var want []string
			for i := range 200 {
				s := inSET(issuer, fmt.Sprintf("j%d", i), i%7)
				mustAdd(t, st, s)
				want = append(want, s.JTI)
			}
			var mu sync.Mutex
			var got []string
			parallel(t, workers, func(i int) error {
				owner := fmt.Sprintf("worker-%d", i)
				for {
					leased, err := st.InboxLease(context.Background(), owner, 3, time.Hour, at(10))
					if err != nil {
						return err
					}
					if len(leased) == 0 {
						return nil
					}
					mu.Lock()
					got = append(got, inJTIs(leased)...)
					mu.Unlock()
					for _, s := range leased {
						if err := st.InboxDone(context.Background(), s.Issuer, s.JTI, owner, at(11)); err != nil {
							return fmt.Errorf("inbox done by %s: %w", owner, err)
						}
					}
				}
			})
			wantEachOnce(t, "concurrent InboxLease", got, want)
		}},
		{"InboxAdd/OneWinsTheKey", func(t *testing.T, st store.Store) {
			var mu sync.Mutex
			added, dup := 0, 0
			parallel(t, workers, func(int) error {
				existing, err := st.InboxAdd(context.Background(), inSET(issuer, "same", 0))
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				if existing == nil {
					added++
				} else {
					dup++
				}
				return nil
			})
			if added != 1 || dup != workers-1 {
				t.Fatalf("concurrent InboxAdd of one key: %d added, %d duplicates; want 1 and %d", added, dup, workers-1)
			}
		}},
	}
}

// ---------------------------------------------------------------------------------------
// Lifecycle

func lifecycleCases() []testCase {
	return []testCase{
		{"Ping", func(t *testing.T, st store.Store) {
			wantNoErr(t, "Ping", st.Ping(t.Context()))
		}},
		{"CloseThenEveryCallIsErrClosed", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			mustAdd(t, st, inSET(issuer, "a", 0))
			wantNoErr(t, "Close", st.Close())
			ctx := t.Context()
			calls := map[string]func() error{
				"Ping":         func() error { return st.Ping(ctx) },
				"Close":        func() error { return st.Close() },
				"CreateStream": func() error { return st.CreateStream(ctx, newStream("s2", "c", ssf.DeliveryPush, ssf.StatusEnabled)) },
				"GetStream":    func() error { _, err := st.GetStream(ctx, "s1"); return err },
				"ListStreams":  func() error { _, err := st.ListStreams(ctx, store.StreamFilter{}); return err },
				"UpdateStream": func() error {
					s := newStream("s1", "c", ssf.DeliveryPush, ssf.StatusEnabled)
					s.Revision = 1
					return st.UpdateStream(ctx, s, store.StreamChange{})
				},
				"DeleteStream": func() error { return st.DeleteStream(ctx, "s1") },
				"TouchStream":  func() error { return st.TouchStream(ctx, "s1", at(9)) },
				"PutSubject":   func() error { return st.PutSubject(ctx, subj("s1", `{"format":"opaque","id":"x"}`, true, 0)) },
				"GetSubject":   func() error { _, err := st.GetSubject(ctx, "s1", []byte(`{}`)); return err },
				"ListSubjects": func() error { _, err := st.ListSubjects(ctx, "s1"); return err },
				"Enqueue":      func() error { return st.Enqueue(ctx, []*store.OutboxSET{outSET("s1", "b")}) },
				"Lease": func() error {
					_, err := st.Lease(ctx, store.LeaseRequest{Owner: "w", Limit: 1, Duration: time.Minute, Now: at(0)})
					return err
				},
				"NextDue":           func() error { _, _, err := st.NextDue(ctx, "", at(0)); return err },
				"Ack":               func() error { _, err := st.Ack(ctx, "s1", []string{"a"}); return err },
				"Retry":             func() error { return st.Retry(ctx, "s1", "a", "w", at(1), "x") },
				"Renew":             func() error { _, err := st.Renew(ctx, "s1", []string{"a"}, "w", at(1)); return err },
				"Release":           func() error { _, err := st.Release(ctx, "s1", []string{"a"}, "w"); return err },
				"ReleaseOwner":      func() error { _, err := st.ReleaseOwner(ctx, "w"); return err },
				"StreamsVersion":    func() error { _, err := st.StreamsVersion(ctx); return err },
				"DeadLetter":        func() error { return st.DeadLetter(ctx, "s1", "a", "", "x", at(1)) },
				"DeadLetters":       func() error { _, err := st.DeadLetters(ctx, "s1", 0); return err },
				"Replay":            func() error { _, err := st.Replay(ctx, "s1", nil); return err },
				"CountOutbox":       func() error { _, err := st.CountOutbox(ctx, "s1", at(0)); return err },
				"InboxAdd":          func() error { _, err := st.InboxAdd(ctx, inSET(issuer, "b", 0)); return err },
				"InboxLease":        func() error { _, err := st.InboxLease(ctx, "w", 1, time.Minute, at(0)); return err },
				"InboxDone":         func() error { return st.InboxDone(ctx, issuer, "a", "", at(1)) },
				"InboxRetry":        func() error { return st.InboxRetry(ctx, issuer, "a", "", at(1), "x") },
				"InboxDead":         func() error { return st.InboxDead(ctx, issuer, "a", "", "x", at(1)) },
				"InboxDeadLetters":  func() error { _, err := st.InboxDeadLetters(ctx, 0); return err },
				"InboxReplay":       func() error { _, err := st.InboxReplay(ctx, nil); return err },
				"PurgeInbox":        func() error { _, err := st.PurgeInbox(ctx, at(100)); return err },
				"AddPendingAcks":    func() error { return st.AddPendingAcks(ctx, "p", []string{"a"}) },
				"PendingAcks":       func() error { _, err := st.PendingAcks(ctx, "p", 0); return err },
				"RemovePendingAcks": func() error { return st.RemovePendingAcks(ctx, "p", []string{"a"}) },
			}
			for _, name := range slices.Sorted(maps.Keys(calls)) {
				wantErr(t, name+" after Close", calls[name](), store.ErrClosed)
			}
		}},
		{"CloseSignalsSubscribers", func(t *testing.T, st store.Store) {
			ch, cancel := st.Subscribe("s1")
			defer cancel()
			wantNoErr(t, "Close", st.Close())
			wantSignal(t, "subscription when the store closed", ch)
			late, cancelLate := st.Subscribe("")
			defer cancelLate()
			wantSignal(t, "subscription taken after Close", late)
		}},
		{"CanceledContext", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			wantErr(t, "CreateStream with a cancelled context",
				st.CreateStream(ctx, newStream("s2", "c", ssf.DeliveryPush, ssf.StatusEnabled)), context.Canceled)
			wantErr(t, "Enqueue with a cancelled context", st.Enqueue(ctx, []*store.OutboxSET{outSET("s1", "a")}), context.Canceled)
			_, err := st.InboxAdd(ctx, inSET(issuer, "a", 0))
			wantErr(t, "InboxAdd with a cancelled context", err, context.Canceled)
			_, err = st.GetStream(ctx, "s1")
			wantErr(t, "GetStream with a cancelled context", err, context.Canceled)
			_, err = st.Lease(ctx, store.LeaseRequest{Owner: "w", Limit: 1, Duration: time.Minute, Now: at(0)})
			wantErr(t, "Lease with a cancelled context", err, context.Canceled)

			// Nothing was written.
			_, err = st.GetStream(t.Context(), "s2")
			wantErr(t, "GetStream(s2)", err, store.ErrNotFound)
			wantEqual(t, "CountOutbox(s1)", counts(t, st, "s1", at(0)), store.OutboxCounts{})
			mustAdd(t, st, inSET(issuer, "a", 0))
		}},
	}
}
