package storetest

import (
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

func leaseCases() []testCase {
	return []testCase{
		{"SeqOrderAcrossStreams", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pushStream(t, st, "s2")
			mustEnqueue(t, st, outSET("s2", "1"), outSET("s1", "2"))
			mustEnqueue(t, st, outSET("s1", "3"))
			mustEnqueue(t, st, outSET("s2", "4"), outSET("s2", "5"))
			wantKeys(t, "Lease", leaseAll(t, st, "w", at(0)), "s2/1", "s1/2", "s1/3", "s2/4", "s2/5")
		}},
		{"LimitAndLeaseFields", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			enqueueN(t, st, "s1", "j", 5)
			got := lease(t, st, store.LeaseRequest{Owner: "w1", Limit: 2, Duration: 30 * time.Second, Now: at(10)})
			wantKeys(t, "first Lease(Limit 2)", got, "s1/j-1", "s1/j-2")
			for _, s := range got {
				if s.LeaseOwner != "w1" || !s.LeaseUntil.Equal(at(40)) {
					t.Fatalf("leased %s: LeaseOwner %q LeaseUntil %v, want w1 and %v", key(s), s.LeaseOwner, s.LeaseUntil, at(40))
				}
			}
			wantKeys(t, "second Lease(Limit 2)", lease(t, st, store.LeaseRequest{Owner: "w2", Limit: 2, Duration: time.Minute, Now: at(10)}), "s1/j-3", "s1/j-4")
			wantKeys(t, "third Lease(Limit 2)", lease(t, st, store.LeaseRequest{Owner: "w3", Limit: 2, Duration: time.Minute, Now: at(10)}), "s1/j-5")
			wantKeys(t, "fourth Lease", lease(t, st, store.LeaseRequest{Owner: "w4", Limit: 2, Duration: time.Minute, Now: at(10)}))
		}},
		{"MethodFilter", func(t *testing.T, st store.Store) {
			pushStream(t, st, "push")
			pollStream(t, st, "poll")
			legacy := newStream("legacy-push", "c1", ssf.LegacyDeliveryPush, ssf.StatusEnabled)
			nodelivery := newStream("no-delivery", "c1", ssf.DeliveryPoll, ssf.StatusEnabled)
			nodelivery.Config.Delivery = nil // absent delivery means poll (SSF §8.1.1.1, AMB-4)
			mustCreate(t, st, legacy, nodelivery)
			mustEnqueue(t, st, outSET("push", "a"), outSET("poll", "b"), outSET("legacy-push", "c"), outSET("no-delivery", "d"))
			req := store.LeaseRequest{Owner: "w", Limit: 10, Duration: time.Minute, Now: at(0)}
			req.Method = ssf.DeliveryPush
			wantKeys(t, "Lease(push)", lease(t, st, req), "push/a", "legacy-push/c")
			req.Method = ssf.DeliveryPoll
			wantKeys(t, "Lease(poll)", lease(t, st, req), "poll/b", "no-delivery/d")
			req.Method, req.Now = "", at(100)
			wantKeys(t, "Lease(any method)", lease(t, st, req), "push/a", "poll/b", "legacy-push/c", "no-delivery/d")
		}},
		{"StreamIDFilter", func(t *testing.T, st store.Store) {
			pollStream(t, st, "s1")
			pollStream(t, st, "s2")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s2", "b"), outSET("s1", "c"))
			wantKeys(t, "Lease(s2)", lease(t, st, store.LeaseRequest{Owner: "w", StreamID: "s2", Limit: 10, Duration: time.Minute, Now: at(0)}), "s2/b")
			wantKeys(t, "Lease(s1, push)", lease(t, st, store.LeaseRequest{Owner: "w", StreamID: "s1", Method: ssf.DeliveryPush, Limit: 10, Duration: time.Minute, Now: at(0)}))
			wantKeys(t, "Lease(s1, poll)", lease(t, st, store.LeaseRequest{Owner: "w", StreamID: "s1", Method: ssf.DeliveryPoll, Limit: 10, Duration: time.Minute, Now: at(0)}), "s1/a", "s1/c")
			wantKeys(t, "Lease(nope)", lease(t, st, store.LeaseRequest{Owner: "w", StreamID: "nope", Limit: 10, Duration: time.Minute, Now: at(0)}))
		}},
		{"PausedAndDisabledOnlyControl", func(t *testing.T, st store.Store) {
			// SSF-STATUS-3: no events on a paused or disabled stream; the stream-updated SET
			// announcing the stop is sent before stopping (SSF §8.1.5).
			mustCreate(t, st,
				newStream("paused", "c1", ssf.DeliveryPush, ssf.StatusPaused),
				newStream("disabled", "c1", ssf.DeliveryPoll, ssf.StatusDisabled),
				newStream("enabled", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			mustEnqueue(t, st, outSET("paused", "held"), controlSET("paused", "ctl"),
				outSET("disabled", "x"), controlSET("disabled", "ctl"), outSET("enabled", "e"))
			wantKeys(t, "Lease(any)", leaseAll(t, st, "w", at(0)), "paused/ctl", "disabled/ctl", "enabled/e")
			wantKeys(t, "Lease(paused stream)", lease(t, st, store.LeaseRequest{Owner: "w", StreamID: "paused", Limit: 10, Duration: time.Minute, Now: at(100)}), "paused/ctl")
		}},
		{"HeldSETsDeliveredWhenEnabled", func(t *testing.T, st store.Store) {
			// SSF-STATUS-3: a paused stream holds events and sends them when enabled again.
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusPaused))
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s1", "b"))
			wantKeys(t, "Lease while paused", leaseAll(t, st, "w", at(0)))
			setStatus(t, st, "s1", ssf.StatusEnabled)
			wantKeys(t, "Lease after enabling", leaseAll(t, st, "w", at(0)), "s1/a", "s1/b")
		}},
		{"SkipsDeadLetters", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s1", "b"))
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", "a", "", "x", at(0)))
			wantKeys(t, "Lease", leaseAll(t, st, "w", at(1)), "s1/b")
		}},
		{"NextAttemptAt", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			a, b := outSET("s1", "a"), outSET("s1", "b")
			a.NextAttemptAt = at(10)
			mustEnqueue(t, st, a, b)
			wantKeys(t, "Lease before NextAttemptAt", leaseAll(t, st, "w", at(9)), "s1/b")
			wantKeys(t, "Lease at NextAttemptAt", leaseAll(t, st, "w", at(10)), "s1/a")
		}},
		{"UnexpiredLeaseHolds/ExpiredIsLeasedAgain", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			lease(t, st, store.LeaseRequest{Owner: "A", Limit: 1, Duration: 30 * time.Second, Now: at(0)})
			wantKeys(t, "Lease while A's lease holds", leaseAll(t, st, "B", at(29)))
			got := lease(t, st, store.LeaseRequest{Owner: "B", Limit: 1, Duration: 30 * time.Second, Now: at(30)})
			wantKeys(t, "Lease when A's lease expired", got, "s1/a")
			if got[0].LeaseOwner != "B" || !got[0].LeaseUntil.Equal(at(60)) {
				t.Fatalf("re-leased SET: LeaseOwner %q LeaseUntil %v", got[0].LeaseOwner, got[0].LeaseUntil)
			}
			wantErr(t, "Retry by A after B took over", st.Retry(t.Context(), "s1", "a", "A", at(31), "x"), store.ErrLeaseLost)
			wantErr(t, "DeadLetter by A after B took over", st.DeadLetter(t.Context(), "s1", "a", "A", "x", at(31)), store.ErrLeaseLost)
			wantNoErr(t, "Retry by B", st.Retry(t.Context(), "s1", "a", "B", at(31), "x"))
		}},
		{"InvalidRequestsRejected", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			for name, req := range map[string]store.LeaseRequest{
				"no Owner":      {Limit: 1, Duration: time.Minute, Now: at(0)},
				"Limit 0":       {Owner: "w", Duration: time.Minute, Now: at(0)},
				"Limit -1":      {Owner: "w", Limit: -1, Duration: time.Minute, Now: at(0)},
				"zero Duration": {Owner: "w", Limit: 1, Now: at(0)},
			} {
				got, err := st.Lease(t.Context(), req)
				wantSomeErr(t, "Lease with "+name, err)
				if len(got) != 0 {
					t.Fatalf("Lease with %s leased %v", name, keys(got))
				}
			}
			wantKeys(t, "valid Lease after rejected ones", leaseAll(t, st, "w", at(0)), "s1/a")
		}},
	}
}
