package storetest

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

func streamCases() []testCase {
	return []testCase{
		{"Create/EveryFieldRoundTrips", func(t *testing.T, st store.Store) {
			s := newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled)
			s.Revision = 42 // ignored: the store sets 1
			want := *s
			want.Config = *s.Config.Clone()
			want.Revision = 1
			mustCreate(t, st, s)
			if s.Revision != 1 {
				t.Fatalf("CreateStream set s.Revision = %d, want 1", s.Revision)
			}
			wantEqual(t, "GetStream after CreateStream", mustGet(t, st, "s1"), &want)
		}},
		{"Create/ConfigPresenceKept", func(t *testing.T, st store.Store) {
			// In a StreamConfig a nil slice is an absent member and an empty one a present
			// []; a nil pointer is absent. The store keeps the difference.
			s := newStream("s1", "c1", ssf.DeliveryPoll, ssf.StatusPaused)
			s.Config.EventsSupported = nil
			s.Config.EventsRequested = []string{}
			s.Config.EventsDelivered = []string{}
			s.Config.Delivery = nil
			s.Config.MinVerificationInterval = nil
			s.Config.InactivityTimeout = intp(0)
			s.Config.Extra = nil
			s.Config.Audience = ssf.Audience{"single"}
			mustCreate(t, st, s)
			wantEqual(t, "GetStream", mustGet(t, st, "s1"), s)
		}},
		{"Create/ZeroTimesStayZero", func(t *testing.T, st store.Store) {
			s := newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusDisabled)
			s.CreatedAt, s.UpdatedAt, s.LastActivityAt, s.LastVerificationAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			mustCreate(t, st, s)
			got := mustGet(t, st, "s1")
			for name, v := range map[string]time.Time{"CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt, "LastActivityAt": got.LastActivityAt, "LastVerificationAt": got.LastVerificationAt} {
				if !v.IsZero() {
					t.Errorf("%s = %v, want the zero time", name, v)
				}
			}
		}},
		{"Create/ExistingIDIsErrExists", func(t *testing.T, st store.Store) {
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			err := st.CreateStream(t.Context(), newStream("s1", "other", ssf.DeliveryPoll, ssf.StatusPaused))
			wantErr(t, "second CreateStream(s1)", err, store.ErrExists)
			if got := mustGet(t, st, "s1"); got.ClientID != "c1" || got.Revision != 1 {
				t.Fatalf("stored stream changed by a failed CreateStream: client %q revision %d", got.ClientID, got.Revision)
			}
		}},
		{"Get/UnknownIsErrNotFound", func(t *testing.T, st store.Store) {
			_, err := st.GetStream(t.Context(), "nope")
			wantErr(t, "GetStream(nope)", err, store.ErrNotFound)
		}},
		{"Create/CopiesOnTheWayIn", func(t *testing.T, st store.Store) {
			s := newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled)
			want := *s
			want.Config = *s.Config.Clone()
			want.Revision = 1
			mustCreate(t, st, s)
			s.ClientID = "mutated"
			s.Config.Audience[0] = "mutated"
			s.Config.EventsRequested[0] = "mutated"
			s.Config.Delivery.AuthorizationHeader = "mutated"
			s.Config.Delivery.Extra["x-vendor"][2] = 'X'
			s.Config.Extra["format"] = json.RawMessage(`"mutated"`)
			*s.Config.MinVerificationInterval = 1
			wantEqual(t, "stored stream after mutating the caller's copy", mustGet(t, st, "s1"), &want)
		}},
		{"Get/CopiesOnTheWayOut", func(t *testing.T, st store.Store) {
			s := newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled)
			mustCreate(t, st, s)
			got := mustGet(t, st, "s1")
			got.Config.Audience[0] = "mutated"
			got.Config.Delivery.Extra["x-vendor"][2] = 'X'
			got.Config.Delivery.EndpointURL = "mutated"
			*got.Config.InactivityTimeout = 1
			got.Status = ssf.StatusDisabled
			wantEqual(t, "stored stream after mutating a returned copy", mustGet(t, st, "s1"), s)
		}},
		{"List/OrderedByCreatedAtThenID", func(t *testing.T, st store.Store) {
			for _, c := range []struct {
				id      string
				created int
			}{{"d", 5}, {"b", 1}, {"c", 1}, {"a", 9}, {"e", -3}} {
				s := newStream(c.id, "c1", ssf.DeliveryPush, ssf.StatusEnabled)
				s.CreatedAt = at(c.created)
				mustCreate(t, st, s)
			}
			got, err := st.ListStreams(t.Context(), store.StreamFilter{})
			wantNoErr(t, "ListStreams", err)
			wantEqual(t, "ListStreams order", streamIDs(got), []string{"e", "b", "c", "d", "a"})
			wantEqual(t, "ListStreams record", got[0], mustGet(t, st, "e"))
		}},
		{"List/ClientIDFilter", func(t *testing.T, st store.Store) {
			mustCreate(t, st,
				newStream("a1", "alice", ssf.DeliveryPush, ssf.StatusEnabled),
				newStream("b1", "bob", ssf.DeliveryPoll, ssf.StatusEnabled),
				newStream("a2", "alice", ssf.DeliveryPoll, ssf.StatusPaused))
			got, err := st.ListStreams(t.Context(), store.StreamFilter{ClientID: "alice"})
			wantNoErr(t, "ListStreams(alice)", err)
			wantEqual(t, "ListStreams(alice)", streamIDs(got), []string{"a1", "a2"})
			got, err = st.ListStreams(t.Context(), store.StreamFilter{ClientID: "carol"})
			wantNoErr(t, "ListStreams(carol)", err)
			wantEqual(t, "ListStreams(carol)", streamIDs(got), []string{})
			got, err = st.ListStreams(t.Context(), store.StreamFilter{})
			wantNoErr(t, "ListStreams(all)", err)
			wantEqual(t, "ListStreams(all)", streamIDs(got), []string{"a1", "a2", "b1"})
		}},
		{"List/EmptyStore", func(t *testing.T, st store.Store) {
			got, err := st.ListStreams(t.Context(), store.StreamFilter{})
			wantNoErr(t, "ListStreams", err)
			if len(got) != 0 {
				t.Fatalf("ListStreams on an empty store returned %d streams", len(got))
			}
		}},
		{"Update/ReplacesAndIncrementsRevision", func(t *testing.T, st store.Store) {
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			s := mustGet(t, st, "s1")
			s.Status, s.StatusReason = ssf.StatusPaused, "operator pause"
			s.Config.Description = "changed"
			s.Config.Delivery = &ssf.Delivery{Method: ssf.DeliveryPoll, EndpointURL: "https://transmitter.example.com/poll/s1"}
			s.UpdatedAt, s.LastVerificationAt = at(100), at(90)
			wantNoErr(t, "UpdateStream", st.UpdateStream(t.Context(), s, store.StreamChange{}))
			if s.Revision != 2 {
				t.Fatalf("UpdateStream set s.Revision = %d, want 2", s.Revision)
			}
			wantEqual(t, "GetStream after UpdateStream", mustGet(t, st, "s1"), s)
			wantNoErr(t, "second UpdateStream", st.UpdateStream(t.Context(), s, store.StreamChange{}))
			if got := mustGet(t, st, "s1").Revision; got != 3 || s.Revision != 3 {
				t.Fatalf("after two updates: stored revision %d, s.Revision %d, want 3", got, s.Revision)
			}
		}},
		{"Update/StaleRevisionIsErrConflict", func(t *testing.T, st store.Store) {
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			mustEnqueue(t, st, outSET("s1", "pending"))
			first, second := mustGet(t, st, "s1"), mustGet(t, st, "s1")
			first.StatusReason = "first"
			wantNoErr(t, "first UpdateStream", st.UpdateStream(t.Context(), first, store.StreamChange{}))
			second.StatusReason = "second"
			second.Status = ssf.StatusDisabled
			err := st.UpdateStream(t.Context(), second, store.StreamChange{
				Enqueue:     []*store.OutboxSET{controlSET("s1", "announce")},
				PurgeOutbox: true,
			})
			wantErr(t, "UpdateStream with a stale revision", err, store.ErrConflict)
			if second.Revision != 1 {
				t.Errorf("failed UpdateStream changed s.Revision to %d, want 1", second.Revision)
			}
			wantEqual(t, "stored stream after a conflict", mustGet(t, st, "s1"), first)
			wantKeys(t, "outbox after a conflict (change not applied)", leaseAll(t, st, "w", at(0)), "s1/pending")
		}},
		{"Update/UnknownIsErrNotFound", func(t *testing.T, st store.Store) {
			s := newStream("nope", "c1", ssf.DeliveryPush, ssf.StatusEnabled)
			s.Revision = 1
			wantErr(t, "UpdateStream(nope)", st.UpdateStream(t.Context(), s, store.StreamChange{}), store.ErrNotFound)
		}},
		{"Update/LastActivityAtNeverMovesBack", func(t *testing.T, st store.Store) {
			// A TouchStream between a caller's read and its UpdateStream does not change the
			// Revision; the update must not undo it (TouchStream only moves forward).
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			s := mustGet(t, st, "s1") // LastActivityAt = at(2)
			wantNoErr(t, "TouchStream", st.TouchStream(t.Context(), "s1", at(100)))
			s.StatusReason = "changed"
			wantNoErr(t, "UpdateStream", st.UpdateStream(t.Context(), s, store.StreamChange{}))
			got := mustGet(t, st, "s1")
			if !got.LastActivityAt.Equal(at(100)) || got.StatusReason != "changed" {
				t.Fatalf("after touch and update: LastActivityAt %v reason %q, want %v and %q", got.LastActivityAt, got.StatusReason, at(100), "changed")
			}
			if !s.LastActivityAt.Equal(at(100)) {
				t.Errorf("UpdateStream left s.LastActivityAt = %v, want the stored %v", s.LastActivityAt, at(100))
			}
			got.LastActivityAt = at(200)
			wantNoErr(t, "UpdateStream forward", st.UpdateStream(t.Context(), got, store.StreamChange{}))
			if la := mustGet(t, st, "s1").LastActivityAt; !la.Equal(at(200)) {
				t.Fatalf("UpdateStream with a later LastActivityAt stored %v, want %v", la, at(200))
			}
		}},
		{"Update/EnqueueInSameTransaction", func(t *testing.T, st store.Store) {
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			pushStream(t, st, "s2")
			s := mustGet(t, st, "s1")
			s.Status = ssf.StatusPaused
			a, b := controlSET("s1", "announce"), outSET("s2", "other-stream")
			wantNoErr(t, "UpdateStream", st.UpdateStream(t.Context(), s, store.StreamChange{Enqueue: []*store.OutboxSET{a, b}}))
			if a.Seq <= 0 || b.Seq <= a.Seq {
				t.Fatalf("UpdateStream assigned Seq %d, %d; want increasing positive", a.Seq, b.Seq)
			}
			wantKeys(t, "Lease after UpdateStream with Enqueue", leaseAll(t, st, "w", at(0)), "s1/announce", "s2/other-stream")
		}},
		{"Update/EnqueueExistingWritesNothing", func(t *testing.T, st store.Store) {
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			mustEnqueue(t, st, outSET("s1", "dup"))
			s := mustGet(t, st, "s1")
			s.StatusReason = "changed"
			err := st.UpdateStream(t.Context(), s, store.StreamChange{Enqueue: []*store.OutboxSET{outSET("s1", "new"), outSET("s1", "dup")}})
			wantErr(t, "UpdateStream enqueuing an existing jti", err, store.ErrExists)
			if got := mustGet(t, st, "s1"); got.Revision != 1 || got.StatusReason != "reason of s1" {
				t.Fatalf("failed UpdateStream changed the stream: revision %d reason %q", got.Revision, got.StatusReason)
			}
			wantKeys(t, "outbox after failed UpdateStream", leaseAll(t, st, "w", at(0)), "s1/dup")
		}},
		{"Update/EnqueueUnknownStreamWritesNothing", func(t *testing.T, st store.Store) {
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			s := mustGet(t, st, "s1")
			s.StatusReason = "changed"
			err := st.UpdateStream(t.Context(), s, store.StreamChange{Enqueue: []*store.OutboxSET{outSET("s1", "a"), outSET("nope", "b")}})
			wantErr(t, "UpdateStream enqueuing to an unknown stream", err, store.ErrNotFound)
			if got := mustGet(t, st, "s1"); got.Revision != 1 {
				t.Fatalf("failed UpdateStream changed the stream: revision %d", got.Revision)
			}
			wantKeys(t, "outbox after failed UpdateStream", leaseAll(t, st, "w", at(0)))
		}},
		{"Update/PurgeOutboxKeepsControlAndDeadLetters", func(t *testing.T, st store.Store) {
			// SSF-STATUS-3: a disabled stream does not hold events for later.
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			pushStream(t, st, "s2")
			mustEnqueue(t, st, outSET("s1", "pending"), outSET("s1", "leased"), controlSET("s1", "control"),
				outSET("s1", "dead"), outSET("s2", "pending"))
			lease(t, st, store.LeaseRequest{Owner: "w", StreamID: "s1", Limit: 2, Duration: time.Hour, Now: at(0)})
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", "dead", "", "gone", at(1)))
			s := mustGet(t, st, "s1")
			s.Status = ssf.StatusDisabled
			wantNoErr(t, "UpdateStream(PurgeOutbox)", st.UpdateStream(t.Context(), s, store.StreamChange{PurgeOutbox: true}))
			wantEqual(t, "CountOutbox(s1) after purge", counts(t, st, "s1", at(2)), store.OutboxCounts{Pending: 1, Dead: 1})
			wantKeys(t, "Lease after purge", leaseAll(t, st, "w2", at(2)), "s1/control", "s2/pending")
			wantEqual(t, "dead letters after purge", jtisOf(deadLetters(t, st, "s1")), []string{"dead"})
		}},
		{"Update/PurgeOutboxBeforeEnqueue", func(t *testing.T, st store.Store) {
			// The SETs a change enqueues are not purged by the same change, and a purged jti
			// may be enqueued again in it.
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			mustEnqueue(t, st, outSET("s1", "old"), outSET("s1", "again"))
			s := mustGet(t, st, "s1")
			err := st.UpdateStream(t.Context(), s, store.StreamChange{
				PurgeOutbox: true,
				Enqueue:     []*store.OutboxSET{outSET("s1", "new"), outSET("s1", "again")},
			})
			wantNoErr(t, "UpdateStream(PurgeOutbox, Enqueue)", err)
			wantKeys(t, "Lease", leaseAll(t, st, "w", at(0)), "s1/new", "s1/again")
		}},
		{"Delete/CascadesSubjectsAndOutbox", func(t *testing.T, st store.Store) {
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			pushStream(t, st, "s2")
			for _, id := range []string{"s1", "s2"} {
				wantNoErr(t, "PutSubject", st.PutSubject(t.Context(), subj(id, `{"format":"opaque","id":"u1"}`, true, 0)))
			}
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s1", "b"), controlSET("s1", "c"), outSET("s2", "a"))
			lease(t, st, store.LeaseRequest{Owner: "w", StreamID: "s1", Limit: 1, Duration: time.Hour, Now: at(0)})
			wantNoErr(t, "DeadLetter", st.DeadLetter(t.Context(), "s1", "b", "", "x", at(1)))

			wantNoErr(t, "DeleteStream", st.DeleteStream(t.Context(), "s1"))
			_, err := st.GetStream(t.Context(), "s1")
			wantErr(t, "GetStream after DeleteStream", err, store.ErrNotFound)
			_, err = st.GetSubject(t.Context(), "s1", []byte(`{"format":"opaque","id":"u1"}`))
			wantErr(t, "GetSubject after DeleteStream", err, store.ErrNotFound)
			wantEqual(t, "CountOutbox after DeleteStream", counts(t, st, "s1", at(2)), store.OutboxCounts{})
			wantEqual(t, "DeadLetters after DeleteStream", len(deadLetters(t, st, "s1")), 0)

			// The other stream is untouched, and the ID starts afresh.
			if _, err := st.GetSubject(t.Context(), "s2", []byte(`{"format":"opaque","id":"u1"}`)); err != nil {
				t.Fatalf("GetSubject(s2) after deleting s1: %v", err)
			}
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPush, ssf.StatusEnabled))
			subs, err := st.ListSubjects(t.Context(), "s1")
			wantNoErr(t, "ListSubjects", err)
			wantEqual(t, "subjects of the re-created stream", len(subs), 0)
			wantKeys(t, "Lease after re-creating s1", leaseAll(t, st, "w2", at(3)), "s2/a")
			mustEnqueue(t, st, outSET("s1", "a"), outSET("s1", "b"))
		}},
		{"Delete/CascadesLargeInterleavedOutbox", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pushStream(t, st, "s2")
			var batch []*store.OutboxSET
			for i := range 300 {
				batch = append(batch, outSET("s1", itoa(i)), outSET("s2", itoa(i)))
			}
			mustEnqueue(t, st, batch...)
			var acked []string
			for i := range 100 {
				acked = append(acked, itoa(i))
			}
			if found, err := st.Ack(t.Context(), "s2", acked); err != nil || len(found) != 100 {
				t.Fatalf("Ack(s2) = %d found, %v", len(found), err)
			}
			wantNoErr(t, "DeleteStream(s1)", st.DeleteStream(t.Context(), "s1"))
			wantEqual(t, "CountOutbox(s1)", counts(t, st, "s1", at(0)), store.OutboxCounts{})
			wantEqual(t, "CountOutbox(s2)", counts(t, st, "s2", at(0)), store.OutboxCounts{Pending: 200})
			wantEqual(t, "leased after DeleteStream", len(leaseAll(t, st, "w", at(0))), 200)
		}},
		{"Delete/UnknownIsErrNotFound", func(t *testing.T, st store.Store) {
			wantErr(t, "DeleteStream(nope)", st.DeleteStream(t.Context(), "nope"), store.ErrNotFound)
		}},
		{"Touch/OnlyMovesForward", func(t *testing.T, st store.Store) {
			// SSF-STREAM-13: the inactivity counter restarts at each eligible activity.
			mustCreate(t, st, newStream("s1", "c1", ssf.DeliveryPoll, ssf.StatusEnabled))
			want := mustGet(t, st, "s1")
			for _, c := range []struct{ touch, want int }{{10, 10}, {5, 10}, {10, 10}, {20, 20}} {
				wantNoErr(t, "TouchStream", st.TouchStream(t.Context(), "s1", at(c.touch)))
				want.LastActivityAt = at(c.want)
				wantEqual(t, "stream after TouchStream(at("+itoa(c.touch)+"))", mustGet(t, st, "s1"), want)
			}
		}},
		{"Touch/FromZero", func(t *testing.T, st store.Store) {
			s := newStream("s1", "c1", ssf.DeliveryPoll, ssf.StatusEnabled)
			s.LastActivityAt = time.Time{}
			mustCreate(t, st, s)
			wantNoErr(t, "TouchStream", st.TouchStream(t.Context(), "s1", at(-5)))
			if got := mustGet(t, st, "s1").LastActivityAt; !got.Equal(at(-5)) {
				t.Fatalf("LastActivityAt = %v, want %v", got, at(-5))
			}
		}},
		{"Touch/UnknownIsErrNotFound", func(t *testing.T, st store.Store) {
			wantErr(t, "TouchStream(nope)", st.TouchStream(t.Context(), "nope", at(0)), store.ErrNotFound)
		}},
	}
}

