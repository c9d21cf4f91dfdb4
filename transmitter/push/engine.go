package push

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
	// tripAfter consecutive failures of scope SET make a stream's failure stream-wide.
	tripAfter = 3
)

// Engine is the push delivery engine. Create it with New and run it with Run; it is safe
// for concurrent use.
type Engine struct {
	s       *settings
	running atomic.Bool

	mu        sync.Mutex
	held      map[setKey]struct{}     // SETs this engine holds: queued or in flight
	streams   map[string]*streamState // streams with held SETs or a failure state
	ready     []*streamState          // streams with queued SETs waiting for a worker
	active    int                     // running workers
	endpoints map[string]*endpoint    // per stream, derived from one revision

	randN func(n int64) int64 // uniform in [0, n): the jitter source

	progress chan struct{} // a worker finished a SET (capacity freed)
	retried  chan struct{} // a worker rescheduled a SET (NextDue may have moved)
	workers  sync.WaitGroup
}

type setKey struct{ stream, jti string }

// streamState is the engine's view of one stream. Guarded by Engine.mu.
type streamState struct {
	id        string
	queue     []*store.OutboxSET // leased, not yet processed, in order
	held      int                // queued plus in flight
	scheduled bool               // has a worker or sits in Engine.ready

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
		held:      make(map[setKey]struct{}),
		streams:   make(map[string]*streamState),
		endpoints: make(map[string]*endpoint),
		progress:  make(chan struct{}, 1),
		retried:   make(chan struct{}, 1),
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
	defer e.workers.Wait()

	log := e.s.Logger
	log.Info("push delivery started", "owner", e.s.Owner, "concurrency", e.s.Concurrency, "per_stream", e.s.perStream)
	defer log.Info("push delivery stopped", "owner", e.s.Owner)

	leaseFailures := 0
	for ctx.Err() == nil {
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

// wait sleeps until there may be something to lease. canLease is false when the engine
// holds all it may: then only a finished SET (or ctx) ends the wait.
func (e *Engine) wait(ctx context.Context, canLease bool, sub <-chan struct{}) {
	if !canLease {
		timer := time.NewTimer(maxIdle)
		defer timer.Stop()
		select {
		case <-ctx.Done():
		case <-e.progress:
		case <-timer.C:
		}
		return
	}
	wait := maxIdle
	now := e.s.Now()
	due, ok, err := e.s.Store.NextDue(ctx, ssf.DeliveryPush, now)
	switch {
	case err != nil && ctx.Err() == nil:
		e.s.Logger.Error("push: reading the next due time failed", "err", err)
		wait = time.Second
	case ok:
		wait = min(maxIdle, max(minWait, due.Sub(now)))
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-sub:
	case <-e.retried:
	case <-timer.C:
	}
}

// leaseLimit returns how many SETs the engine may lease now: no stream may hold more
// than perStream, and the engine no more than maxHeld. While SETs are held it waits
// until at least half a stream's share is free, so as not to lease one SET at a time.
func (e *Engine) leaseLimit() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	fullest := 0
	for _, st := range e.streams {
		fullest = max(fullest, st.held)
	}
	limit := min(e.s.BatchSize, e.s.perStream-fullest, e.s.maxHeld-len(e.held))
	if len(e.held) > 0 && limit < max(1, e.s.perStream/2) {
		return 0
	}
	return max(0, limit)
}

// distribute appends leased SETs to their streams' queues and starts workers.
func (e *Engine) distribute(ctx context.Context, sets []*store.OutboxSET) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, set := range sets {
		k := setKey{set.StreamID, set.JTI}
		if _, ok := e.held[k]; ok {
			// Our own expired lease, taken again: it is already queued or in flight, and
			// the new lease simply extends ours.
			continue
		}
		e.held[k] = struct{}{}
		st := e.streams[set.StreamID]
		if st == nil {
			st = &streamState{id: set.StreamID}
			e.streams[set.StreamID] = st
		}
		st.queue = append(st.queue, set)
		st.held++
		if st.scheduled {
			continue
		}
		st.scheduled = true
		if e.active < e.s.Concurrency {
			e.active++
			e.workers.Add(1)
			go e.work(ctx, st)
		} else {
			e.ready = append(e.ready, st)
		}
	}
}

// work delivers the queued SETs of st, then of the streams waiting in e.ready, until
// there are none. After perStream SETs of one stream it yields to a waiting stream.
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
			if n >= e.s.perStream && len(e.ready) > 0 {
				e.ready = append(e.ready, st) // stays scheduled
				e.mu.Unlock()
				break
			}
			set := st.queue[0]
			st.queue[0] = nil
			st.queue = st.queue[1:]
			e.mu.Unlock()

			e.process(ctx, st, set)

			e.mu.Lock()
			delete(e.held, setKey{set.StreamID, set.JTI})
			st.held--
			e.mu.Unlock()
			signal(e.progress)
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

// dropQueueLocked forgets the queued SETs of st (shutdown): their leases expire and
// another engine delivers them.
func (e *Engine) dropQueueLocked(st *streamState) {
	for _, set := range st.queue {
		delete(e.held, setKey{set.StreamID, set.JTI})
		st.held--
	}
	st.queue = nil
	st.scheduled = false
	e.forgetLocked(st)
}

// forgetLocked removes st from e.streams when nothing about it needs remembering.
func (e *Engine) forgetLocked(st *streamState) {
	if st.held == 0 && !st.scheduled && st.consecutive == 0 && !st.failingUntil.After(e.s.Now()) {
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
