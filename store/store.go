package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
)

// Store is everything sigshare persists: the transmitter's streams, subjects and outbox,
// and the receiver's inbox. A backend is complete when storetest.Run passes against it.
//
// All methods are safe for concurrent use. Every write method is durable when it returns
// nil: a crash after that loses nothing it wrote. A write that returns the context's error
// (its ctx ended while it waited) may or may not have been applied; callers that must know
// repeat it (Enqueue again with the same jtis: ErrExists then means the SETs are stored).
type Store interface {
	StreamStore
	SubjectStore
	OutboxStore
	InboxStore

	// Ping reports whether the store answers; servers use it for readiness.
	Ping(ctx context.Context) error
	// Close releases the store. Calls after Close fail.
	Close() error
}

// Errors every backend returns (wrapped, so test with errors.Is).
var (
	// ErrNotFound: no record with that key.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a record with that key already exists.
	ErrExists = errors.New("store: already exists")
	// ErrConflict: the record changed since it was read (Stream.Revision mismatch).
	ErrConflict = errors.New("store: revision conflict")
	// ErrLeaseLost: the lease named by the caller is no longer held by that owner (it expired
	// and another worker took the record over).
	ErrLeaseLost = errors.New("store: lease lost")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
)

// ---------------------------------------------------------------------------------------
// Streams (transmitter)

// Stream is one SSF event stream as the transmitter keeps it (SSF §8.1.1).
type Stream struct {
	// ID is the stream_id. Set by the caller before CreateStream.
	ID string
	// ClientID names the receiver client that owns the stream; only that client may read or
	// change it (SSF §8, SSF-AUTH-3).
	ClientID string
	// Config is the stream configuration as served to the receiver, including the delivery
	// (and its authorization_header, a secret). Config.StreamID equals ID.
	Config ssf.StreamConfig
	// Status and StatusReason are the stream status (SSF §8.1.2).
	Status       ssf.Status
	StatusReason string

	CreatedAt time.Time
	UpdatedAt time.Time
	// LastActivityAt is the last eligible receiver activity (SSF §8.1.1 inactivity_timeout):
	// see TouchStream.
	LastActivityAt time.Time
	// LastVerificationAt is when the receiver last requested verification
	// (min_verification_interval, SSF §8.1.4.2).
	LastVerificationAt time.Time

	// Profile is the shape in which the transmitter writes the stream's SETs (vendors §5.2
	// item 1): set.ProfileFinal (the zero value), set.ProfileHybrid or set.ProfileLegacy.
	// Backends store it by name (see ParseProfile).
	Profile set.Profile

	// Revision is maintained by the store: 1 after CreateStream, incremented by every
	// UpdateStream. UpdateStream fails with ErrConflict when the caller's Revision is not the
	// stored one (optimistic concurrency between nodes).
	Revision int64
}

// ParseProfile returns the SET profile named name: "final", "hybrid" or "legacy" (the
// names set.Profile.String writes, in any case); "" is set.ProfileFinal. Backends store
// Stream.Profile under these names.
func ParseProfile(name string) (set.Profile, error) {
	switch strings.ToLower(name) {
	case "", "final":
		return set.ProfileFinal, nil
	case "hybrid":
		return set.ProfileHybrid, nil
	case "legacy":
		return set.ProfileLegacy, nil
	}
	return 0, fmt.Errorf("store: unknown SET profile %q: want final, hybrid or legacy", name)
}

// StreamFilter selects streams for ListStreams. The zero value selects every stream.
type StreamFilter struct {
	// ClientID, when not empty, selects the streams of that client only.
	ClientID string
}

// StreamChange is what UpdateStream does besides replacing the stream record, in the same
// transaction.
type StreamChange struct {
	// Enqueue is appended to the outbox (as by Enqueue), e.g. the stream-updated SET that
	// announces a status change, or a verification SET.
	Enqueue []*OutboxSET
	// PurgeOutbox deletes the stream's pending and leased SETs that are not Control SETs,
	// and keeps its dead letters. Used when a stream becomes disabled: a disabled stream
	// does not hold events for later (SSF §8.1.2.1).
	PurgeOutbox bool
}

