package server

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// lifecycle is what the transmitter and receiver nodes share about running and stopping:
// the end of the HTTP server's goroutine and its error, and a Shutdown that runs once.
// Create it with newLifecycle.
type lifecycle struct {
	done     chan struct{} // closed when serving ended, or by a Shutdown without a server
	mu       sync.Mutex
	serveErr error
	stopOnce sync.Once
	stopErr  error
}

func newLifecycle() lifecycle { return lifecycle{done: make(chan struct{})} }

// serveOn serves srv on l in a goroutine; its end closes Done and sets Err.
func (lc *lifecycle) serveOn(srv *http.Server, l net.Listener, tlsConf *tls.Config) {
	go func() {
		err := serve(srv, l, tlsConf)
		lc.mu.Lock()
		lc.serveErr = err
		lc.mu.Unlock()
		close(lc.done)
	}()
}

// Done is closed when the node's HTTP server stopped (after Shutdown, or when serving
// failed). Without a server it is closed by Shutdown.
func (lc *lifecycle) Done() <-chan struct{} { return lc.done }

// Err returns why serving stopped (nil after a Shutdown, or while serving).
func (lc *lifecycle) Err() error {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.serveErr
}

// stopWith runs stop on the first call and returns its result to every call.
func (lc *lifecycle) stopWith(stop func() error) error {
	lc.stopOnce.Do(func() { lc.stopErr = stop() })
	return lc.stopErr
}

// runUntil waits until ctx ends or serving stops, then calls shutdown with a context
// bounded by timeout (DefaultShutdownTimeout when not positive). It returns the serving
// error, else the shutdown's error, else nil.
func (lc *lifecycle) runUntil(ctx context.Context, timeout time.Duration, shutdown func(context.Context) error) error {
	var serveErr error
	select {
	case <-ctx.Done():
	case <-lc.done:
		serveErr = lc.Err()
	}
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := shutdown(sctx); err != nil && serveErr == nil {
		return err
	}
	return serveErr
}
