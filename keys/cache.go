package keys

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxLifetimeSeconds caps header values so that converting them to a time.Duration
// cannot overflow (about 68 years; MaxTTL clamps far lower anyway).
const maxLifetimeSeconds = 1<<31 - 1

// freshnessLifetime reads how long a response may be cached (RFC 9111 §4.2.1), as a
// private cache: Cache-Control no-store or no-cache give 0 (refetch as soon as allowed);
// otherwise max-age (less Age); otherwise Expires (less Date, or now when Date is absent,
// and less Age; an invalid Expires means already stale). ok is false when the headers say
// nothing, so that the caller applies its default.
func freshnessLifetime(h http.Header, now time.Time) (lifetime time.Duration, ok bool) {
	maxAge := int64(-1)
	noCache := false
	for _, line := range h.Values("Cache-Control") {
		for directive := range strings.SplitSeq(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				noCache = true
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(value), `"`), 10, 64)
				if err == nil && n >= 0 && maxAge < 0 {
					maxAge = min(n, maxLifetimeSeconds)
				}
			}
		}
	}
	if noCache {
		return 0, true
	}
	age := time.Duration(0)
	if n, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64); err == nil && n > 0 {
		age = time.Duration(min(n, maxLifetimeSeconds)) * time.Second
	}
	if maxAge >= 0 {
		return max(time.Duration(maxAge)*time.Second-age, 0), true
	}
	if exp := h.Get("Expires"); exp != "" {
		t, err := http.ParseTime(exp)
		if err != nil {
			return 0, true
		}
		base := now
		if date, err := http.ParseTime(h.Get("Date")); err == nil {
			base = date
		}
		return max(t.Sub(base)-age, 0), true
	}
	return 0, false
}
