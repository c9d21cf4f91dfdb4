package sqlite

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/sigshare/sigshare/ssf"
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

// configRecord is how a ssf.StreamConfig is stored: every field, exactly. (The wire
// encoding is not used: it normalizes legacy delivery method URIs and cannot encode a
// delivery without a method.) Absent (nil) and present empty slices, maps and pointers stay apart; Extra values are
// kept byte for byte. TestConfigRecordCoversStreamConfig fails when ssf.StreamConfig or
// ssf.Delivery gain a field this type does not carry.
type configRecord struct {
	StreamID                string            `json:"stream_id"`
	Issuer                  string            `json:"iss"`
	Audience                []string          `json:"aud"`
	EventsSupported         []string          `json:"events_supported"`
	EventsRequested         []string          `json:"events_requested"`
	EventsDelivered         []string          `json:"events_delivered"`
	Delivery                *deliveryRecord   `json:"delivery"`
	MinVerificationInterval *int              `json:"min_verification_interval"`
	Description             string            `json:"description"`
	InactivityTimeout       *int              `json:"inactivity_timeout"`
	Extra                   map[string][]byte `json:"extra"`
}

type deliveryRecord struct {
	Method              string            `json:"method"`
	EndpointURL         string            `json:"endpoint_url"`
	AuthorizationHeader string            `json:"authorization_header"`
	Extra               map[string][]byte `json:"extra"`
}

func extraOut(m map[string]json.RawMessage) map[string][]byte {
	if m == nil {
		return nil
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

func extraIn(m map[string][]byte) map[string]json.RawMessage {
	if m == nil {
		return nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = json.RawMessage(v)
	}
	return out
}

func encodeConfig(c *ssf.StreamConfig) (string, error) {
	r := configRecord{
		StreamID:                c.StreamID,
		Issuer:                  c.Issuer,
		Audience:                c.Audience,
		EventsSupported:         c.EventsSupported,
		EventsRequested:         c.EventsRequested,
		EventsDelivered:         c.EventsDelivered,
		MinVerificationInterval: c.MinVerificationInterval,
		Description:             c.Description,
		InactivityTimeout:       c.InactivityTimeout,
		Extra:                   extraOut(c.Extra),
	}
	if d := c.Delivery; d != nil {
		r.Delivery = &deliveryRecord{Method: d.Method, EndpointURL: d.EndpointURL, AuthorizationHeader: d.AuthorizationHeader, Extra: extraOut(d.Extra)}
	}
	b, err := json.Marshal(&r)
	if err != nil {
		return "", fmt.Errorf("sqlite: encode stream configuration: %w", err)
	}
	return string(b), nil
}

func decodeConfig(s string) (ssf.StreamConfig, error) {
	var r configRecord
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return ssf.StreamConfig{}, fmt.Errorf("sqlite: decode stored stream configuration: %w", err)
	}
	c := ssf.StreamConfig{
		StreamID:                r.StreamID,
		Issuer:                  r.Issuer,
		Audience:                ssf.Audience(r.Audience),
		EventsSupported:         r.EventsSupported,
		EventsRequested:         r.EventsRequested,
		EventsDelivered:         r.EventsDelivered,
		MinVerificationInterval: r.MinVerificationInterval,
		Description:             r.Description,
		InactivityTimeout:       r.InactivityTimeout,
		Extra:                   extraIn(r.Extra),
	}
	if d := r.Delivery; d != nil {
		c.Delivery = &ssf.Delivery{Method: d.Method, EndpointURL: d.EndpointURL, AuthorizationHeader: d.AuthorizationHeader, Extra: extraIn(d.Extra)}
	}
	return c, nil
}
