package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/internal/inboxorder"
	"github.com/sigshare/sigshare/store/internal/uniq"
)

const inboxCols = `rid, issuer, jti, stream_id, ack_stream, set_text, received_at, state, attempts, next_attempt_at,
	lease_owner, lease_until, last_error, done_at`

func scanInbox(row pgx.Row) (inboxorder.Record, error) {
	var s store.InboxSET
	var rid, attempts int64
	var received, next, leaseUntil, done pgtype.Timestamptz
	var state string
	if err := row.Scan(&rid, &s.Issuer, &s.JTI, &s.StreamID, &s.AckStream, &s.SET, &received, &state, &attempts, &next,
		&s.LeaseOwner, &leaseUntil, &s.LastError, &done); err != nil {
		return inboxorder.Record{}, err
	}
	s.State = store.InboxState(state)
	s.Attempts = int(attempts)
	s.ReceivedAt, s.NextAttemptAt, s.LeaseUntil, s.DoneAt = decTime(received), decTime(next), decTime(leaseUntil), decTime(done)
	return inboxorder.Record{RID: rid, SET: &s}, nil
}

// collectInbox reads records and orders them by ReceivedAt, then insertion.
func collectInbox(rows pgx.Rows) ([]*store.InboxSET, error) {
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (inboxorder.Record, error) { return scanInbox(row) })
	if err != nil {
		return nil, err
	}
	return inboxorder.Sort(recs), nil
}

// InboxAdd implements store.InboxStore. The record is stored as given except State,
// which is InboxPending; a caller may set LeaseOwner and LeaseUntil to add and lease the
// SET in one step. Of concurrent adds of one key (on any node), exactly one stores it;
// the others wait for its commit and return the stored record.
func (s *Store) InboxAdd(ctx context.Context, in *store.InboxSET) (*store.InboxSET, error) {
	if in == nil || in.JTI == "" {
		return nil, errors.New("postgres: inbox add: the SET and its JTI are required")
	}
	var e enc
	r := *in
	args := []any{
		e.text("Issuer", r.Issuer), e.text("JTI", r.JTI), e.text("StreamID", r.StreamID), e.text("AckStream", r.AckStream),
		e.text("SET", r.SET), e.ts("ReceivedAt", r.ReceivedAt), int64(r.Attempts), e.ts("NextAttemptAt", r.NextAttemptAt),
		e.text("LeaseOwner", r.LeaseOwner), e.ts("LeaseUntil", r.LeaseUntil), e.text("LastError", r.LastError), e.ts("DoneAt", r.DoneAt),
	}
	if e.err != nil {
		return nil, fmt.Errorf("postgres: inbox add (%q, %q): %w", r.Issuer, r.JTI, e.err)
	}
	var existing *store.InboxSET
	err := s.do(ctx, "inbox add", func() error {
		tag, err := s.pool.Exec(ctx, `INSERT INTO inbox (issuer, jti, stream_id, ack_stream, set_text, received_at, state, attempts,
			next_attempt_at, lease_owner, lease_until, last_error, done_at)
			VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $11, $12) ON CONFLICT (issuer, jti) DO NOTHING`, args...)
		if err != nil {
			return fmt.Errorf("postgres: inbox add (%q, %q): %w", r.Issuer, r.JTI, err)
		}
		if tag.RowsAffected() > 0 {
			return nil
		}
		// A duplicate. The insert waited for a concurrent adder's commit; this statement
		// takes a new snapshot and sees its record.
		rec, err := scanInbox(s.pool.QueryRow(ctx, `SELECT `+inboxCols+` FROM inbox WHERE issuer = $1 AND jti = $2`, r.Issuer, r.JTI))
		if errors.Is(err, pgx.ErrNoRows) {
			// Purged between the two statements: the window ended, so this is not a
			// duplicate any more. Say so instead of guessing.
			return fmt.Errorf("postgres: inbox add (%q, %q): the existing record was purged concurrently; add again", r.Issuer, r.JTI)
		}
		if err != nil {
			return fmt.Errorf("postgres: inbox add (%q, %q): read the existing record: %w", r.Issuer, r.JTI, err)
		}
		existing = rec.SET
		return nil
	})
	if err != nil {
		return nil, err
	}
	return existing, nil
}

