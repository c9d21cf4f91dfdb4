package transmitter

import (
	"context"
	"net/http"

	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// SetProfile changes the SET profile of stream streamID, of any client (an operator
// action, vendors §5.2 item 1): the SETs signed afterwards (emitted events, verification,
// stream-updated) have the new shape; SETs queued already keep theirs. An unknown stream
// is ssf.ErrNotFound, an unknown profile ssf.ErrBadRequest.
func (t *Transmitter) SetProfile(ctx context.Context, streamID string, p set.Profile) error {
	if _, err := store.ParseProfile(p.String()); err != nil {
		return ssf.Errorf(http.StatusBadRequest, "%v", err)
	}
	_, err := t.modify(ctx, nil, streamID, func(s *store.Stream) (store.StreamChange, error) {
		s.Profile = p
		s.UpdatedAt = t.now()
		return store.StreamChange{}, nil
	})
	if err != nil {
		return err
	}
	t.log.Info("stream SET profile changed", "stream_id", streamID, "profile", p.String())
	return nil
}

// adminProfile serves POST <base>/admin/streams/{id}/profile with {"profile": "final",
// "hybrid" or "legacy"}; it answers {"stream_id": ..., "profile": ...}.
func (t *Transmitter) adminProfile(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Profile string `json:"profile"`
	}
	if err := t.decodeAdmin(w, r, &req, false); err != nil {
		return err
	}
	if req.Profile == "" {
		return ssf.Errorf(http.StatusBadRequest, "member \"profile\" is required: final, hybrid or legacy")
	}
	p, err := store.ParseProfile(req.Profile)
	if err != nil {
		return ssf.Errorf(http.StatusBadRequest, "member \"profile\": %v", err)
	}
	id := r.PathValue("id")
	if err := t.SetProfile(r.Context(), id, p); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"stream_id": id, "profile": p.String()})
	return nil
}
