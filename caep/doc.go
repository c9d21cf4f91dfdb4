// Package caep implements the event types of OpenID Continuous Access Evaluation Profile
// 1.0 (CAEP): CAEP §2, the optional claims every CAEP event may carry (Common:
// event_timestamp, initiating_entity, reason_admin, reason_user; CAEP-2..CAEP-5), and
// CAEP §3, the eight event types (CAEP-6..CAEP-13): SessionRevoked (§3.1),
// TokenClaimsChange (§3.2), CredentialChange (§3.3), AssuranceLevelChange (§3.4),
// DeviceComplianceChange (§3.5), SessionEstablished (§3.6), SessionPresented (§3.7) and
// RiskLevelChange (§3.8).
//
// Each event type is a struct that implements event.Event. It encodes to, and decodes
// from, its payload: the value of its member in a SET's "events" claim (RFC 8417 §2.2).
// The subject is not part of the payload (SSF §3.1: it is the SET's sub_id claim).
// Decoding checks JSON types and keeps members the event type does not define in Extra,
// so that they are encoded again unchanged (SSF §4.2.3; e.g. a legacy in-event "subject"
// member, SET-13, or a vendor's extra members). Validate checks required members and
// enumerated values; MarshalJSON calls Validate, so only valid events are encoded.
//
// Register adds every CAEP event type to an event.Registry. The credential types that
// CAEP §3.3 lists are event.CredentialType constants in package event, because RISC §2.7
// uses them too.
package caep
