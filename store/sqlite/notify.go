package sqlite

import "sync"

// notifier fans write notifications out to Subscribe channels.
type notifier struct {
	mu     sync.Mutex
	subs   map[*subscription]struct{}
	closed bool
}

type subscription struct {
	stream string
	ch     chan struct{}
}

// subscribe registers a subscription for stream ("" for every stream). After close it
// returns a channel that already holds a value, so that a waiting loop wakes up and
// finds the store closed on its next call.
func (n *notifier) subscribe(stream string) (<-chan struct{}, func()) {
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

// signal wakes the subscriptions of the given streams and those of every stream.
func (n *notifier) signal(streams map[string]struct{}) {
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

// close wakes every subscription once and makes later subscriptions start signalled.
func (n *notifier) close() {
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
