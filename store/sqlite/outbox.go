package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/internal/uniq"
)

const outboxCols = `seq, stream_id, jti, set_text, event_type, control, created_at, attempts, next_attempt_at,
	lease_owner, lease_until, last_error, dead_at, dead_reason`

// outboxRow is an OutboxSET encoded for its row (copied from the caller's record).
type outboxRow struct {
	stream, jti, set, eventType, leaseOwner, lastError, deadReason string
	control, attempts, dead                                        int64
	created, next, leaseUntil, deadAt                              int64
}

func encodeOutbox(sets []*store.OutboxSET) ([]outboxRow, error) {
	rows := make([]outboxRow, len(sets))
	var te timeEnc
	for i, s := range sets {
		if s == nil || s.StreamID == "" || s.JTI == "" {
			return nil, fmt.Errorf("enqueue: entry %d: the SET, its StreamID and its JTI are required", i)
		}
		rows[i] = outboxRow{
			stream: s.StreamID, jti: s.JTI, set: s.SET, eventType: s.EventType,
			leaseOwner: s.LeaseOwner, lastError: s.LastError, deadReason: s.DeadReason,
			control: b2i(s.Control), attempts: int64(s.Attempts), dead: b2i(!s.DeadAt.IsZero()),
			created: te.ns(s.CreatedAt), next: te.ns(s.NextAttemptAt), leaseUntil: te.ns(s.LeaseUntil), deadAt: te.ns(s.DeadAt),
		}
	}
	return rows, te.err
}

// enqueue inserts rows in order and returns their Seq. A key that exists (or repeats in
// rows) is ErrExists, an unknown stream ErrNotFound; the caller's savepoint then undoes
// the rows inserted before.
func enqueue(x *execer, rows []outboxRow) ([]int64, error) {
	seqs := make([]int64, len(rows))
	known := map[string]bool{}
	for i, r := range rows {
		if !known[r.stream] {
			if err := streamExists(x, r.stream); err != nil {
				return nil, fmt.Errorf("enqueue: SET %q: %w", r.jti, err)
			}
			known[r.stream] = true
		}
		err := x.queryRow(`INSERT INTO outbox (stream_id, jti, set_text, event_type, control, created_at, attempts,
			next_attempt_at, lease_owner, lease_until, last_error, dead, dead_at, dead_reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (stream_id, jti) DO NOTHING RETURNING seq`,
			r.stream, r.jti, r.set, r.eventType, r.control, r.created, r.attempts,
			r.next, r.leaseOwner, r.leaseUntil, r.lastError, r.dead, r.deadAt, r.deadReason).Scan(&seqs[i])
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("enqueue: SET %q on stream %q: %w", r.jti, r.stream, store.ErrExists)
		}
		if err != nil {
			return nil, fmt.Errorf("enqueue: SET %q on stream %q: %w", r.jti, r.stream, err)
		}
		x.signal(r.stream)
	}
	return seqs, nil
}

func scanOutbox(sc scanner) (*store.OutboxSET, error) {
	var s store.OutboxSET
	var control, created, next, leaseUntil, deadAt int64
	if err := sc.Scan(&s.Seq, &s.StreamID, &s.JTI, &s.SET, &s.EventType, &control, &created, &s.Attempts, &next,
		&s.LeaseOwner, &leaseUntil, &s.LastError, &deadAt, &s.DeadReason); err != nil {
		return nil, err
	}
	s.Control = control != 0
	s.CreatedAt, s.NextAttemptAt, s.LeaseUntil, s.DeadAt = decTime(created), decTime(next), decTime(leaseUntil), decTime(deadAt)
	return &s, nil
}

