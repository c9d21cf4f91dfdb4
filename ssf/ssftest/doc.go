// Package ssftest is the conformance suite of the SSF stream-management interface
// (ssf.Manager, SSF §8.1): one set of tests that every implementation passes, whether it
// runs in process (the transmitter) or over HTTP (the receiver's client, a test client
// against the transmitter's handler).
//
// The suite sees an implementation only through ssf.Manager and checks results and
// errors as a Receiver would: success values against SSF §8.1.1–§8.1.4, errors with
// errors.Is against the ssf sentinels (ErrBadRequest, ErrUnauthorized, ErrNotFound,
// ErrConflict, ErrTooManyRequests). It also checks isolation between two Receiver
// clients: a stream of one client is invisible to the other (SEC-8, SSF-AUTH-3).
//
// Spec sections covered: SSF §8.1.1 (create, read, update, replace, delete; events
// delivered, AMB-4, AMB-5, SSF-DELIV-4, SSF-STREAM-17, AMB-23), §8.1.2 (status), §8.1.3
// (add and remove subject, SSF-SUBJECT-9), §8.1.4.2 (verification,
// min_verification_interval) and the error sentinels of digest §5.8.
package ssftest