// inboxLeaseQuery leases up to $4 pending, due, unleased SETs, oldest first, to $1 until
// $2 ($3 is now); see leaseQuery for the locking.
var inboxLeaseQuery = `WITH picked AS MATERIALIZED (
	SELECT rid FROM inbox WHERE state = 'pending' AND next_attempt_at <= $3 AND lease_until <= $3
	ORDER BY received_at, rid LIMIT $4 FOR UPDATE SKIP LOCKED)
UPDATE inbox i SET lease_owner = $1, lease_until = $2 FROM picked WHERE i.rid = picked.rid
RETURNING ` + qualified("i", inboxCols)

// InboxLease implements store.InboxStore, with one statement that locks its candidates
// FOR UPDATE SKIP LOCKED (see Lease). Ties in ReceivedAt go in the order the SETs were
// added.
func (s *Store) InboxLease(ctx context.Context, owner string, limit int, d time.Duration, now time.Time) ([]*store.InboxSET, error) {
	switch {
	case owner == "":
		return nil, errors.New("postgres: inbox lease: owner is required")
	case limit < 1:
		return nil, fmt.Errorf("postgres: inbox lease: limit must be at least 1, got %d", limit)
	case d <= 0:
		return nil, fmt.Errorf("postgres: inbox lease: duration must be positive, got %v", d)
	}
	var e enc
	nowTS, until := e.ts("now", now), e.until("lease end", now, d)
	e.text("owner", owner)
	if e.err != nil {
		return nil, fmt.Errorf("postgres: inbox lease: %w", e.err)
	}
	var out []*store.InboxSET
	err := s.do(ctx, "inbox lease", func() error {
		rows, err := s.pool.Query(ctx, inboxLeaseQuery, owner, until, nowTS, limit)
		if err != nil {
			return fmt.Errorf("postgres: inbox lease: %w", err)
		}
		if out, err = collectInbox(rows); err != nil {
			return fmt.Errorf("postgres: inbox lease: %w", err)
		}
		return nil
	})
	return out, err
}

// finishInbox moves the pending record (issuer, jti) to its next state with set (a SET
// clause; parameters from $4 on are args), when owner is empty or holds the lease. When
// ack is set and the record has an AckStream, its jti joins that stream's pending
// acknowledgements in the same statement. A record that is not pending is ErrLeaseLost.
func (s *Store) finishInbox(ctx context.Context, name, issuer, jti, owner string, ack bool, set string, args ...any) error {
	q := `WITH u AS (UPDATE inbox SET ` + set + `
		WHERE issuer = $1 AND jti = $2 AND state = 'pending' AND ($3 = '' OR lease_owner = $3) RETURNING ack_stream, jti)`
	if ack {
		q += `, a AS (INSERT INTO pending_acks (rid, stream, jti)
			SELECT nextval('pending_acks_rid'), ack_stream, jti FROM u WHERE ack_stream <> '' ON CONFLICT (stream, jti) DO NOTHING)`
	}
	q += ` SELECT (SELECT count(*) FROM u), (SELECT state FROM inbox WHERE issuer = $1 AND jti = $2)`
	if !storable(owner) {
		return fmt.Errorf("postgres: %s (%q, %q): owner: %w", name, issuer, jti, ErrInvalidText)
	}
	return s.do(ctx, name, func() error {
		if !storable(issuer, jti) {
			return fmt.Errorf("postgres: %s (%q, %q): %w", name, issuer, jti, store.ErrNotFound)
		}
		var changed int64
		var state *string
		err := s.pool.QueryRow(ctx, q, append([]any{issuer, jti, owner}, args...)...).Scan(&changed, &state)
		switch {
		case err != nil:
			return fmt.Errorf("postgres: %s (%q, %q): %w", name, issuer, jti, err)
		case changed > 0:
			return nil
		case state == nil:
			return fmt.Errorf("postgres: %s (%q, %q): %w", name, issuer, jti, store.ErrNotFound)
		case *state != string(store.InboxPending):
			return fmt.Errorf("postgres: %s (%q, %q): the SET is %s already: %w", name, issuer, jti, *state, store.ErrLeaseLost)
		}
		return fmt.Errorf("postgres: %s (%q, %q): not leased to %q: %w", name, issuer, jti, owner, store.ErrLeaseLost)
	})
}

