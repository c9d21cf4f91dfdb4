// Package notify fans store write notifications out to Subscribe channels: the one
// implementation of store.OutboxStore.Subscribe's semantics (coalesced wake-ups, per-stream
// and all-stream subscribers, a signalled channel after Close) that every backend shares.
package notify

import "sync"

// Notifier is safe for concurrent use. The zero value is ready.
type Notifier struct {
	mu     sync.Mutex
	subs   map[*subscription]struct{}
	closed bool
}

type subscription struct {
	stream string
	ch     chan struct{}
}

// Subscribe registers a subscription for stream ("" for every stream) and returns its
// channel (buffered, one value: wake-ups coalesce) and a cancel function. After Close it
// returns a channel that already holds a value, so that a waiting loop wakes up and
// finds the store closed on its next call.
func (n *Notifier) Subscribe(stream string) (<-chan struct{}, func()) {
	sub := &subscription{stream: stream, ch: make(chan struct{}, 1)}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		sub.ch <- struct{}{}
		return sub.ch, func() {}
	}
	if n.subs == nil {
		n.subs = make(map[*subscription]struct{})
	}
	n.subs[sub] = struct{}{}
	var once sync.Once
	return sub.ch, func() {
		once.Do(func() {
			n.mu.Lock()
			delete(n.subs, sub)
			n.mu.Unlock()
		})
	}
}

// SignalSet wakes the subscriptions of the given streams and those of every stream.
func (n *Notifier) SignalSet(streams map[string]struct{}) {
	if len(streams) == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for sub := range n.subs {
		if sub.stream != "" {
			if _, ok := streams[sub.stream]; !ok {
				continue
			}
		}
		wake(sub.ch)
	}
}

// Signal wakes the subscriptions of the given streams and those of every stream.
func (n *Notifier) Signal(streams ...string) {
	if len(streams) == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for sub := range n.subs {
		if sub.stream == "" {
			wake(sub.ch)
			continue
		}
		for _, s := range streams {
			if s == sub.stream {
				wake(sub.ch)
				break
			}
		}
	}
}

// SignalAll wakes every subscription (for example after notifications from other nodes
// may have been missed).
func (n *Notifier) SignalAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for sub := range n.subs {
		wake(sub.ch)
	}
}

// Close wakes every subscription once and makes later subscriptions start signalled.
func (n *Notifier) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	for sub := range n.subs {
		wake(sub.ch)
	}
	n.subs = nil
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
