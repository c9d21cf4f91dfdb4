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
	s, canonical, err := t.subjectStream(ctx, req.Validate, req.Subject, req.StreamID, "add-subject")
	if err != nil {
		return err
	}
	if isStreamSubject(req.Subject, s.ID) {
		// Always part of the stream (SSF-SUBJECT-9): nothing to record.
		t.touch(ctx, s.ID)
		return nil
	}
	return t.putSubject(ctx, s.ID, canonical, true, req.IsVerified(), "adding the subject")
}

// RemoveSubject implements [ssf.Manager] (SSF §8.1.3.3): the subject is excluded from
// the stream (Included false), which under default_subjects ALL stops its events and
// under NONE undoes an earlier add. The stream's own subject ({"format": "opaque",
// "id": <stream_id>}) cannot be removed (SSF-SUBJECT-9): 400.
func (t *Transmitter) RemoveSubject(ctx context.Context, req ssf.RemoveSubjectRequest) error {
	s, canonical, err := t.subjectStream(ctx, req.Validate, req.Subject, req.StreamID, "remove-subject")
	if err != nil {
		return err
	}
	if isStreamSubject(req.Subject, s.ID) {
		return ssf.Errorf(http.StatusBadRequest, "the subject %s identifies the stream itself and cannot be removed: it carries the stream's verification and stream-updated events (SSF §8.1.4.1, §8.1.5)", fmt.Sprintf(`{"format":"opaque","id":%q}`, s.ID))
	}
	return t.putSubject(ctx, s.ID, canonical, false, true, "removing the subject")
}

// subjectStream does what adding and removing a subject start with: the client in ctx,
// the client's rate limit for what (429, SEC-13), the request checked with validate
// (400), the subject's canonical form (400 when it has none) and the client's stream.
func (t *Transmitter) subjectStream(ctx context.Context, validate func() error, id subject.Identifier, streamID, what string) (*store.Stream, []byte, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := t.subjectRL.allow(c.ID, what, t.now()); err != nil {
		return nil, nil, err
	}
	if err := validate(); err != nil {
		return nil, nil, badRequest(err)
	}
	canonical, err := subject.Canonical(id)
	if err != nil {
		return nil, nil, badRequest(err)
	}
	s, err := t.ownStream(ctx, c, streamID)
	if err != nil {
		return nil, nil, err
	}
	return s, canonical, nil
}

// putSubject records whether the subject with the canonical form is included in the
// stream, which counts as Receiver activity; doing names the operation in a store error.
func (t *Transmitter) putSubject(ctx context.Context, streamID string, canonical []byte, included, verified bool, doing string) error {
	err := t.cfg.Store.PutSubject(ctx, &store.Subject{
		StreamID:  streamID,
		Subject:   canonical,
		Included:  included,
		Verified:  verified,
		UpdatedAt: t.now(),
	})
	if err != nil {
		return storeErr(doing, streamID, err)
	}
	t.touch(ctx, streamID)
	return nil
}

// streamSubject is the subject of a stream's own events (SSF-VERIFY-3, SSF-UPDATED-5).
func streamSubject(streamID string) subject.Identifier {
	return &subject.Opaque{ID: streamID}
}

func isStreamSubject(id subject.Identifier, streamID string) bool {
	return subject.Equal(id, streamSubject(streamID))
}
