package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/internal/uniq"
)

const outboxCols = `seq, stream_id, jti, set_text, event_type, control, created_at, attempts, next_attempt_at,
	lease_owner, lease_until, last_error, dead_at, dead_reason`

// outboxRows are OutboxSETs encoded column by column (copied from the caller's records),
// for enqueueQuery.
type outboxRows struct {
	stream, jti, set, eventType, leaseOwner, lastError, deadReason []string
	control, dead                                                  []bool
	attempts                                                       []int64
	created, next, leaseUntil, deadAt                              []pgtype.Timestamptz
}

func encodeOutbox(sets []*store.OutboxSET) (*outboxRows, error) {
	var e enc
	r := &outboxRows{}
	for i, s := range sets {
		if s == nil || s.StreamID == "" || s.JTI == "" {
			return nil, fmt.Errorf("enqueue: entry %d: the SET, its StreamID and its JTI are required", i)
		}
		r.stream = append(r.stream, e.text("StreamID", s.StreamID))
		r.jti = append(r.jti, e.text("JTI", s.JTI))
		r.set = append(r.set, e.text("SET", s.SET))
		r.eventType = append(r.eventType, e.text("EventType", s.EventType))
		r.leaseOwner = append(r.leaseOwner, e.text("LeaseOwner", s.LeaseOwner))
		r.lastError = append(r.lastError, e.text("LastError", s.LastError))
		r.deadReason = append(r.deadReason, e.text("DeadReason", s.DeadReason))
		r.control = append(r.control, s.Control)
		r.dead = append(r.dead, !s.DeadAt.IsZero())
		r.attempts = append(r.attempts, int64(s.Attempts))
		r.created = append(r.created, e.ts("CreatedAt", s.CreatedAt))
		r.next = append(r.next, e.ts("NextAttemptAt", s.NextAttemptAt))
		r.leaseUntil = append(r.leaseUntil, e.ts("LeaseUntil", s.LeaseUntil))
		r.deadAt = append(r.deadAt, e.ts("DeadAt", s.DeadAt))
		if e.err != nil {
			return nil, fmt.Errorf("enqueue: entry %d (SET %q): %w", i, s.JTI, e.err)
		}
	}
	return r, nil
}

func (r *outboxRows) args() []any {
	return []any{r.stream, r.jti, r.set, r.eventType, r.control, r.created, r.attempts, r.next,
		r.leaseOwner, r.leaseUntil, r.lastError, r.dead, r.deadAt, r.deadReason}
}

