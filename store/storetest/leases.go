package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// renew calls Renew and fails the test on an error.
func renew(t *testing.T, st store.Store, stream string, jtis []string, owner string, until time.Time) []string {
	t.Helper()
	got, err := st.Renew(t.Context(), stream, jtis, owner, until)
	if err != nil {
		t.Fatalf("Renew(%q, %v, %q): %v", stream, jtis, owner, err)
	}
	if got == nil {
		got = []string{}
	}
	return got
}

// release calls Release and fails the test on an error.
func release(t *testing.T, st store.Store, stream string, jtis []string, owner string) []string {
	t.Helper()
	got, err := st.Release(t.Context(), stream, jtis, owner)
	if err != nil {
		t.Fatalf("Release(%q, %v, %q): %v", stream, jtis, owner, err)
	}
	if got == nil {
		got = []string{}
	}
	return got
}

// leaseCasesRenewRelease are the rules of Renew, Release, ReleaseOwner and the attempt
// counting of DeadLetter.
func leaseCasesRenewRelease() []testCase {
	return []testCase{
		{"Renew/ExtendsHeldLeasesOnly", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pushStream(t, st, "s2")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s1", "b"), outSET("s1", "c"), outSET("s2", "a"))
			leaseAll(t, st, "w", at(0)) // until at(60)
			got := renew(t, st, "s1", []string{"c", "a", "unknown", "a"}, "w", at(300))
			wantEqual(t, "Renew (renewed jtis in the order given, once each)", got, []string{"c", "a"})
			wantEqual(t, "CountOutbox(s1) at 100s", counts(t, st, "s1", at(100)), store.OutboxCounts{Pending: 3, Leased: 2})
			wantEqual(t, "CountOutbox(s2) at 100s (another stream's SET with the same jti: not renewed)",
				counts(t, st, "s2", at(100)), store.OutboxCounts{Pending: 1})
			wantKeys(t, "Lease at 100s", leaseAll(t, st, "w2", at(100)), "s1/b", "s2/a")
			wantKeys(t, "Lease at 299s (w2's leases expired; a and c renewed to 300s)", leaseAll(t, st, "w3", at(299)), "s1/b", "s2/a")
			wantKeys(t, "Lease at 300s", leaseAll(t, st, "w4", at(300)), "s1/a", "s1/c")
		}},
		{"Renew/SetsLeaseUntilAndNothingElse", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			a := outSET("s1", "a")
			a.Attempts, a.LastError = 3, "HTTP 503"
			mustEnqueue(t, st, a)
			got := leaseAll(t, st, "w", at(0))
			wantEqual(t, "Renew", renew(t, st, "s1", []string{"a"}, "w", at(500)), []string{"a"})
			want := *got[0]
			want.LeaseUntil = at(500)
			peek := lease(t, st, store.LeaseRequest{Owner: "w", Limit: 10, Duration: time.Minute, Now: at(500)})
			want.LeaseUntil = at(560) // leased again at 500 by the same owner
			wantEqual(t, "SET after Renew", peek, []*store.OutboxSET{&want})
		}},
		{"Renew/NotHeldIsOmittedAndUntouched", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "other"), outSET("s1", "free"), outSET("s1", "dead"), outSET("s1", "acked"))
			lease(t, st, store.LeaseRequest{Owner: "x", StreamID: "s1", Limit: 1, Duration: time.Minute, Now: at(0)}) // other
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", "dead", "", "bad", at(0)))
			if _, err := st.Ack(t.Context(), "s1", []string{"acked"}); err != nil {
				t.Fatal(err)
			}
			got := renew(t, st, "s1", []string{"other", "free", "dead", "acked"}, "w", at(900))
			wantEqual(t, "Renew of SETs w does not hold", got, []string{})
			wantEqual(t, "CountOutbox at 61s (x's lease not extended)", counts(t, st, "s1", at(61)), store.OutboxCounts{Pending: 2, Dead: 1})
			wantEqual(t, "Renew on an unknown stream", renew(t, st, "nope", []string{"a"}, "w", at(900)), []string{})
			wantEqual(t, "Renew of nothing", renew(t, st, "s1", nil, "w", at(900)), []string{})
		}},
		{"Renew/ExpiredButNotTakenOver", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s1", "b"))
			leaseAll(t, st, "w", at(0))
			// a's lease expired and another worker took it; b's expired and nobody did.
			lease(t, st, store.LeaseRequest{Owner: "x", Limit: 1, Duration: time.Minute, Now: at(100)})
			wantEqual(t, "Renew after expiry", renew(t, st, "s1", []string{"a", "b"}, "w", at(200)), []string{"b"})
			wantErr(t, "Retry by w of the SET x took over", st.Retry(t.Context(), "s1", "a", "w", at(101), "x"), store.ErrLeaseLost)
		}},
		{"Release/GivesBackWithoutAnAttempt", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			a, b, c := outSET("s1", "a"), outSET("s1", "b"), outSET("s1", "c")
			b.NextAttemptAt = at(-5)
			b.Attempts, b.LastError = 2, "timeout"
			mustEnqueue(t, st, a, b, c)
			leased := lease(t, st, store.LeaseRequest{Owner: "w", Limit: 10, Duration: time.Hour, Now: at(0)})
			got := release(t, st, "s1", []string{"c", "b", "c"}, "w")
			wantEqual(t, "Release (released jtis in the order given, once each)", got, []string{"c", "b"})
			wantEqual(t, "CountOutbox", counts(t, st, "s1", at(1)), store.OutboxCounts{Pending: 3, Leased: 1})
			again := lease(t, st, store.LeaseRequest{Owner: "w2", Limit: 10, Duration: time.Minute, Now: at(1)})
			want := []*store.OutboxSET{}
			for _, s := range leased[1:] {
				w := *s
				w.LeaseOwner, w.LeaseUntil = "w2", at(61)
				want = append(want, &w)
			}
			wantEqual(t, "released SETs leased again (Seq order, Attempts, LastError and NextAttemptAt unchanged)", again, want)
		}},
		{"Release/NotHeldIsOmittedAndUntouched", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "other"), outSET("s1", "free"), outSET("s1", "dead"))
			lease(t, st, store.LeaseRequest{Owner: "x", StreamID: "s1", Limit: 1, Duration: time.Hour, Now: at(0)})
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", "dead", "", "bad", at(0)))
			wantEqual(t, "Release of SETs w does not hold", release(t, st, "s1", []string{"other", "free", "dead", "nope"}, "w"), []string{})
			wantEqual(t, "CountOutbox (x still holds its SET)", counts(t, st, "s1", at(1)), store.OutboxCounts{Pending: 2, Leased: 1, Dead: 1})
			wantEqual(t, "Release on an unknown stream", release(t, st, "nope", []string{"a"}, "w"), []string{})
			wantEqual(t, "dead letters", jtisOf(deadLetters(t, st, "s1")), []string{"dead"})
		}},
		{"Release/ThenOwnerOperationsAreErrLeaseLost", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			leaseAll(t, st, "w", at(0))
			wantEqual(t, "Release", release(t, st, "s1", []string{"a"}, "w"), []string{"a"})
			wantErr(t, "Retry after Release", st.Retry(t.Context(), "s1", "a", "w", at(1), "x"), store.ErrLeaseLost)
			wantErr(t, "DeadLetter by the owner after Release", st.DeadLetter(t.Context(), "s1", "a", "w", "x", at(1)), store.ErrLeaseLost)
			wantEqual(t, "Renew after Release", renew(t, st, "s1", []string{"a"}, "w", at(100)), []string{})
		}},
		{"Release/Signals", func(t *testing.T, st store.Store) {
			pollStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			lease(t, st, store.LeaseRequest{Owner: "w", StreamID: "s1", Limit: 1, Duration: time.Hour, Now: at(0)})
			ch, cancel := st.Subscribe("s1")
			defer cancel()
			drain(ch)
			release(t, st, "s1", []string{"nope"}, "w")
			wantNoSignal(t, "after a Release that released nothing", ch)
			release(t, st, "s1", []string{"a"}, "w")
			wantSignal(t, "after Release", ch)
		}},
		{"ReleaseOwner/EveryStreamOfThatOwnerOnly", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pollStream(t, st, "s2")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s2", "b"), outSET("s1", "c"), outSET("s1", "d"), outSET("s1", "e"))
			lease(t, st, store.LeaseRequest{Owner: "w", Limit: 3, Duration: time.Hour, Now: at(0)})                   // a, b, c
			lease(t, st, store.LeaseRequest{Owner: "x", Limit: 1, Duration: time.Hour, Now: at(0)})                   // d
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", "c", "w", "rejected", at(1)))                 // c: dead
			lease(t, st, store.LeaseRequest{Owner: "w", StreamID: "s1", Limit: 1, Duration: time.Minute, Now: at(0)}) // e
			all, cancelAll := st.Subscribe("")
			defer cancelAll()
			s2, cancel2 := st.Subscribe("s2")
			defer cancel2()
			drain(all)
			drain(s2)
			n, err := st.ReleaseOwner(t.Context(), "w")
			wantNoErr(t, "ReleaseOwner", err)
			wantEqual(t, "ReleaseOwner count (a, b, e: live SETs w holds, its expired lease included)", n, 3)
			wantSignal(t, "all-stream subscriber after ReleaseOwner", all)
			wantSignal(t, "s2 subscriber after ReleaseOwner", s2)
			wantKeys(t, "Lease after ReleaseOwner (x's SET still held)", leaseAll(t, st, "y", at(1)), "s1/a", "s2/b", "s1/e")
			n, err = st.ReleaseOwner(t.Context(), "nobody")
			wantNoErr(t, "ReleaseOwner(nobody)", err)
			wantEqual(t, "ReleaseOwner(nobody) count", n, 0)
		}},
		{"OwnerRequired", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "a"))
			_, err := st.Renew(t.Context(), "s1", []string{"a"}, "", at(9))
			wantSomeErr(t, "Renew without owner", err)
			_, err = st.Release(t.Context(), "s1", []string{"a"}, "")
			wantSomeErr(t, "Release without owner", err)
			_, err = st.ReleaseOwner(t.Context(), "")
			wantSomeErr(t, "ReleaseOwner without owner", err)
		}},
		{"DeadLetter/ByOwnerCountsTheFailedAttempt", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			mustEnqueue(t, st, outSET("s1", "first"), outSET("s1", "last"), outSET("s1", "operator"), outSET("s1", "leased"))
			leaseAll(t, st, "w", at(0))
			wantNoErr(t, "DeadLetter(first) by owner", st.DeadLetter(t.Context(), "s1", "first", "w", "rejected", at(1)))
			wantNoErr(t, "Retry(last)", st.Retry(t.Context(), "s1", "last", "w", at(1), "HTTP 500"))
			lease(t, st, store.LeaseRequest{Owner: "w", StreamID: "s1", Limit: 1, Duration: time.Minute, Now: at(1)})
			wantNoErr(t, "DeadLetter(last) by owner", st.DeadLetter(t.Context(), "s1", "last", "w", "gave up", at(2)))
			wantNoErr(t, "DeadLetter(operator) without owner", st.DeadLetter(t.Context(), "s1", "operator", "", "by hand", at(2)))
			wantNoErr(t, "DeadLetter(leased) without owner", st.DeadLetter(t.Context(), "s1", "leased", "", "setErrs", at(2)))
			got := map[string]int{}
			for _, d := range deadLetters(t, st, "s1") {
				got[d.JTI] = d.Attempts
			}
			wantEqual(t, "Attempts of the dead letters", got, map[string]int{"first": 1, "last": 2, "operator": 0, "leased": 0})
		}},
	}
}

