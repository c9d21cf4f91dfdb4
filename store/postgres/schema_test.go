package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// countHandler is a slog.Handler that counts records by message.
type countHandler struct {
	mu   sync.Mutex
	msgs []string
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }

func (h *countHandler) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

func newLogger(h slog.Handler) *slog.Logger { return slog.New(h) }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// versions returns the rows of schema_migrations in schema, as "version name".
func versions(t *testing.T, schema string) []string {
	t.Helper()
	rows, err := adminConn(t, schema).Query(t.Context(), `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var v int
		var name string
		err := r.Scan(&v, &name)
		return fmt.Sprint(v, " ", name), err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReopenIsNoOp(t *testing.T) {
	schema := freshSchema(t)
	h := &countHandler{}
	openStore(t, schema, Options{Logger: newLogger(h)}).Close()
	before := versions(t, schema)
	if len(before) != len(migrations) || h.count("postgres: applied schema migration") != len(migrations) {
		t.Fatalf("first Open: schema_migrations %v, %d logged", before, h.count("postgres: applied schema migration"))
	}
	h2 := &countHandler{}
	openStore(t, schema, Options{Logger: newLogger(h2)}).Close()
	if after := versions(t, schema); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("second Open changed schema_migrations: %v, was %v", after, before)
	}
	if n := h2.count("postgres: applied schema migration"); n != 0 {
		t.Fatalf("second Open applied %d migrations", n)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	schema := freshSchema(t)
	openStore(t, schema, Options{}).Close()
	next := len(migrations) + 1
	if _, err := adminConn(t, schema).Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')`, next); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), testDSN(t), Options{Schema: schema})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of schema version %d = %v, want ErrSchemaTooNew", next, err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("schema version %d", next)) || !strings.Contains(err.Error(), schema) {
		t.Errorf("error does not say which schema and version: %v", err)
	}
}

