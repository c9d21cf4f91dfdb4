package push

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// Timing of the lease loop.
const (
	// minWait is the shortest sleep between two leases that found nothing to do, so that
	// a store whose NextDue disagrees with Lease cannot make the loop spin.
	minWait = 50 * time.Millisecond
	// maxIdle bounds a sleep even when nothing is due: a safety net for a store that
	// misses a Subscribe signal.
	maxIdle = 30 * time.Second
	// maxLeaseErrorWait bounds the wait after a failed Lease.
	maxLeaseErrorWait = 30 * time.Second
	// renewErrorWait is the wait before renewing again after a failed Renew.
	renewErrorWait = time.Second
	// tripAfter consecutive failures of scope SET make a stream's failure stream-wide.
	tripAfter = 3
	// storeParallelism bounds the concurrent per-stream store calls of one Ack flush,
	// renewal or release.
	storeParallelism = 8
	// maxCachedStreams bounds the stream cache; it starts afresh when full.
	maxCachedStreams = 1 << 14
)

// Engine is the push delivery engine. Create it with New and run it with Run; it is safe
// for concurrent use.
type Engine struct {
	s       *settings
	running atomic.Bool

	mu      sync.Mutex
	held    map[setKey]*heldSET     // every SET this engine holds a lease on
	streams map[string]*streamState // streams with queued or in-flight SETs or a failure state
	ready   []*streamState          // streams with queued SETs waiting for a worker
	active  int                     // running workers
	cache   map[string]*cachedStream
	acks    []*heldSET // delivered, waiting for the acker
	// renewAfter, when not zero, delays renewals after a failed Renew.
	renewAfter time.Time

	randN func(n int64) int64 // uniform in [0, n): the jitter source

	progress chan struct{} // a SET left the engine (capacity freed)
	resched  chan struct{} // a SET was rescheduled or released: recompute the wake time
	ackWake  chan struct{} // a SET was delivered: the acker has work
	workers  sync.WaitGroup
}

type setKey struct{ stream, jti string }

// heldSET is a SET the engine holds a lease on: queued in its stream, in flight, or
// delivered and waiting for its Ack. Its fields are guarded by Engine.mu.
type heldSET struct {
	set *store.OutboxSET
	// leaseUntil is when the lease ends; the engine renews it (store.Renew) once half of
	// the lease has passed.
	leaseUntil time.Time
	// queued: in its stream's queue. A worker takes it out to send it.
	queued bool
	// finished: the worker is done with it (streamState.held no longer counts it).
	finished bool
	// gone: no longer in Engine.held.
	gone bool
	// deliveredAt is when the receiver answered 2xx (for the Delivered hook).
	deliveredAt time.Time
}

// streamState is the engine's view of one stream. Guarded by Engine.mu.
type streamState struct {
	id        string
	queue     []*heldSET // leased, not yet sent, in Seq order
	held      int        // queued plus in flight
	scheduled bool       // has a worker or sits in Engine.ready

	// A failing stream: until failingUntil its SETs are rescheduled without a request.
	failingUntil  time.Time
	failingReason Reason
	failingDetail string
	consecutive   int // consecutive failures of scope SET
}

// New returns an Engine for cfg, or an error naming the configuration field that is
// wrong.
func New(cfg Config) (*Engine, error) {
	s, err := newSettings(cfg)
	if err != nil {
		return nil, err
	}
	return &Engine{
		s:        s,
		held:     make(map[setKey]*heldSET),
		streams:  make(map[string]*streamState),
		cache:    make(map[string]*cachedStream),
		progress: make(chan struct{}, 1),
		resched:  make(chan struct{}, 1),
		ackWake:  make(chan struct{}, 1),
		randN:    rand.Int64N,
	}, nil
}

// Owner returns the lease owner name the engine uses.
func (e *Engine) Owner() string { return e.s.Owner }

// Held returns how many SETs the engine holds a lease on (queued, in flight, or
// delivered and waiting for their acknowledgement in the store); never more than
// max(2×BatchSize, Concurrency).
func (e *Engine) Held() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.held)
}

