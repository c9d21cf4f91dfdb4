package event

import (
	"bytes"
	"encoding/json"
)

// Raw carries an event whose type no registry knows (SSF §4.2.3: receivers ignore, and
// sigshare preserves, what they do not understand). It keeps the type URI and the
// payload JSON object verbatim, so that the event round-trips unchanged.
type Raw struct {
	// EventType is the event type URI: the member name in the SET's "events" claim.
	EventType string
	// Payload is the event payload, a JSON object, exactly as received.
	Payload json.RawMessage
}

// Type returns r.EventType.
func (r *Raw) Type() string { return r.EventType }

// Validate checks that the event type URI is set and that the payload is one JSON object
// (SET-1).
func (r *Raw) Validate() error {
	if r.EventType == "" {
		return &Error{Reason: "has no event type URI"}
	}
	if err := validObject(r.Payload); err != nil {
		return payloadError(r.EventType, err)
	}
	return nil
}

// MarshalJSON returns the payload after checking it with Validate.
func (r *Raw) MarshalJSON() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r.Payload, nil
}

// UnmarshalJSON keeps a copy of data, which must be a JSON object, as the payload. It
// does not change EventType.
func (r *Raw) UnmarshalJSON(data []byte) error {
	if err := validObject(data); err != nil {
		return payloadError(r.EventType, err)
	}
	r.Payload = bytes.Clone(data)
	return nil
}

// payloadError wraps a validObject error.
func payloadError(typ string, err error) *Error {
	if n, ok := err.(*notObjectError); ok {
		return &Error{Type: typ, Reason: "must be a JSON object, not " + n.kind}
	}
	return &Error{Type: typ, Reason: "is not valid JSON", Err: err}
}
