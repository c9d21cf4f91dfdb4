package storetest

import (
	"testing"
	"time"

	"github.com/sigshare/sigshare/store"
)

const issuer = "https://transmitter.example.com"

// inSET returns an inbox record received at(sec).
func inSET(iss, jti string, sec int) *store.InboxSET {
	return &store.InboxSET{
		Issuer:     iss,
		JTI:        jti,
		StreamID:   "rs1",
		SET:        "eyJhbGciOiJSUzI1NiJ9.in-" + jti + ".sig",
		ReceivedAt: at(sec),
	}
}

func mustAdd(t *testing.T, st store.Store, sets ...*store.InboxSET) {
	t.Helper()
	for _, s := range sets {
		existing, err := st.InboxAdd(t.Context(), s)
		if err != nil || existing != nil {
			t.Fatalf("InboxAdd(%q, %q) = %v, %v; want nil, nil", s.Issuer, s.JTI, existing, err)
		}
	}
}

func inboxLease(t *testing.T, st store.Store, owner string, limit int, d time.Duration, now time.Time) []*store.InboxSET {
	t.Helper()
	got, err := st.InboxLease(t.Context(), owner, limit, d, now)
	if err != nil {
		t.Fatalf("InboxLease(%q): %v", owner, err)
	}
	return got
}

func inJTIs(sets []*store.InboxSET) []string {
	out := []string{}
	for _, s := range sets {
		out = append(out, s.JTI)
	}
	return out
}

func inboxDead(t *testing.T, st store.Store) []*store.InboxSET {
	t.Helper()
	d, err := st.InboxDeadLetters(t.Context(), 0)
	if err != nil {
		t.Fatalf("InboxDeadLetters: %v", err)
	}
	return d
}

func pendingAcks(t *testing.T, st store.Store, stream string) []string {
	t.Helper()
	got, err := st.PendingAcks(t.Context(), stream, 0)
	if err != nil {
		t.Fatalf("PendingAcks(%q): %v", stream, err)
	}
	if got == nil {
		got = []string{}
	}
	return got
}

