package receiver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// PollerConfig configures [NewPoller]. Endpoint and Recipient are required.
type PollerConfig struct {
	// Endpoint is the stream's poll endpoint: its delivery.endpoint_url, supplied by
	// the Transmitter (SSF §6.1.2).
	Endpoint string
	// Recipient validates and records each SET (its Inbox also keeps the pending
	// acknowledgements).
	Recipient *Recipient
	// AckStream names the stream in the inbox's pending acknowledgements. Empty means
	// the Recipient's StreamID; one of them must be set.
	AckStream string
	// Credentials authorize the poll requests (SSF-AUTH-2: the schemes that protect the
	// management API SHOULD protect the poll endpoint). Nil sends no Authorization.
	Credentials Credentials
	// HTTPClient sends the requests. Nil means a client without a global timeout (each
	// request is bounded by RequestTimeout) that follows redirects only to the same
	// host.
	HTTPClient *http.Client
	// MaxEvents is the maxEvents of each poll (RFC 8936 §2.2). Zero means 100.
	MaxEvents int
	// ReturnImmediately asks for short polling (returnImmediately true). False (the
	// default) long-polls: the Transmitter holds the request until a SET is available
	// or its timeout expires (RFC 8936 §2.5).
	ReturnImmediately bool
	// RequestTimeout bounds each poll request. It must exceed the Transmitter's long
	// poll timeout (agreed out of band). Zero means 2 minutes.
	RequestTimeout time.Duration
	// PollInterval is the wait after an empty answer when short-polling (or when a long
	// poll came back empty at once: a Transmitter that does not hold requests). It
	// doubles after each further empty answer up to MaxPollInterval, with jitter, and
	// starts again after an answer with SETs. Zero means 1 second; MaxPollInterval zero
	// means 30 seconds.
	PollInterval, MaxPollInterval time.Duration
	// ErrorBackoff is the wait after a failed request (Transmitter down, 5xx, 429,
	// network error); it doubles after each further failure up to MaxErrorBackoff, with
	// jitter; a Retry-After the Transmitter sent is honoured when longer. Zero means 1
	// second; MaxErrorBackoff zero means 5 minutes.
	ErrorBackoff, MaxErrorBackoff time.Duration
	// MaxAcks bounds the jtis acknowledged in one request. Zero means 1000.
	MaxAcks int
	// MaxResponseBytes bounds a poll response. Zero means 16 MiB.
	MaxResponseBytes int64
	// InsecureAllowHTTP accepts an http Endpoint (loopback tests only).
	InsecureAllowHTTP bool
	// Hooks receive metrics events (PollRequest; the Recipient's hooks count the SETs).
	Hooks Hooks
	// Logger receives Warn records for failed requests and Debug records per poll. Nil
	// means no logging.
	Logger *slog.Logger
}

// Poller is the Receiver's RFC 8936 client for one poll stream (SSF §6.1.2).
//
// Each poll request carries the acknowledgements pending in the inbox and the errors of
// the SETs that failed validation in the previous answer, and asks for up to MaxEvents
// SETs (long polling unless ReturnImmediately). Each SET received is validated and
// recorded by the [Recipient]; it is acknowledged only after its handler ran (the
// [Worker] adds its jti to the pending acknowledgements, which survive restarts in the
// inbox), so a Receiver that crashes never loses a SET. A SET that fails validation is
// reported in setErrs with its RFC 8935 code and an English description, with
// Content-Language: en (RFC 8936 §2.4.4, POLL-11). A SET received again after it was
// processed (or parked dead) is acknowledged again (POLL-8); one still waiting for its
// handler is acknowledged when the handler is done.
//
// While a long poll is waiting, acknowledgements that become ready are sent at once in
// an acknowledge-only request (maxEvents 0, returnImmediately true: RFC 8936 §2.4.2,
// POLL-5), so that the Transmitter does not redeliver them meanwhile.
//
// Failures (network, 5xx, 429, an invalid answer) are retried after an exponential
// backoff with jitter; the Poller recovers by itself when the Transmitter comes back.
// Run stops when its ctx ends, after its goroutines have ended.
type Poller struct {
	endpoint   string
	rec        *Recipient
	inbox      store.InboxStore
	stream     string
	creds      Credentials
	http       *http.Client
	maxEvents  int
	immediate  bool
	timeout    time.Duration
	interval   time.Duration
	maxIntv    time.Duration
	errBackoff time.Duration
	maxErrBack time.Duration
	maxAcks    int
	maxBytes   int64
	hooks      Hooks
	log        *slog.Logger

	ackNow chan struct{}

	mu      sync.Mutex
	setErrs map[string]ssf.SETError // to report with the next request
}