// renewReleaseConcurrencyCases race Renew and Release against Lease.
func renewReleaseConcurrencyCases() []testCase {
	return []testCase{
		{"Renew/RacesLeaseAfterExpiry", func(t *testing.T, st store.Store) {
			want := fillOutbox(t, st, 2, 60)
			// Four holders lease 30 SETs each for a minute.
			held := map[string]map[string][]string{} // owner → stream → jtis
			for i := range 4 {
				owner := fmt.Sprintf("holder-%d", i)
				held[owner] = map[string][]string{}
				for _, s := range lease(t, st, store.LeaseRequest{Owner: owner, Limit: 30, Duration: time.Minute, Now: at(0)}) {
					held[owner][s.StreamID] = append(held[owner][s.StreamID], s.JTI)
				}
			}
			// At 120s every lease has expired: the holders renew while other workers
			// lease. A SET renewed (to 3600s) cannot be leased at 120s; a SET leased at
			// 120s has a new owner and cannot be renewed.
			var mu sync.Mutex
			var renewed, leased []string
			parallel(t, 4+workers, func(i int) error {
				if i < 4 {
					owner := fmt.Sprintf("holder-%d", i)
					for stream, jtis := range held[owner] {
						got, err := st.Renew(context.Background(), stream, jtis, owner, at(3600))
						if err != nil {
							return fmt.Errorf("renew by %s: %w", owner, err)
						}
						mu.Lock()
						for _, j := range got {
							renewed = append(renewed, stream+"/"+j)
						}
						mu.Unlock()
					}
					return nil
				}
				owner := fmt.Sprintf("worker-%d", i)
				for {
					got, err := st.Lease(context.Background(), store.LeaseRequest{Owner: owner, Limit: 2, Duration: time.Hour, Now: at(120)})
					if err != nil {
						return fmt.Errorf("lease by %s: %w", owner, err)
					}
					if len(got) == 0 {
						return nil
					}
					mu.Lock()
					leased = append(leased, keys(got)...)
					mu.Unlock()
				}
			})
			wantEachOnce(t, "renewed and leased together", append(slices.Clone(renewed), leased...), want)
			wantEqual(t, "leased after the race (renewed leases hold)", len(leaseAll(t, st, "late", at(121))), 0)
		}},
		{"Release/RacesLease", func(t *testing.T, st store.Store) {
			want := fillOutbox(t, st, 2, 60)
			held := leaseAll(t, st, "holder", at(0))
			byStream := map[string][]string{}
			for _, s := range held {
				byStream[s.StreamID] = append(byStream[s.StreamID], s.JTI)
			}
			var mu sync.Mutex
			var got []string
			var released int
			done := make(chan struct{})
			parallel(t, 1+workers, func(i int) error {
				if i == 0 {
					defer close(done)
					for stream, jtis := range byStream {
						// Release in small pieces while the workers lease.
						for len(jtis) > 0 {
							n := min(7, len(jtis))
							r, err := st.Release(context.Background(), stream, jtis[:n], "holder")
							if err != nil {
								return fmt.Errorf("release: %w", err)
							}
							mu.Lock()
							released += len(r)
							mu.Unlock()
							jtis = jtis[n:]
						}
					}
					return nil
				}
				owner := fmt.Sprintf("worker-%d", i)
				for {
					finished := false
					select {
					case <-done:
						finished = true
					default:
					}
					leased, err := st.Lease(context.Background(), store.LeaseRequest{Owner: owner, Limit: 3, Duration: time.Hour, Now: at(1)})
					if err != nil {
						return fmt.Errorf("lease by %s: %w", owner, err)
					}
					mu.Lock()
					got = append(got, keys(leased)...)
					mu.Unlock()
					if len(leased) == 0 && finished {
						return nil
					}
				}
			})
			wantEqual(t, "released", released, len(want))
			wantEachOnce(t, "Lease while the holder releases", got, want)
		}},
	}
}

