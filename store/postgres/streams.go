package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/internal/record"
)

const streamCols = `id, client_id, config, status, status_reason, created_at, updated_at, last_activity_at, last_verification_at, revision, profile`

// bumpVersion increments StreamsVersion; it is the last statement of every transaction
// that changes streams or subjects.
const bumpVersion = `UPDATE streams_version SET version = version + 1`

// streamRow is a stream encoded for its row (copied from the caller's record).
type streamRow struct {
	id, clientID, config, method, status, reason, profile string
	created, updated, activity, verification              pgtype.Timestamptz
}

func encodeStream(s *store.Stream) (streamRow, error) {
	cfg, err := encodeConfig(&s.Config)
	if err != nil {
		return streamRow{}, err
	}
	var e enc
	r := streamRow{
		id: e.text("stream ID", s.ID), clientID: e.text("client ID", s.ClientID), config: cfg,
		method: s.Config.EffectiveDeliveryMethod(), status: e.text("status", string(s.Status)),
		reason: e.text("status reason", s.StatusReason), profile: s.Profile.String(),
		created: e.ts("CreatedAt", s.CreatedAt), updated: e.ts("UpdatedAt", s.UpdatedAt),
		activity: e.ts("LastActivityAt", s.LastActivityAt), verification: e.ts("LastVerificationAt", s.LastVerificationAt),
	}
	e.text("delivery method", r.method)
	if _, err := store.ParseProfile(r.profile); err != nil && e.err == nil {
		e.err = err
	}
	return r, e.err
}

func scanStream(row pgx.Row) (*store.Stream, error) {
	var s store.Stream
	var cfg, status, profile string
	var created, updated, activity, verification pgtype.Timestamptz
	if err := row.Scan(&s.ID, &s.ClientID, &cfg, &status, &s.StatusReason, &created, &updated, &activity, &verification, &s.Revision, &profile); err != nil {
		return nil, err
	}
	var err error
	if s.Config, err = record.Decode(cfg); err != nil {
		return nil, err
	}
	if s.Profile, err = store.ParseProfile(profile); err != nil {
		return nil, fmt.Errorf("postgres: stream %q: %w", s.ID, err)
	}
	s.Status = ssf.Status(status)
	s.CreatedAt, s.UpdatedAt = decTime(created), decTime(updated)
	s.LastActivityAt, s.LastVerificationAt = decTime(activity), decTime(verification)
	return &s, nil
}

// CreateStream implements store.StreamStore.
func (s *Store) CreateStream(ctx context.Context, st *store.Stream) error {
	if st == nil || st.ID == "" {
		return errors.New("postgres: create stream: the stream and its ID are required")
	}
	r, err := encodeStream(st)
	if err != nil {
		return fmt.Errorf("postgres: create stream %q: %w", st.ID, err)
	}
	err = s.do(ctx, "create stream", func() error {
		// One statement: the insert, then (only when it inserted) the version.
		var n int64
		err := s.pool.QueryRow(ctx, `WITH ins AS (
			INSERT INTO streams (`+streamCols+`, method) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11)
			ON CONFLICT (id) DO NOTHING RETURNING 1
		), bump AS (`+bumpVersion+` WHERE EXISTS (SELECT 1 FROM ins))
		SELECT count(*) FROM ins`,
			r.id, r.clientID, r.config, r.status, r.reason, r.created, r.updated, r.activity, r.verification, r.profile, r.method).Scan(&n)
		if err != nil {
			return fmt.Errorf("postgres: create stream %q: %w", r.id, err)
		}
		if n == 0 {
			return fmt.Errorf("postgres: create stream %q: %w", r.id, store.ErrExists)
		}
		return nil
	})
	if err == nil {
		st.Revision = 1
	}
	return err
}

