package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

var t0 = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

func testStream(id string) *store.Stream {
	return &store.Stream{
		ID: id, ClientID: "c1", Status: ssf.StatusEnabled, CreatedAt: t0, UpdatedAt: t0,
		Config: ssf.StreamConfig{StreamID: id, Issuer: "https://tx.example.com",
			Delivery: &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: "https://rx.example.com/" + id}},
	}
}

// openHooked opens a store in a temporary directory with batchHook reporting batch sizes
// on the returned channel.
func openHooked(t *testing.T, opts Options) (*Store, string, chan int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	st, err := Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	batches := make(chan int, 1000)
	st.batchHook = func(n int) { batches <- n }
	t.Cleanup(func() { st.Close() })
	return st, path, batches
}

// lockDB takes the database write lock from another connection (as another process
// would) and returns the function that releases it. While it is held, the writer blocks
// in BEGIN IMMEDIATE and operations queue up.
func lockDB(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("BEGIN IMMEDIATE on the blocking connection: %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// queued reports the number of operations waiting for the writer.
func (s *Store) queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// waitQueued waits until n operations are queued (the writer is blocked meanwhile).
func waitQueued(t *testing.T, st *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for st.queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d operations queued, want %d", st.queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestGroupCommitOneBatchSavepointPerOperation(t *testing.T) {
	st, path, batches := openHooked(t, Options{BusyTimeout: 10 * time.Second})
	ctx := t.Context()
	if err := st.CreateStream(ctx, testStream("s1")); err != nil {
		t.Fatal(err)
	}
	<-batches
	release := lockDB(t, path)

	// The first write is taken alone and blocks in BEGIN IMMEDIATE...
	first := make(chan error, 1)
	go func() {
		first <- st.Enqueue(context.Background(), []*store.OutboxSET{{StreamID: "s1", JTI: "first"}})
	}()
	if n := <-batches; n != 1 {
		t.Fatalf("first batch has %d operations, want 1", n)
	}
	// ...while these queue up behind it, one of them bound to fail.
	jtis := []string{"a", "b", "first", "c", "a"}
	errs := make([]error, len(jtis))
	var wg sync.WaitGroup
	for i, j := range jtis {
		wg.Go(func() {
			errs[i] = st.Enqueue(context.Background(), []*store.OutboxSET{{StreamID: "s1", JTI: j}})
		})
		waitQueued(t, st, i+1)
	}
	release()
	if err := <-first; err != nil {
		t.Fatalf("first Enqueue: %v", err)
	}
	wg.Wait()
	if n := <-batches; n != len(jtis) {
		t.Fatalf("second batch has %d operations, want %d (group commit)", n, len(jtis))
	}
	for i, want := range []error{nil, nil, store.ErrExists, nil, store.ErrExists} {
		if (want == nil && errs[i] != nil) || (want != nil && !errors.Is(errs[i], want)) {
			t.Errorf("Enqueue(%q) in the batch = %v, want %v", jtis[i], errs[i], want)
		}
	}
	c, err := st.CountOutbox(ctx, "s1", t0)
	if err != nil || c.Pending != 4 {
		t.Fatalf("CountOutbox = %+v, %v; want 4 pending (first, a, b, c)", c, err)
	}
}

func TestMaxBatchBoundsTheBatch(t *testing.T) {
	st, path, batches := openHooked(t, Options{MaxBatch: 3, BusyTimeout: 10 * time.Second})
	if err := st.CreateStream(t.Context(), testStream("s1")); err != nil {
		t.Fatal(err)
	}
	<-batches
	release := lockDB(t, path)
	var wg sync.WaitGroup
	wg.Go(func() { st.TouchStream(context.Background(), "s1", t0) })
	<-batches
	for i := range 7 {
		wg.Go(func() { st.TouchStream(context.Background(), "s1", t0.Add(time.Duration(i)*time.Second)) })
	}
	waitQueued(t, st, 7)
	release()
	wg.Wait()
	var sizes []int
	for len(sizes) < 3 {
		sizes = append(sizes, <-batches)
	}
	if fmt.Sprint(sizes) != "[3 3 1]" {
		t.Fatalf("batch sizes %v, want [3 3 1] (MaxBatch 3)", sizes)
	}
}

func TestContextEndsWhileQueuedIsNotWritten(t *testing.T) {
	st, path, batches := openHooked(t, Options{BusyTimeout: 10 * time.Second})
	ctx := t.Context()
	if err := st.CreateStream(ctx, testStream("s1")); err != nil {
		t.Fatal(err)
	}
	<-batches
	release := lockDB(t, path)

	// A is taken by the writer (blocked in BEGIN); its caller gives up: it may commit.
	ctxA, cancelA := context.WithCancel(ctx)
	resA := make(chan error, 1)
	go func() { resA <- st.Enqueue(ctxA, []*store.OutboxSET{{StreamID: "s1", JTI: "A"}}) }()
	<-batches
	cancelA()
	if err := <-resA; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "may still commit") {
		t.Fatalf("Enqueue(A) after its context ended = %v, want context.Canceled, may still commit", err)
	}

	// B is still queued when its caller gives up: it is withdrawn.
	ctxB, cancelB := context.WithCancel(ctx)
	resB := make(chan error, 1)
	go func() { resB <- st.Enqueue(ctxB, []*store.OutboxSET{{StreamID: "s1", JTI: "B"}}) }()
	waitQueued(t, st, 1)
	cancelB()
	if err := <-resB; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "not written") {
		t.Fatalf("Enqueue(B) after its context ended = %v, want context.Canceled, not written", err)
	}

	release()
	// A later write returns after everything queued before it.
	if err := st.Enqueue(ctx, []*store.OutboxSET{{StreamID: "s1", JTI: "C"}}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Lease(ctx, store.LeaseRequest{Owner: "w", Limit: 10, Duration: time.Minute, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range got {
		keys = append(keys, s.JTI)
	}
	if fmt.Sprint(keys) != "[A C]" {
		t.Fatalf("outbox holds %v, want [A C] (A committed after its caller left, B withdrawn)", keys)
	}
}

func TestCloseDrainsQueuedWrites(t *testing.T) {
	st, path, batches := openHooked(t, Options{BusyTimeout: 10 * time.Second})
	ctx := t.Context()
	if err := st.CreateStream(ctx, testStream("s1")); err != nil {
		t.Fatal(err)
	}
	<-batches
	release := lockDB(t, path)
	errs := make([]error, 5)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			errs[i] = st.Enqueue(context.Background(), []*store.OutboxSET{{StreamID: "s1", JTI: fmt.Sprint(i)}})
		})
		if i == 0 {
			<-batches // the first is taken alone and blocks; the others queue
		}
	}
	waitQueued(t, st, 4)
	closed := make(chan error, 1)
	go func() { closed <- st.Close() }()
	for !st.closed.Load() {
		time.Sleep(time.Millisecond)
	}
	if err := st.Enqueue(ctx, []*store.OutboxSET{{StreamID: "s1", JTI: "late"}}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Enqueue while closing = %v, want ErrClosed", err)
	}
	release()
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("queued Enqueue %d: %v", i, err)
		}
	}
	re, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	c, err := re.CountOutbox(ctx, "s1", t0)
	if err != nil || c.Pending != 5 {
		t.Fatalf("after reopening: CountOutbox = %+v, %v; want 5 pending", c, err)
	}
}