// streamsVersionCases are the rules of StreamsVersion and of Stream.Profile.
func streamsVersionCases() []testCase {
	version := func(t *testing.T, st store.Store) int64 {
		t.Helper()
		v, err := st.StreamsVersion(t.Context())
		if err != nil {
			t.Fatalf("StreamsVersion: %v", err)
		}
		return v
	}
	// changes runs write and reports whether StreamsVersion changed (and did not go back).
	changes := func(t *testing.T, st store.Store, what string, write func() error) bool {
		t.Helper()
		before := version(t, st)
		wantNoErr(t, what, write())
		after := version(t, st)
		if after < before {
			t.Fatalf("StreamsVersion went from %d to %d after %s", before, after, what)
		}
		return after != before
	}
	return []testCase{
		{"StreamsVersion/ChangesWithStreamsAndSubjects", func(t *testing.T, st store.Store) {
			ctx := t.Context()
			if !changes(t, st, "CreateStream", func() error { return st.CreateStream(ctx, newStream("s1", "c", ssf.DeliveryPush, ssf.StatusEnabled)) }) {
				t.Error("CreateStream did not change StreamsVersion")
			}
			if !changes(t, st, "UpdateStream", func() error {
				s := mustGet(t, st, "s1")
				s.Status = ssf.StatusPaused
				return st.UpdateStream(ctx, s, store.StreamChange{})
			}) {
				t.Error("UpdateStream did not change StreamsVersion")
			}
			if !changes(t, st, "PutSubject", func() error { return st.PutSubject(ctx, subj("s1", `{"format":"opaque","id":"u"}`, true, 1)) }) {
				t.Error("PutSubject did not change StreamsVersion")
			}
			if !changes(t, st, "PutSubject (replace)", func() error { return st.PutSubject(ctx, subj("s1", `{"format":"opaque","id":"u"}`, false, 2)) }) {
				t.Error("PutSubject replacing a subject did not change StreamsVersion")
			}
			if !changes(t, st, "DeleteStream", func() error { return st.DeleteStream(ctx, "s1") }) {
				t.Error("DeleteStream did not change StreamsVersion")
			}
		}},
		{"StreamsVersion/NotWithActivityOrOutbox", func(t *testing.T, st store.Store) {
			ctx := t.Context()
			pushStream(t, st, "s1")
			for what, write := range map[string]func() error{
				"TouchStream": func() error { return st.TouchStream(ctx, "s1", at(50)) },
				"Enqueue":     func() error { return st.Enqueue(ctx, []*store.OutboxSET{outSET("s1", "a")}) },
				"Lease": func() error {
					_, err := st.Lease(ctx, store.LeaseRequest{Owner: "w", Limit: 1, Duration: time.Minute, Now: at(0)})
					return err
				},
				"Ack": func() error { _, err := st.Ack(ctx, "s1", []string{"nope"}); return err },
			} {
				if changes(t, st, what, write) {
					t.Errorf("%s changed StreamsVersion", what)
				}
			}
		}},
		{"StreamsVersion/IncreasesUnderConcurrentWrites", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			before := version(t, st)
			parallel(t, 8, func(i int) error {
				for j := range 5 {
					if err := st.PutSubject(context.Background(), subj("s1", fmt.Sprintf(`{"format":"opaque","id":"u%d-%d"}`, i, j), true, j)); err != nil {
						return err
					}
				}
				return nil
			})
			if after := version(t, st); after <= before {
				t.Fatalf("StreamsVersion %d after 40 PutSubject calls, was %d", after, before)
			}
		}},
		{"Profile/RoundTrips", func(t *testing.T, st store.Store) {
			s := newStream("s1", "c", ssf.DeliveryPush, ssf.StatusEnabled)
			s.Profile = set.ProfileLegacy
			mustCreate(t, st, s, newStream("s2", "c", ssf.DeliveryPoll, ssf.StatusEnabled))
			wantEqual(t, "Profile of s1", mustGet(t, st, "s1").Profile, set.ProfileLegacy)
			wantEqual(t, "Profile of s2 (zero value)", mustGet(t, st, "s2").Profile, set.ProfileFinal)
			got := mustGet(t, st, "s1")
			got.Profile = set.ProfileHybrid
			wantNoErr(t, "UpdateStream", st.UpdateStream(t.Context(), got, store.StreamChange{}))
			list, err := st.ListStreams(t.Context(), store.StreamFilter{})
			wantNoErr(t, "ListStreams", err)
			wantEqual(t, "Profiles listed", []set.Profile{list[0].Profile, list[1].Profile}, []set.Profile{set.ProfileHybrid, set.ProfileFinal})
		}},
		{"Profile/UnknownRefused", func(t *testing.T, st store.Store) {
			s := newStream("s1", "c", ssf.DeliveryPush, ssf.StatusEnabled)
			s.Profile = set.Profile(42)
			wantSomeErr(t, "CreateStream with an unknown profile", st.CreateStream(t.Context(), s))
		}},
	}
}
