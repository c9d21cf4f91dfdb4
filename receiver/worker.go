package receiver

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// Defaults of WorkerConfig.
const (
	DefaultMaxAttempts     = 12
	DefaultRetryBackoff    = time.Second
	DefaultMaxRetryBackoff = 15 * time.Minute
	DefaultHandlerTimeout  = time.Minute
	DefaultDedupeWindow    = 7 * 24 * time.Hour
)

// WorkerConfig configures [NewWorker]. Inbox and Mux are required; every other zero
// value is a documented default.
type WorkerConfig struct {
	// Inbox is where the Recipient recorded the SETs.
	Inbox store.InboxStore
	// Mux routes each SET to its handler.
	Mux *Mux
	// Decode decodes a stored SET for dispatch. It must match the verifier's
	// configuration (Registry, Compatibility, DecryptionKeys; see
	// [VerifierOptions.DecodeOptions]): stored SETs were verified before they were
	// recorded, so the worker decodes them without checking the signature again (a key
	// the Transmitter has since retired cannot make a recorded SET fail). A nil Registry
	// means one ssf.DefaultRegistry() for the worker.
	Decode set.DecodeOptions
	// Owner names this worker in inbox leases; it must be unique among the workers
	// sharing the inbox. Empty means a random name.
	Owner string
	// Concurrency is how many handlers run at once. Zero means 1: SETs are handled one
	// at a time in the order they were received (SET-22: the order of SETs is not
	// guaranteed anyway, and a retried SET is handled after later ones).
	Concurrency int
	// BatchSize is how many SETs are leased at a time. Zero means 16.
	BatchSize int
	// HandlerTimeout bounds each handler call (its ctx ends). Zero means 1 minute.
	HandlerTimeout time.Duration
	// LeaseDuration is how long a leased SET stays with this worker before another may
	// take it (a worker that died). Zero means HandlerTimeout plus 1 minute; it must
	// exceed HandlerTimeout, else a slow handler's SET could be handled twice.
	LeaseDuration time.Duration
	// IdleInterval is how often an idle worker looks at the inbox without being
	// notified (other processes, retries coming due). Zero means 1 second.
	IdleInterval time.Duration
	// MaxAttempts is how many times a handler is called for one SET before the SET is
	// parked as a dead letter. Zero means 12.
	MaxAttempts int
	// RetryBackoff is the delay after the first failed attempt; it doubles after each
	// further failure up to MaxRetryBackoff, with jitter (a random delay between half
	// and all of it). Zero means 1 second; MaxRetryBackoff zero means 15 minutes. With
	// the defaults the 12 attempts span roughly 40 to 80 minutes.
	RetryBackoff, MaxRetryBackoff time.Duration
	// DedupeWindow is how long the (iss, jti) of a processed SET is remembered: a copy
	// arriving later is processed again. Zero means 7 days. Dead letters are kept until
	// replayed.
	DedupeWindow time.Duration
	// PurgeInterval is how often processed records older than DedupeWindow are deleted.
	// Zero means 1 hour; negative means never (another process purges).
	PurgeInterval time.Duration
	// AckReady is called after a SET that came by poll was finished (processed or
	// dead): its acknowledgement is pending (typically Poller.AckNow). Nil means the
	// acknowledgement goes with the next poll request.
	AckReady func()
	// Hooks receive metrics events (Handled).
	Hooks Hooks
	// Logger receives a Warn record per failed attempt, an Error record per dead
	// letter (with the stack of a panic) and Debug records per SET. Nil means no
	// logging.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Worker runs the handlers of the SETs recorded in the inbox, asynchronously from their
// arrival (RFC 8935 §2, PUSH-4: the push endpoint answers 202 once the SET is recorded).
//
// Policy:
//
//   - The worker leases pending SETs (oldest first), decodes each and calls its handler
//     ([Mux]). Success marks the SET processed; for a SET that came by poll, its jti is
//     then added to the stream's pending acknowledgements, sent with the next poll
//     request (RFC 8936 §2.4: a SET is acknowledged only once it is handled).
//   - A handler error or panic is a failed attempt: the SET is retried after an
//     exponential backoff with jitter (RetryBackoff doubling up to MaxRetryBackoff). A
//     panic is recovered, logged with its stack, and counts as an error ([PanicError]).
//     After MaxAttempts failed attempts, or at once for an error wrapped with
//     [Permanent], the SET is parked as a dead letter ([store.InboxDead]), logged at
//     Error level with the last error: handler errors are never lost silently. Dead
//     letters stay in the inbox until replayed ([Worker.DeadLetters],
//     [Worker.Replay]).
//   - A dead SET that came by poll is acknowledged to the Transmitter all the same: the
//     Receiver took responsibility for it when it recorded it, and a SET that is never
//     acknowledged would be redelivered for ever (RFC 8936 §2.4 reserves setErrs for
//     SETs that fail validation, POLL-7). A push Transmitter got its 202 long before.
//   - A SET without a handler (and no fallback) counts as processed (AMB-28); a SET
//     whose event must be discarded (SSF §3.6) is finished without dispatch.
//   - When Run's ctx ends while a handler runs, the handler's ctx ends too and nothing
//     is recorded for that attempt: the lease expires and the SET is handled again,
//     without counting an attempt.
//
// De-duplication: the inbox keeps the (iss, jti) of processed SETs for DedupeWindow; Run
// purges older records every PurgeInterval. A SET is processed at most once within the
// window, across restarts (the inbox is durable), and at least once: a crash after the
// handler succeeded but before the SET was marked processed makes it run again when the
// lease expires. Handlers should therefore be idempotent.
type Worker struct {
	inbox       store.InboxStore
	mux         *Mux
	decode      set.DecodeOptions
	owner       string
	concurrency int
	batch       int
	timeout     time.Duration
	lease       time.Duration
	idle        time.Duration
	maxAttempts int
	backoff     time.Duration
	maxBackoff  time.Duration
	window      time.Duration
	purgeEvery  time.Duration
	ackReady    func()
	hooks       Hooks
	log         *slog.Logger
	now         func() time.Time

	wake chan struct{}
}

// NewWorker checks cfg and returns a worker. Call Run to start it.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Inbox == nil {
		return nil, errors.New("receiver: WorkerConfig.Inbox is required")
	}
	if cfg.Mux == nil {
		return nil, errors.New("receiver: WorkerConfig.Mux is required")
	}
	w := &Worker{
		inbox:       cfg.Inbox,
		mux:         cfg.Mux,
		decode:      cfg.Decode,
		owner:       cfg.Owner,
		concurrency: orDefault(cfg.Concurrency, 1),
		batch:       orDefault(cfg.BatchSize, 16),
		timeout:     orDefault(cfg.HandlerTimeout, DefaultHandlerTimeout),
		idle:        orDefault(cfg.IdleInterval, time.Second),
		maxAttempts: orDefault(cfg.MaxAttempts, DefaultMaxAttempts),
		backoff:     orDefault(cfg.RetryBackoff, DefaultRetryBackoff),
		maxBackoff:  orDefault(cfg.MaxRetryBackoff, DefaultMaxRetryBackoff),
		window:      orDefault(cfg.DedupeWindow, DefaultDedupeWindow),
		purgeEvery:  cfg.PurgeInterval,
		ackReady:    cfg.AckReady,
		hooks:       cfg.Hooks,
		log:         cfg.Logger,
		now:         cfg.Now,
		wake:        make(chan struct{}, 1),
	}
	w.lease = orDefault(cfg.LeaseDuration, w.timeout+time.Minute)
	if w.lease <= w.timeout {
		return nil, fmt.Errorf("receiver: WorkerConfig.LeaseDuration (%s) must exceed HandlerTimeout (%s)", w.lease, w.timeout)
	}
	if w.purgeEvery == 0 {
		w.purgeEvery = time.Hour
	}
	if w.owner == "" {
		var b [8]byte
		_, _ = crand.Read(b[:])
		w.owner = "receiver-" + hex.EncodeToString(b[:])
	}
	if w.decode.Registry == nil {
		w.decode.Registry = ssf.DefaultRegistry()
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	return w, nil
}

