package storetest

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// Run runs the conformance suite against the backend that newStore opens. newStore
// returns a fresh, empty store for each subtest and registers its cleanup (t.Cleanup);
// the cleanup must tolerate a store the subtest closed already (Close then returns
// ErrClosed).
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Streams", streamCases()},
		{"Subjects", subjectCases()},
		{"Outbox", outboxCases()},
		{"Lease", leaseCases()},
		{"Leases", leaseCasesRenewRelease()},
		{"StreamsVersion", streamsVersionCases()},
		{"Inbox", inboxCases()},
		{"PendingAcks", pendingAckCases()},
		{"Subscribe", subscribeCases()},
		{"Concurrency", concurrencyCases()},
		{"ConcurrentLeases", renewReleaseConcurrencyCases()},
		{"Lifecycle", lifecycleCases()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					c.run(t, newStore(t))
				})
			}
		})
	}
}

// testCase is one rule of the contract, run on a fresh store.
type testCase struct {
	name string
	run  func(t *testing.T, st store.Store)
}

// ---------------------------------------------------------------------------------------
// Fixtures. Times are fixed and microsecond-aligned (PostgreSQL keeps microseconds); the
// suite never sleeps to let a lease expire: it passes a later time instead.

// t0 is the suite's reference time.
var t0 = time.Date(2030, 5, 6, 7, 8, 9, 123456000, time.UTC)

// at returns t0 plus sec seconds.
func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// Stream URIs of the fixtures.
const (
	eventSessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	eventCredChange     = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
)

func intp(v int) *int { return &v }

// newStream returns a stream with every field set, using delivery method (ssf.DeliveryPush
// or ssf.DeliveryPoll) and status.
func newStream(id, clientID, method string, status ssf.Status) *store.Stream {
	d := &ssf.Delivery{
		Method:      method,
		EndpointURL: "https://receiver.example.com/ssf/" + id,
		Extra:       map[string]json.RawMessage{"x-vendor": json.RawMessage(`{"a": [1, 2]}`)},
	}
	if method == ssf.DeliveryPush {
		d.AuthorizationHeader = "Bearer secret-" + id
	}
	return &store.Stream{
		ID:       id,
		ClientID: clientID,
		Config: ssf.StreamConfig{
			StreamID:                id,
			Issuer:                  "https://transmitter.example.com",
			Audience:                ssf.Audience{"https://receiver.example.com", "client-" + clientID},
			EventsSupported:         []string{eventSessionRevoked, eventCredChange},
			EventsRequested:         []string{eventSessionRevoked},
			EventsDelivered:         []string{eventSessionRevoked},
			Delivery:                d,
			MinVerificationInterval: intp(60),
			Description:             "stream " + id,
			InactivityTimeout:       intp(86400),
			Extra:                   map[string]json.RawMessage{"format": json.RawMessage(`"iss_sub"`)},
		},
		Status:             status,
		StatusReason:       "reason of " + id,
		CreatedAt:          at(0),
		UpdatedAt:          at(1),
		LastActivityAt:     at(2),
		LastVerificationAt: at(3),
	}
}

func mustCreate(t *testing.T, st store.Store, streams ...*store.Stream) {
	t.Helper()
	for _, s := range streams {
		if err := st.CreateStream(t.Context(), s); err != nil {
			t.Fatalf("CreateStream(%q): %v", s.ID, err)
		}
	}
}

// pushStream creates an enabled push stream and returns it.
func pushStream(t *testing.T, st store.Store, id string) *store.Stream {
	t.Helper()
	s := newStream(id, "client-1", ssf.DeliveryPush, ssf.StatusEnabled)
	mustCreate(t, st, s)
	return s
}

// pollStream creates an enabled poll stream and returns it.
func pollStream(t *testing.T, st store.Store, id string) *store.Stream {
	t.Helper()
	s := newStream(id, "client-1", ssf.DeliveryPoll, ssf.StatusEnabled)
	mustCreate(t, st, s)
	return s
}

