package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sigshare/sigshare/internal/netguard"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// Push request header values (RFC 8935 §2.1).
const (
	contentTypeSET = "application/secevent+jwt"
	acceptJSON     = "application/json"
)

// newGuardedClient returns the default client: netguard's dialer with the configured
// policy, no redirects, no proxy, RequestTimeout.
func newGuardedClient(cfg Config) *http.Client {
	p := netguard.Policy{
		AllowLoopback:  cfg.InsecureAllowLoopback,
		AllowPrivate:   cfg.InsecureAllowPrivate,
		AllowLinkLocal: cfg.InsecureAllowLinkLocal,
	}
	return p.NewClient(netguard.ClientOptions{
		Timeout:             cfg.RequestTimeout,
		DialTimeout:         min(cfg.RequestTimeout, 10*time.Second),
		MaxIdleConnsPerHost: max(4, cfg.Concurrency), // one per worker: streams often share a receiver host
		Transport:           cfg.Transport,
	})
}

// endpoint is what the engine derives from one revision of a stream.
type endpoint struct {
	url      string // the endpoint_url
	redacted string // for logs and LastError: no query, no user information
	auth     string // the Authorization header value, or ""
	err      error  // why the endpoint cannot be used
}

// cachedStream is a stream record as read at one store.StreamsVersion, with the endpoint
// derived from it.
type cachedStream struct {
	version int64
	stream  *store.Stream
	ep      *endpoint
}

// stream returns the stream streamID and its endpoint. The record is cached and reused
// as long as store.StreamsVersion is unchanged (every change of any stream changes it),
// so a status change or a new endpoint_url is seen by the next SET, as if the stream
// were read for every SET, without decoding it again.
func (e *Engine) stream(ctx context.Context, streamID string) (*store.Stream, *endpoint, error) {
	v, err := e.s.Store.StreamsVersion(ctx)
	if err != nil {
		return nil, nil, err
	}
	e.mu.Lock()
	c := e.cache[streamID]
	e.mu.Unlock()
	if c != nil && c.version == v {
		return c.stream, c.ep, nil
	}
	s, err := e.s.Store.GetStream(ctx, streamID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			e.mu.Lock()
			delete(e.cache, streamID)
			e.mu.Unlock()
		}
		return nil, nil, err
	}
	var ep *endpoint
	if c != nil && c.stream.Revision == s.Revision && sameDelivery(c.stream.Config.Delivery, s.Config.Delivery) {
		ep = c.ep
	} else {
		ep = e.endpointOf(s)
	}
	e.mu.Lock()
	if len(e.cache) >= maxCachedStreams {
		clear(e.cache)
	}
	if old := e.cache[streamID]; old == nil || old.version <= v {
		e.cache[streamID] = &cachedStream{version: v, stream: s, ep: ep}
	}
	e.mu.Unlock()
	return s, ep, nil
}

// sameDelivery reports whether two deliveries have the same endpoint and credential (a
// stream deleted and created again under the same ID starts again at revision 1).
func sameDelivery(a, b *ssf.Delivery) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.EndpointURL == b.EndpointURL && a.AuthorizationHeader == b.AuthorizationHeader
}

// endpointOf derives the push endpoint of s.
func (e *Engine) endpointOf(s *store.Stream) *endpoint {
	d := s.Config.Delivery
	ep := &endpoint{}
	switch {
	case d == nil || d.EndpointURL == "":
		ep.err = errors.New("the stream has no delivery.endpoint_url")
	default:
		ep.url = d.EndpointURL
		ep.redacted = redactURL(d.EndpointURL)
		ep.auth = d.AuthorizationHeader
		ep.err = e.checkEndpoint(d)
	}
	return ep
}

func (e *Engine) checkEndpoint(d *ssf.Delivery) error {
	u, err := url.Parse(d.EndpointURL)
	if err != nil {
		return fmt.Errorf("delivery.endpoint_url is not a URL: %v", transportMessage(err))
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && e.s.InsecureAllowHTTP:
	case u.Scheme == "http":
		return fmt.Errorf("delivery.endpoint_url %s must use https (RFC 8935 §5.3)", redactURL(d.EndpointURL))
	default:
		return fmt.Errorf("delivery.endpoint_url %s is not an https URL", redactURL(d.EndpointURL))
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("delivery.endpoint_url %s has no host", redactURL(d.EndpointURL))
	}
	if u.User != nil {
		// The HTTP client would turn it into an Authorization header, which must be
		// exactly authorization_header or absent (SSF §6.1.1).
		return fmt.Errorf("delivery.endpoint_url %s contains user information; put credentials in delivery.authorization_header", redactURL(d.EndpointURL))
	}
	if strings.ContainsAny(d.AuthorizationHeader, "\r\n\x00") {
		return errors.New("delivery.authorization_header contains a line break or NUL and cannot be sent")
	}
	return nil
}

