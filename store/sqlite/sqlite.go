package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/internal/notify"
)

// Synchronous is the SQLite synchronous level of the database connection that commits
// (https://www.sqlite.org/pragma.html#pragma_synchronous), in WAL mode.
type Synchronous int

const (
	// SynchronousFull (the default) syncs the write-ahead log to stable storage at every
	// commit: a write that returned survives a process crash and a power loss or
	// operating-system crash. This is what the store.Store durability promise needs.
	SynchronousFull Synchronous = iota
	// SynchronousNormal syncs only at checkpoints. A write that returned survives a crash
	// of the process (the log is in the operating system's cache), but a power loss or
	// operating-system crash may roll back the last transactions committed before it
	// (the database stays consistent). Commits are cheaper. It weakens the store.Store
	// durability promise and is for deployments that accept that.
	SynchronousNormal
)

func (s Synchronous) pragma() (string, error) {
	switch s {
	case SynchronousFull:
		return "FULL", nil
	case SynchronousNormal:
		return "NORMAL", nil
	}
	return "", fmt.Errorf("sqlite: unknown Synchronous level %d", int(s))
}

// Options configures Open. The zero value is the recommended configuration.
type Options struct {
	// Logger receives migrations (Info) and failed batch commits (Error). Nil: nothing is
	// logged. Nothing secret is logged.
	Logger *slog.Logger
	// Synchronous is the durability level of commits. Zero: SynchronousFull.
	Synchronous Synchronous
	// MaxBatch is the most write operations the writer commits in one transaction (group
	// commit). Zero: 256. 1 disables batching (one fsync per write).
	MaxBatch int
	// BusyTimeout is how long a connection waits for a lock another process holds (the
	// store itself never contends with itself). Zero: 5s.
	BusyTimeout time.Duration
	// MaxReaders is the size of the read-only connection pool. Zero: 4.
	MaxReaders int
}

// Store is the SQLite store.Store. Open it with Open; it is safe for concurrent use.
type Store struct {
	log     *slog.Logger
	path    string
	maxBat  int
	wdb     *sql.DB   // the writer's database handle: exactly one connection
	conn    *sql.Conn // the writer's connection, used only by the writer goroutine
	stmts   map[string]*sql.Stmt
	rdb     *sql.DB  // read-only pool
	rstmts  sync.Map // query → *sql.Stmt prepared on rdb (see readStmt)
	notify  notify.Notifier
	writerQ chan struct{} // wakes the writer (buffered, one)
	done    chan struct{} // closed when the writer exited

	mu     sync.Mutex // guards queue and closed
	queue  []*op
	closed atomic.Bool
	// version is StreamsVersion: incremented by the writer after a commit that changed
	// streams or subjects.
	version atomic.Int64
	// rmu is held (shared) by reads while they use rdb and (exclusive) by Close while it
	// closes rdb.
	rmu sync.RWMutex

	// batchHook, when set (tests only, before the first write), is called by the writer
	// with the size of each batch it took, once it has taken the operations (a caller
	// giving up afterwards is told its write may still commit) and before running them.
	batchHook func(n int)
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed, with permission 0600: the file holds stream
// configurations with their push authorization headers) the SQLite database at path,
// applies the schema migrations it lacks, and starts the writer. The database is put in
// WAL mode. A database written by a newer sigshare (a schema version this one does not
// know) is refused with ErrSchemaTooNew.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open %q: want a plain file path (no URI, no query; use store/memory for an in-memory store)", path)
	}
	syncLevel, err := opts.Synchronous.pragma()
	if err != nil {
		return nil, err
	}
	if opts.MaxBatch < 0 || opts.MaxReaders < 0 || opts.BusyTimeout < 0 {
		return nil, errors.New("sqlite: open: MaxBatch, MaxReaders and BusyTimeout must not be negative")
	}
	s := &Store{
		log:     opts.Logger,
		path:    path,
		maxBat:  opts.MaxBatch,
		stmts:   make(map[string]*sql.Stmt),
		writerQ: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.maxBat == 0 {
		s.maxBat = 256
	}
	s.version.Store(time.Now().UnixNano())
	busy := opts.BusyTimeout
	if busy == 0 {
		busy = 5 * time.Second
	}
	readers := opts.MaxReaders
	if readers == 0 {
		readers = 4
	}
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}

	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+syncLevel+")")
	q.Add("_pragma", "foreign_keys(1)")
	s.wdb, err = sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	fail := func(err error) (*Store, error) {
		if s.conn != nil {
			s.conn.Close()
		}
		s.wdb.Close()
		if s.rdb != nil {
			s.rdb.Close()
		}
		return nil, err
	}
	s.conn, err = s.wdb.Conn(ctx)
	if err != nil {
		return fail(fmt.Errorf("sqlite: open %s: %w", path, err))
	}
	var mode string
	if err := s.conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail(fmt.Errorf("sqlite: open %s: read journal_mode: %w", path, err))
	}
	if !strings.EqualFold(mode, "wal") {
		return fail(fmt.Errorf("sqlite: open %s: the database is in journal mode %q and cannot be switched to WAL", path, mode))
	}
	if err := migrate(ctx, s.conn, migrations, s.log); err != nil {
		return fail(fmt.Errorf("sqlite: open %s: %w", path, err))
	}

	rq := url.Values{}
	rq.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	rq.Add("_pragma", "query_only(1)")
	s.rdb, err = sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		return fail(fmt.Errorf("sqlite: open %s for reading: %w", path, err))
	}
	s.rdb.SetMaxOpenConns(readers)
	s.rdb.SetMaxIdleConns(readers)
	if err := s.rdb.PingContext(ctx); err != nil {
		return fail(fmt.Errorf("sqlite: open %s for reading: %w", path, err))
	}
	go s.writer()
	return s, nil
}