// streams returns the distinct streams of the rows.
func (r *outboxRows) streams() []string {
	var out []string
	for _, s := range r.stream {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// enqueueQuery inserts the SETs given as parallel arrays, in one statement. It draws one
// Seq per SET from outbox_seq and pairs the values, sorted, with the SETs in the order
// given (WITH ORDINALITY), so that a batch's Seqs increase in its order whatever order
// PostgreSQL evaluates rows in; both sides are MATERIALIZED, so each is computed once.
// Rows are inserted in key order, so that concurrent batches with common keys wait for
// each other instead of deadlocking. It returns the Seqs; sorted, they are the Seqs of
// the SETs in the order given. A key
// that exists (or repeats in the batch) violates the unique constraint (ErrExists), an
// unknown stream the foreign key (ErrNotFound); either way nothing is written.
const enqueueQuery = `WITH u AS MATERIALIZED (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::timestamptz[], $7::bigint[],
		$8::timestamptz[], $9::text[], $10::timestamptz[], $11::text[], $12::boolean[], $13::timestamptz[], $14::text[])
		WITH ORDINALITY AS u (stream_id, jti, set_text, event_type, control, created_at, attempts, next_attempt_at,
			lease_owner, lease_until, last_error, dead, dead_at, dead_reason, ord)
), n AS MATERIALIZED (
	SELECT row_number() OVER (ORDER BY v) AS ord, v AS seq
	FROM (SELECT nextval('outbox_seq') AS v FROM generate_series(1, cardinality($1::text[]))) AS g
)
INSERT INTO outbox (seq, stream_id, jti, set_text, event_type, control, created_at, attempts, next_attempt_at,
	lease_owner, lease_until, last_error, dead, dead_at, dead_reason)
SELECT n.seq, u.stream_id, u.jti, u.set_text, u.event_type, u.control, u.created_at, u.attempts, u.next_attempt_at,
	u.lease_owner, u.lease_until, u.last_error, u.dead, u.dead_at, u.dead_reason
FROM u JOIN n USING (ord)
ORDER BY u.stream_id, u.jti
RETURNING seq`

// collectSeqs reads enqueueQuery's result: the Seqs in the order of the SETs given.
func collectSeqs(rows pgx.Rows) ([]int64, error) {
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	slices.Sort(seqs)
	return seqs, nil
}

// enqueueErr maps the constraint violations of enqueueQuery to store errors.
func enqueueErr(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case codeUniqueViolation:
		// The detail names the key: "Key (stream_id, jti)=(s1, j1) already exists."
		return fmt.Errorf("enqueue: %s: %w", pe.Detail, store.ErrExists)
	case codeForeignKeyViolation:
		return fmt.Errorf("enqueue: unknown stream (%s): %w", pe.Detail, store.ErrNotFound)
	}
	return err
}

// Enqueue implements store.OutboxStore. The insert and the notification of the streams
// run as one pipelined implicit transaction (one round trip).
func (s *Store) Enqueue(ctx context.Context, sets []*store.OutboxSET) error {
	if len(sets) == 0 {
		return s.noop(ctx, "enqueue")
	}
	rows, err := encodeOutbox(sets)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	streams := rows.streams()
	var seqs []int64
	b := &pgx.Batch{}
	b.Queue(enqueueQuery, rows.args()...).Query(func(r pgx.Rows) error {
		var err error
		seqs, err = collectSeqs(r)
		return err
	})
	b.Queue(notifyQuery, s.channel, payloads(streams))
	err = s.batch(ctx, "enqueue", b, func() []string { return streams })
	if err != nil {
		if e := enqueueErr(err); e != err {
			return fmt.Errorf("postgres: %w", e)
		}
		return fmt.Errorf("postgres: enqueue: %w", err)
	}
	if len(seqs) != len(sets) {
		return fmt.Errorf("postgres: enqueue: %d SETs stored, %d given", len(seqs), len(sets))
	}
	for i, set := range sets {
		set.Seq = seqs[i]
	}
	return nil
}

func scanOutbox(row pgx.Row) (*store.OutboxSET, error) {
	var s store.OutboxSET
	var attempts int64
	var created, next, leaseUntil, deadAt pgtype.Timestamptz
	if err := row.Scan(&s.Seq, &s.StreamID, &s.JTI, &s.SET, &s.EventType, &s.Control, &created, &attempts, &next,
		&s.LeaseOwner, &leaseUntil, &s.LastError, &deadAt, &s.DeadReason); err != nil {
		return nil, err
	}
	s.Attempts = int(attempts)
	s.CreatedAt, s.NextAttemptAt, s.LeaseUntil, s.DeadAt = decTime(created), decTime(next), decTime(leaseUntil), decTime(deadAt)
	return &s, nil
}

func collectOutbox(rows pgx.Rows) ([]*store.OutboxSET, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.OutboxSET, error) { return scanOutbox(row) })
}

func checkLease(req store.LeaseRequest) error {
	switch {
	case req.Owner == "":
		return errors.New("postgres: lease: Owner is required")
	case req.Limit < 1:
		return fmt.Errorf("postgres: lease: Limit must be at least 1, got %d", req.Limit)
	case req.Duration <= 0:
		return fmt.Errorf("postgres: lease: Duration must be positive, got %v", req.Duration)
	}
	return nil
}

// deliverable is the condition under which an outbox row o of stream s may be leased at
// $3: not dead, due, no unexpired lease, and the stream enabled or the SET a Control SET.
const deliverable = `NOT o.dead AND o.next_attempt_at <= $3 AND o.lease_until <= $3
	AND (s.status = '` + string(ssf.StatusEnabled) + `' OR o.control)`

