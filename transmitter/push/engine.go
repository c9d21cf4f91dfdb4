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
	// defaultRenewGrace is how long after a held SET's lease expired the engine waits to
	// lease it again itself (a renewal) before concluding that another engine took it
	// over.
	defaultRenewGrace = 5 * time.Second
	// tripAfter consecutive failures of scope SET make a stream's failure stream-wide.
	tripAfter = 3
)

// Engine is the push delivery engine. Create it with New and run it with Run; it is safe
// for concurrent use.
type Engine struct {
	s       *settings
	running atomic.Bool

	mu        sync.Mutex
	held      map[setKey]*heldSET     // SETs this engine holds: queued or in flight
	streams   map[string]*streamState // streams with held SETs or a failure state
	ready     []*streamState          // streams with queued SETs waiting for a worker
	active    int                     // running workers
	endpoints map[string]*endpoint    // per stream, derived from one revision

	randN func(n int64) int64 // uniform in [0, n): the jitter source

	progress chan struct{} // a worker finished a SET (capacity freed)
	resched  chan struct{} // a SET was rescheduled or a stream parked: recompute the wake time
	workers  sync.WaitGroup
}

type setKey struct{ stream, jti string }

// heldSET is a leased SET in a stream's queue.
type heldSET struct {
	set *store.OutboxSET
	// leaseUntil is when the lease ends; the engine extends it by leasing the SET again
	// once it expired (Lease hands out expired leases). Guarded by Engine.mu.
	leaseUntil time.Time
	// released is set when the SET left the engine (see Engine.release).
	released bool
}

// streamState is the engine's view of one stream. Guarded by Engine.mu.
type streamState struct {
	id        string
	queue     []*heldSET // leased, not yet processed, in Seq order
	held      int        // queued plus in flight
	scheduled bool       // has a worker or sits in Engine.ready
	// parked, when not zero, says the stream waits for the lease of its first SET to be
	// renewed, at the latest until then (see work).
	parked time.Time

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
		s:         s,
		held:      make(map[setKey]*heldSET),
		streams:   make(map[string]*streamState),
		endpoints: make(map[string]*endpoint),
		progress:  make(chan struct{}, 1),
		resched:   make(chan struct{}, 1),
		randN:     rand.Int64N,
	}, nil
}

// Owner returns the lease owner name the engine uses.
func (e *Engine) Owner() string { return e.s.Owner }

