package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func contains(v []string, s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}

// ownBackends is the set of backend process ids of this Store's pool connections. The
// listener ignores notifications they sent: this Store has signalled its subscribers for
// its own writes already, right after the commit.
type ownBackends struct {
	mu   sync.Mutex
	pids map[uint32]struct{}
}

func (o *ownBackends) add(pid uint32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pids == nil {
		o.pids = make(map[uint32]struct{})
	}
	o.pids[pid] = struct{}{}
}

func (o *ownBackends) remove(pid uint32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.pids, pid)
}

func (o *ownBackends) has(pid uint32) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.pids[pid]
	return ok
}

// maxPayload is the longest stream ID sent as a notification payload. PostgreSQL refuses
// payloads of 8000 bytes or more; a longer stream ID is announced with an empty payload,
// which wakes the subscribers of every stream.
const maxPayload = 7999

func payload(stream string) string {
	if len(stream) > maxPayload {
		return ""
	}
	return stream
}

// listener is the dedicated connection that LISTENs on the store's channel.
type listener struct {
	s         *Store
	cfg       *pgx.ConnConfig
	keepalive time.Duration

	mu   sync.Mutex
	conn *pgx.Conn // current connection; nil while reconnecting
	// connected is signalled after every successful reconnection (tests).
	connected chan struct{}
}

// connect opens a connection and LISTENs on the channel.
func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.s.channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	l.mu.Lock()
	l.conn = conn
	l.mu.Unlock()
	return conn, nil
}

// pid returns the backend process id of the current listening connection (0 while
// reconnecting).
func (l *listener) pid() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return 0
	}
	return l.conn.PgConn().PID()
}

// run receives notifications on conn until ctx ends, reconnecting after a connection
// loss. Every keepalive without a notification it pings the server, so that a silently
// dead connection is noticed.
func (l *listener) run(ctx context.Context, conn *pgx.Conn, done chan<- struct{}) {
	defer close(done)
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		err := l.wait(ctx, conn)
		if ctx.Err() != nil {
			return
		}
		l.s.log.Warn("postgres: notification listener lost its connection; reconnecting", "channel", l.s.channel, "err", err)
		conn.Close(context.Background())
		l.mu.Lock()
		l.conn = nil
		l.mu.Unlock()
		conn = l.reconnect(ctx)
		if conn == nil {
			return
		}
		l.s.log.Info("postgres: notification listener reconnected", "channel", l.s.channel)
		// Notifications sent while the listener was away are lost: wake everyone once
		// so that waiting loops look at the store.
		l.s.notify.SignalAll()
		select {
		case l.connected <- struct{}{}:
		default:
		}
	}
}

// pingTimeout is the least time the keepalive ping waits for the server's answer.
const pingTimeout = 10 * time.Second

// wait handles notifications until the connection fails; it returns the failure.
func (l *listener) wait(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, l.keepalive)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			l.s.notified(n)
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed():
			// A ping gets at least pingTimeout, however short the keepalive interval:
			// a slow answer from a busy server is not a lost connection.
			pctx, cancel := context.WithTimeout(ctx, max(l.keepalive, pingTimeout))
			err = conn.Ping(pctx)
			cancel()
			if err == nil {
				continue
			}
		}
		return err
	}
}

// reconnect connects again, backing off from 50ms to 5s, until it succeeds or ctx ends
// (nil then).
func (l *listener) reconnect(ctx context.Context) *pgx.Conn {
	backoff := 50 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		conn, err := l.connect(cctx)
		cancel()
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		l.s.log.Warn("postgres: notification listener cannot reconnect", "channel", l.s.channel, "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// notified handles one notification: the payload names the stream whose SETs became
// deliverable ("" for every stream).
func (s *Store) notified(n *pgconn.Notification) {
	if n == nil || n.Channel != s.channel || s.own.has(n.PID) {
		return
	}
	if n.Payload == "" {
		s.notify.SignalAll()
		return
	}
	s.notify.Signal(n.Payload)
}