// ---------------------------------------------------------------------------------------
// The writer: one goroutine, group commit.

// op is one write operation. fn runs in the writer goroutine inside a SAVEPOINT of the
// batch transaction; it must not touch caller memory (the caller may have stopped
// waiting): inputs are copied before the op is queued, results are written to variables
// the caller reads only after done is closed.
type op struct {
	name  string
	fn    func(x *execer) error
	state atomic.Int32 // opQueued, opTaken, opAbandoned
	err   error
	done  chan struct{}
	// streams to signal after the commit, collected by fn
	signals map[string]struct{}
	// changed: fn changed streams or subjects (StreamsVersion)
	changed bool
}

const (
	opQueued int32 = iota
	opTaken
	opAbandoned
)

// write queues fn and waits for the commit of its batch.
//
// When ctx ends first, write returns ctx.Err() at once. If the writer had not taken the
// operation yet it never runs; if it had, it may still commit. The caller cannot tell
// which: after a context error a write is in an unknown state (see the package
// documentation).
func (s *Store) write(ctx context.Context, name string, fn func(x *execer) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", name, err)
	}
	o := &op{name: name, fn: fn, done: make(chan struct{})}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return fmt.Errorf("sqlite: %s: %w", name, store.ErrClosed)
	}
	s.queue = append(s.queue, o)
	s.mu.Unlock()
	select {
	case s.writerQ <- struct{}{}:
	default:
	}
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		select {
		case <-o.done: // finished as the context ended: the outcome is known
			return o.err
		default:
		}
		if o.state.CompareAndSwap(opQueued, opAbandoned) {
			return fmt.Errorf("sqlite: %s: %w (not written)", name, ctx.Err())
		}
		return fmt.Errorf("sqlite: %s: %w (the write may still commit)", name, ctx.Err())
	}
}

func (s *Store) writer() {
	defer close(s.done)
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			closed := s.closed.Load()
			s.mu.Unlock()
			if closed {
				return
			}
			<-s.writerQ
			continue
		}
		n := min(len(s.queue), s.maxBat)
		batch := make([]*op, n)
		copy(batch, s.queue)
		clear(s.queue[:n])
		s.queue = s.queue[n:]
		s.mu.Unlock()
		s.runBatch(batch)
	}
}

// runBatch runs the operations in one transaction, each in its own savepoint, commits
// once, signals subscribers of the committed operations and answers every caller.
func (s *Store) runBatch(batch []*op) {
	n := len(batch)
	ops := batch[:0]
	for _, o := range batch {
		if o.state.CompareAndSwap(opQueued, opTaken) {
			ops = append(ops, o)
		}
	}
	if s.batchHook != nil {
		// After the operations are taken: a caller giving up from now on is told its
		// write may still commit.
		s.batchHook(n)
	}
	if len(ops) == 0 {
		return
	}
	defer func() {
		for _, o := range ops {
			close(o.done)
		}
	}()
	ctx := context.Background()
	// failAll answers every operation of the batch with err: nothing of the batch was
	// committed (an operation's own error is replaced too: it may have been decided on
	// writes of earlier operations that are now rolled back).
	failAll := func(what string, err error) {
		s.conn.ExecContext(ctx, "ROLLBACK")
		s.log.Error("sqlite: batch not committed", "step", what, "err", err, "ops", len(ops))
		for _, o := range ops {
			o.err = fmt.Errorf("sqlite: %s: %s: %w", o.name, what, err)
		}
	}
	if err := s.execW(ctx, "BEGIN IMMEDIATE"); err != nil {
		failAll("begin transaction", err)
		return
	}
	for _, o := range ops {
		if err := s.execW(ctx, "SAVEPOINT op"); err != nil {
			failAll("savepoint", err)
			return
		}
		x := &execer{s: s, ctx: ctx}
		if err := x.run(o); err != nil {
			o.err = err
			if rerr := s.execW(ctx, "ROLLBACK TO op"); rerr != nil {
				// SQLite rolled the whole transaction back (I/O error, disk full).
				failAll("roll back to savepoint after "+err.Error(), rerr)
				return
			}
		} else {
			o.signals, o.changed = x.signals, x.changed
		}
		if err := s.execW(ctx, "RELEASE op"); err != nil {
			failAll("release savepoint", err)
			return
		}
	}
	if err := s.execW(ctx, "COMMIT"); err != nil {
		failAll("commit", err)
		return
	}
	// Durable now: count the version, wake the subscribers, then (deferred) the callers.
	signals := map[string]struct{}{}
	changed := false
	for _, o := range ops {
		if o.err == nil {
			for k := range o.signals {
				signals[k] = struct{}{}
			}
			changed = changed || o.changed
		}
	}
	if changed {
		s.version.Add(1)
	}
	s.notify.SignalSet(signals)
}

