package transmitter

import (
	"context"
	"fmt"
	"net/http"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/subject"
)

// AddSubject implements [ssf.Manager] (SSF §8.1.3.2): the subject is included in the
// stream (Included true, Verified as sent, true when omitted), keyed by its canonical
// form (subject.Canonical). Whether events flow for it also depends on the event types
// and the stream status; success says nothing about a subject's existence (SEC-9).
func (t *Transmitter) AddSubject(ctx context.Context, req ssf.AddSubjectRequest) error {
	c, err := t.client(ctx)
	if err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return badRequest(err)
	}
	canonical, err := subject.Canonical(req.Subject)
	if err != nil {
		return badRequest(err)
	}
	s, err := t.ownStream(ctx, c, req.StreamID)
	if err != nil {
		return err
	}
	if isStreamSubject(req.Subject, s.ID) {
		// Always part of the stream (SSF-SUBJECT-9): nothing to record.
		t.touch(ctx, s.ID)
		return nil
	}
	err = t.cfg.Store.PutSubject(ctx, &store.Subject{
		StreamID:  s.ID,
		Subject:   canonical,
		Included:  true,
		Verified:  req.IsVerified(),
		UpdatedAt: t.now(),
	})
	if err != nil {
		return storeErr("adding the subject", s.ID, err)
	}
	t.touch(ctx, s.ID)
	return nil
}

// RemoveSubject implements [ssf.Manager] (SSF §8.1.3.3): the subject is excluded from
// the stream (Included false), which under default_subjects ALL stops its events and
// under NONE undoes an earlier add. The stream's own subject ({"format": "opaque",
// "id": <stream_id>}) cannot be removed (SSF-SUBJECT-9): 400.
func (t *Transmitter) RemoveSubject(ctx context.Context, req ssf.RemoveSubjectRequest) error {
	c, err := t.client(ctx)
	if err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return badRequest(err)
	}
	canonical, err := subject.Canonical(req.Subject)
	if err != nil {
		return badRequest(err)
	}
	s, err := t.ownStream(ctx, c, req.StreamID)
	if err != nil {
		return err
	}
	if isStreamSubject(req.Subject, s.ID) {
		return ssf.Errorf(http.StatusBadRequest, "the subject %s identifies the stream itself and cannot be removed: it carries the stream's verification and stream-updated events (SSF §8.1.4.1, §8.1.5)", fmt.Sprintf(`{"format":"opaque","id":%q}`, s.ID))
	}
	err = t.cfg.Store.PutSubject(ctx, &store.Subject{
		StreamID:  s.ID,
		Subject:   canonical,
		Included:  false,
		Verified:  true,
		UpdatedAt: t.now(),
	})
	if err != nil {
		return storeErr("removing the subject", s.ID, err)
	}
	t.touch(ctx, s.ID)
	return nil
}

// streamSubject is the subject of a stream's own events (SSF-VERIFY-3, SSF-UPDATED-5).
func streamSubject(streamID string) subject.Identifier {
	return &subject.Opaque{ID: streamID}
}

func isStreamSubject(id subject.Identifier, streamID string) bool {
	return subject.Equal(id, streamSubject(streamID))
}
