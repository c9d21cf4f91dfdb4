package poll

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sigshare/sigshare/internal/peertext"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// Defaults for the zero values of Config.
const (
	DefaultLongPollTimeout = 25 * time.Second
	// MaxLongPollTimeout is the longest long poll; longer values are clamped to it
	// (intermediaries drop idle connections, and a waiting poll holds resources).
	MaxLongPollTimeout = 5 * time.Minute
	DefaultMaxEvents   = 1000
	DefaultLease       = 5 * time.Minute
	DefaultMaxBody     = 1 << 20
	DefaultMaxWaiting  = 4
	DefaultChallenge   = "Bearer"
)

// storeTimeout bounds the store writes of one request (acknowledgements, error reports,
// activity), which run to completion even if the client goes away.
const storeTimeout = 10 * time.Second

// Config configures a Handler. Store and Authorize are required; the zero value of every
// other field is usable.
type Config struct {
	// Store holds the streams and the outbox.
	Store store.Store
	// Authorize authenticates the request and checks that the caller owns the stream
	// (SSF §8, SSF-AUTH-3). Its error decides the answer through ssf.HTTPStatus:
	// ssf.ErrUnauthorized (401, with WWW-Authenticate), ssf.ErrForbidden (403),
	// ssf.ErrNotFound (404: preferable for another client's stream, which then looks
	// like no stream at all), or an *ssf.Error with any status. Required.
	Authorize func(r *http.Request, streamID string) error
	// Challenge is the WWW-Authenticate value of 401 answers (RFC 8936 §3, POLL-12)
	// unless the Authorize error provides one (see Challenger). Empty: "Bearer".
	Challenge string
	// LongPollTimeout is how long a poll with returnImmediately false waits for SETs
	// (0: DefaultLongPollTimeout; at most MaxLongPollTimeout). Put it below the HTTP
	// server's WriteTimeout.
	LongPollTimeout time.Duration
	// MaxEvents is the most SETs one answer carries, whatever maxEvents asks
	// (0: DefaultMaxEvents). When it cuts a batch short, moreAvailable is true (AMB-25).
	MaxEvents int
	// LeaseDuration is how long a returned SET waits for its acknowledgement before a
	// later poll returns it again with the same jti (RFC 8936 §2.4, POLL-8)
	// (0: DefaultLease).
	LeaseDuration time.Duration
	// MaxBodyBytes bounds the request body (0: DefaultMaxBody); larger bodies get 413.
	MaxBodyBytes int64
	// MaxWaitingPolls bounds the polls of one stream that may long-poll at the same time
	// (SEC-13); more get 429 with Retry-After (0: DefaultMaxWaiting; negative: no limit).
	MaxWaitingPolls int
	// Owner names this handler in leases. Empty: "poll/<host>/<pid>/<random>".
	Owner string
	// Logger receives operational logs (never SETs or credentials). nil: nothing.
	Logger *slog.Logger
	// Now returns the current time (nil: time.Now).
	Now func() time.Time
	// Hooks observe polls, for metrics.
	Hooks Hooks
}

// Hooks are called synchronously; they must be fast and safe for concurrent use. nil
// hooks are skipped.
type Hooks struct {
	// Served is called for every 200 answer: how many SETs it carried and how long the
	// request waited for them.
	Served func(streamID string, delivered int, waited time.Duration)
	// Acknowledged is called with the number of acknowledged SETs a request removed.
	Acknowledged func(streamID string, n int)
	// ReceiverError is called for every setErrs entry that parked a SET. code is the
	// reported err when it is a registered code (ssf.IsRegisteredSETErrorCode), else
	// "other".
	ReceiverError func(streamID, code string)
	// Rejected is called for every answer other than 200, with its status.
	Rejected func(streamID string, status int)
}

// Challenger is implemented by Authorize errors that carry their own WWW-Authenticate
// value, e.g. `Bearer error="invalid_token"` (RFC 6750 §3).
type Challenger interface {
	WWWAuthenticate() string
}

