package receiver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/subject"
)

// RecipientConfig configures [NewRecipient].
type RecipientConfig struct {
	// Verifier checks each SET (SET-20): signature with the Transmitter's keys, issuer,
	// audience, claims, event payload (required; see [NewStreamVerifier]).
	Verifier *set.Verifier
	// Inbox records each accepted SET durably before it is acknowledged, and
	// de-duplicates on (iss, jti) (required).
	Inbox store.InboxStore
	// StreamID is the Receiver's stream: a Verification or Stream Updated event must
	// name it as sub_id (SSF-VERIFY-3, SSF-UPDATED-5), and accepted SETs are recorded
	// under it. Empty means SETs of several streams arrive here: such an event is then
	// checked against the stream its own sub_id names.
	StreamID string
	// States are the verification states this Receiver requested (the Client's
	// ClientConfig.States). A Verification event with a state must carry one of them
	// for its stream, else it is refused with invalid_state (SSF §8.1.4.1); one
	// without state is accepted (AMB-22). Nil means no state was requested: every
	// Verification event with a state is refused.
	States *VerificationStates
	// SkipVerificationStateCheck accepts Verification events whatever their state.
	SkipVerificationStateCheck bool
	// Notify is called after a new SET was recorded (typically Worker.Notify). Nil
	// means nobody is told: the worker finds it at its next inbox poll.
	Notify func()
	// Hooks receive metrics events.
	Hooks Hooks
	// Logger receives an Info record per rejected SET (code and description, never the
	// SET), a Warn record per discarded SET, and a Debug record per accepted SET with
	// the compatibility tolerances it needed. Nil means no logging.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Recipient is the SET Recipient of RFC 8935 §2 and RFC 8936 §2: it validates each SET
// that arrives, by push or by poll, and records it in the inbox before the Transmitter is
// told it was received. Validation is [set.Verifier.Verify] (every check of SET-20),
// then for the SSF framework events the stream checks: a Verification event must name
// the stream and carry a state this Receiver requested, or none
// ([set.CheckVerification], [VerificationStates]); a Stream Updated event must name the
// stream ([set.CheckStreamUpdated]).
//
// A Recipient is safe for concurrent use.
type Recipient struct {
	verifier  *set.Verifier
	inbox     store.InboxStore
	streamID  string
	states    *VerificationStates
	skipState bool
	notify    func()
	hooks     Hooks
	log       *slog.Logger
	now       func() time.Time
}

// Receipt describes a SET the Recipient accepted.
type Receipt struct {
	// Token is the verified SET.
	Token *set.Token
	// Duplicate is true when (iss, jti) was recorded before: the SET is not recorded
	// again (PUSH-8, POLL-8).
	Duplicate bool
	// Existing is the earlier record of a duplicate.
	Existing *store.InboxSET
	// Discarded is true when the SET is valid but its event must not be processed
	// (SSF §3.6): it is recorded as processed, without dispatch.
	Discarded bool
	// DiscardReason says why, for a log.
	DiscardReason string
}

// discardOwner leases a discarded SET between InboxAdd and InboxDone, so that no worker
// dispatches it; discardMarker, in LastError, tells a worker that finds it (after a crash
// between the two calls) not to dispatch it.
const (
	discardOwner  = "sigshare-discard"
	discardMarker = "discarded: "
)

// NewRecipient checks cfg and returns a Recipient.
func NewRecipient(cfg RecipientConfig) (*Recipient, error) {
	if cfg.Verifier == nil {
		return nil, errors.New("receiver: RecipientConfig.Verifier is required")
	}
	if cfg.Inbox == nil {
		return nil, errors.New("receiver: RecipientConfig.Inbox is required")
	}
	r := &Recipient{
		verifier:  cfg.Verifier,
		inbox:     cfg.Inbox,
		streamID:  cfg.StreamID,
		states:    cfg.States,
		skipState: cfg.SkipVerificationStateCheck,
		notify:    cfg.Notify,
		hooks:     cfg.Hooks,
		log:       cfg.Logger,
		now:       cfg.Now,
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r, nil
}

// StreamID returns the stream the Recipient records SETs under.
func (r *Recipient) StreamID() string { return r.streamID }

// Receive validates raw, a SET in compact serialization that arrived over t, and
// records it in the inbox. ackStream, for a SET that came by poll, names the stream
// whose pending acknowledgements get its jti once it is processed (or dead); empty for
// push.
//
// The error is a [*set.Error] when the SET is refused (its Code is the RFC 8935 error
// code to report: a push answer or a poll setErrs entry); any other error means the SET
// could not be handled now (key set unreachable, inbox failure, ctx ended) and must not
// be acknowledged, so that the Transmitter sends it again.
func (r *Recipient) Receive(ctx context.Context, t Transport, raw, ackStream string) (*Receipt, error) {
	return r.receive(ctx, t, raw, ackStream, "")
}

// receive is Receive; a wantJTI that is not empty is the jti the SET was delivered under
// (the member name in a poll response), which the SET's own jti must equal.
func (r *Recipient) receive(ctx context.Context, t Transport, raw, ackStream, wantJTI string) (*Receipt, error) {
	r.hooks.received(t)
	tok, err := r.verifier.Verify(ctx, raw)
	rc := &Receipt{Token: tok}
	if err != nil {
		if tok != nil && errors.Is(err, set.ErrDiscard) {
			rc.Discarded, rc.DiscardReason = true, err.Error()
		} else {
			return nil, r.refuse(ctx, t, err)
		}
	}
	if wantJTI != "" && tok.JTI != wantJTI {
		return nil, r.refuse(ctx, t, &set.Error{Code: ssf.CodeInvalidRequest, Description: fmt.Sprintf("the SET's jti %q differs from the name %q it was delivered under (RFC 8936 §2.5)", truncate(tok.JTI, 64), truncate(wantJTI, 64))})
	}
	if err := r.checkStream(tok); err != nil {
		return nil, r.refuse(ctx, t, err)
	}
	typ := tok.Event.Type()
	r.hooks.verified(t, typ, tok.Leniency)
	if tok.Leniency != 0 {
		r.log.LogAttrs(ctx, slog.LevelDebug, "SET accepted with compatibility tolerances",
			slog.String("transport", string(t)), slog.String("iss", tok.Issuer), slog.String("jti", tok.JTI),
			slog.String("event_type", typ), slog.String("leniency", tok.Leniency.String()))
	}
	now := r.now()
	rec := &store.InboxSET{
		Issuer:     tok.Issuer,
		JTI:        tok.JTI,
		StreamID:   r.streamID,
		AckStream:  ackStream,
		SET:        raw,
		ReceivedAt: now,
	}
	if rc.Discarded {
		rec.LeaseOwner, rec.LeaseUntil = discardOwner, now.Add(24*time.Hour)
		rec.LastError = discardMarker + rc.DiscardReason
	}
	existing, err := r.inbox.InboxAdd(ctx, rec)
	if err != nil {
		return nil, fmt.Errorf("receiver: recording SET %q of %q in the inbox: %w", tok.JTI, tok.Issuer, err)
	}
	if existing != nil {
		r.hooks.duplicate(t)
		rc.Duplicate, rc.Existing = true, existing
		r.log.LogAttrs(ctx, slog.LevelDebug, "duplicate SET", slog.String("transport", string(t)),
			slog.String("iss", tok.Issuer), slog.String("jti", tok.JTI), slog.String("state", string(existing.State)))
		return rc, nil
	}
	if rc.Discarded {
		r.hooks.discarded(t, typ)
		r.log.LogAttrs(ctx, slog.LevelWarn, "SET event discarded", slog.String("transport", string(t)),
			slog.String("iss", tok.Issuer), slog.String("jti", tok.JTI), slog.String("event_type", typ),
			slog.String("reason", rc.DiscardReason))
		if err := r.inbox.InboxDone(ctx, tok.Issuer, tok.JTI, discardOwner, now); err != nil {
			// The worker finds the marker and finishes the record.
			r.log.LogAttrs(ctx, slog.LevelWarn, "marking a discarded SET done", slog.String("jti", tok.JTI), slog.Any("error", err))
		}
		return rc, nil
	}
	if r.notify != nil {
		r.notify()
	}
	return rc, nil
}

// refuse reports a verification failure: a *set.Error is counted and logged and
// returned as it is; anything else is wrapped as a temporary failure.
func (r *Recipient) refuse(ctx context.Context, t Transport, err error) error {
	se, ok := errors.AsType[*set.Error](err)
	if !ok {
		return fmt.Errorf("receiver: verifying a SET: %w", err)
	}
	r.hooks.rejected(t, se.Code)
	r.log.LogAttrs(ctx, slog.LevelInfo, "SET rejected", slog.String("transport", string(t)),
		slog.String("err", se.Code), slog.String("description", se.Description))
	return se
}

// checkStream applies the stream checks of the SSF framework events.
func (r *Recipient) checkStream(tok *set.Token) error {
	switch ev := tok.Event.(type) {
	case *ssf.Verification:
		stream := r.streamID
		if stream == "" {
			if o, ok := tok.Subject.(*subject.Opaque); ok {
				stream = o.ID
			}
		}
		if err := set.CheckVerification(tok, stream, ""); err != nil {
			return err
		}
		if !r.skipState && ev.State != "" && (r.states == nil || !r.states.Check(stream, ev.State)) {
			return &set.Error{Code: ssf.CodeInvalidState, Description: "the state of the verification event is not one this receiver requested for the stream (SSF §8.1.4.1)"}
		}
	case *ssf.StreamUpdated:
		if r.streamID != "" {
			return set.CheckStreamUpdated(tok, r.streamID)
		}
	}
	return nil
}

// isDiscardRecord reports whether an inbox record is a discarded SET (see discardMarker).
func isDiscardRecord(rec *store.InboxSET) bool {
	return strings.HasPrefix(rec.LastError, discardMarker)
}
