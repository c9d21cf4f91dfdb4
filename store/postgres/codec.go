package postgres

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store/internal/record"
)

// ErrInvalidText is returned (wrapped) for a string this backend cannot store: PostgreSQL
// text holds neither NUL bytes nor invalid UTF-8. The error names the field.
var ErrInvalidText = errors.New("postgres: text contains a NUL byte or invalid UTF-8, which PostgreSQL cannot store")

// ErrTimeRange is returned (wrapped) for a time outside the range this backend stores
// (years 1 to 9999 UTC; the zero time is stored as -infinity).
var ErrTimeRange = errors.New("postgres: time outside the stored range (years 1 to 9999)")

var (
	// minTime and maxTime bound the non-zero times stored. PostgreSQL's timestamptz
	// reaches further, but years 1 to 9999 are what every client encodes safely.
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// negInf is how the zero time.Time is stored: -infinity sorts before every time, so a
// zero NextAttemptAt or LeaseUntil means "due now" in plain comparisons.
var negInf = pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}

// enc checks and encodes the values of one call and remembers the first one it cannot
// store.
type enc struct{ err error }

func (e *enc) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// ts encodes a time: the zero time as -infinity, others truncated to the microsecond
// (timestamptz precision).
func (e *enc) ts(field string, t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return negInf
	}
	if t.Before(minTime) || t.After(maxTime) {
		e.fail(fmt.Errorf("%s %v: %w", field, t, ErrTimeRange))
		return negInf
	}
	return pgtype.Timestamptz{Time: t.UTC().Truncate(time.Microsecond), Valid: true}
}

// until encodes t+d (a lease end), clamped to the latest time stored.
func (e *enc) until(field string, t time.Time, d time.Duration) pgtype.Timestamptz {
	v := e.ts(field, t)
	if v.InfinityModifier != pgtype.Finite {
		if t.IsZero() {
			return e.ts(field, t.Add(d))
		}
		return v
	}
	if maxTime.Sub(v.Time) < d {
		return pgtype.Timestamptz{Time: maxTime, Valid: true}
	}
	return pgtype.Timestamptz{Time: v.Time.Add(d), Valid: true}
}

// text checks that v can be stored as PostgreSQL text. The error names the field and
// the offending byte, never the value (it may be a secret).
func (e *enc) text(field, v string) string {
	if i := strings.IndexByte(v, 0); i >= 0 {
		e.fail(fmt.Errorf("%s: byte %d is NUL: %w", field, i, ErrInvalidText))
	}
	e.utf8(field, v)
	return v
}

// utf8 checks that v is valid UTF-8 (a JSON string keeps NUL bytes escaped, but not
// invalid UTF-8).
func (e *enc) utf8(field, v string) {
	if !utf8.ValidString(v) {
		i := 0
		for i < len(v) {
			r, n := utf8.DecodeRuneInString(v[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		e.fail(fmt.Errorf("%s: byte %d is not valid UTF-8: %w", field, i, ErrInvalidText))
	}
}

// utf8s checks every element of v.
func (e *enc) utf8s(field string, v []string) {
	for _, s := range v {
		e.utf8(field, s)
	}
}

// texts checks every element of v.
func (e *enc) texts(field string, v []string) []string {
	for _, s := range v {
		e.text(field, s)
	}
	return v
}

// decTime decodes a stored time: -infinity (and NULL) is the zero time; others come back
// in UTC.
func decTime(v pgtype.Timestamptz) time.Time {
	if !v.Valid || v.InfinityModifier != pgtype.Finite {
		return time.Time{}
	}
	return v.Time.UTC()
}

// encodeConfig returns the stored form of c (the JSON record of package
// store/internal/record: NUL bytes are escaped). Strings that are not valid UTF-8 cannot
// be kept exactly in JSON and are refused.
func encodeConfig(c *ssf.StreamConfig) (string, error) {
	var e enc
	e.utf8("stream_id", c.StreamID)
	e.utf8("iss", c.Issuer)
	e.utf8s("aud", c.Audience)
	e.utf8s("events_supported", c.EventsSupported)
	e.utf8s("events_requested", c.EventsRequested)
	e.utf8s("events_delivered", c.EventsDelivered)
	e.utf8("description", c.Description)
	for k := range c.Extra {
		e.utf8("extra member name", k)
	}
	if d := c.Delivery; d != nil {
		e.utf8("delivery method", d.Method)
		e.utf8("delivery endpoint_url", d.EndpointURL)
		e.utf8("delivery authorization_header", d.AuthorizationHeader)
		for k := range d.Extra {
			e.utf8("delivery extra member name", k)
		}
	}
	if e.err != nil {
		return "", fmt.Errorf("stream configuration: %w", e.err)
	}
	return record.Encode(c)
}
