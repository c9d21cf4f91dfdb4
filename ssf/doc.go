// Package ssf is the wire model of the OpenID Shared Signals Framework (SSF 1.0): what
// travels between a Transmitter and a Receiver outside the Security Event Tokens
// themselves.
//
// It implements:
//
//   - SSF §6 (event delivery): the stream's delivery object, the push (RFC 8935) and poll
//     (RFC 8936) method identifiers, and the legacy RISC method URIs as input synonyms;
//   - SSF §7 (discovery): [Metadata], its validation (also against the CAEP
//     Interoperability Profile), the well-known URL ([WellKnownURL]) and the ordered
//     compatibility candidates ([DiscoveryCandidateURLs]);
//   - SSF §8 (management API): [StreamConfig] and [StreamUpdate] (§8.1.1), [StreamStatus]
//     (§8.1.2), [AddSubjectRequest] and [RemoveSubjectRequest] (§8.1.3), [VerifyRequest]
//     (§8.1.4.2), the [Manager] interface implemented by the in-process transmitter and by
//     the receiver's HTTP client, and the management errors with their HTTP status codes
//     ([HTTPStatus], [ErrorFromResponse]);
//   - SSF §8.1.4.1 and §8.1.5: the Verification and Stream Updated events, the stream
//     [Status] values, and [DefaultRegistry], the event registry with every CAEP, RISC
//     and SSF event type and the legacy aliases;
//   - RFC 8935 §2.3–2.4: the push error body [SETError] and the Security Event Token error
//     codes;
//   - RFC 8936 §2: [PollRequest] and [PollResponse].
//
// # Encoding and decoding
//
// Encoding is strict: MarshalJSON writes the standard member names and values (method
// URNs, endpoint_url, a single audience as a string), omits absent members and (in
// metadata) empty arrays, writes unknown members that were decoded back unchanged, and
// fails only when the value cannot be written as the object it stands for (an Extra
// member colliding with a defined one, invalid raw JSON). Semantic rules are checked by
// the Validate methods, never silently by encoding.
//
// Decoding checks the JSON type of every member it knows and reports a [*MemberError]
// naming the member when a type is wrong; a member whose value is null is treated as
// absent; of duplicate members the last one wins; unknown members are kept in the Extra
// maps. Anything beyond that is lenient only through a named entry point
// ([ParseMetadataLenient]) or, where a Transmitter must accept what legacy Receivers
// send, documented on the type ([Delivery] accepts the legacy RISC delivery-method URIs
// and member names, DIFF-4).
package ssf