// testPool opens a pool whose connections use schema (created here).
func testPool(t *testing.T, schema string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestMigrationsAppliedInOrderEachInATransaction(t *testing.T) {
	schema := freshSchema(t)
	pool := testPool(t, schema)
	ctx := t.Context()
	steps := []migration{
		{1, "t1", `CREATE TABLE t1 (a integer)`},
		{2, "t2 from t1", `CREATE TABLE t2 AS SELECT a FROM t1; INSERT INTO t1 VALUES (2)`},
	}
	if n, err := migrate(ctx, pool, schema, true, steps[:1], discard); err != nil || n != 1 {
		t.Fatalf("migrate(1) = %d, %v", n, err)
	}
	if n, err := migrate(ctx, pool, schema, true, steps, discard); err != nil || n != 1 {
		t.Fatalf("migrate(1, 2) = %d, %v", n, err)
	}
	if v := versions(t, schema); fmt.Sprint(v) != "[1 t1 2 t2 from t1]" {
		t.Fatalf("versions %v", v)
	}
	// A failing migration leaves nothing behind: its first statement is rolled back.
	bad := append(steps, migration{3, "half", `CREATE TABLE t3 (a integer); INSERT INTO no_such_table VALUES (1)`})
	if _, err := migrate(ctx, pool, schema, true, bad, discard); err == nil || !strings.Contains(err.Error(), "migration 3") {
		t.Fatalf("failing migration = %v", err)
	}
	var t3 *string
	if err := pool.QueryRow(ctx, `SELECT to_regclass('t3')::text`).Scan(&t3); err != nil || t3 != nil {
		t.Fatalf("table of the failed migration exists (%v, %v): not rolled back", t3, err)
	}
	if v := versions(t, schema); len(v) != 2 {
		t.Fatalf("versions after a failed migration: %v", v)
	}
	// Re-running applies nothing twice (t1 has its one row from migration 2).
	if n, err := migrate(ctx, pool, schema, true, steps, discard); err != nil || n != 0 {
		t.Fatalf("migrate again = %d, %v", n, err)
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM t1`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("t1 has %d rows (%v), want 1", rows, err)
	}
	// Misnumbered history is refused.
	if _, err := migrate(ctx, pool, schema, true, []migration{{1, "a", "SELECT 1"}, {3, "b", "SELECT 1"}}, discard); err == nil {
		t.Fatal("migrate accepted versions 1, 3")
	}
}

// TestMigrationLockIsHeld: while a session holds the schema's migration lock, Open waits
// (here: until its context ends).
func TestMigrationLockIsHeld(t *testing.T) {
	schema := freshSchema(t)
	conn := adminConn(t, "")
	if _, err := conn.Exec(t.Context(), `SELECT pg_advisory_lock(hashtextextended('sigshare.schema-migrations:' || $1, 0))`, schema); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300e6)
	defer cancel()
	_, err := Open(ctx, testDSN(t), Options{Schema: schema})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Open while another session migrates = %v, want it to wait (context deadline)", err)
	}
	if _, err := conn.Exec(t.Context(), `SELECT pg_advisory_unlock_all()`); err != nil {
		t.Fatal(err)
	}
	openStore(t, schema, Options{})
}

// TestDefaultSchema: without Options.Schema the tables go to the first schema of the
// DSN's search_path, which must exist.
func TestDefaultSchema(t *testing.T) {
	schema := freshSchema(t)
	if _, err := adminConn(t, "").Exec(t.Context(), `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	dsn := testDSN(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	st, err := Open(t.Context(), dsn+sep+"search_path="+schema, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Schema() != schema || st.NotifyChannel() != "sigshare."+schema {
		t.Fatalf("Schema() = %q, NotifyChannel() = %q", st.Schema(), st.NotifyChannel())
	}
	if v := versions(t, schema); len(v) != len(migrations) {
		t.Fatalf("schema_migrations in %s: %v", schema, v)
	}
	_, err = Open(t.Context(), dsn+sep+"search_path=sigshare_no_such_schema", Options{})
	if err == nil || !strings.Contains(err.Error(), "Options.Schema") {
		t.Fatalf("Open with a search_path naming no existing schema = %v", err)
	}
}

func TestDefaultChannel(t *testing.T) {
	if got := defaultChannel("public"); got != "sigshare.public" {
		t.Errorf("defaultChannel(public) = %q", got)
	}
	long := strings.Repeat("x", 63)
	got := defaultChannel(long)
	if len(got) > 63 || !strings.HasPrefix(got, "sigshare.") || got == defaultChannel(long[1:]+"y") {
		t.Errorf("defaultChannel(63 bytes) = %q", got)
	}
}

// TestIndexesUsed checks with EXPLAIN (sequential scans disabled, so that the planner
// shows whether an index fits at all on tiny test tables) that the hot statements can use
// their index.
func TestIndexesUsed(t *testing.T) {
	schema := freshSchema(t)
	st := openStore(t, schema, Options{})
	// Rows shaped like a real outbox (one busy stream, small ones, some dead letters),
	// analysed, so that the planner has statistics.
	for i := range 4 {
		mkStream(t, st, fmt.Sprintf("s%d", i), []string{ssf.DeliveryPush, ssf.DeliveryPoll}[i%2], ssf.StatusEnabled)
	}
	var batch []*store.OutboxSET
	for j := range 4000 {
		batch = append(batch, set("s0", fmt.Sprint(j)))
	}
	for i := 1; i < 4; i++ {
		for j := range 20 {
			batch = append(batch, set(fmt.Sprintf("s%d", i), fmt.Sprint(j)))
		}
	}
	must(t, st.Enqueue(t.Context(), batch))
	for j := range 200 {
		must(t, st.DeadLetter(t.Context(), "s0", fmt.Sprint(j), "", "x", at(1)))
	}
	for j := range 5 {
		must(t, st.DeadLetter(t.Context(), "s1", fmt.Sprint(j), "", "x", at(1)))
	}
	conn := adminConn(t, schema)
	if _, err := conn.Exec(t.Context(), `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	ts := at(0)
	for _, c := range []struct {
		name, query, index string
		args               []any
	}{
		{"Lease over every stream", leaseQueries[1], "outbox_live", []any{"w", ts, ts, 10, ssf.DeliveryPush}},
		{"Lease on one stream", leaseQueries[2], "outbox_stream_live", []any{"w", ts, ts, 10, "s1"}},
		{"NextDue", nextDueQueries[0], "outbox_due", nil},
		{"NextDue by method", nextDueQueries[1], "outbox_due", []any{ssf.DeliveryPush}},
		{"DeadLetters", `SELECT ` + outboxCols + ` FROM outbox WHERE stream_id = $1 AND dead ORDER BY seq LIMIT $2`, "outbox_stream_dead", []any{"s1", 10}},
		{"ListSubjects", `SELECT subject FROM subjects WHERE stream_id = $1 ORDER BY updated_at, subject`, "subjects_by_updated", []any{"s1"}},
		{"ListStreams by client", `SELECT id FROM streams WHERE client_id = $1 ORDER BY created_at, id`, "streams_by_client", []any{"c"}},
		{"InboxLease", inboxLeaseQuery, "inbox_pending", []any{"w", ts, ts, 10}},
		{"PurgeInbox", `DELETE FROM inbox WHERE state = 'processed' AND done_at < $1`, "inbox_processed", []any{ts}},
		{"PendingAcks", `SELECT jti FROM pending_acks WHERE stream = $1 ORDER BY rid LIMIT $2`, "pending_acks_order", []any{"p", 10}},
	} {
		var plan []string
		err := pgx.BeginFunc(t.Context(), conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(t.Context(), `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off`); err != nil {
				return err
			}
			rows, err := tx.Query(t.Context(), "EXPLAIN "+c.query, c.args...)
			if err != nil {
				return err
			}
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !strings.Contains(strings.Join(plan, "\n"), c.index) {
			t.Errorf("%s does not use index %s; plan:\n  %s", c.name, c.index, strings.Join(plan, "\n  "))
		}
	}
}
