package storetest

import (
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

func outboxCases() []testCase {
	return []testCase{
		{"Enqueue/AssignsIncreasingSeqAcrossStreams", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pollStream(t, st, "s2")
			batch := []*store.OutboxSET{outSET("s2", "a"), outSET("s1", "b"), outSET("s2", "c")}
			mustEnqueue(t, st, batch...)
			next := outSET("s1", "d")
			mustEnqueue(t, st, next)
			prev := int64(0)
			for _, s := range append(batch, next) {
				if s.Seq <= prev {
					t.Fatalf("Seq of %s = %d, want > %d (increasing in acceptance order)", key(s), s.Seq, prev)
				}
				prev = s.Seq
			}
			got := leaseAll(t, st, "w", at(0))
			wantKeys(t, "Lease order", got, "s2/a", "s1/b", "s2/c", "s1/d")
			for i, s := range got {
				if want := append(batch, next)[i].Seq; s.Seq != want {
					t.Errorf("leased %s has Seq %d, Enqueue assigned %d", key(s), s.Seq, want)
				}
			}
		}},
		{"Enqueue/SeqNeverReused", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			a, b := outSET("s1", "a"), outSET("s1", "b")
			mustEnqueue(t, st, a, b)
			if _, err := st.Ack(t.Context(), "s1", []string{"b", "a"}); err != nil {
				t.Fatalf("Ack: %v", err)
			}
			c := outSET("s1", "c")
			mustEnqueue(t, st, c)
			if c.Seq <= b.Seq {
				t.Fatalf("Seq after acknowledging the newest SET = %d, want > %d", c.Seq, b.Seq)
			}
		}},
		{"Enqueue/EveryFieldRoundTrips", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			s := controlSET("s1", "j1")
			s.CreatedAt = at(-30)
			s.Attempts = 2
			s.LastError = "HTTP 503"
			s.NextAttemptAt = at(5)
			mustEnqueue(t, st, s)
			want := *s
			want.LeaseOwner, want.LeaseUntil = "w", at(65)
			got := lease(t, st, store.LeaseRequest{Owner: "w", Limit: 1, Duration: time.Minute, Now: at(5)})
			wantEqual(t, "leased SET", got, []*store.OutboxSET{&want})
		}},
		{"Enqueue/ExistingKeyWritesNothing", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "dup"))
			err := st.Enqueue(t.Context(), []*store.OutboxSET{outSET("s1", "new1"), outSET("s1", "dup"), outSET("s1", "new2")})
			wantErr(t, "Enqueue with an existing jti", err, store.ErrExists)
			wantKeys(t, "outbox after the failed batch", leaseAll(t, st, "w", at(0)), "s1/dup")
		}},
		{"Enqueue/DuplicateInBatchWritesNothing", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			err := st.Enqueue(t.Context(), []*store.OutboxSET{outSET("s1", "x"), outSET("s1", "y"), outSET("s1", "x")})
			wantErr(t, "Enqueue with a jti twice in the batch", err, store.ErrExists)
			wantKeys(t, "outbox after the failed batch", leaseAll(t, st, "w", at(0)))
		}},
		{"Enqueue/DeadLetterKeyIsErrExists", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "d"))
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", "d", "", "bad", at(1)))
			wantErr(t, "Enqueue of a dead letter's jti", st.Enqueue(t.Context(), []*store.OutboxSET{outSET("s1", "d")}), store.ErrExists)
		}},
		{"Enqueue/SameJTIOnOtherStream", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pushStream(t, st, "s2")
			mustEnqueue(t, st, outSET("s1", "j"), outSET("s2", "j"))
			wantKeys(t, "Lease", leaseAll(t, st, "w", at(0)), "s1/j", "s2/j")
		}},
		{"Enqueue/UnknownStreamWritesNothing", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			err := st.Enqueue(t.Context(), []*store.OutboxSET{outSET("s1", "ok"), outSET("nope", "x")})
			wantErr(t, "Enqueue to an unknown stream", err, store.ErrNotFound)
			wantKeys(t, "outbox after the failed batch", leaseAll(t, st, "w", at(0)))
		}},
		{"Enqueue/EmptyBatch", func(t *testing.T, st store.Store) {
			wantNoErr(t, "Enqueue(nil)", st.Enqueue(t.Context(), nil))
		}},
		{"Enqueue/CopiesOnTheWayInAndOut", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			s := outSET("s1", "a")
			mustEnqueue(t, st, s)
			s.JTI, s.SET, s.Control = "mutated", "mutated", true
			got := leaseAll(t, st, "w", at(0))
			wantKeys(t, "Lease", got, "s1/a")
			if got[0].SET != outSET("s1", "a").SET || got[0].Control {
				t.Fatalf("stored SET changed through the caller's record: %+v", got[0])
			}
			got[0].LeaseOwner = "mutated"
			got[0].Attempts = 99
			wantErr(t, "Retry by the mutated owner", st.Retry(t.Context(), "s1", "a", "mutated", at(1), "x"), store.ErrLeaseLost)
			wantNoErr(t, "Retry by the real owner", st.Retry(t.Context(), "s1", "a", "w", at(1), "x"))
			if got := leaseAll(t, st, "w", at(1)); got[0].Attempts != 1 {
				t.Fatalf("Attempts = %d after one Retry, want 1", got[0].Attempts)
			}
		}},
		{"NextDue/NoneWhenEmpty", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			wantNextDue(t, st, "", at(0), time.Time{}, false)
		}},
		{"NextDue/NowWhenDeliverable", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			wantNextDue(t, st, "", at(7), at(7), true)
			wantNextDue(t, st, ssf.DeliveryPush, at(7), at(7), true)
		}},
		{"NextDue/EarliestNextAttemptAt", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			a, b := outSET("s1", "a"), outSET("s1", "b")
			a.NextAttemptAt, b.NextAttemptAt = at(30), at(20)
			mustEnqueue(t, st, a, b)
			wantNextDue(t, st, "", at(0), at(20), true)
		}},
		{"NextDue/LeaseExpiry", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			lease(t, st, store.LeaseRequest{Owner: "w", Limit: 1, Duration: 40 * time.Second, Now: at(0)})
			wantNextDue(t, st, "", at(1), at(40), true)
			wantNextDue(t, st, "", at(50), at(50), true) // expired lease: deliverable now
		}},
		{"NextDue/RetryTime", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			leaseAll(t, st, "w", at(0))
			wantNoErr(t, "Retry", st.Retry(t.Context(), "s1", "a", "w", at(90), "503"))
			wantNextDue(t, st, "", at(1), at(90), true)
		}},
		{"NextDue/MethodFilter", func(t *testing.T, st store.Store) {
			pushStream(t, st, "push")
			pollStream(t, st, "poll")
			a, b := outSET("push", "a"), outSET("poll", "b")
			a.NextAttemptAt, b.NextAttemptAt = at(10), at(5)
			mustEnqueue(t, st, a, b)
			wantNextDue(t, st, ssf.DeliveryPush, at(0), at(10), true)
			wantNextDue(t, st, ssf.DeliveryPoll, at(0), at(5), true)
			wantNextDue(t, st, "", at(0), at(5), true)
		}},
		{"NextDue/SkipsPausedUnlessControlAndDead", func(t *testing.T, st store.Store) {
			s := newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusPaused)
			mustCreate(t, st, s)
			pushStream(t, st, "s2")
			mustEnqueue(t, st, outSET("s1", "held"), outSET("s2", "dead"))
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s2", "dead", "", "x", at(0)))
			wantNextDue(t, st, "", at(0), time.Time{}, false)
			c := controlSET("s1", "control")
			c.NextAttemptAt = at(15)
			mustEnqueue(t, st, c)
			wantNextDue(t, st, "", at(0), at(15), true)
		}},
		{"Ack/DeletesFoundJTIsOfThatStreamOnly", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pushStream(t, st, "s2")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s1", "b"), outSET("s1", "c"), outSET("s2", "a"))
			found, err := st.Ack(t.Context(), "s1", []string{"c", "unknown", "a", "c"})
			wantNoErr(t, "Ack", err)
			wantEqual(t, "Ack found (in the order given, once each)", found, []string{"c", "a"})
			wantKeys(t, "outbox after Ack", leaseAll(t, st, "w", at(0)), "s1/b", "s2/a")
		}},
		{"Ack/WhoeverHoldsTheLease", func(t *testing.T, st store.Store) {
			pollStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			lease(t, st, store.LeaseRequest{Owner: "poller", StreamID: "s1", Limit: 1, Duration: time.Hour, Now: at(0)})
			found, err := st.Ack(t.Context(), "s1", []string{"a"})
			wantNoErr(t, "Ack of a leased SET", err)
			wantEqual(t, "Ack found", found, []string{"a"})
			wantEqual(t, "CountOutbox", counts(t, st, "s1", at(1)), store.OutboxCounts{})
			wantErr(t, "Retry after Ack", st.Retry(t.Context(), "s1", "a", "poller", at(1), "x"), store.ErrNotFound)
		}},
		{"Ack/LeavesDeadLetters", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "d"))
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", "d", "", "x", at(0)))
			found, err := st.Ack(t.Context(), "s1", []string{"d"})
			wantNoErr(t, "Ack", err)
			if len(found) != 0 {
				t.Fatalf("Ack of a dead letter found %v, want none", found)
			}
			wantEqual(t, "dead letters after Ack", jtisOf(deadLetters(t, st, "s1")), []string{"d"})
		}},
		{"Ack/UnknownStream", func(t *testing.T, st store.Store) {
			found, err := st.Ack(t.Context(), "nope", []string{"a"})
			wantNoErr(t, "Ack(nope)", err)
			if len(found) != 0 {
				t.Fatalf("Ack(nope) found %v", found)
			}
		}},
		{"Retry/RecordsAttemptAndReleasesLease", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			leaseAll(t, st, "w", at(0))
			wantNoErr(t, "Retry", st.Retry(t.Context(), "s1", "a", "w", at(30), "HTTP 503"))
			wantEqual(t, "CountOutbox after Retry", counts(t, st, "s1", at(1)), store.OutboxCounts{Pending: 1})
			wantKeys(t, "Lease before NextAttemptAt", leaseAll(t, st, "w2", at(29)))
			got := leaseAll(t, st, "w2", at(30))
			want := outSET("s1", "a")
			want.Seq = got[0].Seq
			want.Attempts, want.LastError, want.NextAttemptAt = 1, "HTTP 503", at(30)
			want.LeaseOwner, want.LeaseUntil = "w2", at(90)
			wantEqual(t, "SET after Retry", got, []*store.OutboxSET{want})
			wantNoErr(t, "second Retry", st.Retry(t.Context(), "s1", "a", "w2", at(60), "timeout"))
			if got := leaseAll(t, st, "w3", at(60)); got[0].Attempts != 2 || got[0].LastError != "timeout" {
				t.Fatalf("after two Retry: Attempts %d LastError %q", got[0].Attempts, got[0].LastError)
			}
		}},
		{"Retry/OtherOwnerIsErrLeaseLost", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			leaseAll(t, st, "w", at(0))
			wantErr(t, "Retry by another owner", st.Retry(t.Context(), "s1", "a", "other", at(30), "x"), store.ErrLeaseLost)
			wantEqual(t, "CountOutbox (lease still held)", counts(t, st, "s1", at(1)), store.OutboxCounts{Pending: 1, Leased: 1})
		}},
		{"Retry/NotLeasedIsErrLeaseLost", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			wantErr(t, "Retry of a free SET", st.Retry(t.Context(), "s1", "a", "w", at(30), "x"), store.ErrLeaseLost)
			leaseAll(t, st, "w", at(0))
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", "a", "w", "bad", at(1)))
			wantErr(t, "Retry of a dead letter", st.Retry(t.Context(), "s1", "a", "w", at(30), "x"), store.ErrLeaseLost)
		}},
		{"Retry/UnknownIsErrNotFound", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			wantErr(t, "Retry of an unknown SET", st.Retry(t.Context(), "s1", "nope", "w", at(30), "x"), store.ErrNotFound)
		}},
		{"Retry/ExpiredButNotTakenOver", func(t *testing.T, st store.Store) {
			// The owner still holds a lease that expired while nobody else took the SET.
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			leaseAll(t, st, "w", at(0))
			wantNoErr(t, "Retry after expiry without takeover", st.Retry(t.Context(), "s1", "a", "w", at(300), "slow"))
		}},
		{"DeadLetter/ByOwner", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s1", "b"))
			leaseAll(t, st, "w", at(0))
			wantNoErr(t, "Retry", st.Retry(t.Context(), "s1", "a", "w", at(1), "HTTP 400"))
			got := lease(t, st, store.LeaseRequest{Owner: "w", Limit: 1, Duration: time.Minute, Now: at(1)})
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", "a", "w", "invalid_request", at(2)))
			want := *got[0]
			want.LeaseOwner, want.LeaseUntil = "", time.Time{}
			want.DeadAt, want.DeadReason = at(2), "invalid_request"
			want.Attempts++ // the owner's failed attempt that made it give up
			wantEqual(t, "DeadLetters", deadLetters(t, st, "s1"), []*store.OutboxSET{&want})
			wantEqual(t, "CountOutbox", counts(t, st, "s1", at(3)), store.OutboxCounts{Pending: 1, Leased: 1, Dead: 1})
			wantKeys(t, "Lease after expiry skips the dead letter", leaseAll(t, st, "w2", at(1000)), "s1/b")
		}},
		{"DeadLetter/OtherOwnerIsErrLeaseLost", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			wantErr(t, "DeadLetter of a free SET by an owner", st.DeadLetter(t.Context(), "s1", "a", "w", "x", at(1)), store.ErrLeaseLost)
			leaseAll(t, st, "w", at(0))
			wantErr(t, "DeadLetter by another owner", st.DeadLetter(t.Context(), "s1", "a", "other", "x", at(1)), store.ErrLeaseLost)
			wantEqual(t, "dead letters", len(deadLetters(t, st, "s1")), 0)
		}},
		{"DeadLetter/NoOwnerParksWhoeverHoldsIt", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s1", "b"))
			lease(t, st, store.LeaseRequest{Owner: "w", Limit: 1, Duration: time.Hour, Now: at(0)})
			wantNoErr(t, "DeadLetter(leased, no owner)", st.DeadLetter(t.Context(), "s1", "a", "", "operator", at(1)))
			wantNoErr(t, "DeadLetter(free, no owner)", st.DeadLetter(t.Context(), "s1", "b", "", "operator", at(1)))
			wantErr(t, "Retry by the former holder", st.Retry(t.Context(), "s1", "a", "w", at(2), "x"), store.ErrLeaseLost)
			wantEqual(t, "dead letters", jtisOf(deadLetters(t, st, "s1")), []string{"a", "b"})
			wantNoErr(t, "DeadLetter of a dead letter (no owner)", st.DeadLetter(t.Context(), "s1", "a", "", "again", at(5)))
			wantErr(t, "DeadLetter of a dead letter by an owner", st.DeadLetter(t.Context(), "s1", "a", "w", "again", at(5)), store.ErrLeaseLost)
			wantEqual(t, "CountOutbox", counts(t, st, "s1", at(2)), store.OutboxCounts{Dead: 2})
		}},
		{"DeadLetter/UnknownIsErrNotFound", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			wantErr(t, "DeadLetter(nope)", st.DeadLetter(t.Context(), "s1", "nope", "", "x", at(0)), store.ErrNotFound)
		}},
		{"DeadLetters/SeqOrderLimitAndStream", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pushStream(t, st, "s2")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s2", "a"), outSET("s1", "b"), outSET("s1", "c"), outSET("s1", "live"))
			for _, k := range [][2]string{{"s1", "c"}, {"s1", "a"}, {"s2", "a"}, {"s1", "b"}} {
				wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), k[0], k[1], "", "x", at(1)))
			}
			wantEqual(t, "DeadLetters(s1)", jtisOf(deadLetters(t, st, "s1")), []string{"a", "b", "c"})
			got, err := st.DeadLetters(t.Context(), "s1", 2)
			wantNoErr(t, "DeadLetters(s1, 2)", err)
			wantEqual(t, "DeadLetters(s1, 2)", jtisOf(got), []string{"a", "b"})
			wantEqual(t, "DeadLetters(nope)", len(deadLetters(t, st, "nope")), 0)
		}},
		{"Replay/AllDeadLettersOfTheStream", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pushStream(t, st, "s2")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s1", "b"), outSET("s2", "x"), outSET("s1", "c"))
			leaseAll(t, st, "w", at(0))
			wantNoErr(t, "Retry", st.Retry(t.Context(), "s1", "a", "w", at(50), "HTTP 500"))
			for _, k := range [][2]string{{"s1", "a"}, {"s1", "c"}, {"s2", "x"}} {
				wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), k[0], k[1], "", "gave up", at(1)))
			}
			n, err := st.Replay(t.Context(), "s1", nil)
			wantNoErr(t, "Replay(s1)", err)
			wantEqual(t, "Replay(s1) count", n, 2)
			wantEqual(t, "dead letters of s1 after Replay", len(deadLetters(t, st, "s1")), 0)
			wantEqual(t, "dead letters of s2 after Replay(s1)", jtisOf(deadLetters(t, st, "s2")), []string{"x"})
			got := leaseAll(t, st, "w2", at(100)) // b's lease from w expired
			wantKeys(t, "Lease after Replay (original Seq order)", got, "s1/a", "s1/b", "s1/c")
			a := got[0]
			if a.Attempts != 0 || !a.NextAttemptAt.IsZero() || !a.DeadAt.IsZero() || a.DeadReason != "" {
				t.Fatalf("replayed SET not reset: Attempts %d NextAttemptAt %v DeadAt %v DeadReason %q", a.Attempts, a.NextAttemptAt, a.DeadAt, a.DeadReason)
			}
		}},
		{"Replay/SelectedJTIs", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s1", "b"), outSET("s1", "live"))
			for _, j := range []string{"a", "b"} {
				wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", j, "", "x", at(1)))
			}
			n, err := st.Replay(t.Context(), "s1", []string{"b", "live", "unknown"})
			wantNoErr(t, "Replay", err)
			wantEqual(t, "Replay count (only dead letters count)", n, 1)
			wantEqual(t, "remaining dead letters", jtisOf(deadLetters(t, st, "s1")), []string{"a"})
			wantKeys(t, "Lease", leaseAll(t, st, "w", at(2)), "s1/b", "s1/live")
		}},
		{"Replay/NothingToReplay", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			n, err := st.Replay(t.Context(), "s1", nil)
			wantNoErr(t, "Replay", err)
			wantEqual(t, "Replay count", n, 0)
		}},
		{"CountOutbox/PendingLeasedDead", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pushStream(t, st, "s2")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s1", "b"), outSET("s1", "c"), outSET("s1", "d"), outSET("s2", "e"))
			lease(t, st, store.LeaseRequest{Owner: "w", StreamID: "s1", Limit: 1, Duration: 10 * time.Second, Now: at(0)})
			lease(t, st, store.LeaseRequest{Owner: "w", StreamID: "s1", Limit: 1, Duration: 100 * time.Second, Now: at(0)})
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", "d", "", "x", at(0)))
			wantEqual(t, "CountOutbox at 5s", counts(t, st, "s1", at(5)), store.OutboxCounts{Pending: 3, Leased: 2, Dead: 1})
			wantEqual(t, "CountOutbox at 10s (first lease expired)", counts(t, st, "s1", at(10)), store.OutboxCounts{Pending: 3, Leased: 1, Dead: 1})
			wantEqual(t, "CountOutbox(nope)", counts(t, st, "nope", at(5)), store.OutboxCounts{})
		}},
	}
}

func wantNextDue(t *testing.T, st store.Store, method string, now, want time.Time, wantOK bool) {
	t.Helper()
	got, ok, err := st.NextDue(t.Context(), method, now)
	wantNoErr(t, "NextDue", err)
	if ok != wantOK || (ok && !got.Equal(want)) {
		t.Fatalf("NextDue(%q, %v) = %v, %v; want %v, %v", method, now, got, ok, want, wantOK)
	}
}
