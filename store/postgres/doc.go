// Package postgres is the store.Store for several transmitter nodes sharing one
// PostgreSQL database (github.com/jackc/pgx/v5, pgxpool). It keeps the transmitter's
// streams (SSF §8.1.1), their status (SSF §8.1.2, SSF-STATUS-3: paused and disabled
// streams deliver only Control SETs, disabled streams hold nothing), subjects (SSF
// §8.1.3) and outbox of signed SETs for RFC 8935 push and RFC 8936 poll delivery, and
// the receiver's inbox ((iss, jti) de-duplication, SEC-7, PUSH-8, POLL-8) with its
// pending poll acknowledgements (POLL-7). It passes storetest.Run under the race
// detector.
//
// # Durability and transactions
//
// Every write is one transaction that has committed when the call returns nil; with the
// server's defaults (fsync on, synchronous_commit on) a committed write survives a crash
// of the node and of the server. What the contract calls one transaction is one: an
// Enqueue batch (one statement, pipelined with its notification as one implicit
// transaction), UpdateStream with its PurgeOutbox and Enqueue (an explicit transaction
// that locks the stream row), DeleteStream with its subjects and outbox (foreign keys ON
// DELETE CASCADE), InboxDone and InboxDead with the pending acknowledgement (one
// statement). Revision conflicts are decided by "WHERE revision = $n" under the row
// lock, so of concurrent updates from one revision exactly one wins, on any node.
//
// # Several nodes
//
// Any number of Store values, in one process or many, may share one schema; each is a
// node. Lease takes its SETs with one statement that selects the deliverable rows in Seq
// order FOR UPDATE SKIP LOCKED and sets their lease: rows another node is leasing at
// that moment are skipped rather than waited for, and a row whose lease another node
// committed meanwhile is re-checked and dropped. So a SET is never handed to two owners
// while its lease holds, each SET is pushed by one node at a time, and the SETs of a node
// that died mid-delivery are leased again by the others once their leases expire (its
// late Retry or DeadLetter then fails with ErrLeaseLost). InboxLease works the same way;
// concurrent InboxAdd of one (iss, jti) stores it once and returns the stored record to
// the others.
//
// Seq comes from a sequence: it increases in the order the SETs of one call were given
// and from one call to the next on one node, and is never reused. Between concurrent
// transactions Seq order and commit order may differ, so a Lease can see a SET before
// another with a lower Seq that commits a moment later; Lease returns what it leased in
// Seq order.
//
// # Wake-ups: LISTEN/NOTIFY
//
// Every write that makes SETs deliverable (Enqueue, Replay, UpdateStream with Enqueue or
// with a status that became enabled) runs pg_notify(channel, stream_id) inside its
// transaction, so the notification is delivered when, and only if, it commits. The
// channel is Options.NotifyChannel (default "sigshare." + schema); the payload is the
// stream ID (empty, meaning every stream, for an ID of 8000 bytes or more, which
// PostgreSQL cannot carry). Each Store keeps one dedicated connection that LISTENs on the
// channel and fans notifications out to its Subscribe channels: a notification for a
// stream signals that stream's subscribers and the all-stream subscribers, coalesced. So
// a long poll waiting on one node returns when another node accepts an event for its
// stream, and a push engine on any node wakes without polling the table.
//
// A node signals its own subscribers directly after its own commits, before the write
// returns, without waiting for the round trip through the server; the listener ignores
// the echo (notifications sent by the backend process of one of the Store's own pooled
// connections). When the listening connection fails, the listener reconnects (backing
// off from 50ms to 5s), LISTENs again and then signals every subscription once, because
// notifications sent meanwhile are lost; every Options.ListenerKeepalive without a
// notification it pings the server, so a silently dead connection is noticed too.
// Notifications are a wake-up, not a queue: a waiting loop still bounds its wait (with
// NextDue, or the poll timeout).
//
// The listener needs a session of its own: through a connection pooler (PgBouncer) in
// transaction mode LISTEN does not work, and neither do the session advisory lock of the
// migrations and the per-connection prepared statements. Connect directly, or through a
// pooler in session mode.
//
// # Context cancellation and Close
//
// A call whose context has ended before it starts returns an error wrapping ctx.Err()
// and writes nothing. A write whose context ends while it runs returns an error wrapping
// ctx.Err() and may or may not have committed (pgx abandons the connection); callers
// treat that as "unknown outcome", as store.Store says: Enqueue again with the same jtis
// (ErrExists means the SETs are stored), re-read a stream after UpdateStream, let leases
// that may have been taken expire. Close refuses new calls (ErrClosed), waits for the
// calls in progress, stops the listener, closes the pool and signals every subscription
// once; later calls, a second Close included, fail with ErrClosed, and a subscription
// taken after Close starts signalled.
//
// # Schema and migrations
//
// The tables live in Options.Schema, which Open creates if needed and makes the
// search_path of every connection; empty, they live in the connection's current schema
// (the DSN's search_path, usually "public"), which must exist. One database can thus
// hold several deployments (or tests), each with its own schema and channel. The schema
// is versioned in its table schema_migrations. Open takes a session advisory lock named
// after the schema (pg_advisory_lock(hashtextextended('sigshare.schema-migrations:' ||
// schema, 0))), applies the missing migrations in order, each in its own transaction with
// its version row, and releases the lock: nodes starting together migrate once, the
// others wait and find nothing to do; re-opening a current schema changes nothing. A
// schema whose version is newer than this build knows is refused with ErrSchemaTooNew.
// The role needs CREATE on the database (to create the schema) or on the schema.
//
// Indexes serve Lease (live SETs in Seq order, across streams and per stream), NextDue
// (an expression index on greatest(next_attempt_at, lease_until)), DeadLetters,
// ListSubjects, ListStreams, the inbox lease and purge, and pending acknowledgements.
//
// # Limits
//
//   - Times are timestamptz: microseconds (finer parts are truncated), years 1 to 9999
//     (ErrTimeRange outside; a lease end beyond is clamped). The zero time is stored as
//     -infinity and comes back as the zero time; other times come back in UTC.
//   - PostgreSQL text holds neither NUL bytes nor invalid UTF-8: a write with such a key
//     or value fails with ErrInvalidText (naming the field, never echoing the value), a
//     lookup by such a key finds nothing. Stream configurations are JSON text, so their
//     strings may hold NUL (escaped) but must be valid UTF-8.
//   - Throughput is bound by the commit's WAL flush; concurrent writers share flushes.
//   - A node recognises the echo of its own notifications by the sending backend's
//     process id. Should one of its pooled connections die and, before the pool notices,
//     its process id be given to another node's connection, that node's notifications
//     would be ignored for that short while (waiting loops still wake on their timers).
//   - Nothing is purged automatically: the receiver calls PurgeInbox; PostgreSQL's
//     autovacuum reclaims the space of deleted and updated rows.
//   - Stream configurations, including push authorization headers, are stored in plain
//     text: restrict access to the schema and its backups.
//
// # Tests
//
// The tests need a database: they read its DSN from SIGSHARE_TEST_POSTGRES and skip
// without it. The role must be allowed to create schemas there; each test creates a
// schema with a random name and drops it at the end, so parallel packages and repeated
// runs never see each other's data:
//
//	export SIGSHARE_TEST_POSTGRES='postgres://sigshare:sigshare@127.0.0.1:5432/sigshare_test?sslmode=disable'
//	go test -race ./store/postgres
//	go test -run='^$' -bench=Store -benchtime=1s ./store/postgres   # beside SQLite
//
// .ci/run starts PostgreSQL and sets the variable. internal/multinode runs transmitter
// nodes (transmitter and transmitter/push) as separate processes on one schema: a node
// killed with SIGKILL mid-delivery loses no SET, and without failures every SET is
// delivered exactly once.
package postgres
