package ssf

import "encoding/json"

// VerifyRequest is the body of a verification request (SSF §8.1.4.2): the Receiver asks
// the Transmitter to send a Verification event over the stream.
type VerifyRequest struct {
	// StreamID is "stream_id" (REQUIRED).
	StreamID string
	// State is "state" (OPTIONAL): an opaque value the Transmitter must echo in the
	// Verification event.
	State string
	// Extra holds members this type does not define, unchanged.
	Extra map[string]json.RawMessage
}

const objVerify = "verification request"

// MarshalJSON implements json.Marshaler; state is omitted when empty.
func (r VerifyRequest) MarshalJSON() ([]byte, error) {
	e := newEncoder()
	e.str("stream_id", r.StreamID)
	e.optStr("state", r.State)
	if err := e.extra(objVerify, r.Extra, func(n string) bool { return n == "stream_id" || n == "state" }); err != nil {
		return nil, err
	}
	return e.bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler. It checks member types.
func (r *VerifyRequest) UnmarshalJSON(data []byte) error {
	dec, err := newDecoder(objVerify, "", data)
	if err != nil {
		return err
	}
	var v VerifyRequest
	v.StreamID, _ = dec.str("stream_id")
	v.State, _ = dec.str("state")
	v.Extra, err = dec.rest()
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Validate checks r (SSF §8.1.4.2; conformance RS10): stream_id is present.
func (r *VerifyRequest) Validate() error {
	if r.StreamID == "" {
		return memberErr(objVerify, "stream_id", "is required (SSF §8.1.4.2)")
	}
	return nil
}