func inboxCases() []testCase {
	return []testCase{
		{"Add/NewIsPendingAndRoundTrips", func(t *testing.T, st store.Store) {
			s := inSET(issuer, "j1", 0)
			s.AckStream = "poll-1"
			s.Attempts, s.LastError = 0, ""
			s.State = store.InboxProcessed // ignored: a new SET is pending
			mustAdd(t, st, s)
			got := inboxLease(t, st, "w", 10, time.Minute, at(0))
			want := *s
			want.State = store.InboxPending
			want.LeaseOwner, want.LeaseUntil = "w", at(60)
			wantEqual(t, "leased inbox SET", got, []*store.InboxSET{&want})
		}},
		{"Add/DuplicateReturnsExisting", func(t *testing.T, st store.Store) {
			// SEC-7, PUSH-8: a SET seen twice is a duplicate; the first record stays.
			first := inSET(issuer, "j1", 0)
			mustAdd(t, st, first)
			second := inSET(issuer, "j1", 50)
			second.SET = "different"
			existing, err := st.InboxAdd(t.Context(), second)
			wantNoErr(t, "InboxAdd(duplicate)", err)
			want := *first
			want.State = store.InboxPending
			wantEqual(t, "existing record", existing, &want)
			wantEqual(t, "leased after duplicate", inboxLease(t, st, "w", 10, time.Minute, at(60)),
				[]*store.InboxSET{{Issuer: issuer, JTI: "j1", StreamID: "rs1", SET: first.SET, ReceivedAt: at(0), State: store.InboxPending, LeaseOwner: "w", LeaseUntil: at(120)}})
		}},
		{"Add/DuplicateOfProcessedAndDead", func(t *testing.T, st store.Store) {
			mustAdd(t, st, inSET(issuer, "p", 0), inSET(issuer, "d", 1))
			wantNoErr(t, "InboxDone", st.InboxDone(t.Context(), issuer, "p", "", at(5)))
			wantNoErr(t, "InboxDead", st.InboxDead(t.Context(), issuer, "d", "", "handler panic", at(6)))
			existing, err := st.InboxAdd(t.Context(), inSET(issuer, "p", 10))
			wantNoErr(t, "InboxAdd(duplicate of processed)", err)
			if existing == nil || existing.State != store.InboxProcessed || !existing.DoneAt.Equal(at(5)) {
				t.Fatalf("duplicate of a processed SET: existing = %+v, want the processed record", existing)
			}
			existing, err = st.InboxAdd(t.Context(), inSET(issuer, "d", 10))
			wantNoErr(t, "InboxAdd(duplicate of dead)", err)
			if existing == nil || existing.State != store.InboxDead {
				t.Fatalf("duplicate of a dead SET: existing = %+v, want the dead record", existing)
			}
		}},
		{"Add/KeyIsIssuerAndJTI", func(t *testing.T, st store.Store) {
			mustAdd(t, st, inSET(issuer, "j1", 0), inSET("https://other.example.com", "j1", 1))
			wantEqual(t, "leased", inJTIs(inboxLease(t, st, "w", 10, time.Minute, at(2))), []string{"j1", "j1"})
		}},
		{"Add/CopiesOnTheWayInAndOut", func(t *testing.T, st store.Store) {
			s := inSET(issuer, "j1", 0)
			mustAdd(t, st, s)
			s.SET, s.StreamID = "mutated", "mutated"
			existing, err := st.InboxAdd(t.Context(), inSET(issuer, "j1", 0))
			wantNoErr(t, "InboxAdd", err)
			if existing.SET != inSET(issuer, "j1", 0).SET || existing.StreamID != "rs1" {
				t.Fatalf("stored record changed through the caller's pointer: %+v", existing)
			}
			existing.State = store.InboxDead
			wantEqual(t, "leasable after mutating a returned copy", len(inboxLease(t, st, "w", 1, time.Minute, at(0))), 1)
		}},
		{"Add/WithLeaseAddsAndLeasesAtOnce", func(t *testing.T, st store.Store) {
			// The record is stored as given (State aside): a receiver that handles the SET
			// inline may add it already leased.
			s := inSET(issuer, "j1", 0)
			s.LeaseOwner, s.LeaseUntil = "inline", at(30)
			mustAdd(t, st, s)
			wantEqual(t, "InboxLease while the inline lease holds", len(inboxLease(t, st, "w", 10, time.Minute, at(29))), 0)
			wantNoErr(t, "InboxDone by the inline owner", st.InboxDone(t.Context(), issuer, "j1", "inline", at(1)))
		}},
		{"Lease/OldestReceivedFirstAndLimit", func(t *testing.T, st store.Store) {
			mustAdd(t, st, inSET(issuer, "c", 30), inSET(issuer, "a", 10), inSET(issuer, "b", 20), inSET(issuer, "d", 40))
			got := inboxLease(t, st, "w1", 2, 15*time.Second, at(100))
			wantEqual(t, "first InboxLease(2)", inJTIs(got), []string{"a", "b"})
			for _, s := range got {
				if s.LeaseOwner != "w1" || !s.LeaseUntil.Equal(at(115)) || s.State != store.InboxPending {
					t.Fatalf("leased %q: owner %q until %v state %q", s.JTI, s.LeaseOwner, s.LeaseUntil, s.State)
				}
			}
			wantEqual(t, "second InboxLease(10)", inJTIs(inboxLease(t, st, "w2", 10, time.Minute, at(100))), []string{"c", "d"})
			wantEqual(t, "InboxLease while leases hold", len(inboxLease(t, st, "w3", 10, time.Minute, at(114))), 0)
			wantEqual(t, "InboxLease after the first leases expired", inJTIs(inboxLease(t, st, "w3", 10, time.Minute, at(115))), []string{"a", "b"})
			wantErr(t, "InboxDone by the first owner after takeover", st.InboxDone(t.Context(), issuer, "a", "w1", at(116)), store.ErrLeaseLost)
		}},
		{"Lease/NextAttemptAt", func(t *testing.T, st store.Store) {
			s := inSET(issuer, "later", 0)
			s.NextAttemptAt = at(50)
			mustAdd(t, st, s, inSET(issuer, "now", 1))
			wantEqual(t, "InboxLease before NextAttemptAt", inJTIs(inboxLease(t, st, "w", 10, time.Minute, at(49))), []string{"now"})
			wantEqual(t, "InboxLease at NextAttemptAt", inJTIs(inboxLease(t, st, "w", 10, time.Minute, at(50))), []string{"later"})
		}},
		{"Lease/SkipsProcessedAndDead", func(t *testing.T, st store.Store) {
			mustAdd(t, st, inSET(issuer, "p", 0), inSET(issuer, "d", 1), inSET(issuer, "x", 2))
			wantNoErr(t, "InboxDone", st.InboxDone(t.Context(), issuer, "p", "", at(3)))
			wantNoErr(t, "InboxDead", st.InboxDead(t.Context(), issuer, "d", "", "bad", at(3)))
			wantEqual(t, "InboxLease", inJTIs(inboxLease(t, st, "w", 10, time.Minute, at(4))), []string{"x"})
		}},
		{"Lease/InvalidArgumentsRejected", func(t *testing.T, st store.Store) {
			mustAdd(t, st, inSET(issuer, "a", 0))
			for name, c := range map[string]struct {
				owner string
				limit int
				d     time.Duration
			}{"no owner": {"", 1, time.Minute}, "limit 0": {"w", 0, time.Minute}, "zero duration": {"w", 1, 0}} {
				got, err := st.InboxLease(t.Context(), c.owner, c.limit, c.d, at(0))
				wantSomeErr(t, "InboxLease with "+name, err)
				if len(got) != 0 {
					t.Fatalf("InboxLease with %s leased %v", name, inJTIs(got))
				}
			}
			wantEqual(t, "valid InboxLease", len(inboxLease(t, st, "w", 1, time.Minute, at(0))), 1)
		}},
		{"Done/ProcessedAndAcknowledged", func(t *testing.T, st store.Store) {
			// POLL-7: the jti of a polled SET is acknowledged once processed; the pending
			// acknowledgement is written in the same transaction.
			s := inSET(issuer, "j1", 0)
			s.AckStream = "poll-1"
			mustAdd(t, st, s, inSET(issuer, "push", 0))
			inboxLease(t, st, "w", 10, time.Minute, at(1))
			wantNoErr(t, "InboxDone", st.InboxDone(t.Context(), issuer, "j1", "w", at(2)))
			wantNoErr(t, "InboxDone(no AckStream)", st.InboxDone(t.Context(), issuer, "push", "w", at(2)))
			wantEqual(t, "PendingAcks(poll-1)", pendingAcks(t, st, "poll-1"), []string{"j1"})
			wantEqual(t, "PendingAcks(\"\")", pendingAcks(t, st, ""), []string{})
			existing, err := st.InboxAdd(t.Context(), inSET(issuer, "j1", 5))
			wantNoErr(t, "InboxAdd", err)
			if existing == nil || existing.State != store.InboxProcessed || !existing.DoneAt.Equal(at(2)) || existing.LeaseOwner != "" || !existing.LeaseUntil.IsZero() {
				t.Fatalf("processed record = %+v", existing)
			}
			wantEqual(t, "InboxLease after done", len(inboxLease(t, st, "w", 10, time.Minute, at(1000))), 0)
		}},
		{"Done/OwnerChecks", func(t *testing.T, st store.Store) {
			mustAdd(t, st, inSET(issuer, "a", 0), inSET(issuer, "b", 1))
			inboxLease(t, st, "w", 10, time.Minute, at(1))
			wantErr(t, "InboxDone by another owner", st.InboxDone(t.Context(), issuer, "a", "other", at(2)), store.ErrLeaseLost)
			wantNoErr(t, "InboxDone with no owner (whoever holds it)", st.InboxDone(t.Context(), issuer, "a", "", at(2)))
			wantErr(t, "InboxDone of a processed SET", st.InboxDone(t.Context(), issuer, "a", "w", at(3)), store.ErrLeaseLost)
			wantErr(t, "InboxDone of a processed SET, no owner", st.InboxDone(t.Context(), issuer, "a", "", at(3)), store.ErrLeaseLost)
			wantErr(t, "InboxDone of an unknown SET", st.InboxDone(t.Context(), issuer, "nope", "w", at(3)), store.ErrNotFound)
			mustAdd(t, st, inSET(issuer, "free", 2))
			wantErr(t, "InboxDone of an unleased SET by an owner", st.InboxDone(t.Context(), issuer, "free", "w", at(3)), store.ErrLeaseLost)
		}},
		{"Retry/RecordsAttemptAndReleasesLease", func(t *testing.T, st store.Store) {
			mustAdd(t, st, inSET(issuer, "a", 0))
			inboxLease(t, st, "w", 10, time.Minute, at(1))
			wantNoErr(t, "InboxRetry", st.InboxRetry(t.Context(), issuer, "a", "w", at(30), "db down"))
			wantEqual(t, "InboxLease before NextAttemptAt", len(inboxLease(t, st, "w2", 10, time.Minute, at(29))), 0)
			got := inboxLease(t, st, "w2", 10, time.Minute, at(30))
			want := inSET(issuer, "a", 0)
			want.State, want.Attempts, want.LastError, want.NextAttemptAt = store.InboxPending, 1, "db down", at(30)
			want.LeaseOwner, want.LeaseUntil = "w2", at(90)
			wantEqual(t, "after InboxRetry", got, []*store.InboxSET{want})
			wantErr(t, "InboxRetry by the former owner", st.InboxRetry(t.Context(), issuer, "a", "w", at(40), "x"), store.ErrLeaseLost)
			wantErr(t, "InboxRetry of an unknown SET", st.InboxRetry(t.Context(), issuer, "nope", "w", at(40), "x"), store.ErrNotFound)
			wantNoErr(t, "InboxRetry, no owner", st.InboxRetry(t.Context(), issuer, "a", "", at(40), "again"))
		}},
		{"Dead/KeptWithTextAndAcknowledged", func(t *testing.T, st store.Store) {
			s := inSET(issuer, "a", 0)
			s.AckStream = "poll-1"
			mustAdd(t, st, s)
			inboxLease(t, st, "w", 10, time.Minute, at(1))
			wantErr(t, "InboxDead by another owner", st.InboxDead(t.Context(), issuer, "a", "other", "x", at(2)), store.ErrLeaseLost)
			wantNoErr(t, "InboxDead", st.InboxDead(t.Context(), issuer, "a", "w", "unknown event type", at(2)))
			want := *s
			want.State, want.DoneAt, want.LastError = store.InboxDead, at(2), "unknown event type"
			wantEqual(t, "InboxDeadLetters", inboxDead(t, st), []*store.InboxSET{&want})
			wantEqual(t, "PendingAcks(poll-1)", pendingAcks(t, st, "poll-1"), []string{"a"})
			wantErr(t, "InboxDead of a dead SET", st.InboxDead(t.Context(), issuer, "a", "", "x", at(3)), store.ErrLeaseLost)
			wantErr(t, "InboxDead of an unknown SET", st.InboxDead(t.Context(), issuer, "nope", "", "x", at(3)), store.ErrNotFound)
		}},
		{"DeadLetters/OldestReceivedFirstAndLimit", func(t *testing.T, st store.Store) {
			mustAdd(t, st, inSET(issuer, "c", 30), inSET(issuer, "a", 10), inSET(issuer, "b", 20), inSET(issuer, "live", 5))
			for _, j := range []string{"b", "c", "a"} {
				wantNoErr(t, "InboxDead", st.InboxDead(t.Context(), issuer, j, "", "x", at(40)))
			}
			wantEqual(t, "InboxDeadLetters", inJTIs(inboxDead(t, st)), []string{"a", "b", "c"})
			got, err := st.InboxDeadLetters(t.Context(), 2)
			wantNoErr(t, "InboxDeadLetters(2)", err)
			wantEqual(t, "InboxDeadLetters(2)", inJTIs(got), []string{"a", "b"})
		}},
		{"Replay/SelectedAndAll", func(t *testing.T, st store.Store) {
			mustAdd(t, st, inSET(issuer, "a", 1), inSET(issuer, "b", 2), inSET(issuer, "c", 3), inSET(issuer, "live", 4))
			inboxLease(t, st, "w", 10, time.Minute, at(5))
			wantNoErr(t, "InboxRetry", st.InboxRetry(t.Context(), issuer, "a", "w", at(6), "x"))
			inboxLease(t, st, "w", 1, time.Minute, at(6))
			for _, j := range []string{"a", "b", "c"} {
				wantNoErr(t, "InboxDead", st.InboxDead(t.Context(), issuer, j, "", "x", at(7)))
			}
			n, err := st.InboxReplay(t.Context(), []store.InboxKey{{Issuer: issuer, JTI: "a"}, {Issuer: issuer, JTI: "live"}, {Issuer: issuer, JTI: "nope"}})
			wantNoErr(t, "InboxReplay(a)", err)
			wantEqual(t, "InboxReplay(a) count", n, 1)
			wantEqual(t, "dead after InboxReplay(a)", inJTIs(inboxDead(t, st)), []string{"b", "c"})
			got := inboxLease(t, st, "w2", 10, time.Minute, at(8))
			wantEqual(t, "InboxLease after replay", inJTIs(got), []string{"a"})
			if got[0].Attempts != 0 || got[0].State != store.InboxPending || !got[0].NextAttemptAt.IsZero() || got[0].SET == "" {
				t.Fatalf("replayed record = %+v", got[0])
			}
			n, err = st.InboxReplay(t.Context(), nil)
			wantNoErr(t, "InboxReplay(all)", err)
			wantEqual(t, "InboxReplay(all) count", n, 2)
			wantEqual(t, "dead after InboxReplay(all)", len(inboxDead(t, st)), 0)
			wantEqual(t, "InboxLease after replay all", inJTIs(inboxLease(t, st, "w3", 10, time.Minute, at(8))), []string{"b", "c"})
		}},
		{"Purge/OnlyProcessedBeforeTime", func(t *testing.T, st store.Store) {
			mustAdd(t, st, inSET(issuer, "old", 0), inSET(issuer, "edge", 0), inSET(issuer, "new", 0), inSET(issuer, "dead", 0), inSET(issuer, "pending", 0))
			wantNoErr(t, "InboxDone(old)", st.InboxDone(t.Context(), issuer, "old", "", at(10)))
			wantNoErr(t, "InboxDone(edge)", st.InboxDone(t.Context(), issuer, "edge", "", at(20)))
			wantNoErr(t, "InboxDone(new)", st.InboxDone(t.Context(), issuer, "new", "", at(30)))
			wantNoErr(t, "InboxDead(dead)", st.InboxDead(t.Context(), issuer, "dead", "", "x", at(5)))
			n, err := st.PurgeInbox(t.Context(), at(20))
			wantNoErr(t, "PurgeInbox", err)
			wantEqual(t, "PurgeInbox count", n, 1)
			for _, c := range []struct {
				jti     string
				present bool
			}{{"old", false}, {"edge", true}, {"new", true}, {"dead", true}, {"pending", true}} {
				existing, err := st.InboxAdd(t.Context(), inSET(issuer, c.jti, 100))
				wantNoErr(t, "InboxAdd("+c.jti+")", err)
				if (existing != nil) != c.present {
					t.Errorf("after PurgeInbox: %q present = %v, want %v", c.jti, existing != nil, c.present)
				}
			}
		}},
	}
}

