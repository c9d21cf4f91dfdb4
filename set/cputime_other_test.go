//go:build !linux

package set

import "time"

var processStart = time.Now()

// threadCPUTime falls back to wall time where the thread CPU clock is not available.
func threadCPUTime() time.Duration { return time.Since(processStart) }
