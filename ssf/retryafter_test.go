package ssf

import (
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"
)

// TestParseRetryAfter: both forms of RFC 9110 §10.2.3, the ok flag and the bounds.
func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 500_000_000, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"   ", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
		{"120", 2 * time.Minute, true},
		{" 7 ", 7 * time.Second, true},
		{"0", 0, true},
		{"-5", 0, true},
		{"99999999999999999", math.MaxInt64, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 89500 * time.Millisecond, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Tuesday, 01-Jan-30 00:00:30 GMT", 29500 * time.Millisecond, true}, // RFC 850, obsolete
		{"Tue Jan  1 00:01:00 2030", 59500 * time.Millisecond, true},        // asctime, obsolete
	} {
		got, ok := ParseRetryAfter(tc.v, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

func ExampleParseRetryAfter() {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, v := range []string{"120", "Tue, 01 Jan 2030 00:00:30 GMT", "later"} {
		wait, ok := ParseRetryAfter(v, now)
		fmt.Println(wait, ok)
	}
	// Output:
	// 2m0s true
	// 30s true
	// 0s false
}

// FuzzParseRetryAfter: any header value a peer sends parses without panicking; the wait
// is never negative, ok is false exactly when nothing was recognised (then wait is 0),
// and a delta-seconds value round-trips.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", " 7 ", "-5", "99999999999999999999", "Fri, 27 Nov 2026 08:00:00 GMT", "Friday, 27-Nov-26 08:00:00 GMT", "soon"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		wait, ok := ParseRetryAfter(v, now)
		if wait < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, negative", v, wait)
		}
		if !ok && wait != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, false: a wait without a value", v, wait)
		}
		if ok && wait > 0 && wait < math.MaxInt64 && wait%time.Second == 0 && wait < 1000*time.Hour {
			if w2, ok2 := ParseRetryAfter(fmt.Sprint(int64(wait/time.Second)), now); !ok2 || w2 != wait {
				t.Fatalf("%v as delta-seconds reads back as %v, %v", wait, w2, ok2)
			}
		}
	})
}