// leaseQuery builds the Lease statement for the filters in use (four variants, each
// prepared once per connection, so that each gets a plan that uses its index). The
// candidate rows are locked FOR UPDATE SKIP LOCKED, in Seq order: a row another
// transaction is leasing (or retrying, acknowledging) at that moment is skipped, not
// waited for, and a row whose lease another node committed meanwhile is re-checked
// against the condition and dropped; so concurrent Lease calls on any node never return
// the same SET while its lease holds. Parameters: $1 owner, $2 lease end, $3 now, $4
// limit, then the stream and the method when filtered by.
func leaseQuery(byStream, byMethod bool) string {
	q := `WITH picked AS MATERIALIZED (
	SELECT o.seq FROM outbox o JOIN streams s ON s.id = o.stream_id
	WHERE ` + deliverable
	n := 5
	if byStream {
		q += fmt.Sprintf(` AND o.stream_id = $%d`, n)
		n++
	}
	if byMethod {
		q += fmt.Sprintf(` AND s.method = $%d`, n)
	}
	return q + `
	ORDER BY o.seq LIMIT $4
	FOR UPDATE OF o SKIP LOCKED)
UPDATE outbox o SET lease_owner = $1, lease_until = $2 FROM picked WHERE o.seq = picked.seq
RETURNING ` + qualified("o", outboxCols)
}

// qualified prefixes every column of the comma-separated list cols with alias.
func qualified(alias, cols string) string {
	return alias + "." + strings.Join(strings.Fields(strings.ReplaceAll(cols, ",", " ")), ", "+alias+".")
}

var leaseQueries = [4]string{leaseQuery(false, false), leaseQuery(false, true), leaseQuery(true, false), leaseQuery(true, true)}