// NewPoller checks cfg and returns a poller. Call Run to start it.
func NewPoller(cfg PollerConfig) (*Poller, error) {
	if cfg.Recipient == nil {
		return nil, errors.New("receiver: PollerConfig.Recipient is required")
	}
	if _, err := checkURL("poll endpoint", cfg.Endpoint, cfg.InsecureAllowHTTP); err != nil {
		return nil, err
	}
	stream := cfg.AckStream
	if stream == "" {
		stream = cfg.Recipient.StreamID()
	}
	if stream == "" {
		return nil, errors.New("receiver: PollerConfig.AckStream (or the Recipient's StreamID) is required")
	}
	p := &Poller{
		endpoint:   cfg.Endpoint,
		rec:        cfg.Recipient,
		inbox:      cfg.Recipient.inbox,
		stream:     stream,
		creds:      cfg.Credentials,
		http:       httpClient(cfg.HTTPClient, 0, cfg.InsecureAllowHTTP),
		maxEvents:  orDefault(cfg.MaxEvents, 100),
		immediate:  cfg.ReturnImmediately,
		timeout:    orDefault(cfg.RequestTimeout, 2*time.Minute),
		interval:   orDefault(cfg.PollInterval, time.Second),
		maxIntv:    orDefault(cfg.MaxPollInterval, 30*time.Second),
		errBackoff: orDefault(cfg.ErrorBackoff, time.Second),
		maxErrBack: orDefault(cfg.MaxErrorBackoff, 5*time.Minute),
		maxAcks:    orDefault(cfg.MaxAcks, 1000),
		maxBytes:   orDefault(cfg.MaxResponseBytes, 16<<20),
		hooks:      cfg.Hooks,
		log:        cfg.Logger,
		ackNow:     make(chan struct{}, 1),
		setErrs:    make(map[string]ssf.SETError),
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// AckNow tells the poller that acknowledgements are pending (typically
// WorkerConfig.AckReady). It never blocks.
func (p *Poller) AckNow() {
	select {
	case p.ackNow <- struct{}{}:
	default:
	}
}

// PollResult summarises one poll request.
type PollResult struct {
	// Sets is how many SETs the answer held.
	Sets int
	// Acked is how many jtis the request acknowledged.
	Acked int
	// SetErrs is how many SET errors the request reported.
	SetErrs int
	// MoreAvailable is the answer's moreAvailable.
	MoreAvailable bool
	// Duration is how long the request took.
	Duration time.Duration
}

// PollError is a failed poll request: the answer's HTTP status (0 when none came) and
// the cause. For 429 and 503 RetryAfter is the delay the Transmitter asked for.
type PollError struct {
	// Status is the HTTP status, or 0.
	Status int
	// RetryAfter is the Transmitter's Retry-After, or 0.
	RetryAfter time.Duration
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *PollError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("receiver: poll request: HTTP %d: %v", e.Status, e.Err)
	}
	return "receiver: poll request: " + e.Err.Error()
}

// Unwrap returns e.Err.
func (e *PollError) Unwrap() error { return e.Err }

// Run polls until ctx ends, then returns nil once its acknowledgement goroutine has
// ended.
func (p *Poller) Run(ctx context.Context) error {
	ackCtx, stopAcks := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { p.ackLoop(ackCtx) })
	defer func() {
		stopAcks()
		wg.Wait()
	}()
	failures, empties := 0, 0
	for ctx.Err() == nil {
		res, err := p.PollOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var wait time.Duration
		switch {
		case err != nil:
			failures++
			wait = jitter(backoffDelay(p.errBackoff, p.maxErrBack, failures))
			if pe, ok := errors.AsType[*PollError](err); ok && pe.RetryAfter > wait {
				wait = pe.RetryAfter
			}
			p.log.LogAttrs(ctx, slog.LevelWarn, "poll request failed", slog.String("endpoint", p.endpoint),
				slog.Any("error", err), slog.Int("failures", failures), slog.Duration("retry_in", wait))
		case res.Sets == 0 && !res.MoreAvailable && (p.immediate || res.Duration < time.Second):
			failures = 0
			empties++
			wait = jitter(backoffDelay(p.interval, p.maxIntv, empties))
		default:
			failures, empties = 0, 0
		}
		if wait > 0 && !sleep(ctx, wait) {
			return nil
		}
	}
	return nil
}

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ackLoop sends acknowledge-only requests when AckNow signals, batching signals that
// come within 50 ms.
func (p *Poller) ackLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.ackNow:
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return
		}
		select {
		case <-p.ackNow:
		default:
		}
		if _, err := p.Acknowledge(ctx); err != nil && ctx.Err() == nil {
			p.log.LogAttrs(ctx, slog.LevelDebug, "acknowledge-only request failed; the next poll carries the acknowledgements", slog.Any("error", err))
		}
	}
}