// storeTimeout bounds one store call made while delivering. Store calls do not use the
// Run context, so that outcomes of requests in flight are recorded during shutdown.
func (e *Engine) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), max(e.s.RequestTimeout, 5*time.Second))
}

// process delivers one leased SET and records the outcome: a 2xx hands the SET to the
// acker (which acknowledges it in the store together with others); a failure is recorded
// at once (Retry or DeadLetter). Before the store call that gives up the lease, the SET
// leaves the engine (done), so that a Lease that returns it afterwards is not taken for
// one of the engine's own.
func (e *Engine) process(ctx context.Context, st *streamState, h *heldSET) {
	sctx, cancel := e.storeCtx(ctx)
	defer cancel()
	set := h.set
	now := e.s.Now()
	if e.s.MaxAge > 0 && now.Sub(set.CreatedAt) > e.s.MaxAge {
		e.done(st, h)
		// No attempt is made, so none is counted: parked without an owner (the engine
		// holds the lease: the worker checked that it covers a request).
		e.deadLetter(sctx, set, "", ReasonMaxAge, fmt.Sprintf(
			"undelivered %v after it was enqueued, beyond MaxAge (%v); %d failed attempts; last error: %s",
			now.Sub(set.CreatedAt).Round(time.Second), e.s.MaxAge, set.Attempts, lastError(set.LastError)))
		return
	}

	stream, ep, err := e.stream(sctx, set.StreamID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Deleted with its outbox; nothing to do.
		e.done(st, h)
		return
	case err != nil:
		e.done(st, h)
		e.s.Logger.Error("push: reading the stream failed; the SET is retried when its lease expires",
			"stream_id", set.StreamID, "jti", set.JTI, "err", err)
		return
	}
	if why := notDeliverable(stream, set); why != "" {
		e.giveBack(sctx, st, h, stream, why)
		return
	}

	e.mu.Lock()
	failing := st.failingUntil.After(now)
	until, reason, detail := st.failingUntil, st.failingReason, st.failingDetail
	e.mu.Unlock()
	if failing {
		e.done(st, h)
		e.fail(sctx, set, reason, notSent+detail, until, now)
		return
	}

	var o outcome
	if ep.err != nil {
		o = outcome{verdict: retry, reason: ReasonInvalidEndpoint, streamWide: true, detail: ep.err.Error()}
	} else {
		o = e.send(ctx, ep, set)
	}
	now = e.s.Now()
	if o.verdict == delivered {
		e.recordSuccess(st)
		e.mu.Lock()
		e.finishLocked(st, h)
		h.deliveredAt = now
		e.acks = append(e.acks, h)
		e.mu.Unlock()
		signal(e.ackWake)
		return
	}
	if hook := e.s.Hooks.RequestFailed; hook != nil {
		hook(set.StreamID, o.reason)
	}
	if o.verdict == permanent {
		e.recordSuccess(st) // the endpoint answered; the SET is at fault
		e.done(st, h)
		e.deadLetter(sctx, set, e.s.Owner, ReasonRejected, "rejected by the receiver: "+o.detail+
			"; not retried (RFC 8935 §4); fix the cause, then replay the dead letter")
		return
	}
	next := now.Add(e.backoff(set.Attempts+1, o.retryAfter))
	e.mu.Lock()
	streamDetail := o.detail
	if !o.streamWide {
		st.consecutive++
		if st.consecutive >= tripAfter {
			o.streamWide = true
			streamDetail = fmt.Sprintf("%d consecutive failures, the last: %s", st.consecutive, o.detail)
		}
	}
	var rest []*heldSET
	if o.streamWide {
		st.failingUntil, st.failingReason, st.failingDetail = next, o.reason, streamDetail
		rest, st.queue = st.queue, nil
		for _, r := range rest {
			r.queued = false
		}
	}
	e.mu.Unlock()
	if len(rest) > 0 {
		// The stream's other held SETs are rescheduled for the same time without a
		// request: they come back together with this one, in Seq order — if no lease
		// runs while the attempts are recorded one by one after next has come (a
		// full-jitter backoff can be a few milliseconds, a busy store slower). So next is
		// put after the time those writes take, measured on one write of the same store:
		// a store.Renew that keeps every SET of the stream held meanwhile (SET-22, SSF
		// §8.1.2.1).
		start := e.s.Now()
		e.holdUntil(ctx, st.id, append([]*heldSET{h}, rest...), start.Add(e.s.LeaseDuration))
		write := e.s.Now().Sub(start)
		if floor := e.s.Now().Add(3 * time.Duration(len(rest)+1) * write); floor.After(next) {
			next = floor
			e.mu.Lock()
			if next.After(st.failingUntil) {
				st.failingUntil = next
			}
			e.mu.Unlock()
		}
	}
	e.done(st, h)
	e.fail(sctx, set, o.reason, o.detail, next, now)
	for _, r := range rest {
		e.done(st, r)
		ctx2, cancel2 := e.storeCtx(ctx)
		e.fail(ctx2, r.set, o.reason, notSent+streamDetail, next, now)
		cancel2()
	}
}

