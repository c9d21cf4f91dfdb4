// Package storetest is the conformance suite for store.Store backends: the rules of
// package store and, through them, SSF-STATUS-3 (paused and disabled streams deliver
// only Control SETs; disabled streams hold nothing), SSF-STREAM-13 (receiver activity
// only moves forward), PUSH-8, POLL-8 and SEC-7 (duplicates detected by (iss, jti)) and
// POLL-7 (acknowledgements recorded with the processing result).
//
// A backend is complete when Run passes against it, under the race detector:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			st, err := mybackend.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { st.Close() }) // may return ErrClosed: some subtests close it
//			return st
//		})
//	}
//
// Run calls newStore once per subtest; each must get a fresh, empty store. Subtests are
// grouped by area (Streams, Subjects, Outbox, Lease, Inbox, PendingAcks, Subscribe,
// Concurrency, Lifecycle) and named after the rule they check, so a failing name says
// which sentence of the contract a backend breaks (for example
// Outbox/Enqueue/ExistingKeyWritesNothing or Lease/PausedAndDisabledOnlyControl).
//
// What the suite assumes beyond the method documentation of package store (decisions on
// points the contract leaves open; the memory and sqlite backends implement them):
//   - Times are compared as instants (time.Time.Equal) and are microsecond-aligned; the
//     zero time must come back as the zero time. Times are always passed in: the suite
//     never sleeps, it passes a later time to let a lease expire.
//   - A lease holds while Now < LeaseUntil; a SET is deliverable from NextAttemptAt on.
//   - Lease and InboxLease reject an empty owner, a limit below 1 and a non-positive
//     duration; Retry with an empty owner is rejected too.
//   - UpdateStream applies PurgeOutbox before Enqueue, and keeps the later of the stored
//     and the given LastActivityAt (a TouchStream is never undone).
//   - Enqueue stores each SET as given apart from Seq; Seq is never reused.
//   - Ack returns the jtis it found in the order given, each once.
//   - NextDue returns now when a SET is deliverable already.
//   - Reads on a stream that does not exist (ListSubjects, DeadLetters, CountOutbox, Ack)
//     return nothing and no error.
//   - Retry, DeadLetter with an owner, InboxDone, InboxRetry and InboxDead by an owner
//     that does not hold the lease, or on a record no longer pending/leased, fail with
//     ErrLeaseLost; DeadLetter with no owner on a dead letter is a no-op.
//   - InboxAdd stores the record as given apart from State (so a receiver may add a SET
//     already leased to itself); InboxDead keeps the reason in LastError;
//     InboxDeadLetters and InboxLease order by ReceivedAt, then insertion; PendingAcks
//     returns jtis in the order they were first added.
//   - Subscribe: a write signals the subscribers of its streams (and those of every
//     stream) before it returns, so the suite can check that a subscriber was not
//     signalled without waiting. Close signals every subscription once, and a
//     subscription taken after Close starts signalled.
//   - Close makes every later call fail with ErrClosed, a second Close included.
//   - DeadLetter rejects a zero time (a dead letter is recognised by its DeadAt).
//
// Bench runs the standard benchmarks (Enqueue from 1 and 8 goroutines, Lease+Ack,
// InboxAdd+InboxDone) against a backend; BenchmarkStore in this package runs them for
// store/memory and store/sqlite side by side:
//
//	go test -run='^$' -bench=Store -benchtime=1s ./store/storetest
package storetest