func streamIDs(ss []*store.Stream) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// subj returns a subject record of stream with the canonical JSON c, updated at(sec).
func subj(stream, c string, included bool, sec int) *store.Subject {
	return &store.Subject{StreamID: stream, Subject: json.RawMessage(c), Included: included, Verified: true, UpdatedAt: at(sec)}
}

func subjectCases() []testCase {
	const alice = `{"format":"email","email":"alice@example.com"}`
	const bob = `{"format":"email","email":"bob@example.com"}`
	const carol = `{"format":"opaque","id":"carol"}`
	return []testCase{
		{"PutThenGet", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			s := subj("s1", alice, true, 5)
			s.Verified = false
			wantNoErr(t, "PutSubject", st.PutSubject(t.Context(), s))
			got, err := st.GetSubject(t.Context(), "s1", []byte(alice))
			wantNoErr(t, "GetSubject", err)
			wantEqual(t, "GetSubject", got, s)
		}},
		{"PutReplacesSameKey", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			wantNoErr(t, "PutSubject(add)", st.PutSubject(t.Context(), subj("s1", alice, true, 5)))
			removed := subj("s1", alice, false, 9)
			removed.Verified = false
			wantNoErr(t, "PutSubject(remove)", st.PutSubject(t.Context(), removed))
			got, err := st.GetSubject(t.Context(), "s1", []byte(alice))
			wantNoErr(t, "GetSubject", err)
			wantEqual(t, "GetSubject after replace", got, removed)
			list, err := st.ListSubjects(t.Context(), "s1")
			wantNoErr(t, "ListSubjects", err)
			wantEqual(t, "ListSubjects after replace", list, []*store.Subject{removed})
		}},
		{"PutUnknownStreamIsErrNotFound", func(t *testing.T, st store.Store) {
			wantErr(t, "PutSubject(nope)", st.PutSubject(t.Context(), subj("nope", alice, true, 0)), store.ErrNotFound)
		}},
		{"GetMatchesExactBytes", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			wantNoErr(t, "PutSubject", st.PutSubject(t.Context(), subj("s1", alice, true, 0)))
			for _, other := range []string{
				`{"email":"alice@example.com","format":"email"}`,
				`{"format": "email", "email": "alice@example.com"}`,
				`{"format":"email","email":"ALICE@example.com"}`,
			} {
				_, err := st.GetSubject(t.Context(), "s1", []byte(other))
				wantErr(t, "GetSubject("+other+")", err, store.ErrNotFound)
			}
		}},
		{"GetUnknownIsErrNotFound", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pushStream(t, st, "s2")
			wantNoErr(t, "PutSubject", st.PutSubject(t.Context(), subj("s2", alice, true, 0)))
			_, err := st.GetSubject(t.Context(), "s1", []byte(alice))
			wantErr(t, "GetSubject of another stream's subject", err, store.ErrNotFound)
			_, err = st.GetSubject(t.Context(), "nope", []byte(alice))
			wantErr(t, "GetSubject on an unknown stream", err, store.ErrNotFound)
		}},
		{"ListOrderedByUpdatedAtThenSubject", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			pushStream(t, st, "s2")
			in := []*store.Subject{subj("s1", carol, true, 3), subj("s1", bob, false, 1), subj("s1", alice, true, 1), subj("s2", alice, true, 0)}
			for _, s := range in {
				wantNoErr(t, "PutSubject", st.PutSubject(t.Context(), s))
			}
			got, err := st.ListSubjects(t.Context(), "s1")
			wantNoErr(t, "ListSubjects", err)
			wantEqual(t, "ListSubjects(s1)", got, []*store.Subject{in[2], in[1], in[0]})
		}},
		{"ListUnknownStreamIsEmpty", func(t *testing.T, st store.Store) {
			got, err := st.ListSubjects(t.Context(), "nope")
			wantNoErr(t, "ListSubjects(nope)", err)
			if len(got) != 0 {
				t.Fatalf("ListSubjects(nope) returned %d subjects", len(got))
			}
		}},
		{"CopiesOnTheWayInAndOut", func(t *testing.T, st store.Store) {
			pushStream(t, st, "s1")
			s := subj("s1", alice, true, 0)
			want := subj("s1", alice, true, 0)
			wantNoErr(t, "PutSubject", st.PutSubject(t.Context(), s))
			s.Subject[2] = 'X'
			s.Included = false
			got, err := st.GetSubject(t.Context(), "s1", []byte(alice))
			wantNoErr(t, "GetSubject", err)
			wantEqual(t, "stored subject after mutating the caller's copy", got, want)
			got.Subject[2] = 'X'
			list, err := st.ListSubjects(t.Context(), "s1")
			wantNoErr(t, "ListSubjects", err)
			list[0].Subject[3] = 'Y'
			got, err = st.GetSubject(t.Context(), "s1", []byte(alice))
			wantNoErr(t, "GetSubject", err)
			wantEqual(t, "stored subject after mutating returned copies", got, want)
		}},
	}
}
