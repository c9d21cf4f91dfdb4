package keys

import (
	"net/http"
	"testing"
	"time"
)

func TestFreshnessLifetime(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	httpDate := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name   string
		header map[string][]string
		want   time.Duration
		ok     bool
	}{
		{"none", nil, 0, false},
		{"max-age", map[string][]string{"Cache-Control": {"max-age=300"}}, 300 * time.Second, true},
		{"max-age with others", map[string][]string{"Cache-Control": {"public, max-age=21600, must-revalidate"}}, 6 * time.Hour, true},
		{"uppercase and spaces", map[string][]string{"Cache-Control": {" Public ,  MAX-AGE = 60 "}}, time.Minute, true},
		{"quoted", map[string][]string{"Cache-Control": {`max-age="60"`}}, time.Minute, true},
		{"several lines", map[string][]string{"Cache-Control": {"public", "max-age=60"}}, time.Minute, true},
		{"first max-age wins", map[string][]string{"Cache-Control": {"max-age=60, max-age=600"}}, time.Minute, true},
		{"less Age", map[string][]string{"Cache-Control": {"max-age=300"}, "Age": {"100"}}, 200 * time.Second, true},
		{"Age over max-age", map[string][]string{"Cache-Control": {"max-age=300"}, "Age": {"400"}}, 0, true},
		{"no-store", map[string][]string{"Cache-Control": {"no-store, max-age=300"}}, 0, true},
		{"no-cache", map[string][]string{"Cache-Control": {"max-age=300, no-cache"}}, 0, true},
		{"qualified no-cache", map[string][]string{"Cache-Control": {`no-cache="Set-Cookie"`}}, 0, true},
		{"invalid max-age ignored", map[string][]string{"Cache-Control": {"max-age=soon"}}, 0, false},
		{"negative max-age ignored", map[string][]string{"Cache-Control": {"max-age=-5"}}, 0, false},
		{"huge max-age capped", map[string][]string{"Cache-Control": {"max-age=99999999999999999"}}, time.Duration(maxLifetimeSeconds) * time.Second, true},
		{"Expires with Date", map[string][]string{"Expires": {httpDate(2 * time.Hour)}, "Date": {httpDate(time.Hour)}}, time.Hour, true},
		{"Expires without Date", map[string][]string{"Expires": {httpDate(30 * time.Minute)}}, 30 * time.Minute, true},
		{"Expires in the past", map[string][]string{"Expires": {httpDate(-time.Hour)}}, 0, true},
		{"invalid Expires", map[string][]string{"Expires": {"0"}}, 0, true},
		{"max-age beats Expires", map[string][]string{"Cache-Control": {"max-age=60"}, "Expires": {httpDate(time.Hour)}}, time.Minute, true},
		{"private directive only", map[string][]string{"Cache-Control": {"private"}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := freshnessLifetime(http.Header(tt.header), now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("freshnessLifetime = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
