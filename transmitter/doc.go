// Package transmitter is the Transmitter role of the OpenID Shared Signals Framework
// (SSF 1.0): the stream-management control plane, event emission, and the HTTP surface
// a Receiver talks to.
//
// It implements:
//
//   - SSF §6 (event delivery): every stream has a delivery method; a stream created
//     without one gets poll delivery (AMB-4) with a Transmitter-assigned endpoint_url
//     unique per stream (SSF-DELIV-4); push endpoint_urls are checked against an SSRF
//     policy (SEC-17). Delivery itself is done by transmitter/push and transmitter/poll,
//     which read the outbox this package fills.
//   - SSF §7 (discovery): the Transmitter Configuration Metadata at
//     /.well-known/ssf-configuration (with the issuer path inserted, SSF-DISC-14) and the
//     JWK Set at jwks_uri.
//   - SSF §8 (management API): [Transmitter] implements [ssf.Manager] in process
//     (§8.1.1 streams, §8.1.2 status, §8.1.3 subjects, §8.1.4 verification), emits the
//     Stream Updated event (§8.1.5) for every status change (AMB-15) and pauses or
//     disables idle streams (inactivity_timeout, SSF-STREAM-13). [NewManagementHandler]
//     serves any ssf.Manager over HTTP with the status codes of SSF §8.
//   - RFC 6750 (bearer tokens): [Authenticator] implementations for static bearer
//     tokens ([StaticTokens]) and OAuth 2.0 JWT access tokens ([OAuthTokens]); errors
//     carry the RFC 6750 §3 WWW-Authenticate challenge; tokens in the URI query are
//     refused.
//   - CAEP Interoperability Profile §2.3 (the metadata members it requires, IOP-2..IOP-9:
//     the served metadata passes [ssf.Metadata.ValidateInteropProfile]) and §2.7 (OAuth
//     scopes ssf.read, ssf.manage and ssf.manage.poll, IOP-14; resource-server errors,
//     IOP-15).
//
// # Identity
//
// Every [ssf.Manager] method acts for the Receiver client in its context ([WithClient],
// set by the HTTP layer from the [Authenticator]). A client sees only its own streams:
// another client's stream is answered exactly like a stream that does not exist (404),
// so that existence never leaks (SEC-8). "The same Receiver" of SSF §8.1.1.1 (one stream
// per Receiver, 409) is the same client id (AMB-13).
//
// # Events
//
// [Transmitter.Emit] matches an event against every stream (status, events_delivered,
// subjects and default_subjects), signs one SET per matching stream with the active
// key, and writes them all to the outbox in one store transaction: an event is either
// queued for every matching stream or for none.
//
// # Decisions
//
//   - AMB-13: "the same Receiver" (one stream per Receiver, 409) is the same client id;
//     whether a client may have several streams is its ClientPolicy.SingleStream (several
//     by default). The check is serialised per client within one process.
//   - AMB-14: reading a stream, listing streams (every listed stream), reading or
//     changing its status, changing or replacing it, adding or removing subjects,
//     requesting verification and polling are Receiver activity; refused requests,
//     push deliveries and the Transmitter's own actions are not.
//   - AMB-23: stream ids are 130 random bits (crypto/rand.Text), so a deleted stream's id
//     is never handed out again.
//   - Subjects: among the stream's added and removed subjects that match an event's
//     subject, the most recent statement decides; when none matches, default_subjects
//     does. The "verified" flag is recorded, not used for matching.
//   - Metadata: authorization_schemes is urn:ietf:rfc:6749 also for static tokens, which
//     are RFC 6750 bearer access tokens issued out of band.
//   - A create request with Transmitter-supplied members is refused (400 naming them),
//     except "iss" equal to the issuer and "aud" values of the client's audience.
//   - Verification of a disabled stream is refused (400): its SET could not be delivered.
//   - Static streams (vendors §5.2 item 8): [Transmitter.CreateStaticStream] creates a
//     stream on the operator's authority for a client that never calls the management
//     API (Okta). It shares CreateStream's path but checks the request strictly, applies
//     none of the client's policy (SingleStream, VerifyOnCreate), queues no
//     verification SET, and gives the stream no inactivity_timeout.
package transmitter
