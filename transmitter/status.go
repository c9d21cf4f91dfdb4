package transmitter

import (
	"context"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// GetStatus implements [ssf.Manager] (SSF §8.1.2.1). It counts as Receiver activity.
func (t *Transmitter) GetStatus(ctx context.Context, streamID string) (*ssf.StreamStatus, error) {
	s, err := t.readStream(ctx, streamID)
	if err != nil {
		return nil, err
	}
	return &ssf.StreamStatus{StreamID: s.ID, Status: s.Status, Reason: s.StatusReason}, nil
}

// UpdateStatus implements [ssf.Manager] (SSF §8.1.2.2) for the client in ctx: the
// stream's status becomes req.Status with req.Reason. Every change of status queues a
// Stream Updated SET (AMB-15): when the stream stops (the new status is paused or
// disabled) the SET is a Control SET, delivered although the stream is stopped ("sent
// before stopping", SSF §8.1.5), and when it becomes disabled its pending SETs are
// purged in the same transaction (a disabled stream holds nothing, SSF §8.1.2.1). A
// request for the current status changes only the reason and queues nothing. The
// answer is never 202: the Transmitter always decides at once.
func (t *Transmitter) UpdateStatus(ctx context.Context, req ssf.StreamStatus) (*ssf.StreamStatus, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, badRequest(err)
	}
	return t.changeStatus(ctx, c, req.StreamID, req.Status, req.Reason)
}

// SetStatus changes a stream's status on the Transmitter's own initiative (an operator
// or a policy, SSF-STATUS-1), whichever client owns it; the Stream Updated SET is
// queued as for [Transmitter.UpdateStatus] (SSF-UPDATED-2). It is not Receiver
// activity.
func (t *Transmitter) SetStatus(ctx context.Context, streamID string, status ssf.Status, reason string) (*ssf.StreamStatus, error) {
	req := ssf.StreamStatus{StreamID: streamID, Status: status, Reason: reason}
	if err := req.Validate(); err != nil {
		return nil, badRequest(err)
	}
	return t.changeStatus(ctx, nil, streamID, status, reason)
}

// changeStatus sets the status of streamID for client c (nil: the Transmitter itself).
func (t *Transmitter) changeStatus(ctx context.Context, c *Client, streamID string, to ssf.Status, reason string) (*ssf.StreamStatus, error) {
	return t.changeStatusChecked(ctx, c, streamID, to, reason, nil)
}

// changeStatusChecked is changeStatus that first runs check, when not nil, on the
// stream as read in the same read-modify-write; an error of check aborts.
func (t *Transmitter) changeStatusChecked(ctx context.Context, c *Client, streamID string, to ssf.Status, reason string, check func(*store.Stream) error) (*ssf.StreamStatus, error) {
	var (
		from   ssf.Status
		queued *store.OutboxSET
	)
	s, err := t.modify(ctx, c, streamID, func(s *store.Stream) (store.StreamChange, error) {
		if check != nil {
			if err := check(s); err != nil {
				return store.StreamChange{}, err
			}
		}
		now := t.now()
		from, queued = s.Status, nil
		if c != nil {
			s.LastActivityAt = now
		}
		s.UpdatedAt = now
		if s.Status == to {
			s.StatusReason = reason
			return store.StreamChange{}, nil
		}
		set, err := t.emitter.streamSET(s, &ssf.StreamUpdated{Status: to, Reason: reason})
		if err != nil {
			return store.StreamChange{}, err
		}
		set.Control = to != ssf.StatusEnabled
		s.Status, s.StatusReason = to, reason
		queued = set
		return store.StreamChange{Enqueue: []*store.OutboxSET{set}, PurgeOutbox: to == ssf.StatusDisabled}, nil
	})
	if err != nil {
		return nil, err
	}
	if queued != nil {
		t.log.Info("stream status changed", "stream_id", s.ID, "from", from, "to", to, "by_transmitter", c == nil)
		t.queuedHook(queued)
		if h := t.cfg.Hooks.StatusChanged; h != nil {
			h(s.ID, from, to, c == nil)
		}
	}
	return &ssf.StreamStatus{StreamID: s.ID, Status: s.Status, Reason: s.StatusReason}, nil
}

func (t *Transmitter) queuedHook(sets ...*store.OutboxSET) {
	if h := t.cfg.Hooks.SETQueued; h != nil {
		for _, s := range sets {
			h(s.StreamID, s.EventType)
		}
	}
}