// StreamStore keeps streams.
type StreamStore interface {
	// CreateStream stores a new stream with Revision 1 (s.Revision is set on return).
	// ErrExists if the ID is taken.
	CreateStream(ctx context.Context, s *Stream) error
	// GetStream returns the stream with that ID, or ErrNotFound.
	GetStream(ctx context.Context, id string) (*Stream, error)
	// ListStreams returns the streams the filter selects, ordered by CreatedAt then ID.
	ListStreams(ctx context.Context, f StreamFilter) ([]*Stream, error)
	// UpdateStream replaces the stored stream s.ID when s.Revision equals the stored
	// revision (else ErrConflict; ErrNotFound if absent), increments s.Revision, and applies
	// change in the same transaction (PurgeOutbox before Enqueue, so the change's own SETs
	// are never purged). LastActivityAt never moves backwards: the later of the stored and
	// the given value is kept and written back to s (TouchStream does not bump Revision).
	UpdateStream(ctx context.Context, s *Stream, change StreamChange) error
	// DeleteStream deletes the stream, its subjects and all of its outbox SETs (dead
	// letters included) in one transaction. ErrNotFound if absent.
	DeleteStream(ctx context.Context, id string) error
	// TouchStream records receiver activity: LastActivityAt becomes at if that is later.
	// It does not change Revision or StreamsVersion. ErrNotFound if absent.
	TouchStream(ctx context.Context, id string, at time.Time) error
	// StreamsVersion returns a number that changes with every successful CreateStream,
	// UpdateStream, DeleteStream and PutSubject (not with TouchStream or outbox writes):
	// callers that cache streams and subjects read it before reading them, and may use
	// what they read for as long as StreamsVersion returns the same number. Every such
	// write that returned before StreamsVersion was called is reflected, on any node that
	// shares the store: the number then differs from every number read before that
	// write. Within one Store value the number only increases.
	StreamsVersion(ctx context.Context) (int64, error)
}

// ---------------------------------------------------------------------------------------
// Subjects (transmitter)

// Subject is one subject a receiver added to or removed from a stream (SSF §8.1.3).
type Subject struct {
	StreamID string
	// Subject is the subject identifier in canonical JSON (subject.Canonical); it is the key
	// together with StreamID.
	Subject json.RawMessage
	// Included is true after add-subject and false after remove-subject. Whether a stream
	// receives events about subjects it never added or removed is the transmitter's
	// default_subjects (SSF §7.1).
	Included bool
	// Verified is the add-subject request's "verified" flag (true when omitted).
	Verified  bool
	UpdatedAt time.Time
}

// SubjectStore keeps the subjects of streams.
type SubjectStore interface {
	// PutSubject inserts or replaces the subject (StreamID, Subject). ErrNotFound if the
	// stream does not exist.
	PutSubject(ctx context.Context, s *Subject) error
	// GetSubject returns the subject with exactly that canonical JSON, or ErrNotFound.
	GetSubject(ctx context.Context, streamID string, canonical []byte) (*Subject, error)
	// ListSubjects returns the stream's subjects ordered by UpdatedAt then Subject.
	ListSubjects(ctx context.Context, streamID string) ([]*Subject, error)
}

// ---------------------------------------------------------------------------------------
// Outbox (transmitter)

// OutboxSET is one signed SET waiting for delivery on one stream. It is removed only when
// the receiver confirmed it: a 2xx answer to a push (RFC 8935 §2.2) or an acknowledgement
// in a poll request (RFC 8936 §2.4); or parked as a dead letter, visible and replayable.
type OutboxSET struct {
	StreamID string
	// JTI is the SET's jti, unique within the stream (SET-4); the key with StreamID.
	JTI string
	// Seq is assigned by Enqueue: increasing in the order SETs were accepted, across all
	// streams. Lease returns SETs in Seq order.
	Seq int64
	// SET is the compact serialization as delivered.
	SET string
	// EventType is the SET's event type URI (for operators and metrics).
	EventType string
	// Control marks a SET that is delivered even while the stream is paused or disabled:
	// the stream-updated SET that announces that the stream stops (SSF §8.1.5: sent before
	// stopping).
	Control bool

	CreatedAt time.Time
	// Attempts counts failed delivery attempts: Retry increments it, and so does
	// DeadLetter by the lease owner (the failed attempt that made the owner give up).
	Attempts int
	// NextAttemptAt is when the SET may be leased again (zero: at once).
	NextAttemptAt time.Time
	// LeaseOwner and LeaseUntil name the worker that holds the SET; both zero when free.
	LeaseOwner string
	LeaseUntil time.Time
	// LastError describes the last failed attempt (for operators; never a secret).
	LastError string
	// DeadAt is set when the SET was parked as a dead letter; DeadReason says why.
	DeadAt     time.Time
	DeadReason string
}

// LeaseRequest selects SETs to lease.
type LeaseRequest struct {
	// Owner identifies the worker (and node) taking the lease. Required.
	Owner string
	// StreamID, when not empty, leases from that stream only (the poll endpoint);
	// otherwise from every stream whose delivery method is Method (the push engine).
	StreamID string
	// Method selects streams by delivery method (ssf.DeliveryPush or ssf.DeliveryPoll).
	// Empty: any method.
	Method string
	// Limit is the most SETs to lease (at least 1).
	Limit int
	// Duration is how long the lease holds. After it, the SET may be leased again (the
	// holder is presumed dead or slow: at-least-once delivery).
	Duration time.Duration
	// Now is the current time.
	Now time.Time
}

