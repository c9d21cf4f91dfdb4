package transmitter

import (
	"context"
	"net/http"
	"time"

	"github.com/sigshare/sigshare/transmitter/poll"
)

// PollOptions tunes the poll endpoint (RFC 8936, package transmitter/poll). The zero
// value uses poll's defaults.
type PollOptions struct {
	// LongPollTimeout is how long a poll with returnImmediately false waits for SETs.
	// Zero: poll.DefaultLongPollTimeout.
	LongPollTimeout time.Duration
	// MaxEvents bounds the SETs of one answer. Zero: poll.DefaultMaxEvents.
	MaxEvents int
	// LeaseDuration is how long a returned SET waits for its acknowledgement before it
	// is returned again. Zero: poll.DefaultLease.
	LeaseDuration time.Duration
	// MaxWaitingPolls bounds concurrent long polls per stream. Zero:
	// poll.DefaultMaxWaiting; negative: no limit.
	MaxWaitingPolls int
	// Hooks observe polls, for metrics.
	Hooks poll.Hooks
}

// pollAuthorized marks a request whose poll on a stream was authorized already.
type pollAuthorized struct{}

// newPollHandler returns the poll endpoint, mounted at <base>/ssf/poll/{stream_id}.
// Requests are authorized with AuthorizePoll before the poll handler runs, so that
// every refusal carries the RFC 6750 challenge (403 insufficient_scope included).
func (t *Transmitter) newPollHandler() (http.Handler, error) {
	ph, err := poll.NewHandler(poll.Config{
		Store: t.cfg.Store,
		Authorize: func(r *http.Request, streamID string) error {
			if id, _ := r.Context().Value(pollAuthorized{}).(string); id == streamID && id != "" {
				return nil
			}
			_, err := t.AuthorizePoll(r, streamID)
			return err
		},
		Challenge:       `Bearer realm="` + quoteAttr(t.cfg.Realm) + `"`,
		LongPollTimeout: t.cfg.Poll.LongPollTimeout,
		MaxEvents:       t.cfg.Poll.MaxEvents,
		LeaseDuration:   t.cfg.Poll.LeaseDuration,
		MaxBodyBytes:    t.cfg.MaxBodyBytes,
		MaxWaitingPolls: t.cfg.Poll.MaxWaitingPolls,
		Logger:          t.log,
		Now:             t.now,
		Hooks:           t.cfg.Poll.Hooks,
	})
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("stream_id")
		if r.Method == http.MethodPost && id != "" {
			if _, err := t.AuthorizePoll(r, id); err != nil {
				WriteAuthError(w, err, t.cfg.Realm)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), pollAuthorized{}, id))
		}
		ph.ServeHTTP(w, r)
	}), nil
}
