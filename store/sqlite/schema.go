package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrSchemaTooNew is returned by Open for a database whose schema version is newer than
// this build knows: it was written by a newer sigshare, and an older one must not touch
// it.
var ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this sigshare supports")

// migration is one schema step. Migrations are applied in order, each in its own
// transaction together with its row in schema_migrations; released migrations are never
// changed, only appended to.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations is the schema history.
//
// Times are INTEGER nanoseconds since the Unix epoch (UTC); the zero time.Time is
// -9223372036854775808 (zeroTime), so that "zero" sorts before every real time (a zero
// NextAttemptAt or LeaseUntil means "now").
//
// streams.config holds the JSON record of package store/internal/record (the comment in
// migration 1 names configRecord, its type before it moved there).
var migrations = []migration{
	{1, "streams, subjects, outbox, inbox, pending acks", `
CREATE TABLE streams (
	id                   TEXT    NOT NULL PRIMARY KEY,
	client_id            TEXT    NOT NULL,
	config               TEXT    NOT NULL, -- JSON, see configRecord
	method               TEXT    NOT NULL, -- effective delivery method (derived from config)
	status               TEXT    NOT NULL,
	status_reason        TEXT    NOT NULL,
	created_at           INTEGER NOT NULL,
	updated_at           INTEGER NOT NULL,
	last_activity_at     INTEGER NOT NULL,
	last_verification_at INTEGER NOT NULL,
	revision             INTEGER NOT NULL
) STRICT;
CREATE INDEX streams_by_created ON streams (created_at, id);
CREATE INDEX streams_by_client ON streams (client_id, created_at, id);

CREATE TABLE subjects (
	stream_id  TEXT    NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
	subject    BLOB    NOT NULL, -- canonical JSON, compared bytewise
	included   INTEGER NOT NULL,
	verified   INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (stream_id, subject)
) STRICT, WITHOUT ROWID;
CREATE INDEX subjects_by_updated ON subjects (stream_id, updated_at, subject);

CREATE TABLE outbox (
	seq             INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, -- never reused
	stream_id       TEXT    NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
	jti             TEXT    NOT NULL,
	set_text        TEXT    NOT NULL,
	event_type      TEXT    NOT NULL,
	control         INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	attempts        INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	lease_owner     TEXT    NOT NULL,
	lease_until     INTEGER NOT NULL,
	last_error      TEXT    NOT NULL,
	dead            INTEGER NOT NULL, -- 1: a dead letter
	dead_at         INTEGER NOT NULL,
	dead_reason     TEXT    NOT NULL,
	UNIQUE (stream_id, jti)
) STRICT;
-- Lease over every stream: live SETs in Seq order, with what the filter needs.
CREATE INDEX outbox_live ON outbox (seq, next_attempt_at, lease_until, control, stream_id) WHERE dead = 0;
-- Lease on one stream (poll), PurgeOutbox, CountOutbox.
CREATE INDEX outbox_stream_live ON outbox (stream_id, seq) WHERE dead = 0;
-- DeadLetters, Replay.
CREATE INDEX outbox_stream_dead ON outbox (stream_id, seq) WHERE dead = 1;
-- NextDue: the earliest time a live SET becomes deliverable.
CREATE INDEX outbox_due ON outbox (max(next_attempt_at, lease_until)) WHERE dead = 0;

CREATE TABLE inbox (
	rid             INTEGER NOT NULL PRIMARY KEY, -- insertion order
	issuer          TEXT    NOT NULL,
	jti             TEXT    NOT NULL,
	stream_id       TEXT    NOT NULL,
	ack_stream      TEXT    NOT NULL,
	set_text        TEXT    NOT NULL,
	received_at     INTEGER NOT NULL,
	state           TEXT    NOT NULL,
	attempts        INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	lease_owner     TEXT    NOT NULL,
	lease_until     INTEGER NOT NULL,
	last_error      TEXT    NOT NULL,
	done_at         INTEGER NOT NULL,
	UNIQUE (issuer, jti)
) STRICT;
CREATE INDEX inbox_pending ON inbox (received_at, rid) WHERE state = 'pending';
CREATE INDEX inbox_dead ON inbox (received_at, rid) WHERE state = 'dead';
CREATE INDEX inbox_processed ON inbox (done_at) WHERE state = 'processed';

CREATE TABLE pending_acks (
	rid    INTEGER NOT NULL PRIMARY KEY, -- insertion order
	stream TEXT    NOT NULL,
	jti    TEXT    NOT NULL,
	UNIQUE (stream, jti)
) STRICT;
CREATE INDEX pending_acks_order ON pending_acks (stream, rid);
`},
	{2, "stream SET profile", `
ALTER TABLE streams ADD COLUMN profile TEXT NOT NULL DEFAULT 'final'; -- store.ParseProfile names
`},
}

// migrate brings the database on conn to the last of migs: it creates the version table
// if needed, refuses a database newer than migs (ErrSchemaTooNew), and applies each
// missing migration in order, each in one transaction with its version row.
func migrate(ctx context.Context, conn *sql.Conn, migs []migration, log *slog.Logger) error {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	latest := 0
	if len(migs) > 0 {
		latest = migs[len(migs)-1].version
	}
	if current > latest {
		return fmt.Errorf("%w: the database has schema version %d, this build knows up to %d; use a newer sigshare", ErrSchemaTooNew, current, latest)
	}
	for i, m := range migs {
		if m.version != i+1 {
			return fmt.Errorf("migration %q has version %d, want %d (migrations are numbered 1, 2, ...)", m.name, m.version, i+1)
		}
		if m.version <= current {
			continue
		}
		if err := applyMigration(ctx, conn, m); err != nil {
			return err
		}
		log.Info("sqlite: applied schema migration", "version", m.version, "name", m.name)
	}
	return nil
}

func applyMigration(ctx context.Context, conn *sql.Conn, m migration) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("migration %d: begin: %w", m.version, err)
	}
	defer func() {
		if err != nil {
			conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	// Another process may have applied it meanwhile.
	var done int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&done); err != nil {
		return fmt.Errorf("migration %d: %w", m.version, err)
	}
	if done > 0 {
		_, err := conn.ExecContext(ctx, "COMMIT")
		return err
	}
	if _, err := conn.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("migration %d: record version: %w", m.version, err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("migration %d: commit: %w", m.version, err)
	}
	return nil
}
