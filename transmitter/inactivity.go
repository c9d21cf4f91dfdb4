package transmitter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// Run does the Transmitter's background work until ctx is done, then returns nil:
// every Config.InactivityCheckInterval it runs [Transmitter.CheckInactivity]. Errors
// of a pass are logged and the next pass runs as scheduled.
func (t *Transmitter) Run(ctx context.Context) error {
	tick := time.NewTicker(t.cfg.InactivityCheckInterval)
	defer tick.Stop()
	for {
		if _, err := t.CheckInactivity(ctx); err != nil && ctx.Err() == nil {
			t.log.Error("inactivity check failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// CheckInactivity pauses or disables (Config.InactivityStatus) every enabled stream
// whose inactivity_timeout elapsed without Receiver activity (SSF-STREAM-13), with a
// Stream Updated SET whose reason names the inactivity (SSF-UPDATED-2), and returns the
// ids of the streams it stopped. Receiver activity is every successful management call
// that references the stream (listing included, AMB-14) and every authorized poll;
// deliveries do not count.
func (t *Transmitter) CheckInactivity(ctx context.Context) ([]string, error) {
	list, err := t.cfg.Store.ListStreams(ctx, store.StreamFilter{})
	if err != nil {
		return nil, storeErr("listing streams", "", err)
	}
	var (
		stopped []string
		errs    []error
	)
	for _, s := range list {
		if ctx.Err() != nil {
			return stopped, ctx.Err()
		}
		timeout, idle := t.idle(s)
		if !idle {
			continue
		}
		reason := fmt.Sprintf("no receiver activity for longer than the inactivity_timeout of %s", timeout)
		_, err := t.changeStatusIf(ctx, s.ID, t.cfg.InactivityStatus, reason, t.idle)
		switch {
		case errors.Is(err, errStillActive), errors.Is(err, ssf.ErrNotFound):
		case err != nil:
			errs = append(errs, fmt.Errorf("stream %s: %w", s.ID, err))
		default:
			t.log.Info("stream stopped for inactivity", "stream_id", s.ID, "status", t.cfg.InactivityStatus, "inactivity_timeout", timeout)
			stopped = append(stopped, s.ID)
		}
	}
	return stopped, errors.Join(errs...)
}

// idle reports whether s is enabled and idle for longer than its inactivity_timeout.
func (t *Transmitter) idle(s *store.Stream) (time.Duration, bool) {
	p := s.Config.InactivityTimeout
	if s.Status != ssf.StatusEnabled || p == nil || *p <= 0 {
		return 0, false
	}
	timeout := time.Duration(*p) * time.Second
	last := s.LastActivityAt
	if last.IsZero() {
		last = s.CreatedAt
	}
	return timeout, t.now().Sub(last) > timeout
}

// errStillActive aborts an inactivity stop when the stream saw activity meanwhile.
var errStillActive = errors.New("transmitter: the stream is active again")

// changeStatusIf is changeStatus by the Transmitter, applied only while cond still holds
// on the freshly read stream (the check and the change are one read-modify-write).
func (t *Transmitter) changeStatusIf(ctx context.Context, streamID string, to ssf.Status, reason string, cond func(*store.Stream) (time.Duration, bool)) (*ssf.StreamStatus, error) {
	return t.changeStatusChecked(ctx, nil, streamID, to, reason, func(s *store.Stream) error {
		if _, ok := cond(s); !ok {
			return errStillActive
		}
		return nil
	})
}
