package transmitter

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/sigshare/sigshare/ssf"
)

// Defaults of the add/remove-subject rate limit (SEC-13).
const (
	// DefaultSubjectRate is the sustained rate of add- and remove-subject requests one
	// Receiver client may make, per second and per node.
	DefaultSubjectRate = 50
	// DefaultSubjectBurst is how many such requests a client may make at once after
	// being idle.
	DefaultSubjectBurst = 500
)

// maxIdleLimiters bounds the limiters of idle clients kept before they are swept.
const maxIdleLimiters = 4096

// clientLimiter is a token bucket per Receiver client (SEC-13: a Transmitter may answer
// 429 to add/remove-subject floods, SSF §8.1.3). The zero value with rate 0 admits every
// request.
type clientLimiter struct {
	limit rate.Limit // 0: unlimited
	burst int

	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

// newClientLimiter returns a limiter admitting perSecond requests per second with bursts
// of burst per client; perSecond < 0 disables it, 0 and burst 0 take the defaults.
func newClientLimiter(perSecond float64, burst int) *clientLimiter {
	switch {
	case perSecond < 0:
		return &clientLimiter{}
	case perSecond == 0:
		perSecond = DefaultSubjectRate
	}
	if burst <= 0 {
		burst = DefaultSubjectBurst
	}
	return &clientLimiter{limit: rate.Limit(perSecond), burst: burst, clients: map[string]*rate.Limiter{}}
}

// allow takes one token of client's bucket at now. When none is left it returns a
// *ssf.RateLimitError saying how long to wait (429 with Retry-After), and takes nothing.
func (l *clientLimiter) allow(client, what string, now time.Time) error {
	if l.limit == 0 {
		return nil
	}
	l.mu.Lock()
	lim, ok := l.clients[client]
	if !ok {
		if len(l.clients) >= maxIdleLimiters {
			l.sweep(now)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.clients[client] = lim
	}
	r := lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	if wait > 0 {
		r.CancelAt(now)
	}
	l.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	return &ssf.RateLimitError{
		RetryAfter:  wait,
		Description: fmt.Sprintf("too many %s requests from this client: at most %d at once and %g per second (SEC-13)", what, l.burst, float64(l.limit)),
	}
}

// sweep forgets the limiters whose bucket is full again: their clients have been idle
// long enough that a fresh limiter behaves the same. Callers hold l.mu.
func (l *clientLimiter) sweep(now time.Time) {
	for id, lim := range l.clients {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.clients, id)
		}
	}
}