// Notify wakes the worker: a SET was recorded. It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run handles SETs until ctx ends, then waits for the handlers in flight and returns
// nil. Inbox failures are logged and retried; Run returns an error only when it cannot
// start.
func (w *Worker) Run(ctx context.Context) error {
	var lastPurge time.Time
	failures := 0
	for {
		if w.purgeEvery > 0 && w.now().Sub(lastPurge) >= w.purgeEvery {
			if n, err := w.Purge(ctx); err != nil {
				w.log.LogAttrs(ctx, slog.LevelWarn, "purging the inbox", slog.Any("error", err))
			} else {
				lastPurge = w.now()
				if n > 0 {
					w.log.LogAttrs(ctx, slog.LevelDebug, "inbox purged", slog.Int("records", n))
				}
			}
		}
		n, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := w.idle
		switch {
		case err != nil:
			failures++
			wait = jitter(backoffDelay(w.idle, time.Minute, failures))
			w.log.LogAttrs(ctx, slog.LevelWarn, "leasing from the inbox", slog.Any("error", err), slog.Duration("retry_in", wait))
		case n >= w.batch:
			failures = 0
			continue
		default:
			failures = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Purge deletes the processed records older than the de-duplication window.
func (w *Worker) Purge(ctx context.Context) (int, error) {
	return w.inbox.PurgeInbox(ctx, w.now().Add(-w.window))
}

// RunOnce leases one batch of due SETs, handles them, and returns how many it leased.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	recs, err := w.inbox.InboxLease(ctx, w.owner, w.batch, w.lease, w.now())
	if err != nil {
		return 0, err
	}
	if w.concurrency <= 1 || len(recs) <= 1 {
		for _, rec := range recs {
			w.process(ctx, rec)
		}
		return len(recs), nil
	}
	sem := make(chan struct{}, w.concurrency)
	var wg sync.WaitGroup
	for _, rec := range recs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			w.process(ctx, rec)
		})
	}
	wg.Wait()
	return len(recs), nil
}