func collectOutbox(rows *sql.Rows) ([]*store.OutboxSET, error) {
	defer rows.Close()
	var out []*store.OutboxSET
	for rows.Next() {
		s, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Enqueue implements store.OutboxStore.
func (s *Store) Enqueue(ctx context.Context, sets []*store.OutboxSET) error {
	if len(sets) == 0 {
		return s.noop(ctx, "enqueue")
	}
	rows, err := encodeOutbox(sets)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	var seqs []int64
	err = s.write(ctx, "enqueue", func(x *execer) error {
		var err error
		seqs, err = enqueue(x, rows)
		if err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, set := range sets {
		set.Seq = seqs[i]
	}
	return nil
}

// noop is the result of a write with nothing to write: the context's error, ErrClosed
// after Close, or nil.
func (s *Store) noop(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", name, err)
	}
	if s.closed.Load() {
		return fmt.Errorf("sqlite: %s: %w", name, store.ErrClosed)
	}
	return nil
}

func checkLease(req store.LeaseRequest) error {
	switch {
	case req.Owner == "":
		return errors.New("sqlite: lease: Owner is required")
	case req.Limit < 1:
		return fmt.Errorf("sqlite: lease: Limit must be at least 1, got %d", req.Limit)
	case req.Duration <= 0:
		return fmt.Errorf("sqlite: lease: Duration must be positive, got %v", req.Duration)
	}
	return nil
}

// leaseQuery builds the Lease statement for the filters in use (four variants, each
// prepared once).
func leaseQuery(byStream, byMethod bool) string {
	q := `UPDATE outbox SET lease_owner = ?1, lease_until = ?2 WHERE seq IN (
		SELECT o.seq FROM outbox o JOIN streams s ON s.id = o.stream_id
		WHERE o.dead = 0 AND o.next_attempt_at <= ?3 AND o.lease_until <= ?3
			AND (s.status = 'enabled' OR o.control = 1)`
	if byStream {
		q += ` AND o.stream_id = ?5`
	}
	if byMethod {
		q += ` AND s.method = ?6`
	}
	return q + ` ORDER BY o.seq LIMIT ?4) RETURNING ` + outboxCols
}

// Lease implements store.OutboxStore. It runs in the writer, so two Lease calls are
// serialized (and an IMMEDIATE transaction holds the database write lock against other
// processes).
func (s *Store) Lease(ctx context.Context, req store.LeaseRequest) ([]*store.OutboxSET, error) {
	if err := checkLease(req); err != nil {
		return nil, err
	}
	var te timeEnc
	now, until := te.ns(req.Now), te.plusNS(req.Now, req.Duration)
	if te.err != nil {
		return nil, te.err
	}
	method := ssf.NormalizeDeliveryMethod(req.Method)
	q := leaseQuery(req.StreamID != "", method != "")
	args := []any{req.Owner, until, now, req.Limit}
	switch {
	case method != "":
		args = append(args, req.StreamID, method)
	case req.StreamID != "":
		args = append(args, req.StreamID)
	}
	var out []*store.OutboxSET
	err := s.write(ctx, "lease", func(x *execer) error {
		rows, err := x.query(q, args...)
		if err != nil {
			return fmt.Errorf("sqlite: lease: %w", err)
		}
		if out, err = collectOutbox(rows); err != nil {
			return fmt.Errorf("sqlite: lease: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *store.OutboxSET) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// NextDue implements store.OutboxStore. When a SET is deliverable already, t is now.
func (s *Store) NextDue(ctx context.Context, method string, now time.Time) (time.Time, bool, error) {
	method = ssf.NormalizeDeliveryMethod(method)
	q := `SELECT max(o.next_attempt_at, o.lease_until) AS due FROM outbox o JOIN streams s ON s.id = o.stream_id
		WHERE o.dead = 0 AND (s.status = 'enabled' OR o.control = 1) AND (?1 = '' OR s.method = ?1)
		ORDER BY due LIMIT 1`
	var due time.Time
	found := false
	err := s.read(ctx, "next due", func(db readDB) error {
		var ns int64
		err := db.QueryRowContext(ctx, q, method).Scan(&ns)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sqlite: next due: %w", err)
		}
		due, found = decTime(ns), true
		return nil
	})
	if err != nil || !found {
		return time.Time{}, false, err
	}
	if due.Before(now) {
		due = now.UTC()
	}
	return due, true, nil
}

// Ack implements store.OutboxStore. The found jtis come back in the order given, each
// once.
func (s *Store) Ack(ctx context.Context, streamID string, jtis []string) ([]string, error) {
	jtis = uniq.Strings(jtis)
	if len(jtis) == 0 {
		return nil, s.noop(ctx, "ack")
	}
	var found []string
	err := s.write(ctx, "ack", func(x *execer) error {
		found = found[:0]
		for _, j := range jtis {
			n, err := x.affected(`DELETE FROM outbox WHERE stream_id = ? AND jti = ? AND dead = 0`, streamID, j)
			if err != nil {
				return fmt.Errorf("sqlite: ack SET %q on stream %q: %w", j, streamID, err)
			}
			if n > 0 {
				found = append(found, j)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// outboxHolder reads the state of one SET for an error report: ErrNotFound, or
// ErrLeaseLost naming who holds it.
func outboxHolder(x *execer, op, streamID, jti, owner string) error {
	var dead int64
	var holder string
	err := x.queryRow(`SELECT dead, lease_owner FROM outbox WHERE stream_id = ? AND jti = ?`, streamID, jti).Scan(&dead, &holder)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s SET %q on stream %q: %w", op, jti, streamID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: %s SET %q on stream %q: %w", op, jti, streamID, err)
	}
	return fmt.Errorf("sqlite: %s SET %q on stream %q: not leased to %q: %w", op, jti, streamID, owner, store.ErrLeaseLost)
}

// Retry implements store.OutboxStore. owner is required.
func (s *Store) Retry(ctx context.Context, streamID, jti, owner string, next time.Time, lastErr string) error {
	if owner == "" {
		return errors.New("sqlite: retry: owner is required")
	}
	var te timeEnc
	nextNS := te.ns(next)
	if te.err != nil {
		return te.err
	}
	return s.write(ctx, "retry", func(x *execer) error {
		n, err := x.affected(`UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,
			lease_owner = '', lease_until = ? WHERE stream_id = ? AND jti = ? AND dead = 0 AND lease_owner = ?`,
			lastErr, nextNS, int64(zeroTime), streamID, jti, owner)
		if err != nil {
			return fmt.Errorf("sqlite: retry SET %q on stream %q: %w", jti, streamID, err)
		}
		if n == 0 {
			return outboxHolder(x, "retry", streamID, jti, owner)
		}
		return nil
	})
}

// Renew implements store.OutboxStore. owner is required.
func (s *Store) Renew(ctx context.Context, streamID string, jtis []string, owner string, until time.Time) ([]string, error) {
	if owner == "" {
		return nil, errors.New("sqlite: renew: owner is required")
	}
	var te timeEnc
	untilNS := te.ns(until)
	if te.err != nil {
		return nil, te.err
	}
	jtis = uniq.Strings(jtis)
	if len(jtis) == 0 {
		return nil, s.noop(ctx, "renew")
	}
	var out []string
	err := s.write(ctx, "renew", func(x *execer) error {
		out = out[:0]
		for _, j := range jtis {
			n, err := x.affected(`UPDATE outbox SET lease_until = ? WHERE stream_id = ? AND jti = ? AND dead = 0 AND lease_owner = ?`,
				untilNS, streamID, j, owner)
			if err != nil {
				return fmt.Errorf("sqlite: renew SET %q on stream %q: %w", j, streamID, err)
			}
			if n > 0 {
				out = append(out, j)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// releaseQuery gives back one SET's lease held by an owner.
const releaseQuery = `UPDATE outbox SET lease_owner = '', lease_until = ? WHERE stream_id = ? AND jti = ? AND dead = 0 AND lease_owner = ?`

// Release implements store.OutboxStore. owner is required. Subscribers are signalled
// after the commit.
func (s *Store) Release(ctx context.Context, streamID string, jtis []string, owner string) ([]string, error) {
	if owner == "" {
		return nil, errors.New("sqlite: release: owner is required")
	}
	jtis = uniq.Strings(jtis)
	if len(jtis) == 0 {
		return nil, s.noop(ctx, "release")
	}
	var out []string
	err := s.write(ctx, "release", func(x *execer) error {
		out = out[:0]
		for _, j := range jtis {
			n, err := x.affected(releaseQuery, int64(zeroTime), streamID, j, owner)
			if err != nil {
				return fmt.Errorf("sqlite: release SET %q on stream %q: %w", j, streamID, err)
			}
			if n > 0 {
				out = append(out, j)
			}
		}
		if len(out) > 0 {
			x.signal(streamID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReleaseOwner implements store.OutboxStore. owner is required. It scans the live outbox
// (no index names lease owners: it runs once per start).
func (s *Store) ReleaseOwner(ctx context.Context, owner string) (int, error) {
	if owner == "" {
		return 0, errors.New("sqlite: release owner: owner is required")
	}
	n := 0
	err := s.write(ctx, "release owner", func(x *execer) error {
		n = 0
		rows, err := x.query(`UPDATE outbox SET lease_owner = '', lease_until = ? WHERE dead = 0 AND lease_owner = ? RETURNING stream_id`,
			int64(zeroTime), owner)
		if err != nil {
			return fmt.Errorf("sqlite: release the leases of %q: %w", owner, err)
		}
		defer rows.Close()
		for rows.Next() {
			var stream string
			if err := rows.Scan(&stream); err != nil {
				return fmt.Errorf("sqlite: release the leases of %q: %w", owner, err)
			}
			x.signal(stream)
			n++
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: release the leases of %q: %w", owner, err)
		}
		return nil
	})
	return n, err
}

// DeadLetter implements store.OutboxStore. at must not be zero. With owner empty, a SET
// that is a dead letter already stays as it is.
func (s *Store) DeadLetter(ctx context.Context, streamID, jti, owner, reason string, at time.Time) error {
	if at.IsZero() {
		return errors.New("sqlite: dead letter: the time is required")
	}
	var te timeEnc
	atNS := te.ns(at)
	if te.err != nil {
		return te.err
	}
	return s.write(ctx, "dead letter", func(x *execer) error {
		n, err := x.affected(`UPDATE outbox SET dead = 1, dead_at = ?1, dead_reason = ?2, lease_owner = '', lease_until = ?3,
			attempts = attempts + (?6 <> '')
			WHERE stream_id = ?4 AND jti = ?5 AND dead = 0 AND (?6 = '' OR lease_owner = ?6)`,
			atNS, reason, int64(zeroTime), streamID, jti, owner)
		if err != nil {
			return fmt.Errorf("sqlite: dead letter SET %q on stream %q: %w", jti, streamID, err)
		}
		if n > 0 {
			return nil
		}
		err = outboxHolder(x, "dead letter", streamID, jti, owner)
		if owner == "" && errors.Is(err, store.ErrLeaseLost) {
			return nil // a dead letter already
		}
		return err
	})
}

// DeadLetters implements store.OutboxStore.
func (s *Store) DeadLetters(ctx context.Context, streamID string, limit int) ([]*store.OutboxSET, error) {
	if limit <= 0 {
		limit = -1
	}
	var out []*store.OutboxSET
	err := s.read(ctx, "dead letters", func(db readDB) error {
		rows, err := db.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE stream_id = ? AND dead = 1 ORDER BY seq LIMIT ?`, streamID, limit)
		if err != nil {
			return fmt.Errorf("sqlite: dead letters of stream %q: %w", streamID, err)
		}
		if out, err = collectOutbox(rows); err != nil {
			return fmt.Errorf("sqlite: dead letters of stream %q: %w", streamID, err)
		}
		return nil
	})
	return out, err
}

// Replay implements store.OutboxStore. Replayed SETs keep their Seq (their place in the
// delivery order) and LastError.
func (s *Store) Replay(ctx context.Context, streamID string, jtis []string) (int, error) {
	jtis = uniq.Strings(jtis)
	const set = `UPDATE outbox SET attempts = 0, next_attempt_at = ?1, dead = 0, dead_at = ?1, dead_reason = '',
		lease_owner = '', lease_until = ?1 WHERE stream_id = ?2 AND dead = 1`
	var total int64
	err := s.write(ctx, "replay", func(x *execer) error {
		total = 0
		if len(jtis) == 0 {
			n, err := x.affected(set, int64(zeroTime), streamID)
			if err != nil {
				return fmt.Errorf("sqlite: replay stream %q: %w", streamID, err)
			}
			total = n
		}
		for _, j := range jtis {
			n, err := x.affected(set+` AND jti = ?3`, int64(zeroTime), streamID, j)
			if err != nil {
				return fmt.Errorf("sqlite: replay SET %q on stream %q: %w", j, streamID, err)
			}
			total += n
		}
		if total > 0 {
			x.signal(streamID)
		}
		return nil
	})
	return int(total), err
}

// CountOutbox implements store.OutboxStore.
func (s *Store) CountOutbox(ctx context.Context, streamID string, now time.Time) (store.OutboxCounts, error) {
	var te timeEnc
	nowNS := te.ns(now)
	if te.err != nil {
		return store.OutboxCounts{}, te.err
	}
	var c store.OutboxCounts
	err := s.read(ctx, "count outbox", func(db readDB) error {
		err := db.QueryRowContext(ctx, `SELECT
			coalesce(sum(dead = 0), 0), coalesce(sum(dead = 0 AND lease_until > ?), 0), coalesce(sum(dead = 1), 0)
			FROM outbox WHERE stream_id = ?`, nowNS, streamID).Scan(&c.Pending, &c.Leased, &c.Dead)
		if err != nil {
			return fmt.Errorf("sqlite: count outbox of stream %q: %w", streamID, err)
		}
		return nil
	})
	return c, err
}

// Subscribe implements store.OutboxStore. Subscribers are signalled after the commit
// that made SETs deliverable is durable and before the write call returns. Close
// signals every subscription once; a subscription taken after Close starts signalled.
func (s *Store) Subscribe(streamID string) (<-chan struct{}, func()) {
	return s.notify.Subscribe(streamID)
}
