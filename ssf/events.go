package ssf

import (
	"encoding/json"

	"github.com/sigshare/sigshare/event"
)

// The SSF 1.0 event type URIs (SSF §8.1.4.1, §8.1.5).
const (
	// EventTypeVerification is the Verification event (SSF §8.1.4.1, SSF-VERIFY-2).
	EventTypeVerification = "https://schemas.openid.net/secevent/ssf/event-type/verification"
	// EventTypeStreamUpdated is the Stream Updated event (SSF §8.1.5, SSF-UPDATED-1).
	EventTypeStreamUpdated = "https://schemas.openid.net/secevent/ssf/event-type/stream-updated"
)

// Legacy URIs of the SSF events that real transmitters still send (DIFF-3). The default
// registry declares them as aliases, which compatibility-mode decoding resolves.
const (
	// LegacyEventTypeVerificationSSE is the verification URI of SSE Framework ID1.
	LegacyEventTypeVerificationSSE = "https://schemas.openid.net/secevent/sse/event-type/verification"
	// LegacyEventTypeVerificationRISC is the verification URI of RISC-era transmitters
	// (Google).
	LegacyEventTypeVerificationRISC = "https://schemas.openid.net/secevent/risc/event-type/verification"
	// LegacyEventTypeStreamUpdatedSSE is the stream-updated URI of SSE Framework ID1.
	LegacyEventTypeStreamUpdatedSSE = "https://schemas.openid.net/secevent/sse/event-type/stream-updated"
	// LegacyEventTypeStreamUpdatedCAEP is the stream-updated URI SGNL's caep.dev
	// libraries use (under the caep namespace, which CAEP never defined).
	LegacyEventTypeStreamUpdatedCAEP = "https://schemas.openid.net/secevent/caep/event-type/stream-updated"
)

// Status is the status of a stream (SSF §8.1.2): whether the transmitter delivers its
// events. It is the "status" member of the stream status object and of the Stream
// Updated event.
type Status string

// The stream statuses SSF §8.1.2 defines; no other value is valid.
const (
	// StatusEnabled: the transmitter delivers events on the stream.
	StatusEnabled Status = "enabled"
	// StatusPaused: the transmitter does not deliver events now; it SHOULD hold them
	// and deliver them when the stream is enabled again (it MAY drop them).
	StatusPaused Status = "paused"
	// StatusDisabled: the transmitter does not deliver events and does not hold them.
	StatusDisabled Status = "disabled"
)

// Valid reports whether s is enabled, paused or disabled.
func (s Status) Valid() bool {
	return s == StatusEnabled || s == StatusPaused || s == StatusDisabled
}

// Verification is the SSF §8.1.4.1 Verification event (SSF-VERIFY-2): it confirms
// end-to-end delivery of a stream. The SET's sub_id is an opaque subject whose id is the
// stream_id (SSF-VERIFY-3; checked by the SET layer).
type Verification struct {
	// State is state (OPTIONAL): the opaque value the receiver supplied when it
	// requested verification, echoed back (SSF-VERIFY-6). A transmitter-initiated
	// verification event carries no state (AMB-22). Empty means absent; JSON null
	// decodes as absent (authentik sends "state": null).
	State string
	// Extra holds the payload members SSF does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeVerification.
func (Verification) Type() string { return EventTypeVerification }

// Validate reports nothing: the only member is optional and opaque.
func (Verification) Validate() error { return nil }

// MarshalJSON encodes the payload.
func (e Verification) MarshalJSON() ([]byte, error) {
	w := event.NewPayloadWriter(EventTypeVerification, e.Extra)
	w.String("state", e.State)
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *Verification) UnmarshalJSON(data []byte) error {
	*e = Verification{}
	r, err := event.NewPayloadReader(EventTypeVerification, data)
	if err != nil {
		return err
	}
	for r.Next() {
		if string(r.Key()) == "state" {
			e.State = r.ReadString()
		} else {
			r.Keep(&e.Extra)
		}
	}
	return r.Err()
}

// StreamUpdated is the SSF §8.1.5 Stream Updated event (SSF-UPDATED-1..5): the
// transmitter changed the stream's status without the receiver asking. The SET's sub_id
// is an opaque subject whose id is the stream_id (SSF-UPDATED-5; checked by the SET
// layer).
type StreamUpdated struct {
	// Status is status (REQUIRED): the new status.
	Status Status
	// Reason is reason (OPTIONAL): a short description of why the status changed.
	Reason string
	// Extra holds the payload members SSF does not define, verbatim (e.g. the SSE ID1
	// per-subject "subject" member, DIFF-7).
	Extra map[string]json.RawMessage
}

// Type returns EventTypeStreamUpdated.
func (StreamUpdated) Type() string { return EventTypeStreamUpdated }

// Validate checks that status is present and one of enabled, paused, disabled.
func (e StreamUpdated) Validate() error {
	if e.Status == "" {
		return event.Required(EventTypeStreamUpdated, "status")
	}
	if !e.Status.Valid() {
		return event.NotOneOf(EventTypeStreamUpdated, "status", e.Status, StatusEnabled, StatusPaused, StatusDisabled)
	}
	return nil
}

// MarshalJSON encodes the payload after checking it with Validate.
func (e StreamUpdated) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	w := event.NewPayloadWriter(EventTypeStreamUpdated, e.Extra)
	w.String("status", string(e.Status))
	w.String("reason", e.Reason)
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *StreamUpdated) UnmarshalJSON(data []byte) error {
	*e = StreamUpdated{}
	r, err := event.NewPayloadReader(EventTypeStreamUpdated, data)
	if err != nil {
		return err
	}
	for r.Next() {
		switch string(r.Key()) {
		case "status":
			e.Status = Status(r.ReadString())
		case "reason":
			e.Reason = r.ReadString()
		default:
			r.Keep(&e.Extra)
		}
	}
	return r.Err()
}