// Handler serves POST .../{stream_id}: the poll endpoint of RFC 8936. Mount it on a
// pattern with a {stream_id} wildcard, e.g. "POST /ssf/poll/{stream_id}".
type Handler struct {
	cfg Config

	mu      sync.Mutex
	waiting map[string]int // long polls in progress per stream
}

// NewHandler returns a Handler for cfg, or an error naming the field that is wrong.
func NewHandler(cfg Config) (*Handler, error) {
	var errs []error
	if cfg.Store == nil {
		errs = append(errs, errors.New("poll: Config.Store is required"))
	}
	if cfg.Authorize == nil {
		errs = append(errs, errors.New("poll: Config.Authorize is required"))
	}
	if cfg.LongPollTimeout < 0 {
		errs = append(errs, fmt.Errorf("poll: Config.LongPollTimeout is negative (%v)", cfg.LongPollTimeout))
	}
	if cfg.MaxEvents < 0 {
		errs = append(errs, fmt.Errorf("poll: Config.MaxEvents is negative (%d)", cfg.MaxEvents))
	}
	if cfg.LeaseDuration < 0 {
		errs = append(errs, fmt.Errorf("poll: Config.LeaseDuration is negative (%v)", cfg.LeaseDuration))
	}
	if cfg.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("poll: Config.MaxBodyBytes is negative (%d)", cfg.MaxBodyBytes))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Challenge == "" {
		cfg.Challenge = DefaultChallenge
	}
	if cfg.LongPollTimeout == 0 {
		cfg.LongPollTimeout = DefaultLongPollTimeout
	}
	cfg.LongPollTimeout = min(cfg.LongPollTimeout, MaxLongPollTimeout)
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = DefaultLease
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBody
	}
	if cfg.MaxWaitingPolls == 0 {
		cfg.MaxWaitingPolls = DefaultMaxWaiting
	}
	if cfg.Owner == "" {
		cfg.Owner = defaultOwner()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg, waiting: make(map[string]int)}, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	streamID := r.PathValue("stream_id")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, streamID, ssf.Errorf(http.StatusMethodNotAllowed, "the poll endpoint accepts POST only (RFC 8936 §2.1)"))
		return
	}
	if streamID == "" {
		h.fail(w, streamID, ssf.Errorf(http.StatusNotFound, "no stream_id in the request path"))
		return
	}
	if err := h.cfg.Authorize(r, streamID); err != nil {
		h.fail(w, streamID, err)
		return
	}
	req, err := h.decode(w, r)
	if err != nil {
		h.fail(w, streamID, err)
		return
	}
	stream, err := h.cfg.Store.GetStream(r.Context(), streamID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.fail(w, streamID, ssf.Errorf(http.StatusNotFound, "no stream %q", streamID))
		return
	case err != nil:
		h.fail(w, streamID, fmt.Errorf("poll: reading stream %q: %w", streamID, err))
		return
	}
	if m := stream.Config.EffectiveDeliveryMethod(); m != ssf.DeliveryPoll {
		h.fail(w, streamID, ssf.Errorf(http.StatusNotFound,
			"stream %q does not use poll delivery (its delivery method is %s)", streamID, m))
		return
	}
	// Every poll is receiver activity (SSF-STREAM-13, POLL-14).
	if err := h.cfg.Store.TouchStream(r.Context(), streamID, h.cfg.Now()); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.cfg.Logger.Error("poll: recording receiver activity failed", "stream_id", streamID, "err", err)
	}
	if !req.ReturnImmediately {
		if !h.enter(streamID) {
			h.fail(w, streamID, &ssf.RateLimitError{RetryAfter: time.Second, Description: fmt.Sprintf(
				"stream %q already has %d long polls waiting; wait for an answer before polling again", streamID, h.cfg.MaxWaitingPolls)})
			return
		}
		defer h.leave(streamID)
	}

	// Acknowledgements and error reports are committed before anything else can fail,
	// and even if the client goes away meanwhile.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), storeTimeout)
	defer cancel()
	if err := h.acknowledge(wctx, streamID, &req); err != nil {
		h.fail(w, streamID, err)
		return
	}

	batch := req.BatchSize(h.cfg.MaxEvents)
	var sets []*store.OutboxSET
	if batch == 0 {
		if !req.ReturnImmediately {
			if err := h.waitReady(r.Context(), stream); err != nil {
				h.fail(w, streamID, err)
				return
			}
		}
	} else {
		sets, err = h.lease(r.Context(), streamID, batch, !req.ReturnImmediately)
		if err != nil {
			if r.Context().Err() != nil {
				return // the client went away; nothing was leased
			}
			h.fail(w, streamID, err)
			return
		}
	}
	if r.Context().Err() != nil {
		// The client is gone, or the node stops: the SETs were never sent (release.go).
		h.giveBack(wctx, streamID, sets)
		return
	}
	resp := ssf.PollResponse{Sets: make(map[string]string, len(sets))}
	for _, s := range sets {
		resp.Sets[s.JTI] = s.SET
	}
	if batch > 0 && len(sets) == batch && stream.Status == ssf.StatusEnabled {
		// (A stopped stream holds SETs that are not available.)
		c, err := h.cfg.Store.CountOutbox(r.Context(), streamID, h.cfg.Now())
		if err != nil {
			h.cfg.Logger.Error("poll: counting the outbox failed", "stream_id", streamID, "err", err)
		} else {
			resp.MoreAvailable = c.Pending-c.Leased > 0
		}
	}
	body, err := resp.MarshalJSON()
	if err != nil {
		h.fail(w, streamID, fmt.Errorf("poll: encoding the answer: %w", err))
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	if f := h.cfg.Hooks.Served; f != nil {
		f(streamID, len(sets), time.Since(start))
	}
}

