// Package receiver is the Receiver role of the OpenID Shared Signals Framework: the
// other half of every exchange with a Transmitter.
//
// It implements:
//
//   - SSF §7 (discovery): [Discover] fetches the Transmitter Configuration Metadata from
//     the well-known URL (SSF §7.2; SSF-DISC-14, -15) and checks it (SSF §7.2.4,
//     SSF-DISC-19: the issuer must be the one asked for); [FetchMetadata] takes a
//     metadata URL as given;
//   - SSF §8 (stream management): [Client] implements ssf.Manager over HTTP against any
//     SSF Transmitter (create, read, list, update, replace, delete, status, subjects,
//     verification), with [Client.EnsureStream], and with static bearer tokens or OAuth
//     2.0 client credentials ([BearerToken], [ClientCredentials]: client secret or
//     private_key_jwt; scopes ssf.read and ssf.manage, IOP-14, IOP-15);
//   - vendors §2.3, §5.1 item 8(c): [GoogleRISCClient] (Google RISC management API), [ServiceAccountCredentials];
//   - SSF §8.1.4 (verification): [VerificationStates] binds the state of each
//     verification request to its stream; Verification events are checked against it;
//   - RFC 8935 §2 (push delivery): [PushHandler] is the push endpoint;
//   - RFC 8936 §2 (poll delivery): [Poller] is the polling client, acknowledging each SET
//     only after its handler ran and reporting invalid SETs in setErrs;
//   - RFC 8935 §2 and RFC 8936 §2 (the SET Recipient's validation, SET-20):
//     [Recipient] verifies each SET ([NewStreamVerifier] builds the set.Verifier of a
//     stream: keys from jwks_uri, issuer, audience, critical subject members) and
//     records it in the inbox before the Transmitter is told it arrived.
//
// # Processing
//
// Processing is asynchronous (RFC 8935 §2, PUSH-4): the push endpoint and the poller
// record each SET in a store.InboxStore, which de-duplicates on (iss, jti) (PUSH-8,
// POLL-8, SEC-7); a [Worker] leases recorded SETs and dispatches each to the handler
// registered on a [Mux] for its event type ([On] is type-safe:
// On(mux, func(ctx, tok, ev *caep.SessionRevoked) error)). Failed handlers are retried
// with exponential backoff and then parked as dead letters, which stay visible and can
// be replayed; see [Worker] for the policy. Pending poll acknowledgements are kept in the
// inbox too, so that a restarted Receiver neither processes a SET twice nor forgets to
// acknowledge one.
//
// # Compatibility mode
//
// Every component is strict by default (SSF 1.0 Final). Compatibility options, off by
// default and named on each configuration, accept what Transmitters in the field do
// (vendors §5.1): legacy metadata locations and member names ([DiscoveryOptions]),
// legacy management answers ([ClientConfig]), legacy SET shapes
// ([VerifierOptions].Compatibility: set.FullCompatibility, with the tolerances a SET
// needed in Token.Leniency, passed to hooks and handlers) and legacy push transport
// shapes ([PushHandlerConfig]).
//
// # Metrics
//
// [Hooks] are function fields for SETs received, verified, rejected (by RFC 8935 code),
// duplicates, discards, handler outcomes and poll requests; the package imports no
// metrics library.
package receiver
