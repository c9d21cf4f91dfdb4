// Package event is the seam between a Security Event Token and the events it carries.
//
// A SET's "events" claim (RFC 8417 §2.2, SSF §4.2.1) is a JSON object whose member names
// are event type URIs and whose member values are event payloads (JSON objects, SET-1).
// This package defines:
//
//   - Event, the interface every typed event implements (packages caep, risc and ssf
//     provide the CAEP 1.0, RISC 1.0 and SSF 1.0 event types);
//   - Raw, the carrier for event types no registry knows, kept verbatim;
//   - Registry, an explicit map from event type URIs (and legacy alias URIs, SSF DIFF-3)
//     to Go types, used to decode payloads;
//   - Deprecated, implemented by event types that receivers still accept but transmitters
//     must no longer emit (RISC §2.11 sessions-revoked, RISC-15);
//   - the claim types CAEP and RISC share: Timestamp (CAEP §2 event_timestamp, RISC §2.7),
//     Localized (CAEP §2 reason_admin / reason_user, used by RISC §2.7 too: AMB-2) and
//     CredentialType (CAEP §3.3, referenced by RISC §2.7);
//   - PayloadReader and PayloadWriter, the toolkit typed events use to decode a payload in
//     one pass while keeping unknown members verbatim (SSF §4.2.3: receivers ignore, and
//     sigshare preserves, members they do not understand), and to encode it again;
//   - Error and ErrInvalid, the error every payload problem is reported with.
package event
