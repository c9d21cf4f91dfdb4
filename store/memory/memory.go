package memory

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/internal/notify"
	"github.com/sigshare/sigshare/store/internal/uniq"
)

// Store is the in-memory store.Store. The zero value is not usable: call New.
type Store struct {
	mu     sync.Mutex
	closed bool

	streams  map[string]*store.Stream
	subjects map[string]map[string]*store.Subject

	// outbox holds the SETs by key; order holds the same entries in Seq order. Removed
	// entries are dropped lazily (removeOutbox compacts); order[:head] holds removed
	// entries only, so scans start at head.
	outbox  map[outboxKey]*outboxEntry
	order   []*outboxEntry
	head    int
	removed int
	seq     int64

	inbox    map[store.InboxKey]*inboxEntry
	inboxSeq int64
	acks     map[string]*ackList

	// version is StreamsVersion.
	version int64

	notify notify.Notifier
}

type outboxKey struct{ stream, jti string }

type outboxEntry struct {
	set     store.OutboxSET
	removed bool
}

func (e *outboxEntry) dead() bool { return !e.set.DeadAt.IsZero() }

type inboxEntry struct {
	rec store.InboxSET
	n   int64 // insertion order, the tie-breaker after ReceivedAt
}

type ackList struct {
	jtis []string
	set  map[string]struct{}
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		streams:  make(map[string]*store.Stream),
		subjects: make(map[string]map[string]*store.Subject),
		outbox:   make(map[outboxKey]*outboxEntry),
		inbox:    make(map[store.InboxKey]*inboxEntry),
		acks:     make(map[string]*ackList),
	}
}

// lock checks ctx, takes the mutex and fails with ErrClosed after Close. On success the
// caller must unlock.
func (m *Store) lock(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: %s: %w", op, err)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return fmt.Errorf("memory: %s: %w", op, store.ErrClosed)
	}
	return nil
}

// ---------------------------------------------------------------------------------------
// Copies and times

// utc returns t as a UTC instant without monotonic reading; the zero time stays zero.
// Durable backends return times this way, so the memory store does too.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func copyStream(s *store.Stream) *store.Stream {
	c := *s
	c.Config = *s.Config.Clone()
	c.CreatedAt = utc(s.CreatedAt)
	c.UpdatedAt = utc(s.UpdatedAt)
	c.LastActivityAt = utc(s.LastActivityAt)
	c.LastVerificationAt = utc(s.LastVerificationAt)
	return &c
}

func copySubject(s *store.Subject) *store.Subject {
	c := *s
	c.Subject = bytes.Clone(s.Subject)
	c.UpdatedAt = utc(s.UpdatedAt)
	return &c
}

func normOutbox(s store.OutboxSET) store.OutboxSET {
	s.CreatedAt = utc(s.CreatedAt)
	s.NextAttemptAt = utc(s.NextAttemptAt)
	s.LeaseUntil = utc(s.LeaseUntil)
	s.DeadAt = utc(s.DeadAt)
	return s
}

func outCopy(s store.OutboxSET) *store.OutboxSET { return &s }

func normInbox(s store.InboxSET) store.InboxSET {
	s.ReceivedAt = utc(s.ReceivedAt)
	s.NextAttemptAt = utc(s.NextAttemptAt)
	s.LeaseUntil = utc(s.LeaseUntil)
	s.DoneAt = utc(s.DoneAt)
	return s
}

func inCopy(s store.InboxSET) *store.InboxSET { return &s }

// ---------------------------------------------------------------------------------------
// Streams