// Acknowledge sends the pending acknowledgements and SET errors in acknowledge-only
// requests (maxEvents 0, returnImmediately true), until none is left. It sends nothing
// when nothing is pending.
func (p *Poller) Acknowledge(ctx context.Context) (PollResult, error) {
	var total PollResult
	for {
		zero := 0
		res, err := p.exchange(ctx, &zero, true)
		total.Acked += res.Acked
		total.SetErrs += res.SetErrs
		total.Duration += res.Duration
		if err != nil || res.Acked < p.maxAcks {
			return total, err
		}
	}
}

// PollOnce sends one poll request (with the pending acknowledgements and SET errors),
// and validates and records the SETs of the answer.
func (p *Poller) PollOnce(ctx context.Context) (PollResult, error) {
	max := p.maxEvents
	return p.exchange(ctx, &max, p.immediate)
}

// exchange sends one request. With maxEvents 0 it is acknowledge-only and is skipped
// when there is nothing to acknowledge.
func (p *Poller) exchange(ctx context.Context, maxEvents *int, immediate bool) (PollResult, error) {
	acks, err := p.inbox.PendingAcks(ctx, p.stream, p.maxAcks)
	if err != nil {
		return PollResult{}, fmt.Errorf("receiver: reading the pending acknowledgements of stream %q: %w", p.stream, err)
	}
	errs := p.takeSetErrs()
	if *maxEvents == 0 && len(acks) == 0 && len(errs) == 0 {
		return PollResult{}, nil
	}
	req := ssf.PollRequest{MaxEvents: maxEvents, ReturnImmediately: immediate, Ack: acks, SetErrs: errs}
	start := time.Now()
	resp, status, err := p.post(ctx, req)
	res := PollResult{Duration: time.Since(start)}
	if err != nil {
		p.restoreSetErrs(errs)
		p.hooks.pollRequest(status, 0, 0, 0, res.Duration, err)
		return res, err
	}
	res.Acked, res.SetErrs = len(acks), len(errs)
	if len(acks) > 0 {
		if err := p.inbox.RemovePendingAcks(context.WithoutCancel(ctx), p.stream, acks); err != nil {
			// They are sent again with the next request: harmless.
			p.log.LogAttrs(ctx, slog.LevelWarn, "forgetting sent acknowledgements", slog.Any("error", err))
		}
	}
	res.Sets, res.MoreAvailable = len(resp.Sets), resp.MoreAvailable
	for _, jti := range slices.Sorted(maps.Keys(resp.Sets)) {
		p.receive(ctx, jti, resp.Sets[jti])
	}
	p.hooks.pollRequest(status, res.Sets, res.Acked, res.SetErrs, res.Duration, nil)
	p.log.LogAttrs(ctx, slog.LevelDebug, "poll", slog.String("endpoint", p.endpoint), slog.Int("sets", res.Sets),
		slog.Int("acked", res.Acked), slog.Int("set_errs", res.SetErrs), slog.Bool("more_available", res.MoreAvailable))
	return res, nil
}