// InboxDone implements store.InboxStore. It drops the SET text. A SET that is not
// pending (processed or dead already) fails with ErrLeaseLost, whatever the owner.
func (s *Store) InboxDone(ctx context.Context, issuer, jti, owner string, at time.Time) error {
	var e enc
	atTS := e.ts("done time", at)
	if e.err != nil {
		return fmt.Errorf("postgres: inbox done (%q, %q): %w", issuer, jti, e.err)
	}
	return s.finishInbox(ctx, "inbox done", issuer, jti, owner, true,
		`state = 'processed', set_text = '', done_at = $4, lease_owner = '', lease_until = '-infinity'`, atTS)
}

// InboxRetry implements store.InboxStore.
func (s *Store) InboxRetry(ctx context.Context, issuer, jti, owner string, next time.Time, lastErr string) error {
	var e enc
	nextTS := e.ts("next attempt", next)
	e.text("last error", lastErr)
	if e.err != nil {
		return fmt.Errorf("postgres: inbox retry (%q, %q): %w", issuer, jti, e.err)
	}
	return s.finishInbox(ctx, "inbox retry", issuer, jti, owner, false,
		`attempts = attempts + 1, last_error = $4, next_attempt_at = $5, lease_owner = '', lease_until = '-infinity'`, lastErr, nextTS)
}

// InboxDead implements store.InboxStore. The reason becomes LastError; DoneAt is at.
func (s *Store) InboxDead(ctx context.Context, issuer, jti, owner, reason string, at time.Time) error {
	var e enc
	atTS := e.ts("dead time", at)
	e.text("reason", reason)
	if e.err != nil {
		return fmt.Errorf("postgres: inbox dead (%q, %q): %w", issuer, jti, e.err)
	}
	return s.finishInbox(ctx, "inbox dead", issuer, jti, owner, true,
		`state = 'dead', last_error = $4, done_at = $5, lease_owner = '', lease_until = '-infinity'`, reason, atTS)
}

// InboxDeadLetters implements store.InboxStore: oldest ReceivedAt first.
func (s *Store) InboxDeadLetters(ctx context.Context, limit int) ([]*store.InboxSET, error) {
	var out []*store.InboxSET
	err := s.do(ctx, "inbox dead letters", func() error {
		rows, err := s.pool.Query(ctx, `SELECT `+inboxCols+` FROM inbox WHERE state = 'dead' ORDER BY received_at, rid LIMIT $1`, limitArg(limit))
		if err != nil {
			return fmt.Errorf("postgres: inbox dead letters: %w", err)
		}
		if out, err = collectInbox(rows); err != nil {
			return fmt.Errorf("postgres: inbox dead letters: %w", err)
		}
		return nil
	})
	return out, err
}

// InboxReplay implements store.InboxStore: Attempts, NextAttemptAt and DoneAt are reset;
// LastError is kept.
func (s *Store) InboxReplay(ctx context.Context, keys []store.InboxKey) (int, error) {
	q := `UPDATE inbox SET state = 'pending', attempts = 0, next_attempt_at = '-infinity', done_at = '-infinity',
		lease_owner = '', lease_until = '-infinity' WHERE state = 'dead'`
	var args []any
	if len(keys) > 0 {
		var issuers, jtis []string
		for _, k := range keys {
			if storable(k.Issuer, k.JTI) {
				issuers, jtis = append(issuers, k.Issuer), append(jtis, k.JTI)
			}
		}
		if len(jtis) == 0 {
			return 0, s.noop(ctx, "inbox replay")
		}
		q += ` AND (issuer, jti) IN (SELECT * FROM unnest($1::text[], $2::text[]))`
		args = []any{issuers, jtis}
	}
	var n int64
	err := s.do(ctx, "inbox replay", func() error {
		tag, err := s.pool.Exec(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("postgres: inbox replay: %w", err)
		}
		n = tag.RowsAffected()
		return nil
	})
	return int(n), err
}