// decode reads and checks the poll request (RFC 8936 §2.2).
func (h *Handler) decode(w http.ResponseWriter, r *http.Request) (ssf.PollRequest, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return ssf.PollRequest{}, ssf.Errorf(http.StatusUnsupportedMediaType,
				"Content-Type %q: a poll request is JSON, send Content-Type: application/json (RFC 8936 §2.2)", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return ssf.PollRequest{}, ssf.Errorf(http.StatusRequestEntityTooLarge,
				"the request body exceeds %d bytes", h.cfg.MaxBodyBytes)
		}
		return ssf.PollRequest{}, ssf.Errorf(http.StatusBadRequest, "reading the request body: %v", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return ssf.PollRequest{}, ssf.Errorf(http.StatusBadRequest,
			"the request body is empty: send {} for a default poll (RFC 8936 §2.2)")
	}
	var req ssf.PollRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return ssf.PollRequest{}, ssf.Errorf(http.StatusBadRequest, "invalid poll request (RFC 8936 §2.2): %v", err)
	}
	if err := req.Validate(); err != nil {
		return ssf.PollRequest{}, ssf.Errorf(http.StatusBadRequest, "invalid poll request (RFC 8936 §2.2): %v", err)
	}
	return req, nil
}

// acknowledge applies ack, then setErrs (RFC 8936 §2.4).
func (h *Handler) acknowledge(ctx context.Context, streamID string, req *ssf.PollRequest) error {
	if len(req.Ack) > 0 {
		found, err := h.cfg.Store.Ack(ctx, streamID, req.Ack)
		if err != nil {
			return fmt.Errorf("poll: acknowledging SETs of stream %q: %w", streamID, err)
		}
		if f := h.cfg.Hooks.Acknowledged; f != nil && len(found) > 0 {
			f(streamID, len(found))
		}
	}
	if len(req.SetErrs) == 0 {
		return nil
	}
	now := h.cfg.Now()
	jtis := make([]string, 0, len(req.SetErrs))
	for jti := range req.SetErrs {
		if !slices.Contains(req.Ack, jti) {
			jtis = append(jtis, jti)
		}
	}
	slices.Sort(jtis)
	for _, jti := range jtis {
		e := req.SetErrs[jti]
		reason := "receiver reported " + peertext.Clean(e.Err, 64)
		if d := peertext.Clean(e.Description, 512); d != "" {
			reason += ": " + d
		}
		err := h.cfg.Store.DeadLetter(ctx, streamID, jti, "", reason, now)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue // acknowledged or deleted already
		case err != nil:
			return fmt.Errorf("poll: recording the receiver's error for SET %q of stream %q: %w", jti, streamID, err)
		}
		h.cfg.Logger.Warn("poll: receiver reported an invalid SET; parked as a dead letter",
			"stream_id", streamID, "jti", jti, "err", e.Err)
		if f := h.cfg.Hooks.ReceiverError; f != nil {
			code := e.Err
			if !ssf.IsRegisteredSETErrorCode(code) {
				code = "other"
			}
			f(streamID, code)
		}
	}
	return nil
}

