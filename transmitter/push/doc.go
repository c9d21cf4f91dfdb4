// Package push is the transmitter's push delivery engine: it delivers the signed SETs of
// the store's outbox to the receivers of push streams, as RFC 8935 describes and SSF
// §6.1.1 profiles it.
//
// It implements:
//
//   - RFC 8935 §2.1 (PUSH-1): one HTTP POST per SET to the stream's
//     delivery.endpoint_url, Content-Type application/secevent+jwt, Accept
//     application/json, the compact SET as the body; SSF §6.1.1 (SSF-DELIV-3, AMB-12):
//     the stream's authorization_header, verbatim, as the Authorization header when the
//     stream has one, and no Authorization header otherwise;
//   - RFC 8935 §2.2–§2.4 (PUSH-3, PUSH-5, PUSH-7): any 2xx answer delivers the SET; a 400
//     answer's {"err", "description"} body is recorded and decides, with the HTTP status,
//     whether the SET is retried or parked as a dead letter (see "Outcomes" below);
//   - RFC 8935 §4 (PUSH-9): retransmission only after failures that may be recoverable,
//     delayed by exponential backoff with full jitter and any Retry-After;
//   - SSF §8.1.2.1 (SSF-STATUS-3): SETs of paused and disabled streams are not sent
//     (except the Control SET that announces the stop, which the store hands out), and
//     held SETs are released in order when the stream stops;
//   - SEC-17: every connection goes through the internal/netguard dialer (public
//     addresses only unless configured otherwise), redirects are not followed, and
//     endpoint URLs must be https.
//
// # The loop
//
// [Engine.Run] leases deliverable SETs of push streams from the outbox
// (store.LeaseRequest with Method ssf.DeliveryPush), oldest first, and hands each SET to
// the queue of its stream. Up to Config.Concurrency streams are delivered in parallel;
// within a stream SETs are sent one at a time in Seq order. When nothing is due the
// engine sleeps until the store signals new SETs (store.Subscribe) or the next retry or
// lease expiry comes due (store.NextDue); it never polls the outbox in a loop.
//
// The engine holds at most max(2×BatchSize, Concurrency) leased SETs, counting those
// queued, in flight, and delivered but not yet acknowledged in the store. It renews the
// leases of exactly the SETs it holds (store.Renew) once half of the lease has passed,
// so a slow receiver or a long queue never lets a lease run out; a SET is sent only
// while its lease covers the whole request (RequestTimeout), and a worker that finds a
// lease about to end renews it first. Should a renewal find that another engine on the
// same store took a SET over (after a renewal came too late), this engine drops the SET
// rather than send it too. LeaseDuration therefore bounds only how long the SETs of an
// engine that died wait for another engine.
//
// A 2xx answer hands the SET to the engine's acker, which deletes the SETs delivered
// meanwhile from the outbox with one store.Ack per stream (one commit instead of one per
// SET); the worker sends the stream's next SET at once. Until its Ack is written the SET
// stays leased by this engine, so a crash in between only delivers it again.
//
// Across streams SETs are leased oldest first. A stream with a large backlog of old SETs
// is therefore served before newer SETs of other streams, up to the 2×BatchSize the
// engine holds; a failing stream lets go of its SETs at once (see below), so a dead
// receiver does not hold up the others.
//
// # Outcomes
//
//	Answer                                        Outcome                     Scope
//	2xx                                           delivered (Ack)             SET
//	400 invalid_request, invalid_key,             dead letter at once         SET
//	    invalid_issuer, invalid_audience,         (retrying cannot help)
//	    invalid_state, an unregistered err,
//	    or no RFC 8935 error body
//	400 authentication_failed                     retry with backoff          stream
//	400 access_denied                             retry with backoff          SET
//	401, 403 (any body)                           retry with backoff          stream
//	404, 405                                      retry with backoff          stream
//	3xx (redirects are not followed)              retry with backoff          stream
//	408                                           retry with backoff          SET
//	410, 413, any other 4xx                       dead letter at once         SET
//	429, 503                                      retry, honouring            stream
//	                                              Retry-After
//	other 5xx, any other status                   retry, honouring            SET
//	                                              Retry-After
//	timeout, connection broken after the          retry with backoff          SET
//	    request was sent
//	DNS, connect, TLS failure                     retry with backoff          stream
//	endpoint refused by the SSRF guard            retry with backoff          stream
//	endpoint_url unusable (not https, user info)  retry with backoff          stream
//
// The principle: a SET is parked at once only when the answer says that this SET will
// never be accepted; anything that describes the endpoint or its credentials can be
// fixed — by the stream owner with a PATCH of the stream (endpoint_url,
// authorization_header) or by the receiver's operator — and is retried with backoff
// until MaxAttempts or MaxAge, after which the SET is parked with a reason naming the
// last error and what to change. 401/403 without a body and 400 authentication_failed
// are the same condition (AMB-18).
//
// Scope "stream" marks failures that are not about the SET (nothing reached the
// receiver, or the receiver refused every request): the engine then reschedules the
// stream's other held SETs for the same time without sending them, so that a dead or
// rate-limiting receiver is not sent one request per SET, and — because they share one
// NextAttemptAt — they are leased again in their original order. That time is never
// earlier than the store needs to record all those attempts (three times the number of
// SETs times one measured write), so that no lease can take some of them before the
// others are recorded. Three consecutive failures of scope "SET" on one stream (for
// example timeouts) are treated the same way. A rescheduled SET counts the failure as an
// attempt.
//
// Per-stream order is preserved as far as retries allow: a SET waiting for its retry
// does not block the later SETs of its stream (which go out while it waits), because one
// SET the receiver cannot process would otherwise stop the stream until it is
// dead-lettered. Engines on several nodes that share one store may deliver SETs of one
// stream concurrently and so reorder them.
//
// A held SET whose stream was paused or disabled meanwhile (and is not a Control SET),
// or switched to poll delivery, is not sent: its lease and those of the stream's other
// queued SETs are given back at once with store.Release, which counts no attempt, so
// that they keep their place in Seq order when the stream resumes (SSF-STATUS-3: held
// events go out in the order they were generated) or are polled. MaxAge also applies to
// SETs held for a paused stream.
//
// Dead letters count every failed attempt, the one after which the engine gave up
// included (store.DeadLetter by the owner); a SET parked for MaxAge before an attempt
// counts none.
//
// Dead letters stay in the outbox, visible (store.DeadLetters) and replayable
// (store.Replay); nothing is dropped silently.
//
// # Shutdown, restarts and at-least-once
//
// When the context given to Run is cancelled the engine stops leasing, lets requests in
// flight finish (each bounded by RequestTimeout), records their outcome and writes the
// acknowledgements still waiting, then gives back the leases of the SETs it held but did
// not send (store.Release, no attempt counted) and returns: another engine, or this one
// restarted, delivers them at once. An engine that crashed cannot give its leases back;
// when it is restarted with the same Config.Owner, Run first reclaims them
// (store.ReleaseOwner), otherwise they wait for their lease to expire. A SET is deleted
// only after a 2xx answer, so a crash between the answer and the deletion delivers it
// again: receivers de-duplicate by jti (RFC 8935 §2, PUSH-8).
package push