// Run delivers SETs until ctx is cancelled. It first reclaims the leases its owner name
// still holds from an earlier run (store.ReleaseOwner: a crash, or a stop that could not
// release them). When ctx is cancelled it stops leasing, waits for the requests in flight
// (each bounded by RequestTimeout), records their outcome and the acknowledgements not
// yet written, gives back the leases of the SETs it holds but did not send
// (store.Release, no attempt counted: they are deliverable at once by any engine), and
// returns nil. Run returns an error only when the store is closed; other store errors
// are logged and retried. Run must not be called again while it runs.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("push: Engine.Run is already running")
	}
	defer e.running.Store(false)
	sub, unsubscribe := e.s.Store.Subscribe("")
	defer unsubscribe()

	log := e.s.Logger
	log.Info("push delivery started", "owner", e.s.Owner, "concurrency", e.s.Concurrency,
		"batch_size", e.s.BatchSize, "lease", e.s.LeaseDuration)
	defer log.Info("push delivery stopped", "owner", e.s.Owner)
	if err := e.reclaim(ctx); errors.Is(err, store.ErrClosed) {
		return fmt.Errorf("push: reclaiming leases: %w", err)
	}

	stopAcker := make(chan struct{})
	ackerDone := make(chan struct{})
	go e.ackLoop(ctx, stopAcker, ackerDone)
	defer func() {
		e.workers.Wait()
		close(stopAcker)
		<-ackerDone
		e.releaseAll(ctx)
	}()

	leaseFailures := 0
	for ctx.Err() == nil {
		e.renewDue(ctx)
		limit := e.leaseLimit()
		if limit > 0 {
			sets, err := e.s.Store.Lease(ctx, store.LeaseRequest{
				Owner:    e.s.Owner,
				Method:   ssf.DeliveryPush,
				Limit:    limit,
				Duration: e.s.LeaseDuration,
				Now:      e.s.Now(),
			})
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				if errors.Is(err, store.ErrClosed) {
					return fmt.Errorf("push: leasing SETs: %w", err)
				}
				leaseFailures++
				wait := min(maxLeaseErrorWait, 100*time.Millisecond<<min(leaseFailures, 10))
				log.Error("push: leasing SETs failed", "err", err, "retry_in", wait)
				sleep(ctx, wait)
				continue
			}
			leaseFailures = 0
			e.distribute(ctx, sets)
			if len(sets) == limit {
				continue // more may be due
			}
		}
		e.wait(ctx, limit > 0, sub)
	}
	return nil
}

// reclaim releases the leases the engine's owner name holds from an earlier run.
func (e *Engine) reclaim(ctx context.Context) error {
	sctx, cancel := e.storeCtx(ctx)
	defer cancel()
	n, err := e.s.Store.ReleaseOwner(sctx, e.s.Owner)
	switch {
	case err != nil:
		e.s.Logger.Error("push: reclaiming the leases of an earlier run failed; they are delivered when they expire",
			"owner", e.s.Owner, "err", err)
	case n > 0:
		e.s.Logger.Info("push: reclaimed the leases of an earlier run", "owner", e.s.Owner, "sets", n)
	}
	return err
}

// wait sleeps until there may be something to lease or renew. canLease is false when the
// engine holds all it may: then a SET leaving the engine ends the wait, not a new one.
func (e *Engine) wait(ctx context.Context, canLease bool, sub <-chan struct{}) {
	now := e.s.Now()
	wait := maxIdle
	var subCh, progress <-chan struct{}
	if canLease {
		subCh = sub
		due, ok, err := e.s.Store.NextDue(ctx, ssf.DeliveryPush, now)
		switch {
		case err != nil && ctx.Err() == nil:
			e.s.Logger.Error("push: reading the next due time failed", "err", err)
			wait = time.Second
		case ok:
			wait = min(wait, max(minWait, due.Sub(now)))
		}
	} else {
		progress = e.progress
	}
	if t, ok := e.nextRenewal(); ok {
		wait = min(wait, max(minWait, t.Sub(now)))
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-subCh:
	case <-progress:
	case <-e.resched:
	case <-timer.C:
	}
}