// lease takes up to limit SETs of the stream. With wait, it waits for SETs when there
// are none, until the long-poll timeout or ctx ends.
func (h *Handler) lease(ctx context.Context, streamID string, limit int, wait bool) ([]*store.OutboxSET, error) {
	var sub <-chan struct{}
	if wait {
		ch, cancel := h.cfg.Store.Subscribe(streamID)
		defer cancel()
		sub = ch
	}
	var timer *time.Timer
	for {
		sets, err := h.cfg.Store.Lease(ctx, store.LeaseRequest{
			Owner:    h.cfg.Owner,
			StreamID: streamID,
			Method:   ssf.DeliveryPoll,
			Limit:    limit,
			Duration: h.cfg.LeaseDuration,
			Now:      h.cfg.Now(),
		})
		if err != nil {
			return nil, fmt.Errorf("poll: leasing SETs of stream %q: %w", streamID, err)
		}
		if len(sets) > 0 || !wait {
			return sets, nil
		}
		if timer == nil {
			timer = time.NewTimer(h.cfg.LongPollTimeout)
			defer timer.Stop()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
			return nil, nil
		case <-sub:
		}
	}
}

// waitReady is the long poll of an acknowledge-only request (RFC 8936 §2.4.2, POLL-5):
// it returns when the stream has SETs ready, at the long-poll timeout, or when ctx ends.
func (h *Handler) waitReady(ctx context.Context, stream *store.Stream) error {
	sub, cancel := h.cfg.Store.Subscribe(stream.ID)
	defer cancel()
	if stream.Status == ssf.StatusEnabled {
		c, err := h.cfg.Store.CountOutbox(ctx, stream.ID, h.cfg.Now())
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("poll: counting the outbox of stream %q: %w", stream.ID, err)
		}
		if c.Pending-c.Leased > 0 {
			return nil
		}
	}
	timer := time.NewTimer(h.cfg.LongPollTimeout)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	case <-sub:
	}
	return nil
}

// enter reserves a long-poll slot of the stream; false when all are taken.
func (h *Handler) enter(streamID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cfg.MaxWaitingPolls > 0 && h.waiting[streamID] >= h.cfg.MaxWaitingPolls {
		return false
	}
	h.waiting[streamID]++
	return true
}

func (h *Handler) leave(streamID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiting[streamID]--; h.waiting[streamID] <= 0 {
		delete(h.waiting, streamID)
	}
}

// fail writes err as the answer: its status from ssf.HTTPStatus, the JSON error body of
// ssf.WriteError, and WWW-Authenticate on 401.
func (h *Handler) fail(w http.ResponseWriter, streamID string, err error) {
	status := ssf.HTTPStatus(err)
	if status == http.StatusUnauthorized {
		challenge := h.cfg.Challenge
		var c Challenger
		if errors.As(err, &c) && c.WWWAuthenticate() != "" {
			challenge = c.WWWAuthenticate()
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	if status >= 500 {
		h.cfg.Logger.Error("poll request failed", "stream_id", streamID, "status", status, "err", err)
	} else {
		h.cfg.Logger.Debug("poll request refused", "stream_id", streamID, "status", status, "err", err)
	}
	ssf.WriteError(w, err)
	if f := h.cfg.Hooks.Rejected; f != nil {
		f(streamID, status)
	}
}

func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("poll/%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
