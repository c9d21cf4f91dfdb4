package ssf

import (
	"encoding/json"
	"errors"
	"fmt"
)

// StreamStatus is the stream status object (SSF §8.1.2): the body of a read-status
// response, of an update-status request and of its response.
type StreamStatus struct {
	// StreamID is "stream_id" (REQUIRED).
	StreamID string
	// Status is "status" (REQUIRED): enabled, paused or disabled.
	Status Status
	// Reason is "reason" (OPTIONAL): why the stream has this status.
	Reason string
	// Extra holds members this type does not define, unchanged.
	Extra map[string]json.RawMessage
}

const objStatus = "stream status"

// MarshalJSON implements json.Marshaler; reason is omitted when empty.
func (s StreamStatus) MarshalJSON() ([]byte, error) {
	e := newEncoder()
	e.str("stream_id", s.StreamID)
	e.str("status", string(s.Status))
	e.optStr("reason", s.Reason)
	if err := e.extra(objStatus, s.Extra, func(n string) bool {
		return n == "stream_id" || n == "status" || n == "reason"
	}); err != nil {
		return nil, err
	}
	return e.bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler. It checks member types; an unknown status
// value is kept (see Validate).
func (s *StreamStatus) UnmarshalJSON(data []byte) error {
	dec, err := newDecoder(objStatus, "", data)
	if err != nil {
		return err
	}
	var v StreamStatus
	v.StreamID, _ = dec.str("stream_id")
	st, _ := dec.str("status")
	v.Status = Status(st)
	v.Reason, _ = dec.str("reason")
	v.Extra, err = dec.rest()
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Validate checks s (SSF §8.1.2.1, §8.1.2.2; conformance RS9): stream_id present and
// status one of enabled, paused, disabled.
func (s *StreamStatus) Validate() error {
	var errs []error
	if s.StreamID == "" {
		errs = append(errs, memberErr(objStatus, "stream_id", "is required (SSF §8.1.2)"))
	}
	switch {
	case s.Status == "":
		errs = append(errs, memberErr(objStatus, "status", "is required (SSF §8.1.2)"))
	case !s.Status.Valid():
		errs = append(errs, &MemberError{Object: objStatus, Member: "status", Err: fmt.Errorf("%q: want %q, %q or %q (SSF §8.1.2.1)", s.Status, StatusEnabled, StatusPaused, StatusDisabled)})
	}
	return errors.Join(errs...)
}
