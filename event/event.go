package event

// Event is the payload of one security event: the value of one member of a SET's
// "events" claim (RFC 8417 §2.2, SSF §4.2.1), together with the event type URI that is
// that member's name.
//
// Typed events (package caep, risc and ssf) encode to their payload JSON object with
// encoding/json and keep unknown payload members so that they round-trip (SSF §4.2.3).
// Event types no registry knows decode to *Raw.
type Event interface {
	// Type returns the event type URI, e.g.
	// "https://schemas.openid.net/secevent/caep/event-type/session-revoked".
	Type() string
	// Validate checks the payload against its event-type definition: required claims,
	// types and enumerated values. A failure maps to the RFC 8935 code invalid_request.
	Validate() error
}
