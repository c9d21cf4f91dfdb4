package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/internal/record"
)

const streamCols = `id, client_id, config, status, status_reason, created_at, updated_at, last_activity_at, last_verification_at, revision, profile`

// streamRow is a stream encoded for its row.
type streamRow struct {
	id, clientID, config, method, status, reason, profile string
	created, updated, activity, verification              int64
}

func encodeStream(s *store.Stream) (streamRow, error) {
	cfg, err := record.Encode(&s.Config)
	if err != nil {
		return streamRow{}, fmt.Errorf("sqlite: %w", err)
	}
	var te timeEnc
	r := streamRow{
		id: s.ID, clientID: s.ClientID, config: cfg,
		method: s.Config.EffectiveDeliveryMethod(), status: string(s.Status), reason: s.StatusReason,
		profile: s.Profile.String(), created: te.ns(s.CreatedAt), updated: te.ns(s.UpdatedAt),
		activity: te.ns(s.LastActivityAt), verification: te.ns(s.LastVerificationAt),
	}
	return r, te.err
}

func scanStream(sc scanner) (*store.Stream, error) {
	var s store.Stream
	var cfg, status, profile string
	var created, updated, activity, verification int64
	if err := sc.Scan(&s.ID, &s.ClientID, &cfg, &status, &s.StatusReason, &created, &updated, &activity, &verification, &s.Revision, &profile); err != nil {
		return nil, err
	}
	var err error
	if s.Config, err = record.Decode(cfg); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if s.Profile, err = store.ParseProfile(profile); err != nil {
		return nil, fmt.Errorf("sqlite: stream %q: %w", s.ID, err)
	}
	s.Status = ssf.Status(status)
	s.CreatedAt, s.UpdatedAt = decTime(created), decTime(updated)
	s.LastActivityAt, s.LastVerificationAt = decTime(activity), decTime(verification)
	return &s, nil
}

// CreateStream implements store.StreamStore.
func (s *Store) CreateStream(ctx context.Context, st *store.Stream) error {
	if st == nil || st.ID == "" {
		return errors.New("sqlite: create stream: the stream and its ID are required")
	}
	r, err := encodeStream(st)
	if err != nil {
		return err
	}
	if _, err := store.ParseProfile(r.profile); err != nil {
		return fmt.Errorf("sqlite: create stream %q: %w", r.id, err)
	}
	err = s.write(ctx, "create stream", func(x *execer) error {
		n, err := x.affected(`INSERT INTO streams (`+streamCols+`, method) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			r.id, r.clientID, r.config, r.status, r.reason, r.created, r.updated, r.activity, r.verification, r.profile, r.method)
		if err != nil {
			return fmt.Errorf("sqlite: create stream %q: %w", r.id, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlite: create stream %q: %w", r.id, store.ErrExists)
		}
		x.streamsChanged()
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
	err := s.read(ctx, "get stream", func(db readDB) error {
		var err error
		out, err = scanStream(db.QueryRowContext(ctx, `SELECT `+streamCols+` FROM streams WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: get stream %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: get stream %q: %w", id, err)
		}
		return nil
	})
	return out, err
}

// ListStreams implements store.StreamStore.
func (s *Store) ListStreams(ctx context.Context, f store.StreamFilter) ([]*store.Stream, error) {
	var out []*store.Stream
	err := s.read(ctx, "list streams", func(db readDB) error {
		q := `SELECT ` + streamCols + ` FROM streams ORDER BY created_at, id`
		var args []any
		if f.ClientID != "" {
			q = `SELECT ` + streamCols + ` FROM streams WHERE client_id = ? ORDER BY created_at, id`
			args = append(args, f.ClientID)
		}
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("sqlite: list streams: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			st, err := scanStream(rows)
			if err != nil {
				return fmt.Errorf("sqlite: list streams: %w", err)
			}
			out = append(out, st)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: list streams: %w", err)
		}
		return nil
	})
	return out, err
}