// renewalDue is when the lease of h is to be renewed: once half of it has passed.
func (e *Engine) renewalDue(h *heldSET) time.Time { return h.leaseUntil.Add(-e.s.LeaseDuration / 2) }

// nextRenewal returns the earliest time a held lease is to be renewed.
func (e *Engine) nextRenewal() (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var t time.Time
	for _, h := range e.held {
		if w := e.renewalDue(h); t.IsZero() || w.Before(t) {
			t = w
		}
	}
	if !t.IsZero() && t.Before(e.renewAfter) {
		t = e.renewAfter
	}
	return t, !t.IsZero()
}

// renewDue renews, with store.Renew, the leases that have run half their term: exactly
// the SETs the engine holds, whatever their state. A queued SET whose lease was lost
// (another engine took it over after it expired) is dropped, not sent.
func (e *Engine) renewDue(ctx context.Context) {
	now := e.s.Now()
	e.mu.Lock()
	if now.Before(e.renewAfter) {
		e.mu.Unlock()
		return
	}
	due := map[string][]*heldSET{}
	for k, h := range e.held {
		if !now.Before(e.renewalDue(h)) {
			due[k.stream] = append(due[k.stream], h)
		}
	}
	e.mu.Unlock()
	if len(due) == 0 {
		return
	}
	failed := e.renew(ctx, due, now)
	if failed {
		e.mu.Lock()
		e.renewAfter = now.Add(renewErrorWait)
		e.mu.Unlock()
	}
}

// renew renews the leases of the given SETs, per stream, until now+LeaseDuration. It
// reports whether a store call failed.
func (e *Engine) renew(ctx context.Context, byStream map[string][]*heldSET, now time.Time) (failed bool) {
	until := now.Add(e.s.LeaseDuration)
	var mu sync.Mutex
	eachStream(byStream, func(stream string, hs []*heldSET) {
		jtis := make([]string, len(hs))
		for i, h := range hs {
			jtis[i] = h.set.JTI
		}
		sctx, cancel := e.storeCtx(ctx)
		renewed, err := e.s.Store.Renew(sctx, stream, jtis, e.s.Owner, until)
		cancel()
		if err != nil {
			e.s.Logger.Error("push: renewing leases failed", "stream_id", stream, "sets", len(jtis), "err", err)
			mu.Lock()
			failed = true
			mu.Unlock()
			return
		}
		ok := make(map[string]bool, len(renewed))
		for _, j := range renewed {
			ok[j] = true
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, h := range hs {
			if h.gone {
				continue
			}
			if ok[h.set.JTI] {
				h.leaseUntil = until
				continue
			}
			// Lost: another engine holds the SET now. A queued SET is dropped; a SET in
			// flight or delivered finishes (recording its outcome fails with ErrLeaseLost;
			// an Ack deletes the SET whoever holds it, which is right: it was delivered).
			if h.queued {
				e.s.Logger.Debug("push: lease lost to another engine; the SET is not sent",
					"stream_id", stream, "jti", h.set.JTI)
				if st := e.streams[stream]; st != nil {
					e.unqueueLocked(st, h)
				}
			}
		}
	})
	return failed
}

// eachStream calls fn for every stream of m, up to storeParallelism at a time.
func eachStream[T any](m map[string][]T, fn func(stream string, v []T)) {
	if len(m) == 1 {
		for k, v := range m {
			fn(k, v)
		}
		return
	}
	sem := make(chan struct{}, storeParallelism)
	var wg sync.WaitGroup
	for k, v := range m {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(k, v)
		})
	}
	wg.Wait()
}

// leaseLimit returns how many SETs to lease now: at most BatchSize, and no more than
// brings the engine to maxHeld. While SETs are held it waits until half a batch is free,
// so as not to lease one SET at a time.
func (e *Engine) leaseLimit() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	limit := min(e.s.BatchSize, e.s.maxHeld-len(e.held))
	if len(e.held) > 0 && limit < max(1, e.s.BatchSize/2) {
		return 0
	}
	return max(limit, 0)
}

