// Package set implements Security Event Tokens (RFC 8417) in the profile of the OpenID
// Shared Signals Framework 1.0 (SSF §4): building, signing, optionally encrypting and
// verifying SETs.
//
// Specifications implemented:
//
//   - RFC 8417 §2 (the SET claims: iss, iat, jti, aud, txn, toe, events; SET-1..SET-12),
//     §2.3 (explicit typing "secevent+jwt"), §3 (the profile's validation rules, here
//     the SSF ones) and §4 (confusion prevention: no "sub", no "exp" in SSF SETs;
//     SET-21, SEC-6);
//   - RFC 7519 (JWT): claims as a JSON object, NumericDate, §5.2 nested JWTs (a signed
//     SET encrypted as a JWE), §7.2 validation;
//   - RFC 7515 (JWS) compact serialization, with §4.1.9: "typ" is compared as a media
//     type, so "secevent+jwt" and "application/secevent+jwt" in any case are the SET
//     type; §4.1.11: no "crit" extension is understood;
//   - SSF 1.0 §3.1 and §3.6 (sub_id, critical_subject_members), §4.1 (the SET profile:
//     explicit typing, sub_id, no sub and no exp, iss, aud, txn), §4.2.1 (exactly one
//     event), §8.1.4.1 (verification events) and §8.1.5 (stream-updated events);
//   - RFC 8935 §2.3–2.4 (and SSF §11): every rejection is an *Error whose Code is the
//     Security Event Token error code a recipient returns (invalid_request,
//     invalid_key, invalid_issuer, invalid_audience, invalid_state).
//
// # Building and signing
//
// A Token holds the claims: Issuer, IssuedAt, JTI, Audience, TxnID, TimeOfEvent, Subject
// (sub_id, a subject.Identifier), Event (one event.Event from package caep, risc or ssf)
// and Extra claims. A Signer signs it with a keys.SigningKey (RS256, PS256, ES256, ES384,
// EdDSA and the other algorithms package keys supports); the JOSE header is always
// {"alg","kid","typ":"secevent+jwt"}. SignerOptions chooses the Profile (Final; Hybrid
// with the subject also inside CAEP and RISC events; Legacy with the subject only inside
// the event, for SSE ID1-era receivers) and optional encryption to a recipient's public
// key. ParseClaims builds a Token from a JSON claims set.
//
// # Verifying
//
// A Verifier checks a SET against a Config (issuer, audiences, algorithm allow-list,
// clock skew, size limit, event registry, critical subject members, key-id policy,
// decryption keys) with the keys of a keys.KeySet, performing every check of the SET-20
// list; see Verifier.Verify for the order and the error codes. CheckVerification and
// CheckStreamUpdated apply the stream checks of the SSF framework events.
// ParseUnverified decodes a SET without checking its signature, for inspection only.
//
// The package signs and verifies compact JWS itself with crypto/rsa, crypto/ecdsa and
// crypto/ed25519 (go-jose handles JWK and JWE), with the checks of RFC 7518: RSA keys of
// at least 2048 bits and signatures of the modulus size, PSS with a salt as long as the
// hash, ECDSA signatures of exactly twice the coordinate size (R || S, never DER),
// Ed25519 over the signing input. A SET is parsed once, without reflection.
//
// # Discarded events
//
// A SET whose sub_id is a Complex Subject holding a member that the transmitter lists in
// critical_subject_members and that the receiver cannot process is valid, but its event
// must be discarded (SSF §3.6). Verify then returns the Token together with an error that
// wraps ErrDiscard and is not an *Error: acknowledge the SET, do not process the event
// and do not report an error to the transmitter (AMB-27).
//
// # Compatibility
//
// Compatibility names the tolerances for SETs from transmitters built to earlier drafts
// or deviating in known ways (typ "JWT", in-event subjects, legacy subject shapes,
// legacy event type URIs, several events, verification without sub_id, sub and exp,
// millisecond timestamps, occurred_at, numeric txn, string reasons). All are off by
// default. Every tolerance a SET needed is recorded in Token.Leniency.
package set
