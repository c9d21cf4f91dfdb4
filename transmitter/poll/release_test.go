package poll

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// cancellingStore ends the poll request right after its Lease returned SETs: the client
// went away (or the node stopped) between leasing and answering.
type cancellingStore struct {
	store.Store
	cancel context.CancelFunc
}

func (s *cancellingStore) Lease(ctx context.Context, req store.LeaseRequest) ([]*store.OutboxSET, error) {
	sets, err := s.Store.Lease(ctx, req)
	if len(sets) > 0 {
		s.cancel()
	}
	return sets, err
}

// POLL-8: SETs leased for a poll that is never answered were not sent; they are given
// back at once (no attempt counted), not left to their lease.
func TestUnansweredPollGivesBackItsSETs(t *testing.T) {
	e := newEnv(t, nil)
	e.stream("s", ssf.DeliveryPoll)
	e.enqueue("s", "a", "b")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := &cancellingStore{Store: e.st, cancel: cancel}
	h, err := NewHandler(Config{Store: cs, Authorize: authorize(cs), LeaseDuration: time.Hour, Owner: "poll-test", Now: e.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/poll/s", strings.NewReader(`{"maxEvents":10,"returnImmediately":true}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer c-s")
	req.SetPathValue("stream_id", "s")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.Len() != 0 {
		t.Fatalf("the unanswered poll wrote %d %q", rec.Code, rec.Body.String())
	}
	if c := e.counts("s"); c.Pending != 2 || c.Leased != 0 {
		t.Fatalf("after an unanswered poll the outbox is %+v, want 2 pending, none leased", c)
	}
	if got := e.mustPoll("s", `{"returnImmediately":true}`); len(got.Sets) != 2 {
		t.Fatalf("next poll returned %d SETs, want both at once", len(got.Sets))
	}
}
