package event

import (
	"strconv"
	"time"
)

// Timestamp is a time in whole seconds since 1970-01-01T00:00:00Z UTC, the JSON number
// that CAEP §2 event_timestamp and RISC §2.7 event_timestamp carry (CAEP-2: seconds, not
// milliseconds).
//
// Decoding accepts JSON integers and JSON numbers with a fraction or exponent (Netskope
// sends fractional seconds); a fraction is dropped (rounding down to the whole second).
// It rejects every other JSON type. Millisecond values are not detected here (AMB-19):
// that compatibility rewrite belongs to the SET layer, before decoding.
//
// Encoding writes an integer. The zero Timestamp means "absent": typed events omit the
// member when it is zero (so a payload carrying "event_timestamp": 0 re-encodes without
// the member; no event happens at the epoch).
type Timestamp int64

// TimestampOf returns the Timestamp of t, truncated to the second.
func TimestampOf(t time.Time) Timestamp { return Timestamp(t.Unix()) }

// Time returns t as a time.Time in UTC.
func (t Timestamp) Time() time.Time { return time.Unix(int64(t), 0).UTC() }

// IsZero reports whether t is zero, i.e. absent.
func (t Timestamp) IsZero() bool { return t == 0 }

// MarshalJSON encodes t as a JSON integer.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(t), 10), nil
}

// UnmarshalJSON decodes a JSON number of seconds; null leaves t unchanged.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	v, err := validValue(data)
	if err != nil {
		return err
	}
	if v[0] == 'n' {
		return nil
	}
	n, err := parseTimestamp(v)
	if err != nil {
		return &timestampError{msg: "timestamp " + err.Error()}
	}
	*t = n
	return nil
}

type timestampError struct{ msg string }

func (e *timestampError) Error() string { return e.msg }
