// Package record is the stored form of a stream configuration: the JSON document the SQL
// store backends keep in the config column of their streams table, and its encoding and
// decoding. The form is on disk in existing databases and must not change.
package record

import (
	"encoding/json"
	"fmt"

	"github.com/sigshare/sigshare/ssf"
)

// config is how a ssf.StreamConfig is stored: every field, exactly. The SSF wire encoding
// is not used because it normalizes legacy delivery method URIs and needs a method;
// encoding/json would compact json.RawMessage values, so unknown members are kept as bytes
// (base64 in the record) and come back byte for byte. Absent (nil) and present empty
// slices, maps and pointers stay apart. TestConfigCoversStreamConfig fails when
// ssf.StreamConfig or ssf.Delivery gain a field this type does not carry.
type config struct {
	StreamID                string            `json:"stream_id"`
	Issuer                  string            `json:"iss"`
	Audience                []string          `json:"aud"`
	EventsSupported         []string          `json:"events_supported"`
	EventsRequested         []string          `json:"events_requested"`
	EventsDelivered         []string          `json:"events_delivered"`
	Delivery                *delivery         `json:"delivery"`
	MinVerificationInterval *int              `json:"min_verification_interval"`
	Description             string            `json:"description"`
	InactivityTimeout       *int              `json:"inactivity_timeout"`
	Extra                   map[string][]byte `json:"extra"`
}

// delivery is how a ssf.Delivery is stored inside a config.
type delivery struct {
	Method              string            `json:"method"`
	EndpointURL         string            `json:"endpoint_url"`
	AuthorizationHeader string            `json:"authorization_header"`
	Extra               map[string][]byte `json:"extra"`
}

func rawToBytes(m map[string]json.RawMessage) map[string][]byte {
	if m == nil {
		return nil
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

func bytesToRaw(m map[string][]byte) map[string]json.RawMessage {
	if m == nil {
		return nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = json.RawMessage(v)
	}
	return out
}

// Encode returns the stored form of c: JSON text, with NUL bytes and the HTML characters
// <, > and & escaped. Strings that are not valid UTF-8 are stored with U+FFFD in their
// place; a backend that must keep every string exactly checks them before it encodes.
func Encode(c *ssf.StreamConfig) (string, error) {
	r := config{
		StreamID:                c.StreamID,
		Issuer:                  c.Issuer,
		Audience:                c.Audience,
		EventsSupported:         c.EventsSupported,
		EventsRequested:         c.EventsRequested,
		EventsDelivered:         c.EventsDelivered,
		MinVerificationInterval: c.MinVerificationInterval,
		Description:             c.Description,
		InactivityTimeout:       c.InactivityTimeout,
		Extra:                   rawToBytes(c.Extra),
	}
	if d := c.Delivery; d != nil {
		r.Delivery = &delivery{Method: d.Method, EndpointURL: d.EndpointURL, AuthorizationHeader: d.AuthorizationHeader, Extra: rawToBytes(d.Extra)}
	}
	b, err := json.Marshal(&r)
	if err != nil {
		return "", fmt.Errorf("encode stream configuration: %w", err)
	}
	return string(b), nil
}

// Decode reads a stored configuration written by Encode.
func Decode(s string) (ssf.StreamConfig, error) {
	var r config
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return ssf.StreamConfig{}, fmt.Errorf("decode stored stream configuration: %w", err)
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
		Extra:                   bytesToRaw(r.Extra),
	}
	if d := r.Delivery; d != nil {
		c.Delivery = &ssf.Delivery{Method: d.Method, EndpointURL: d.EndpointURL, AuthorizationHeader: d.AuthorizationHeader, Extra: bytesToRaw(d.Extra)}
	}
	return c, nil
}
