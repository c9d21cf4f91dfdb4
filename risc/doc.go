// Package risc implements the event types of OpenID Risk Incident Sharing and
// Coordination Event Types 1.0 (RISC §2, RISC-1..RISC-15): AccountCredentialChangeRequired
// (§2.1), AccountPurged (§2.2), AccountDisabled (§2.3), AccountEnabled (§2.4),
// IdentifierChanged (§2.5), IdentifierRecycled (§2.6), CredentialCompromise (§2.7), the
// opt-out events OptIn, OptOutInitiated, OptOutCancelled and OptOutEffective (§2.8), the
// opt-out state machine of §2.8 (RISC-18: OptOutState, Next, EventFor), RecoveryActivated
// (§2.9), RecoveryInformationChanged (§2.10) and the deprecated SessionsRevoked (§2.11,
// RISC-15).
//
// Each event type is a struct that implements event.Event. It encodes to, and decodes
// from, its payload: the value of its member in a SET's "events" claim (RFC 8417 §2.2).
// The subject is not part of the payload (SSF §3.1: it is the SET's sub_id claim); the
// subject-format rules of RISC §2.5 and §2.6 (RISC-16, RISC-17: email or phone number)
// concern sub_id and are checked by the SET layer. Decoding checks JSON types and keeps
// members the event type does not define in Extra, so that they are encoded again
// unchanged (SSF §4.2.3; e.g. the legacy in-event "subject" member, SET-13). Validate
// checks required members and enumerated values; MarshalJSON calls Validate.
//
// RISC events have no common claims (RISC-1); only CredentialCompromise carries
// event_timestamp, reason_admin and reason_user, with the types package event shares with
// CAEP (AMB-2). SessionsRevoked implements event.Deprecated: it decodes, but a signer
// refuses to emit it (new implementations MUST use CAEP session-revoked).
//
// Register adds every RISC event type to an event.Registry.
package risc
