// Package store defines what sigshare persists and the contract every backend keeps.
//
// The transmitter keeps streams (SSF §8.1.1), their status (SSF §8.1.2), the subjects
// receivers added or removed (SSF §8.1.3), and an outbox of signed SETs waiting for push
// (RFC 8935) or poll (RFC 8936) delivery. The receiver keeps an inbox: the (iss, jti) pairs
// it has seen (de-duplication, RFC 8935 §2 and RFC 8936 §2.4), the SETs waiting for their
// handler, and the poll acknowledgements it still owes.
//
// Durability is at-least-once, end to end. A transmitter enqueues a SET in the same
// transaction that accepts its event and removes it only after a 2xx push answer or a
// poll acknowledgement; a leased SET whose worker dies is leased again when the lease
// expires. A receiver records a SET before it answers 202 and acknowledges a polled SET
// only after its handler succeeded.
//
// Backends: store/memory (tests, demos), store/sqlite (the default: one file, WAL, one
// writer goroutine committing in batches) and store/postgres (several transmitter nodes on
// one database). store/storetest is the conformance suite every backend passes.
package store