// prepare returns the writer's prepared statement for query (writer goroutine only).
func (s *Store) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	st, err := s.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	s.stmts[query] = st
	return st, nil
}

// execW runs a statement on the writer's connection.
func (s *Store) execW(ctx context.Context, query string) error {
	st, err := s.prepare(ctx, query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx)
	return err
}

// execer runs statements for one operation in the writer.
type execer struct {
	s       *Store
	ctx     context.Context
	signals map[string]struct{}
	changed bool
}

func (x *execer) exec(query string, args ...any) (sql.Result, error) {
	st, err := x.s.prepare(x.ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(x.ctx, args...)
}

// affected runs query and returns the number of rows it changed.
func (x *execer) affected(query string, args ...any) (int64, error) {
	r, err := x.exec(query, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func (x *execer) query(query string, args ...any) (*sql.Rows, error) {
	st, err := x.s.prepare(x.ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(x.ctx, args...)
}

// scanner is a *sql.Row or a row that failed before it was queried.
type scanner interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (x *execer) queryRow(query string, args ...any) scanner {
	st, err := x.s.prepare(x.ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(x.ctx, args...)
}

// run runs o.fn; a panic becomes the operation's error (the writer must survive it).
func (x *execer) run(o *op) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlite: %s: panic: %v", o.name, r)
		}
	}()
	return o.fn(x)
}

// streamsChanged marks the operation as a change of streams or subjects: StreamsVersion
// is incremented after the commit.
func (x *execer) streamsChanged() { x.changed = true }

// signal marks stream for a Subscribe signal after the commit.
func (x *execer) signal(stream string) {
	if x.signals == nil {
		x.signals = map[string]struct{}{}
	}
	x.signals[stream] = struct{}{}
}

// ---------------------------------------------------------------------------------------
// Reads

// read runs fn with the read-only pool unless the store is closed.
func (s *Store) read(ctx context.Context, name string, fn func(db readDB) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", name, err)
	}
	s.rmu.RLock()
	defer s.rmu.RUnlock()
	if s.closed.Load() {
		return fmt.Errorf("sqlite: %s: %w", name, store.ErrClosed)
	}
	return fn(readDB{s})
}

// readDB runs queries on the read-only pool with prepared statements: each query text is
// prepared once (database/sql then prepares it once per pooled connection and reuses it),
// which saves SQLite's parsing and planning on every read.
type readDB struct{ s *Store }

// readStmt returns the prepared statement of query on the read pool. Callers hold rmu
// (shared).
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.rstmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.rdb.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	if prev, loaded := s.rstmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// QueryContext runs a query that returns rows.
func (d readDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := d.s.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a query that returns at most one row.
func (d readDB) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	st, err := d.s.readStmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// ---------------------------------------------------------------------------------------

// Ping implements store.Store: it runs a query on the read pool.
func (s *Store) Ping(ctx context.Context) error {
	return s.read(ctx, "ping", func(db readDB) error {
		var one int
		if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			return fmt.Errorf("sqlite: ping: %w", err)
		}
		return nil
	})
}

// Close implements store.Store. It refuses new calls (ErrClosed), lets the writer commit
// every operation already queued, stops it, closes the connections and signals every
// Subscribe channel once. A second Close returns ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return fmt.Errorf("sqlite: close: %w", store.ErrClosed)
	}
	s.closed.Store(true)
	s.mu.Unlock()
	select {
	case s.writerQ <- struct{}{}:
	default:
	}
	<-s.done
	var errs []error
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	errs = append(errs, s.conn.Close(), s.wdb.Close())
	s.rmu.Lock()
	s.rstmts.Range(func(_, st any) bool {
		errs = append(errs, st.(*sql.Stmt).Close())
		return true
	})
	errs = append(errs, s.rdb.Close())
	s.rmu.Unlock()
	s.notify.Close()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}
