// Package memory is an in-memory store.Store for tests and demos.
//
// It keeps the whole contract of package store (streams SSF §8.1.1 with their status
// SSF §8.1.2, subjects SSF §8.1.3, the outbox of signed SETs for RFC 8935 push and
// RFC 8936 poll delivery, the receiver inbox with its (iss, jti) de-duplication, SEC-7)
// and passes storetest.Run, under the race detector, with one exception: nothing is
// durable. The data lives in the process and is gone when it exits or when Close is
// called; "durable when it returns nil" holds only for the life of the Store.
//
// Guarantees:
//   - Every method is safe for concurrent use; one mutex serializes them, so each call
//     is atomic (Enqueue batches and UpdateStream changes all or nothing) and Lease is
//     exclusive: a SET is never leased to two owners while a lease holds.
//   - Records are copied on the way in and on the way out: a caller cannot change stored
//     data through a pointer it passed or received.
//   - Times come back in UTC without a monotonic clock reading, as from a durable
//     backend; the zero time stays zero.
//   - Subscribe channels are signalled before the write that made SETs deliverable
//     returns. Close signals every subscription once, so that a waiting delivery loop
//     wakes up and sees ErrClosed; a subscription taken after Close starts signalled.
//
// Limits: Lease, NextDue and CountOutbox scan the outbox, and InboxLease sorts the
// pending inbox, on every call; that is fine for tests and demos, not for a large
// backlog. Use store/sqlite for anything that must survive a restart.
package memory