// OutboxCounts counts a stream's outbox.
type OutboxCounts struct {
	// Pending counts SETs not dead (leased ones included).
	Pending int `json:"pending"`
	// Leased counts pending SETs under an unexpired lease at the time given to CountOutbox.
	Leased int `json:"leased"`
	// Dead counts dead letters.
	Dead int `json:"dead"`
}

// OutboxStore is the transmitter's durable queue of signed SETs.
type OutboxStore interface {
	// Enqueue appends SETs (to any streams) in one transaction and assigns their Seq.
	// ErrExists if a (StreamID, JTI) is already present (nothing is written then);
	// ErrNotFound if a stream does not exist.
	Enqueue(ctx context.Context, sets []*OutboxSET) error
	// Lease takes up to req.Limit deliverable SETs in Seq order and leases them to
	// req.Owner until req.Now+req.Duration. Deliverable: not dead; NextAttemptAt <= Now;
	// no unexpired lease; and the stream's status is enabled, or the SET is a Control SET.
	// Two concurrent Lease calls (on any node) never return the same SET while its lease
	// holds.
	Lease(ctx context.Context, req LeaseRequest) ([]*OutboxSET, error)
	// NextDue returns the earliest time at which a SET of a stream with that delivery
	// method (empty: any) becomes deliverable by Lease, considering NextAttemptAt and lease
	// expiry (but not future status changes); ok is false when there is none.
	NextDue(ctx context.Context, method string, now time.Time) (t time.Time, ok bool, err error)
	// Ack deletes the stream's SETs with those jtis (delivered, or acknowledged by the
	// receiver), whoever holds them, and returns the jtis it found. Unknown jtis are
	// ignored. Dead letters are not touched.
	Ack(ctx context.Context, streamID string, jtis []string) ([]string, error)
	// Retry records a failed attempt by owner: Attempts+1, LastError, NextAttemptAt=next,
	// lease released. ErrLeaseLost if owner no longer holds the lease; ErrNotFound if absent.
	//
	// Here and below, owner "holds" a SET when the SET is not dead and its LeaseOwner is
	// owner, even when LeaseUntil has passed: until another worker leases the SET, its
	// lease is still the owner's to use, renew, release or give up.
	Retry(ctx context.Context, streamID, jti, owner string, next time.Time, lastErr string) error
	// Renew extends the leases owner holds on the stream's SETs named by jtis: their
	// LeaseUntil becomes until. It returns the jtis it renewed, in the order given, each
	// once; a jti owner does not hold (leased by another worker, released, acknowledged,
	// dead, unknown) is left alone and omitted, which is how the caller learns that it lost
	// the SET. It counts no attempt and changes nothing else.
	Renew(ctx context.Context, streamID string, jtis []string, owner string, until time.Time) ([]string, error)
	// Release gives back the leases owner holds on the stream's SETs named by jtis without
	// counting an attempt: LeaseOwner and LeaseUntil become zero and nothing else changes,
	// so the SETs are deliverable again at once (at their NextAttemptAt), in their Seq
	// order. It returns the jtis it released, in the order given, each once; a jti owner
	// does not hold is left alone and omitted (a lost lease needs no release, so this is
	// not an error). Subscribers of the stream are signalled.
	Release(ctx context.Context, streamID string, jtis []string, owner string) ([]string, error)
	// ReleaseOwner releases, as Release does, every SET owner holds on any stream, and
	// returns how many. A node whose lease owner name is stable across restarts calls it
	// at start to reclaim the leases of its previous run (which crashed, or stopped before
	// it could release them).
	ReleaseOwner(ctx context.Context, owner string) (int, error)
	// DeadLetter parks the SET: it is no longer leased and stays visible until replayed or
	// its stream is deleted. With owner not empty, ErrLeaseLost if owner no longer holds
	// the lease, and Attempts+1: the owner parks the SET after a failed attempt (rejected
	// for good, or the last one allowed), which counts like every failed attempt. With
	// owner empty the SET is parked whoever holds it and Attempts is unchanged (an
	// operator's or the receiver's decision, e.g. an RFC 8936 setErrs report, or a SET
	// given up without a new attempt).
	DeadLetter(ctx context.Context, streamID, jti, owner, reason string, at time.Time) error
	// DeadLetters lists the stream's dead letters in Seq order (limit <= 0: all).
	DeadLetters(ctx context.Context, streamID string, limit int) ([]*OutboxSET, error)
	// Replay makes dead letters deliverable again (Attempts 0, NextAttemptAt zero, dead
	// fields cleared) and returns how many it replayed. No jtis: every dead letter of the
	// stream.
	Replay(ctx context.Context, streamID string, jtis []string) (int, error)
	// CountOutbox counts the stream's outbox at time now.
	CountOutbox(ctx context.Context, streamID string, now time.Time) (OutboxCounts, error)
	// Subscribe returns a channel that receives a value soon after SETs become deliverable
	// through this store: Enqueue, Replay, Release, ReleaseOwner, UpdateStream with Enqueue
	// or with a status that became enabled. Values are coalesced (a buffered channel of one). streamID empty:
	// every stream. A backend shared by several nodes (PostgreSQL) also signals writes made
	// by other nodes. cancel releases the subscription and closes nothing.
	Subscribe(streamID string) (ch <-chan struct{}, cancel func())
}