// GetStream implements store.StreamStore.
func (s *Store) GetStream(ctx context.Context, id string) (*store.Stream, error) {
	var out *store.Stream
	err := s.do(ctx, "get stream", func() error {
		if !storable(id) {
			return fmt.Errorf("postgres: get stream %q: %w", id, store.ErrNotFound)
		}
		var err error
		out, err = scanStream(s.pool.QueryRow(ctx, `SELECT `+streamCols+` FROM streams WHERE id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: get stream %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgres: get stream %q: %w", id, err)
		}
		return nil
	})
	return out, err
}

// ListStreams implements store.StreamStore.
func (s *Store) ListStreams(ctx context.Context, f store.StreamFilter) ([]*store.Stream, error) {
	var out []*store.Stream
	err := s.do(ctx, "list streams", func() error {
		if !storable(f.ClientID) {
			return nil
		}
		q := `SELECT ` + streamCols + ` FROM streams ORDER BY created_at, id`
		var args []any
		if f.ClientID != "" {
			q = `SELECT ` + streamCols + ` FROM streams WHERE client_id = $1 ORDER BY created_at, id`
			args = append(args, f.ClientID)
		}
		rows, err := s.pool.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("postgres: list streams: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Stream, error) { return scanStream(row) })
		if err != nil {
			return fmt.Errorf("postgres: list streams: %w", err)
		}
		return nil
	})
	return out, err
}

// UpdateStream implements store.StreamStore, in one transaction: it locks the stream row,
// replaces it where the revision is the caller's (else ErrConflict), purges the outbox
// (PurgeOutbox) and then enqueues the change's SETs. LastActivityAt never moves
// backwards: the stored value is the later of the stored and the given one (a
// TouchStream between the caller's read and its update is kept); s.LastActivityAt is set
// to it. The streams of the enqueued SETs, and the stream itself when its status became
// enabled, are announced (pg_notify) in the transaction.
func (s *Store) UpdateStream(ctx context.Context, st *store.Stream, change store.StreamChange) error {
	if st == nil || st.ID == "" {
		return errors.New("postgres: update stream: the stream and its ID are required")
	}
	r, err := encodeStream(st)
	if err != nil {
		return fmt.Errorf("postgres: update stream %q: %w", st.ID, err)
	}
	sets, err := encodeOutbox(change.Enqueue)
	if err != nil {
		return fmt.Errorf("postgres: update stream %q: %w", st.ID, err)
	}
	id, given, purge := st.ID, st.Revision, change.PurgeOutbox
	var (
		newRev   int64
		activity pgtype.Timestamptz
		seqs     []int64
	)
	err = s.tx(ctx, "update stream", func(tx pgx.Tx, ts *txState) error {
		var oldStatus string
		var stored int64
		err := tx.QueryRow(ctx, `SELECT status, revision FROM streams WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&oldStatus, &stored)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: update stream %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgres: update stream %q: %w", id, err)
		}
		err = tx.QueryRow(ctx, `UPDATE streams SET client_id = $3, config = $4, method = $5, status = $6, status_reason = $7,
			created_at = $8, updated_at = $9, last_activity_at = greatest(last_activity_at, $10), last_verification_at = $11,
			revision = revision + 1, profile = $12
			WHERE id = $1 AND revision = $2 RETURNING revision, last_activity_at`,
			id, given, r.clientID, r.config, r.method, r.status, r.reason, r.created, r.updated, r.activity, r.verification, r.profile).Scan(&newRev, &activity)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: update stream %q: revision %d given, %d stored: %w", id, given, stored, store.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("postgres: update stream %q: %w", id, err)
		}
		if purge {
			if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE stream_id = $1 AND NOT dead AND NOT control`, id); err != nil {
				return fmt.Errorf("postgres: update stream %q: purge outbox: %w", id, err)
			}
		}
		if len(change.Enqueue) > 0 {
			rows, err := tx.Query(ctx, enqueueQuery, sets.args()...)
			if err != nil {
				return fmt.Errorf("postgres: update stream %q: %w", id, err)
			}
			if seqs, err = collectSeqs(rows); err != nil {
				return fmt.Errorf("postgres: update stream %q: %w", id, enqueueErr(err))
			}
			ts.announce(sets.streams()...)
		}
		if oldStatus != string(ssf.StatusEnabled) && r.status == string(ssf.StatusEnabled) {
			ts.announce(id)
		}
		if _, err := tx.Exec(ctx, bumpVersion); err != nil {
			return fmt.Errorf("postgres: update stream %q: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	st.Revision = newRev
	st.LastActivityAt = decTime(activity)
	for i, set := range change.Enqueue {
		set.Seq = seqs[i]
	}
	return nil
}

// DeleteStream implements store.StreamStore: one transaction; the foreign keys delete the
// stream's subjects and outbox (dead letters included) with it.
func (s *Store) DeleteStream(ctx context.Context, id string) error {
	if !storable(id) {
		return s.do(ctx, "delete stream", func() error {
			return fmt.Errorf("postgres: delete stream %q: %w", id, store.ErrNotFound)
		})
	}
	return s.tx(ctx, "delete stream", func(tx pgx.Tx, _ *txState) error {
		tag, err := tx.Exec(ctx, `DELETE FROM streams WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("postgres: delete stream %q: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: delete stream %q: %w", id, store.ErrNotFound)
		}
		if _, err := tx.Exec(ctx, bumpVersion); err != nil {
			return fmt.Errorf("postgres: delete stream %q: %w", id, err)
		}
		return nil
	})
}