func pendingAckCases() []testCase {
	return []testCase{
		{"AddIsIdempotentAndOrdered", func(t *testing.T, st store.Store) {
			wantNoErr(t, "AddPendingAcks", st.AddPendingAcks(t.Context(), "p1", []string{"c", "a"}))
			wantNoErr(t, "AddPendingAcks again", st.AddPendingAcks(t.Context(), "p1", []string{"a", "b", "c", "b"}))
			wantEqual(t, "PendingAcks(p1)", pendingAcks(t, st, "p1"), []string{"c", "a", "b"})
			got, err := st.PendingAcks(t.Context(), "p1", 2)
			wantNoErr(t, "PendingAcks(p1, 2)", err)
			wantEqual(t, "PendingAcks(p1, 2)", got, []string{"c", "a"})
		}},
		{"PerStream", func(t *testing.T, st store.Store) {
			wantNoErr(t, "AddPendingAcks(p1)", st.AddPendingAcks(t.Context(), "p1", []string{"a"}))
			wantNoErr(t, "AddPendingAcks(p2)", st.AddPendingAcks(t.Context(), "p2", []string{"a", "b"}))
			wantEqual(t, "PendingAcks(p1)", pendingAcks(t, st, "p1"), []string{"a"})
			wantEqual(t, "PendingAcks(p2)", pendingAcks(t, st, "p2"), []string{"a", "b"})
			wantEqual(t, "PendingAcks(p3)", pendingAcks(t, st, "p3"), []string{})
		}},
		{"Remove", func(t *testing.T, st store.Store) {
			wantNoErr(t, "AddPendingAcks(p1)", st.AddPendingAcks(t.Context(), "p1", []string{"a", "b", "c"}))
			wantNoErr(t, "AddPendingAcks(p2)", st.AddPendingAcks(t.Context(), "p2", []string{"a"}))
			wantNoErr(t, "RemovePendingAcks", st.RemovePendingAcks(t.Context(), "p1", []string{"a", "c", "unknown"}))
			wantEqual(t, "PendingAcks(p1)", pendingAcks(t, st, "p1"), []string{"b"})
			wantEqual(t, "PendingAcks(p2)", pendingAcks(t, st, "p2"), []string{"a"})
			wantNoErr(t, "RemovePendingAcks(unknown stream)", st.RemovePendingAcks(t.Context(), "p9", []string{"a"}))
			wantNoErr(t, "AddPendingAcks(a again)", st.AddPendingAcks(t.Context(), "p1", []string{"a"}))
			wantEqual(t, "PendingAcks(p1) after re-adding a", pendingAcks(t, st, "p1"), []string{"b", "a"})
		}},
		{"InboxDoneAndExplicitAddMerge", func(t *testing.T, st store.Store) {
			// POLL-8: a redelivered SET is acknowledged again; adding its jti is idempotent.
			s := inSET(issuer, "j1", 0)
			s.AckStream = "p1"
			mustAdd(t, st, s)
			wantNoErr(t, "AddPendingAcks", st.AddPendingAcks(t.Context(), "p1", []string{"j1"}))
			wantNoErr(t, "InboxDone", st.InboxDone(t.Context(), issuer, "j1", "", at(1)))
			wantEqual(t, "PendingAcks(p1)", pendingAcks(t, st, "p1"), []string{"j1"})
		}},
	}
}
