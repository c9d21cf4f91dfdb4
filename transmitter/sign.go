package transmitter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/subject"
)

// emitter builds and signs the SETs of a Transmitter with the active signing key. Every
// SET it makes (emitted events, verification, stream-updated) goes through token and
// signAll.
type emitter struct {
	t      *Transmitter
	active atomic.Pointer[activeSigner]
	mu     sync.Mutex // serialises signer creation after a rotation
}

// activeSigner holds the set.Signers of one signing key, one per SET profile.
type activeSigner struct {
	key     *keys.SigningKey
	signers [set.ProfileLegacy + 1]*set.Signer // indexed by set.Profile
}

// forProfile returns the signer of profile p (stores refuse unknown profiles; one would
// get the Final shape).
func (a *activeSigner) forProfile(p set.Profile) *set.Signer {
	if p >= 0 && int(p) < len(a.signers) {
		return a.signers[p]
	}
	return a.signers[set.ProfileFinal]
}

func newEmitter(t *Transmitter) (*emitter, error) {
	e := &emitter{t: t}
	if _, err := e.signer(); err != nil {
		return nil, fmt.Errorf("transmitter: Config.Keys: %w", err)
	}
	return e, nil
}

// signer returns the signers of the currently active key (keys.SigningKeys.Rotate
// changes it at any time).
func (e *emitter) signer() (*activeSigner, error) {
	k := e.t.cfg.Keys.Active()
	if a := e.active.Load(); a != nil && a.key == k {
		return a, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if a := e.active.Load(); a != nil && a.key == k {
		return a, nil
	}
	a := &activeSigner{key: k}
	for p := range a.signers {
		s, err := set.NewSigner(k, set.SignerOptions{Profile: set.Profile(p)})
		if err != nil {
			return nil, err
		}
		a.signers[p] = s
	}
	e.active.Store(a)
	return a, nil
}

// token builds the claims of one SET for stream s (SSF §4): the stream's iss and aud, a
// fresh jti, iat now (whole seconds), txn, toe, sub_id subj and the one event ev.
func (e *emitter) token(s *store.Stream, subj subject.Identifier, ev event.Event, txn string, toe, now time.Time) *set.Token {
	return &set.Token{
		Issuer:      s.Config.Issuer,
		IssuedAt:    now,
		JTI:         newID(),
		Audience:    s.Config.Audience,
		TxnID:       txn,
		TimeOfEvent: toe,
		Subject:     subj,
		Event:       ev,
	}
}

// outbox signs tok and returns it as the outbox record of stream streamID.
func (e *emitter) outbox(sg *set.Signer, streamID string, tok *set.Token, now time.Time) (*store.OutboxSET, error) {
	compact, err := sg.Sign(tok)
	if err != nil {
		return nil, signErr(err)
	}
	return &store.OutboxSET{
		StreamID:  streamID,
		JTI:       tok.JTI,
		SET:       compact,
		EventType: tok.Event.Type(),
		CreatedAt: now,
	}, nil
}

// signErr maps a signing failure: a token the event or subject made invalid is the
// caller's 400, anything else (the key) is internal.
func signErr(err error) error {
	if _, ok := errors.AsType[*set.Error](err); ok || errors.Is(err, event.ErrInvalid) || errors.Is(err, subject.ErrInvalid) {
		return ssf.Errorf(http.StatusBadRequest, "the event cannot be sent: %w", err)
	}
	return fmt.Errorf("transmitter: signing a SET: %w", err)
}

// streamSET builds and signs a SET about stream s itself (sub_id the stream's opaque
// subject, SSF-VERIFY-3, SSF-UPDATED-5), with a fresh txn, in the stream's profile:
// verification and stream-updated events.
func (e *emitter) streamSET(s *store.Stream, ev event.Event) (*store.OutboxSET, error) {
	a, err := e.signer()
	if err != nil {
		return nil, fmt.Errorf("transmitter: %w", err)
	}
	now := e.t.now().Truncate(time.Second)
	return e.outbox(a.forProfile(s.Profile), s.ID, e.token(s, streamSubject(s.ID), ev, newID(), time.Time{}, now), now)
}

// minParallelSigning is the fan-out below which signing stays on one goroutine.
const minParallelSigning = 4

// sign builds and signs one SET per stream for the event ev about subj, each in its
// stream's profile, in parallel across up to Config.SigningConcurrency goroutines.
func (e *emitter) sign(ctx context.Context, streams []*store.Stream, subj subject.Identifier, ev event.Event, txn string, toe time.Time) ([]*store.OutboxSET, error) {
	a, err := e.signer()
	if err != nil {
		return nil, fmt.Errorf("transmitter: %w", err)
	}
	now := e.t.now().Truncate(time.Second)
	out := make([]*store.OutboxSET, len(streams))
	workers := min(e.t.signers, len(streams))
	if len(streams) < minParallelSigning || workers <= 1 {
		for i, s := range streams {
			if out[i], err = e.outbox(a.forProfile(s.Profile), s.ID, e.token(s, subj, ev, txn, toe, now), now); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	var (
		wg       sync.WaitGroup
		next     atomic.Int64
		firstErr error
		errOnce  sync.Once
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(streams) || ctx.Err() != nil {
					return
				}
				s := streams[i]
				set, err := e.outbox(a.forProfile(s.Profile), s.ID, e.token(s, subj, ev, txn, toe, now), now)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(len(streams))) // stop the others
					return
				}
				out[i] = set
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
