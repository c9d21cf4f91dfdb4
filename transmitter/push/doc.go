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
// The engine holds at most 2×BatchSize leased SETs. A SET is sent only while its lease
// covers the whole request (RequestTimeout): when a slow receiver lets the leases of
// queued SETs run low, the stream waits for them to expire, the engine leases them again
// itself (Lease hands out expired leases) and goes on — each SET is sent once and in
// order. Should another engine on the same store lease such a SET first, this engine
// drops it rather than send it too.
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
// NextAttemptAt — they are leased again in their original order. Three consecutive
// failures of scope "SET" on one stream (for example timeouts) are treated the same
// way. A rescheduled SET counts the failure as an attempt.
//
// Per-stream order is preserved as far as retries allow: a SET waiting for its retry
// does not block the later SETs of its stream (which go out while it waits), because one
// SET the receiver cannot process would otherwise stop the stream until it is
// dead-lettered. Engines on several nodes that share one store may deliver SETs of one
// stream concurrently and so reorder them.
//
// A held SET whose stream was paused or disabled meanwhile (and is not a Control SET),
// or switched to poll delivery, is not sent; its lease is given back at once with
// store.Retry (which counts an attempt, the only way the store offers) so that it keeps
// its place in Seq order when the stream resumes (SSF-STATUS-3: held events go out in
// the order they were generated). MaxAge also applies to SETs held for a paused stream.
//
// Dead letters stay in the outbox, visible (store.DeadLetters) and replayable
// (store.Replay); nothing is dropped silently.
//
// # Shutdown and at-least-once
//
// When the context given to Run is cancelled the engine stops leasing, lets requests in
// flight finish (each bounded by RequestTimeout) and records their outcome, then
// returns. SETs it held but did not send keep their lease until it expires; another
// engine (or this one restarted) then leases and delivers them. A SET is deleted only
// after a 2xx answer, so a crash between the answer and the deletion delivers it again:
// receivers de-duplicate by jti (RFC 8935 §2, PUSH-8).
package push