func TestPanicInOperationFailsOnlyIt(t *testing.T) {
	st, _, _ := openHooked(t, Options{})
	ctx := t.Context()
	err := st.write(ctx, "boom", func(x *execer) error {
		if _, err := x.exec(`INSERT INTO pending_acks (stream, jti) VALUES ('p', 'x')`); err != nil {
			return err
		}
		panic("bug")
	})
	if err == nil || !strings.Contains(err.Error(), "panic: bug") {
		t.Fatalf("write that panics = %v", err)
	}
	if acks, err := st.PendingAcks(ctx, "p", 0); err != nil || len(acks) != 0 {
		t.Fatalf("PendingAcks after a panicking write = %v, %v; want none (rolled back)", acks, err)
	}
	if err := st.AddPendingAcks(ctx, "p", []string{"y"}); err != nil {
		t.Fatalf("the writer did not survive: %v", err)
	}
}

func TestSynchronousLevels(t *testing.T) {
	for _, c := range []struct {
		opt  Synchronous
		want int
	}{{SynchronousFull, 2}, {SynchronousNormal, 1}} {
		st, _, _ := openHooked(t, Options{Synchronous: c.opt})
		var got int
		err := st.write(t.Context(), "pragma", func(x *execer) error {
			return x.queryRow("PRAGMA synchronous").Scan(&got)
		})
		if err != nil || got != c.want {
			t.Errorf("Synchronous %d: PRAGMA synchronous = %d, %v; want %d", c.opt, got, err, c.want)
		}
		var mode string
		if err := st.rdb.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v; want wal", mode, err)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		path string
		opts Options
	}{
		"empty path":       {"", Options{}},
		"memory":           {":memory:", Options{}},
		"URI":              {"file:" + filepath.Join(dir, "x"), Options{}},
		"query":            {filepath.Join(dir, "x?mode=ro"), Options{}},
		"negative batch":   {filepath.Join(dir, "x"), Options{MaxBatch: -1}},
		"unknown sync":     {filepath.Join(dir, "x"), Options{Synchronous: 7}},
		"missing dir":      {filepath.Join(dir, "no", "such", "dir", "x"), Options{}},
		"negative readers": {filepath.Join(dir, "x"), Options{MaxReaders: -2}},
	} {
		if st, err := Open(t.Context(), c.path, c.opts); err == nil {
			st.Close()
			t.Errorf("Open with %s succeeded", name)
		}
	}
}

func TestNewFileIsPrivate(t *testing.T) {
	_, path, _ := openHooked(t, Options{})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("database file mode %v, want 0600 (it holds push authorization headers)", perm)
	}
}

func TestTimesOutOfRangeRejected(t *testing.T) {
	st, _, _ := openHooked(t, Options{})
	s := testStream("s1")
	s.CreatedAt = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.CreateStream(t.Context(), s); err == nil || !strings.Contains(err.Error(), "outside the range") {
		t.Fatalf("CreateStream with a year-1500 time = %v, want an out-of-range error", err)
	}
	// A lease that would end after 2262 is clamped, not rejected.
	if err := st.CreateStream(t.Context(), testStream("s2")); err != nil {
		t.Fatal(err)
	}
	if err := st.Enqueue(t.Context(), []*store.OutboxSET{{StreamID: "s2", JTI: "a"}}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Lease(t.Context(), store.LeaseRequest{Owner: "w", Limit: 1, Duration: 1<<63 - 1, Now: t0})
	if err != nil || len(got) != 1 || got[0].LeaseUntil.Year() != 2262 {
		t.Fatalf("Lease with the longest duration = %v, %v", got, err)
	}
}
