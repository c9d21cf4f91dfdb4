package transmitter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/subject"
)

// EmitOptions are the per-event options of [Transmitter.Emit].
type EmitOptions struct {
	// Txn is the SETs' "txn" claim: the identifier of the underlying event, shared by
	// every SET it causes (SSF §4.1.9, AMB-24). Empty: a fresh random value per event
	// (SET-8 SHOULD).
	Txn string
	// TimeOfEvent is the SETs' "toe" claim: when the event happened (RFC 8417 §2.2).
	// Zero: omitted (CAEP events carry event_timestamp in their payload instead).
	TimeOfEvent time.Time
}

// EmitResult says where an event was queued.
type EmitResult struct {
	// EventType is the event's type URI.
	EventType string `json:"event_type"`
	// Txn is the "txn" of the SETs.
	Txn string `json:"txn"`
	// SETs lists one SET per matching stream, in stream creation order; empty when no
	// stream matched.
	SETs []QueuedSET `json:"sets"`
}

// QueuedSET names one SET written to the outbox.
type QueuedSET struct {
	StreamID string `json:"stream_id"`
	JTI      string `json:"jti"`
}

// maxEmitRetries bounds the retries of an Emit whose Enqueue met a stream deleted
// meanwhile.
const maxEmitRetries = 3

// Emit queues the event ev about subj on every stream that should receive it, and
// returns where it went. A stream receives it when:
//
//   - its status is enabled or paused (a paused stream holds it until enabled; a
//     disabled stream gets nothing, SSF §8.1.2.1);
//   - ev's type is in its events_delivered;
//   - subj is in the stream: among the stream's added (included) and removed
//     (excluded) subjects that match subj (subject.Match, SSF §8.1.3.1), the most
//     recently added or removed one decides; when none matches, default_subjects
//     decides (ALL: yes, NONE: no).
//
// For each such stream one SET is built (that stream's "aud", a fresh "jti", "iat" now,
// the "txn" of opts, "sub_id" subj, the one event ev), signed with the active key in the
// stream's SET profile (store.Stream.Profile: SSF 1.0 Final, hybrid or legacy, vendors
// §5.2) (in parallel for large fan-outs), and all of them are written with one
// store.Enqueue: the event is queued for every matching stream or for none.
//
// The streams and their subjects are not read for every event: Emit keeps them parsed
// and reads store.StreamsVersion instead, rebuilding its view when any stream or subject
// changed. A stream created, changed or deleted, on this node or another sharing the
// store, by a call that returned before Emit was called is always taken into account.
//
// Emit refuses with an error matching ssf.ErrBadRequest: an invalid subject or event; a
// deprecated event type (event.Deprecated, e.g. RISC sessions-revoked: emit CAEP
// session-revoked); a legacy alias URI; a type not in the Transmitter's events_supported;
// and the SSF verification and stream-updated types, which belong to
// [Transmitter.Verify], [Transmitter.SendVerification] and [Transmitter.SetStatus].
func (t *Transmitter) Emit(ctx context.Context, subj subject.Identifier, ev event.Event, opts EmitOptions) (*EmitResult, error) {
	if err := t.checkEmit(subj, ev); err != nil {
		return nil, err
	}
	typ := ev.Type()
	txn := opts.Txn
	if txn == "" {
		txn = newID()
	}
	res := &EmitResult{EventType: typ, Txn: txn}
	for attempt := 0; ; attempt++ {
		streams, err := t.matchingStreams(ctx, subj, typ)
		if err != nil {
			return nil, err
		}
		if len(streams) == 0 {
			res.SETs = []QueuedSET{}
			break
		}
		sets, err := t.emitter.sign(ctx, streams, subj, ev, txn, opts.TimeOfEvent)
		if err != nil {
			return nil, err
		}
		err = t.cfg.Store.Enqueue(ctx, sets)
		if errors.Is(err, store.ErrNotFound) && attempt < maxEmitRetries {
			continue // a stream was deleted since it was listed: match again
		}
		if err != nil {
			return nil, storeErr("queueing the event", "", err)
		}
		res.SETs = make([]QueuedSET, len(sets))
		for i, s := range sets {
			res.SETs[i] = QueuedSET{StreamID: s.StreamID, JTI: s.JTI}
		}
		t.queuedHook(sets...)
		break
	}
	if h := t.cfg.Hooks.EventAccepted; h != nil {
		h(typ, len(res.SETs))
	}
	t.log.Debug("event emitted", "event_type", typ, "txn", txn, "streams", len(res.SETs))
	return res, nil
}

// checkEmit validates what Emit is asked to send.
func (t *Transmitter) checkEmit(subj subject.Identifier, ev event.Event) error {
	if subj == nil {
		return ssf.Errorf(http.StatusBadRequest, "the event has no subject")
	}
	if err := subj.Validate(); err != nil {
		return ssf.Errorf(http.StatusBadRequest, "invalid subject: %w", err)
	}
	if ev == nil {
		return ssf.Errorf(http.StatusBadRequest, "no event")
	}
	typ := ev.Type()
	if d, ok := ev.(event.Deprecated); ok {
		return ssf.Errorf(http.StatusBadRequest, "event type %s is deprecated: emit %s instead", typ, d.ReplacedBy())
	}
	if c, ok := t.registry.Canonical(typ); ok && c != typ {
		return ssf.Errorf(http.StatusBadRequest, "event type %s is a legacy alias: emit %s", typ, c)
	}
	switch typ {
	case ssf.EventTypeVerification, ssf.EventTypeStreamUpdated:
		return ssf.Errorf(http.StatusBadRequest, "event type %s is about a stream, not a subject: use the verification or status operations", typ)
	}
	if !t.isSupp[typ] {
		return ssf.Errorf(http.StatusBadRequest, "event type %s is not supported by this transmitter (events_supported)", typ)
	}
	if err := ev.Validate(); err != nil {
		return ssf.Errorf(http.StatusBadRequest, "invalid event: %w", err)
	}
	return nil
}

// matchingStreams lists the streams that receive an event of type typ about subj, from
// the current stream index (see streamIndex).
func (t *Transmitter) matchingStreams(ctx context.Context, subj subject.Identifier, typ string) ([]*store.Stream, error) {
	ix, err := t.streamIndex(ctx)
	if err != nil {
		return nil, err
	}
	defaultIn := t.cfg.DefaultSubjects == ssf.DefaultSubjectsAll
	var out []*store.Stream
	for _, is := range ix.streams {
		if is.receives(typ, subj, defaultIn) {
			out = append(out, is.s)
		}
	}
	return out, nil
}

// subjectCache keeps parsed stored subjects, keyed by their canonical JSON.
type subjectCache struct {
	mu sync.Mutex
	m  map[string]subject.Identifier
}

const maxCachedSubjects = 1 << 14

func (c *subjectCache) parse(canonical []byte) (subject.Identifier, error) {
	c.mu.Lock()
	id, ok := c.m[string(canonical)]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	id, err := subject.Parse(canonical)
	if err != nil {
		return nil, fmt.Errorf("transmitter: stored subject: %w", err)
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedSubjects {
		c.m = make(map[string]subject.Identifier)
	}
	c.m[string(canonical)] = id
	c.mu.Unlock()
	return id, nil
}
