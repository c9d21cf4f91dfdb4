package transmitter

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// Verify implements [ssf.Manager] (SSF §8.1.4.2): it queues a Verification SET whose
// sub_id is the stream's opaque subject and whose "state" echoes req.State, and records
// the request time, in one store transaction. A request sooner than the stream's
// min_verification_interval after the previous one is refused with a
// *ssf.RateLimitError saying how long to wait (429 with Retry-After). A disabled stream
// cannot deliver the event (SSF-STATUS-3): 400 asking to enable it first. On a paused
// stream the event is held like any other.
func (t *Transmitter) Verify(ctx context.Context, req ssf.VerifyRequest) error {
	c, err := t.client(ctx)
	if err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return badRequest(err)
	}
	var queued *store.OutboxSET
	_, err = t.modify(ctx, c, req.StreamID, func(s *store.Stream) (store.StreamChange, error) {
		if s.Status == ssf.StatusDisabled {
			return store.StreamChange{}, ssf.Errorf(http.StatusBadRequest, "stream %q is disabled and delivers no events; enable it with the status endpoint before requesting verification (SSF §8.1.2.1)", s.ID)
		}
		now := t.now()
		if p := s.Config.MinVerificationInterval; p != nil && *p > 0 && !s.LastVerificationAt.IsZero() {
			interval := time.Duration(*p) * time.Second
			if wait := s.LastVerificationAt.Add(interval).Sub(now); wait > 0 {
				return store.StreamChange{}, &ssf.RateLimitError{
					RetryAfter:  wait,
					Description: fmt.Sprintf("verification requested again within min_verification_interval (%d s) of the previous request", *p),
				}
			}
		}
		set, err := t.emitter.streamSET(s, &ssf.Verification{State: req.State})
		if err != nil {
			return store.StreamChange{}, err
		}
		s.LastVerificationAt, s.LastActivityAt = now, now
		queued = set
		return store.StreamChange{Enqueue: []*store.OutboxSET{set}}, nil
	})
	if err != nil {
		return err
	}
	t.queuedHook(queued)
	if h := t.cfg.Hooks.VerificationRequested; h != nil {
		h(req.StreamID, true)
	}
	return nil
}

// SendVerification queues a Transmitter-initiated Verification SET on a stream, without
// "state" (SSF-VERIFY-6, AMB-22), whichever client owns it. It is neither rate limited
// nor Receiver activity. A disabled stream is refused (400).
func (t *Transmitter) SendVerification(ctx context.Context, streamID string) error {
	s, err := t.cfg.Store.GetStream(ctx, streamID)
	if err != nil {
		return storeErr("reading the stream", streamID, err)
	}
	if s.Status == ssf.StatusDisabled {
		return ssf.Errorf(http.StatusBadRequest, "stream %q is disabled and delivers no events", streamID)
	}
	return t.enqueueVerification(ctx, s, "", false)
}

// enqueueVerification queues a Verification SET with state on s.
func (t *Transmitter) enqueueVerification(ctx context.Context, s *store.Stream, state string, solicited bool) error {
	set, err := t.emitter.streamSET(s, &ssf.Verification{State: state})
	if err != nil {
		return err
	}
	if err := t.cfg.Store.Enqueue(ctx, []*store.OutboxSET{set}); err != nil {
		return storeErr("queueing the verification SET", s.ID, err)
	}
	t.queuedHook(set)
	if h := t.cfg.Hooks.VerificationRequested; h != nil {
		h(s.ID, solicited)
	}
	return nil
}