// TouchStream implements store.StreamStore.
func (s *Store) TouchStream(ctx context.Context, id string, at time.Time) error {
	var e enc
	v := e.ts("activity time", at)
	if e.err != nil {
		return fmt.Errorf("postgres: touch stream %q: %w", id, e.err)
	}
	return s.do(ctx, "touch stream", func() error {
		if !storable(id) {
			return fmt.Errorf("postgres: touch stream %q: %w", id, store.ErrNotFound)
		}
		tag, err := s.pool.Exec(ctx, `UPDATE streams SET last_activity_at = greatest(last_activity_at, $2) WHERE id = $1`, id, v)
		if err != nil {
			return fmt.Errorf("postgres: touch stream %q: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: touch stream %q: %w", id, store.ErrNotFound)
		}
		return nil
	})
}

// ---------------------------------------------------------------------------------------
// Subjects

// PutSubject implements store.SubjectStore.
func (s *Store) PutSubject(ctx context.Context, sub *store.Subject) error {
	if sub == nil || sub.StreamID == "" || len(sub.Subject) == 0 {
		return errors.New("postgres: put subject: the subject, its StreamID and its Subject are required")
	}
	var e enc
	stream, canonical, included, verified := e.text("stream ID", sub.StreamID), bytes.Clone(sub.Subject), sub.Included, sub.Verified
	updated := e.ts("UpdatedAt", sub.UpdatedAt)
	if e.err != nil {
		return fmt.Errorf("postgres: put subject: %w", e.err)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO subjects (stream_id, subject, included, verified, updated_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (stream_id, subject) DO UPDATE SET included = excluded.included, verified = excluded.verified, updated_at = excluded.updated_at`,
		stream, canonical, included, verified, updated)
	b.Queue(bumpVersion)
	return s.do(ctx, "put subject", func() error {
		// One pipelined implicit transaction: the subject, then the version.
		err := s.pool.SendBatch(ctx, b).Close()
		if pgCode(err) == codeForeignKeyViolation {
			return fmt.Errorf("postgres: put subject: stream %q: %w", stream, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgres: put subject on stream %q: %w", stream, err)
		}
		return nil
	})
}

// StreamsVersion implements store.StreamStore: the row of streams_version, which every
// transaction that changes streams or subjects increments before it commits (so a write
// that returned is seen by every node).
func (s *Store) StreamsVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.do(ctx, "streams version", func() error {
		if err := s.pool.QueryRow(ctx, `SELECT version FROM streams_version`).Scan(&v); err != nil {
			return fmt.Errorf("postgres: streams version: %w", err)
		}
		return nil
	})
	return v, err
}

func scanSubject(row pgx.Row) (*store.Subject, error) {
	var sub store.Subject
	var raw []byte
	var updated pgtype.Timestamptz
	if err := row.Scan(&sub.StreamID, &raw, &sub.Included, &sub.Verified, &updated); err != nil {
		return nil, err
	}
	sub.Subject = bytes.Clone(raw)
	sub.UpdatedAt = decTime(updated)
	return &sub, nil
}

// GetSubject implements store.SubjectStore.
func (s *Store) GetSubject(ctx context.Context, streamID string, canonical []byte) (*store.Subject, error) {
	var out *store.Subject
	err := s.do(ctx, "get subject", func() error {
		if !storable(streamID) {
			return fmt.Errorf("postgres: get subject %s of stream %q: %w", canonical, streamID, store.ErrNotFound)
		}
		var err error
		out, err = scanSubject(s.pool.QueryRow(ctx, `SELECT stream_id, subject, included, verified, updated_at FROM subjects
			WHERE stream_id = $1 AND subject = $2`, streamID, canonical))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: get subject %s of stream %q: %w", canonical, streamID, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgres: get subject of stream %q: %w", streamID, err)
		}
		return nil
	})
	return out, err
}

// ListSubjects implements store.SubjectStore. A stream that does not exist has no
// subjects (no error).
func (s *Store) ListSubjects(ctx context.Context, streamID string) ([]*store.Subject, error) {
	var out []*store.Subject
	err := s.do(ctx, "list subjects", func() error {
		if !storable(streamID) {
			return nil
		}
		rows, err := s.pool.Query(ctx, `SELECT stream_id, subject, included, verified, updated_at FROM subjects
			WHERE stream_id = $1 ORDER BY updated_at, subject`, streamID)
		if err != nil {
			return fmt.Errorf("postgres: list subjects of stream %q: %w", streamID, err)
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.Subject, error) { return scanSubject(row) })
		if err != nil {
			return fmt.Errorf("postgres: list subjects of stream %q: %w", streamID, err)
		}
		return nil
	})
	return out, err
}
