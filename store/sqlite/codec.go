package sqlite

import (
	"fmt"
	"math"
	"time"
)

// Times are stored as int64 nanoseconds since the Unix epoch; the zero time.Time as
// zeroTime, which sorts before every other value.
const zeroTime = math.MinInt64

var (
	minTime = time.Unix(0, math.MinInt64+1).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// timeEnc encodes times and remembers the first one out of range.
type timeEnc struct{ err error }

func (e *timeEnc) ns(t time.Time) int64 {
	if t.IsZero() {
		return zeroTime
	}
	if t.Before(minTime) || t.After(maxTime) {
		if e.err == nil {
			e.err = fmt.Errorf("sqlite: time %v is outside the range this backend stores (%v to %v)", t, minTime, maxTime)
		}
		return zeroTime
	}
	return t.UnixNano()
}

// plusNS returns the encoding of t+d, clamped to the largest time stored.
func (e *timeEnc) plusNS(t time.Time, d time.Duration) int64 {
	n := e.ns(t)
	if n == zeroTime || d <= 0 {
		return n
	}
	if n > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return n + int64(d)
}

func decTime(ns int64) time.Time {
	if ns == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
