// Package poll is the transmitter's poll endpoint: an http.Handler that serves a poll
// stream's SETs from the store's outbox to its receiver, as RFC 8936 describes and SSF
// §6.1.2 profiles it.
//
// It implements:
//
//   - RFC 8936 §2.2 and §2.4 (POLL-2, POLL-4): the poll request {maxEvents,
//     returnImmediately, ack, setErrs}, decoded strictly; acknowledgements are applied
//     first (store.Ack on that stream only), then error reports, then SETs are leased;
//   - RFC 8936 §2.4.4 (POLL-7): a setErrs entry parks the SET as a dead letter with the
//     reason "receiver reported <err>: <description>", where an operator sees it and can
//     replay it; it is not delivered again by itself;
//   - RFC 8936 §2.5 (POLL-3, POLL-6): the answer {"sets": {jti: SET}, "moreAvailable"};
//     with returnImmediately false and no SET outstanding, the request waits
//     (long polling) until a SET arrives, Config.LongPollTimeout passes or the client goes
//     away;
//   - RFC 8936 §2.4 (POLL-8): a SET that was returned and not acknowledged is returned
//     again, with the same jti, by a poll after Config.LeaseDuration; SETs leased for a
//     poll that is never answered (the client went away, the node stopped) were not
//     returned and are given back at once (store.Release);
//   - RFC 8936 §2.5.1 (POLL-10): invalid requests are answered 400 with a body that
//     says what was wrong (the RFC lets receivers ignore it; people reading logs cannot);
//   - RFC 8936 §3 (POLL-12): 401 answers carry WWW-Authenticate;
//   - SSF §8.1.1 (SSF-STREAM-13, POLL-14): every poll is receiver activity
//     (store.TouchStream);
//   - SSF §8.1.2.1 (SSF-STATUS-3): a paused or disabled stream hands out nothing but the
//     Control SET that announced the stop (the store's Lease enforces it);
//   - SEC-13: bounded long-poll time, request body size and number of waiting polls per
//     stream (429 beyond it).
//
// # Decisions
//
// maxEvents (AMB-25): absent means "no limit" from the receiver, but the handler never
// returns more than Config.MaxEvents SETs at once and then sets moreAvailable when more
// are waiting. maxEvents 0 is an acknowledge-only request: nothing is leased.
//
// Acknowledge-only requests with returnImmediately false still long-poll, as RFC 8936
// §2.4.2 says (POLL-5): the answer, always {"sets":{}}, comes when a SET becomes
// available for the stream, at the long-poll timeout, or when the client goes away.
// Receivers that want the answer at once send "returnImmediately": true.
//
// A jti both acknowledged and reported in setErrs counts as acknowledged. Unknown jtis
// in ack and setErrs are ignored (they may have been acknowledged already: RFC 8936 lets
// receivers repeat acknowledgements). setErrs without the Content-Language header that
// RFC 8936 §2.6 asks for are accepted: losing a receiver's error report would be worse.
//
// A stream that exists but does not use poll delivery is answered 404, as is an unknown
// stream: its poll endpoint does not exist (SSF §6.1.2: the transmitter supplies a poll
// endpoint_url only for poll streams).
//
// Acknowledgements are committed before anything else can fail: a request that fails
// later (a store error while leasing, too many waiting polls is checked before) loses
// none of them, and the receiver may repeat them safely.
package poll
