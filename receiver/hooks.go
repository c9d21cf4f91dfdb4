package receiver

import (
	"time"

	"github.com/sigshare/sigshare/set"
)

// Transport names how a SET arrived, for hooks and logs.
type Transport string

// Transports.
const (
	TransportPush Transport = "push" // RFC 8935
	TransportPoll Transport = "poll" // RFC 8936
)

// Outcome is the result of one handler attempt, for Hooks.Handled.
type Outcome string

// Outcomes of a handler attempt.
const (
	// OutcomeSuccess: the handler returned nil; the SET is processed.
	OutcomeSuccess Outcome = "success"
	// OutcomeUnhandled: no handler and no fallback is registered for the event; the
	// SET counts as processed (a SET is a statement, not a command: AMB-28).
	OutcomeUnhandled Outcome = "unhandled"
	// OutcomeDiscarded: the SET's event was not dispatched because its sub_id holds a
	// critical member this Receiver cannot process (SSF §3.6, AMB-27).
	OutcomeDiscarded Outcome = "discarded"
	// OutcomeRetry: the handler failed (or panicked); it will be called again later.
	OutcomeRetry Outcome = "retry"
	// OutcomeDead: the handler failed for the last time (or permanently); the SET is
	// parked as a dead letter.
	OutcomeDead Outcome = "dead"
)

// Hooks are callbacks for metrics: the server wires them to Prometheus counters and
// histograms; this package imports no metrics library. Every field may be nil. Hooks are
// called synchronously on the hot path, so they must be fast and safe for concurrent
// use; they never receive secrets or SET contents beyond the event type URI.
type Hooks struct {
	// Received is called for every SET that arrives, before verification.
	Received func(t Transport)
	// Verified is called for every SET that passed verification (duplicates and
	// discards included); leniency names the compatibility tolerances it needed.
	Verified func(t Transport, eventType string, leniency set.Leniency)
	// Rejected is called for every SET refused, with its RFC 8935 error code.
	Rejected func(t Transport, code string)
	// Duplicate is called for a SET whose (iss, jti) was seen before (PUSH-8, POLL-8).
	Duplicate func(t Transport)
	// Discarded is called for a valid SET whose event must not be processed (SSF §3.6).
	Discarded func(t Transport, eventType string)
	// Tolerated is called when a push request needed a transport tolerance of the
	// compatibility mode (what: e.g. "content-type text/plain").
	Tolerated func(t Transport, what string)
	// Handled is called after each handler attempt with its outcome and duration.
	Handled func(eventType string, outcome Outcome, d time.Duration)
	// PollRequest is called after each poll request: the HTTP status (0 when no answer
	// came), the number of SETs received, acknowledged and reported as errors, the
	// duration, and the error, if any.
	PollRequest func(status, sets, acks, setErrs int, d time.Duration, err error)
}

func (h *Hooks) received(t Transport) {
	if h.Received != nil {
		h.Received(t)
	}
}

func (h *Hooks) verified(t Transport, eventType string, l set.Leniency) {
	if h.Verified != nil {
		h.Verified(t, eventType, l)
	}
}

func (h *Hooks) rejected(t Transport, code string) {
	if h.Rejected != nil {
		h.Rejected(t, code)
	}
}

func (h *Hooks) duplicate(t Transport) {
	if h.Duplicate != nil {
		h.Duplicate(t)
	}
}

func (h *Hooks) discarded(t Transport, eventType string) {
	if h.Discarded != nil {
		h.Discarded(t, eventType)
	}
}

func (h *Hooks) tolerated(t Transport, what string) {
	if h.Tolerated != nil {
		h.Tolerated(t, what)
	}
}

func (h *Hooks) handled(eventType string, o Outcome, d time.Duration) {
	if h.Handled != nil {
		h.Handled(eventType, o, d)
	}
}

func (h *Hooks) pollRequest(status, sets, acks, setErrs int, d time.Duration, err error) {
	if h.PollRequest != nil {
		h.PollRequest(status, sets, acks, setErrs, d, err)
	}
}