// holdUntil extends the engine's leases on hs, SETs of stream, until until with one
// store.Renew. A failure is logged; the leases then run as they were.
func (e *Engine) holdUntil(ctx context.Context, stream string, hs []*heldSET, until time.Time) {
	jtis := make([]string, len(hs))
	for i, h := range hs {
		jtis[i] = h.set.JTI
	}
	sctx, cancel := e.storeCtx(ctx)
	defer cancel()
	if _, err := e.s.Store.Renew(sctx, stream, jtis, e.s.Owner, until); err != nil {
		e.s.Logger.Warn("push: holding the SETs of a failing stream failed", "stream_id", stream, "err", err)
	}
}

// giveBack handles a SET found not deliverable (its stream was paused or disabled, or
// switched to poll): it and the stream's queued SETs that are not deliverable either are
// given back to the store (store.Release: no attempt counted), so that they keep their
// place in Seq order and go out when the stream resumes (SSF-STATUS-3), or are polled.
func (e *Engine) giveBack(ctx context.Context, st *streamState, h *heldSET, stream *store.Stream, why string) {
	back := []*heldSET{h}
	e.mu.Lock()
	e.finishLocked(st, h)
	kept := st.queue[:0]
	for _, r := range st.queue {
		if notDeliverable(stream, r.set) != "" {
			r.queued = false
			e.finishLocked(st, r)
			back = append(back, r)
			continue
		}
		kept = append(kept, r)
	}
	clear(st.queue[len(kept):])
	st.queue = kept
	e.mu.Unlock()
	n := e.releaseSETs(ctx, stream.ID, back)
	e.s.Logger.Debug("push: SETs not sent and given back", "stream_id", stream.ID, "sets", n, "why", why)
	signal(e.resched)
}

// ackLoop acknowledges delivered SETs in the store (store.Ack) in batches: the SETs
// delivered while one batch is written go into the next. A SET stays leased until its
// acknowledgement is written; should the process die in between, it is delivered again
// (receivers de-duplicate by jti). ackLoop returns once stop is closed and everything
// handed to it is written.
func (e *Engine) ackLoop(ctx context.Context, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-e.ackWake:
			e.flushAcks(ctx)
		case <-stop:
			e.flushAcks(ctx)
			return
		}
	}
}

// flushAcks writes the acknowledgements waiting, one store.Ack per stream.
func (e *Engine) flushAcks(ctx context.Context) {
	for {
		e.mu.Lock()
		batch := e.acks
		e.acks = nil
		e.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		byStream := map[string][]*heldSET{}
		for _, h := range batch {
			byStream[h.set.StreamID] = append(byStream[h.set.StreamID], h)
		}
		eachStream(byStream, func(stream string, hs []*heldSET) {
			jtis := make([]string, len(hs))
			for i, h := range hs {
				jtis[i] = h.set.JTI
			}
			sctx, cancel := e.storeCtx(ctx)
			_, err := e.s.Store.Ack(sctx, stream, jtis)
			cancel()
			e.mu.Lock()
			for _, h := range hs {
				e.dropLocked(h)
			}
			e.mu.Unlock()
			if err != nil {
				e.s.Logger.Error("push: recording deliveries failed; the SETs will be delivered again",
					"stream_id", stream, "sets", len(jtis), "err", err)
				return
			}
			if hook := e.s.Hooks.Delivered; hook != nil {
				for _, h := range hs {
					hook(stream, h.deliveredAt.Sub(h.set.CreatedAt))
				}
			}
		})
	}
}

// notSent starts the LastError of a SET rescheduled without a request because its
// stream's endpoint is failing.
const notSent = "not sent: the endpoint failed for an earlier SET of this stream: "

// notDeliverable says why the push engine must not send set now, or "".
func notDeliverable(s *store.Stream, set *store.OutboxSET) string {
	if m := s.Config.EffectiveDeliveryMethod(); m != ssf.DeliveryPush {
		return "the stream now uses delivery method " + m
	}
	if s.Status != ssf.StatusEnabled && !set.Control {
		return "the stream is " + string(s.Status)
	}
	return ""
}