// distribute inserts leased SETs into their streams' queues and starts workers.
func (e *Engine) distribute(ctx context.Context, sets []*store.OutboxSET) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, set := range sets {
		k := setKey{set.StreamID, set.JTI}
		if h, ok := e.held[k]; ok {
			// Our own lease, expired because a renewal failed, taken again: a renewal.
			h.leaseUntil = set.LeaseUntil
			continue
		}
		h := &heldSET{set: set, leaseUntil: set.LeaseUntil, queued: true}
		e.held[k] = h
		st := e.streams[set.StreamID]
		if st == nil {
			st = &streamState{id: set.StreamID}
			e.streams[set.StreamID] = st
		}
		// Keep Seq order: a SET whose retry came due goes before later SETs still queued.
		i := len(st.queue)
		for i > 0 && st.queue[i-1].set.Seq > set.Seq {
			i--
		}
		st.queue = slices.Insert(st.queue, i, h)
		st.held++
		e.scheduleLocked(ctx, st)
	}
}

// scheduleLocked gives st a worker, or queues it for the next free one.
func (e *Engine) scheduleLocked(ctx context.Context, st *streamState) {
	if st.scheduled || ctx.Err() != nil {
		return
	}
	st.scheduled = true
	if e.active < e.s.Concurrency {
		e.active++
		e.workers.Add(1)
		go e.work(ctx, st)
		return
	}
	e.ready = append(e.ready, st)
}

// work delivers the queued SETs of st, then of the streams waiting in e.ready, until
// there are none or ctx ends. After a quantum of SETs of one stream it yields to a
// waiting stream.
//
// A SET is sent only while its lease covers the request (RequestTimeout). When it does
// not (a renewal came late), the worker renews the stream's queued leases itself first;
// a SET whose lease was lost is dropped, not sent.
func (e *Engine) work(ctx context.Context, st *streamState) {
	defer e.workers.Done()
	for st != nil {
		for n := 0; ; n++ {
			e.mu.Lock()
			if ctx.Err() != nil {
				// Shutdown: the queued SETs stay held; Run releases them.
				st.scheduled = false
				e.mu.Unlock()
				break
			}
			if len(st.queue) == 0 {
				st.scheduled = false
				e.forgetLocked(st)
				e.mu.Unlock()
				break
			}
			if n >= e.s.quantum && len(e.ready) > 0 {
				e.ready = append(e.ready, st) // stays scheduled
				e.mu.Unlock()
				break
			}
			h := st.queue[0]
			now := e.s.Now()
			if h.leaseUntil.Sub(now) < e.s.RequestTimeout {
				e.mu.Unlock()
				e.renewQueue(ctx, st, now)
				continue
			}
			st.queue[0] = nil
			st.queue = st.queue[1:]
			h.queued = false
			e.mu.Unlock()

			e.process(ctx, st, h)
		}
		e.mu.Lock()
		st = nil
		if len(e.ready) > 0 && ctx.Err() == nil {
			st = e.ready[0]
			e.ready[0] = nil
			e.ready = e.ready[1:]
		}
		if st == nil {
			e.active--
			if ctx.Err() != nil {
				for _, r := range e.ready {
					r.scheduled = false
				}
				e.ready = nil
			}
		}
		e.mu.Unlock()
	}
}

// renewQueue renews the leases of st's queued SETs now (the worker found the first one
// about to end). A failure drops the first SET: its lease ends before a request could,
// so another engine may take it over.
func (e *Engine) renewQueue(ctx context.Context, st *streamState, now time.Time) {
	e.mu.Lock()
	hs := slices.Clone(st.queue)
	e.mu.Unlock()
	if len(hs) == 0 {
		return
	}
	if e.renew(ctx, map[string][]*heldSET{st.id: hs}, now) {
		e.mu.Lock()
		if len(st.queue) > 0 && st.queue[0] == hs[0] && st.queue[0].leaseUntil.Sub(e.s.Now()) < e.s.RequestTimeout {
			e.unqueueLocked(st, hs[0])
		}
		e.mu.Unlock()
		sleep(ctx, minWait)
	}
}