// Lease implements store.OutboxStore with one statement (one transaction): see
// leaseQuery. The SETs come back in Seq order.
func (s *Store) Lease(ctx context.Context, req store.LeaseRequest) ([]*store.OutboxSET, error) {
	if err := checkLease(req); err != nil {
		return nil, err
	}
	var e enc
	now, until := e.ts("Now", req.Now), e.until("lease end", req.Now, req.Duration)
	e.text("Owner", req.Owner)
	if e.err != nil {
		return nil, fmt.Errorf("postgres: lease: %w", e.err)
	}
	if !storable(req.StreamID, req.Method) {
		return nil, s.noop(ctx, "lease")
	}
	method := ssf.NormalizeDeliveryMethod(req.Method)
	i, args := 0, []any{req.Owner, until, now, req.Limit}
	if req.StreamID != "" {
		i += 2
		args = append(args, req.StreamID)
	}
	if method != "" {
		i++
		args = append(args, method)
	}
	var out []*store.OutboxSET
	err := s.do(ctx, "lease", func() error {
		rows, err := s.pool.Query(ctx, leaseQueries[i], args...)
		if err != nil {
			return fmt.Errorf("postgres: lease: %w", err)
		}
		if out, err = collectOutbox(rows); err != nil {
			return fmt.Errorf("postgres: lease: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *store.OutboxSET) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// nextDueQuery finds the earliest time a live SET becomes deliverable (through the
// expression index outbox_due), optionally for streams of method $1.
func nextDueQuery(byMethod bool) string {
	q := `SELECT greatest(o.next_attempt_at, o.lease_until) AS due FROM outbox o JOIN streams s ON s.id = o.stream_id
	WHERE NOT o.dead AND (s.status = '` + string(ssf.StatusEnabled) + `' OR o.control)`
	if byMethod {
		q += ` AND s.method = $1`
	}
	return q + ` ORDER BY due LIMIT 1`
}

var nextDueQueries = [2]string{nextDueQuery(false), nextDueQuery(true)}

// NextDue implements store.OutboxStore. When a SET is deliverable already, t is now.
func (s *Store) NextDue(ctx context.Context, method string, now time.Time) (time.Time, bool, error) {
	method = ssf.NormalizeDeliveryMethod(method)
	var due pgtype.Timestamptz
	found := false
	err := s.do(ctx, "next due", func() error {
		if !storable(method) {
			return nil
		}
		q, args := nextDueQueries[0], []any{}
		if method != "" {
			q, args = nextDueQueries[1], []any{method}
		}
		err := s.pool.QueryRow(ctx, q, args...).Scan(&due)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("postgres: next due: %w", err)
		}
		found = true
		return nil
	})
	if err != nil || !found {
		return time.Time{}, false, err
	}
	t := decTime(due)
	if t.Before(now) {
		t = now.UTC()
	}
	return t, true, nil
}

// Ack implements store.OutboxStore. The found jtis come back in the order given, each
// once.
func (s *Store) Ack(ctx context.Context, streamID string, jtis []string) ([]string, error) {
	jtis = storableOnly(uniq.Strings(jtis))
	if len(jtis) == 0 || !storable(streamID) {
		return nil, s.noop(ctx, "ack")
	}
	var deleted []string
	err := s.do(ctx, "ack", func() error {
		rows, err := s.pool.Query(ctx, `DELETE FROM outbox WHERE stream_id = $1 AND jti = ANY($2) AND NOT dead RETURNING jti`, streamID, jtis)
		if err != nil {
			return fmt.Errorf("postgres: ack on stream %q: %w", streamID, err)
		}
		if deleted, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("postgres: ack on stream %q: %w", streamID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	found := make([]string, 0, len(deleted))
	for _, j := range jtis {
		if contains(deleted, j) {
			found = append(found, j)
		}
	}
	return found, nil
}

// storable reports whether every key can be stored (and so found): PostgreSQL text holds
// neither NUL bytes nor invalid UTF-8. A lookup by a key that cannot be stored finds
// nothing instead of failing.
func storable(keys ...string) bool {
	var e enc
	for _, k := range keys {
		e.text("", k)
	}
	return e.err == nil
}

// storableOnly returns the keys of v that can be stored.
func storableOnly(v []string) []string {
	out := v[:0:0]
	for _, k := range v {
		if storable(k) {
			out = append(out, k)
		}
	}
	return out
}

// outboxResult reads the answer of a conditional outbox update: how many rows it
// changed, whether the SET exists and whether it is a dead letter.
type outboxResult struct {
	changed int64
	exists  bool
	dead    bool
}

// conditional runs update (a statement that changes the SET ($1 stream, $2 jti) when
// its condition holds, with RETURNING 1) and reports, from the same snapshot, whether
// the SET existed.
func (s *Store) conditional(ctx context.Context, update string, args ...any) (outboxResult, error) {
	var r outboxResult
	var dead *bool
	err := s.pool.QueryRow(ctx, `WITH u AS (`+update+`)
		SELECT (SELECT count(*) FROM u), (SELECT dead FROM outbox WHERE stream_id = $1 AND jti = $2)`, args...).Scan(&r.changed, &dead)
	if dead != nil {
		r.exists, r.dead = true, *dead
	}
	return r, err
}

// Retry implements store.OutboxStore. owner is required.
func (s *Store) Retry(ctx context.Context, streamID, jti, owner string, next time.Time, lastErr string) error {
	if owner == "" {
		return errors.New("postgres: retry: owner is required")
	}
	var e enc
	nextTS := e.ts("next attempt", next)
	e.text("last error", lastErr)
	e.text("owner", owner)
	if e.err != nil {
		return fmt.Errorf("postgres: retry SET %q on stream %q: %w", jti, streamID, e.err)
	}
	return s.do(ctx, "retry", func() error {
		if !storable(streamID, jti) {
			return fmt.Errorf("postgres: retry SET %q on stream %q: %w", jti, streamID, store.ErrNotFound)
		}
		r, err := s.conditional(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $4, next_attempt_at = $5,
			lease_owner = '', lease_until = '-infinity' WHERE stream_id = $1 AND jti = $2 AND NOT dead AND lease_owner = $3 RETURNING 1`,
			streamID, jti, owner, lastErr, nextTS)
		switch {
		case err != nil:
			return fmt.Errorf("postgres: retry SET %q on stream %q: %w", jti, streamID, err)
		case r.changed > 0:
			return nil
		case !r.exists:
			return fmt.Errorf("postgres: retry SET %q on stream %q: %w", jti, streamID, store.ErrNotFound)
		}
		return fmt.Errorf("postgres: retry SET %q on stream %q: not leased to %q: %w", jti, streamID, owner, store.ErrLeaseLost)
	})
}

// Renew implements store.OutboxStore. owner is required. One statement.
func (s *Store) Renew(ctx context.Context, streamID string, jtis []string, owner string, until time.Time) ([]string, error) {
	if owner == "" {
		return nil, errors.New("postgres: renew: owner is required")
	}
	var e enc
	untilTS := e.ts("lease end", until)
	if e.err != nil {
		return nil, fmt.Errorf("postgres: renew on stream %q: %w", streamID, e.err)
	}
	jtis = storableOnly(uniq.Strings(jtis))
	if len(jtis) == 0 || !storable(streamID, owner) {
		return nil, s.noop(ctx, "renew")
	}
	var renewed []string
	err := s.do(ctx, "renew", func() error {
		rows, err := s.pool.Query(ctx, `UPDATE outbox SET lease_until = $4
			WHERE stream_id = $1 AND jti = ANY($2) AND NOT dead AND lease_owner = $3 RETURNING jti`, streamID, jtis, owner, untilTS)
		if err != nil {
			return fmt.Errorf("postgres: renew on stream %q: %w", streamID, err)
		}
		if renewed, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("postgres: renew on stream %q: %w", streamID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return inOrder(jtis, renewed), nil
}

// inOrder returns the elements of found in the order of given.
func inOrder(given, found []string) []string {
	out := make([]string, 0, len(found))
	for _, j := range given {
		if contains(found, j) {
			out = append(out, j)
		}
	}
	return out
}

// Release implements store.OutboxStore. owner is required. One transaction, which
// announces the stream when it released any SET.
func (s *Store) Release(ctx context.Context, streamID string, jtis []string, owner string) ([]string, error) {
	if owner == "" {
		return nil, errors.New("postgres: release: owner is required")
	}
	jtis = storableOnly(uniq.Strings(jtis))
	if len(jtis) == 0 || !storable(streamID, owner) {
		return nil, s.noop(ctx, "release")
	}
	var released []string
	err := s.tx(ctx, "release", func(tx pgx.Tx, ts *txState) error {
		rows, err := tx.Query(ctx, `UPDATE outbox SET lease_owner = '', lease_until = '-infinity'
			WHERE stream_id = $1 AND jti = ANY($2) AND NOT dead AND lease_owner = $3 RETURNING jti`, streamID, jtis, owner)
		if err != nil {
			return fmt.Errorf("postgres: release on stream %q: %w", streamID, err)
		}
		if released, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("postgres: release on stream %q: %w", streamID, err)
		}
		if len(released) > 0 {
			ts.announce(streamID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return inOrder(jtis, released), nil
}

// ReleaseOwner implements store.OutboxStore. owner is required. One transaction, which
// announces the streams of the released SETs. It scans the live outbox (no index names
// lease owners: it runs once per start).
func (s *Store) ReleaseOwner(ctx context.Context, owner string) (int, error) {
	if owner == "" {
		return 0, errors.New("postgres: release owner: owner is required")
	}
	if !storable(owner) {
		return 0, s.noop(ctx, "release owner")
	}
	n := 0
	err := s.tx(ctx, "release owner", func(tx pgx.Tx, ts *txState) error {
		rows, err := tx.Query(ctx, `UPDATE outbox SET lease_owner = '', lease_until = '-infinity'
			WHERE NOT dead AND lease_owner = $1 RETURNING stream_id`, owner)
		if err != nil {
			return fmt.Errorf("postgres: release the leases of %q: %w", owner, err)
		}
		streams, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("postgres: release the leases of %q: %w", owner, err)
		}
		n = len(streams)
		ts.announce(streams...)
		return nil
	})
	return n, err
}

// DeadLetter implements store.OutboxStore. at must not be zero. With owner empty, a SET
// that is a dead letter already stays as it is.
func (s *Store) DeadLetter(ctx context.Context, streamID, jti, owner, reason string, at time.Time) error {
	if at.IsZero() {
		return errors.New("postgres: dead letter: the time is required")
	}
	var e enc
	atTS := e.ts("dead letter time", at)
	e.text("reason", reason)
	e.text("owner", owner)
	if e.err != nil {
		return fmt.Errorf("postgres: dead letter SET %q on stream %q: %w", jti, streamID, e.err)
	}
	return s.do(ctx, "dead letter", func() error {
		if !storable(streamID, jti) {
			return fmt.Errorf("postgres: dead letter SET %q on stream %q: %w", jti, streamID, store.ErrNotFound)
		}
		r, err := s.conditional(ctx, `UPDATE outbox SET dead = true, dead_at = $4, dead_reason = $5, lease_owner = '', lease_until = '-infinity',
			attempts = attempts + CASE WHEN $3 = '' THEN 0 ELSE 1 END
			WHERE stream_id = $1 AND jti = $2 AND NOT dead AND ($3 = '' OR lease_owner = $3) RETURNING 1`,
			streamID, jti, owner, atTS, reason)
		switch {
		case err != nil:
			return fmt.Errorf("postgres: dead letter SET %q on stream %q: %w", jti, streamID, err)
		case r.changed > 0:
			return nil
		case !r.exists:
			return fmt.Errorf("postgres: dead letter SET %q on stream %q: %w", jti, streamID, store.ErrNotFound)
		case owner == "" && r.dead:
			return nil // a dead letter already
		}
		return fmt.Errorf("postgres: dead letter SET %q on stream %q: not leased to %q: %w", jti, streamID, owner, store.ErrLeaseLost)
	})
}

// limitArg is a LIMIT parameter: NULL (no limit) for limit <= 0.
func limitArg(limit int) *int64 {
	if limit <= 0 {
		return nil
	}
	l := int64(limit)
	return &l
}

// DeadLetters implements store.OutboxStore.
func (s *Store) DeadLetters(ctx context.Context, streamID string, limit int) ([]*store.OutboxSET, error) {
	var out []*store.OutboxSET
	err := s.do(ctx, "dead letters", func() error {
		if !storable(streamID) {
			return nil
		}
		rows, err := s.pool.Query(ctx, `SELECT `+outboxCols+` FROM outbox WHERE stream_id = $1 AND dead ORDER BY seq LIMIT $2`, streamID, limitArg(limit))
		if err != nil {
			return fmt.Errorf("postgres: dead letters of stream %q: %w", streamID, err)
		}
		if out, err = collectOutbox(rows); err != nil {
			return fmt.Errorf("postgres: dead letters of stream %q: %w", streamID, err)
		}
		return nil
	})
	return out, err
}

// Replay implements store.OutboxStore. Replayed SETs keep their Seq (their place in the
// delivery order) and LastError. When it replayed any, the stream is announced in the
// same transaction.
func (s *Store) Replay(ctx context.Context, streamID string, jtis []string) (int, error) {
	jtis = uniq.Strings(jtis)
	if !storable(streamID) {
		return 0, s.noop(ctx, "replay")
	}
	if len(jtis) > 0 {
		if jtis = storableOnly(jtis); len(jtis) == 0 {
			return 0, s.noop(ctx, "replay")
		}
	}
	q := `UPDATE outbox SET attempts = 0, next_attempt_at = '-infinity', dead = false, dead_at = '-infinity', dead_reason = '',
		lease_owner = '', lease_until = '-infinity' WHERE stream_id = $1 AND dead`
	args := []any{streamID}
	if len(jtis) > 0 {
		q += ` AND jti = ANY($2)`
		args = append(args, jtis)
	}
	var n int64
	err := s.tx(ctx, "replay", func(tx pgx.Tx, ts *txState) error {
		tag, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("postgres: replay on stream %q: %w", streamID, err)
		}
		if n = tag.RowsAffected(); n > 0 {
			ts.announce(streamID)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// CountOutbox implements store.OutboxStore.
func (s *Store) CountOutbox(ctx context.Context, streamID string, now time.Time) (store.OutboxCounts, error) {
	var e enc
	nowTS := e.ts("now", now)
	if e.err != nil {
		return store.OutboxCounts{}, fmt.Errorf("postgres: count outbox: %w", e.err)
	}
	var c store.OutboxCounts
	err := s.do(ctx, "count outbox", func() error {
		if !storable(streamID) {
			return nil
		}
		var pending, leased, dead int64
		err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE NOT dead), count(*) FILTER (WHERE NOT dead AND lease_until > $2),
			count(*) FILTER (WHERE dead) FROM outbox WHERE stream_id = $1`, streamID, nowTS).Scan(&pending, &leased, &dead)
		if err != nil {
			return fmt.Errorf("postgres: count outbox of stream %q: %w", streamID, err)
		}
		c = store.OutboxCounts{Pending: int(pending), Leased: int(leased), Dead: int(dead)}
		return nil
	})
	return c, err
}
