package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrSchemaTooNew is returned by Open for a database whose schema version is newer than
// this build knows: it was written by a newer sigshare, and an older one must not touch
// it.
var ErrSchemaTooNew = errors.New("postgres: database schema is newer than this sigshare supports")

// migration is one schema step. Migrations are applied in order, each in its own
// transaction together with its row in schema_migrations; released migrations are never
// changed, only appended to.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations is the schema history. Tables are created in the schema the connections'
// search_path names first (Options.Schema).
//
// Times are timestamptz (microseconds); the zero time.Time is '-infinity', which sorts
// before every time, so that a zero NextAttemptAt or LeaseUntil means "due now". Keys are
// COLLATE "C" so that ordering by them is bytewise, as in the other backends.
//
// streams.config holds the JSON record of package store/internal/record (the comment in
// migration 1 names configRecord, its type before it moved there).
var migrations = []migration{
	{1, "streams, subjects, outbox, inbox, pending acks", `
CREATE TABLE streams (
	id                   text COLLATE "C" NOT NULL PRIMARY KEY,
	client_id            text COLLATE "C" NOT NULL,
	config               text        NOT NULL, -- JSON, see configRecord
	method               text        NOT NULL, -- effective delivery method (derived from config)
	status               text        NOT NULL,
	status_reason        text        NOT NULL,
	created_at           timestamptz NOT NULL,
	updated_at           timestamptz NOT NULL,
	last_activity_at     timestamptz NOT NULL,
	last_verification_at timestamptz NOT NULL,
	revision             bigint      NOT NULL
);
CREATE INDEX streams_by_created ON streams (created_at, id);
CREATE INDEX streams_by_client ON streams (client_id, created_at, id);

CREATE TABLE subjects (
	stream_id  text COLLATE "C" NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
	subject    bytea       NOT NULL, -- canonical JSON, compared bytewise
	included   boolean     NOT NULL,
	verified   boolean     NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (stream_id, subject)
);
CREATE INDEX subjects_by_updated ON subjects (stream_id, updated_at, subject);

-- Seq values are taken explicitly (Enqueue pairs the values it drew, sorted, with the
-- SETs in the order given); a sequence never hands out a value twice.
CREATE SEQUENCE outbox_seq AS bigint;
CREATE TABLE outbox (
	seq             bigint      NOT NULL PRIMARY KEY,
	stream_id       text COLLATE "C" NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
	jti             text COLLATE "C" NOT NULL,
	set_text        text        NOT NULL,
	event_type      text        NOT NULL,
	control         boolean     NOT NULL,
	created_at      timestamptz NOT NULL,
	attempts        bigint      NOT NULL,
	next_attempt_at timestamptz NOT NULL,
	lease_owner     text        NOT NULL,
	lease_until     timestamptz NOT NULL,
	last_error      text        NOT NULL,
	dead            boolean     NOT NULL, -- a dead letter
	dead_at         timestamptz NOT NULL,
	dead_reason     text        NOT NULL,
	UNIQUE (stream_id, jti)
);
-- Lease over every stream: live SETs in Seq order.
CREATE INDEX outbox_live ON outbox (seq) WHERE NOT dead;
-- Lease on one stream (poll), PurgeOutbox, CountOutbox.
CREATE INDEX outbox_stream_live ON outbox (stream_id, seq) WHERE NOT dead;
-- DeadLetters, Replay.
CREATE INDEX outbox_stream_dead ON outbox (stream_id, seq) WHERE dead;
-- NextDue: the earliest time a live SET becomes deliverable.
CREATE INDEX outbox_due ON outbox ((greatest(next_attempt_at, lease_until))) WHERE NOT dead;

CREATE TABLE inbox (
	rid             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- insertion order
	issuer          text COLLATE "C" NOT NULL,
	jti             text COLLATE "C" NOT NULL,
	stream_id       text        NOT NULL,
	ack_stream      text        NOT NULL,
	set_text        text        NOT NULL,
	received_at     timestamptz NOT NULL,
	state           text        NOT NULL CHECK (state IN ('pending', 'processed', 'dead')),
	attempts        bigint      NOT NULL,
	next_attempt_at timestamptz NOT NULL,
	lease_owner     text        NOT NULL,
	lease_until     timestamptz NOT NULL,
	last_error      text        NOT NULL,
	done_at         timestamptz NOT NULL,
	UNIQUE (issuer, jti)
);
CREATE INDEX inbox_pending ON inbox (received_at, rid) WHERE state = 'pending';
CREATE INDEX inbox_dead ON inbox (received_at, rid) WHERE state = 'dead';
CREATE INDEX inbox_processed ON inbox (done_at) WHERE state = 'processed';

CREATE SEQUENCE pending_acks_rid AS bigint;
CREATE TABLE pending_acks (
	rid    bigint NOT NULL PRIMARY KEY, -- insertion order, from pending_acks_rid
	stream text COLLATE "C" NOT NULL,
	jti    text COLLATE "C" NOT NULL,
	UNIQUE (stream, jti)
);
CREATE INDEX pending_acks_order ON pending_acks (stream, rid);
`},
	{2, "stream SET profile, streams version", `
ALTER TABLE streams ADD COLUMN profile text NOT NULL DEFAULT 'final'; -- store.ParseProfile names

-- StreamsVersion: one row, incremented as the last statement of every transaction that
-- changes streams or subjects (last, so that its row lock is never held while waiting for
-- another lock).
CREATE TABLE streams_version (
	one     boolean NOT NULL PRIMARY KEY DEFAULT true CHECK (one),
	version bigint  NOT NULL
);
INSERT INTO streams_version (one, version) VALUES (true, 1);
`},
}

// migrate brings the schema to the last of migs, on one connection of pool, while
// holding a session advisory lock named after the schema, so that nodes starting at
// the same time migrate one after the other (the later ones find nothing to do). It
// creates the schema when create is set, creates the version table if needed, refuses a
// database newer than migs (ErrSchemaTooNew) and applies each missing migration in order,
// each in one transaction with its version row. It returns the number of migrations
// applied.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string, create bool, migs []migration, log *slog.Logger) (applied int, err error) {
	for i, m := range migs {
		if m.version != i+1 {
			return 0, fmt.Errorf("migration %q has version %d, want %d (migrations are numbered 1, 2, ...)", m.name, m.version, i+1)
		}
	}
	c, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	defer c.Release()
	conn := c.Conn()
	const lockKey = `hashtextextended('sigshare.schema-migrations:' || $1, 0)`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`, schema); err != nil {
		conn.Close(context.Background()) // a lock request may still be pending: drop the session
		return 0, fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(context.Background(), `SELECT pg_advisory_unlock(`+lockKey+`)`, schema); uerr != nil {
			// Closing the session releases the lock.
			conn.Close(context.Background())
		}
	}()
	if create {
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			return 0, fmt.Errorf("migrate: create schema %q: %w", schema, err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer     NOT NULL PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
		return 0, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return 0, fmt.Errorf("migrate: read the schema version: %w", err)
	}
	latest := len(migs)
	if current > latest {
		return 0, fmt.Errorf("%w: schema %q has schema version %d, this build knows up to %d; use a newer sigshare", ErrSchemaTooNew, schema, current, latest)
	}
	for _, m := range migs[current:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migrate: migration %d (%s): %w", m.version, m.name, err)
		}
		applied++
		log.Info("postgres: applied schema migration", "schema", schema, "version", m.version, "name", m.name)
	}
	return applied, nil
}
