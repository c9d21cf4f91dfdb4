package transmitter

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/subject"
)

// streamIndex is what Emit matches events against: every stream that receives events
// (enabled or paused), with its events_delivered as a set and its subjects parsed, as
// read at one store.StreamsVersion. It is never modified once built.
type streamIndex struct {
	version int64
	streams []*indexedStream // in stream creation order
}

type indexedStream struct {
	s        *store.Stream
	events   map[string]bool
	subjects []indexedSubject // in ListSubjects order (UpdatedAt): the last match decides
}

type indexedSubject struct {
	id       subject.Identifier
	included bool
}

// indexCache holds the current streamIndex of a Transmitter.
type indexCache struct {
	mu  sync.Mutex // serialises rebuilds
	cur atomic.Pointer[streamIndex]
}

// streamIndex returns an index of the streams that is current: Emit reads
// store.StreamsVersion (one cheap read) and rebuilds the index only when a stream or a
// subject changed since it was built, on this node or another sharing the store. The
// version is read before the streams, so an index is never older than its version; a
// stream created, changed or deleted by a call that returned before Emit started is
// always seen (the same consistency as reading the streams for every event).
func (t *Transmitter) streamIndex(ctx context.Context) (*streamIndex, error) {
	v, err := t.cfg.Store.StreamsVersion(ctx)
	if err != nil {
		return nil, storeErr("reading the streams version", "", err)
	}
	if ix := t.index.cur.Load(); ix != nil && ix.version >= v {
		return ix, nil
	}
	t.index.mu.Lock()
	defer t.index.mu.Unlock()
	if ix := t.index.cur.Load(); ix != nil && ix.version >= v {
		return ix, nil
	}
	ix, err := t.buildIndex(ctx, v)
	if err != nil {
		return nil, err
	}
	t.index.cur.Store(ix)
	return ix, nil
}

// buildIndex reads every stream that receives events and its subjects.
func (t *Transmitter) buildIndex(ctx context.Context, version int64) (*streamIndex, error) {
	all, err := t.cfg.Store.ListStreams(ctx, store.StreamFilter{})
	if err != nil {
		return nil, storeErr("listing streams", "", err)
	}
	ix := &streamIndex{version: version, streams: make([]*indexedStream, 0, len(all))}
	for _, s := range all {
		if s.Status == ssf.StatusDisabled {
			continue // a disabled stream holds no events (SSF §8.1.2.1)
		}
		is := &indexedStream{s: s, events: make(map[string]bool, len(s.Config.EventsDelivered))}
		for _, typ := range s.Config.EventsDelivered {
			is.events[typ] = true
		}
		subs, err := t.cfg.Store.ListSubjects(ctx, s.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, storeErr("listing subjects", s.ID, err)
		}
		for _, rec := range subs {
			id, err := t.subjects.parse(rec.Subject)
			if err != nil {
				t.log.Warn("stored subject does not parse; ignored", "stream_id", s.ID, "error", err)
				continue
			}
			is.subjects = append(is.subjects, indexedSubject{id: id, included: rec.Included})
		}
		ix.streams = append(ix.streams, is)
	}
	return ix, nil
}

// receives reports whether the stream receives an event of type typ about subj (see
// Emit): the most recent matching add or remove, else default_subjects.
func (is *indexedStream) receives(typ string, subj subject.Identifier, defaultIn bool) bool {
	if !is.events[typ] {
		return false
	}
	in := defaultIn
	for _, sub := range is.subjects {
		if subject.Match(sub.id, subj) {
			in = sub.included
		}
	}
	return in
}