// receive validates and records one SET of an answer.
func (p *Poller) receive(ctx context.Context, jti, raw string) {
	rc, err := p.rec.receive(ctx, TransportPoll, raw, p.stream, jti)
	if err != nil {
		if se, ok := errors.AsType[*set.Error](err); ok {
			p.mu.Lock()
			p.setErrs[jti] = ssf.SETError{Err: se.Code, Description: se.Description}
			p.mu.Unlock()
			return
		}
		// Not acknowledged: the Transmitter delivers it again.
		p.log.LogAttrs(ctx, slog.LevelWarn, "poll: SET not handled now", slog.String("jti", jti), slog.Any("error", err))
		return
	}
	if rc.Duplicate && rc.Existing != nil && rc.Existing.State != store.InboxPending {
		// Handled before: acknowledge it again (POLL-8).
		if err := p.inbox.AddPendingAcks(ctx, p.stream, []string{jti}); err != nil {
			p.log.LogAttrs(ctx, slog.LevelWarn, "poll: re-acknowledging a duplicate", slog.String("jti", jti), slog.Any("error", err))
		}
	}
}

func (p *Poller) takeSetErrs() map[string]ssf.SETError {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.setErrs) == 0 {
		return nil
	}
	out := p.setErrs
	p.setErrs = make(map[string]ssf.SETError)
	return out
}

func (p *Poller) restoreSetErrs(errs map[string]ssf.SETError) {
	if len(errs) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, v := range errs {
		if _, ok := p.setErrs[k]; !ok {
			p.setErrs[k] = v
		}
	}
}

// post sends one poll request and decodes the answer.
func (p *Poller) post(ctx context.Context, req ssf.PollRequest) (*ssf.PollResponse, int, error) {
	body, err := req.MarshalJSON()
	if err != nil {
		return nil, 0, &PollError{Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint, bytes.NewReader(body))
		if err != nil {
			return nil, 0, &PollError{Err: err}
		}
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set("Accept", "application/json")
		if len(req.SetErrs) > 0 {
			hr.Header.Set("Content-Language", "en") // RFC 8936 §2.6, POLL-11
		}
		if p.creds != nil {
			authz, err := p.creds.Authorization(ctx)
			if err != nil {
				return nil, 0, &PollError{Err: fmt.Errorf("obtaining credentials: %w", err)}
			}
			hr.Header.Set("Authorization", authz)
		}
		resp, err := p.http.Do(hr)
		if err != nil {
			return nil, 0, &PollError{Err: err}
		}
		data, rerr := readBody(resp.Body, p.maxBytes)
		drain(resp)
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			if r, ok := p.creds.(Refresher); ok {
				r.Invalidate()
				continue
			}
		}
		// RFC 8936 §2.5.1: the body of an error answer is undefined and ignored.
		if err := ssf.ErrorFromResponse(resp.StatusCode, resp.Header, nil); err != nil {
			pe := &PollError{Status: resp.StatusCode, Err: err}
			if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
				// ErrorFromResponse parses Retry-After (seconds or HTTP date) for a 429.
				if rl, ok := errors.AsType[*ssf.RateLimitError](ssf.ErrorFromResponse(http.StatusTooManyRequests, resp.Header, nil)); ok {
					pe.RetryAfter = rl.RetryAfter
				}
			}
			return nil, resp.StatusCode, pe
		}
		if rerr != nil {
			return nil, resp.StatusCode, &PollError{Status: resp.StatusCode, Err: rerr}
		}
		pr, err := decodePollResponse(data)
		if err != nil {
			return nil, resp.StatusCode, &PollError{Status: resp.StatusCode, Err: err}
		}
		return pr, resp.StatusCode, nil
	}
}

// decodePollResponse decodes and checks a poll answer (RFC 8936 §2.5): a JSON object
// with a "sets" object of jti → compact SET.
func decodePollResponse(data []byte) (*ssf.PollResponse, error) {
	var pr ssf.PollResponse
	if err := json.Unmarshal(data, &pr); err != nil {
		return nil, fmt.Errorf("the answer is not a poll response (RFC 8936 §2.5): %w", err)
	}
	if err := pr.Validate(); err != nil {
		return nil, err
	}
	return &pr, nil
}
