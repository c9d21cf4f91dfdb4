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
