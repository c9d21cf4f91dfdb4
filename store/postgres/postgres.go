package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/internal/notify"
)

// Options configures Open. The zero value is a working configuration.
type Options struct {
	// Logger receives migrations (Info) and the notification listener's connection losses
	// and reconnections (Warn, Info). Nil: nothing is logged. Nothing secret is logged
	// (the DSN's password never is).
	Logger *slog.Logger
	// Schema is the PostgreSQL schema that holds sigshare's tables. Open creates it if it
	// does not exist and makes it the search_path of every connection, so several
	// independent deployments (or tests) can share one database. Empty: the first existing
	// schema of the connection's search_path (current_schema(), usually "public"), which
	// is not created.
	Schema string
	// MaxConns is the most connections the pool opens (the notification listener uses one
	// more). Zero: 10.
	MaxConns int32
	// NotifyChannel is the LISTEN/NOTIFY channel on which the nodes sharing the schema
	// announce that SETs became deliverable. Every node of one deployment must use the
	// same channel. Empty: "sigshare." followed by the schema name (or, when that is
	// longer than PostgreSQL's 63-byte limit, by a hash of it). At most 63 bytes.
	NotifyChannel string
	// ListenerKeepalive is how long the listener waits for a notification before it pings
	// the server to detect a silently dead connection. Zero: 30s.
	ListenerKeepalive time.Duration
}

// Store is the PostgreSQL store.Store. Open it with Open; it is safe for concurrent use,
// and any number of Store values (nodes), in one process or many, may share one schema.
type Store struct {
	log     *slog.Logger
	pool    *pgxpool.Pool
	schema  string // resolved
	channel string
	notify  notify.Notifier
	own     ownBackends

	// mu is held (shared) by every call while it uses the pool and (exclusive) by Close.
	mu     sync.RWMutex
	closed bool

	listener   *listener
	stopListen context.CancelFunc
	listenDone chan struct{}
}

var _ store.Store = (*Store)(nil)

// Open connects to the PostgreSQL database named by dsn (a URL or key=value string as
// understood by pgx; see pgxpool.ParseConfig), applies the schema migrations the schema
// lacks (under an advisory lock: nodes starting together migrate once), and starts the
// notification listener. A schema written by a newer sigshare is refused with
// ErrSchemaTooNew. Close releases everything.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.MaxConns < 0 || opts.ListenerKeepalive < 0 {
		return nil, errors.New("postgres: open: MaxConns and ListenerKeepalive must not be negative")
	}
	if strings.IndexByte(opts.Schema, 0) >= 0 || len(opts.Schema) > 63 {
		return nil, fmt.Errorf("postgres: open: schema name %q: at most 63 bytes, no NUL", opts.Schema)
	}
	if strings.IndexByte(opts.NotifyChannel, 0) >= 0 || len(opts.NotifyChannel) > 63 {
		return nil, fmt.Errorf("postgres: open: notify channel %q: at most 63 bytes, no NUL", opts.NotifyChannel)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("postgres: open: parse the DSN: %w", err)
	}
	s := &Store{log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg.MaxConns = opts.MaxConns
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 10
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "sigshare"
	}
	listenCfg := cfg.ConnConfig.Copy()
	listenCfg.RuntimeParams["application_name"] = cfg.ConnConfig.RuntimeParams["application_name"] + " listener"
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		s.own.add(c.PgConn().PID())
		return nil
	}
	cfg.BeforeClose = func(c *pgx.Conn) { s.own.remove(c.PgConn().PID()) }

	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	fail := func(err error) (*Store, error) {
		s.pool.Close()
		return nil, err
	}
	s.schema = opts.Schema
	if s.schema == "" {
		var cur *string
		if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&cur); err != nil {
			return fail(fmt.Errorf("postgres: open: %w", err))
		}
		if cur == nil {
			return fail(errors.New("postgres: open: no schema of the connection's search_path exists; set Options.Schema or the DSN's search_path"))
		}
		s.schema = *cur
	}
	if _, err := migrate(ctx, s.pool, s.schema, opts.Schema != "", migrations, s.log); err != nil {
		return fail(fmt.Errorf("postgres: open: %w", err))
	}

	s.channel = opts.NotifyChannel
	if s.channel == "" {
		s.channel = defaultChannel(s.schema)
	}
	keepalive := opts.ListenerKeepalive
	if keepalive == 0 {
		keepalive = 30 * time.Second
	}
	s.listener = &listener{s: s, cfg: listenCfg, keepalive: keepalive, connected: make(chan struct{}, 1)}
	conn, err := s.listener.connect(ctx)
	if err != nil {
		return fail(fmt.Errorf("postgres: open: listen on channel %q: %w", s.channel, err))
	}
	lctx, stop := context.WithCancel(context.Background())
	s.stopListen = stop
	s.listenDone = make(chan struct{})
	go s.listener.run(lctx, conn, s.listenDone)
	return s, nil
}

