// Package sqlite is the default store.Store: one SQLite file (modernc.org/sqlite, pure
// Go) holding the transmitter's streams (SSF §8.1.1), their status (SSF §8.1.2,
// SSF-STATUS-3), subjects (SSF §8.1.3) and outbox of signed SETs for RFC 8935 push and
// RFC 8936 poll delivery, and the receiver's inbox ((iss, jti) de-duplication, SEC-7,
// PUSH-8, POLL-8) with its pending poll acknowledgements (POLL-7). It passes
// storetest.Run under the race detector.
//
// # Durability
//
// Open puts the database in WAL mode. All writes go through one writer goroutine that
// commits in batches (group commit): a write call queues its operation and waits; the
// writer takes every queued operation (up to Options.MaxBatch), runs them in one
// transaction, each inside its own SAVEPOINT so that a failing operation (ErrExists,
// ErrConflict, ...) rolls back only itself, commits once, and then answers every caller.
// A write that returns nil is committed. With the default SynchronousFull the commit is
// synced to stable storage, so it survives a crash of the process, of the operating
// system or of the power; SynchronousNormal survives a process crash only (see there).
// If the commit itself fails, every operation of the batch fails with that error and
// none of them is written.
//
// Throughput is bound by the sync: one caller gets one sync per write; n concurrent
// callers share syncs, about n/2 operations per batch (the callers answered by one
// commit queue their next writes while the following batch is being synced).
//
// Lease and InboxLease run in the writer, so they are serialized with every other write
// and never hand out a SET twice while its lease holds; the transactions are BEGIN
// IMMEDIATE, so this holds even against another process writing the same file.
//
// # Reads
//
// Reads (GetStream, ListStreams, subjects, NextDue, DeadLetters, CountOutbox,
// InboxDeadLetters, PendingAcks, Ping) use a separate pool of read-only connections
// (Options.MaxReaders) and run concurrently with the writer, each on a consistent
// snapshot. A read that starts after a write returned sees that write.
//
// # Context cancellation
//
// A caller whose context ends stops waiting and gets an error wrapping ctx.Err(). If the
// writer had not yet taken its operation, the operation is withdrawn and never runs (the
// error says "not written"); if it had, the operation may still commit ("the write may
// still commit"). A caller must treat a context error from a write as "unknown outcome",
// which at-least-once delivery tolerates:
//   - Enqueue: the SETs may be in the outbox. Enqueue them again with the same jtis; an
//     ErrExists then means they are there (a batch is all or nothing).
//   - UpdateStream: re-read the stream; a Revision one higher with the new content means
//     it was applied (and its change with it).
//   - Lease, InboxLease: leases that may have been taken are simply left to expire.
//   - InboxAdd: add again; a duplicate answer means it was stored.
//
// # Subscribe and Close
//
// Subscribe channels are signalled in-process after the commit that made SETs
// deliverable, never before, and before the write call returns. Writes by another
// process sharing the file are not signalled; callers poll NextDue as a fallback. Close
// refuses new calls (ErrClosed), lets the writer commit every operation already queued,
// stops it, closes the connections and signals every subscription once; later calls,
// a second Close included, fail with ErrClosed.
//
// # Schema
//
// The schema is versioned in the table schema_migrations. Open applies the migrations a
// database lacks, in order, each in its own transaction with its version row; opening a
// current database changes nothing. A database with a version newer than this build
// knows is refused with ErrSchemaTooNew (an old binary must not write a newer schema).
// Indexes serve Lease (live SETs in Seq order, per stream and across streams), NextDue
// (an expression index on the time a SET becomes deliverable), DeadLetters,
// ListSubjects, ListStreams, the inbox lease and purge, and pending acknowledgements.
//
// # Limits
//
//   - One file: several transmitter nodes sharing one database need store/postgres.
//     Another process may open the same file (writes are serialized by SQLite's lock,
//     waiting up to Options.BusyTimeout), but it gets no Subscribe signals.
//   - Times are stored as nanoseconds since 1970 in an int64: from 1677-09-21 to
//     2262-04-11. A time outside that range is rejected; a lease end beyond it is
//     clamped. Times come back in UTC.
//   - Lease over every stream scans live SETs in Seq order through a covering index; SETs
//     held by a paused stream are skipped one by one, so a very large paused backlog
//     slows the push engine's leases (not the poll endpoint's, which lease per stream).
//   - Nothing is purged automatically: the receiver calls PurgeInbox; the file does not
//     shrink without VACUUM (not run by this package).
//   - The file holds stream configurations, including push authorization headers, in
//     plain text. Open creates it with permission 0600; protect its backups likewise.
package sqlite