func (e *Engine) recordSuccess(st *streamState) {
	e.mu.Lock()
	st.consecutive = 0
	st.failingUntil = time.Time{}
	e.mu.Unlock()
}

// fail reschedules set for next, or dead-letters it when MaxAttempts or MaxAge is
// reached.
func (e *Engine) fail(ctx context.Context, set *store.OutboxSET, reason Reason, detail string, next, now time.Time) {
	attempts := set.Attempts + 1
	switch {
	case e.s.MaxAttempts > 0 && attempts >= e.s.MaxAttempts:
		e.deadLetter(ctx, set, e.s.Owner, ReasonMaxAttempts, fmt.Sprintf(
			"gave up after %d failed attempts (MaxAttempts); last error: %s", attempts, detail))
		return
	case e.s.MaxAge > 0 && next.Sub(set.CreatedAt) > e.s.MaxAge:
		e.deadLetter(ctx, set, e.s.Owner, ReasonMaxAge, fmt.Sprintf(
			"gave up: the next attempt would come %v after the SET was enqueued, beyond MaxAge (%v); %d failed attempts; last error: %s",
			next.Sub(set.CreatedAt).Round(time.Second), e.s.MaxAge, attempts, detail))
		return
	}
	err := e.s.Store.Retry(ctx, set.StreamID, set.JTI, e.s.Owner, next, detail)
	switch {
	case isGone(err):
		e.s.Logger.Debug("push: SET no longer held", "stream_id", set.StreamID, "jti", set.JTI, "err", err)
		return
	case err != nil:
		e.s.Logger.Error("push: recording a failed attempt failed; the SET is retried when its lease expires",
			"stream_id", set.StreamID, "jti", set.JTI, "err", err)
		return
	}
	signal(e.resched)
	e.s.Logger.Debug("push: attempt failed, retrying", "stream_id", set.StreamID, "jti", set.JTI,
		"reason", string(reason), "attempts", attempts, "next_attempt", next, "error", detail)
	if h := e.s.Hooks.Retried; h != nil {
		h(set.StreamID, reason)
	}
}

// deadLetter parks set. owner is the engine's owner name when the SET is given up after a
// failed attempt (the store counts that attempt), empty when no attempt was made.
func (e *Engine) deadLetter(ctx context.Context, set *store.OutboxSET, owner string, reason Reason, text string) {
	err := e.s.Store.DeadLetter(ctx, set.StreamID, set.JTI, owner, text, e.s.Now())
	switch {
	case isGone(err):
		e.s.Logger.Debug("push: SET no longer held", "stream_id", set.StreamID, "jti", set.JTI, "err", err)
		return
	case err != nil:
		e.s.Logger.Error("push: parking a dead letter failed; the SET is retried when its lease expires",
			"stream_id", set.StreamID, "jti", set.JTI, "err", err)
		return
	}
	e.s.Logger.Warn("push: SET dead-lettered", "stream_id", set.StreamID, "jti", set.JTI,
		"event_type", set.EventType, "reason", string(reason), "dead_reason", text)
	if h := e.s.Hooks.DeadLettered; h != nil {
		h(set.StreamID, reason)
	}
}

// isGone reports errors that mean the SET is no longer ours to update: another worker
// took it over after our lease expired, or it was acknowledged or deleted.
func isGone(err error) bool {
	return errors.Is(err, store.ErrLeaseLost) || errors.Is(err, store.ErrNotFound)
}

func lastError(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// send makes one push request (RFC 8935 §2.1) and classifies the answer. The request
// runs to its end even when ctx is cancelled (shutdown lets requests in flight finish),
// bounded by RequestTimeout.
func (e *Engine) send(ctx context.Context, ep *endpoint, set *store.OutboxSET) outcome {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.s.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, ep.url, strings.NewReader(set.SET))
	if err != nil {
		return outcome{verdict: retry, reason: ReasonInvalidEndpoint, streamWide: true,
			detail: "cannot build a request to " + ep.redacted + ": " + transportMessage(err)}
	}
	h := req.Header
	h.Set("Content-Type", contentTypeSET)
	h.Set("Accept", acceptJSON)
	h.Set("Accept-Language", "en")
	h.Set("User-Agent", "sigshare-push")
	if ep.auth != "" {
		h.Set("Authorization", ep.auth)
	}
	resp, err := e.s.client.Do(req)
	if err != nil {
		return classifyError(err, ep.redacted)
	}
	defer resp.Body.Close()
	var body []byte
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		drain(resp.Body, 4<<10) // PUSH-3: the body should be empty
	} else {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	}
	return classifyResponse(resp, body, ep.redacted, e.s.Now())
}