// Run delivers SETs until ctx is cancelled. It then stops leasing, waits for the
// requests in flight (each bounded by RequestTimeout) and records their outcome, and
// returns nil. SETs leased but not sent are left to their lease's expiry. Run returns
// an error only when the store is closed; other store errors are logged and retried.
// Run must not be called again while it runs.
func (e *Engine) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("push: Engine.Run is already running")
	}
	defer e.running.Store(false)
	sub, unsubscribe := e.s.Store.Subscribe("")
	defer unsubscribe()
	defer e.forgetAll()
	defer e.workers.Wait()

	log := e.s.Logger
	log.Info("push delivery started", "owner", e.s.Owner, "concurrency", e.s.Concurrency, "batch_size", e.s.BatchSize)
	defer log.Info("push delivery stopped", "owner", e.s.Owner)

	leaseFailures := 0
	for ctx.Err() == nil {
		limit := e.leaseLimit(ctx)
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

// wait sleeps until there may be something to lease. canLease is false when the engine
// holds all it may: then a finished SET ends the wait, not a new one.
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
	if t, ok := e.parkedWake(); ok {
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

// parkedWake returns the earliest time a parked stream needs the loop: when its first
// SET's lease expires (to renew it) or when the wait for the renewal ends.
func (e *Engine) parkedWake() (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var t time.Time
	for _, st := range e.streams {
		if st.parked.IsZero() || len(st.queue) == 0 {
			continue
		}
		w := st.queue[0].leaseUntil
		if !e.s.Now().Before(w) {
			w = st.parked
		}
		if t.IsZero() || w.Before(t) {
			t = w
		}
	}
	return t, !t.IsZero()
}

// leaseLimit returns how many SETs to lease now: at most BatchSize, and no more than
// brings the engine to 2×BatchSize held. While SETs are held it waits until half a batch
// is free, so as not to lease one SET at a time; but it always leases when a parked
// stream's lease has expired (to renew it). It also wakes parked streams whose renewal
// did not come.
func (e *Engine) leaseLimit(ctx context.Context) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.s.Now()
	renew := 0
	for _, st := range e.streams {
		if st.parked.IsZero() {
			continue
		}
		switch {
		case len(st.queue) == 0 || !now.Before(st.parked):
			st.parked = time.Time{}
			e.scheduleLocked(ctx, st) // the worker drops the SET that was not renewed
		case !now.Before(st.queue[0].leaseUntil):
			renew++
		}
	}
	limit := min(e.s.BatchSize, e.s.maxHeld-len(e.held))
	if len(e.held) > 0 && limit < max(1, e.s.BatchSize/2) {
		limit = 0
	}
	return max(limit, renew)
}

// distribute inserts leased SETs into their streams' queues and starts workers.
func (e *Engine) distribute(ctx context.Context, sets []*store.OutboxSET) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, set := range sets {
		k := setKey{set.StreamID, set.JTI}
		st := e.streams[set.StreamID]
		if h, ok := e.held[k]; ok {
			// Our own expired lease, taken again: a renewal of a SET already queued or
			// in flight.
			h.leaseUntil = set.LeaseUntil
			if st != nil && !st.parked.IsZero() && len(st.queue) > 0 && st.queue[0] == h {
				st.parked = time.Time{}
				e.scheduleLocked(ctx, st)
			}
			continue
		}
		h := &heldSET{set: set, leaseUntil: set.LeaseUntil}
		e.held[k] = h
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
		if st.parked.IsZero() {
			e.scheduleLocked(ctx, st)
		}
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
// there are none. After a quantum of SETs of one stream it yields to a waiting stream.
//
// A SET is sent only while its lease covers the request (RequestTimeout). Otherwise the
// stream parks: the loop leases the SET again when its lease expires (a renewal, since
// Lease hands out expired leases) and resumes the stream. If the renewal does not come
// within the renewal grace (5 s), another engine took the SET over and this one drops it.
func (e *Engine) work(ctx context.Context, st *streamState) {
	defer e.workers.Done()
	for st != nil {
		for n := 0; ; n++ {
			e.mu.Lock()
			if ctx.Err() != nil {
				e.dropQueueLocked(st)
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
			if now := e.s.Now(); h.leaseUntil.Sub(now) < e.s.RequestTimeout {
				if now.Before(h.leaseUntil.Add(e.s.renewGrace)) {
					st.parked = h.leaseUntil.Add(e.s.renewGrace)
					st.scheduled = false
					e.mu.Unlock()
					signal(e.resched)
					break
				}
				e.s.Logger.Debug("push: lease not renewed; another engine holds the SET",
					"stream_id", h.set.StreamID, "jti", h.set.JTI)
				e.popLocked(st)
				e.mu.Unlock()
				signal(e.progress)
				continue
			}
			st.queue[0] = nil
			st.queue = st.queue[1:]
			e.mu.Unlock()

			e.process(ctx, st, h)
			e.release(st, h) // if process left the SET to its lease
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
				// Shutdown: waiting streams are dropped; their leases expire.
				for _, r := range e.ready {
					e.dropQueueLocked(r)
				}
				e.ready = nil
			}
		}
		e.mu.Unlock()
	}
}

// forgetAll drops what the engine still holds after its workers stopped (parked streams):
// those SETs are left to their leases.
func (e *Engine) forgetAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, st := range e.streams {
		st.parked = time.Time{}
		e.dropQueueLocked(st)
	}
	e.ready = nil
}

// popLocked removes the first queued SET of st from the engine.
func (e *Engine) popLocked(st *streamState) {
	h := st.queue[0]
	st.queue[0] = nil
	st.queue = st.queue[1:]
	h.released = true
	if k := (setKey{h.set.StreamID, h.set.JTI}); e.held[k] == h {
		delete(e.held, k)
	}
	st.held--
}

// dropQueueLocked forgets the queued SETs of st (shutdown): their leases expire and
// another engine delivers them.
func (e *Engine) dropQueueLocked(st *streamState) {
	for len(st.queue) > 0 {
		e.popLocked(st)
	}
	st.scheduled = false
	e.forgetLocked(st)
}

// forgetLocked removes st from e.streams when nothing about it needs remembering.
func (e *Engine) forgetLocked(st *streamState) {
	if st.held == 0 && !st.scheduled && st.parked.IsZero() && st.consecutive == 0 && !st.failingUntil.After(e.s.Now()) {
		delete(e.streams, st.id)
	}
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