// process handles one leased SET and records the outcome.
func (w *Worker) process(ctx context.Context, rec *store.InboxSET) {
	// The outcome is recorded even when ctx ends meanwhile.
	sctx := context.WithoutCancel(ctx)
	log := w.log.With(slog.String("iss", rec.Issuer), slog.String("jti", rec.JTI), slog.String("stream_id", rec.StreamID))
	if isDiscardRecord(rec) {
		w.finish(sctx, log, rec, "", OutcomeDiscarded, 0)
		return
	}
	_, tok, err := set.ParseUnverified(rec.SET, w.decode)
	if err != nil {
		w.fail(sctx, log, rec, "", fmt.Errorf("decoding the recorded SET: %w", err), true, 0)
		return
	}
	typ := tok.Event.Type()
	h := w.mux.Handler(tok)
	if h == nil {
		log.LogAttrs(ctx, slog.LevelDebug, "no handler for the event", slog.String("event_type", typ))
		w.finish(sctx, log, rec, typ, OutcomeUnhandled, 0)
		return
	}
	start := w.now()
	hctx, cancel := context.WithTimeout(ctx, w.timeout)
	err = callHandler(hctx, h, tok)
	cancel()
	d := w.now().Sub(start)
	if err == nil {
		w.finish(sctx, log, rec, typ, OutcomeSuccess, d)
		return
	}
	if ctx.Err() != nil {
		// Shutting down: leave the SET leased; it is handled again after the lease.
		log.LogAttrs(sctx, slog.LevelDebug, "handler interrupted by shutdown", slog.Any("error", err))
		return
	}
	_, permanent := errors.AsType[*PermanentError](err)
	w.fail(sctx, log, rec, typ, err, permanent, d)
}

// callHandler runs h, turning a panic into a *PanicError.
func callHandler(ctx context.Context, h HandlerFunc, tok *set.Token) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return h(ctx, tok)
}

func (w *Worker) finish(ctx context.Context, log *slog.Logger, rec *store.InboxSET, typ string, o Outcome, d time.Duration) {
	if err := w.inbox.InboxDone(ctx, rec.Issuer, rec.JTI, w.owner, w.now()); err != nil {
		// ErrLeaseLost: the lease expired and another worker took the SET over.
		log.LogAttrs(ctx, slog.LevelWarn, "marking a SET processed", slog.Any("error", err))
		return
	}
	w.hooks.handled(typ, o, d)
	if rec.AckStream != "" && w.ackReady != nil {
		w.ackReady()
	}
}

func (w *Worker) fail(ctx context.Context, log *slog.Logger, rec *store.InboxSET, typ string, err error, permanent bool, d time.Duration) {
	attempts := rec.Attempts + 1
	attrs := []slog.Attr{slog.String("event_type", typ), slog.Int("attempt", attempts), slog.Any("error", err)}
	if pe, ok := errors.AsType[*PanicError](err); ok {
		attrs = append(attrs, slog.String("stack", string(pe.Stack)))
	}
	if permanent || attempts >= w.maxAttempts {
		reason := fmt.Sprintf("after %d attempt(s): %v", attempts, err)
		if derr := w.inbox.InboxDead(ctx, rec.Issuer, rec.JTI, w.owner, reason, w.now()); derr != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "parking a SET as dead letter", slog.Any("error", derr))
			return
		}
		w.hooks.handled(typ, OutcomeDead, d)
		log.LogAttrs(ctx, slog.LevelError, "SET handler failed; SET parked as dead letter", attrs...)
		if rec.AckStream != "" && w.ackReady != nil {
			w.ackReady()
		}
		return
	}
	delay := jitter(backoffDelay(w.backoff, w.maxBackoff, attempts))
	attrs = append(attrs, slog.Duration("retry_in", delay))
	if rerr := w.inbox.InboxRetry(ctx, rec.Issuer, rec.JTI, w.owner, w.now().Add(delay), truncate(err.Error(), 1024)); rerr != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "recording a failed attempt", slog.Any("error", rerr))
		return
	}
	w.hooks.handled(typ, OutcomeRetry, d)
	log.LogAttrs(ctx, slog.LevelWarn, "SET handler failed; will retry", attrs...)
}

// DeadLetters lists the SETs parked dead, oldest first (limit <= 0: all).
func (w *Worker) DeadLetters(ctx context.Context, limit int) ([]*store.InboxSET, error) {
	return w.inbox.InboxDeadLetters(ctx, limit)
}

// Replay makes dead letters pending again (no keys: all of them) with a fresh attempt
// count, and wakes the worker.
func (w *Worker) Replay(ctx context.Context, keys ...store.InboxKey) (int, error) {
	n, err := w.inbox.InboxReplay(ctx, keys)
	if n > 0 {
		w.Notify()
	}
	return n, err
}

// backoffDelay is base·2^(n−1), at most max.
func backoffDelay(base, max time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// jitter returns a random duration in [d/2, d].
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
