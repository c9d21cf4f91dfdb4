package event

// Deprecated is implemented by event types that a specification has deprecated in favour
// of another: receivers still decode them (older transmitters send them), but a
// transmitter must not emit them. For example RISC §2.11 sessions-revoked is replaced by
// CAEP §3.1 session-revoked (RISC-15: new implementations MUST use the CAEP event); a
// signer refuses any event that implements Deprecated.
type Deprecated interface {
	// ReplacedBy returns the type URI of the event type to emit instead.
	ReplacedBy() string
}