func mustGet(t *testing.T, st store.Store, id string) *store.Stream {
	t.Helper()
	s, err := st.GetStream(t.Context(), id)
	if err != nil {
		t.Fatalf("GetStream(%q): %v", id, err)
	}
	return s
}

// setStatus changes a stream's status with UpdateStream.
func setStatus(t *testing.T, st store.Store, id string, status ssf.Status) {
	t.Helper()
	s := mustGet(t, st, id)
	s.Status = status
	if err := st.UpdateStream(t.Context(), s, store.StreamChange{}); err != nil {
		t.Fatalf("UpdateStream(%q, status %s): %v", id, status, err)
	}
}

// outSET returns a SET for the outbox.
func outSET(stream, jti string) *store.OutboxSET {
	return &store.OutboxSET{
		StreamID:  stream,
		JTI:       jti,
		SET:       "eyJhbGciOiJSUzI1NiJ9.payload-" + stream + "-" + jti + ".sig",
		EventType: eventSessionRevoked,
		CreatedAt: at(0),
	}
}

func controlSET(stream, jti string) *store.OutboxSET {
	s := outSET(stream, jti)
	s.EventType = ssf.EventTypeStreamUpdated
	s.Control = true
	return s
}

func mustEnqueue(t *testing.T, st store.Store, sets ...*store.OutboxSET) {
	t.Helper()
	if err := st.Enqueue(t.Context(), sets); err != nil {
		t.Fatalf("Enqueue(%d SETs): %v", len(sets), err)
	}
}

// enqueueN enqueues jtis prefix-1 .. prefix-n on stream and returns their jtis.
func enqueueN(t *testing.T, st store.Store, stream, prefix string, n int) []string {
	t.Helper()
	var sets []*store.OutboxSET
	var jtis []string
	for i := 1; i <= n; i++ {
		j := prefix + "-" + strconv.Itoa(i)
		sets = append(sets, outSET(stream, j))
		jtis = append(jtis, j)
	}
	mustEnqueue(t, st, sets...)
	return jtis
}

func lease(t *testing.T, st store.Store, req store.LeaseRequest) []*store.OutboxSET {
	t.Helper()
	got, err := st.Lease(t.Context(), req)
	if err != nil {
		t.Fatalf("Lease(%+v): %v", req, err)
	}
	return got
}

// leaseAll leases every deliverable SET at now for owner with a one-minute lease.
func leaseAll(t *testing.T, st store.Store, owner string, now time.Time) []*store.OutboxSET {
	t.Helper()
	return lease(t, st, store.LeaseRequest{Owner: owner, Limit: 1000, Duration: time.Minute, Now: now})
}

// key names an outbox SET in assertions.
func key(s *store.OutboxSET) string { return s.StreamID + "/" + s.JTI }

func keys(sets []*store.OutboxSET) []string {
	out := []string{}
	for _, s := range sets {
		out = append(out, key(s))
	}
	return out
}

func jtisOf(sets []*store.OutboxSET) []string {
	out := []string{}
	for _, s := range sets {
		out = append(out, s.JTI)
	}
	return out
}

func counts(t *testing.T, st store.Store, stream string, now time.Time) store.OutboxCounts {
	t.Helper()
	c, err := st.CountOutbox(t.Context(), stream, now)
	if err != nil {
		t.Fatalf("CountOutbox(%q): %v", stream, err)
	}
	return c
}

func deadLetters(t *testing.T, st store.Store, stream string) []*store.OutboxSET {
	t.Helper()
	d, err := st.DeadLetters(t.Context(), stream, 0)
	if err != nil {
		t.Fatalf("DeadLetters(%q): %v", stream, err)
	}
	return d
}

// ---------------------------------------------------------------------------------------
// Assertions

// cmpOpts compares times as instants: backends may return another location.
var cmpOpts = cmp.Options{cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })}

func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		t.Fatalf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v (tested with errors.Is)", what, err, target)
	}
}

// wantSomeErr fails when err is nil (an invalid argument must be rejected).
func wantSomeErr(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want one", what)
	}
}

func wantNoErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantKeys(t *testing.T, what string, got []*store.OutboxSET, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	wantEqual(t, what, keys(got), want)
}