// PurgeInbox implements store.InboxStore.
func (s *Store) PurgeInbox(ctx context.Context, before time.Time) (int, error) {
	var e enc
	beforeTS := e.ts("purge time", before)
	if e.err != nil {
		return 0, fmt.Errorf("postgres: purge inbox: %w", e.err)
	}
	var n int64
	err := s.do(ctx, "purge inbox", func() error {
		tag, err := s.pool.Exec(ctx, `DELETE FROM inbox WHERE state = 'processed' AND done_at < $1`, beforeTS)
		if err != nil {
			return fmt.Errorf("postgres: purge inbox: %w", err)
		}
		n = tag.RowsAffected()
		return nil
	})
	return int(n), err
}

// AddPendingAcks implements store.InboxStore. The jtis keep the order given: the rids
// drawn for them are paired, sorted, with the jtis in that order. Rows are inserted in
// jti order, so that concurrent calls with common jtis wait instead of deadlocking.
func (s *Store) AddPendingAcks(ctx context.Context, stream string, jtis []string) error {
	jtis = uniq.Strings(jtis)
	var e enc
	e.text("stream", stream)
	e.texts("jti", jtis)
	if e.err != nil {
		return fmt.Errorf("postgres: add pending acks: %w", e.err)
	}
	if len(jtis) == 0 {
		return s.noop(ctx, "add pending acks")
	}
	return s.do(ctx, "add pending acks", func() error {
		_, err := s.pool.Exec(ctx, `WITH u AS MATERIALIZED (
				SELECT * FROM unnest($2::text[]) WITH ORDINALITY AS u (jti, ord)
			), n AS MATERIALIZED (
				SELECT row_number() OVER (ORDER BY v) AS ord, v AS rid
				FROM (SELECT nextval('pending_acks_rid') AS v FROM generate_series(1, cardinality($2::text[]))) AS g
			)
			INSERT INTO pending_acks (rid, stream, jti) SELECT n.rid, $1, u.jti FROM u JOIN n USING (ord) ORDER BY u.jti
			ON CONFLICT (stream, jti) DO NOTHING`, stream, jtis)
		if err != nil {
			return fmt.Errorf("postgres: add pending acks on stream %q: %w", stream, err)
		}
		return nil
	})
}

// PendingAcks implements store.InboxStore: the jtis come back in the order they were
// first added.
func (s *Store) PendingAcks(ctx context.Context, stream string, limit int) ([]string, error) {
	var out []string
	err := s.do(ctx, "pending acks", func() error {
		if !storable(stream) {
			return nil
		}
		rows, err := s.pool.Query(ctx, `SELECT jti FROM pending_acks WHERE stream = $1 ORDER BY rid LIMIT $2`, stream, limitArg(limit))
		if err != nil {
			return fmt.Errorf("postgres: pending acks of stream %q: %w", stream, err)
		}
		if out, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("postgres: pending acks of stream %q: %w", stream, err)
		}
		return nil
	})
	return out, err
}

// RemovePendingAcks implements store.InboxStore.
func (s *Store) RemovePendingAcks(ctx context.Context, stream string, jtis []string) error {
	jtis = storableOnly(uniq.Strings(jtis))
	if len(jtis) == 0 || !storable(stream) {
		return s.noop(ctx, "remove pending acks")
	}
	return s.do(ctx, "remove pending acks", func() error {
		if _, err := s.pool.Exec(ctx, `DELETE FROM pending_acks WHERE stream = $1 AND jti = ANY($2)`, stream, jtis); err != nil {
			return fmt.Errorf("postgres: remove pending acks on stream %q: %w", stream, err)
		}
		return nil
	})
}
