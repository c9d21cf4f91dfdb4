package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
)

func rawConn(t *testing.T, path string) *sql.Conn {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

type versionRow struct {
	version   int
	name      string
	appliedAt int64
}

func versions(t *testing.T, conn *sql.Conn) []versionRow {
	t.Helper()
	rows, err := conn.QueryContext(t.Context(), "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []versionRow
	for rows.Next() {
		var v versionRow
		if err := rows.Scan(&v.version, &v.name, &v.appliedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestReopenMigratedDatabaseIsNoOp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	st, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	before := versions(t, rawConn(t, path))
	if len(before) != len(migrations) {
		t.Fatalf("schema_migrations has %d rows after Open, want %d", len(before), len(migrations))
	}
	st, err = Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	st.Close()
	if after := versions(t, rawConn(t, path)); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("second Open changed schema_migrations: %v, was %v", after, before)
	}
}

func TestNewerDatabaseRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	st, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	next := len(migrations) + 1
	if _, err := rawConn(t, path).ExecContext(t.Context(), "INSERT INTO schema_migrations VALUES (?, 'from the future', 0)", next); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), path, Options{})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a database with schema version %d = %v, want ErrSchemaTooNew", next, err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("schema version %d", next)) {
		t.Errorf("error does not say which version: %v", err)
	}
}

func TestMigrationsAppliedInOrderEachInATransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	conn := rawConn(t, path)
	ctx := t.Context()
	steps := []migration{
		{1, "t1", `CREATE TABLE t1 (a INTEGER)`},
		{2, "t2 from t1", `CREATE TABLE t2 AS SELECT a FROM t1; INSERT INTO t1 VALUES (2)`},
	}
	if err := migrate(ctx, conn, steps[:1], discard); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, conn, steps, discard); err != nil {
		t.Fatal(err)
	}
	if v := versions(t, conn); len(v) != 2 || v[0].version != 1 || v[1].version != 2 {
		t.Fatalf("versions %v, want 1 and 2", v)
	}
	// A failing migration leaves nothing behind: its first statement is rolled back.
	bad := append(steps, migration{3, "half", `CREATE TABLE t3 (a INTEGER); INSERT INTO no_such_table VALUES (1)`})
	if err := migrate(ctx, conn, bad, discard); err == nil || !strings.Contains(err.Error(), "migration 3") {
		t.Fatalf("failing migration = %v", err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = 't3'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("table of the failed migration exists (%d, %v): not rolled back", n, err)
	}
	if v := versions(t, conn); len(v) != 2 {
		t.Fatalf("versions after a failed migration: %v", v)
	}
	// Re-running applies nothing twice (t1 has its one row from migration 2).
	if err := migrate(ctx, conn, steps, discard); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM t1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("t1 has %d rows (%v), want 1", n, err)
	}
	// Misnumbered history is refused.
	if err := migrate(ctx, conn, []migration{{1, "a", "SELECT 1"}, {3, "b", "SELECT 1"}}, discard); err == nil {
		t.Fatal("migrate accepted versions 1, 3")
	}
}

// TestIndexesUsed checks with EXPLAIN QUERY PLAN that the hot queries use their index.
func TestIndexesUsed(t *testing.T) {
	st, _, _ := openHooked(t, Options{})
	for _, c := range []struct {
		name, query, index string
		args               []any
	}{
		{"Lease over every stream", leaseQuery(false, true), "outbox_live", []any{"w", 1, 0, 10, "", "m"}},
		{"Lease on one stream", leaseQuery(true, false), "outbox_stream_live", []any{"w", 1, 0, 10, "s1"}},
		{"NextDue", `SELECT max(o.next_attempt_at, o.lease_until) AS due FROM outbox o JOIN streams s ON s.id = o.stream_id
			WHERE o.dead = 0 AND (s.status = 'enabled' OR o.control = 1) AND (?1 = '' OR s.method = ?1)
			ORDER BY due LIMIT 1`, "outbox_due", []any{""}},
		{"DeadLetters", `SELECT seq FROM outbox WHERE stream_id = ? AND dead = 1 ORDER BY seq LIMIT ?`, "outbox_stream_dead", []any{"s1", -1}},
		{"ListSubjects", `SELECT subject FROM subjects WHERE stream_id = ? ORDER BY updated_at, subject`, "subjects_by_updated", []any{"s1"}},
		{"ListStreams by client", `SELECT id FROM streams WHERE client_id = ? ORDER BY created_at, id`, "streams_by_client", []any{"c"}},
		{"InboxLease", `UPDATE inbox SET lease_owner = ?1, lease_until = ?2 WHERE rid IN (
			SELECT rid FROM inbox WHERE state = 'pending' AND next_attempt_at <= ?3 AND lease_until <= ?3
			ORDER BY received_at, rid LIMIT ?4)`, "inbox_pending", []any{"w", 1, 0, 10}},
		{"PurgeInbox", `DELETE FROM inbox WHERE state = 'processed' AND done_at < ?`, "inbox_processed", []any{0}},
		{"PendingAcks", `SELECT jti FROM pending_acks WHERE stream = ? ORDER BY rid LIMIT ?`, "pending_acks_order", []any{"p", -1}},
	} {
		var plan []string
		err := st.write(t.Context(), "explain", func(x *execer) error {
			rows, err := x.s.conn.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+c.query, c.args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					return err
				}
				plan = append(plan, detail)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		t.Logf("%s:\n  %s", c.name, strings.Join(plan, "\n  "))
		if !strings.Contains(strings.Join(plan, "\n"), c.index) {
			t.Errorf("%s does not use index %s; plan:\n  %s", c.name, c.index, strings.Join(plan, "\n  "))
		}
	}
}