// defaultChannel is the notification channel of a schema: "sigshare.<schema>", or a
// hash of the schema name when that would exceed 63 bytes.
func defaultChannel(schema string) string {
	ch := "sigshare." + schema
	if len(ch) <= 63 {
		return ch
	}
	sum := sha256.Sum256([]byte(schema))
	return "sigshare." + hex.EncodeToString(sum[:16])
}

// Schema returns the PostgreSQL schema that holds the store's tables.
func (s *Store) Schema() string { return s.schema }

// NotifyChannel returns the LISTEN/NOTIFY channel the store uses.
func (s *Store) NotifyChannel() string { return s.channel }

// ---------------------------------------------------------------------------------------
// Calls

// do runs fn unless ctx ended or the store is closed. An error of fn that happened
// because ctx ended wraps ctx.Err().
func (s *Store) do(ctx context.Context, name string, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %s: %w", name, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("postgres: %s: %w", name, store.ErrClosed)
	}
	err := fn()
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%w)", err, cerr)
		}
	}
	return err
}

// batch sends b as one pipeline: PostgreSQL runs it as one implicit transaction that
// commits when the last statement succeeded and rolls back entirely when one fails. The
// queued callbacks receive the results. After the commit it signals streams to the local
// subscribers (the batch carries the pg_notify for the other nodes: see notifyQuery).
func (s *Store) batch(ctx context.Context, name string, b *pgx.Batch, streams func() []string) error {
	err := s.do(ctx, name, func() error {
		return s.pool.SendBatch(ctx, b).Close()
	})
	if err == nil && streams != nil {
		s.notify.Signal(streams()...)
	}
	return err
}

// notifyQuery announces to every node that SETs of the streams $2 (a text[]) became
// deliverable, on channel $1. Sent inside the writing transaction, the notifications are
// delivered when (and only if) it commits; PostgreSQL folds duplicates.
const notifyQuery = `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`

// payloads returns the notification payloads for streams.
func payloads(streams []string) []string {
	out := make([]string, 0, len(streams))
	for _, st := range streams {
		out = append(out, payload(st))
	}
	return out
}

// txState collects, during a transaction, the streams to announce.
type txState struct {
	streams []string
}

func (t *txState) announce(streams ...string) {
	for _, st := range streams {
		if !contains(t.streams, st) {
			t.streams = append(t.streams, st)
		}
	}
}

// tx runs fn in a transaction. Before the commit it sends the notifications for the
// streams fn announced; after the commit it signals the local subscribers.
func (s *Store) tx(ctx context.Context, name string, fn func(tx pgx.Tx, st *txState) error) error {
	var st txState
	err := s.do(ctx, name, func() error {
		st = txState{}
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if err := fn(tx, &st); err != nil {
				return err
			}
			if len(st.streams) > 0 {
				if _, err := tx.Exec(ctx, notifyQuery, s.channel, payloads(st.streams)); err != nil {
					return fmt.Errorf("postgres: %s: notify: %w", name, err)
				}
			}
			return nil
		})
	})
	if err == nil {
		s.notify.Signal(st.streams...)
	}
	return err
}

// pgCode returns the SQLSTATE of a PostgreSQL error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// SQLSTATE codes the store maps to store errors.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// noop is the result of a write with nothing to write: the context's error, ErrClosed
// after Close, or nil.
func (s *Store) noop(ctx context.Context, name string) error {
	return s.do(ctx, name, func() error { return nil })
}

// ---------------------------------------------------------------------------------------

// Ping implements store.Store: it runs a query on a pooled connection.
func (s *Store) Ping(ctx context.Context) error {
	return s.do(ctx, "ping", func() error {
		if err := s.pool.Ping(ctx); err != nil {
			return fmt.Errorf("postgres: ping: %w", err)
		}
		return nil
	})
}

// Close implements store.Store. It refuses new calls (ErrClosed), waits for the calls in
// progress, stops the notification listener, closes the pool and signals every Subscribe
// channel once. A second Close returns ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("postgres: close: %w", store.ErrClosed)
	}
	s.closed = true
	s.mu.Unlock()
	s.stopListen()
	<-s.listenDone
	s.pool.Close()
	s.notify.Close()
	return nil
}

// Subscribe implements store.OutboxStore. Local writes signal their subscribers after
// the commit and before the write call returns; writes by other nodes (other Store
// values, in this process or another, on the same schema and channel) signal them when
// their notification arrives. After the listener lost its connection and reconnected,
// every subscription is signalled once (notifications may have been missed). Close
// signals every subscription once; a subscription taken after Close starts signalled.
func (s *Store) Subscribe(streamID string) (<-chan struct{}, func()) {
	return s.notify.Subscribe(streamID)
}
