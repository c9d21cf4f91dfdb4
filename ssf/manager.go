package ssf

import "context"

// Manager is the SSF stream management API (SSF §8.1), one Go interface for both sides.
//
// It is implemented in-process by the transmitter (transmitter.Transmitter) and over
// HTTP by the receiver's client (receiver.Client); the transmitter's HTTP surface
// serves it. Errors match the sentinel errors of this package with errors.Is
// (ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict,
// ErrTooManyRequests, ErrAccepted); other errors (transport, context, internal) are
// passed through wrapped. A method lists the sentinels SSF defines for it; an
// implementation may return ErrUnauthorized and ErrForbidden from any method (AMB-11).
// Every method honours ctx for cancellation and deadlines.
type Manager interface {
	// CreateStream creates a stream (SSF §8.1.1.1; HTTP POST to the configuration
	// endpoint, 201). req carries the Receiver-supplied members (see
	// StreamConfig.ReceiverSupplied); without Delivery it asks for poll delivery. The
	// result is the complete configuration, whose iss the Receiver must check.
	// Errors: ErrBadRequest (invalid request, unsupported delivery method),
	// ErrUnauthorized, ErrForbidden, ErrConflict (the Transmitter allows one stream per
	// Receiver and one exists, SSF-STREAM-17).
	CreateStream(ctx context.Context, req StreamConfig) (*StreamConfig, error)

	// GetStream reads one stream's configuration (SSF §8.1.1.2; GET with stream_id,
	// 200). Errors: ErrUnauthorized, ErrForbidden, ErrNotFound.
	GetStream(ctx context.Context, streamID string) (*StreamConfig, error)

	// ListStreams reads every stream configuration available to the Receiver (SSF
	// §8.1.1.2; GET without stream_id, 200 with an array). No stream is an empty
	// slice, not an error. Errors: ErrUnauthorized, ErrForbidden.
	ListStreams(ctx context.Context) ([]StreamConfig, error)

	// UpdateStream changes the Receiver-supplied members present in req (SSF §8.1.1.3;
	// PATCH, 200 with the entire updated configuration). Transmitter-supplied members
	// in req must equal the current values (StreamUpdate.CheckTransmitterSupplied).
	// Errors: ErrAccepted (accepted, not yet processed: repeat the request later for
	// the result), ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound.
	UpdateStream(ctx context.Context, req StreamUpdate) (*StreamConfig, error)

	// ReplaceStream replaces the stream's Receiver-supplied members with those of req
	// (SSF §8.1.1.4; PUT, 200); an absent Receiver-supplied member is deleted.
	// req.StreamID is required; Transmitter-supplied members in req must equal the
	// current values (StreamConfig.CheckTransmitterSupplied). Errors: ErrAccepted,
	// ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound.
	ReplaceStream(ctx context.Context, req StreamConfig) (*StreamConfig, error)

	// DeleteStream deletes a stream (SSF §8.1.1.5; DELETE with stream_id, 204).
	// Errors: ErrUnauthorized, ErrForbidden, ErrNotFound.
	DeleteStream(ctx context.Context, streamID string) error

	// GetStatus reads a stream's status (SSF §8.1.2.1; GET on the status endpoint with
	// stream_id, 200). Errors: ErrUnauthorized, ErrForbidden, ErrNotFound.
	GetStatus(ctx context.Context, streamID string) (*StreamStatus, error)

	// UpdateStatus sets a stream's status (SSF §8.1.2.2; POST to the status endpoint,
	// 200 with the updated status). Errors: ErrAccepted (the Transmitter cannot decide
	// yet, SSF-STATUS-6), ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound.
	UpdateStatus(ctx context.Context, req StreamStatus) (*StreamStatus, error)

	// AddSubject adds a subject to a stream (SSF §8.1.3.2; POST to the add-subject
	// endpoint, 200). Success does not mean events will flow for the subject (SSF §9.1).
	// Errors: ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound (unknown stream,
	// or a subject the Transmitter does not recognise), ErrTooManyRequests.
	AddSubject(ctx context.Context, req AddSubjectRequest) error

	// RemoveSubject removes a subject from a stream (SSF §8.1.3.3; POST to the
	// remove-subject endpoint, 204). Errors: ErrBadRequest, ErrUnauthorized,
	// ErrForbidden, ErrNotFound, ErrTooManyRequests.
	RemoveSubject(ctx context.Context, req RemoveSubjectRequest) error

	// Verify asks the Transmitter to send a Verification event over the stream (SSF
	// §8.1.4.2; POST to the verification endpoint, 204). Success means the event was or
	// will be sent, not that it was delivered. Errors: ErrBadRequest, ErrUnauthorized,
	// ErrNotFound, ErrTooManyRequests (faster than min_verification_interval; a
	// *RateLimitError may say when to retry); ErrForbidden is not listed by SSF but
	// may occur (AMB-11).
	Verify(ctx context.Context, req VerifyRequest) error
}
