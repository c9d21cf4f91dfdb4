package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/internal/inboxorder"
	"github.com/sigshare/sigshare/store/internal/uniq"
)

const inboxCols = `rid, issuer, jti, stream_id, ack_stream, set_text, received_at, state, attempts, next_attempt_at,
	lease_owner, lease_until, last_error, done_at`

func scanInbox(sc scanner) (inboxorder.Record, error) {
	var s store.InboxSET
	var rid, received, next, leaseUntil, done int64
	var state string
	if err := sc.Scan(&rid, &s.Issuer, &s.JTI, &s.StreamID, &s.AckStream, &s.SET, &received, &state, &s.Attempts, &next,
		&s.LeaseOwner, &leaseUntil, &s.LastError, &done); err != nil {
		return inboxorder.Record{}, err
	}
	s.State = store.InboxState(state)
	s.ReceivedAt, s.NextAttemptAt, s.LeaseUntil, s.DoneAt = decTime(received), decTime(next), decTime(leaseUntil), decTime(done)
	return inboxorder.Record{RID: rid, SET: &s}, nil
}

func collectInbox(rows *sql.Rows) ([]inboxorder.Record, error) {
	defer rows.Close()
	var out []inboxorder.Record
	for rows.Next() {
		r, err := scanInbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// InboxAdd implements store.InboxStore. The record is stored as given except State,
// which is InboxPending; a caller may set LeaseOwner and LeaseUntil to add and lease the
// SET in one step.
func (s *Store) InboxAdd(ctx context.Context, in *store.InboxSET) (*store.InboxSET, error) {
	if in == nil || in.JTI == "" {
		return nil, errors.New("sqlite: inbox add: the SET and its JTI are required")
	}
	var te timeEnc
	r := *in
	received, next, leaseUntil, done := te.ns(r.ReceivedAt), te.ns(r.NextAttemptAt), te.ns(r.LeaseUntil), te.ns(r.DoneAt)
	if te.err != nil {
		return nil, te.err
	}
	var existing *store.InboxSET
	err := s.write(ctx, "inbox add", func(x *execer) error {
		existing = nil
		n, err := x.affected(`INSERT INTO inbox (issuer, jti, stream_id, ack_stream, set_text, received_at, state, attempts,
			next_attempt_at, lease_owner, lease_until, last_error, done_at)
			VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?) ON CONFLICT (issuer, jti) DO NOTHING`,
			r.Issuer, r.JTI, r.StreamID, r.AckStream, r.SET, received, r.Attempts, next, r.LeaseOwner, leaseUntil, r.LastError, done)
		if err != nil {
			return fmt.Errorf("sqlite: inbox add (%q, %q): %w", r.Issuer, r.JTI, err)
		}
		if n > 0 {
			return nil
		}
		rec, err := scanInbox(x.queryRow(`SELECT `+inboxCols+` FROM inbox WHERE issuer = ? AND jti = ?`, r.Issuer, r.JTI))
		if err != nil {
			return fmt.Errorf("sqlite: inbox add (%q, %q): read the existing record: %w", r.Issuer, r.JTI, err)
		}
		existing = rec.SET
		return nil
	})
	if err != nil {
		return nil, err
	}
	return existing, nil
}

// InboxLease implements store.InboxStore. Ties in ReceivedAt go in the order the SETs
// were added.
func (s *Store) InboxLease(ctx context.Context, owner string, limit int, d time.Duration, now time.Time) ([]*store.InboxSET, error) {
	switch {
	case owner == "":
		return nil, errors.New("sqlite: inbox lease: owner is required")
	case limit < 1:
		return nil, fmt.Errorf("sqlite: inbox lease: limit must be at least 1, got %d", limit)
	case d <= 0:
		return nil, fmt.Errorf("sqlite: inbox lease: duration must be positive, got %v", d)
	}
	var te timeEnc
	nowNS, until := te.ns(now), te.plusNS(now, d)
	if te.err != nil {
		return nil, te.err
	}
	var recs []inboxorder.Record
	err := s.write(ctx, "inbox lease", func(x *execer) error {
		rows, err := x.query(`UPDATE inbox SET lease_owner = ?1, lease_until = ?2 WHERE rid IN (
			SELECT rid FROM inbox WHERE state = 'pending' AND next_attempt_at <= ?3 AND lease_until <= ?3
			ORDER BY received_at, rid LIMIT ?4) RETURNING `+inboxCols, owner, until, nowNS, limit)
		if err != nil {
			return fmt.Errorf("sqlite: inbox lease: %w", err)
		}
		if recs, err = collectInbox(rows); err != nil {
			return fmt.Errorf("sqlite: inbox lease: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return inboxorder.Sort(recs), nil
}

// finishInbox moves the pending record (issuer, jti) to its next state with update
// (parameters ?1 = rid, then args), after the owner check: owner empty, or owner holds
// the lease. A record that is not pending is ErrLeaseLost. When ack is set and the record
// has an AckStream, its jti joins that stream's pending acknowledgements.
func (s *Store) finishInbox(ctx context.Context, name, issuer, jti, owner string, ack bool, update string, args ...any) error {
	return s.write(ctx, name, func(x *execer) error {
		var rid int64
		var state, holder, ackStream string
		err := x.queryRow(`SELECT rid, state, lease_owner, ack_stream FROM inbox WHERE issuer = ? AND jti = ?`, issuer, jti).
			Scan(&rid, &state, &holder, &ackStream)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: %s (%q, %q): %w", name, issuer, jti, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: %s (%q, %q): %w", name, issuer, jti, err)
		}
		if state != string(store.InboxPending) {
			return fmt.Errorf("sqlite: %s (%q, %q): the SET is %s already: %w", name, issuer, jti, state, store.ErrLeaseLost)
		}
		if owner != "" && holder != owner {
			return fmt.Errorf("sqlite: %s (%q, %q): not leased to %q: %w", name, issuer, jti, owner, store.ErrLeaseLost)
		}
		if _, err := x.exec(update, append([]any{rid}, args...)...); err != nil {
			return fmt.Errorf("sqlite: %s (%q, %q): %w", name, issuer, jti, err)
		}
		if ack && ackStream != "" {
			if err := addAcks(x, ackStream, []string{jti}); err != nil {
				return fmt.Errorf("sqlite: %s (%q, %q): %w", name, issuer, jti, err)
			}
		}
		return nil
	})
}

// InboxDone implements store.InboxStore. It drops the SET text. A SET that is not
// pending (processed or dead already) fails with ErrLeaseLost, whatever the owner.
func (s *Store) InboxDone(ctx context.Context, issuer, jti, owner string, at time.Time) error {
	var te timeEnc
	atNS := te.ns(at)
	if te.err != nil {
		return te.err
	}
	return s.finishInbox(ctx, "inbox done", issuer, jti, owner, true,
		`UPDATE inbox SET state = 'processed', set_text = '', done_at = ?2, lease_owner = '', lease_until = ?3 WHERE rid = ?1`,
		atNS, int64(zeroTime))
}

// InboxRetry implements store.InboxStore.
func (s *Store) InboxRetry(ctx context.Context, issuer, jti, owner string, next time.Time, lastErr string) error {
	var te timeEnc
	nextNS := te.ns(next)
	if te.err != nil {
		return te.err
	}
	return s.finishInbox(ctx, "inbox retry", issuer, jti, owner, false,
		`UPDATE inbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3, lease_owner = '', lease_until = ?4 WHERE rid = ?1`,
		lastErr, nextNS, int64(zeroTime))
}

// InboxDead implements store.InboxStore. The reason becomes LastError; DoneAt is at.
func (s *Store) InboxDead(ctx context.Context, issuer, jti, owner, reason string, at time.Time) error {
	var te timeEnc
	atNS := te.ns(at)
	if te.err != nil {
		return te.err
	}
	return s.finishInbox(ctx, "inbox dead", issuer, jti, owner, true,
		`UPDATE inbox SET state = 'dead', last_error = ?2, done_at = ?3, lease_owner = '', lease_until = ?4 WHERE rid = ?1`,
		reason, atNS, int64(zeroTime))
}

// InboxDeadLetters implements store.InboxStore: oldest ReceivedAt first.
func (s *Store) InboxDeadLetters(ctx context.Context, limit int) ([]*store.InboxSET, error) {
	if limit <= 0 {
		limit = -1
	}
	var recs []inboxorder.Record
	err := s.read(ctx, "inbox dead letters", func(db readDB) error {
		rows, err := db.QueryContext(ctx, `SELECT `+inboxCols+` FROM inbox WHERE state = 'dead' ORDER BY received_at, rid LIMIT ?`, limit)
		if err != nil {
			return fmt.Errorf("sqlite: inbox dead letters: %w", err)
		}
		if recs, err = collectInbox(rows); err != nil {
			return fmt.Errorf("sqlite: inbox dead letters: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return inboxorder.Sort(recs), nil
}

// InboxReplay implements store.InboxStore: Attempts, NextAttemptAt and DoneAt are reset;
// LastError is kept.
func (s *Store) InboxReplay(ctx context.Context, keys []store.InboxKey) (int, error) {
	keys = slices.Clone(keys)
	const set = `UPDATE inbox SET state = 'pending', attempts = 0, next_attempt_at = ?1, done_at = ?1,
		lease_owner = '', lease_until = ?1 WHERE state = 'dead'`
	var total int64
	err := s.write(ctx, "inbox replay", func(x *execer) error {
		total = 0
		if len(keys) == 0 {
			n, err := x.affected(set, int64(zeroTime))
			if err != nil {
				return fmt.Errorf("sqlite: inbox replay: %w", err)
			}
			total = n
		}
		for _, k := range keys {
			n, err := x.affected(set+` AND issuer = ?2 AND jti = ?3`, int64(zeroTime), k.Issuer, k.JTI)
			if err != nil {
				return fmt.Errorf("sqlite: inbox replay (%q, %q): %w", k.Issuer, k.JTI, err)
			}
			total += n
		}
		return nil
	})
	return int(total), err
}

// PurgeInbox implements store.InboxStore.
func (s *Store) PurgeInbox(ctx context.Context, before time.Time) (int, error) {
	var te timeEnc
	beforeNS := te.ns(before)
	if te.err != nil {
		return 0, te.err
	}
	var n int64
	err := s.write(ctx, "purge inbox", func(x *execer) error {
		var err error
		n, err = x.affected(`DELETE FROM inbox WHERE state = 'processed' AND done_at < ?`, beforeNS)
		if err != nil {
			return fmt.Errorf("sqlite: purge inbox: %w", err)
		}
		return nil
	})
	return int(n), err
}

func addAcks(x *execer, stream string, jtis []string) error {
	for _, j := range jtis {
		if _, err := x.exec(`INSERT INTO pending_acks (stream, jti) VALUES (?, ?) ON CONFLICT (stream, jti) DO NOTHING`, stream, j); err != nil {
			return fmt.Errorf("add pending ack %q on stream %q: %w", j, stream, err)
		}
	}
	return nil
}

// AddPendingAcks implements store.InboxStore.
func (s *Store) AddPendingAcks(ctx context.Context, stream string, jtis []string) error {
	jtis = uniq.Strings(jtis)
	if len(jtis) == 0 {
		return s.noop(ctx, "add pending acks")
	}
	return s.write(ctx, "add pending acks", func(x *execer) error {
		if err := addAcks(x, stream, jtis); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		return nil
	})
}

// PendingAcks implements store.InboxStore: the jtis come back in the order they were
// first added.
func (s *Store) PendingAcks(ctx context.Context, stream string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = -1
	}
	var out []string
	err := s.read(ctx, "pending acks", func(db readDB) error {
		rows, err := db.QueryContext(ctx, `SELECT jti FROM pending_acks WHERE stream = ? ORDER BY rid LIMIT ?`, stream, limit)
		if err != nil {
			return fmt.Errorf("sqlite: pending acks of stream %q: %w", stream, err)
		}
		defer rows.Close()
		for rows.Next() {
			var j string
			if err := rows.Scan(&j); err != nil {
				return fmt.Errorf("sqlite: pending acks of stream %q: %w", stream, err)
			}
			out = append(out, j)
		}
		return rows.Err()
	})
	return out, err
}

// RemovePendingAcks implements store.InboxStore.
func (s *Store) RemovePendingAcks(ctx context.Context, stream string, jtis []string) error {
	jtis = uniq.Strings(jtis)
	if len(jtis) == 0 {
		return s.noop(ctx, "remove pending acks")
	}
	return s.write(ctx, "remove pending acks", func(x *execer) error {
		for _, j := range jtis {
			if _, err := x.exec(`DELETE FROM pending_acks WHERE stream = ? AND jti = ?`, stream, j); err != nil {
				return fmt.Errorf("sqlite: remove pending ack %q on stream %q: %w", j, stream, err)
			}
		}
		return nil
	})
}