// CreateStream implements store.StreamStore.
func (m *Store) CreateStream(ctx context.Context, s *store.Stream) error {
	if s == nil || s.ID == "" {
		return errors.New("memory: create stream: the stream and its ID are required")
	}
	if _, err := store.ParseProfile(s.Profile.String()); err != nil {
		return fmt.Errorf("memory: create stream %q: %w", s.ID, err)
	}
	if err := m.lock(ctx, "create stream"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := m.streams[s.ID]; ok {
		return fmt.Errorf("memory: create stream %q: %w", s.ID, store.ErrExists)
	}
	c := copyStream(s)
	c.Revision = 1
	m.streams[s.ID] = c
	m.version++
	s.Revision = 1
	return nil
}

// GetStream implements store.StreamStore.
func (m *Store) GetStream(ctx context.Context, id string) (*store.Stream, error) {
	if err := m.lock(ctx, "get stream"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	s, ok := m.streams[id]
	if !ok {
		return nil, fmt.Errorf("memory: get stream %q: %w", id, store.ErrNotFound)
	}
	return copyStream(s), nil
}

// ListStreams implements store.StreamStore.
func (m *Store) ListStreams(ctx context.Context, f store.StreamFilter) ([]*store.Stream, error) {
	if err := m.lock(ctx, "list streams"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []*store.Stream
	for _, s := range m.streams {
		if f.ClientID != "" && s.ClientID != f.ClientID {
			continue
		}
		out = append(out, copyStream(s))
	}
	slices.SortFunc(out, func(a, b *store.Stream) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// UpdateStream implements store.StreamStore. PurgeOutbox is applied before Enqueue, so
// the SETs the change enqueues are never purged by it. LastActivityAt never moves
// backwards: the stored value is the later of the stored and the given one (a
// TouchStream between the caller's read and its update is kept).
func (m *Store) UpdateStream(ctx context.Context, s *store.Stream, change store.StreamChange) error {
	if s == nil || s.ID == "" {
		return errors.New("memory: update stream: the stream and its ID are required")
	}
	if _, err := store.ParseProfile(s.Profile.String()); err != nil {
		return fmt.Errorf("memory: update stream %q: %w", s.ID, err)
	}
	if err := m.lock(ctx, "update stream"); err != nil {
		return err
	}
	cur, ok := m.streams[s.ID]
	if !ok {
		m.mu.Unlock()
		return fmt.Errorf("memory: update stream %q: %w", s.ID, store.ErrNotFound)
	}
	if cur.Revision != s.Revision {
		m.mu.Unlock()
		return fmt.Errorf("memory: update stream %q: revision %d given, %d stored: %w", s.ID, s.Revision, cur.Revision, store.ErrConflict)
	}
	var purge []*outboxEntry
	if change.PurgeOutbox {
		for _, e := range m.order[m.head:] {
			if !e.removed && e.set.StreamID == s.ID && !e.set.Control && !e.dead() {
				purge = append(purge, e)
			}
		}
	}
	purged := make(map[outboxKey]bool, len(purge))
	for _, e := range purge {
		purged[outboxKey{e.set.StreamID, e.set.JTI}] = true
	}
	if err := m.checkEnqueue(change.Enqueue, purged); err != nil {
		m.mu.Unlock()
		return fmt.Errorf("memory: update stream %q: %w", s.ID, err)
	}

	c := copyStream(s)
	c.Revision = cur.Revision + 1
	c.LastActivityAt = later(cur.LastActivityAt, c.LastActivityAt)
	becameEnabled := cur.Status != ssf.StatusEnabled && c.Status == ssf.StatusEnabled
	m.streams[s.ID] = c
	m.version++
	for _, e := range purge {
		m.removeOutbox(e)
	}
	streams := m.appendOutbox(change.Enqueue)
	s.Revision = c.Revision
	s.LastActivityAt = c.LastActivityAt
	m.mu.Unlock()

	if becameEnabled {
		streams[s.ID] = struct{}{}
	}
	m.notify.SignalSet(streams)
	return nil
}

// DeleteStream implements store.StreamStore.
func (m *Store) DeleteStream(ctx context.Context, id string) error {
	if err := m.lock(ctx, "delete stream"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := m.streams[id]; !ok {
		return fmt.Errorf("memory: delete stream %q: %w", id, store.ErrNotFound)
	}
	delete(m.streams, id)
	delete(m.subjects, id)
	m.version++
	// Collect first: removeOutbox may compact m.order.
	var gone []*outboxEntry
	for _, e := range m.order[m.head:] {
		if !e.removed && e.set.StreamID == id {
			gone = append(gone, e)
		}
	}
	for _, e := range gone {
		m.removeOutbox(e)
	}
	return nil
}

// TouchStream implements store.StreamStore.
func (m *Store) TouchStream(ctx context.Context, id string, at time.Time) error {
	if err := m.lock(ctx, "touch stream"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	s, ok := m.streams[id]
	if !ok {
		return fmt.Errorf("memory: touch stream %q: %w", id, store.ErrNotFound)
	}
	s.LastActivityAt = later(s.LastActivityAt, utc(at))
	return nil
}

// StreamsVersion implements store.StreamStore.
func (m *Store) StreamsVersion(ctx context.Context) (int64, error) {
	if err := m.lock(ctx, "streams version"); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	return m.version, nil
}

// ---------------------------------------------------------------------------------------
// Subjects

// PutSubject implements store.SubjectStore.
func (m *Store) PutSubject(ctx context.Context, s *store.Subject) error {
	if s == nil || s.StreamID == "" || len(s.Subject) == 0 {
		return errors.New("memory: put subject: the subject, its StreamID and its Subject are required")
	}
	if err := m.lock(ctx, "put subject"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if _, ok := m.streams[s.StreamID]; !ok {
		return fmt.Errorf("memory: put subject: stream %q: %w", s.StreamID, store.ErrNotFound)
	}
	subs := m.subjects[s.StreamID]
	if subs == nil {
		subs = make(map[string]*store.Subject)
		m.subjects[s.StreamID] = subs
	}
	subs[string(s.Subject)] = copySubject(s)
	m.version++
	return nil
}

// GetSubject implements store.SubjectStore.
func (m *Store) GetSubject(ctx context.Context, streamID string, canonical []byte) (*store.Subject, error) {
	if err := m.lock(ctx, "get subject"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	s, ok := m.subjects[streamID][string(canonical)]
	if !ok {
		return nil, fmt.Errorf("memory: get subject %s of stream %q: %w", canonical, streamID, store.ErrNotFound)
	}
	return copySubject(s), nil
}

// ListSubjects implements store.SubjectStore. A stream that does not exist has no
// subjects (no error).
func (m *Store) ListSubjects(ctx context.Context, streamID string) ([]*store.Subject, error) {
	if err := m.lock(ctx, "list subjects"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []*store.Subject
	for _, s := range m.subjects[streamID] {
		out = append(out, copySubject(s))
	}
	slices.SortFunc(out, func(a, b *store.Subject) int {
		if c := a.UpdatedAt.Compare(b.UpdatedAt); c != 0 {
			return c
		}
		return bytes.Compare(a.Subject, b.Subject)
	})
	return out, nil
}

// ---------------------------------------------------------------------------------------
// Outbox

// checkEnqueue checks a batch for Enqueue: every entry names an existing stream and a
// (StreamID, JTI) that is neither stored (unless in purged) nor repeated in the batch.
func (m *Store) checkEnqueue(sets []*store.OutboxSET, purged map[outboxKey]bool) error {
	seen := make(map[outboxKey]bool, len(sets))
	for i, s := range sets {
		if s == nil || s.StreamID == "" || s.JTI == "" {
			return fmt.Errorf("enqueue: entry %d: the SET, its StreamID and its JTI are required", i)
		}
		if _, ok := m.streams[s.StreamID]; !ok {
			return fmt.Errorf("enqueue: SET %q: stream %q: %w", s.JTI, s.StreamID, store.ErrNotFound)
		}
		k := outboxKey{s.StreamID, s.JTI}
		if _, ok := m.outbox[k]; (ok && !purged[k]) || seen[k] {
			return fmt.Errorf("enqueue: SET %q on stream %q: %w", s.JTI, s.StreamID, store.ErrExists)
		}
		seen[k] = true
	}
	return nil
}

// appendOutbox stores a checked batch, assigns Seq (also on the caller's records) and
// returns the streams it wrote to.
func (m *Store) appendOutbox(sets []*store.OutboxSET) map[string]struct{} {
	streams := make(map[string]struct{})
	for _, s := range sets {
		m.seq++
		e := &outboxEntry{set: normOutbox(*s)}
		e.set.Seq = m.seq
		m.outbox[outboxKey{s.StreamID, s.JTI}] = e
		m.order = append(m.order, e)
		s.Seq = m.seq
		streams[s.StreamID] = struct{}{}
	}
	return streams
}

func (m *Store) removeOutbox(e *outboxEntry) {
	e.removed = true
	delete(m.outbox, outboxKey{e.set.StreamID, e.set.JTI})
	m.removed++
	for m.head < len(m.order) && m.order[m.head].removed {
		m.head++
	}
	if m.removed > 64 && m.removed > len(m.order)/2 {
		live := m.order[:0]
		for _, e := range m.order {
			if !e.removed {
				live = append(live, e)
			}
		}
		clear(m.order[len(live):])
		m.order = live
		m.removed, m.head = 0, 0
	}
}

// Enqueue implements store.OutboxStore.
func (m *Store) Enqueue(ctx context.Context, sets []*store.OutboxSET) error {
	if err := m.lock(ctx, "enqueue"); err != nil {
		return err
	}
	if err := m.checkEnqueue(sets, nil); err != nil {
		m.mu.Unlock()
		return fmt.Errorf("memory: %w", err)
	}
	streams := m.appendOutbox(sets)
	m.mu.Unlock()
	m.notify.SignalSet(streams)
	return nil
}

// deliverable reports whether the stream status lets e be delivered and whether the
// stream's delivery method is method ("" matches any).
func (m *Store) eligible(e *outboxEntry, method string) bool {
	st, ok := m.streams[e.set.StreamID]
	if !ok {
		return false
	}
	if method != "" && st.Config.EffectiveDeliveryMethod() != method {
		return false
	}
	return st.Status == ssf.StatusEnabled || e.set.Control
}

func checkLease(req store.LeaseRequest) error {
	switch {
	case req.Owner == "":
		return errors.New("memory: lease: Owner is required")
	case req.Limit < 1:
		return fmt.Errorf("memory: lease: Limit must be at least 1, got %d", req.Limit)
	case req.Duration <= 0:
		return fmt.Errorf("memory: lease: Duration must be positive, got %v", req.Duration)
	}
	return nil
}

// Lease implements store.OutboxStore.
func (m *Store) Lease(ctx context.Context, req store.LeaseRequest) ([]*store.OutboxSET, error) {
	if err := checkLease(req); err != nil {
		return nil, err
	}
	if err := m.lock(ctx, "lease"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	now := utc(req.Now)
	until := utc(req.Now.Add(req.Duration))
	method := ssf.NormalizeDeliveryMethod(req.Method)
	var out []*store.OutboxSET
	for _, e := range m.order[m.head:] {
		if len(out) == req.Limit {
			break
		}
		if e.removed || e.dead() || (req.StreamID != "" && e.set.StreamID != req.StreamID) ||
			e.set.NextAttemptAt.After(now) || e.set.LeaseUntil.After(now) || !m.eligible(e, method) {
			continue
		}
		e.set.LeaseOwner = req.Owner
		e.set.LeaseUntil = until
		out = append(out, outCopy(e.set))
	}
	return out, nil
}

// NextDue implements store.OutboxStore. When a SET is deliverable already, t is now.
func (m *Store) NextDue(ctx context.Context, method string, now time.Time) (time.Time, bool, error) {
	if err := m.lock(ctx, "next due"); err != nil {
		return time.Time{}, false, err
	}
	defer m.mu.Unlock()
	method = ssf.NormalizeDeliveryMethod(method)
	var due time.Time
	found := false
	for _, e := range m.order[m.head:] {
		if e.removed || e.dead() || !m.eligible(e, method) {
			continue
		}
		t := later(e.set.NextAttemptAt, e.set.LeaseUntil)
		if !found || t.Before(due) {
			due, found = t, true
		}
	}
	if !found {
		return time.Time{}, false, nil
	}
	return later(due, utc(now)), true, nil
}

// Ack implements store.OutboxStore. The found jtis come back in the order given, each
// once.
func (m *Store) Ack(ctx context.Context, streamID string, jtis []string) ([]string, error) {
	if err := m.lock(ctx, "ack"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var found []string
	for _, jti := range jtis {
		e, ok := m.outbox[outboxKey{streamID, jti}]
		if !ok || e.dead() {
			continue
		}
		m.removeOutbox(e)
		found = append(found, jti)
	}
	return found, nil
}

// Retry implements store.OutboxStore. owner is required.
func (m *Store) Retry(ctx context.Context, streamID, jti, owner string, next time.Time, lastErr string) error {
	if owner == "" {
		return errors.New("memory: retry: owner is required")
	}
	if err := m.lock(ctx, "retry"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	e, ok := m.outbox[outboxKey{streamID, jti}]
	if !ok {
		return fmt.Errorf("memory: retry SET %q on stream %q: %w", jti, streamID, store.ErrNotFound)
	}
	if e.dead() || e.set.LeaseOwner != owner {
		return fmt.Errorf("memory: retry SET %q on stream %q: not leased to %q: %w", jti, streamID, owner, store.ErrLeaseLost)
	}
	e.set.Attempts++
	e.set.LastError = lastErr
	e.set.NextAttemptAt = utc(next)
	e.set.LeaseOwner, e.set.LeaseUntil = "", time.Time{}
	return nil
}

// Renew implements store.OutboxStore. owner is required.
func (m *Store) Renew(ctx context.Context, streamID string, jtis []string, owner string, until time.Time) ([]string, error) {
	if owner == "" {
		return nil, errors.New("memory: renew: owner is required")
	}
	if err := m.lock(ctx, "renew"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []string
	for _, jti := range uniq.Strings(jtis) {
		e, ok := m.outbox[outboxKey{streamID, jti}]
		if !ok || e.dead() || e.set.LeaseOwner != owner {
			continue
		}
		e.set.LeaseUntil = utc(until)
		out = append(out, jti)
	}
	return out, nil
}

// Release implements store.OutboxStore. owner is required.
func (m *Store) Release(ctx context.Context, streamID string, jtis []string, owner string) ([]string, error) {
	if owner == "" {
		return nil, errors.New("memory: release: owner is required")
	}
	if err := m.lock(ctx, "release"); err != nil {
		return nil, err
	}
	var out []string
	for _, jti := range uniq.Strings(jtis) {
		e, ok := m.outbox[outboxKey{streamID, jti}]
		if !ok || e.dead() || e.set.LeaseOwner != owner {
			continue
		}
		e.set.LeaseOwner, e.set.LeaseUntil = "", time.Time{}
		out = append(out, jti)
	}
	m.mu.Unlock()
	if len(out) > 0 {
		m.notify.Signal(streamID)
	}
	return out, nil
}

// ReleaseOwner implements store.OutboxStore. owner is required.
func (m *Store) ReleaseOwner(ctx context.Context, owner string) (int, error) {
	if owner == "" {
		return 0, errors.New("memory: release owner: owner is required")
	}
	if err := m.lock(ctx, "release owner"); err != nil {
		return 0, err
	}
	streams := map[string]struct{}{}
	n := 0
	for _, e := range m.order[m.head:] {
		if e.removed || e.dead() || e.set.LeaseOwner != owner {
			continue
		}
		e.set.LeaseOwner, e.set.LeaseUntil = "", time.Time{}
		streams[e.set.StreamID] = struct{}{}
		n++
	}
	m.mu.Unlock()
	m.notify.SignalSet(streams)
	return n, nil
}

// DeadLetter implements store.OutboxStore. at must not be zero. With owner empty, a SET
// that is a dead letter already stays as it is.
func (m *Store) DeadLetter(ctx context.Context, streamID, jti, owner, reason string, at time.Time) error {
	if at.IsZero() {
		return errors.New("memory: dead letter: the time is required")
	}
	if err := m.lock(ctx, "dead letter"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	e, ok := m.outbox[outboxKey{streamID, jti}]
	if !ok {
		return fmt.Errorf("memory: dead letter SET %q on stream %q: %w", jti, streamID, store.ErrNotFound)
	}
	if owner != "" && (e.dead() || e.set.LeaseOwner != owner) {
		return fmt.Errorf("memory: dead letter SET %q on stream %q: not leased to %q: %w", jti, streamID, owner, store.ErrLeaseLost)
	}
	if e.dead() {
		return nil
	}
	if owner != "" {
		e.set.Attempts++ // the failed attempt after which the owner gives up
	}
	e.set.DeadAt = utc(at)
	e.set.DeadReason = reason
	e.set.LeaseOwner, e.set.LeaseUntil = "", time.Time{}
	return nil
}

// DeadLetters implements store.OutboxStore.
func (m *Store) DeadLetters(ctx context.Context, streamID string, limit int) ([]*store.OutboxSET, error) {
	if err := m.lock(ctx, "dead letters"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []*store.OutboxSET
	for _, e := range m.order[m.head:] {
		if limit > 0 && len(out) == limit {
			break
		}
		if !e.removed && e.dead() && e.set.StreamID == streamID {
			out = append(out, outCopy(e.set))
		}
	}
	return out, nil
}

// Replay implements store.OutboxStore. Replayed SETs keep their Seq (their place in the
// delivery order) and LastError.
func (m *Store) Replay(ctx context.Context, streamID string, jtis []string) (int, error) {
	if err := m.lock(ctx, "replay"); err != nil {
		return 0, err
	}
	var only map[string]bool
	if len(jtis) > 0 {
		only = make(map[string]bool, len(jtis))
		for _, j := range jtis {
			only[j] = true
		}
	}
	n := 0
	for _, e := range m.order[m.head:] {
		if e.removed || !e.dead() || e.set.StreamID != streamID || (only != nil && !only[e.set.JTI]) {
			continue
		}
		e.set.Attempts = 0
		e.set.NextAttemptAt = time.Time{}
		e.set.DeadAt, e.set.DeadReason = time.Time{}, ""
		e.set.LeaseOwner, e.set.LeaseUntil = "", time.Time{}
		n++
	}
	m.mu.Unlock()
	if n > 0 {
		m.notify.Signal(streamID)
	}
	return n, nil
}

// CountOutbox implements store.OutboxStore.
func (m *Store) CountOutbox(ctx context.Context, streamID string, now time.Time) (store.OutboxCounts, error) {
	if err := m.lock(ctx, "count outbox"); err != nil {
		return store.OutboxCounts{}, err
	}
	defer m.mu.Unlock()
	var c store.OutboxCounts
	for _, e := range m.order[m.head:] {
		if e.removed || e.set.StreamID != streamID {
			continue
		}
		switch {
		case e.dead():
			c.Dead++
		case e.set.LeaseUntil.After(now):
			c.Pending++
			c.Leased++
		default:
			c.Pending++
		}
	}
	return c, nil
}

// Subscribe implements store.OutboxStore. Writes signal their subscribers before they
// return. Close signals every subscription once; a subscription made after Close starts
// signalled.
func (m *Store) Subscribe(streamID string) (<-chan struct{}, func()) {
	return m.notify.Subscribe(streamID)
}

// ---------------------------------------------------------------------------------------
// Inbox

// InboxAdd implements store.InboxStore. The record is stored as given except State,
// which is InboxPending; a caller may set LeaseOwner and LeaseUntil to add and lease the
// SET in one step.
func (m *Store) InboxAdd(ctx context.Context, s *store.InboxSET) (*store.InboxSET, error) {
	if s == nil || s.JTI == "" {
		return nil, errors.New("memory: inbox add: the SET and its JTI are required")
	}
	if err := m.lock(ctx, "inbox add"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	k := store.InboxKey{Issuer: s.Issuer, JTI: s.JTI}
	if e, ok := m.inbox[k]; ok {
		return inCopy(e.rec), nil
	}
	m.inboxSeq++
	e := &inboxEntry{rec: normInbox(*s), n: m.inboxSeq}
	e.rec.State = store.InboxPending
	m.inbox[k] = e
	return nil, nil
}

func inboxOrder(a, b *inboxEntry) int {
	if c := a.rec.ReceivedAt.Compare(b.rec.ReceivedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.n, b.n)
}

// InboxLease implements store.InboxStore. Ties in ReceivedAt go in the order the SETs
// were added.
func (m *Store) InboxLease(ctx context.Context, owner string, limit int, d time.Duration, now time.Time) ([]*store.InboxSET, error) {
	switch {
	case owner == "":
		return nil, errors.New("memory: inbox lease: owner is required")
	case limit < 1:
		return nil, fmt.Errorf("memory: inbox lease: limit must be at least 1, got %d", limit)
	case d <= 0:
		return nil, fmt.Errorf("memory: inbox lease: duration must be positive, got %v", d)
	}
	if err := m.lock(ctx, "inbox lease"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var cand []*inboxEntry
	for _, e := range m.inbox {
		if e.rec.State == store.InboxPending && !e.rec.NextAttemptAt.After(now) && !e.rec.LeaseUntil.After(now) {
			cand = append(cand, e)
		}
	}
	slices.SortFunc(cand, inboxOrder)
	if len(cand) > limit {
		cand = cand[:limit]
	}
	until := utc(now.Add(d))
	out := make([]*store.InboxSET, 0, len(cand))
	for _, e := range cand {
		e.rec.LeaseOwner = owner
		e.rec.LeaseUntil = until
		out = append(out, inCopy(e.rec))
	}
	return out, nil
}

// held returns the pending record (issuer, jti) when owner may finish it: owner empty,
// or owner holds its lease.
func (m *Store) held(op, issuer, jti, owner string) (*inboxEntry, error) {
	e, ok := m.inbox[store.InboxKey{Issuer: issuer, JTI: jti}]
	if !ok {
		return nil, fmt.Errorf("memory: %s (%q, %q): %w", op, issuer, jti, store.ErrNotFound)
	}
	if e.rec.State != store.InboxPending {
		return nil, fmt.Errorf("memory: %s (%q, %q): the SET is %s already: %w", op, issuer, jti, e.rec.State, store.ErrLeaseLost)
	}
	if owner != "" && e.rec.LeaseOwner != owner {
		return nil, fmt.Errorf("memory: %s (%q, %q): not leased to %q: %w", op, issuer, jti, owner, store.ErrLeaseLost)
	}
	return e, nil
}

func (m *Store) addAcks(stream string, jtis []string) {
	l := m.acks[stream]
	if l == nil {
		l = &ackList{set: make(map[string]struct{})}
		m.acks[stream] = l
	}
	for _, j := range jtis {
		if _, ok := l.set[j]; !ok {
			l.set[j] = struct{}{}
			l.jtis = append(l.jtis, j)
		}
	}
}

// InboxDone implements store.InboxStore. It drops the SET text. A SET that is not
// pending (processed or dead already) fails with ErrLeaseLost, whatever the owner.
func (m *Store) InboxDone(ctx context.Context, issuer, jti, owner string, at time.Time) error {
	if err := m.lock(ctx, "inbox done"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	e, err := m.held("inbox done", issuer, jti, owner)
	if err != nil {
		return err
	}
	e.rec.State = store.InboxProcessed
	e.rec.SET = ""
	e.rec.DoneAt = utc(at)
	e.rec.LeaseOwner, e.rec.LeaseUntil = "", time.Time{}
	if e.rec.AckStream != "" {
		m.addAcks(e.rec.AckStream, []string{jti})
	}
	return nil
}

// InboxRetry implements store.InboxStore.
func (m *Store) InboxRetry(ctx context.Context, issuer, jti, owner string, next time.Time, lastErr string) error {
	if err := m.lock(ctx, "inbox retry"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	e, err := m.held("inbox retry", issuer, jti, owner)
	if err != nil {
		return err
	}
	e.rec.Attempts++
	e.rec.LastError = lastErr
	e.rec.NextAttemptAt = utc(next)
	e.rec.LeaseOwner, e.rec.LeaseUntil = "", time.Time{}
	return nil
}

// InboxDead implements store.InboxStore. The reason becomes LastError; DoneAt is at.
func (m *Store) InboxDead(ctx context.Context, issuer, jti, owner, reason string, at time.Time) error {
	if err := m.lock(ctx, "inbox dead"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	e, err := m.held("inbox dead", issuer, jti, owner)
	if err != nil {
		return err
	}
	e.rec.State = store.InboxDead
	e.rec.LastError = reason
	e.rec.DoneAt = utc(at)
	e.rec.LeaseOwner, e.rec.LeaseUntil = "", time.Time{}
	if e.rec.AckStream != "" {
		m.addAcks(e.rec.AckStream, []string{jti})
	}
	return nil
}

// InboxDeadLetters implements store.InboxStore: oldest ReceivedAt first.
func (m *Store) InboxDeadLetters(ctx context.Context, limit int) ([]*store.InboxSET, error) {
	if err := m.lock(ctx, "inbox dead letters"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var dead []*inboxEntry
	for _, e := range m.inbox {
		if e.rec.State == store.InboxDead {
			dead = append(dead, e)
		}
	}
	slices.SortFunc(dead, inboxOrder)
	if limit > 0 && len(dead) > limit {
		dead = dead[:limit]
	}
	out := make([]*store.InboxSET, 0, len(dead))
	for _, e := range dead {
		out = append(out, inCopy(e.rec))
	}
	return out, nil
}

// InboxReplay implements store.InboxStore: Attempts, NextAttemptAt and DoneAt are reset;
// LastError is kept.
func (m *Store) InboxReplay(ctx context.Context, keys []store.InboxKey) (int, error) {
	if err := m.lock(ctx, "inbox replay"); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	replay := func(e *inboxEntry) bool {
		if e == nil || e.rec.State != store.InboxDead {
			return false
		}
		e.rec.State = store.InboxPending
		e.rec.Attempts = 0
		e.rec.NextAttemptAt = time.Time{}
		e.rec.DoneAt = time.Time{}
		e.rec.LeaseOwner, e.rec.LeaseUntil = "", time.Time{}
		return true
	}
	n := 0
	if len(keys) == 0 {
		for _, e := range m.inbox {
			if replay(e) {
				n++
			}
		}
		return n, nil
	}
	for _, k := range keys {
		if replay(m.inbox[k]) {
			n++
		}
	}
	return n, nil
}

// PurgeInbox implements store.InboxStore.
func (m *Store) PurgeInbox(ctx context.Context, before time.Time) (int, error) {
	if err := m.lock(ctx, "purge inbox"); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := 0
	for k, e := range m.inbox {
		if e.rec.State == store.InboxProcessed && e.rec.DoneAt.Before(before) {
			delete(m.inbox, k)
			n++
		}
	}
	return n, nil
}

// AddPendingAcks implements store.InboxStore.
func (m *Store) AddPendingAcks(ctx context.Context, stream string, jtis []string) error {
	if err := m.lock(ctx, "add pending acks"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if len(jtis) > 0 {
		m.addAcks(stream, jtis)
	}
	return nil
}

// PendingAcks implements store.InboxStore: the jtis come back in the order they were
// first added.
func (m *Store) PendingAcks(ctx context.Context, stream string, limit int) ([]string, error) {
	if err := m.lock(ctx, "pending acks"); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	l := m.acks[stream]
	if l == nil {
		return nil, nil
	}
	out := l.jtis
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return slices.Clone(out), nil
}

// RemovePendingAcks implements store.InboxStore.
func (m *Store) RemovePendingAcks(ctx context.Context, stream string, jtis []string) error {
	if err := m.lock(ctx, "remove pending acks"); err != nil {
		return err
	}
	defer m.mu.Unlock()
	l := m.acks[stream]
	if l == nil {
		return nil
	}
	for _, j := range jtis {
		delete(l.set, j)
	}
	l.jtis = slices.DeleteFunc(l.jtis, func(j string) bool {
		_, ok := l.set[j]
		return !ok
	})
	if len(l.jtis) == 0 {
		delete(m.acks, stream)
	}
	return nil
}

// ---------------------------------------------------------------------------------------

// Ping implements store.Store.
func (m *Store) Ping(ctx context.Context) error {
	if err := m.lock(ctx, "ping"); err != nil {
		return err
	}
	m.mu.Unlock()
	return nil
}

// Close implements store.Store: it drops the data, signals every subscription once and
// makes every later call, Close included, fail with ErrClosed.
func (m *Store) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return fmt.Errorf("memory: close: %w", store.ErrClosed)
	}
	m.closed = true
	m.streams, m.subjects, m.outbox, m.order, m.head = nil, nil, nil, nil, 0
	m.inbox, m.acks = nil, nil
	m.mu.Unlock()
	m.notify.Close()
	return nil
}