// unqueueLocked removes the queued SET h from st and from the engine, leaving it to its
// lease.
func (e *Engine) unqueueLocked(st *streamState, h *heldSET) {
	if i := slices.Index(st.queue, h); i >= 0 {
		st.queue = slices.Delete(st.queue, i, i+1)
	}
	h.queued = false
	e.finishLocked(st, h)
	e.dropLocked(h)
}

// finishLocked records that h no longer counts for its stream (once).
func (e *Engine) finishLocked(st *streamState, h *heldSET) {
	if h.finished {
		return
	}
	h.finished = true
	st.held--
}

// dropLocked removes h from the engine's held SETs (once) and signals the capacity.
func (e *Engine) dropLocked(h *heldSET) {
	if h.gone {
		return
	}
	h.gone = true
	if k := (setKey{h.set.StreamID, h.set.JTI}); e.held[k] == h {
		delete(e.held, k)
	}
	signal(e.progress)
}

// done records that the worker finished h and that the engine no longer holds it.
func (e *Engine) done(st *streamState, h *heldSET) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.finishLocked(st, h)
	e.dropLocked(h)
}

// forgetLocked removes st from e.streams when nothing about it needs remembering.
func (e *Engine) forgetLocked(st *streamState) {
	if st.held == 0 && !st.scheduled && st.consecutive == 0 && !st.failingUntil.After(e.s.Now()) {
		delete(e.streams, st.id)
	}
}

// releaseAll gives back, after the workers and the acker stopped, the leases of every
// SET the engine still holds (queued, never sent): no attempt is counted and the SETs
// are deliverable at once, by any engine.
func (e *Engine) releaseAll(ctx context.Context) {
	e.mu.Lock()
	byStream := map[string][]*heldSET{}
	for k, h := range e.held {
		byStream[k.stream] = append(byStream[k.stream], h)
	}
	e.mu.Unlock()
	var released atomic.Int64
	eachStream(byStream, func(stream string, hs []*heldSET) {
		released.Add(int64(e.releaseSETs(ctx, stream, hs)))
	})
	e.mu.Lock()
	for _, st := range e.streams {
		st.queue, st.held, st.scheduled = nil, 0, false
	}
	clear(e.streams)
	e.ready = nil
	e.mu.Unlock()
	if n := released.Load(); n > 0 {
		e.s.Logger.Info("push: gave back the leases of SETs not sent", "sets", n)
	}
}

// releaseSETs gives back the leases of hs (SETs of stream) with store.Release and drops
// them from the engine. It returns how many the store released.
func (e *Engine) releaseSETs(ctx context.Context, stream string, hs []*heldSET) int {
	e.mu.Lock()
	jtis := make([]string, 0, len(hs))
	for _, h := range hs {
		e.dropLocked(h)
		jtis = append(jtis, h.set.JTI)
	}
	e.mu.Unlock()
	sctx, cancel := e.storeCtx(ctx)
	defer cancel()
	released, err := e.s.Store.Release(sctx, stream, jtis, e.s.Owner)
	if err != nil {
		e.s.Logger.Error("push: giving back leases failed; the SETs are delivered when their leases expire",
			"stream_id", stream, "sets", len(jtis), "err", err)
	}
	return len(released)
}

// backoff returns the delay before the next attempt after the attempts-th failure.
func (e *Engine) backoff(attempts int, retryAfter time.Duration) time.Duration {
	b := e.s.Backoff
	bound := b.Max
	if shift := attempts - 1; shift < 62 {
		if d := b.Initial << shift; d > 0 && d>>shift == b.Initial && d < bound {
			bound = d
		}
	}
	delay := time.Duration(e.randN(int64(bound) + 1))
	if retryAfter > 0 {
		delay = max(delay, min(retryAfter, b.Max))
	}
	return delay
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