// ---------------------------------------------------------------------------------------
// Inbox (receiver)

// InboxState is the processing state of a received SET.
type InboxState string

// Inbox states.
const (
	// InboxPending: received and verified, waiting for (or between) handler attempts.
	InboxPending InboxState = "pending"
	// InboxProcessed: the handler succeeded. The record stays (for de-duplication) until
	// PurgeInbox removes it.
	InboxProcessed InboxState = "processed"
	// InboxDead: the handler failed permanently; kept for an operator to see and replay.
	InboxDead InboxState = "dead"
)

// InboxSET is one SET a receiver accepted. (Issuer, JTI) is the key: a SET seen twice is a
// duplicate (RFC 8935 §2, RFC 8936 §2.4, SEC-7).
type InboxSET struct {
	Issuer string
	JTI    string
	// StreamID is the receiver's name for the stream the SET arrived on (may be empty).
	StreamID string
	// AckStream, when not empty, names the poll stream to which the SET's jti must be
	// acknowledged once the SET is processed or dead: InboxDone and InboxDead add the jti
	// to that stream's pending acknowledgements in the same transaction.
	AckStream string
	// SET is the compact SET as received.
	SET        string
	ReceivedAt time.Time

	State         InboxState
	Attempts      int
	NextAttemptAt time.Time
	LeaseOwner    string
	LeaseUntil    time.Time
	LastError     string
	// DoneAt is when the SET was processed or parked dead.
	DoneAt time.Time
}

// InboxStore is the receiver's durable record of received SETs: the de-duplication
// window, the queue of SETs waiting for their handler, and the poll acknowledgements not
// yet sent.
type InboxStore interface {
	// InboxAdd stores a newly received SET in state InboxPending. When (Issuer, JTI) is
	// already present it stores nothing and returns the existing record (a duplicate);
	// otherwise it returns nil.
	InboxAdd(ctx context.Context, s *InboxSET) (existing *InboxSET, err error)
	// InboxLease leases up to limit pending SETs with NextAttemptAt <= now and no
	// unexpired lease, oldest ReceivedAt first, to owner until now+d.
	InboxLease(ctx context.Context, owner string, limit int, d time.Duration, now time.Time) ([]*InboxSET, error)
	// InboxDone marks the SET processed (its SET text may be dropped) and, when it has an
	// AckStream, adds its jti to that stream's pending acknowledgements.
	// ErrLeaseLost if owner no longer holds the lease (owner empty: whoever holds it).
	InboxDone(ctx context.Context, issuer, jti, owner string, at time.Time) error
	// InboxRetry records a failed handler attempt: Attempts+1, LastError, NextAttemptAt,
	// lease released. ErrLeaseLost as for InboxDone.
	InboxRetry(ctx context.Context, issuer, jti, owner string, next time.Time, lastErr string) error
	// InboxDead parks the SET as dead (kept with its SET text; the reason becomes its
	// LastError) and, when it has an
	// AckStream, adds its jti to that stream's pending acknowledgements.
	InboxDead(ctx context.Context, issuer, jti, owner, reason string, at time.Time) error
	// InboxDeadLetters lists dead SETs, oldest first (limit <= 0: all).
	InboxDeadLetters(ctx context.Context, limit int) ([]*InboxSET, error)
	// InboxReplay makes dead SETs pending again (Attempts 0). No keys: all dead SETs.
	InboxReplay(ctx context.Context, keys []InboxKey) (int, error)
	// PurgeInbox deletes processed records whose DoneAt is before t (the end of the
	// de-duplication window) and returns how many it deleted.
	PurgeInbox(ctx context.Context, before time.Time) (int, error)

	// AddPendingAcks records jtis to acknowledge on a poll stream (idempotent).
	AddPendingAcks(ctx context.Context, stream string, jtis []string) error
	// PendingAcks returns up to limit jtis to acknowledge on the stream (limit <= 0: all).
	PendingAcks(ctx context.Context, stream string, limit int) ([]string, error)
	// RemovePendingAcks forgets jtis the transmitter has been told about.
	RemovePendingAcks(ctx context.Context, stream string, jtis []string) error
}

// InboxKey names one inbox record.
type InboxKey struct {
	Issuer string
	JTI    string
}
