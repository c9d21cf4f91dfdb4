package poll

import (
	"context"

	"github.com/sigshare/sigshare/store"
)

// giveBack gives back the leases of SETs leased for a poll that was never answered (the
// client went away, or the node stopped and ended its long polls): they were not sent,
// so they are deliverable again at once (store.Release, no attempt counted) instead of
// after the lease (POLL-8). SETs whose lease the handler could not learn of (a Lease cut
// off by the request's end) still come back after their lease.
func (h *Handler) giveBack(ctx context.Context, streamID string, sets []*store.OutboxSET) {
	if len(sets) == 0 {
		return
	}
	jtis := make([]string, len(sets))
	for i, s := range sets {
		jtis[i] = s.JTI
	}
	if _, err := h.cfg.Store.Release(ctx, streamID, jtis, h.cfg.Owner); err != nil {
		h.cfg.Logger.Error("poll: giving back the SETs of an unanswered poll failed; they come back after their lease",
			"stream_id", streamID, "sets", len(jtis), "err", err)
	}
}