// UpdateStream implements store.StreamStore. PurgeOutbox is applied before Enqueue, so
// the SETs the change enqueues are never purged by it. LastActivityAt never moves
// backwards: the stored value is the later of the stored and the given one (a
// TouchStream between the caller's read and its update is kept); s.LastActivityAt is
// set to it.
func (s *Store) UpdateStream(ctx context.Context, st *store.Stream, change store.StreamChange) error {
	if st == nil || st.ID == "" {
		return errors.New("sqlite: update stream: the stream and its ID are required")
	}
	r, err := encodeStream(st)
	if err != nil {
		return err
	}
	if _, err := store.ParseProfile(r.profile); err != nil {
		return fmt.Errorf("sqlite: update stream %q: %w", st.ID, err)
	}
	sets, err := encodeOutbox(change.Enqueue)
	if err != nil {
		return fmt.Errorf("sqlite: update stream %q: %w", st.ID, err)
	}
	id, given, purge := st.ID, st.Revision, change.PurgeOutbox
	var (
		newRev   int64
		activity int64
		seqs     []int64
	)
	err = s.write(ctx, "update stream", func(x *execer) error {
		var rev, storedActivity int64
		var status string
		err := x.queryRow(`SELECT revision, status, last_activity_at FROM streams WHERE id = ?`, id).Scan(&rev, &status, &storedActivity)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: update stream %q: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: update stream %q: %w", id, err)
		}
		if rev != given {
			return fmt.Errorf("sqlite: update stream %q: revision %d given, %d stored: %w", id, given, rev, store.ErrConflict)
		}
		activity = max(storedActivity, r.activity)
		newRev = rev + 1
		if _, err := x.exec(`UPDATE streams SET client_id = ?, config = ?, method = ?, status = ?, status_reason = ?,
			created_at = ?, updated_at = ?, last_activity_at = ?, last_verification_at = ?, revision = ?, profile = ? WHERE id = ?`,
			r.clientID, r.config, r.method, r.status, r.reason, r.created, r.updated, activity, r.verification, newRev, r.profile, id); err != nil {
			return fmt.Errorf("sqlite: update stream %q: %w", id, err)
		}
		x.streamsChanged()
		if purge {
			if _, err := x.exec(`DELETE FROM outbox WHERE stream_id = ? AND dead = 0 AND control = 0`, id); err != nil {
				return fmt.Errorf("sqlite: update stream %q: purge outbox: %w", id, err)
			}
		}
		if seqs, err = enqueue(x, sets); err != nil {
			return fmt.Errorf("sqlite: update stream %q: %w", id, err)
		}
		if status != string(ssf.StatusEnabled) && r.status == string(ssf.StatusEnabled) {
			x.signal(id)
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

// DeleteStream implements store.StreamStore.
func (s *Store) DeleteStream(ctx context.Context, id string) error {
	return s.write(ctx, "delete stream", func(x *execer) error {
		for _, q := range []string{`DELETE FROM subjects WHERE stream_id = ?`, `DELETE FROM outbox WHERE stream_id = ?`} {
			if _, err := x.exec(q, id); err != nil {
				return fmt.Errorf("sqlite: delete stream %q: %w", id, err)
			}
		}
		n, err := x.affected(`DELETE FROM streams WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("sqlite: delete stream %q: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlite: delete stream %q: %w", id, store.ErrNotFound)
		}
		x.streamsChanged()
		return nil
	})
}

// TouchStream implements store.StreamStore.
func (s *Store) TouchStream(ctx context.Context, id string, at time.Time) error {
	var te timeEnc
	ns := te.ns(at)
	if te.err != nil {
		return te.err
	}
	return s.write(ctx, "touch stream", func(x *execer) error {
		n, err := x.affected(`UPDATE streams SET last_activity_at = max(last_activity_at, ?) WHERE id = ?`, ns, id)
		if err != nil {
			return fmt.Errorf("sqlite: touch stream %q: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("sqlite: touch stream %q: %w", id, store.ErrNotFound)
		}
		return nil
	})
}

// StreamsVersion implements store.StreamStore. The number lives in memory: the writer
// increments it after committing a batch that changed streams or subjects, before the
// writes return. It starts, at Open, at the clock's nanoseconds, so that two Store values
// of one process never share a number. (A SQLite file serves one process; a second
// process writing to the same file would not be seen.)
func (s *Store) StreamsVersion(ctx context.Context) (int64, error) {
	if err := s.noop(ctx, "streams version"); err != nil {
		return 0, err
	}
	return s.version.Load(), nil
}

// ---------------------------------------------------------------------------------------
// Subjects

// PutSubject implements store.SubjectStore.
func (s *Store) PutSubject(ctx context.Context, sub *store.Subject) error {
	if sub == nil || sub.StreamID == "" || len(sub.Subject) == 0 {
		return errors.New("sqlite: put subject: the subject, its StreamID and its Subject are required")
	}
	var te timeEnc
	stream, canonical, included, verified, updated := sub.StreamID, bytes.Clone(sub.Subject), b2i(sub.Included), b2i(sub.Verified), te.ns(sub.UpdatedAt)
	if te.err != nil {
		return te.err
	}
	return s.write(ctx, "put subject", func(x *execer) error {
		if err := streamExists(x, stream); err != nil {
			return fmt.Errorf("sqlite: put subject: %w", err)
		}
		if _, err := x.exec(`INSERT INTO subjects (stream_id, subject, included, verified, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (stream_id, subject) DO UPDATE SET included = excluded.included, verified = excluded.verified, updated_at = excluded.updated_at`,
			stream, canonical, included, verified, updated); err != nil {
			return fmt.Errorf("sqlite: put subject on stream %q: %w", stream, err)
		}
		x.streamsChanged()
		return nil
	})
}

// streamExists fails with ErrNotFound unless the stream exists.
func streamExists(x *execer, id string) error {
	var one int
	err := x.queryRow(`SELECT 1 FROM streams WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("stream %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("stream %q: %w", id, err)
	}
	return nil
}

func scanSubject(sc scanner) (*store.Subject, error) {
	var sub store.Subject
	var included, verified, updated int64
	var raw []byte
	if err := sc.Scan(&sub.StreamID, &raw, &included, &verified, &updated); err != nil {
		return nil, err
	}
	sub.Subject = bytes.Clone(raw)
	sub.Included, sub.Verified, sub.UpdatedAt = included != 0, verified != 0, decTime(updated)
	return &sub, nil
}

// GetSubject implements store.SubjectStore.
func (s *Store) GetSubject(ctx context.Context, streamID string, canonical []byte) (*store.Subject, error) {
	var out *store.Subject
	err := s.read(ctx, "get subject", func(db readDB) error {
		var err error
		out, err = scanSubject(db.QueryRowContext(ctx, `SELECT stream_id, subject, included, verified, updated_at FROM subjects
			WHERE stream_id = ? AND subject = ?`, streamID, canonical))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: get subject %s of stream %q: %w", canonical, streamID, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: get subject of stream %q: %w", streamID, err)
		}
		return nil
	})
	return out, err
}

// ListSubjects implements store.SubjectStore. A stream that does not exist has no
// subjects (no error).
func (s *Store) ListSubjects(ctx context.Context, streamID string) ([]*store.Subject, error) {
	var out []*store.Subject
	err := s.read(ctx, "list subjects", func(db readDB) error {
		rows, err := db.QueryContext(ctx, `SELECT stream_id, subject, included, verified, updated_at FROM subjects
			WHERE stream_id = ? ORDER BY updated_at, subject`, streamID)
		if err != nil {
			return fmt.Errorf("sqlite: list subjects of stream %q: %w", streamID, err)
		}
		defer rows.Close()
		for rows.Next() {
			sub, err := scanSubject(rows)
			if err != nil {
				return fmt.Errorf("sqlite: list subjects of stream %q: %w", streamID, err)
			}
			out = append(out, sub)
		}
		return rows.Err()
	})
	return out, err
}
